// A hostile or broken server must never turn into a false delivery report, a leaked credential
// or a hung sender. Each misbehaviour is fed whole, split at every index and byte by byte;
// every way must give the same events and the same bytes on the wire.
//   RFC 5321 4.2, 4.2.1, 4.3.2: only the reply class a command allows completes it;
//   RFC 4954 4, RFC 7628 3.2: no credential in the clear when TLS is required for AUTH;
//   RFC 3030 2, 4.2: BDAT without PIPELINING waits for each reply, the last chunk too.
#include <smtpp/client_session.hpp>

#include "server_transcript.hpp" // escape()
#include "session_helpers.hpp"
#include "smtpp_catch.hpp"
#include "split_grind.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

using namespace smtpp;

namespace {

std::string why(errc e) { return to_string(e); }

std::string describe(const client_event& e) {
    std::string s = to_string(e.kind);
    if (e.kind == client_event_kind::recipient_result ||
        e.kind == client_event_kind::message_result)
        s += " " + std::to_string(e.recipient) + " " + to_string(e.result);
    if (e.reply.code != 0) s += " " + std::to_string(e.reply.code);
    if (e.error != errc::ok) s += std::string(" [") + to_string(e.error) + "]";
    if (e.kind == client_event_kind::auth_challenge) s += " " + smtpp_test::escape(e.challenge);
    return s;
}

// The application: one message when ready (its body in `body_pieces`), QUIT after it;
// caller-driven SASL answered with "token".
struct harness {
    explicit harness(client_config config) : session(std::move(config)) {}

    client_session session;
    std::string wire, log;
    std::vector<recipient> to{{"bob@example.org"}};
    std::vector<std::string> body_pieces{"Subject: t\r\n\r\nhello\r\n"};
    std::vector<errc> body_results; // what send_body()/end_body() returned
    bool sent = false;
    bool closed = false;
    bool auto_body = true; // answer send_body with body_pieces and end_body()

    void pump() {
        for (int guard = 0; guard < 100000 && !closed; ++guard) {
            const client_event e = session.next_event();
            if (e.kind == client_event_kind::need_data) break;
            log += describe(e) + "\n";
            act(e);
            closed = e.kind == client_event_kind::closed;
        }
        wire += smtpp_test::take_output(session);
    }

    void act(const client_event& e) {
        switch (e.kind) {
        case client_event_kind::ready:
            if (!sent) {
                sent = true;
                REQUIRE(session.send_mail({"alice@example.com", to.data(), to.size()}) == errc::ok);
            } else {
                REQUIRE(session.quit() == errc::ok);
            }
            break;
        case client_event_kind::send_body:
            if (!auto_body) break;
            for (const std::string& piece : body_pieces)
                body_results.push_back(session.send_body(piece));
            body_results.push_back(session.end_body());
            break;
        case client_event_kind::tls_handshake:
            REQUIRE(session.tls_established() == errc::ok);
            break;
        case client_event_kind::auth_challenge:
            REQUIRE(session.auth_respond("token") == errc::ok);
            break;
        default:
            break;
        }
    }

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
};

struct run_result {
    std::string wire, log;
    bool operator!=(const run_result& o) const { return wire != o.wire || log != o.log; }
};

template <class Setup>
run_result run_every_way(const client_config& config, std::string_view server, Setup setup) {
    const auto run = [&](const std::vector<std::string_view>& pieces) {
        harness h(config);
        setup(h);
        h.pump();
        for (const std::string_view piece : pieces) h.feed(piece);
        return run_result{h.wire, h.log};
    };
    CHECK(smtpp_test::first_divergent_split(server, run) == -1);
    return run({server});
}

run_result run_every_way(const client_config& config, std::string_view server) {
    return run_every_way(config, server, [](harness&) {});
}

client_config plain() {
    client_config c;
    c.helo_name = "client.example";
    c.tls = tls_mode::never;
    return c;
}

const std::string ehlo_pipelining = "250-mx.example\r\n250 PIPELINING\r\n";
const std::string ehlo_chunking = "250-mx.example\r\n250-PIPELINING\r\n250 CHUNKING\r\n";

bool has(const std::string& log, const std::string& line) {
    return log.find(line + "\n") != std::string::npos;
}

} // namespace

// ---- issue: a 3yz counted as delivery ----

TEST_CASE("RFC 5321 4.3.2: a 354 (or 300) after the final dot is not a delivery: temporary "
          "failure, QUIT, and the 554 after it is never read",
          "[client][hostile][replies]") {
    for (const std::string intermediate : {"354 again\r\n", "300 what\r\n"}) {
        INFO(smtpp_test::escape(intermediate));
        const run_result r = run_every_way(
            plain(), "220 mx\r\n" + ehlo_pipelining + "250 ok\r\n250 ok\r\n354 go\r\n" +
                         intermediate + "554 5.6.0 rejected after all\r\n");
        INFO("log:\n" << r.log);
        const std::string code = intermediate.substr(0, 3);
        CHECK(has(r.log,
                  "message_result 0 temporary " + code + " [" + why(errc::unexpected_reply) + "]"));
        CHECK(has(r.log, "closed " + code + " [" + why(errc::unexpected_reply) + "]"));
        CHECK(r.log.find("success " + code) == std::string::npos);
        CHECK(r.log.find("554") == std::string::npos);
        CHECK(r.wire.size() >= 6);
        CHECK(r.wire.compare(r.wire.size() - 6, 6, "QUIT\r\n") == 0);
    }
}

TEST_CASE("RFC 3030 2: a 3yz to BDAT LAST is not a delivery", "[client][hostile][replies][bdat]") {
    client_config c = plain();
    c.use_chunking = true;
    const run_result r =
        run_every_way(c, "220 mx\r\n" + ehlo_chunking + "250 ok\r\n250 ok\r\n354 more?\r\n");
    INFO("log:\n" << r.log);
    CHECK(has(r.log, "message_result 0 temporary 354 [" + why(errc::unexpected_reply) + "]"));
    CHECK(r.log.find("success 354") == std::string::npos);
}

TEST_CASE("RFC 2033 4.2: a 3yz among LMTP per-recipient replies fails that recipient and the "
          "rest as temporary; the ones already in stay",
          "[client][hostile][replies][lmtp]") {
    client_config c = plain();
    c.lmtp = true;
    const run_result r =
        run_every_way(c,
                      "220 mx\r\n250-mx\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n250 ok\r\n"
                      "250 ok\r\n354 go\r\n250 2.0.0 first stored\r\n354 second?\r\n"
                      "250 third\r\n",
                      [](harness& h) {
                          h.to = {{"a@example.org"}, {"b@example.org"}, {"c@example.org"}};
                      });
    INFO("log:\n" << r.log);
    CHECK(has(r.log, "message_result 0 success 250"));
    CHECK(has(r.log, "message_result 1 temporary 354 [" + why(errc::unexpected_reply) + "]"));
    CHECK(has(r.log, "message_result 2 temporary 354 [" + why(errc::unexpected_reply) + "]"));
    CHECK(r.log.find("third") == std::string::npos);
}

TEST_CASE("RFC 5321 4.3.2: a 3yz to RCPT or MAIL is not an acceptance",
          "[client][hostile][replies]") {
    const run_result rcpt =
        run_every_way(plain(), "220 mx\r\n" + ehlo_pipelining + "250 ok\r\n354 sure\r\n354 go\r\n");
    INFO("log:\n" << rcpt.log);
    CHECK(has(rcpt.log, "recipient_result 0 temporary 354 [" + why(errc::unexpected_reply) + "]"));
    CHECK(rcpt.log.find("send_body") == std::string::npos);
    const run_result mail =
        run_every_way(plain(), "220 mx\r\n" + ehlo_pipelining + "334 what\r\n250 ok\r\n354 go\r\n");
    INFO("log:\n" << mail.log);
    CHECK(mail.log.find("success") == std::string::npos);
    CHECK(has(mail.log, "message_result 0 temporary 334 [" + why(errc::unexpected_reply) + "]"));
}

TEST_CASE("RFC 5321 4.2: codes the RFC does not list are read by their first digit",
          "[client][replies]") {
    // 251 (forwarding) and an unlisted 299 complete RCPT; the 2yz class is what matters.
    const run_result r = run_every_way(
        plain(), "220 mx\r\n" + ehlo_pipelining + "250 ok\r\n251 fwd\r\n354 go\r\n299 fine\r\n",
        [](harness& h) { h.to = {{"a@example.org"}}; });
    INFO("log:\n" << r.log);
    CHECK(has(r.log, "recipient_result 0 success 251"));
    CHECK(has(r.log, "message_result 0 success 299"));
}

TEST_CASE("RFC 5321 4.1.1.5: a refused RSET leaves the server's state unknown: the session ends",
          "[client][hostile][replies]") {
    const run_result r =
        run_every_way(plain(), "220 mx\r\n" + ehlo_pipelining +
                                   "550 no\r\n503 no\r\n503 no\r\n500 no RSET for you\r\n");
    INFO("log:\n" << r.log << smtpp_test::escape(r.wire));
    CHECK(has(r.log, "closed 500 [" + why(errc::unexpected_reply) + "]"));
}

TEST_CASE("RFC 5321 4.1.1.10: a reply to QUIT other than 2yz (or 421) is reported",
          "[client][hostile][replies]") {
    client_config c = plain();
    const std::string session =
        "220 mx\r\n" + ehlo_pipelining + "250 ok\r\n250 ok\r\n354 go\r\n250 ok\r\n";
    const run_result refused = run_every_way(c, session + "554 no\r\n");
    CHECK(has(refused.log, "closed 554 [" + why(errc::unexpected_reply) + "]"));
    const run_result fine = run_every_way(c, session + "221 bye\r\n");
    CHECK(has(fine.log, "closed 221"));
    const run_result closing = run_every_way(c, session + "421 going away\r\n");
    CHECK(has(closing.log, "closed 421"));
}

// ---- caller-driven SASL after a STARTTLS strip ----

TEST_CASE("RFC 7628 3.2, RFC 4954 4: with auth_requires_tls no mechanism that carries a "
          "credential runs in the clear after STARTTLS was stripped or refused",
          "[client][hostile][auth][tls]") {
    for (const std::string mechanism :
         {"XOAUTH2", "OAUTHBEARER", "PLAIN", "LOGIN", "SCRAM-SHA-256"}) {
        client_config c = plain();
        c.tls = tls_mode::opportunistic;
        c.auth_mechanisms = {mechanism};
        c.credentials.username = "u";
        c.credentials.password = "p";
        INFO(mechanism);
        // STARTTLS missing from the EHLO reply (stripped by an attacker).
        const run_result stripped = run_every_way(c, "220 mx\r\n250-mx\r\n250 AUTH " + mechanism +
                                                         "\r\n334 \r\n235 ok\r\n");
        CHECK(stripped.wire.find("AUTH") == std::string::npos);
        CHECK(has(stripped.log, "error [" + why(errc::tls_required) + "]"));
        // STARTTLS offered but answered 454.
        const run_result refused =
            run_every_way(c, "220 mx\r\n250-mx\r\n250-STARTTLS\r\n250 AUTH " + mechanism +
                                 "\r\n454 4.7.0 not now\r\n334 \r\n235 ok\r\n");
        CHECK(refused.wire.find("AUTH") == std::string::npos);
        CHECK(has(refused.log, "error [" + why(errc::tls_required) + "]"));
    }
}

TEST_CASE("RFC 4422 A: EXTERNAL and ANONYMOUS carry no credential and may run in the clear",
          "[client][auth]") {
    for (const std::string mechanism : {"EXTERNAL", "ANONYMOUS"}) {
        client_config c = plain();
        c.auth_mechanisms = {mechanism};
        const run_result r = run_every_way(c, "220 mx\r\n250-mx\r\n250 AUTH " + mechanism +
                                                  "\r\n334 \r\n235 ok\r\n");
        CHECK(r.wire.find("AUTH " + mechanism + "\r\n") != std::string::npos);
        CHECK(has(r.log, "authenticated 235"));
    }
}

// ---- BDAT without PIPELINING, and after a refused chunk ----

TEST_CASE(
    "RFC 3030 2, 4.2: without PIPELINING, BDAT LAST waits for the reply to the chunk before it",
    "[client][bdat]") {
    client_config c = plain();
    c.use_chunking = true;
    harness h(c);
    h.body_pieces = {"Subject: t\r\n\r\nhello\r\n"};
    h.pump();
    h.feed("220 mx\r\n250-mx\r\n250 CHUNKING\r\n");
    h.feed("250 ok\r\n");
    h.feed("250 ok\r\n");
    CHECK(h.wire.find("BDAT 21\r\nSubject: t\r\n\r\nhello\r\n") != std::string::npos);
    CHECK(h.wire.find("LAST") == std::string::npos); // not before the chunk's reply
    const std::size_t before = h.wire.size();
    h.feed("250 2.0.0 chunk ok\r\n");
    CHECK(h.wire.substr(before) == "BDAT 0 LAST\r\n");
    h.feed("250 2.0.0 queued\r\n");
    CHECK(has(h.log, "message_result 0 success 250"));
}

TEST_CASE("RFC 3030 2: once a chunk is refused no more chunk is produced; send_body says so",
          "[client][bdat]") {
    client_config c = plain();
    c.use_chunking = true;
    harness h(c);
    h.auto_body = false;
    h.pump();
    h.feed("220 mx\r\n" + ehlo_chunking + "250 ok\r\n250 ok\r\n");
    REQUIRE(h.session.send_body(std::string(900, 'a') + "\r\n") == errc::ok);
    h.pump();
    const std::size_t before = h.wire.size();
    h.feed("552 5.3.4 too big\r\n");
    CHECK(has(h.log, "message_result 0 permanent 552"));
    CHECK(h.wire.substr(before) == "RSET\r\n");
    CHECK(h.session.send_body("more\r\n") == errc::invalid_state);
    CHECK(h.session.end_body() == errc::invalid_state);
    h.pump();
    CHECK(h.wire.substr(before) == "RSET\r\n");
}

// ---- liberal reading where it is safe ----

TEST_CASE("RFC 5321 4.5.3.1.5: reply lines up to client_config::reply_line_limit (2048) are read",
          "[client][replies]") {
    const std::string long_refusal = "550 5.1.1 " + std::string(2036, 'x') + "\r\n"; // 2048 octets
    REQUIRE(long_refusal.size() == 2048);
    const run_result r = run_every_way(plain(), "220 mx\r\n" + ehlo_pipelining + "250 ok\r\n" +
                                                    long_refusal + "250 reset\r\n");
    CHECK(has(r.log, "recipient_result 0 permanent 550"));
    const std::string too_long = "550 5.1.1 " + std::string(2037, 'x') + "\r\n";
    const run_result fatal =
        run_every_way(plain(), "220 mx\r\n" + ehlo_pipelining + "250 ok\r\n" + too_long);
    CHECK(has(fatal.log, "closed [" + why(errc::reply_line_too_long) + "]"));
    CHECK(has(fatal.log, "recipient_result 0 temporary [" + why(errc::reply_line_too_long) + "]"));
}

// ---- AUTH round trips and LOGIN prompts ----

TEST_CASE("RFC 4954 4: a server that never ends the AUTH exchange gets '*' after "
          "max_auth_challenges",
          "[client][auth]") {
    client_config c = plain();
    c.auth_requires_tls = false;
    c.auth_mechanisms = {"X-ENDLESS"};
    c.max_auth_challenges = 3;
    std::string server = "220 mx\r\n250-mx\r\n250 AUTH X-ENDLESS\r\n";
    for (int i = 0; i < 4; ++i) server += "334 bW9yZQ==\r\n";
    server += "501 cancelled\r\n";
    const run_result r = run_every_way(c, server);
    INFO("log:\n" << r.log << smtpp_test::escape(r.wire));
    CHECK(r.wire == "EHLO client.example\r\nAUTH "
                    "X-ENDLESS\r\ndG9rZW4=\r\ndG9rZW4=\r\ndG9rZW4=\r\n*\r\nQUIT\r\n");
    CHECK(has(r.log, "error 501 [" + why(errc::auth_failed) + "]"));
}

TEST_CASE("LOGIN answers the prompt it is given, not the step", "[client][auth]") {
    client_config c = plain();
    c.auth_requires_tls = false;
    c.auth_mechanisms = {"LOGIN"};
    c.credentials.username = "alice";
    c.credentials.password = "secret";
    const std::string user = "YWxpY2U=", pass = "c2VjcmV0";
    SECTION("Password asked first: the password goes, never the user name in its place") {
        const run_result r = run_every_way(c, "220 mx\r\n250-mx\r\n250 AUTH LOGIN\r\n334 "
                                              "UGFzc3dvcmQ6\r\n334 VXNlcm5hbWU6\r\n235 ok\r\n");
        const std::string expected =
            "EHLO client.example\r\nAUTH LOGIN\r\n" + pass + "\r\n" + user + "\r\n";
        CHECK(r.wire.compare(0, expected.size(), expected) == 0);
    }
    SECTION("Username asked twice: the user name twice, the password never") {
        const run_result r = run_every_way(c, "220 mx\r\n250-mx\r\n250 AUTH LOGIN\r\n334 "
                                              "VXNlcm5hbWU6\r\n334 dXNlcm5hbWU6\r\n535 no\r\n");
        CHECK(r.wire.find(pass) == std::string::npos);
    }
    SECTION("Prompts it does not know are answered by position") {
        const run_result r = run_every_way(
            c, "220 mx\r\n250-mx\r\n250 AUTH LOGIN\r\n334 eA==\r\n334 eQ==\r\n235 ok\r\n");
        const std::string expected =
            "EHLO client.example\r\nAUTH LOGIN\r\n" + user + "\r\n" + pass + "\r\n";
        CHECK(r.wire.compare(0, expected.size(), expected) == 0);
    }
}

// ---- replies that answer nothing (RFC 5321 4.2: a reply follows its command) ----

namespace {

// Feeds `reads` as separate reads, with what the client queued written out (handed over by
// pending_output()) before each read only when `write_between` is set.
run_result read_without_writing(const client_config& config, const std::vector<std::string>& reads,
                                bool write_between) {
    harness h(config);
    h.pump();
    for (const std::string& bytes : reads) {
        if (write_between) h.wire += smtpp_test::take_output(h.session);
        smtpp_test::give(h.session, bytes);
        for (int guard = 0; guard < 1000 && !h.closed; ++guard) {
            const client_event e = h.session.next_event();
            if (e.kind == client_event_kind::need_data) break;
            h.log += describe(e) + "\n";
            h.act(e);
            h.closed = e.kind == client_event_kind::closed;
        }
    }
    h.wire += smtpp_test::take_output(h.session);
    return {h.wire, h.log};
}

} // namespace

TEST_CASE("RFC 5321 4.2: a reply in the greeting's read answers nothing and ends the session",
          "[client][hostile][replies]") {
    // The 250 was sent before the server could have seen EHLO: taken for the EHLO reply it
    // would shift every later reply onto the wrong command.
    const std::string_view whole = "220 mx\r\n250-mx\r\n250 PIPELINING\r\n";
    const std::string closed = "closed 250 [" + why(errc::unexpected_reply) + "]\n";
    for (std::size_t cut = 0; cut <= whole.size(); ++cut) {
        INFO("cut at " << cut);
        std::vector<std::string> reads{std::string(whole.substr(0, cut)),
                                       std::string(whole.substr(cut))};
        const run_result r = read_without_writing(plain(), reads, false);
        CHECK(r.log == "greeting 220\n" + closed);
        CHECK(r.wire.find("MAIL") == std::string::npos);
    }
    // Byte by byte, EHLO never handed out: the same.
    std::vector<std::string> bytes;
    for (const char c : whole) bytes.emplace_back(1, c);
    CHECK(read_without_writing(plain(), bytes, false).log == "greeting 220\n" + closed);
    // The same bytes after EHLO was handed out are its reply.
    const run_result fine =
        read_without_writing(plain(), {"220 mx\r\n", "250-mx\r\n250 PIPELINING\r\n"}, true);
    CHECK(fine.log.find("closed") == std::string::npos);
    CHECK(fine.wire.find("MAIL FROM:<alice@example.com>") != std::string::npos);
}

TEST_CASE("RFC 5321 4.2, RFC 2920 3.1: replies for a group not yet handed out answer nothing",
          "[client][hostile][replies]") {
    // The EHLO reply and, in the same read, replies for MAIL, RCPT and DATA that the client
    // has not sent: the first is EHLO's, the rest answer nothing.
    const run_result r = read_without_writing(
        plain(),
        {"220 mx\r\n", "250-mx\r\n250 PIPELINING\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n"},
        true);
    INFO(r.log);
    CHECK(r.log.find("closed 250 [" + why(errc::unexpected_reply) + "]") != std::string::npos);
    CHECK(r.log.find("recipient_result 0 temporary") != std::string::npos);
    CHECK(r.log.find("success") == std::string::npos);
    CHECK(r.wire.find("Subject") == std::string::npos); // no body without a 354 to a sent DATA
    // More replies than commands outstanding once everything was handed out: the same end.
    const run_result extra =
        read_without_writing(plain(),
                             {"220 mx\r\n", "250-mx\r\n250 PIPELINING\r\n",
                              "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n250 extra\r\n"},
                             true);
    INFO(extra.log);
    CHECK(extra.log.find("closed 250 [" + why(errc::unexpected_reply) + "]") != std::string::npos);
    CHECK(extra.log.find("message_result 0 success") == std::string::npos);
}
