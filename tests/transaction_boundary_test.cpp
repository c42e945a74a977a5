// Every end of a transaction reaches the caller. An embedder that buffers body_chunk events
// and drops them on transaction_reset (as server_event.hpp asks) must store exactly the chunks
// of the transaction a message_end closes: never a chunk of an earlier one. RFC 5321 4.1.4
// (an accepted EHLO resets as RSET does), RFC 3207 4.2 (nothing from before TLS survives it),
// RFC 3030 2 (BDAT chunks belong to their transaction).
#include <smtpp/client_session.hpp>
#include <smtpp/reply_reader.hpp>
#include <smtpp/server_session.hpp>

#include "session_helpers.hpp"
#include "smtpp_catch.hpp"
#include "split_grind.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace smtpp;
using kind = server_event_kind;

// The embedder the library's documentation describes: body bytes are buffered per
// transaction, dropped on transaction_reset, stored on message_end.
struct embedder {
    bool lmtp = false;
    std::string buffered;
    std::vector<std::string> stored;
    std::vector<std::uint64_t> declared; // message_end.size of each stored message
    std::size_t resets = 0;

    void on(const server_event& ev) {
        if (ev.kind == kind::body_chunk) buffered.append(ev.data.data(), ev.data.size());
        if (ev.kind == kind::transaction_reset) {
            buffered.clear();
            ++resets;
        }
        const bool last_reply = !lmtp || ev.recipient_index + 1 >= ev.recipient_count;
        if (ev.kind == kind::message_end && last_reply) {
            stored.push_back(buffered);
            declared.push_back(ev.size);
            buffered.clear();
        }
    }
};

server_config chunking_config() {
    server_config c;
    c.hostname = "mx.example";
    c.offer.chunking = true;
    c.offer.starttls = true;
    return c;
}

// Feeds `pieces` to a fresh session that accepts every decision; returns what was stored.
embedder run(const server_config& config, const std::vector<std::string_view>& pieces) {
    server_session s(config);
    embedder e;
    e.lmtp = config.lmtp;
    const auto pump = [&] {
        for (;;) {
            const server_event ev = s.next_event();
            e.on(ev);
            if (is_decision(ev.kind)) {
                REQUIRE(s.accept() == errc::ok);
            } else if (ev.kind == kind::need_data || ev.kind == kind::closed) {
                s.consume_output(s.pending_output().size());
                return;
            } else if (ev.kind == kind::tls_handshake) {
                REQUIRE(s.tls_established() == errc::ok);
            }
        }
    };
    pump();
    for (const std::string_view piece : pieces) {
        smtpp_test::give(s, piece);
        pump();
    }
    return e;
}

const std::string injected = "X-Injected: from txn 1\r\n";     // 24 octets
const std::string second = "Subject: second\r\n\r\nhello\r\n"; // 26 octets
const std::string first_txn =
    "MAIL FROM:<first@a.test>\r\nRCPT TO:<x@b.test>\r\nBDAT 24\r\n" + injected;
const std::string second_txn =
    "MAIL FROM:<second@a.test>\r\nRCPT TO:<y@b.test>\r\nBDAT 26 LAST\r\n" + second;

void check_only_second(const embedder& e) {
    REQUIRE(e.stored.size() == 1);
    CHECK(e.stored[0] == second); // 0 octets of the earlier chunk
    CHECK(e.declared[0] == second.size());
    CHECK(e.resets == 1);
}

} // namespace

TEST_CASE("RFC 5321 4.1.4: EHLO after an accepted BDAT chunk resets the transaction; no octet "
          "of the old chunk reaches the next message",
          "[server][transaction][bdat]") {
    const std::string input = "EHLO c.test\r\n" + first_txn + "EHLO c.test\r\n" + second_txn;
    const long divergent = smtpp_test::first_divergent_split(input, [&](const auto& pieces) {
        const embedder e = run(chunking_config(), pieces);
        check_only_second(e);
        return e.stored.empty() ? std::string() : e.stored[0];
    });
    CHECK(divergent == -1);
}

TEST_CASE("RFC 5321 4.1.4: HELO after an accepted BDAT chunk resets the transaction",
          "[server][transaction][bdat]") {
    const std::string input =
        "EHLO c.test\r\n" + first_txn + "HELO c.test\r\nEHLO c.test\r\n" + second_txn;
    const embedder e = run(chunking_config(), {input});
    REQUIRE(e.stored.size() == 1);
    CHECK(e.stored[0] == second);
}

TEST_CASE("RFC 2033 4.1: LHLO after an accepted BDAT chunk resets the LMTP transaction",
          "[server][transaction][bdat][lmtp]") {
    server_config c = chunking_config();
    c.lmtp = true;
    const std::string input = "LHLO c.test\r\n" + first_txn + "LHLO c.test\r\n" + second_txn;
    const embedder e = run(c, {input});
    REQUIRE(e.stored.size() == 1);
    CHECK(e.stored[0] == second);
}

TEST_CASE("RFC 3207 4.2: STARTTLS inside a transaction is refused with 503 5.5.1; after RSET "
          "and TLS the next message holds only its own chunks",
          "[server][transaction][bdat][starttls]") {
    server_session s(chunking_config());
    embedder e;
    std::string out;
    const auto pump = [&] {
        for (;;) {
            const server_event ev = s.next_event();
            e.on(ev);
            if (is_decision(ev.kind))
                REQUIRE(s.accept() == errc::ok);
            else if (ev.kind == kind::tls_handshake) {
                out += s.pending_output();
                s.consume_output(s.pending_output().size());
                REQUIRE(s.tls_established() == errc::ok);
            } else if (ev.kind == kind::need_data || ev.kind == kind::closed) {
                break;
            }
        }
        out += s.pending_output();
        s.consume_output(s.pending_output().size());
    };
    pump();
    // receive() reads in place: the bytes must outlive the events they cause.
    const std::string plaintext = "EHLO c.test\r\n" + first_txn + "STARTTLS\r\n";
    smtpp_test::give(s, plaintext);
    pump();
    CHECK(out.find("503 5.5.1 STARTTLS not allowed in a mail transaction\r\n") !=
          std::string::npos);
    CHECK(!s.tls_active());
    smtpp_test::give(s, "RSET\r\nSTARTTLS\r\n");
    pump();
    CHECK(s.tls_active());
    const std::string encrypted = "EHLO c.test\r\n" + second_txn;
    smtpp_test::give(s, encrypted);
    pump();
    check_only_second(e);
}

TEST_CASE("tls_established() ends a transaction with transaction_reset", "[server][transaction]") {
    // Unreachable through STARTTLS (refused inside a transaction), but the rule holds on its
    // own: nothing of the plaintext transaction survives the handshake.
    server_session s(chunking_config());
    embedder e;
    const auto drain = [&](kind until) {
        for (;;) {
            const server_event ev = s.next_event();
            e.on(ev);
            if (ev.kind == until) return ev;
            if (is_decision(ev.kind)) REQUIRE(s.accept() == errc::ok);
            REQUIRE(ev.kind != kind::need_data);
        }
    };
    (void)drain(kind::connect);
    REQUIRE(s.accept() == errc::ok);
    const std::string input = "EHLO c.test\r\n" + first_txn;
    smtpp_test::give(s, input);
    (void)drain(kind::bdat_chunk);
    REQUIRE(s.accept() == errc::ok);
    CHECK(s.in_transaction());
    CHECK(e.buffered == injected);
    CHECK(s.tls_established() == errc::invalid_state); // no STARTTLS was accepted
    CHECK(s.next_event().kind == kind::need_data);
}

TEST_CASE("Every way a transaction ends with BDAT data buffered reports transaction_reset",
          "[server][transaction][bdat]") {
    struct ending {
        const char* name;
        std::string tail;
        bool eof;
    };
    const ending endings[] = {
        {"RSET", "RSET\r\n", false},
        {"EHLO", "EHLO c.test\r\n", false},
        {"QUIT", "QUIT\r\n", false},
        {"EOF", "", true},
        {"chunk over the size limit", "BDAT 10485761\r\n", false},
        {"malformed BDAT", "BDAT 1x\r\n", false},
    };
    for (const ending& end : endings) {
        INFO(end.name);
        server_session s(chunking_config());
        embedder e;
        bool reset_seen = false;
        const auto pump = [&] {
            for (;;) {
                const server_event ev = s.next_event();
                e.on(ev);
                if (ev.kind == kind::transaction_reset) reset_seen = true;
                if (is_decision(ev.kind))
                    REQUIRE(s.accept() == errc::ok);
                else if (ev.kind == kind::need_data || ev.kind == kind::closed)
                    break;
            }
            s.consume_output(s.pending_output().size());
        };
        pump();
        const std::string input = "EHLO c.test\r\n" + first_txn + end.tail;
        smtpp_test::give(s, input);
        if (end.eof) s.receive_eof();
        pump();
        CHECK(reset_seen);
        CHECK(e.buffered.empty());
    }
}

// ---- an on-path injector in front of STARTTLS (CVE-2011-0411, moved into content) ----

namespace {

// Moves bytes between a client and a server session. Into the client's first write that
// starts with `inject_before` it puts `injection` in front, and it removes the server's
// replies number hide_first..hide_last (0 is the greeting) from the server-to-client stream:
// what an active attacker in the plaintext path does. Once TLS is up both sides talk directly.
struct injected_wire {
    injected_wire(client_session& client, server_session& server, std::string inject,
                  std::string before, std::size_t first, std::size_t last)
        : c(client), s(server), injection(std::move(inject)), inject_before(std::move(before)),
          hide_first(first), hide_last(last) {}

    client_session& c;
    server_session& s;
    std::string injection;
    std::string inject_before;
    std::size_t hide_first, hide_last;

    embedder stored;
    std::vector<errc> client_errors;
    bool tls = false;
    bool injected = false;
    bool sent = false;
    std::size_t replies_seen = 0;
    reply_reader reader;
    std::string hidden; // what the attacker swallowed
    std::string in_flight;

    void server_to_client(std::string_view bytes) {
        if (tls) {
            smtpp_test::give(c, bytes);
            return;
        }
        while (!bytes.empty()) {
            const read_result r = reader.read(bytes);
            REQUIRE((r.error == errc::ok || r.error == errc::need_more_data));
            if (r.error == errc::need_more_data) break;
            const bool hide = replies_seen >= hide_first && replies_seen <= hide_last;
            if (hide)
                hidden.append(r.reply.raw.data(), r.reply.raw.size());
            else
                smtpp_test::give(c, r.reply.raw);
            ++replies_seen;
            bytes.remove_prefix(r.consumed);
        }
    }

    bool run_server() {
        for (;;) {
            const server_event ev = s.next_event();
            stored.on(ev);
            if (is_decision(ev.kind)) {
                REQUIRE(s.accept() == errc::ok);
            } else if (ev.kind == kind::tls_handshake) {
                server_to_client(s.pending_output());
                s.consume_output(s.pending_output().size());
                REQUIRE(s.tls_established() == errc::ok);
                tls = true;
            } else if (ev.kind == kind::need_data || ev.kind == kind::closed) {
                break;
            }
        }
        if (s.pending_output().empty()) return false;
        server_to_client(s.pending_output());
        s.consume_output(s.pending_output().size());
        return true;
    }

    bool run_client() {
        for (;;) {
            const client_event ev = c.next_event();
            if (ev.kind == client_event_kind::need_data || ev.kind == client_event_kind::closed)
                break;
            if (ev.kind == client_event_kind::error) client_errors.push_back(ev.error);
            if (ev.kind == client_event_kind::tls_handshake)
                REQUIRE(c.tls_established() == errc::ok);
            if (ev.kind == client_event_kind::ready && !sent) {
                static const recipient to[] = {recipient("y@b.test")};
                sent = true;
                REQUIRE(c.send_mail(envelope("second@a.test", to, 1)) == errc::ok);
            } else if (ev.kind == client_event_kind::ready) {
                REQUIRE(c.quit() == errc::ok);
            }
            if (ev.kind == client_event_kind::send_body) {
                REQUIRE(c.send_body(second) == errc::ok);
                REQUIRE(c.end_body() == errc::ok);
            }
        }
        if (c.pending_output().empty()) return false;
        std::string bytes(c.pending_output());
        c.consume_output(bytes.size());
        if (!injected && !tls && bytes.compare(0, inject_before.size(), inject_before) == 0) {
            bytes = injection + bytes;
            injected = true;
        }
        in_flight = bytes; // receive() reads in place until need_data
        return s.receive_in_place(in_flight) == errc::ok;
    }

    void run() {
        for (int round = 0; round < 1000; ++round) {
            const bool server_moved = run_server();
            const bool client_moved = run_client();
            if (!server_moved && !client_moved) break;
        }
        REQUIRE(injected);
    }
};

client_config tls_client() {
    client_config cc;
    cc.helo_name = "client.test";
    cc.tls = tls_mode::required;
    cc.use_chunking = true;
    return cc;
}

} // namespace

TEST_CASE("RFC 3207 4.2: commands and a BDAT chunk injected before the client's EHLO never "
          "reach the client's TLS-protected message",
          "[server][transaction][bdat][starttls][injection]") {
    client_session c(tls_client());
    server_session s(chunking_config());
    // Replies 1-4 answer the attacker's EHLO, MAIL, RCPT and BDAT.
    injected_wire w(c, s, "EHLO evil.test\r\n" + first_txn, "EHLO", 1, 4);
    w.run();
    CHECK(w.hidden.find("250 2.0.0 Chunk received") != std::string::npos); // the attack ran
    REQUIRE(w.stored.stored.size() == 1);
    CHECK(w.stored.stored[0] == second); // and left no trace in the message
    CHECK(w.tls);
}

TEST_CASE("RFC 3207 4.2: a transaction injected between EHLO and STARTTLS makes STARTTLS fail; a "
          "client that requires TLS sends nothing",
          "[server][transaction][bdat][starttls][injection]") {
    client_session c(tls_client());
    server_session s(chunking_config());
    // The attacker's MAIL, RCPT and BDAT ride in front of the client's STARTTLS (replies 2-4,
    // after the greeting and the client's EHLO); STARTTLS meets the open transaction.
    injected_wire w(c, s, first_txn, "STARTTLS", 2, 4);
    w.run();
    CHECK(!w.tls);
    CHECK(w.stored.stored.empty());
    CHECK(w.client_errors == std::vector<errc>{errc::tls_required});
}
