// Tests for smtpp::client_session against hand-written server transcripts.
#include <smtpp/client_session.hpp>
#include <smtpp/printable.hpp>

#include "allocation_counter.hpp"
#include "session_helpers.hpp"
#include "smtpp_catch.hpp"
#include "split_grind.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace smtpp;

std::string describe(const client_event& e) {
    std::string s = to_string(e.kind);
    switch (e.kind) {
    case client_event_kind::recipient_result:
    case client_event_kind::message_result:
        s += " " + std::to_string(e.recipient) + " " + to_string(e.result);
        break;
    default:
        break;
    }
    if (e.reply.code != 0) s += " " + std::to_string(e.reply.code);
    if (e.error != errc::ok) s += std::string(" [") + to_string(e.error) + "]";
    return s;
}

// Drives a session like an application would: every event is answered by a policy, output
// is collected in `wire`, event descriptions in `log` (one per line).
struct harness {
    explicit harness(client_config config) : session(std::move(config)) {}

    client_session session;
    std::string wire;
    std::string log;
    std::vector<recipient> to{{"bob@example.org"}};
    envelope message{"alice@example.com", nullptr, 0};
    std::vector<std::string> bodies{"Hello\r\n"};
    std::size_t next_body = 0;
    const std::string* current_body = nullptr;
    bool auto_quit = true;
    bool auto_tls = true;
    bool show_transactions = false; // log results and send_body as "... t<transaction>"
    std::string auth_response = "token";

    void pump() {
        while (true) {
            const client_event e = session.next_event();
            if (e.kind == client_event_kind::need_data) break;
            log += describe(e);
            if (show_transactions && e.transaction != 0)
                log += " t" + std::to_string(e.transaction);
            log += "\n";
            act(e);
            if (e.kind == client_event_kind::closed) break;
        }
        wire += smtpp_test::take_output(session);
    }

    void act(const client_event& e) {
        switch (e.kind) {
        case client_event_kind::ready:
            if (next_body < bodies.size()) {
                message.recipients = to.data();
                message.recipient_count = to.size();
                if (session.send_mail(message) == errc::ok) current_body = &bodies[next_body++];
            } else if (auto_quit) {
                REQUIRE(session.quit() == errc::ok);
            }
            break;
        case client_event_kind::send_body:
            if (current_body == nullptr) break; // the test feeds the body itself
            REQUIRE(session.send_body(*current_body) == errc::ok);
            REQUIRE(session.end_body() == errc::ok);
            current_body = nullptr;
            break;
        case client_event_kind::tls_handshake:
            if (auto_tls) REQUIRE(session.tls_established() == errc::ok);
            break;
        case client_event_kind::auth_challenge:
            REQUIRE(session.auth_respond(auth_response) == errc::ok);
            break;
        default:
            break;
        }
    }

    // Feeds server bytes and runs the policy.
    // The server's bytes, reply by reply (see reply_splitter), until the session closes.
    void feed(std::string_view bytes) {
        bool fed = false;
        splitter.split(bytes, [&](std::string_view reply) {
            if (session.is_closed()) return;
            feed_raw(reply);
            fed = true;
        });
        if (!fed) pump();
    }
    // The bytes as one read, even when they hold replies to commands not sent yet. What the
    // client queued is written first, as a transport does before the next read.
    void feed_raw(std::string_view bytes) {
        wire += smtpp_test::take_output(session);
        smtpp_test::give(session, bytes);
        pump();
    }
    smtpp_test::reply_splitter splitter;
    void eof() {
        session.receive_eof();
        pump();
    }
};

bool ends_with(const std::string& s, std::string_view tail) {
    return s.size() >= tail.size() && std::string_view(s).substr(s.size() - tail.size()) == tail;
}

client_config basic_config() {
    client_config c;
    c.helo_name = "client.example";
    c.tls = tls_mode::never;
    return c;
}

// Runs `server` (all bytes of one session) through a fresh harness split every way and checks
// the client wire and events agree; returns the whole-input result.
template <class Setup>
std::string grind(std::string_view server, Setup setup) {
    std::string whole;
    const long divergent =
        smtpp_test::first_divergent_split(server, [&](const std::vector<std::string_view>& pieces) {
            harness h(basic_config());
            setup(h);
            h.pump();
            for (std::string_view piece : pieces) h.feed(piece);
            return h.wire + "\n--\n" + h.log;
        });
    CHECK(divergent == -1);
    harness h(basic_config());
    setup(h);
    h.pump();
    h.feed(server);
    return h.wire + "\n--\n" + h.log;
}

const auto no_setup = [](harness&) {};

constexpr std::string_view ehlo_pipelining = "250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE "
                                             "1000\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
                                             "250 DSN\r\n";

} // namespace

TEST_CASE("S-5321-4.3.1-a: lockstep without PIPELINING, one command per reply", "[client]") {
    harness h(basic_config());
    h.pump();
    CHECK(h.wire.empty()); // waits for the greeting
    h.feed("220 mx.example.net ESMTP\r\n");
    CHECK(h.wire == "EHLO client.example\r\n");
    h.feed("250 mx.example.net\r\n");
    CHECK(h.wire == "EHLO client.example\r\nMAIL FROM:<alice@example.com>\r\n");
    h.feed("250 ok\r\n");
    CHECK(ends_with(h.wire, "RCPT TO:<bob@example.org>\r\n"));
    h.feed("250 ok\r\n");
    CHECK(ends_with(h.wire, "DATA\r\n"));
    h.feed("354 go\r\n");
    CHECK(ends_with(h.wire, "Hello\r\n.\r\n"));
    h.feed("250 queued\r\n");
    CHECK(ends_with(h.wire, "QUIT\r\n"));
    h.feed("221 bye\r\n");
    CHECK(h.session.is_closed());
    CHECK(h.log == "greeting 220\nready\nrecipient_result 0 success 250\nsend_body\nmessage_result "
                   "0 success 250\n"
                   "ready\nclosed 221\n");
}

TEST_CASE("S-2920-3.1-a: MAIL, RCPTs and DATA go out as one group; EHLO is never grouped",
          "[client][pipelining]") {
    harness h(basic_config());
    h.to = {{"a@example.org"}, {"b@example.org"}};
    h.feed("220 mx\r\n");
    CHECK(h.wire == "EHLO client.example\r\n");
    h.feed(ehlo_pipelining);
    CHECK(h.wire ==
          "EHLO client.example\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<a@example.org>\r\n"
          "RCPT TO:<b@example.org>\r\nDATA\r\n");
}

TEST_CASE("S-2920-2-a: no PIPELINING advertised -> one command at a time", "[client][pipelining]") {
    harness h(basic_config());
    h.to = {{"a@example.org"}, {"b@example.org"}};
    h.feed("220 mx\r\n250-mx\r\n250 8BITMIME\r\n");
    CHECK(h.wire == "EHLO client.example\r\nMAIL FROM:<alice@example.com>\r\n");
}

TEST_CASE("S-2920-3.1-b: pipelined replies matched by counting only", "[client][pipelining]") {
    harness h(basic_config());
    h.to = {{"a@example.org"}, {"b@example.org"}};
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    // Reply texts lie on purpose: only the order counts.
    h.feed("250 RCPT ok\r\n550 MAIL ok\r\n250 DATA\r\n354 RCPT\r\n");
    // `ready` once the content is out: the next transaction may follow the end of data.
    CHECK(h.log == "greeting 220\nready\nrecipient_result 0 permanent 550\nrecipient_result 1 "
                   "success 250\nsend_body\nready\n");
    h.feed("250 2.0.0 queued\r\n221 bye\r\n");
    CHECK(h.log.find("message_result 0 success 250") != std::string::npos);
}

TEST_CASE("S-2920-3.1-c, RFC 5321 4.1.1.4: every RCPT failed -> still read DATA reply; on 354 "
          "send just a dot, whose reply ends the transaction (no RSET)",
          "[client][pipelining]") {
    harness h(basic_config());
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    const std::size_t before = h.wire.size();
    h.feed("250 ok\r\n550 no\r\n354 go\r\n");
    CHECK(h.wire.substr(before) == ".\r\n");
    CHECK(h.log.find("message_result 0 permanent [no recipient was accepted]") !=
          std::string::npos);
    h.feed("554 no valid recipients\r\n");
    // The end of data clears the server's buffers whatever it answers (4.1.1.4).
    CHECK(h.wire.substr(before) == ".\r\nQUIT\r\n");
}

TEST_CASE("S-5321-3.3-c: no content after a DATA failure, then RSET", "[client]") {
    harness h(basic_config());
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    const std::size_t before = h.wire.size();
    h.feed("250 ok\r\n250 ok\r\n554 5.3.0 no\r\n");
    CHECK(h.wire.substr(before) == "RSET\r\n");
    CHECK(h.log.find("send_body") == std::string::npos);
    CHECK(h.log.find("message_result 0 permanent 554") != std::string::npos);
}

TEST_CASE("S-5321-3.3-c, RFC 5321 4.3.2: a 250 to DATA answers nothing: the message fails as "
          "temporary with unexpected_reply and the session ends",
          "[client]") {
    harness h(basic_config());
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    const std::size_t before = h.wire.size();
    h.feed("250 ok\r\n250 ok\r\n250 2.0.0 ok\r\n550 never read\r\n"); // the third answers DATA
    CHECK(h.wire.substr(before) == "QUIT\r\n");
    CHECK(h.log.find("send_body") == std::string::npos);
    CHECK(h.log.find("message_result 0 temporary 250 [reply that no command outstanding "
                     "expects]") != std::string::npos);
    CHECK(h.session.is_closed());
    CHECK(h.log.find("550") == std::string::npos);
}

TEST_CASE("S-2920-3.1-d: a multiline reply to RCPT is one reply", "[client][pipelining]") {
    harness h(basic_config());
    h.to = {{"a@example.org"}, {"b@example.org"}};
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    h.feed("250 ok\r\n250-first\r\n250 second\r\n451-4.3.0 try\r\n451 4.3.0 later\r\n354 go\r\n");
    CHECK(h.log == "greeting 220\nready\nrecipient_result 0 success 250\nrecipient_result 1 "
                   "temporary 451\nsend_body\nready\n");
}

// ---- transactions back to back (RFC 2920 3.1: message content may start a group) ----

// Two messages for a PIPELINING server; the first one's content is out, so its result is due
// while the second one's MAIL, RCPT and DATA follow it.
void send_first_of_two(harness& h) {
    h.show_transactions = true;
    h.bodies = {"one\r\n", "two\r\n"};
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    h.feed("250 ok\r\n250 ok\r\n354 go\r\n");
}

TEST_CASE("S-2920-3.1-f: the next MAIL, RCPT and DATA follow the end of data in one group; "
          "results name their transaction",
          "[client][pipelining]") {
    harness h(basic_config());
    h.show_transactions = true;
    h.bodies = {"one\r\n", "two\r\n"};
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    CHECK(h.session.last_transaction() == 1);
    std::size_t before = h.wire.size();
    h.feed("250 ok\r\n250 ok\r\n354 go\r\n");
    CHECK(h.wire.substr(before) == "one\r\n.\r\nMAIL FROM:<alice@example.com>\r\n"
                                   "RCPT TO:<bob@example.org>\r\nDATA\r\n");
    CHECK(h.session.last_transaction() == 2);
    CHECK(h.session.waiting().phase == wait_phase::data_termination);
    before = h.wire.size();
    h.feed("250 2.0.0 first queued\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    CHECK(h.wire.substr(before) == "two\r\n.\r\nQUIT\r\n"); // QUIT ends the dot's group
    h.feed("250 2.0.0 second queued\r\n221 bye\r\n");
    CHECK(h.log == "greeting 220\nready\nrecipient_result 0 success 250 t1\nsend_body t1\nready\n"
                   "message_result 0 success 250 t1\nrecipient_result 0 success 250 t2\n"
                   "send_body t2\nready\nmessage_result 0 success 250 t2\nclosed 221\n");
    CHECK(h.wire.find("RSET") == std::string::npos);
}

TEST_CASE("S-2920-3.1-f: without PIPELINING, or with pipeline_transactions off, `ready` waits "
          "for the result",
          "[client][pipelining]") {
    const auto run = [](client_config c, std::string_view ehlo) {
        harness h(c);
        h.bodies = {"one\r\n", "two\r\n"};
        h.feed("220 mx\r\n");
        h.feed(ehlo);
        h.feed("250 ok\r\n");
        h.feed("250 ok\r\n");
        const std::size_t before = h.wire.size();
        h.feed("354 go\r\n");
        CHECK(h.wire.substr(before) == "one\r\n.\r\n");
        CHECK(h.log.find("send_body\nready") == std::string::npos);
        h.feed("250 queued\r\n");
        CHECK(ends_with(h.log, "send_body\nmessage_result 0 success 250\nready\n"));
        CHECK(h.wire.find(".\r\nMAIL FROM:<alice@example.com>\r\n") != std::string::npos);
    };
    run(basic_config(), "250-mx\r\n250 8BITMIME\r\n");
    client_config off = basic_config();
    off.pipeline_transactions = false;
    run(off, ehlo_pipelining);
}

TEST_CASE("S-2920-3.1-f, RFC 5321 4.1.1.4: a refused end of data fails only its own message; "
          "the next one goes on and no RSET is sent",
          "[client][pipelining]") {
    harness h(basic_config());
    send_first_of_two(h);
    h.feed("554 5.7.1 spam\r\n250 ok\r\n250 ok\r\n354 go\r\n250 2.0.0 queued\r\n221 bye\r\n");
    CHECK(h.log.find("message_result 0 permanent 554 t1\nrecipient_result 0 success 250 t2\n") !=
          std::string::npos);
    CHECK(h.log.find("message_result 0 success 250 t2\n") != std::string::npos);
    CHECK(h.wire.find("RSET") == std::string::npos);
    CHECK(h.log.find("closed 221") != std::string::npos);
}

TEST_CASE("S-2920-3.1-f, RFC 5321 3.8: a connection lost behind two transactions fails both, "
          "the earlier first, never as delivered",
          "[client][pipelining]") {
    for (const std::string_view replies :
         {std::string_view{}, std::string_view{"250 2.0.0 first queued\r\n"},
          std::string_view{"250 2.0.0 first queued\r\n250 ok\r\n"}}) {
        harness h(basic_config());
        send_first_of_two(h);
        h.feed(replies);
        h.eof();
        INFO(h.log);
        const std::string lost = to_string(errc::peer_closed_early);
        const std::size_t first = h.log.find("message_result 0 ");
        const std::size_t second = h.log.find("message_result 0 temporary [" + lost + "] t2");
        CHECK(first != std::string::npos);
        CHECK(second != std::string::npos);
        CHECK(first < second);
        if (replies.empty()) {
            CHECK(h.log.find("message_result 0 temporary [" + lost + "] t1") == first);
            CHECK(h.log.find("recipient_result 0 temporary [" + lost + "] t2") !=
                  std::string::npos);
        } else {
            CHECK(h.log.find("message_result 0 success 250 t1") == first);
        }
        CHECK(ends_with(h.log, "closed [" + lost + "]\n"));
    }
}

TEST_CASE("S-2920-3.1-f, RFC 5321 4.5.3.2.6: a timeout while the first result is due fails "
          "both transactions as temporary",
          "[client][pipelining][timeouts]") {
    harness h(basic_config());
    send_first_of_two(h);
    const wait_state w = h.session.waiting();
    CHECK(w.phase == wait_phase::data_termination);
    CHECK(w.timeout == std::chrono::minutes(10));
    REQUIRE(h.session.timeout_expired() == errc::ok);
    h.pump();
    const std::string late = to_string(errc::timed_out);
    CHECK(ends_with(h.log, "ready\nmessage_result 0 temporary [" + late + "] t1\n" +
                               "recipient_result 0 temporary [" + late + "] t2\n" +
                               "message_result 0 temporary [" + late + "] t2\nclosed [" + late +
                               "]\n"));
}

TEST_CASE("S-2920-3.1-f, RFC 3030 4.2: with BDAT the next MAIL waits for the replies to the "
          "earlier chunks, then follows BDAT LAST",
          "[client][pipelining][bdat]") {
    client_config c = basic_config();
    c.use_chunking = true;
    harness h(c);
    h.show_transactions = true;
    h.bodies = {"one\r\n", "two\r\n"};
    h.feed("220 mx\r\n");
    h.feed("250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n");
    std::size_t before = h.wire.size();
    h.feed("250 ok\r\n250 ok\r\n");
    CHECK(h.wire.substr(before) == "BDAT 5\r\none\r\nBDAT 0 LAST\r\n");
    CHECK(h.log.find("send_body t1\nready") == std::string::npos); // a chunk reply is due
    before = h.wire.size();
    h.feed("250 5 octets\r\n");
    CHECK(h.wire.substr(before) ==
          "MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.org>\r\n");
    h.feed("250 2.0.0 queued\r\n250 ok\r\n250 ok\r\n250 5 octets\r\n250 2.0.0 queued\r\n");
    CHECK(h.log.find("message_result 0 success 250 t1\nrecipient_result 0 success 250 t2\n") !=
          std::string::npos);
    CHECK(ends_with(h.log, "message_result 0 success 250 t2\n"));
}

TEST_CASE("S-2920-3.1-f, S-2033-4.2-b: LMTP per-recipient results of one transaction come "
          "before the next one's, each named",
          "[client][pipelining][lmtp]") {
    client_config c = basic_config();
    c.lmtp = true;
    harness h(c);
    h.show_transactions = true;
    h.to = {{"a@x.example"}, {"b@x.example"}};
    h.bodies = {"one\r\n", "two\r\n"};
    h.feed("220 lmtp\r\n");
    h.feed("250-lmtp\r\n250 PIPELINING\r\n");
    h.feed("250 ok\r\n250 a\r\n250 b\r\n354 go\r\n");
    CHECK(ends_with(h.wire, ".\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<a@x.example>\r\n"
                            "RCPT TO:<b@x.example>\r\nDATA\r\n"));
    h.feed("250 a done\r\n452 b full\r\n250 ok\r\n250 a\r\n550 b\r\n354 go\r\n250 a done\r\n");
    CHECK(h.log == "greeting 220\nready\nrecipient_result 0 success 250 t1\n"
                   "recipient_result 1 success 250 t1\nsend_body t1\nready\n"
                   "message_result 0 success 250 t1\nmessage_result 1 temporary 452 t1\n"
                   "recipient_result 0 success 250 t2\nrecipient_result 1 permanent 550 t2\n"
                   "send_body t2\nready\nmessage_result 0 success 250 t2\n");
}

TEST_CASE("S-5321-4.2-g: any command may get a multiline reply", "[client]") {
    const std::string result = grind(
        "220-mx.example.net\r\n220 hi\r\n250-mx\r\n250 ok\r\n250-a\r\n250 b\r\n250-x\r\n250 y\r\n"
        "354-go\r\n354 on\r\n250-q\r\n250 queued\r\n221-bye\r\n221 now\r\n",
        no_setup);
    CHECK(result.find("message_result 0 success 250") != std::string::npos);
    CHECK(result.find("closed 221") != std::string::npos);
}

TEST_CASE("S-5321-4.2-h: multiline greeting parsed as one greeting", "[client]") {
    const std::string result = grind("220-mx.example.net ESMTP\r\n220 ready\r\n", no_setup);
    CHECK(result == "EHLO client.example\r\n\n--\ngreeting 220\n");
}

TEST_CASE("S-5321-4.2-c: a code with no text, with or without the space", "[client]") {
    const std::string result = grind("220\r\n250 \r\n250\r\n250 \r\n", no_setup);
    CHECK(result.find("recipient_result 0 success 250") != std::string::npos);
}

TEST_CASE("S-5321-4.2-d: decide by code only", "[client]") {
    harness h(basic_config());
    h.to = {{"a@example.org"}, {"b@example.org"}};
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    h.feed("250 No way\r\n550 OK\r\n250 Rejected\r\n354 go\r\n");
    CHECK(h.log.find("recipient_result 0 permanent 550") != std::string::npos);
    CHECK(h.log.find("recipient_result 1 success 250") != std::string::npos);
}

TEST_CASE("S-5321-4.2-e: unknown codes read by their first digit", "[client]") {
    harness h(basic_config());
    h.to = {{"a@example.org"}, {"b@example.org"}, {"c@example.org"}};
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    h.feed("299 x\r\n299 x\r\n471 x\r\n599 x\r\n354 go\r\n");
    CHECK(h.log.find("recipient_result 0 success 299") != std::string::npos);
    CHECK(h.log.find("recipient_result 1 temporary 471") != std::string::npos);
    CHECK(h.log.find("recipient_result 2 permanent 599") != std::string::npos);
}

TEST_CASE("S-5321-4.2-f: first digit outside 2-5 is a fatal protocol error", "[client]") {
    for (std::string_view bad : {"600 x\r\n", "100 x\r\n", "abc\r\n", "25\r\n", "250x\r\n"}) {
        harness h(basic_config());
        h.feed("220 mx\r\n");
        h.feed(ehlo_pipelining);
        h.feed(bad);
        CHECK(h.session.is_closed());
        CHECK(h.log.find("closed [malformed reply code]") != std::string::npos);
        // The open transaction is abandoned as a temporary failure.
        CHECK(h.log.find("message_result 0 temporary") != std::string::npos);
    }
}

TEST_CASE("S-5321-4.2.1-a: different codes in one multiline reply is a protocol error (strict "
          "reading)",
          "[client]") {
    smtpp::client_config c = basic_config();
    c.lenient_mixed_reply_codes = false;
    harness h(c);
    h.feed("220-a\r\n221 b\r\n");
    CHECK(h.session.is_closed());
    CHECK(h.log == "closed [reply lines carry different codes]\n");
}

TEST_CASE("RFC 5321 4.2.1: by default a multiline reply with mixed codes is judged by its last "
          "line (a permanent refusal stays permanent)",
          "[client]") {
    harness h(basic_config());
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    h.feed("250 ok\r\n250-2.1.5 ok\r\n550-5.1.1 no such user\r\n550 5.1.1 really\r\n");
    CHECK(h.log.find("recipient_result 0 permanent 550") != std::string::npos);
    CHECK_FALSE(h.session.is_closed());
    // The first line's code does not decide: 550 then 250 is a success.
    harness g(basic_config());
    g.feed("220 mx\r\n");
    g.feed(ehlo_pipelining);
    g.feed("250 ok\r\n550-odd first line\r\n250 2.1.5 ok\r\n");
    CHECK(g.log.find("recipient_result 0 success 250") != std::string::npos);
}

TEST_CASE("S-5321-4.5.3.1.5-a: a 512-octet reply line is parsed; a longer one is fatal "
          "(reply_line_limit at the RFC's 512; 2048 by default)",
          "[client]") {
    smtpp::client_config c = basic_config();
    c.reply_line_limit = 512;
    {
        harness h(c);
        h.feed("220 " + std::string(506, 'x') + "\r\n");
        CHECK(h.log == "greeting 220\n");
    }
    {
        harness h(c);
        h.feed("220 " + std::string(507, 'x') + "\r\n");
        CHECK(h.log == "closed [reply line too long]\n");
    }
    {
        // An endless line is cut off at the limit, without waiting for its CRLF.
        harness h(basic_config());
        for (int i = 0; i < 100; ++i) h.feed(std::string(100, 'y'));
        CHECK(h.session.is_closed());
    }
}

TEST_CASE("client: too many lines in one reply is fatal and memory stays bounded", "[client]") {
    client_config c = basic_config();
    c.limit.reply_lines = 4;
    harness h(c);
    h.feed("220-a\r\n220-b\r\n220-c\r\n220-d\r\n220 e\r\n");
    CHECK(h.log == "closed [too many lines in one reply]\n");
}

TEST_CASE("S-5321-2.3.8-a: bare LF does not end a reply line; it is fatal", "[client]") {
    // Taking it as text would make "220 mx\n250 fake" one greeting; the reader refuses it
    // instead (a server that ends lines with LF would otherwise hang the client).
    harness h(basic_config());
    h.feed("220 mx\n250 fake\r\n");
    CHECK(h.log == "closed [bare LF (LF not preceded by CR)]\n");
    CHECK(h.wire.empty());
}

TEST_CASE("S-3463-2-a: enhanced status codes parsed strictly", "[client]") {
    // The reply to a RCPT, as the recipient_result reports it: status and remaining text.
    const auto read = [](const std::string& rcpt_reply) {
        harness h(basic_config());
        h.feed("220 mx\r\n");
        h.feed(ehlo_pipelining);
        smtpp_test::give(h.session, "250 ok\r\n" + rcpt_reply + "\r\n");
        client_event e = h.session.next_event();
        while (e.kind != client_event_kind::recipient_result) e = h.session.next_event();
        return std::make_pair(e.reply.status, std::string(e.reply.text()));
    };
    CHECK(read("550 5.1.10 x") == std::make_pair(enhanced_status{5, 1, 10}, std::string("x")));
    CHECK(read("550 5.01.1 x") == std::make_pair(enhanced_status{}, std::string("5.01.1 x")));
    CHECK(read("550 5. 1.1 x") == std::make_pair(enhanced_status{}, std::string("5. 1.1 x")));
    CHECK(read("550 5.1.1000 x") == std::make_pair(enhanced_status{}, std::string("5.1.1000 x")));
    CHECK(read("550 4.1.1 x").first.empty()); // the class must match the code
    CHECK(read("250 2.0.0") == std::make_pair(enhanced_status{2, 0, 0}, std::string()));
}

TEST_CASE("S-3463-2-b: class and subject reported even when unknown", "[client]") {
    harness h(basic_config());
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    smtpp_test::give(h.session, "250 ok\r\n550 5.9.99 who knows\r\n");
    client_event e = h.session.next_event();
    while (e.kind != client_event_kind::recipient_result) e = h.session.next_event();
    CHECK(e.reply.status.cls == 5);
    CHECK(e.reply.status.subject == 9);
    CHECK(e.reply.status.detail == 99);
    CHECK(e.reply.text() == "who knows");
    CHECK(e.result == outcome::permanent);
}

TEST_CASE("S-5321-3.2-b: EHLO not recognized -> HELO, no extensions used", "[client]") {
    harness h(basic_config());
    h.message.body = body_type::unspecified;
    h.message.size = 5000;
    h.feed("220 mx\r\n500 what?\r\n");
    CHECK(h.wire == "EHLO client.example\r\nHELO client.example\r\n");
    h.feed("250 mx\r\n");
    CHECK(ends_with(h.wire, "MAIL FROM:<alice@example.com>\r\n"));
    CHECK(h.session.server_capabilities().raw.empty()); // no extensions known
}

TEST_CASE("S-5321-4.1.1.1-a: no HELO fallback for an address-literal name (HELO takes a Domain)",
          "[client]") {
    client_config c = basic_config();
    c.helo_name = "[192.0.2.1]";
    harness h(c);
    h.feed("220 mx\r\n500 what?\r\n");
    CHECK(h.wire == "EHLO [192.0.2.1]\r\nQUIT\r\n");
    CHECK(h.log.find("error") != std::string::npos);
}

TEST_CASE("S-5321-4.1.1.1-a: the EHLO name must be a Domain or an address literal", "[client]") {
    client_config c = basic_config();
    for (const char* bad : {"", "-x.example", "a..b", "[1.2.3]", "[IPv6:1::2::3]", "a b"}) {
        c.helo_name = bad;
        CHECK(c.validate() == errc::invalid_config);
    }
    for (const char* good : {"client.example", "[192.0.2.1]", "[IPv6:2001:db8::1]", "localhost"}) {
        c.helo_name = good;
        CHECK(c.validate() == errc::ok);
    }
}

TEST_CASE("S-5321-4.1.1.1-b, S-3461-2-a: EHLO reply keywords and parameters (DSN without one)",
          "[client]") {
    harness h(basic_config());
    h.feed("220 mx\r\n250-mx.example hi\r\n250-SIZE 1000\r\n250 DSN\r\n");
    const auto& caps = h.session.server_capabilities();
    CHECK(caps.domain == "mx.example");
    CHECK(caps.size);
    CHECK(caps.size_limit == 1000);
    CHECK(caps.dsn);
    ehlo_extension size;
    REQUIRE(caps.find("size", size));
    CHECK(size.params == "1000");
    CHECK_FALSE(caps.has("PIPELINING"));
}

TEST_CASE("S-5321-4.1.1.1-c: EHLO keywords match case-insensitively", "[client]") {
    harness h(basic_config());
    h.feed("220 mx\r\n250-mx\r\n250 pipelining\r\n");
    CHECK(h.session.server_capabilities().pipelining);
    CHECK(h.session.server_capabilities().has("PiPeLiNiNg"));
}

TEST_CASE("S-1870-3-a: SIZE with a number, with 0, and without", "[client]") {
    const auto limit_of = [](std::string_view ehlo) {
        harness h(basic_config());
        h.feed("220 mx\r\n");
        h.feed(ehlo);
        return std::make_pair(h.session.server_capabilities().size,
                              h.session.server_capabilities().size_limit);
    };
    CHECK(limit_of("250-mx\r\n250 SIZE\r\n") == std::make_pair(true, std::uint64_t{0}));
    CHECK(limit_of("250-mx\r\n250 SIZE 0\r\n") == std::make_pair(true, std::uint64_t{0}));
    CHECK(limit_of("250-mx\r\n250 SIZE 1000\r\n") == std::make_pair(true, std::uint64_t{1000}));
    CHECK(limit_of("250 mx\r\n") == std::make_pair(false, std::uint64_t{0}));
}

TEST_CASE("S-6531-3.1-a: SMTPUTF8 with a stray parameter is still on", "[client]") {
    harness h(basic_config());
    h.feed("220 mx\r\n250-mx\r\n250 SMTPUTF8 foo\r\n");
    CHECK(h.session.server_capabilities().smtputf8);
}

TEST_CASE("S-4954-3-a: AUTH mechanisms listed; legacy AUTH= form understood", "[client]") {
    harness h(basic_config());
    h.feed("220 mx\r\n250-mx\r\n250 AUTH PLAIN SCRAM-SHA-256\r\n");
    CHECK(h.session.server_capabilities().has_auth_mechanism("plain"));
    CHECK(h.session.server_capabilities().has_auth_mechanism("SCRAM-SHA-256"));
    CHECK_FALSE(h.session.server_capabilities().has_auth_mechanism("LOGIN"));
    harness legacy(basic_config());
    legacy.feed("220 mx\r\n250-mx\r\n250 AUTH=PLAIN LOGIN\r\n");
    CHECK(legacy.session.server_capabilities().has_auth_mechanism("LOGIN"));
    CHECK(legacy.session.server_capabilities().has_auth_mechanism("PLAIN"));
}

TEST_CASE("S-5321-4.1.1.3-a: only advertised parameters are sent", "[client]") {
    harness h(basic_config());
    h.message.size = 4242;
    h.message.ret = dsn_ret::full;
    h.message.envid = "QQ314159";
    h.to = {{"bob@example.org", notify_failure, true}};
    h.feed("220 mx\r\n250-mx\r\n250 8BITMIME\r\n");
    CHECK(h.wire == "EHLO client.example\r\nMAIL FROM:<alice@example.com>\r\n");
    h.feed("250 ok\r\n");
    CHECK(ends_with(h.wire, "RCPT TO:<bob@example.org>\r\n"));
}

TEST_CASE("S-3461-4.2-b: DSN parameters when offered; ORCPT holds the RCPT address", "[client]") {
    harness h(basic_config());
    h.message.size = 999;
    h.message.ret = dsn_ret::headers;
    h.message.envid = "a+b=c d";
    h.to = {{"b@x.example", notify_success | notify_delay, true}};
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    CHECK(h.wire.find("MAIL FROM:<alice@example.com> SIZE=999 RET=HDRS ENVID=a+2Bb+3Dc+20d\r\n") !=
          std::string::npos);
    CHECK(h.wire.find("RCPT TO:<b@x.example> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;b@x.example\r\n") !=
          std::string::npos);
}

TEST_CASE("S-3461-4-b: xtext encoding of ENVID", "[client]") {
    harness h(basic_config());
    h.message.envid = "a+b=c d";
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    CHECK(h.wire.find(" ENVID=a+2Bb+3Dc+20d") != std::string::npos);
}

TEST_CASE("S-3461-4-a: NOTIFY=NEVER stands alone", "[client]") {
    harness h(basic_config());
    h.to = {{"b@x.example", notify_never | notify_success, false}};
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    CHECK(h.wire.find("RCPT TO:<b@x.example> NOTIFY=NEVER\r\n") != std::string::npos);
}

TEST_CASE("S-5321-4.1.1.2-a: MAIL FROM:<...> and RCPT TO:<...> without a space after the colon",
          "[client]") {
    harness h(basic_config());
    h.message.sender = "";
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    CHECK(h.wire.find("MAIL FROM:<>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n") !=
          std::string::npos);
}

TEST_CASE("S-5321-2.4-b: local-part case is preserved", "[client]") {
    harness h(basic_config());
    h.to = {{"Smith@D.Example"}};
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    CHECK(h.wire.find("RCPT TO:<Smith@D.Example>\r\n") != std::string::npos);
}

namespace {

// Sets up a session that is ready with `ehlo` and tries `message` with `to`.
errc try_send(std::string_view ehlo, envelope message, std::vector<recipient> to,
              harness** out = nullptr) {
    static std::unique_ptr<harness> keep;
    keep = std::make_unique<harness>(basic_config());
    keep->bodies.clear(); // do not send anything by itself
    keep->auto_quit = false;
    keep->feed("220 mx\r\n");
    keep->feed(ehlo);
    message.recipients = to.data();
    message.recipient_count = to.size();
    const std::size_t before = keep->wire.size();
    const errc e = keep->session.send_mail(message);
    keep->pump();
    if (e != errc::ok) CHECK(keep->wire.size() == before); // nothing of it on the wire
    if (out != nullptr) *out = keep.get();
    return e;
}

} // namespace

TEST_CASE("S-5321-4.1.2-f: no non-ASCII or control octets in addresses without SMTPUTF8",
          "[client][refuse]") {
    CHECK(try_send(ehlo_pipelining, {"a@b.example"}, {{"j\xC3\xB6@x.example"}}) == errc::non_ascii);
    CHECK(try_send(ehlo_pipelining, {"a@b.example"}, {{"j\x01@x.example"}}) ==
          errc::invalid_argument);
}

TEST_CASE("S-6531-3.2-b: UTF-8 recipient or message without SMTPUTF8 refused before MAIL",
          "[client][refuse]") {
    harness* h = nullptr;
    CHECK(try_send(ehlo_pipelining, {"a@b.example"}, {{"j\xC3\xB8@x.example"}}, &h) ==
          errc::non_ascii);
    // The refusal is the return value only: no event, nothing sent, the session still ready.
    CHECK(h->log.find("error") == std::string::npos);
    CHECK(h->wire.find("MAIL FROM") == std::string::npos);
    CHECK(h->session.is_ready());
    envelope utf8_headers{"a@b.example"};
    utf8_headers.utf8_message = true;
    CHECK(try_send(ehlo_pipelining, utf8_headers, {{"b@x.example"}}) == errc::non_ascii);
}

TEST_CASE("S-6531-3.4-b: SMTPUTF8 added when the envelope needs it, omitted otherwise",
          "[client]") {
    const std::string ehlo = "250-mx\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n";
    harness* h = nullptr;
    CHECK(try_send(ehlo, {"a@b.example"}, {{"j\xC3\xB8@b\xC3\xB8.example"}}, &h) == errc::ok);
    CHECK(h->wire.find(
              "MAIL FROM:<a@b.example> SMTPUTF8\r\nRCPT TO:<j\xC3\xB8@b\xC3\xB8.example>\r\n") !=
          std::string::npos);
    CHECK(try_send(ehlo, {"a@b.example"}, {{"j@b.example"}}, &h) == errc::ok);
    CHECK(h->wire.find("MAIL FROM:<a@b.example>\r\n") != std::string::npos);
}

TEST_CASE("S-6531-3.4-a: the SMTPUTF8 MAIL parameter carries no value", "[client]") {
    harness* h = nullptr;
    CHECK(try_send("250-mx\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n", {"\xC3\xB8@b.example"},
                   {{"j@b.example"}}, &h) == errc::ok);
    CHECK(h->wire.find(" SMTPUTF8\r\n") != std::string::npos);
    CHECK(h->wire.find("SMTPUTF8=") == std::string::npos);
}

TEST_CASE("client: CR/LF in caller addresses refused (command injection)", "[client][refuse]") {
    CHECK(try_send(ehlo_pipelining, {"a@b.example>\r\nRCPT TO:<evil@x.example"},
                   {{"b@x.example"}}) == errc::invalid_argument);
    CHECK(try_send(ehlo_pipelining, {"a@b.example"}, {{"b@x.example>\r\nDATA"}}) ==
          errc::invalid_argument);
    envelope bad_envid{"a@b.example"};
    bad_envid.envid = "x\r\nQUIT";
    CHECK(try_send(ehlo_pipelining, bad_envid, {{"b@x.example"}}) == errc::invalid_argument);
}

TEST_CASE("S-5321-4.1.2-c: malformed addresses refused by the grammar", "[client][refuse]") {
    CHECK(try_send(ehlo_pipelining, {"a..b@x.example"}, {{"b@x.example"}}) != errc::ok);
    CHECK(try_send(ehlo_pipelining, {"a@b.example"}, {{".a@x.example"}}) != errc::ok);
    CHECK(try_send(ehlo_pipelining, {"a@b.example"}, {{"a.b@x.example"}}) == errc::ok);
}

TEST_CASE("S-5321-4.1.2-d: quoted local parts are sent as written", "[client]") {
    harness* h = nullptr;
    CHECK(try_send(ehlo_pipelining, {"\"john doe\"@x.example"}, {{"b@x.example"}}, &h) == errc::ok);
    CHECK(h->wire.find("MAIL FROM:<\"john doe\"@x.example>") != std::string::npos);
    CHECK(try_send(ehlo_pipelining, {"\"a\"b\"@x.example"}, {{"b@x.example"}}) != errc::ok);
}

TEST_CASE("S-5321-4.1.2-h: bad domains refused", "[client][refuse]") {
    for (std::string_view to : {"a@-x.example", "a@x-.example", "a@x..example", "a@x.example."}) {
        CHECK(try_send(ehlo_pipelining, {"a@b.example"}, {{to}}) != errc::ok);
    }
}

TEST_CASE("S-5321-4.1.3-a, S-5321-4.1.3-b: IPv4 and IPv6 address literals", "[client]") {
    CHECK(try_send(ehlo_pipelining, {"a@b.example"}, {{"postmaster@[192.0.2.1]"}}) == errc::ok);
    CHECK(try_send(ehlo_pipelining, {"a@b.example"}, {{"postmaster@[256.0.0.1]"}}) != errc::ok);
    CHECK(try_send(ehlo_pipelining, {"a@b.example"}, {{"u@[IPv6:2001:db8::1]"}}) == errc::ok);
    CHECK(try_send(ehlo_pipelining, {"a@b.example"}, {{"u@[2001:db8::1]"}}) != errc::ok);
}

TEST_CASE("S-5321-4.1.2-b: source routes are never generated", "[client][refuse]") {
    CHECK(try_send(ehlo_pipelining, {"a@b.example"}, {{"@h1.example:u@d.example"}}) != errc::ok);
}

TEST_CASE("S-5321-2.4-c: 8-bit body without 8BITMIME refused before MAIL", "[client][refuse]") {
    envelope m{"a@b.example"};
    m.body = body_type::eight_bit_mime;
    CHECK(try_send("250-mx\r\n250 PIPELINING\r\n", m, {{"b@x.example"}}) ==
          errc::eight_bit_not_allowed);
    harness* h = nullptr;
    CHECK(try_send(ehlo_pipelining, m, {{"b@x.example"}}, &h) == errc::ok);
    CHECK(h->wire.find("MAIL FROM:<a@b.example> BODY=8BITMIME\r\n") != std::string::npos);
}

TEST_CASE("S-5321-2.4-c: 8-bit octet in a body declared 7-bit refused, nothing raw on the wire",
          "[client][refuse]") {
    harness h(basic_config());
    h.bodies.clear();
    h.auto_quit = false;
    h.feed("220 mx\r\n250-mx\r\n250 PIPELINING\r\n");
    recipient to{"b@x.example"};
    REQUIRE(h.session.send_mail({"a@b.example", &to, 1}) == errc::ok);
    h.pump();
    h.feed("250 ok\r\n250 ok\r\n354 go\r\n");
    const std::size_t before = h.wire.size();
    CHECK(h.session.send_body("caf\xE9\r\n") == errc::eight_bit_not_allowed);
    CHECK(h.session.send_body(std::string("a\0b\r\n", 5)) == errc::binary_not_allowed);
    CHECK(h.session.send_body(std::string(999, 'x')) == errc::text_line_too_long);
    CHECK(h.session.send_body(std::string(998, 'x')) == errc::ok);
    h.pump();
    CHECK(h.wire.size() == before + 998);
}

TEST_CASE("S-3030-2-k: binary body needs BINARYMIME and CHUNKING; BDAT only when offered",
          "[client][refuse]") {
    envelope m{"a@b.example"};
    m.body = body_type::binary_mime;
    CHECK(try_send(ehlo_pipelining, m, {{"b@x.example"}}) == errc::binary_not_allowed);
    CHECK(try_send("250-mx\r\n250 BINARYMIME\r\n", m, {{"b@x.example"}}) ==
          errc::binary_not_allowed);
    harness* h = nullptr;
    CHECK(try_send("250-mx\r\n250-CHUNKING\r\n250 BINARYMIME\r\n", m, {{"b@x.example"}}, &h) ==
          errc::ok);
    CHECK(h->wire.find("MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n") != std::string::npos);
    // A text body with use_chunking but no CHUNKING advertised goes through DATA.
    client_config c = basic_config();
    c.use_chunking = true;
    harness text(c);
    text.feed("220 mx\r\n");
    text.feed(ehlo_pipelining);
    CHECK(text.wire.find("DATA\r\n") != std::string::npos);
}

TEST_CASE("S-1870-6.2-a: declared size over the SIZE limit refused; 552 to MAIL -> RSET",
          "[client][refuse]") {
    envelope m{"a@b.example"};
    m.size = 1001;
    CHECK(try_send(ehlo_pipelining, m, {{"b@x.example"}}) == errc::message_too_large);
    m.size = 1000;
    CHECK(try_send(ehlo_pipelining, m, {{"b@x.example"}}) == errc::ok);

    harness h(basic_config());
    h.feed("220 mx\r\n250 mx\r\n"); // lockstep
    h.feed("552 5.3.4 too big\r\n");
    CHECK(h.wire == "EHLO client.example\r\nMAIL FROM:<alice@example.com>\r\nRSET\r\n");
    CHECK(h.log.find("message_result 0 permanent 552") != std::string::npos);
    h.feed("250 ok\r\n");
    CHECK(ends_with(h.wire, "QUIT\r\n"));
}

TEST_CASE("S-5321-4.5.3.1.10-b: 552 to RCPT is temporary", "[client]") {
    harness h(basic_config());
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    h.feed("250 ok\r\n552 too many recipients\r\n");
    CHECK(h.log.find("recipient_result 0 temporary 552") != std::string::npos);
    h.feed("503 no recipients\r\n");
    CHECK(h.log.find("message_result 0 temporary [no recipient was accepted]") !=
          std::string::npos);
}

TEST_CASE(
    "S-5321-4.5.2-a, S-5321-4.1.1.4-c, S-5321-4.1.1.4-d: dots doubled; CRLF added once at the end",
    "[client][data]") {
    const auto wire_for = [](std::vector<std::string> pieces) {
        harness h(basic_config());
        h.bodies.clear();
        h.auto_quit = false;
        h.feed("220 mx\r\n250-mx\r\n250 PIPELINING\r\n");
        recipient to{"b@x.example"};
        REQUIRE(h.session.send_mail({"a@b.example", &to, 1}) == errc::ok);
        h.pump();
        h.feed("250 ok\r\n250 ok\r\n354 go\r\n");
        const std::size_t before = h.wire.size();
        for (const std::string& piece : pieces) REQUIRE(h.session.send_body(piece) == errc::ok);
        REQUIRE(h.session.end_body() == errc::ok);
        h.pump();
        return h.wire.substr(before);
    };
    CHECK(wire_for({".hidden\r\n"}) == "..hidden\r\n.\r\n");
    CHECK(wire_for({"a\r\n"}) == "a\r\n.\r\n");
    CHECK(wire_for({"a"}) == "a\r\n.\r\n");
    CHECK(wire_for({""}) == ".\r\n");
    CHECK(wire_for({"x\r\n", ".", "\r\n", ".y"}) == "x\r\n..\r\n..y\r\n.\r\n");
    CHECK(wire_for({"a\r", "\nb"}) == "a\r\nb\r\n.\r\n");
}

TEST_CASE("S-5321-2.3.8-b: bare CR and LF in bodies become CRLF, or are refused",
          "[client][data]") {
    harness h(basic_config());
    h.bodies = {"a\nb\rc"};
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    const std::size_t before = h.wire.size();
    h.feed("250 ok\r\n250 ok\r\n354 go\r\n");
    CHECK(h.wire.substr(before) == "a\r\nb\r\nc\r\n.\r\nQUIT\r\n"); // QUIT in the dot's group

    client_config strict = basic_config();
    strict.normalize_line_endings = false;
    harness s(strict);
    s.bodies.clear();
    s.auto_quit = false;
    s.feed("220 mx\r\n");
    s.feed(ehlo_pipelining);
    recipient to{"b@x.example"};
    REQUIRE(s.session.send_mail({"a@b.example", &to, 1}) == errc::ok);
    s.feed("250 ok\r\n250 ok\r\n354 go\r\n");
    CHECK(s.session.send_body("a\nb") == errc::bare_lf);
    CHECK(s.session.send_body("a\rb") == errc::bare_cr);
    CHECK(s.session.send_body("a\r") == errc::ok);
    CHECK(s.session.end_body() == errc::bare_cr);
}

TEST_CASE("S-5321-4.1.1-b: DATA, RSET and QUIT are sent without arguments", "[client]") {
    harness h(basic_config());
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    h.feed("250 ok\r\n550 no\r\n503 no\r\n250 reset\r\n221 bye\r\n");
    CHECK(h.wire.find("DATA\r\n") != std::string::npos);
    CHECK(h.wire.find("RSET\r\n") != std::string::npos);
    CHECK(h.wire.find("QUIT\r\n") != std::string::npos);
}

TEST_CASE("S-5321-4.1.4-d: no MAIL while a transaction is open", "[client]") {
    harness h(basic_config());
    h.bodies.clear();
    h.auto_quit = false;
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    recipient to{"b@x.example"};
    REQUIRE(h.session.send_mail({"a@b.example", &to, 1}) == errc::ok);
    CHECK(h.session.send_mail({"a@b.example", &to, 1}) == errc::invalid_state);
}

TEST_CASE("S-5321-4.1.4-b: no transaction before EHLO/HELO", "[client]") {
    harness h(basic_config());
    recipient to{"b@x.example"};
    CHECK(h.session.send_mail({"a@b.example", &to, 1}) == errc::invalid_state);
    h.feed("220 mx\r\n");
    CHECK(h.session.send_mail({"a@b.example", &to, 1}) == errc::invalid_state);
}

TEST_CASE("S-5321-4.1.1.10-c: quit() sends QUIT and waits for 221", "[client]") {
    harness h(basic_config());
    h.bodies.clear();
    h.feed("220 mx\r\n250 mx\r\n");
    CHECK(h.wire == "EHLO client.example\r\nQUIT\r\n");
    CHECK_FALSE(h.session.is_closed());
    CHECK(h.session.wants_read());
    h.feed("221 bye\r\n");
    CHECK(h.session.is_closed());
    CHECK(h.log == "greeting 220\nready\nclosed 221\n");
    CHECK(h.session.quit() == errc::invalid_state);
}

TEST_CASE("S-5321-3.8-c: 421 at any point fails everything pending as temporary and closes",
          "[client]") {
    harness h(basic_config());
    h.to = {{"a@example.org"}, {"b@example.org"}, {"c@example.org"}};
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    h.feed("250 ok\r\n250 ok\r\n421 4.3.2 shutting down\r\n");
    CHECK(h.log == "greeting 220\nready\nrecipient_result 0 success 250\n"
                   "recipient_result 1 temporary 421 [service closing transmission channel]\n"
                   "recipient_result 2 temporary 421 [service closing transmission channel]\n"
                   "message_result 0 temporary 421 [service closing transmission channel]\n"
                   "closed 421 [service closing transmission channel]\n");
    CHECK(h.session.is_closed());
    CHECK_FALSE(h.session.wants_read());
}

TEST_CASE("S-5321-3.8-c: unsolicited 421 while idle closes the session", "[client]") {
    harness h(basic_config());
    h.bodies.clear();
    h.auto_quit = false;
    h.feed("220 mx\r\n250 mx\r\n421 idle timeout\r\n");
    CHECK(h.log == "greeting 220\nready\nclosed 421 [service closing transmission channel]\n");
}

TEST_CASE("client: an unsolicited reply that is not 421 is fatal", "[client]") {
    harness h(basic_config());
    h.bodies.clear();
    h.auto_quit = false;
    h.feed("220 mx\r\n250 mx\r\n250 surprise\r\n");
    CHECK(h.log == "greeting 220\nready\nclosed 250 [reply that no command outstanding expects]\n");
}

TEST_CASE("S-5321-3.8-c: EOF after RCPT -> temporary failure", "[client]") {
    harness h(basic_config());
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    h.feed("250 ok\r\n250 ok\r\n");
    h.eof();
    CHECK(h.log.find("message_result 0 temporary [peer closed the connection early]") !=
          std::string::npos);
    CHECK(h.log.find("closed [peer closed the connection early]") != std::string::npos);
}

TEST_CASE("client: EOF in the middle of the body and after QUIT", "[client]") {
    harness h(basic_config());
    h.bodies.clear();
    h.auto_quit = false;
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    recipient to{"b@x.example"};
    REQUIRE(h.session.send_mail({"a@b.example", &to, 1}) == errc::ok);
    h.feed("250 ok\r\n250 ok\r\n354 go\r\n");
    REQUIRE(h.session.send_body("partial") == errc::ok);
    h.eof();
    CHECK(h.log.find("message_result 0 temporary [peer closed the connection early]") !=
          std::string::npos);
    CHECK(h.session.send_body("more") == errc::invalid_state);

    harness q(basic_config());
    q.bodies.clear();
    q.feed("220 mx\r\n250 mx\r\n");
    q.eof(); // no 221 but QUIT was sent: a normal end
    CHECK(q.log == "greeting 220\nready\nclosed\n");
}

TEST_CASE("S-7504-4-a: 521 and 554 greetings are permanent; the client says QUIT", "[client]") {
    for (std::string_view greeting : {"521 5.3.2 no mail here\r\n", "554 go away\r\n"}) {
        harness h(basic_config());
        h.feed(greeting);
        CHECK(h.wire == "QUIT\r\n");
        CHECK(h.log.find("error") == 0);
        CHECK(h.log.find("[service closing transmission channel]") != std::string::npos);
        smtpp_test::give(h.session, "221 bye\r\n");
        client_event e = h.session.next_event();
        CHECK(e.kind == client_event_kind::closed);
    }
    harness h(basic_config());
    smtpp_test::give(h.session, "521 no\r\n");
    const client_event e = h.session.next_event();
    CHECK(e.result == outcome::permanent);
    harness t(basic_config());
    t.feed("421 busy\r\n");
    CHECK(t.log == "closed 421 [service closing transmission channel]\n");
}

TEST_CASE("S-7504-4-a: 556 to RCPT is permanent", "[client]") {
    harness h(basic_config());
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    h.feed("250 ok\r\n556 5.1.10 null MX\r\n");
    CHECK(h.log.find("recipient_result 0 permanent 556") != std::string::npos);
}

// ---- STARTTLS ----

namespace {
client_config tls_config(tls_mode mode) {
    client_config c = basic_config();
    c.tls = mode;
    return c;
}
} // namespace

TEST_CASE(
    "S-3207-4-b, S-3207-2-a: STARTTLS without argument; nothing sent after it until TLS is up",
    "[client][tls]") {
    harness h(tls_config(tls_mode::opportunistic));
    h.auto_tls = false;
    h.feed("220 mx\r\n250-mx\r\n250 STARTTLS\r\n");
    CHECK(h.wire == "EHLO client.example\r\nSTARTTLS\r\n");
    h.feed("220 2.0.0 ready\r\n");
    CHECK(h.wire == "EHLO client.example\r\nSTARTTLS\r\n");
    CHECK(h.log == "greeting 220\ntls_handshake 220\n");
    CHECK_FALSE(h.session.wants_read());
    CHECK(h.session.quit() == errc::invalid_state); // mid-handshake: the caller just closes
    CHECK(h.session.tls_established() == errc::ok);
    CHECK(h.session.tls_established() == errc::invalid_state);
}

TEST_CASE("S-3207-4.2-c: after TLS capabilities are forgotten and EHLO comes first",
          "[client][tls]") {
    harness h(tls_config(tls_mode::opportunistic));
    h.auto_tls = false;
    h.feed("220 mx\r\n250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n220 go\r\n");
    REQUIRE(h.session.tls_established() == errc::ok);
    CHECK_FALSE(h.session.server_capabilities().pipelining);
    CHECK(h.session.server_capabilities().raw.empty()); // no extensions known
    CHECK(h.session.tls_active());
    h.pump();
    CHECK(h.wire == "EHLO client.example\r\nSTARTTLS\r\nEHLO client.example\r\n");
}

TEST_CASE("S-3207-4.2-a (client side): plaintext after the 220 is discarded, never a reply",
          "[client][tls]") {
    harness h(tls_config(tls_mode::opportunistic));
    h.auto_tls = false;
    // The injected "250" lines arrive in the same read as the 220.
    h.feed("220 mx\r\n250-mx\r\n250 STARTTLS\r\n220 go\r\n250-injected\r\n250 AUTH PLAIN\r\n");
    smtpp_test::give(h.session, "250 more injection\r\n");
    REQUIRE(h.session.tls_established() == errc::ok);
    h.pump();
    CHECK(h.log == "greeting 220\ntls_handshake 220\n");
    h.feed("250-mx\r\n250 PIPELINING\r\n");
    CHECK(h.session.server_capabilities().pipelining);
    CHECK_FALSE(h.session.server_capabilities().auth);
}

TEST_CASE("S-3207-4.2-d: STARTTLS is not sent once TLS is active", "[client][tls]") {
    harness h(tls_config(tls_mode::opportunistic));
    h.feed("220 mx\r\n250-mx\r\n250 STARTTLS\r\n220 go\r\n");
    h.feed("250-mx\r\n250 STARTTLS\r\n"); // a broken server still offers it
    CHECK(h.wire == "EHLO client.example\r\nSTARTTLS\r\nEHLO client.example\r\nMAIL "
                    "FROM:<alice@example.com>\r\n");
}

TEST_CASE("S-3207-4.2-e: the post-TLS capability list is used (AUTH appears)", "[client][tls]") {
    client_config c = tls_config(tls_mode::required);
    c.auth_mechanisms = {"PLAIN"};
    c.credentials = {"", "user", "pass"};
    harness h(c);
    h.feed("220 mx\r\n250-mx\r\n250 STARTTLS\r\n220 go\r\n");
    h.feed("250-mx\r\n250 AUTH PLAIN\r\n");
    CHECK(ends_with(h.wire, "AUTH PLAIN AHVzZXIAcGFzcw==\r\n"));
}

TEST_CASE("S-3207-6-a: TLS required but not offered -> QUIT and an error, no MAIL",
          "[client][tls]") {
    harness h(tls_config(tls_mode::required));
    h.feed("220 mx\r\n250-mx\r\n250 8BITMIME\r\n");
    CHECK(h.wire == "EHLO client.example\r\nQUIT\r\n");
    CHECK(h.log == "greeting 220\nerror [TLS required]\n");
    h.feed("221 bye\r\n");
    CHECK(h.session.is_closed());
}

TEST_CASE("S-3207-6-a: TLS required and 454 -> QUIT and an error; opportunistic carries on",
          "[client][tls]") {
    harness h(tls_config(tls_mode::required));
    h.feed("220 mx\r\n250-mx\r\n250 STARTTLS\r\n454 4.7.0 TLS not available\r\n");
    CHECK(h.wire == "EHLO client.example\r\nSTARTTLS\r\nQUIT\r\n");
    CHECK(h.log == "greeting 220\nerror 454 [TLS required]\n");

    harness o(tls_config(tls_mode::opportunistic));
    o.feed("220 mx\r\n250-mx\r\n250 STARTTLS\r\n454 4.7.0 TLS not available\r\n");
    CHECK(o.wire == "EHLO client.example\r\nSTARTTLS\r\nMAIL FROM:<alice@example.com>\r\n");
}

TEST_CASE("S-8314-3.3-a: implicit TLS starts already secure and never sends STARTTLS",
          "[client][tls]") {
    harness h(tls_config(tls_mode::implicit));
    CHECK(h.session.tls_active());
    h.feed("220 mx\r\n250-mx\r\n250 STARTTLS\r\n");
    CHECK(h.wire == "EHLO client.example\r\nMAIL FROM:<alice@example.com>\r\n");
}

// ---- AUTH ----

namespace {
client_config auth_config(std::vector<std::string> mechanisms) {
    client_config c = tls_config(tls_mode::implicit);
    c.auth_mechanisms = std::move(mechanisms);
    c.credentials = {"", "user", "pass"};
    return c;
}
} // namespace

TEST_CASE("S-4954-8-a: AUTH PLAIN with an initial response; 235 -> authenticated",
          "[client][auth]") {
    harness h(auth_config({"PLAIN", "LOGIN"}));
    h.feed("220 mx\r\n250-mx\r\n250 AUTH LOGIN PLAIN\r\n");
    CHECK(h.wire == "EHLO client.example\r\nAUTH PLAIN AHVzZXIAcGFzcw==\r\n");
    h.feed("235 2.7.0 ok\r\n");
    CHECK(h.session.authenticated());
    CHECK(h.log == "greeting 220\nauthenticated 235\nready\n");
}

TEST_CASE("client: AUTH LOGIN exchange", "[client][auth]") {
    harness h(auth_config({"LOGIN"}));
    h.feed("220 mx\r\n250-mx\r\n250 AUTH LOGIN PLAIN\r\n");
    CHECK(h.wire == "EHLO client.example\r\nAUTH LOGIN\r\n");
    h.feed("334 VXNlcm5hbWU6\r\n");
    CHECK(ends_with(h.wire, "dXNlcg==\r\n"));
    h.feed("334 UGFzc3dvcmQ6\r\n");
    CHECK(ends_with(h.wire, "cGFzcw==\r\n"));
    h.feed("235 ok\r\n");
    CHECK(h.session.authenticated());
}

TEST_CASE("S-4954-4-m: AUTH LOGIN is never batched with MAIL", "[client][auth][pipelining]") {
    harness h(auth_config({"LOGIN"}));
    h.feed("220 mx\r\n250-mx\r\n250-PIPELINING\r\n250 AUTH LOGIN\r\n");
    CHECK(h.wire == "EHLO client.example\r\nAUTH LOGIN\r\n");
    h.feed("334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n");
    CHECK(h.wire.find("MAIL") == std::string::npos);
}

TEST_CASE("S-4954-4-i: an initial response too long for the line is sent after 334",
          "[client][auth]") {
    client_config c = auth_config({"PLAIN"});
    c.credentials.password = std::string(1500, 'p');
    harness h(c);
    h.feed("220 mx\r\n250-mx\r\n250 AUTH PLAIN\r\n");
    CHECK(h.wire == "EHLO client.example\r\nAUTH PLAIN\r\n");
    h.feed("334 \r\n");
    CHECK(h.wire.size() > 2000);
    CHECK(ends_with(h.wire, "\r\n"));
}

TEST_CASE("S-4954-4-g: undecodable challenge answered with *", "[client][auth]") {
    harness h(auth_config({"X-TOKEN"}));
    h.feed("220 mx\r\n250-mx\r\n250 AUTH X-TOKEN\r\n");
    CHECK(h.wire == "EHLO client.example\r\nAUTH X-TOKEN\r\n");
    h.feed("334 !!!\r\n");
    CHECK(h.wire == "EHLO client.example\r\nAUTH X-TOKEN\r\n*\r\n");
    h.feed("501 5.5.2 cancelled\r\n");
    CHECK(h.log == "greeting 220\nerror 501 [authentication failed]\n");
    CHECK(ends_with(h.wire, "QUIT\r\n"));
}

TEST_CASE("S-4954-4-f: a challenge that is not strict base64 is answered with *",
          "[client][auth]") {
    for (std::string_view bad : {"=AAA", "AAA=BBBB", "AB$=", "ABC"}) {
        harness h(auth_config({"X-TOKEN"}));
        h.feed("220 mx\r\n250-mx\r\n250 AUTH X-TOKEN\r\n");
        h.feed("334 " + std::string(bad) + "\r\n");
        CHECK(ends_with(h.wire, "AUTH X-TOKEN\r\n*\r\n"));
        CHECK(h.log == "greeting 220\n");
    }
}

TEST_CASE("S-4954-4-h: caller-driven mechanism, empty challenge and response", "[client][auth]") {
    harness h(auth_config({"X-TOKEN"}));
    h.auth_response = "";
    h.feed("220 mx\r\n250-mx\r\n250 AUTH X-TOKEN\r\n334 \r\n");
    CHECK(h.log == "greeting 220\nauth_challenge 334\n");
    CHECK(h.wire == "EHLO client.example\r\nAUTH X-TOKEN\r\n\r\n");
    h.feed("334 aGVsbG8=\r\n");
    CHECK(ends_with(h.wire, "\r\n"));
    h.feed("235 ok\r\n");
    CHECK(h.session.authenticated());
}

TEST_CASE("client: caller-driven challenge is decoded; auth_cancel sends *", "[client][auth]") {
    harness h(auth_config({"X-TOKEN"}));
    h.feed("220 mx\r\n250-mx\r\n250 AUTH X-TOKEN\r\n"); // AUTH X-TOKEN written
    smtpp_test::give(h.session, "334 aGVsbG8=\r\n");
    client_event e = h.session.next_event();
    while (e.kind != client_event_kind::auth_challenge) e = h.session.next_event();
    CHECK(e.challenge == "hello");
    CHECK(e.mechanism == "X-TOKEN");
    CHECK(h.session.auth_cancel() == errc::ok);
    CHECK(h.session.auth_cancel() == errc::invalid_state);
    CHECK(std::string(h.session.pending_output()).substr(h.session.pending_output().size() - 3) ==
          "*\r\n");
}

TEST_CASE("S-4954-4-l: no password over plaintext by default", "[client][auth]") {
    client_config c = auth_config({"PLAIN"});
    c.tls = tls_mode::opportunistic;
    harness h(c);
    h.feed("220 mx\r\n250-mx\r\n250 AUTH PLAIN\r\n");
    CHECK(h.wire == "EHLO client.example\r\nQUIT\r\n");
    CHECK(h.log == "greeting 220\nerror [TLS required]\n");
}

TEST_CASE("client: no common mechanism -> error and QUIT", "[client][auth]") {
    harness h(auth_config({"PLAIN"}));
    h.feed("220 mx\r\n250-mx\r\n250 AUTH CRAM-MD5\r\n");
    CHECK(h.log == "greeting 220\nerror [extension not offered by the peer]\n");
    harness f(auth_config({"PLAIN"}));
    f.feed("220 mx\r\n250-mx\r\n250 AUTH PLAIN\r\n535 5.7.8 bad credentials\r\n");
    CHECK(f.log == "greeting 220\nerror 535 [authentication failed]\n");
}

// ---- LMTP ----

TEST_CASE("S-2033-4.2-b: one final reply per accepted recipient, in RCPT order", "[client][lmtp]") {
    client_config c = basic_config();
    c.lmtp = true;
    harness h(c);
    h.to = {{"a@x.example"}, {"b@x.example"}, {"c@x.example"}, {"a@x.example"}};
    h.feed("220 lmtp\r\n");
    CHECK(h.wire == "LHLO client.example\r\n");
    h.feed("250-lmtp\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n");
    h.feed("250 ok\r\n250 a\r\n550 b\r\n250 c\r\n250 a\r\n354 go\r\n");
    h.feed("250 a done\r\n452 c full\r\n250-a\r\n250 done again\r\n");
    CHECK(h.log ==
          "greeting 220\nready\nrecipient_result 0 success 250\nrecipient_result 1 permanent 550\n"
          "recipient_result 2 success 250\nrecipient_result 3 success 250\nsend_body\nready\n"
          "message_result 0 success 250\nmessage_result 2 temporary 452\nmessage_result 3 success "
          "250\n");
}

TEST_CASE("S-2033-5-b: EOF after 1 of 3 final replies -> the others temporary", "[client][lmtp]") {
    client_config c = basic_config();
    c.lmtp = true;
    harness h(c);
    h.to = {{"a@x.example"}, {"b@x.example"}, {"c@x.example"}};
    h.feed("220 lmtp\r\n250-lmtp\r\n250 PIPELINING\r\n");
    h.feed("250 ok\r\n250 a\r\n250 b\r\n250 c\r\n354 go\r\n250 a delivered\r\n");
    h.eof();
    CHECK(h.log.find("message_result 0 success 250\n"
                     "message_result 1 temporary [peer closed the connection early]\n"
                     "message_result 2 temporary [peer closed the connection early]\n"
                     "closed [peer closed the connection early]\n") != std::string::npos);
}

TEST_CASE("S-2033-5-d: LMTP on port 25 is a configuration error", "[client][lmtp]") {
    client_config c = basic_config();
    c.lmtp = true;
    c.port = 25;
    CHECK(c.validate() == errc::invalid_config);
    harness h(c);
    h.feed("220 x\r\n");
    CHECK(h.log == "closed [invalid configuration]\n");
    CHECK(h.wire.empty());
}

TEST_CASE("S-6531-3.7.1-a: the EHLO argument must be ASCII", "[client]") {
    client_config c = basic_config();
    c.helo_name = "b\xC3\xB8.example";
    CHECK(c.validate() == errc::invalid_config);
    c.helo_name = "xn--b-5ga.example";
    CHECK(c.validate() == errc::ok);
    c.helo_name = "a\r\nRSET";
    CHECK(c.validate() == errc::invalid_config);
}

TEST_CASE("S-5321-4.1.1.1-a: EHLO with a domain or an address literal", "[client]") {
    client_config c = basic_config();
    c.helo_name = "[192.0.2.1]";
    harness h(c);
    h.feed("220 mx\r\n");
    CHECK(h.wire == "EHLO [192.0.2.1]\r\n");
}

// ---- CHUNKING ----

namespace {
constexpr std::string_view ehlo_chunking =
    "250-mx\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-8BITMIME\r\n250 BINARYMIME\r\n";
client_config chunking_config() {
    client_config c = basic_config();
    c.use_chunking = true;
    return c;
}
} // namespace

TEST_CASE("S-3030-2-a: BDAT chunks with exact counts and LAST", "[client][bdat]") {
    harness h(chunking_config());
    h.bodies = {".dot\nline"};
    h.feed("220 mx\r\n");
    h.feed(ehlo_chunking);
    CHECK(h.wire ==
          "EHLO client.example\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.org>\r\n");
    const std::size_t before = h.wire.size();
    h.feed("250 ok\r\n250 ok\r\n");
    // Canonical CRLF form, no dot-stuffing, trailing CRLF added in the LAST chunk.
    CHECK(h.wire.substr(before) == "BDAT 10\r\n.dot\r\nlineBDAT 2 LAST\r\n\r\n");
    h.feed("250 ok\r\n250 2.0.0 queued\r\n");
    CHECK(h.log.find("message_result 0 success 250") != std::string::npos);
}

TEST_CASE("S-3030-2-a: a CRLF split across pieces keeps exact BDAT counts and no stuffing",
          "[client][bdat]") {
    harness h(chunking_config());
    h.bodies.clear();
    h.auto_quit = false;
    h.feed("220 mx\r\n");
    h.feed(ehlo_chunking);
    recipient to{"b@x.example"};
    REQUIRE(h.session.send_mail({"a@b.example", &to, 1}) == errc::ok);
    h.feed("250 ok\r\n250 ok\r\n");
    const std::size_t before = h.wire.size();
    REQUIRE(h.session.send_body("a\r") == errc::ok);
    REQUIRE(h.session.send_body("\n.b\r") == errc::ok);
    REQUIRE(h.session.send_body("\r") == errc::ok); // a bare CR, then a CR held back
    REQUIRE(h.session.send_body("\n") == errc::ok);
    REQUIRE(h.session.send_body(".") == errc::ok);
    REQUIRE(h.session.end_body() == errc::ok);
    h.pump();
    CHECK(h.wire.substr(before) == "BDAT 1\r\na"
                                   "BDAT 4\r\n\r\n.b"
                                   "BDAT 2\r\n\r\n"
                                   "BDAT 2\r\n\r\n"
                                   "BDAT 1\r\n."
                                   "BDAT 2 LAST\r\n\r\n");
}

TEST_CASE("S-5321-4.5.3.1.6-a: a text line is refused at its 999th octet, across pieces too",
          "[client][refuse]") {
    harness h(basic_config());
    h.bodies.clear();
    h.auto_quit = false;
    h.feed("220 mx\r\n250-mx\r\n250 PIPELINING\r\n");
    recipient to{"b@x.example"};
    REQUIRE(h.session.send_mail({"a@b.example", &to, 1}) == errc::ok);
    h.pump();
    h.feed("250 ok\r\n250 ok\r\n354 go\r\n");
    const std::size_t before = h.wire.size();
    REQUIRE(h.session.send_body("." + std::string(500, 'x')) == errc::ok); // 501 + 1 stuffed
    CHECK(h.session.send_body(std::string(498, 'y')) == errc::text_line_too_long);
    CHECK(h.session.send_body(std::string(497, 'y') + "\r\nz") == errc::ok);
    CHECK(h.session.send_body(std::string(998, 'w') + "\n") == errc::text_line_too_long);
    REQUIRE(h.session.end_body() == errc::ok);
    h.pump();
    CHECK(h.wire.substr(before) ==
          ".." + std::string(500, 'x') + std::string(497, 'y') + "\r\nz\r\n.\r\n");
}

TEST_CASE("S-3030-2-e: no more BDAT after a failed chunk; RSET follows", "[client][bdat]") {
    client_config c = chunking_config();
    harness h(c);
    h.bodies.clear();
    h.auto_quit = false;
    h.feed("220 mx\r\n250-mx\r\n250 CHUNKING\r\n"); // no PIPELINING: lockstep chunks
    recipient to{"b@x.example"};
    REQUIRE(h.session.send_mail({"a@b.example", &to, 1}) == errc::ok);
    h.feed("250 ok\r\n250 ok\r\n");
    REQUIRE(h.session.send_body("one\r\n") == errc::ok);
    CHECK(h.session.send_body("two\r\n") == errc::output_full); // lockstep: wait for the reply
    h.pump();
    const std::size_t before = h.wire.size();
    h.feed("452 4.3.1 out of space\r\n");
    CHECK(h.wire.substr(before) == "RSET\r\n");
    CHECK(h.session.send_body("two\r\n") == errc::invalid_state);
    CHECK(h.log.find("message_result 0 temporary 452") != std::string::npos);
    h.feed("250 ok\r\n");
    CHECK(h.session.is_ready());
}

TEST_CASE("client: a blocked send_body is resumed by a send_body event", "[client][bdat]") {
    harness h(chunking_config());
    h.bodies.clear();
    h.auto_quit = false;
    h.feed("220 mx\r\n250-mx\r\n250 CHUNKING\r\n");
    recipient to{"b@x.example"};
    REQUIRE(h.session.send_mail({"a@b.example", &to, 1}) == errc::ok);
    h.feed("250 ok\r\n250 ok\r\n");
    REQUIRE(h.session.send_body("one\r\n") == errc::ok);
    CHECK(h.session.send_body("two\r\n") == errc::output_full);
    h.wire += smtpp_test::take_output(h.session); // the chunk is written
    smtpp_test::give(h.session, "250 ok\r\n");
    CHECK(h.session.next_event().kind == client_event_kind::send_body);
    CHECK(h.session.send_body("two\r\n") == errc::ok);
}

TEST_CASE("S-3030-3: binary content goes raw through BDAT", "[client][bdat]") {
    harness h(basic_config());
    h.message.body = body_type::binary_mime;
    h.bodies = {std::string("\0\r.\n\xFF", 5)};
    h.feed("220 mx\r\n");
    h.feed(ehlo_chunking);
    const std::size_t before = h.wire.size();
    h.feed("250 ok\r\n250 ok\r\n");
    CHECK(h.wire.substr(before) == std::string("BDAT 5\r\n\0\r.\n\xFF"
                                               "BDAT 0 LAST\r\n",
                                               5 + 8 + 13));
}

// ---- flow control, lifetime, allocation ----

TEST_CASE("S-2920-3.1-e: replies are read while output is pending; huge RCPT lists do not deadlock",
          "[client][pipelining]") {
    client_config c = basic_config();
    c.limit.output_buffer = 4096;
    harness h(c);
    h.bodies.clear();
    h.auto_quit = false;
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    std::vector<std::string> names;
    std::vector<recipient> to;
    for (int i = 0; i < 20000; ++i) names.push_back("user" + std::to_string(i) + "@example.org");
    for (const std::string& n : names) to.push_back({n});
    REQUIRE(h.session.send_mail({"a@b.example", to.data(), to.size()}) == errc::ok);
    // The server answers every complete line it has read, and the client takes those replies
    // in while most of its own output is still unsent (written 1000 octets at a time).
    std::size_t results = 0;
    std::size_t max_pending = 0;
    std::string line;
    bool data_seen = false;
    while (!data_seen) {
        const std::string_view out = h.session.pending_output();
        REQUIRE(!out.empty());
        max_pending = std::max(max_pending, out.size());
        const std::string written(out.substr(0, 1000));
        h.session.consume_output(written.size());
        std::string replies;
        for (char ch : written) {
            line += ch;
            if (ch != '\n') continue;
            data_seen = line == "DATA\r\n";
            replies += data_seen ? "354 go\r\n" : "250 ok\r\n";
            line.clear();
        }
        smtpp_test::give(h.session, replies);
        for (client_event e = h.session.next_event(); e.kind != client_event_kind::need_data;
             e = h.session.next_event()) {
            REQUIRE(e.kind != client_event_kind::closed);
            if (e.kind == client_event_kind::recipient_result) ++results;
        }
    }
    CHECK(results == 20000);
    CHECK(max_pending < 4096 + 100);
}

TEST_CASE("client: an asynchronous write holds pending_output() while more is queued",
          "[client][api][lifetime]") {
    client_session s(basic_config());
    smtpp_test::give(s, "220 mx\r\n");
    REQUIRE(s.next_event().kind == client_event_kind::greeting);
    const std::string_view ehlo = s.pending_output(); // the write of EHLO starts
    const std::string ehlo_copy(ehlo);
    // The reply can be read before the write's completion is reported (both ready in the same
    // loop turn); the view stays valid and unchanged while MAIL ... DATA queue behind it.
    smtpp_test::give(s, "250-mx\r\n250 PIPELINING\r\n");
    while (s.next_event().kind != client_event_kind::ready) {}
    recipient to{"b@x.example"};
    REQUIRE(s.send_mail({"a@b.example", &to, 1}) == errc::ok);
    CHECK(ehlo == ehlo_copy);
    CHECK(s.pending_output().data() == ehlo.data());
    s.consume_output(ehlo.size()); // the write completes
    CHECK(smtpp_test::take_output(s) ==
          "MAIL FROM:<a@b.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n");

    smtpp_test::give(s, "250 ok\r\n250 ok\r\n354 go\r\n");
    while (s.next_event().kind != client_event_kind::send_body) {}
    REQUIRE(s.send_body("first\r\n") == errc::ok);
    const std::string_view first = s.pending_output(); // a body write starts
    for (int i = 0; i < 200; ++i) {
        REQUIRE(s.send_body(std::string(100, 'x') + "\r\n") == errc::ok);
        CHECK(first == "first\r\n"); // the body queues behind the bytes being written
    }
    REQUIRE(s.end_body() == errc::ok);
    CHECK(s.pending_output().data() == first.data());
    s.consume_output(first.size());
    CHECK(smtpp_test::take_output(s).size() == 200 * 102 + 3);
}

TEST_CASE("client: receive() copies, receive_in_place() reads in place until drained",
          "[client][api]") {
    client_session s(basic_config());
    CHECK(s.input_room() == smtpp::limits{}.input_buffer);
    std::string greeting = "220 mx.example";
    REQUIRE(s.receive(greeting) == greeting.size());
    CHECK(s.input_room() == smtpp::limits{}.input_buffer - greeting.size());
    greeting.assign(greeting.size(), '#'); // copied: the buffer is the caller's again
    const std::string rest = " ready\r\n250-mx\r\n";
    REQUIRE(s.receive_in_place(rest) == errc::ok);
    CHECK(s.reading_in_place());
    CHECK(s.receive("250 PIPELINING\r\n") == 0); // nothing jumps ahead of unread bytes
    CHECK(s.receive_in_place("x") == errc::invalid_state);
    const client_event e = s.next_event();
    REQUIRE(e.kind == client_event_kind::greeting);
    CHECK(e.reply.text() == "mx.example ready");
    CHECK(s.next_event().kind == client_event_kind::need_data);
    CHECK_FALSE(s.reading_in_place()); // "250-mx" was copied: `rest` may go
    CHECK(smtpp_test::take_output(s) == "EHLO client.example\r\n");
    smtpp_test::give(s, "250 PIPELINING\r\n");
    CHECK(s.next_event().kind == client_event_kind::ready);
    s.receive_eof();
    CHECK(s.receive("x") == 0);
    CHECK(s.receive_in_place("x") == errc::invalid_state);
}

TEST_CASE("client: views in events stay valid until the next mutating call", "[client][lifetime]") {
    client_session s(basic_config());
    smtpp_test::give(s, "220-mx.example.net first line\r\n220 second line\r\n");
    const client_event e = s.next_event();
    REQUIRE(e.kind == client_event_kind::greeting);
    const std::string copy(e.reply.raw);
    (void)s.pending_output(); // const accessors do not invalidate
    CHECK(e.reply.raw == copy);
    CHECK(e.reply.text() == "mx.example.net first line");
    std::vector<std::string> lines;
    for (const std::string_view line : e.reply.lines()) lines.emplace_back(line);
    CHECK(lines == std::vector<std::string>{"mx.example.net first line", "second line"});
}

TEST_CASE("S-5321-4.5.3.2-a: the wait follows what the client waits for", "[client][timeout]") {
    harness h(basic_config());
    h.bodies.clear();
    h.auto_quit = false;
    using smtpp::wait_phase;
    using std::chrono::seconds;
    const auto waits = [&](wait_phase phase, seconds timeout) {
        const smtpp::wait_state w = h.session.waiting();
        CHECK(std::string(smtpp::to_string(w.phase)) == smtpp::to_string(phase));
        CHECK(w.timeout == timeout);
        return w.serial;
    };
    const std::uint64_t greeting = waits(wait_phase::greeting, seconds(300));
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    CHECK(waits(wait_phase::none, seconds(0)) != greeting); // ready: the caller's move
    recipient to{"b@x.example"};
    REQUIRE(h.session.send_mail({"a@b.example", &to, 1}) == errc::ok);
    const std::uint64_t mail = waits(wait_phase::mail_reply, seconds(300));
    h.feed("250 ok\r\n");
    CHECK(waits(wait_phase::rcpt_reply, seconds(300)) != mail);
    h.feed("250 ok\r\n");
    waits(wait_phase::data_reply, seconds(120));
    h.feed("354 go\r\n");
    waits(wait_phase::none, seconds(0)); // the body is the caller's to give
    REQUIRE(h.session.send_body("x\r\n") == errc::ok);
    waits(wait_phase::data_block, seconds(180)); // until the server has taken it
    REQUIRE(h.session.end_body() == errc::ok);
    waits(wait_phase::data_termination, seconds(600));
}

TEST_CASE("client: a steady-state transaction allocates nothing after the first",
          "[client][alloc]") {
    client_session s(basic_config());
    std::string sink;
    const auto drain = [&] {
        while (s.next_event().kind != client_event_kind::need_data) {}
        s.consume_output(s.pending_output().size());
    };
    smtpp_test::give(s, "220 mx\r\n");
    drain();
    smtpp_test::give(s, ehlo_pipelining);
    drain();
    recipient to[2] = {{"a@example.org"}, {"b@example.org"}};
    const envelope m{"alice@example.com", to, 2};
    const auto transaction = [&] {
        REQUIRE(s.send_mail(m) == errc::ok);
        drain();
        smtpp_test::give(s, "250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n354 go\r\n");
        drain();
        REQUIRE(s.send_body("Subject: x\r\n\r\n.leading dot\r\nbody\r\n") == errc::ok);
        REQUIRE(s.end_body() == errc::ok);
        drain();
        smtpp_test::give(s, "250 2.0.0 queued as 12345\r\n");
        drain();
        REQUIRE(s.is_ready());
    };
    transaction();
    transaction();
    CHECK(smtpp_test::allocations_during(transaction) == 0);
}

TEST_CASE("S-4954-4-k: a 334 challenge as long as an AUTH line is accepted", "[client][auth]") {
    harness h(auth_config({"X-TOKEN"}));
    h.feed("220 mx\r\n250-mx\r\n250 AUTH X-TOKEN\r\n");
    const std::string challenge = "334 " + std::string(12000, 'Q') + "\r\n";
    smtpp_test::give(h.session, challenge);
    client_event e = h.session.next_event();
    REQUIRE(e.kind == client_event_kind::auth_challenge);
    CHECK(e.challenge.size() == 9000);
    // Other replies keep the ordinary limit.
    CHECK(h.session.auth_cancel() == errc::ok);
    h.feed("501 cancelled\r\n");
    h.feed("221 " + std::string(2100, 'x') + "\r\n"); // client_config::reply_line_limit 2048
    CHECK(h.session.is_closed());
    CHECK(h.log.find("closed [reply line too long]") != std::string::npos);
}

TEST_CASE("S-5321-4.1.2-i, S-5321-4.1.1.2-a: every command line the client writes parses as valid",
          "[client]") {
    // The server side parser (command.hpp) is the referee: parameters are keyword[=value]
    // separated by single spaces, values are esmtp-values or xtext.
    harness h(basic_config());
    h.message.size = 999;
    h.message.ret = dsn_ret::full;
    h.message.envid = "id with spaces+=";
    h.message.body = body_type::eight_bit_mime;
    h.to = {{"b@x.example", notify_success | notify_failure, true},
            {"\"john doe\"@x.example", notify_never, true}};
    h.feed("220 mx\r\n");
    h.feed(ehlo_pipelining);
    command_options options;
    options.offer.dsn = true;
    std::string_view wire = h.wire;
    std::size_t lines = 0;
    while (!wire.empty()) {
        const std::size_t end = wire.find("\r\n");
        const std::string_view line = wire.substr(0, end);
        const command_result parsed = parse_command(line, options);
        INFO(std::string(line));
        CHECK(parsed.error == errc::ok);
        wire.remove_prefix(end + 2);
        ++lines;
    }
    CHECK(lines == 5); // EHLO, MAIL, RCPT, RCPT, DATA
}

TEST_CASE("S-5321-4.1.2-e: a minimally quoted local part is sent exactly as built", "[client]") {
    std::string address;
    REQUIRE(quote_local_part(address, "a b") == errc::ok);
    address += "@x.example";
    CHECK(address == "\"a b\"@x.example");
    harness* h = nullptr;
    CHECK(try_send(ehlo_pipelining, {"a@b.example"}, {{address}}, &h) == errc::ok);
    CHECK(h->wire.find("RCPT TO:<\"a b\"@x.example>\r\n") != std::string::npos);
}

TEST_CASE("client: queued events keep their views when the session is moved",
          "[client][lifetime]") {
    client_config c = basic_config();
    client_session s(c);
    smtpp_test::give(s, "220 mx\r\n");
    REQUIRE(s.next_event().kind == client_event_kind::greeting);
    (void)smtpp_test::take_output(s); // EHLO
    smtpp_test::give(s, "250-mx\r\n250 PIPELINING\r\n");
    while (s.next_event().kind != client_event_kind::ready) {}
    recipient to[2] = {recipient("a@x.example"), recipient("b@x.example")};
    REQUIRE(s.send_mail(envelope("s@x.example", to, 2)) == errc::ok);
    (void)smtpp_test::take_output(s);                       // MAIL, RCPT, RCPT, DATA
    smtpp_test::give(s, "250 ok\r\n250 ok\r\n421 bye\r\n"); // one reply, several queued events
    client_event first = s.next_event();
    REQUIRE(first.kind == client_event_kind::recipient_result);
    first = s.next_event();
    REQUIRE(first.kind == client_event_kind::recipient_result);
    client_session moved(std::move(s));
    const client_event e = moved.next_event();
    CHECK(e.kind == client_event_kind::message_result);
    CHECK(e.reply.raw == "421 bye\r\n");
    CHECK(e.reply.text() == "bye");
    CHECK(moved.server_capabilities().pipelining);
}

// ---- what an error event says (the session gave up) ----

namespace {

// Runs the scripted replies through a session, writing what it queued before each read, and
// returns its error events.
std::vector<client_event> error_events(const client_config& config,
                                       const std::vector<std::string_view>& replies) {
    client_session s(config);
    std::vector<client_event> errors;
    for (const std::string_view reply : replies) {
        (void)smtpp_test::take_output(s);
        smtpp_test::give(s, reply);
        for (client_event e = s.next_event(); e.kind != client_event_kind::need_data;
             e = s.next_event()) {
            if (e.kind == client_event_kind::error) errors.push_back(e);
            if (e.kind == client_event_kind::closed) return errors;
        }
    }
    return errors;
}

} // namespace

TEST_CASE("client: an error event is never a success; a 5yz behind it is permanent",
          "[client][error]") {
    // RFC 3207 6: TLS required but not offered (no reply to blame): temporary.
    auto e =
        error_events(tls_config(tls_mode::required), {"220 mx\r\n", "250-mx\r\n250 8BITMIME\r\n"});
    REQUIRE(e.size() == 1);
    CHECK(e[0].error == errc::tls_required);
    CHECK(e[0].result == outcome::temporary);
    // 454 to STARTTLS with TLS required: temporary.
    e = error_events(tls_config(tls_mode::required), {"220 mx\r\n", "250-mx\r\n250 STARTTLS\r\n",
                                                      "454 4.7.0 TLS not available\r\n"});
    REQUIRE(e.size() == 1);
    CHECK(e[0].result == outcome::temporary);
    CHECK(e[0].reply.code == 454);
    // 535 to AUTH: the same credentials fail again: permanent.
    e = error_events(auth_config({"PLAIN"}), {"220 mx\r\n", "250-mx\r\n250 AUTH PLAIN\r\n",
                                              "535 5.7.8 bad credentials\r\n"});
    REQUIRE(e.size() == 1);
    CHECK(e[0].error == errc::auth_failed);
    CHECK(e[0].result == outcome::permanent);
    // No common mechanism: nothing the server said, temporary.
    e = error_events(auth_config({"PLAIN"}), {"220 mx\r\n", "250-mx\r\n250 AUTH CRAM-MD5\r\n"});
    REQUIRE(e.size() == 1);
    CHECK(e[0].result == outcome::temporary);
}

TEST_CASE("RFC 5321 4.2 textstring: a reply with NUL ends the session; other controls are "
          "marked and the reply acted on by its code",
          "[client][replies]") {
    harness nul(basic_config());
    nul.feed(std::string("220 mx\0 ready\r\n", 15));
    CHECK(nul.log == "closed 220 [" + std::string(to_string(errc::bad_reply_text)) + "]\n");
    CHECK(nul.wire.empty());

    client_session s(basic_config());
    smtpp_test::give(s, "220 mx \x1b[2J ready\r\n");
    const client_event greeting = s.next_event();
    REQUIRE(greeting.kind == client_event_kind::greeting);
    CHECK(greeting.reply.controls);
    std::string logged;
    smtpp::append_printable(logged, greeting.reply.text());
    CHECK(logged == "mx \\x1B[2J ready"); // what a log line should get
    CHECK(smtpp_test::take_output(s) == "EHLO client.example\r\n");
    smtpp_test::give(s, "250-mx\r\n250 PIPELINING\r\n");
    while (s.next_event().kind != client_event_kind::ready) {}
    recipient to[2] = {recipient("a@x.example"), recipient("b@x.example")};
    REQUIRE(s.send_mail(envelope("s@x.example", to, 2)) == errc::ok);
    (void)smtpp_test::take_output(s);
    smtpp_test::give(s, "250 ok\r\n550 5.1.1 no \x7f\x07 such user\r\n250 ok\r\n");
    client_event r0 = s.next_event();
    REQUIRE(r0.kind == client_event_kind::recipient_result);
    CHECK(r0.result == outcome::permanent);
    CHECK(r0.reply.controls);
    const client_event r1 = s.next_event();
    REQUIRE(r1.kind == client_event_kind::recipient_result);
    CHECK(r1.result == outcome::success);
    CHECK_FALSE(r1.reply.controls);
}

TEST_CASE("S-5321-4.5.3.2: the reply wait starts again once its command is written in full",
          "[client][timeout]") {
    client_session s(basic_config());
    smtpp_test::give(s, "220 mx\r\n");
    REQUIRE(s.next_event().kind == client_event_kind::greeting);
    const smtpp::wait_state queued = s.waiting(); // EHLO queued, not written
    CHECK(queued.phase == smtpp::wait_phase::reply);
    const std::string_view ehlo = s.pending_output();
    s.consume_output(4); // a slow write: part of it
    CHECK(s.waiting().serial == queued.serial);
    s.consume_output(ehlo.size() - 4); // the rest: the server has the command now
    const smtpp::wait_state written = s.waiting();
    CHECK(written.phase == smtpp::wait_phase::reply);
    CHECK(written.serial != queued.serial);
    CHECK(written.timeout == std::chrono::minutes(5));
}
