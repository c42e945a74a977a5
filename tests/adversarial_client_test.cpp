// Hostile servers against client_session: response injection around STARTTLS ("NO STARTTLS",
// Poddebniak et al., USENIX Security 2021; RFC 3207 4.2), malformed and endless replies
// (RFC 5321 4.2, 4.5.3.1.5), unsolicited replies and 421 (RFC 5321 3.8), a connection lost at
// every point of a transaction, and command injection through the caller's own strings.
// Every server script is fed whole, byte by byte and split at every index; all must agree.
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

// The text describe() shows for an error: tests compare errc values, not prose.
std::string why(errc e) { return to_string(e); }

std::string describe(const client_event& e) {
    std::string s = to_string(e.kind);
    if (e.kind == client_event_kind::recipient_result ||
        e.kind == client_event_kind::message_result) {
        s += " " + std::to_string(e.recipient) + " " + to_string(e.result);
    }
    if (e.reply.code != 0) s += " " + std::to_string(e.reply.code);
    if (e.error != errc::ok) s += std::string(" [") + to_string(e.error) + "]";
    return s;
}

// Plays the application: sends one message when ready, the body when asked, QUIT after.
struct client_harness {
    explicit client_harness(client_config config) : session(std::move(config)) {}

    client_session session;
    std::string wire;
    std::string log;
    std::vector<recipient> to{{"bob@example.org"}, {"carol@example.org"}};
    bool send_message = true;
    bool auto_tls = true;
    bool auto_quit = true;
    bool closed_seen = false;

    void pump() {
        for (int guard = 0; guard < 100000 && !closed_seen; ++guard) {
            const client_event e = session.next_event();
            if (e.kind == client_event_kind::need_data) break;
            log += describe(e) + "\n";
            act(e);
            closed_seen = e.kind == client_event_kind::closed;
        }
        wire += smtpp_test::take_output(session);
    }

    void act(const client_event& e) {
        switch (e.kind) {
        case client_event_kind::ready:
            if (send_message) {
                send_message = false;
                REQUIRE(session.send_mail({"alice@example.com", to.data(), to.size()}) == errc::ok);
            } else if (auto_quit) {
                REQUIRE(session.quit() == errc::ok);
            }
            break;
        case client_event_kind::send_body:
            REQUIRE(session.send_body("Subject: t\r\n\r\nhello\r\n") == errc::ok);
            REQUIRE(session.end_body() == errc::ok);
            break;
        case client_event_kind::tls_handshake:
            if (auto_tls) REQUIRE(session.tls_established() == errc::ok);
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
    void eof() {
        session.receive_eof();
        pump();
    }
};

client_config plain_config() {
    client_config c;
    c.helo_name = "client.example";
    c.tls = tls_mode::never;
    return c;
}

client_config tls_config(tls_mode mode) {
    client_config c = plain_config();
    c.tls = mode;
    return c;
}

struct client_run {
    std::string wire, log;
    bool closed = false;
    bool operator!=(const client_run& o) const {
        return wire != o.wire || log != o.log || closed != o.closed;
    }
};

std::string last_line(const std::string& log) {
    const std::size_t end = log.size() < 2 ? std::string::npos : log.rfind('\n', log.size() - 2);
    return end == std::string::npos ? log : log.substr(end + 1);
}

enum class at_end { nothing, eof, tls_established };

// Runs `server` through a fresh client cut every way (whole, in two at every index, byte by
// byte); every way must agree. With tls_established the handshake completes only once every
// piece is in, so all of them arrived before it. Returns the whole-input run.
client_run run_every_way(const client_config& config, std::string_view server,
                         at_end end = at_end::nothing) {
    const auto run = [&](const std::vector<std::string_view>& pieces) {
        client_harness h(config);
        h.auto_tls = end != at_end::tls_established;
        h.pump();
        for (const std::string_view piece : pieces) h.feed(piece);
        if (end == at_end::eof) h.eof();
        if (end == at_end::tls_established) {
            CHECK(h.session.tls_established() == errc::ok);
            h.pump();
        }
        return client_run{h.wire, h.log, h.session.is_closed()};
    };
    const long divergent = smtpp_test::first_divergent_split(server, run);
    CHECK(divergent == -1);
    return run({server});
}

const std::string ehlo_pipelining = "250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
const std::string ehlo_starttls = "250-mx.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n";

} // namespace

// ---- response injection around STARTTLS (RFC 3207 4.2) ----

TEST_CASE("NO STARTTLS / RFC 3207 4.2: bytes after the 220 in the same segment are discarded, "
          "never a reply to the EHLO after TLS",
          "[adversarial][client][tls]") {
    for (const std::string& injected :
         {std::string("250 fake\r\n"), std::string("250-fake\r\n250 AUTH PLAIN\r\n"),
          std::string("250-mx\r\n250 PIPELINING\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n"),
          std::string("421 4.7.0 go away\r\n"), std::string("250-partial")}) {
        INFO("injected: " << smtpp_test::escape(injected));
        const client_run r =
            run_every_way(tls_config(tls_mode::required),
                          "220 mx\r\n" + ehlo_starttls + "220 2.0.0 ready\r\n" + injected,
                          at_end::tls_established);
        INFO("log:\n" << r.log << "wire:\n" << smtpp_test::escape(r.wire));
        CHECK(r.log == "greeting 220\ntls_handshake 220\n");
        CHECK(r.wire == "EHLO client.example\r\nSTARTTLS\r\nEHLO client.example\r\n");
        CHECK_FALSE(r.closed);
    }
}

TEST_CASE("NO STARTTLS: injection in a later read during the handshake is dropped too",
          "[adversarial][client][tls]") {
    client_harness h(tls_config(tls_mode::required));
    h.auto_tls = false;
    h.pump();
    h.feed("220 mx\r\n" + ehlo_starttls + "220 ready\r\n");
    h.feed("250-mx\r\n250 AUTH PLAIN\r\n");
    h.feed("250 2.1.0 ok\r\n");
    CHECK_FALSE(h.session.wants_read());
    REQUIRE(h.session.tls_established() == errc::ok);
    h.pump();
    CHECK(h.log == "greeting 220\ntls_handshake 220\n");
    // The real post-TLS reply is read as the EHLO reply, and only it.
    h.feed("250-mx.example\r\n250 PIPELINING\r\n");
    CHECK(h.session.server_capabilities().pipelining);
    CHECK_FALSE(h.session.server_capabilities().auth);
    CHECK(h.log == "greeting 220\ntls_handshake 220\nready\n");
}

TEST_CASE("NO STARTTLS: a greeting-like line injected before STARTTLS never lets a "
          "TLS-required client send mail in plaintext",
          "[adversarial][client][tls]") {
    // The extra 220 is read as the EHLO reply: it offers nothing, so no STARTTLS.
    const client_run r =
        run_every_way(tls_config(tls_mode::required),
                      "220 mx\r\n220 mx.example ESMTP fake\r\n" + ehlo_starttls + "221 bye\r\n");
    INFO("log:\n" << r.log << "wire:\n" << smtpp_test::escape(r.wire));
    CHECK(r.wire == "EHLO client.example\r\nQUIT\r\n");
    CHECK(r.log.find("error [" + why(errc::tls_required) + "]") != std::string::npos);
    CHECK(r.log.find("ready") == std::string::npos);
    CHECK(r.wire.find("MAIL") == std::string::npos);
}

TEST_CASE("NO STARTTLS: a pre-sent 220 plus injected replies, all before the client's "
          "STARTTLS, never answer anything after TLS",
          "[adversarial][client][tls]") {
    // Everything arrives in one segment before the client even wrote STARTTLS.
    const client_run r = run_every_way(tls_config(tls_mode::opportunistic),
                                       "220 mx\r\n" + ehlo_starttls +
                                           "220 go\r\n250-mx\r\n250 PIPELINING\r\n"
                                           "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n",
                                       at_end::tls_established);
    INFO("log:\n" << r.log << "wire:\n" << smtpp_test::escape(r.wire));
    CHECK(r.wire == "EHLO client.example\r\nSTARTTLS\r\nEHLO client.example\r\n");
    CHECK(r.log == "greeting 220\ntls_handshake 220\n");
}

// ---- command injection through the caller's strings ----

TEST_CASE("client: CR, LF, NUL and other controls in addresses and ENVID are refused before "
          "any byte is queued",
          "[adversarial][client][refuse]") {
    const char* const poisons[] = {"\r\nRSET\r\n", "\r",   "\n", "\nDATA",
                                   "\x00",         "\x7F", "\t", "\x1B"};
    for (const char* const raw : poisons) {
        const std::string poison = raw[0] == '\0' ? std::string(1, '\0') : std::string(raw);
        INFO("poison " << smtpp_test::escape(poison));
        for (int where = 0; where < 4; ++where) {
            client_harness h(plain_config());
            h.send_message = false;
            h.pump();
            h.feed("220 mx\r\n250-mx\r\n250-PIPELINING\r\n250 DSN\r\n");
            // ready -> quit() was queued by the harness; take a fresh look from here.
            std::string sender = "a@b.example", rcpt = "c@d.example", envid = "id";
            if (where == 0) sender = "a" + poison + "@b.example";
            if (where == 1) rcpt = "c@d.example" + poison;
            if (where == 2) envid = "id" + poison;
            if (where == 3) sender = poison + "a@b.example";
            const recipient to{rcpt, notify_failure, true};
            envelope message{sender, &to, 1};
            message.envid = envid;
            const std::string before(h.session.pending_output());
            CHECK(h.session.send_mail(message) != errc::ok);
            CHECK(h.session.pending_output() == before);
        }
    }
}

TEST_CASE("client: a helo name or auth mechanism holding CR/LF never reaches the wire",
          "[adversarial][client][refuse]") {
    client_config bad_helo = plain_config();
    bad_helo.helo_name = "client.example\r\nMAIL FROM:<evil@x.example>";
    CHECK(bad_helo.validate() == errc::invalid_config);
    const client_run r = run_every_way(bad_helo, "220 mx\r\n");
    INFO("log:\n" << r.log << "wire:\n" << smtpp_test::escape(r.wire));
    CHECK(r.wire == "");
    CHECK(r.log == "closed [" + why(errc::invalid_config) + "]\n");

    // A mechanism name outside RFC 4422 3.1 (CRLF, spaces, over 20 characters) makes the
    // configuration invalid: nothing is sent at all.
    for (const std::string name :
         {"X\r\nMAIL FROM:<evil@x.example>", "X Y", "", "ABCDEFGHIJKLMNOPQRSTU"}) {
        client_config bad_mech = plain_config();
        bad_mech.auth_mechanisms = {name};
        bad_mech.auth_requires_tls = false;
        CHECK(bad_mech.validate() == errc::invalid_config);
        const client_run m =
            run_every_way(bad_mech, "220 mx\r\n250-mx\r\n250 AUTH X\r\n221 bye\r\n");
        INFO("log:\n" << m.log << "wire:\n" << smtpp_test::escape(m.wire));
        CHECK(m.wire == "");
        CHECK(m.log == "closed [" + why(errc::invalid_config) + "]\n");
    }
}

// ---- malformed replies (RFC 5321 4.2) ----

TEST_CASE("RFC 5321 4.2: wrong reply codes are fatal; nothing more is sent",
          "[adversarial][client]") {
    struct bad_reply {
        std::string text;
        errc error;
    };
    // Mixed codes are an error only when read strictly (client_config::lenient_mixed_reply_codes
    // off); by default the last line decides (client_hostile_server_test.cpp).
    const bad_reply cases[] = {
        {"250-a\r\n251 b\r\n", errc::reply_code_mismatch},
        {"250-a\r\n550 b\r\n", errc::reply_code_mismatch},
        {"250-a\r\n250-b\r\n2500 c\r\n", errc::bad_reply_code},
        {"250x\r\n", errc::bad_reply_code},
        {"2500\r\n", errc::bad_reply_code},
        {"25\r\n", errc::bad_reply_code},
        {"\r\n", errc::bad_reply_code},
        {"250\tok\r\n", errc::bad_reply_code},
        {"25 ok\r\n", errc::bad_reply_code},
        {"-250 ok\r\n", errc::bad_reply_code},
        {" 250 ok\r\n", errc::bad_reply_code},
        {"650 ok\r\n", errc::bad_reply_code},
        {"190 ok\r\n", errc::bad_reply_code},
        {"099 ok\r\n", errc::bad_reply_code},
        {std::string("250\0 ok\r\n", 9), errc::bad_reply_code},
        {"2\xC5"
         "0 ok\r\n",
         errc::bad_reply_code},
    };
    for (const bad_reply& c : cases) {
        const std::string& reply = c.text;
        INFO("reply to EHLO: " << smtpp_test::escape(reply));
        client_config strict = plain_config();
        strict.lenient_mixed_reply_codes = false;
        const client_run r = run_every_way(strict, "220 mx\r\n" + reply + "250 ok\r\n");
        INFO("log:\n" << r.log << "wire:\n" << smtpp_test::escape(r.wire));
        CHECK(r.log == "greeting 220\nclosed [" + why(c.error) + "]\n");
        CHECK(r.wire == "EHLO client.example\r\n");
        CHECK(r.closed);
    }
}

TEST_CASE("RFC 5321 4.2: code-only lines end a reply; a second digit above 5 is read by its "
          "first digit",
          "[adversarial][client]") {
    const client_run bare = run_every_way(
        plain_config(), "220\r\n250-mx\r\n250\r\n250\r\n250\r\n250\r\n354\r\n250\r\n221\r\n");
    INFO("log:\n" << bare.log << "wire:\n" << smtpp_test::escape(bare.wire));
    CHECK(bare.log ==
          "greeting 220\nready\nrecipient_result 0 success 250\nrecipient_result 1 success 250\n"
          "send_body\nmessage_result 0 success 250\nready\nclosed 221\n");
    // 260 and 299 are outside the Reply-code ABNF but read as 2yz (RFC 5321 4.2).
    const client_run odd =
        run_every_way(plain_config(), "220 mx\r\n260 mx\r\n299 ok\r\n270 ok\r\n");
    INFO("log:\n" << odd.log << "wire:\n" << smtpp_test::escape(odd.wire));
    CHECK(odd.log == "greeting 220\nready\nrecipient_result 0 success 270\n"); // 299 answered MAIL
}

TEST_CASE("S-5321-4.5.3.1.5-a: an over-long reply line is fatal as soon as it is proven, even "
          "without CRLF; a 334 may be as long as an AUTH line",
          "[adversarial][client]") {
    // At the RFC's 512 (client_config::reply_line_limit reads 2048 by default).
    client_config rfc_limit = plain_config();
    rfc_limit.reply_line_limit = 512;
    const client_run exact = run_every_way(rfc_limit, "220 " + std::string(506, 'x') + "\r\n");
    INFO("log:\n" << exact.log << "wire:\n" << smtpp_test::escape(exact.wire));
    CHECK(exact.log == "greeting 220\n");
    const client_run over = run_every_way(rfc_limit, "220 " + std::string(507, 'x') + "\r\n");
    INFO("log:\n" << over.log << "wire:\n" << smtpp_test::escape(over.wire));
    CHECK(over.log == "closed [" + why(errc::reply_line_too_long) + "]\n");
    CHECK(over.wire == "");

    // The line is never finished: the error comes once 512 octets without CRLF are in.
    client_harness h(rfc_limit);
    h.pump();
    h.feed("220 ");
    for (int i = 0; i < 507; ++i) h.feed("y");
    CHECK(h.log == "");
    h.feed("y");
    INFO("log:\n" << h.log);
    CHECK(h.log == "closed [" + why(errc::reply_line_too_long) + "]\n");
    h.feed(std::string(100000, 'y')); // ignored once closed
    CHECK(h.log == "closed [" + why(errc::reply_line_too_long) + "]\n");

    // A 334 challenge of 12000 characters is within the AUTH line limit (RFC 4954 4).
    client_config c = plain_config();
    c.auth_mechanisms = {"X-TOKEN"};
    c.auth_requires_tls = false; // a bearer token in the clear: only for this test
    client_harness a(c);
    a.pump();
    a.feed("220 mx\r\n250-mx\r\n250 AUTH X-TOKEN\r\n334 " + std::string(12000, 'A') + "\r\n");
    CHECK(a.log == "greeting 220\nauth_challenge 334\n");
}

TEST_CASE("client: an endless multi-line reply stops at reply_lines with a defined error",
          "[adversarial][client]") {
    for (const std::string& opener : {std::string("220-"), std::string("250-")}) {
        client_harness h(plain_config());
        h.pump();
        if (opener == "250-") h.feed("220 mx\r\n");
        const std::string before = h.log;
        const std::string line = opener + "x\r\n";
        std::string chunk;
        for (int i = 0; i < 100; ++i) chunk += line;
        for (int i = 0; i < 100 && !h.session.is_closed(); ++i) h.feed(chunk);
        CHECK(h.log == before + "closed [" + why(errc::too_many_reply_lines) + "]\n");
        CHECK(h.session.is_closed());
    }
}

// ---- unsolicited replies and 421 (RFC 5321 3.8) ----

TEST_CASE("client: an extra reply during a pipelined group never lets the body out without 354",
          "[adversarial][client]") {
    const client_run r =
        run_every_way(plain_config(), "220 mx\r\n" + ehlo_pipelining +
                                          "250 ok\r\n250 ok\r\n250 ok\r\n250 extra\r\n354 go\r\n");
    INFO("log:\n" << r.log << "wire:\n" << smtpp_test::escape(r.wire));
    CHECK(r.log.find("send_body") == std::string::npos);
    CHECK(r.wire.find("hello") == std::string::npos);
    // The 250 meant for DATA answers nothing: the message fails as temporary (retried, never
    // lost) and the session ends (RFC 5321 4.2.1, 4.3.2).
    CHECK(r.log.find("message_result 0 temporary 250 [" + why(errc::unexpected_reply) + "]") !=
          std::string::npos);
    CHECK(r.log.find("closed") != std::string::npos);
}

TEST_CASE("client: an unsolicited reply while idle is fatal, never matched to a later "
          "command",
          "[adversarial][client]") {
    // The message is delivered and the client is idle: a stray 354 must not open a body.
    for (const std::string stray :
         {"354 go on\r\n", "250 ok\r\n", "221 bye\r\n", "235 2.7.0 ok\r\n"}) {
        INFO("stray reply " << smtpp_test::escape(stray));
        client_harness h(plain_config());
        h.auto_quit = false;
        h.pump();
        h.feed("220 mx\r\n" + ehlo_pipelining +
               "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n");
        REQUIRE(h.session.is_ready());
        const std::string wire = h.wire;
        const std::string log = h.log;
        h.feed(stray);
        CHECK(h.log.substr(log.size()) ==
              "closed " + stray.substr(0, 3) + " [" + why(errc::unexpected_reply) + "]\n");
        CHECK(h.wire == wire);
        CHECK(h.session.send_mail({"alice@example.com", h.to.data(), h.to.size()}) ==
              errc::invalid_state);
    }
}

TEST_CASE("client: replies after the 221 to QUIT are ignored, never taken for a command",
          "[adversarial][client]") {
    client_harness h(plain_config());
    h.send_message = false;
    h.pump();
    h.feed("220 mx\r\n250 mx\r\n");
    const std::string wire_before = h.wire;
    h.feed("221 bye\r\n250 more\r\n");
    CHECK(h.log == "greeting 220\nready\nclosed 221\n");
    CHECK(h.wire == wire_before);
    h.feed("250 after close\r\n");
    CHECK(h.log == "greeting 220\nready\nclosed 221\n");
}

TEST_CASE("S-5321-3.8-c: 421 at every point fails what is pending as temporary and closes",
          "[adversarial][client]") {
    // The replies of one whole session, one per line.
    const std::vector<std::string> replies = {
        "220 mx\r\n",       ehlo_pipelining, "250 2.1.0 ok\r\n",     "250 2.1.5 ok\r\n",
        "250 2.1.5 ok\r\n", "354 go\r\n",    "250 2.0.0 queued\r\n", "221 bye\r\n"};
    for (std::size_t at = 0; at < replies.size(); ++at) {
        std::string server;
        for (std::size_t i = 0; i < at; ++i) server += replies[i];
        server += "421 4.3.2 shutting down\r\n250 never read\r\n";
        INFO("421 instead of reply " << at);
        const client_run r = run_every_way(plain_config(), server);
        INFO("log:\n" << r.log << "wire:\n" << smtpp_test::escape(r.wire));
        CHECK(r.closed);
        const bool before_quit = at + 1 < replies.size();
        if (before_quit) {
            CHECK(last_line(r.log) == "closed 421 [" + why(errc::service_closing) + "]\n");
        } else {
            CHECK(last_line(r.log) == "closed 421\n"); // 421 to QUIT is fine
        }
        const bool started = at >= 2;
        const bool delivered = at == 7;
        CHECK((r.log.find("message_result") != std::string::npos) == started);
        CHECK((r.log.find("message_result 0 success") != std::string::npos) == delivered);
        if (started && !delivered) {
            CHECK(r.log.find("message_result 0 temporary 421 [" + why(errc::service_closing) +
                             "]") != std::string::npos);
        }
        CHECK(r.log.find("never") == std::string::npos);
    }
}

TEST_CASE("S-5321-3.8-c: the connection lost at every octet of a transaction ends it in a "
          "defined way",
          "[adversarial][client]") {
    const std::string server =
        "220 mx\r\n" + ehlo_pipelining +
        "250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n354 go\r\n250 2.0.0 queued\r\n221 bye\r\n";
    const std::size_t queued_end = server.find("221 bye");
    for (std::size_t cut = 0; cut <= server.size(); ++cut) {
        INFO("EOF after " << cut << " octets");
        client_harness h(plain_config());
        h.pump();
        h.feed(std::string_view(server).substr(0, cut));
        h.eof();
        CHECK(h.session.is_closed());
        const std::string& log = h.log;
        INFO("log:\n" << log);
        REQUIRE(log.size() >= 7);
        const std::string last = last_line(log);
        const bool started = log.find("ready") != std::string::npos;
        const bool delivered = cut >= queued_end;
        if (cut == server.size()) {
            CHECK(last == "closed 221\n");
        } else if (delivered) {
            CHECK(last == "closed\n"); // QUIT was sent: losing its reply is a normal end
        } else if (started) {
            CHECK(last == "closed [" + why(errc::peer_closed_early) + "]\n");
            CHECK(log.find("message_result 0 temporary [" + why(errc::peer_closed_early) + "]") !=
                  std::string::npos);
        } else {
            CHECK(last == "closed [" + why(errc::peer_closed_early) + "]\n"); // a reply was due
        }
        // Never reported delivered without the 250 to the end of data.
        CHECK((log.find("message_result 0 success") != std::string::npos) == delivered);
        // Exactly one message result once the transaction began.
        std::size_t results = 0;
        for (std::size_t p = log.find("message_result"); p != std::string::npos;
             p = log.find("message_result", p + 1))
            ++results;
        CHECK(results == (started ? 1u : 0u));
    }
}
