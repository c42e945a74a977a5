// client_session wired to server_session in memory (h11's habit): thousands of generated
// transactions with random envelopes, bodies, extension sets and split sizes in both
// directions. Every message must arrive byte-identical with the right envelope, and every
// refusal must reach the client as the right event.
#include <smtpp/client_session.hpp>
#include <smtpp/server_session.hpp>

#include "session_helpers.hpp"
#include "smtpp_catch.hpp"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace smtpp;

struct planned_message {
    std::string sender;
    std::vector<std::string> addresses;
    std::vector<recipient> to;
    std::string body;          // what the caller hands to send_body()
    std::string expected_body; // what the server must deliver
    body_type content = body_type::unspecified;
    std::uint64_t declared_size = 0;
    bool utf8 = false;
};

struct delivered_message {
    std::string sender;
    std::vector<std::string> recipients;
    std::string body;
};

// RFC 5321 4.1.1.4 and 2.3.8: what a text body becomes on the server side.
std::string canonical_text(std::string_view raw) {
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (c == '\r') {
            out += "\r\n";
            if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
        } else if (c == '\n') {
            out += "\r\n";
        } else {
            out += c;
        }
    }
    if (!out.empty() && (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0))
        out += "\r\n";
    return out;
}

class generator {
public:
    explicit generator(std::uint32_t seed) : rng_(seed) {}

    std::size_t below(std::size_t n) {
        return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
    }
    bool chance(int percent) { return below(100) < static_cast<std::size_t>(percent); }

    std::string word(std::size_t max_len) {
        static constexpr std::string_view letters = "abcdefghijklmnopqrstuvwxyz0123456789";
        std::string w;
        const std::size_t len = 1 + below(max_len);
        for (std::size_t i = 0; i < len; ++i) w += letters[below(letters.size())];
        return w;
    }

    // Local parts starting with "bad" are refused (550), "tmp" deferred (451), "full" (LMTP)
    // fail at the end of data.
    std::string address(bool utf8) {
        static constexpr std::string_view prefixes[] = {"", "", "", "", "bad", "tmp", "full"};
        std::string local(prefixes[below(7)]);
        local += word(8);
        if (utf8) local += "\xC3\xB8";
        return local + "@" + word(6) + ".example";
    }

    std::string text_line(bool eight_bit) {
        switch (below(8)) {
        case 0:
            return ".";
        case 1:
            return "." + word(20);
        case 2:
            return "";
        case 3:
            return std::string(998, 'L');
        case 4:
            return eight_bit ? "caf\xC3\xA9 " + word(10) : word(30);
        default: {
            std::string line = word(60);
            return line + " " + word(10);
        }
        }
    }

    std::string body(body_type content) {
        std::string b;
        const std::size_t lines = below(12);
        for (std::size_t i = 0; i < lines; ++i) {
            if (content == body_type::binary_mime && chance(30)) {
                b += std::string("\0\r\xFF.\n", 5) + std::string(1200, 'B');
            } else {
                b += text_line(content != body_type::unspecified);
            }
            const std::size_t ending = below(10);
            if (i + 1 == lines && ending == 0) break; // no line ending at the very end
            b += ending == 1 ? "\n" : "\r\n";
        }
        return b;
    }

    planned_message message() {
        planned_message m;
        const std::size_t kind = below(10);
        m.content = kind < 7   ? body_type::unspecified
                    : kind < 9 ? body_type::eight_bit_mime
                               : body_type::binary_mime;
        m.utf8 = chance(10);
        m.sender = chance(10)   ? ""
                   : chance(10) ? "refuse" + word(5) + "@x.example"
                                : address(m.utf8);
        const std::size_t count = 1 + below(4);
        for (std::size_t i = 0; i < count; ++i)
            m.addresses.push_back(address(m.utf8 && chance(50)));
        for (const std::string& a : m.addresses) {
            // Sequenced: argument evaluation order differs between compilers.
            const unsigned notify = chance(30) ? unsigned(notify_failure | notify_delay) : 0u;
            const bool orcpt = chance(30);
            m.to.push_back(recipient(a, notify, orcpt));
        }
        m.body = body(m.content);
        m.expected_body = m.content == body_type::binary_mime ? m.body : canonical_text(m.body);
        m.declared_size = chance(5) ? 300000 : chance(50) ? m.expected_body.size() : 0;
        return m;
    }

    // A random split size for `available` octets: often all, sometimes tiny, else anything.
    std::size_t split(std::size_t available) {
        const std::size_t mode = below(10);
        if (mode < 3) return available;
        if (mode < 5) return 1 + below(std::min<std::size_t>(available, 3));
        return 1 + below(available);
    }

    std::mt19937 rng_;
};

struct server_side {
    explicit server_side(const server_config& config) : session(config), lmtp(config.lmtp) {}

    server_session session;
    std::string piece; // bytes handed to receive(); kept until need_data
    std::string sender;
    std::vector<std::string> accepted;
    std::string body;
    std::vector<delivered_message> delivered;
    std::vector<std::string> final_replies; // "index:code" per message_end decision
    bool closed = false;
    bool lmtp = false;
};

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

std::string local_part_of(std::string_view bracketed) {
    return std::string(bracketed.substr(1, bracketed.find('@') - 1));
}

// The server's decisions: deterministic from the addresses, so the client side can predict.
void decide(server_side& s, const server_event& ev) {
    server_session& session = s.session;
    switch (ev.kind) {
    case server_event_kind::mail:
        s.sender = std::string(ev.cmd->address.text);
        s.accepted.clear();
        s.body.clear();
        if (starts_with(s.sender, "<refuse"))
            return (void)session.reject(550, {}, "sender refused");
        return (void)session.accept();
    case server_event_kind::rcpt: {
        const std::string local = local_part_of(ev.cmd->address.text);
        if (starts_with(local, "bad")) return (void)session.reject(550, {}, "no such user");
        if (starts_with(local, "tmp")) return (void)session.reject(451, {}, "try later");
        s.accepted.emplace_back(ev.cmd->address.text);
        return (void)session.accept();
    }
    case server_event_kind::message_end: {
        if (ev.recipient_index == 0) s.delivered.push_back({s.sender, s.accepted, s.body});
        const bool lmtp_full = s.lmtp && ev.recipient_index < s.accepted.size() &&
                               starts_with(local_part_of(s.accepted[ev.recipient_index]), "full");
        s.final_replies.push_back(std::to_string(ev.recipient_index) +
                                  (lmtp_full ? ":452" : ":250"));
        if (lmtp_full) return (void)session.reject(452, {}, "mailbox full");
        return (void)session.accept();
    }
    case server_event_kind::auth: {
        const bool good = ev.authcid == "user" && ev.password == "secret";
        if (good) return (void)session.accept();
        return (void)session.reject(535, {5, 7, 8}, "bad credentials");
    }
    default:
        return (void)session.accept();
    }
}

struct client_side {
    explicit client_side(client_config config, std::uint32_t piece_seed = 1)
        : session(std::move(config)), pieces(piece_seed) {}

    client_session session;
    generator pieces; // body piece sizes (a generator of their own: they shape BDAT chunks)
    std::string sent, received;          // every octet each way, for comparing runs
    std::size_t ready_before_result = 0; // `ready` while an end-of-data reply was still due
    std::vector<planned_message> plan;
    std::size_t next = 0;                // next message of the plan to try
    std::size_t current = 0;             // message whose body is sent
    std::vector<std::size_t> plan_index; // by transaction number: the message it carries
    std::size_t body_offset = 0;
    std::vector<std::string> log; // recipient and message results of accepted transactions
    std::vector<errc> refusals;   // one per plan entry: ok or the send_mail refusal
    bool closed = false;
    errc closed_with = errc::ok;
};

void start_next_message(client_side& c) {
    while (c.next < c.plan.size()) {
        planned_message& m = c.plan[c.next];
        envelope e(m.sender, m.to.data(), m.to.size());
        e.body = m.content;
        e.size = m.declared_size;
        const errc result = c.session.send_mail(e);
        c.refusals.push_back(result);
        c.current = c.next++;
        c.body_offset = 0;
        if (result != errc::ok) continue;
        c.plan_index.resize(c.session.last_transaction() + 1);
        c.plan_index[c.session.last_transaction()] = c.current;
        return;
    }
    REQUIRE(c.session.quit() == errc::ok);
}

// Sends the body in random pieces until done or the session asks to wait.
void feed_body(client_side& c) {
    const std::string& body = c.plan[c.current].body;
    while (c.body_offset < body.size()) {
        const std::size_t n =
            1 + c.pieces.below(std::min<std::size_t>(body.size() - c.body_offset, 3000));
        const errc e = c.session.send_body(std::string_view(body).substr(c.body_offset, n));
        if (e == errc::output_full) return;
        REQUIRE(e == errc::ok);
        c.body_offset += n;
    }
    REQUIRE(c.session.end_body() == errc::ok);
}

void on_client_event(client_side& c, const client_event& ev) {
    switch (ev.kind) {
    case client_event_kind::ready:
        if (c.session.waiting().phase == wait_phase::data_termination) ++c.ready_before_result;
        return start_next_message(c);
    case client_event_kind::send_body:
        REQUIRE(c.plan_index.at(ev.transaction) == c.current);
        return feed_body(c);
    case client_event_kind::tls_handshake:
        REQUIRE(c.session.tls_established() == errc::ok);
        return;
    case client_event_kind::recipient_result:
        c.log.push_back(std::to_string(c.plan_index.at(ev.transaction)) + " rcpt " +
                        std::to_string(ev.recipient) + " " + std::to_string(ev.reply.code));
        return;
    case client_event_kind::message_result:
        c.log.push_back(std::to_string(c.plan_index.at(ev.transaction)) + " msg " +
                        std::to_string(ev.recipient) + " " + std::to_string(ev.reply.code) + " " +
                        to_string(ev.error));
        return;
    case client_event_kind::closed:
        c.closed = true;
        c.closed_with = ev.error;
        return;
    case client_event_kind::error:
        c.log.push_back(std::string("error ") + to_string(ev.error));
        return;
    default:
        return;
    }
}

// Moves bytes both ways in random pieces until both sides are closed or nothing moves.
void run_connection(client_side& c, server_side& s, generator& g) {
    std::string to_server;
    std::size_t to_server_off = 0;
    bool server_needs_data = true;
    for (int step = 0; step < 1000000; ++step) {
        bool progress = false;
        for (client_event ev = c.session.next_event();
             ev.kind != client_event_kind::need_data && !c.closed; ev = c.session.next_event()) {
            on_client_event(c, ev);
            progress = true;
        }
        const std::string_view out = c.session.pending_output();
        if (!out.empty()) {
            const std::size_t n = g.split(out.size());
            to_server.append(out.substr(0, n));
            c.sent.append(out.substr(0, n));
            c.session.consume_output(n);
            progress = true;
        }
        while (!s.closed) {
            const server_event ev = s.session.next_event();
            if (ev.kind == server_event_kind::need_data) {
                server_needs_data = true;
                break;
            }
            progress = true;
            if (ev.kind == server_event_kind::closed) s.closed = true;
            if (ev.kind == server_event_kind::body_chunk) s.body.append(ev.data);
            if (ev.kind == server_event_kind::tls_handshake) {
                c.received.append(s.session.pending_output());
                smtpp_test::give(c.session, s.session.pending_output());
                s.session.consume_output(s.session.pending_output().size());
                REQUIRE(s.session.tls_established() == errc::ok);
            }
            if (ev.kind == server_event_kind::output_full ||
                ev.kind == server_event_kind::awaiting_decision)
                break;
            if (is_decision(ev.kind)) decide(s, ev);
        }
        if (server_needs_data && to_server_off < to_server.size() && !s.closed) {
            const std::size_t left = to_server.size() - to_server_off;
            const std::size_t n = g.split(left);
            s.piece.assign(to_server, to_server_off, n);
            to_server_off += n;
            smtpp_test::give(s.session, s.piece);
            server_needs_data = false;
            progress = true;
        }
        const std::string_view back = s.session.pending_output();
        if (!back.empty()) {
            const std::size_t n = g.split(back.size());
            c.received.append(back.substr(0, n));
            smtpp_test::give(c.session, back.substr(0, n));
            s.session.consume_output(n);
            progress = true;
        }
        if (s.closed && s.session.pending_output().empty() && !c.closed) {
            c.session.receive_eof();
            progress = true;
        }
        if (c.closed && s.closed) return;
        if (!progress) break;
    }
    FAIL("the connection stalled: client closed=" << c.closed << " server closed=" << s.closed);
}

struct session_setup {
    server_config server;
    client_config client;
    bool utf8_ok = false, eight_bit_ok = false, binary_ok = false;
};

session_setup random_setup(generator& g) {
    session_setup x;
    server_config& sc = x.server;
    sc.hostname = "mx.example";
    sc.lmtp = g.chance(15);
    sc.offer.pipelining = sc.lmtp || g.chance(60);
    sc.offer.eight_bit_mime = g.chance(70);
    sc.offer.smtputf8 = sc.offer.eight_bit_mime && g.chance(50);
    sc.offer.chunking = g.chance(40);
    sc.offer.binarymime = sc.offer.chunking && g.chance(60);
    sc.offer.dsn = g.chance(50);
    sc.offer.enhanced_status_codes = g.chance(70);
    sc.limit.message_size = 200000;
    // A refused MAIL makes the pipelined RCPTs and DATA protocol errors (503) that count.
    sc.limit.errors_before_disconnect = 1000;
    const bool tls = g.chance(30);
    sc.offer.starttls = tls;
    if (tls && g.chance(60)) sc.auth_mechanisms = "PLAIN LOGIN";

    client_config& cc = x.client;
    cc.helo_name = "client.example";
    cc.lmtp = sc.lmtp;
    cc.use_pipelining = g.chance(80);
    cc.use_chunking = g.chance(50);
    cc.use_8bitmime = g.chance(90);
    cc.use_smtputf8 = g.chance(90);
    cc.tls = tls ? tls_mode::required : tls_mode::never;
    if (!sc.auth_mechanisms.empty()) {
        cc.auth_mechanisms = g.chance(50) ? std::vector<std::string>{"PLAIN", "LOGIN"}
                                          : std::vector<std::string>{"LOGIN"};
        cc.credentials = {"", "user", "secret"};
    }
    x.utf8_ok = sc.offer.smtputf8 && cc.use_smtputf8;
    x.eight_bit_ok = sc.offer.eight_bit_mime && cc.use_8bitmime;
    x.binary_ok = sc.offer.binarymime && sc.offer.chunking;
    return x;
}

bool has_utf8(const planned_message& m) {
    const auto non_ascii = [](std::string_view s) {
        for (char ch : s) {
            if (static_cast<unsigned char>(ch) >= 0x80) return true;
        }
        return false;
    };
    if (non_ascii(m.sender)) return true;
    for (const std::string& a : m.addresses) {
        if (non_ascii(a)) return true;
    }
    return false;
}

errc expected_refusal(const session_setup& x, const planned_message& m) {
    if (has_utf8(m) && !x.utf8_ok) return errc::non_ascii;
    if (m.content == body_type::eight_bit_mime && !x.eight_bit_ok)
        return errc::eight_bit_not_allowed;
    if (m.content == body_type::binary_mime && !x.binary_ok) return errc::binary_not_allowed;
    if (m.declared_size > x.server.limit.message_size) return errc::message_too_large;
    return errc::ok;
}

// What the client must have logged for message `index` (server decisions are deterministic).
std::vector<std::string> expected_log(const session_setup& x, const planned_message& m,
                                      std::size_t index) {
    std::vector<std::string> log;
    const std::string prefix = std::to_string(index);
    if (starts_with(m.sender, "refuse")) {
        log.push_back(prefix + " msg 0 550 ok");
        return log;
    }
    std::vector<std::size_t> accepted;
    for (std::size_t i = 0; i < m.addresses.size(); ++i) {
        const std::string& a = m.addresses[i];
        const int code = starts_with(a, "bad") ? 550 : starts_with(a, "tmp") ? 451 : 250;
        log.push_back(prefix + " rcpt " + std::to_string(i) + " " + std::to_string(code));
        if (code == 250) accepted.push_back(i);
    }
    if (accepted.empty()) {
        log.push_back(prefix + " msg 0 0 no recipient was accepted");
        return log;
    }
    if (!x.server.lmtp) {
        log.push_back(prefix + " msg 0 250 ok");
        return log;
    }
    for (std::size_t i : accepted) {
        const int code = starts_with(m.addresses[i], "full") ? 452 : 250;
        log.push_back(prefix + " msg " + std::to_string(i) + " " + std::to_string(code) + " ok");
    }
    return log;
}

void check_session(const session_setup& x, client_side& c, server_side& s) {
    REQUIRE(c.closed);
    CHECK(c.closed_with == errc::ok);
    REQUIRE(c.refusals.size() == c.plan.size());
    std::vector<std::string> expected;
    std::size_t delivered = 0;
    for (std::size_t i = 0; i < c.plan.size(); ++i) {
        const planned_message& m = c.plan[i];
        const errc refusal = expected_refusal(x, m);
        CHECK(c.refusals[i] == refusal);
        if (refusal != errc::ok) continue; // send_mail()'s return value only, no event
        const std::vector<std::string> part = expected_log(x, m, i);
        expected.insert(expected.end(), part.begin(), part.end());
        const bool delivers = !starts_with(m.sender, "refuse") &&
                              part.back().find("no recipient") == std::string::npos;
        if (!delivers) continue;
        REQUIRE(delivered < s.delivered.size());
        const delivered_message& d = s.delivered[delivered++];
        CHECK(d.sender == "<" + m.sender + ">");
        CHECK(d.body == m.expected_body);
        std::vector<std::string> want;
        for (const std::string& a : m.addresses) {
            if (!starts_with(a, "bad") && !starts_with(a, "tmp")) want.push_back("<" + a + ">");
        }
        CHECK(d.recipients == want);
    }
    CHECK(delivered == s.delivered.size());
    CHECK(c.log == expected);
}

} // namespace

TEST_CASE("back to back: generated transactions arrive byte-identical with the right envelope",
          "[client][server][b2b]") {
    generator g(20261122u);
    std::size_t transactions = 0;
    for (int connection = 0; connection < 1000; ++connection) {
        const session_setup x = random_setup(g);
        REQUIRE(x.server.validate() == errc::ok);
        client_side c(x.client);
        server_side s(x.server);
        const std::size_t count = 1 + g.below(8);
        for (std::size_t i = 0; i < count; ++i) c.plan.push_back(g.message());
        transactions += count;
        INFO("connection " << connection);
        run_connection(c, s, g);
        check_session(x, c, s);
    }
    CHECK(transactions > 4000);
}

TEST_CASE("back to back: a server 421 mid-transaction reaches the client as temporary failures",
          "[client][server][b2b]") {
    server_config sc;
    sc.hostname = "mx.example";
    client_config cc;
    cc.tls = tls_mode::never;
    client_session c(cc);
    server_session s(sc);
    std::string piece;
    std::vector<std::string> log;
    recipient to[2] = {recipient("a@x.example"), recipient("b@x.example")};
    bool shut = false;
    bool closed = false;
    for (int step = 0; step < 1000 && !closed; ++step) {
        for (client_event ev = c.next_event(); ev.kind != client_event_kind::need_data && !closed;
             ev = c.next_event()) {
            log.push_back(std::string(to_string(ev.kind)) + " " + to_string(ev.result));
            if (ev.kind == client_event_kind::ready)
                REQUIRE(c.send_mail(envelope("s@x.example", to, 2)) == errc::ok);
            if (ev.kind == client_event_kind::closed) log.push_back(to_string(ev.error));
            closed = ev.kind == client_event_kind::closed;
        }
        if (closed) break;
        piece.assign(c.pending_output());
        c.consume_output(piece.size());
        if (!piece.empty()) smtpp_test::give(s, piece);
        for (server_event ev = s.next_event();
             ev.kind != server_event_kind::need_data && ev.kind != server_event_kind::closed;
             ev = s.next_event()) {
            if (ev.kind == server_event_kind::rcpt && ev.recipient_index == 0 && !shut) {
                (void)s.accept();
                s.shutdown(); // after the first recipient
                shut = true;
                break;
            }
            if (is_decision(ev.kind)) (void)s.accept();
        }
        smtpp_test::give(c, s.pending_output());
        s.consume_output(s.pending_output().size());
        if (s.is_closed()) c.receive_eof();
    }
    REQUIRE(closed);
    INFO(::Catch::Detail::stringify(log));
    CHECK(std::find(log.begin(), log.end(), "recipient_result temporary") != log.end());
    CHECK(std::find(log.begin(), log.end(), "message_result temporary") != log.end());
    CHECK(log.back() == "service closing transmission channel");
}

// RFC 2920 3.1: sending the next MAIL right behind the end of data changes when octets go,
// never which: the same plan run with transactions pipelined and in lockstep must put the same
// bytes on the wire both ways and report the same results.
TEST_CASE("S-2920-3.1-f: transactions pipelined behind the end of data send and receive the "
          "same bytes, with the same results, as transactions in lockstep",
          "[client][server][b2b]") {
    generator g(20261205u);
    std::size_t compared = 0;
    std::size_t overlapped = 0;
    for (int connection = 0; connection < 300; ++connection) {
        session_setup x = random_setup(g);
        x.client.use_pipelining = true;
        x.server.offer.pipelining = true;
        std::vector<planned_message> plan;
        const std::size_t count = 2 + g.below(6);
        for (std::size_t i = 0; i < count; ++i) plan.push_back(g.message());
        const std::uint32_t seed = static_cast<std::uint32_t>(g.below(1u << 30));
        INFO("connection " << connection);
        const auto run = [&](bool pipelined) {
            client_config cc = x.client;
            cc.pipeline_transactions = pipelined;
            client_side c(cc, seed);
            server_side s(x.server);
            c.plan = plan;
            generator splits(seed);
            run_connection(c, s, splits);
            check_session(x, c, s);
            return c;
        };
        const client_side pipelined = run(true);
        const client_side lockstep = run(false);
        CHECK(pipelined.sent == lockstep.sent);
        CHECK(pipelined.received == lockstep.received);
        CHECK(pipelined.log == lockstep.log);
        CHECK(pipelined.refusals == lockstep.refusals);
        CHECK(lockstep.ready_before_result == 0);
        compared += plan.size();
        overlapped += pipelined.ready_before_result;
    }
    CHECK(compared > 1000);
    CHECK(overlapped > compared / 4); // the pipelined runs did overlap transactions
}

// What pipelining the next transaction buys: round trips (one client write answered by one
// server write) for a run of messages over one connection.
std::size_t round_trips_for(std::size_t messages, bool pipelined) {
    server_config sc;
    sc.hostname = "mx.example";
    client_config cc;
    cc.tls = tls_mode::never;
    cc.pipeline_transactions = pipelined;
    client_session c(cc);
    server_session s(sc);
    const recipient to[] = {recipient("a@x.example"), recipient("b@x.example")};
    std::size_t sent = 0, delivered = 0, trips = 0;
    bool closed = false;
    while (!closed && trips < 10 * messages + 10) {
        for (client_event ev = c.next_event(); ev.kind != client_event_kind::need_data;
             ev = c.next_event()) {
            closed = ev.kind == client_event_kind::closed;
            if (closed) break;
            if (ev.kind == client_event_kind::ready && sent < messages) {
                REQUIRE(c.send_mail(envelope("s@x.example", to, 2)) == errc::ok);
                ++sent;
            } else if (ev.kind == client_event_kind::ready) {
                REQUIRE(c.quit() == errc::ok);
            } else if (ev.kind == client_event_kind::send_body) {
                REQUIRE(c.send_body("Subject: x\r\n\r\nbody\r\n") == errc::ok);
                REQUIRE(c.end_body() == errc::ok);
            } else if (ev.kind == client_event_kind::message_result) {
                delivered += ev.result == outcome::success;
            }
        }
        if (closed) break;
        std::string to_server;
        while (c.pending_output_size() != 0) {
            to_server += c.pending_output();
            c.consume_output(c.pending_output().size());
        }
        if (!to_server.empty()) smtpp_test::give(s, to_server);
        for (server_event ev = s.next_event();
             ev.kind != server_event_kind::need_data && ev.kind != server_event_kind::closed;
             ev = s.next_event()) {
            if (is_decision(ev.kind)) REQUIRE(s.accept() == errc::ok);
        }
        std::string to_client;
        while (s.pending_output_size() != 0) {
            to_client += s.pending_output();
            s.consume_output(s.pending_output().size());
        }
        smtpp_test::give(c, to_client);
        if (s.is_closed()) c.receive_eof();
        ++trips;
    }
    CHECK(closed);
    CHECK(delivered == messages);
    return trips;
}

TEST_CASE("S-2920-3.1-f: pipelined transactions take one round trip per message instead of two",
          "[client][server][b2b]") {
    // Greeting, EHLO, then per message: MAIL..DATA -> 354, body and "." -> 250; QUIT -> 221.
    CHECK(round_trips_for(10, false) == 2 + 2 * 10 + 1);
    // The dot, the next MAIL..DATA and (last) QUIT share a write: one trip per message.
    CHECK(round_trips_for(10, true) == 2 + 1 + 10);
    CHECK(round_trips_for(1000, true) == 2 + 1 + 1000);
}
