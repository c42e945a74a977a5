// server_session: the properties transcripts cannot show (API misuse, asynchronous decisions,
// view lifetimes, bounded memory, allocations, large inputs), plus its private building blocks.
#include <smtpp/server_session.hpp>

#include "allocation_counter.hpp"
#include "server_transcript.hpp"
#include "smtpp_catch.hpp"
#include "split_grind.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using smtpp::errc;
using smtpp::server_event;
using kind = smtpp::server_event_kind;

namespace {

smtpp::server_config test_config() {
    smtpp::server_config c;
    c.hostname = "mx.example";
    return c;
}

// Feeds `input` in the given pieces, accepting every decision; returns output + event names.
struct driver {
    explicit driver(const smtpp::server_config& c) : s(c) {}

    void pump() {
        for (;;) {
            const server_event ev = s.next_event();
            if (ev.kind == kind::need_data || ev.kind == kind::closed || ev.kind == kind::start_tls) break;
            if (ev.kind == kind::output_full) {
                drain();
                continue;
            }
            if (ev.kind == kind::body_chunk) {
                body.append(ev.data.data(), ev.data.size());
            } else {
                events += smtpp::to_string(ev.kind);
                events += ' ';
            }
            if (smtpp::is_decision(ev.kind)) REQUIRE(s.accept() == errc::ok);
        }
        drain();
    }
    void feed(std::string_view bytes) {
        REQUIRE(s.receive(bytes) == errc::ok);
        pump();
    }
    void drain() {
        output.append(s.pending_output().data(), s.pending_output().size());
        s.consume_output(s.pending_output().size());
    }

    smtpp::server_session s;
    std::string output, events, body;
};

const std::string greeting = "220 mx.example ESMTP\r\n";
const std::string envelope = "HELO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\n";

std::string replies_of(const std::string& output) {
    std::string codes;
    for (std::size_t i = 0; i < output.size();) {
        const std::size_t eol = output.find("\r\n", i);
        codes += output.substr(i, 4);
        i = eol + 2;
    }
    return codes;
}

} // namespace

TEST_CASE("an invalid config gives a session that is closed at once", "[server][config]") {
    smtpp::server_config c = test_config();
    c.limit.message_size = 10;
    smtpp::server_session s(c);
    const server_event ev = s.next_event();
    CHECK(ev.kind == kind::closed);
    CHECK(ev.error == errc::invalid_config);
    CHECK(s.is_closed());
    CHECK(s.receive("NOOP\r\n") == errc::connection_closed);
}

TEST_CASE("S-5321-4.5.3.2-a: the server waits at least 5 minutes for the client", "[server][api]") {
    STATIC_REQUIRE(smtpp::server_session::timeout_seconds() >= 300);
}

// ---- API misuse and reply validation ----

TEST_CASE("decisions outside a decision event are invalid_state and change nothing", "[server][api]") {
    smtpp::server_session s(test_config());
    CHECK(s.accept() == errc::invalid_state);
    CHECK(s.reject(550, {5, 0, 0}, "x") == errc::invalid_state);
    CHECK(s.challenge("x") == errc::invalid_state);
    CHECK(s.tls_established() == errc::invalid_state);
    CHECK(s.pending_output().empty());
    CHECK(s.next_event().kind == kind::connect);
    CHECK(s.next_event().kind == kind::awaiting_decision);
    CHECK(s.challenge("x") == errc::invalid_state);
}

TEST_CASE("S-5321-4.2-b, S-5321-4.2-i, S-2034-4-b: bad reply codes or texts are refused", "[server][api]") {
    smtpp::server_session s(test_config());
    REQUIRE(s.next_event().kind == kind::connect);
    REQUIRE(s.accept() == errc::ok);
    REQUIRE(s.receive("VRFY bob\r\n") == errc::ok);
    REQUIRE(s.next_event().kind == kind::vrfy);
    const std::size_t before = s.pending_output().size();
    CHECK(s.reply(600, {}, "x") == errc::bad_reply_code);
    CHECK(s.reply(199, {}, "x") == errc::bad_reply_code);
    CHECK(s.reply(261, {}, "x") == errc::bad_reply_code);
    CHECK(s.reply(354, {}, "x") == errc::bad_reply_code); // 3xx is not an answer to VRFY
    CHECK(s.reply(250, {}, "ok\r\n250 injected") == errc::bad_reply_text);
    CHECK(s.reply(250, {}, std::string_view("a\0b", 3)) == errc::bad_reply_text);
    CHECK(s.reply(451, {5, 1, 1}, "x") == errc::bad_enhanced_status);
    CHECK(s.reject(250, {2, 0, 0}, "x") == errc::bad_reply_code);
    CHECK(s.reply_lines(250, {}, nullptr, 0) == errc::invalid_argument);
    CHECK(s.pending_output().size() == before);
    CHECK(s.reply(250, {2, 1, 5}, "Bob <bob@x.example>") == errc::ok);
    CHECK(s.pending_output().substr(before) == "250 2.1.5 Bob <bob@x.example>\r\n");
}

TEST_CASE("S-6531-3.7.4.1-a, S-6531-3.7.4.2-b: no non-ASCII text in replies", "[server][api]") {
    smtpp::server_session s(test_config());
    REQUIRE(s.next_event().kind == kind::connect);
    REQUIRE(s.accept() == errc::ok);
    REQUIRE(s.receive("VRFY j\xC3\xB8\r\n") == errc::ok);
    REQUIRE(s.next_event().kind == kind::vrfy);
    CHECK(s.reply(251, {2, 1, 5}, "User not local; will forward to <j\xC3\xB8@x.example>") == errc::bad_reply_text);
    CHECK(s.reply(250, {2, 1, 5}, "<jo@x.example>") == errc::ok);
    // With VRFY ... SMTPUTF8 a UTF-8 answer is allowed (RFC 6531 3.7.4.2).
    REQUIRE(s.receive("VRFY j\xC3\xB8 SMTPUTF8\r\n") == errc::ok);
    REQUIRE(s.next_event().kind == kind::vrfy);
    CHECK(s.reply(250, {2, 1, 5}, "<j\xC3\xB8@x.example>") == errc::ok);
}

TEST_CASE("S-5321-4.5.3.1.5-a: a long caller text is wrapped, never sent as an over-long line", "[server][api]") {
    smtpp::server_session s(test_config());
    REQUIRE(s.next_event().kind == kind::connect);
    REQUIRE(s.accept() == errc::ok);
    REQUIRE(s.receive("HELP\r\n") == errc::ok);
    REQUIRE(s.next_event().kind == kind::help);
    s.consume_output(s.pending_output().size());
    std::string text;
    for (int i = 0; i < 200; ++i) text += "word ";
    REQUIRE(s.reply(214, {2, 0, 0}, text) == errc::ok);
    const std::string out(s.pending_output());
    std::size_t start = 0, lines = 0;
    for (std::size_t eol; (eol = out.find("\r\n", start)) != std::string::npos; start = eol + 2, ++lines) {
        CHECK(eol + 2 - start <= 512);
        const bool last = eol + 2 == out.size();
        CHECK(out.compare(start, 10, last ? "214 2.0.0 " : "214-2.0.0 ") == 0);
    }
    CHECK(lines >= 2);
}

TEST_CASE("S-2034-4-c: a multi-line reply carries the same status on every line", "[server][api]") {
    smtpp::server_session s(test_config());
    REQUIRE(s.next_event().kind == kind::connect);
    REQUIRE(s.accept() == errc::ok);
    REQUIRE(s.receive("HELO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\n") == errc::ok);
    REQUIRE(s.next_event().kind == kind::hello);
    REQUIRE(s.accept() == errc::ok);
    REQUIRE(s.next_event().kind == kind::mail);
    REQUIRE(s.accept() == errc::ok);
    REQUIRE(s.next_event().kind == kind::rcpt);
    s.consume_output(s.pending_output().size());
    const std::string_view lines[] = {"a", "b"};
    REQUIRE(s.reply_lines(550, {5, 1, 1}, lines, 2) == errc::ok);
    CHECK(s.pending_output() == "550-5.1.1 a\r\n550 5.1.1 b\r\n");
}

TEST_CASE("receive() takes nothing while earlier bytes are unread", "[server][api]") {
    smtpp::server_session s(test_config());
    REQUIRE(s.next_event().kind == kind::connect);
    REQUIRE(s.accept() == errc::ok);
    REQUIRE(s.receive("VRFY a\r\nNOOP\r\n") == errc::ok);
    CHECK_FALSE(s.wants_read());
    CHECK(s.receive("NOOP\r\n") == errc::invalid_state);
    REQUIRE(s.next_event().kind == kind::vrfy);
    REQUIRE(s.accept() == errc::ok);
    CHECK(s.next_event().kind == kind::need_data);
    CHECK(s.wants_read());
    CHECK(s.receive("NOOP\r\n") == errc::ok);
    s.receive_eof();
    CHECK(s.receive("x") == errc::invalid_state);
}

// ---- sequencing ----

TEST_CASE("S-2920-3.2-a: a decision taken later, after more pipelined input arrived", "[server][async]") {
    smtpp::server_session s(test_config());
    REQUIRE(s.next_event().kind == kind::connect);
    REQUIRE(s.accept() == errc::ok);
    REQUIRE(s.receive("HELO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\n") == errc::ok);
    REQUIRE(s.next_event().kind == kind::hello);
    REQUIRE(s.accept() == errc::ok);
    REQUIRE(s.next_event().kind == kind::mail);
    REQUIRE(s.accept() == errc::ok);
    const server_event rcpt = s.next_event();
    REQUIRE(rcpt.kind == kind::rcpt);
    // The policy check is slow; meanwhile the client pipelines more.
    CHECK(s.wants_read());
    REQUIRE(s.receive("NOOP\r\nDATA\r\n") == errc::ok);
    CHECK(s.next_event().kind == kind::awaiting_decision);
    const std::size_t before = s.pending_output().size();
    CHECK(s.next_event().kind == kind::awaiting_decision);
    CHECK(s.pending_output().size() == before); // the NOOP is not answered ahead of RCPT
    REQUIRE(s.accept() == errc::ok);
    CHECK(s.next_event().kind == kind::data);
    REQUIRE(s.accept() == errc::ok);
    CHECK(replies_of(std::string(s.pending_output())) == "220 250 250 250 250 354 ");
}

TEST_CASE("S-2920-3.2-c: a MAIL reply is output before more input arrives", "[server][async]") {
    driver d(test_config());
    d.pump();
    d.feed("HELO c.example\r\nMAIL FROM:<a@b.example>\r\n");
    CHECK(replies_of(d.output) == "220 250 250 ");
}

TEST_CASE("S-2033-5-c: LMTP per-recipient replies leave as soon as each is decided", "[server][lmtp]") {
    smtpp::server_config c = test_config();
    c.lmtp = true;
    driver d(c);
    d.pump();
    d.feed("LHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nRCPT TO:<z@y.example>\r\nDATA\r\n");
    REQUIRE(d.s.receive("hi\r\n.\r\n") == errc::ok);
    server_event ev = d.s.next_event();
    REQUIRE(ev.kind == kind::body_chunk);
    ev = d.s.next_event();
    REQUIRE(ev.kind == kind::message_end);
    CHECK(ev.recipient_index == 0);
    CHECK(ev.recipient_count == 2);
    d.drain();
    REQUIRE(d.s.accept() == errc::ok);
    CHECK(d.s.pending_output() == "250 2.0.0 Message accepted\r\n"); // before rcpt 2 is decided
    ev = d.s.next_event();
    REQUIRE(ev.kind == kind::message_end);
    CHECK(ev.recipient_index == 1);
    REQUIRE(d.s.reject(450, {4, 2, 1}, "Try later") == errc::ok);
    CHECK(d.s.pending_output() == "250 2.0.0 Message accepted\r\n450 4.2.1 Try later\r\n");
}

TEST_CASE("S-5321-4.5.3.1.8-a: 100 recipients are accepted and kept", "[server][limits]") {
    driver d(test_config());
    d.pump();
    std::string input = "HELO c\r\nMAIL FROM:<a@b.example>\r\n";
    for (int i = 0; i < 100; ++i) input += "RCPT TO:<r" + std::to_string(i) + "@y.example>\r\n";
    input += "DATA\r\n.\r\n";
    d.feed(input);
    CHECK(d.s.accepted_recipients() == 0); // the transaction ended with the message
    std::string expected = "220 250 250 ";
    for (int i = 0; i < 100; ++i) expected += "250 ";
    expected += "354 250 ";
    CHECK(replies_of(d.output) == expected);
}

// ---- every command in every state ----

TEST_CASE("S-5321-4.1.4-b..g, S-3030-2-d: the (state, command) -> first reply table", "[server][states]") {
    // Columns: fresh (greeted, no EHLO), after EHLO, after MAIL, after RCPT, between BDAT
    // chunks, and refused (554 greeting). "---": no reply.
    struct row {
        const char* command;
        const char* expected[6];
    };
    static const row table[] = {
        {"HELO c\r\n", {"250", "250", "250", "250", "250", "503"}},
        {"EHLO c\r\n", {"250", "250", "250", "250", "250", "503"}},
        {"LHLO c\r\n", {"500", "500", "500", "500", "500", "503"}},
        {"MAIL FROM:<a@b.example>\r\n", {"503", "250", "503", "503", "503", "503"}},
        {"RCPT TO:<x@y.example>\r\n", {"503", "503", "250", "250", "503", "503"}},
        {"DATA\r\n", {"503", "503", "503", "354", "503", "503"}},
        {"BDAT 1\r\nx", {"503", "503", "503", "250", "250", "503"}},
        {"BDAT 1 LAST\r\nx", {"503", "503", "503", "250", "250", "503"}},
        {"RSET\r\n", {"250", "250", "250", "250", "250", "503"}},
        {"NOOP\r\n", {"250", "250", "250", "250", "250", "503"}},
        {"VRFY x\r\n", {"252", "252", "252", "252", "252", "503"}},
        {"EXPN x\r\n", {"502", "502", "502", "502", "502", "503"}},
        {"HELP\r\n", {"214", "214", "214", "214", "214", "503"}},
        // RFC 3207 4.2: a transaction opened before TLS is not carried across it.
        {"STARTTLS\r\n", {"220", "220", "503", "503", "503", "503"}},
        {"AUTH PLAIN AHVzZXIAcGFzcw==\r\n", {"503", "235", "503", "503", "503", "503"}},
        {"TURN\r\n", {"502", "502", "502", "502", "502", "503"}},
        {"FROB\r\n", {"500", "500", "500", "500", "500", "503"}},
        {"QUIT\r\n", {"221", "221", "221", "221", "221", "221"}},
    };
    const char* const prefixes[6] = {
        "", "EHLO c\r\n", "EHLO c\r\nMAIL FROM:<a@b.example>\r\n",
        "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\n",
        "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nBDAT 1\r\nx", ""};
    smtpp::server_config c = test_config();
    c.chunking = c.starttls = true;
    c.auth_mechanisms = "PLAIN";
    c.plaintext_auth_requires_tls = false;
    for (const row& r : table) {
        for (int state = 0; state < 6; ++state) {
            INFO(r.command << " in state " << state);
            smtpp::server_session s(c);
            REQUIRE(s.next_event().kind == kind::connect);
            if (state == 5) REQUIRE(s.reject(554, {}, "mx.example no service") == errc::ok);
            else REQUIRE(s.accept() == errc::ok);
            const auto settle = [&] {
                for (;;) {
                    const server_event ev = s.next_event();
                    if (!smtpp::is_decision(ev.kind) && ev.kind != kind::body_chunk &&
                        ev.kind != kind::transaction_reset && ev.kind != kind::protocol_error) {
                        break;
                    }
                    if (smtpp::is_decision(ev.kind)) REQUIRE(s.accept() == errc::ok);
                }
            };
            REQUIRE(s.receive(prefixes[state]) == errc::ok);
            settle();
            s.consume_output(s.pending_output().size());
            const std::string command = r.command;
            REQUIRE(s.receive(command) == errc::ok);
            settle();
            const std::string out(s.pending_output());
            CHECK(out.substr(0, 3) == std::string(r.expected[state]));
            CHECK(std::count(out.begin(), out.end(), '\n') >= 1);
        }
    }
}

// ---- views ----

TEST_CASE("views in events stay valid until the next mutating call", "[server][lifetime]") {
    smtpp::server_session s(test_config());
    REQUIRE(s.next_event().kind == kind::connect);
    REQUIRE(s.accept() == errc::ok);
    // A line completed across two feeds lives in the session's tail buffer.
    std::string part1 = "HELO c.example\r\nMAIL FROM:<alice@b.exa";
    std::string part2 = "mple>\r\n";
    REQUIRE(s.receive(part1) == errc::ok);
    REQUIRE(s.next_event().kind == kind::hello);
    REQUIRE(s.accept() == errc::ok);
    REQUIRE(s.next_event().kind == kind::need_data);
    part1.assign(part1.size(), '#'); // the caller may reuse its buffer after need_data
    REQUIRE(s.receive(part2) == errc::ok);
    const server_event ev = s.next_event();
    REQUIRE(ev.kind == kind::mail);
    const std::string_view path = ev.cmd->address.text;
    // Const queries are not mutating calls.
    CHECK(s.wants_write());
    CHECK(s.pending_output().size() > 0);
    CHECK(path == "<alice@b.example>");
    CHECK(ev.cmd->address.box.local_part == "alice");
    // Body chunks of a whole feed are views into the caller's bytes (zero-copy).
    REQUIRE(s.accept() == errc::ok);
    REQUIRE(s.next_event().kind == kind::need_data);
    const std::string more = "RCPT TO:<x@y.example>\r\nDATA\r\n";
    REQUIRE(s.receive(more) == errc::ok);
    REQUIRE(s.next_event().kind == kind::rcpt);
    REQUIRE(s.accept() == errc::ok);
    REQUIRE(s.next_event().kind == kind::data);
    REQUIRE(s.accept() == errc::ok);
    REQUIRE(s.next_event().kind == kind::need_data);
    const std::string body = "Hello\r\n.\r\n";
    REQUIRE(s.receive(body) == errc::ok);
    const server_event chunk = s.next_event();
    REQUIRE(chunk.kind == kind::body_chunk);
    CHECK(chunk.data == "Hello\r\n");
    CHECK(chunk.data.data() >= body.data());
    CHECK(chunk.data.data() < body.data() + body.size());
}

// ---- bounded memory ----

TEST_CASE("output backpressure: a peer that never reads cannot grow server memory", "[server][limits]") {
    smtpp::server_config c = test_config();
    c.limit.output_buffer = 4096;
    smtpp::server_session s(c);
    REQUIRE(s.next_event().kind == kind::connect);
    REQUIRE(s.accept() == errc::ok);
    std::string flood;
    for (int i = 0; i < 20000; ++i) flood += "NOOP\r\n";
    REQUIRE(s.receive(flood) == errc::ok);
    const server_event ev = s.next_event();
    CHECK(ev.kind == kind::output_full);
    CHECK_FALSE(s.wants_read());
    CHECK(s.pending_output().size() >= 4096);
    CHECK(s.pending_output().size() < 4096 + 64);
    CHECK(s.heap_bytes() < 16384);
    CHECK(s.next_event().kind == kind::output_full); // still blocked, nothing processed
    std::size_t written = 0;
    for (int guard = 0; guard < 100000; ++guard) {
        written += s.pending_output().size();
        s.consume_output(s.pending_output().size());
        const server_event next = s.next_event();
        if (next.kind == kind::need_data) break;
        REQUIRE(next.kind == kind::output_full);
        CHECK(s.heap_bytes() < 16384);
    }
    written += s.pending_output().size();
    CHECK(written == 22 + 20000 * std::string("250 2.0.0 OK\r\n").size());
}

TEST_CASE("S-5321-4.5.3.1.4-b: an endless line is skipped with bounded memory", "[server][limits]") {
    smtpp::server_session s(test_config());
    REQUIRE(s.next_event().kind == kind::connect);
    REQUIRE(s.accept() == errc::ok);
    const std::string junk(4096, 'x');
    for (int i = 0; i < 256; ++i) { // 1 MiB without a line end
        REQUIRE(s.receive(junk) == errc::ok);
        REQUIRE(s.next_event().kind == kind::need_data);
        CHECK(s.heap_bytes() < 4096);
    }
    REQUIRE(s.receive("\r\nNOOP\r\n") == errc::ok);
    const server_event ev = s.next_event();
    CHECK(ev.kind == kind::protocol_error);
    CHECK(ev.error == errc::line_too_long);
    CHECK(s.next_event().kind == kind::need_data);
    CHECK(replies_of(std::string(s.pending_output())) == "220 500 250 ");
}

TEST_CASE("a full transaction after the first allocates nothing; size and idle heap", "[server][alloc]") {
    smtpp::server_config c = test_config();
    c.chunking = true;
    driver d(c);
    d.pump();
    d.feed("EHLO c.example\r\n");
    const std::string txn = "MAIL FROM:<a@b.example> SIZE=100\r\nRCPT TO:<x@y.example>\r\n"
                            "RCPT TO:<z@y.example>\r\nDATA\r\nSubject: x\r\n\r\n..body\r\n.\r\n"
                            "MAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nBDAT 5 LAST\r\nhello";
    const std::string split_a = txn.substr(0, 50), split_b = txn.substr(50);
    d.feed(txn); // the first transaction may reserve buffers
    d.feed(split_a);
    d.feed(split_b);
    d.output.reserve(d.output.size() + 4096);
    d.output.clear();
    d.events.reserve(1024);
    d.body.reserve(1024);
    d.events.clear();
    d.body.clear();
    const std::size_t allocations = smtpp_test::allocations_during([&] {
        d.feed(txn);
        d.feed(split_a);
        d.feed(split_b);
    });
    CHECK(allocations == 0);
    CHECK(replies_of(d.output) == "250 250 250 354 250 250 250 250 250 250 250 354 250 250 250 250 ");
    d.feed("QUIT\r\n");
    std::printf("sizeof(server_session) = %zu bytes; heap while idle = %zu bytes", sizeof(smtpp::server_session),
                d.s.heap_bytes());
    d.s.release_idle_memory();
    std::printf(" (%zu after release_idle_memory)\n", d.s.heap_bytes());
    CHECK(d.s.heap_bytes() <= 1024);
}

TEST_CASE("idle heap of a fresh session after a greeting and EHLO", "[server][alloc]") {
    driver d(test_config());
    d.pump();
    d.feed("EHLO c.example\r\n");
    std::printf("idle after EHLO: %zu heap bytes\n", d.s.heap_bytes());
    CHECK(d.s.heap_bytes() <= 1024);
}

TEST_CASE("heap held by an active session: at most 4 KiB, fed in any pieces", "[server][alloc]") {
    // A busy transaction: 100 pipelined recipients, a 64 KiB body with 998-octet lines and
    // dots, fed in 1-, 7- and 4096-octet pieces; the session reads input in place, so only a
    // line cut by a piece boundary and the unsent replies occupy its heap.
    std::string txn = "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n";
    for (int i = 0; i < 100; ++i) txn += "RCPT TO:<user" + std::to_string(i) + "@y.example>\r\n";
    txn += "DATA\r\n";
    while (txn.size() < 70000) txn += "." + std::string(996, 'x') + "\r\n";
    txn += ".\r\nQUIT\r\n";
    for (const std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
        driver d(test_config());
        d.pump();
        std::size_t peak = 0;
        for (std::size_t at = 0; at < txn.size(); at += piece) {
            d.feed(std::string_view(txn).substr(at, piece));
            peak = std::max(peak, d.s.heap_bytes());
        }
        INFO("piece " << piece << ": peak heap " << peak);
        CHECK(replies_of(d.output).substr(replies_of(d.output).size() - 8) == "250 221 ");
        CHECK(peak <= 4096);
        if (piece == 1) std::printf("active session, fed byte by byte: peak heap %zu bytes\n", peak);
    }
}

// ---- large inputs, with a sampled split grind ----

namespace {
// Runs `input` whole, byte by byte and split at `cuts` sampled points; returns the first
// differing result or the common one.
std::string grind(const smtpp::server_config& c, const std::string& input, std::string& whole) {
    const auto run = [&](const std::vector<std::string_view>& pieces) {
        driver d(c);
        d.pump();
        for (const auto piece : pieces) d.feed(piece);
        return d.output + "|" + d.events + "|" + std::to_string(d.body.size());
    };
    whole = run({input});
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < input.size(); ++i) bytes.push_back(std::string_view(input).substr(i, 1));
    if (run(bytes) != whole) return "byte by byte";
    for (std::size_t cut = 1; cut < input.size(); cut += 997) {
        if (run({std::string_view(input).substr(0, cut), std::string_view(input).substr(cut)}) != whole) {
            return "cut " + std::to_string(cut);
        }
    }
    return "";
}
} // namespace

TEST_CASE("S-5321-4.5.3.1.7-a: a 65536-octet body with the defaults -> 250", "[server][limits]") {
    std::string body;
    while (body.size() < 65536) body += std::string(62, 'a') + "\r\n";
    std::string whole;
    CHECK(grind(test_config(), envelope + "DATA\r\n" + body + ".\r\n", whole) == "");
    CHECK(whole.substr(0, whole.find('|')) == greeting + "250 mx.example\r\n250 2.1.0 Sender OK\r\n"
                                               "250 2.1.5 Recipient OK\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
                                               "250 2.0.0 Message accepted\r\n");
}

TEST_CASE("S-1870-4-a, S-5321-4.5.3.1.6-a: over-size body read to the end, then 552", "[server][limits]") {
    smtpp::server_config c = test_config();
    c.limit.message_size = 65536;
    std::string body = std::string(998, 'x') + "\r\n." + std::string(998, 'y') + "\r\n";
    while (body.size() < 70000) body += std::string(62, 'a') + "\r\n";
    std::string whole;
    CHECK(grind(c, envelope + "DATA\r\n" + body + ".\r\nNOOP\r\n", whole) == "");
    CHECK(whole.find("354 End data with <CR><LF>.<CR><LF>\r\n552 5.3.4 Message size exceeds fixed maximum "
                     "message size\r\n250 2.0.0 OK\r\n") != std::string::npos);
    CHECK(whole.find("transaction_reset") != std::string::npos);
    CHECK(whole.find("message_end") == std::string::npos);
    CHECK(whole.substr(whole.rfind('|') + 1) == "65536"); // nothing past the limit was delivered
}

TEST_CASE("S-5321-4.5.3.1.6-a: 1000-octet data lines are accepted", "[server][limits]") {
    driver d(test_config());
    d.pump();
    d.feed(envelope + "DATA\r\n" + std::string(998, 'x') + "\r\n." + std::string(998, 'y') + "\r\n.\r\n");
    CHECK(replies_of(d.output) == "220 250 250 250 354 250 ");
    CHECK(d.body.size() == 2000);
}

TEST_CASE("S-4954-4-k: 12288-octet auth lines accepted, longer -> 500 5.5.6", "[server][auth]") {
    smtpp::server_config c = test_config();
    c.auth_mechanisms = "PLAIN";
    c.plaintext_auth_requires_tls = false;
    std::string user(9000, 'u');
    std::string message = std::string(1, '\0') + user + std::string(1, '\0') + "pw";
    std::string response;
    smtpp::base64_encode_append(message, response);
    REQUIRE(response.size() + 2 <= 12288);
    std::string whole;
    CHECK(grind(c, "EHLO c\r\nAUTH PLAIN\r\n" + response + "\r\n", whole) == "");
    CHECK(whole.find("235 2.7.0") != std::string::npos);
    const std::string too_long(12300, 'A');
    CHECK(grind(c, "EHLO c\r\nAUTH PLAIN\r\n" + too_long + "\r\nNOOP\r\n", whole) == "");
    CHECK(whole.find("334 \r\n500 5.5.6 Authentication line too long\r\n250 2.0.0 OK\r\n") != std::string::npos);
}

TEST_CASE("S-3030-3-d, S-5321-4.5.2-d: random bodies arrive byte-exact", "[server][data]") {
    smtpp::server_config c = test_config();
    c.chunking = c.binarymime = true;
    std::mt19937 rng(5321);
    std::string binary(5000, '\0');
    for (char& ch : binary) ch = static_cast<char>(rng() & 0xff);
    driver d(c);
    d.pump();
    d.feed("EHLO c\r\nMAIL FROM:<a@b.example> BODY=BINARYMIME\r\nRCPT TO:<x@y.example>\r\nBDAT 5000 LAST\r\n" +
           binary);
    CHECK(d.body == binary);
    // 7-bit text with controls through DATA, dot-stuffed by the test.
    std::string text;
    for (int line = 0; line < 200; ++line) {
        const std::size_t n = rng() % 80;
        for (std::size_t i = 0; i < n; ++i) {
            char ch = static_cast<char>(rng() % 128);
            if (ch == '\r' || ch == '\n' || ch == '\0') ch = '.';
            text.push_back(ch);
        }
        text += "\r\n";
    }
    std::string wire;
    bool line_start = true;
    for (const char ch : text) {
        if (line_start && ch == '.') wire.push_back('.');
        wire.push_back(ch);
        line_start = ch == '\n';
    }
    driver t(c);
    t.pump();
    t.feed(envelope + "DATA\r\n" + wire + ".\r\n");
    CHECK(t.body == text);
    CHECK(replies_of(t.output) == "220 250 250 250 354 250 ");
}

TEST_CASE("S-3207-4.2-a: bytes received between STARTTLS and the handshake are dropped", "[server][tls]") {
    smtpp::server_config c = test_config();
    c.starttls = true;
    driver d(c);
    d.pump();
    d.feed("EHLO c\r\nSTARTTLS\r\nMAIL FROM:<evil@b.example>\r\n");
    CHECK(d.s.next_event().kind == kind::start_tls);
    CHECK_FALSE(d.s.wants_read());
    CHECK(d.s.receive("RCPT TO:<evil@b.example>\r\n") == errc::ok); // taken and dropped
    REQUIRE(d.s.tls_established() == errc::ok);
    CHECK(d.s.tls_active());
    d.feed("NOOP\r\n");
    CHECK(replies_of(d.output) == "220 250-250-250-250-250-250-250 220 250 ");
}

TEST_CASE("EOF while waiting for the TLS handshake closes the session (fuzz server_session-1)",
          "[server][tls]") {
    smtpp::server_config c = test_config();
    c.starttls = true;
    driver d(c);
    d.pump();
    d.feed("EHLO c\r\nSTARTTLS\r\n");
    CHECK(d.s.next_event().kind == kind::start_tls);
    d.s.receive_eof(); // the client left instead of starting TLS
    const server_event ev = d.s.next_event();
    CHECK(ev.kind == kind::closed);
    CHECK(ev.error == errc::peer_closed_early);
    CHECK(d.s.is_closed());
    CHECK(d.s.next_event().kind == kind::closed);
    CHECK(d.s.tls_established() == errc::invalid_state);
}

TEST_CASE("shutdown() while a decision is pending cancels it", "[server][close]") {
    driver d(test_config());
    d.pump();
    REQUIRE(d.s.receive(envelope) == errc::ok);
    REQUIRE(d.s.next_event().kind == kind::hello);
    d.s.shutdown();
    CHECK(d.s.accept() == errc::invalid_state);
    CHECK(d.s.is_closed());
    CHECK(d.s.next_event().kind == kind::closed);
    CHECK(d.output == greeting);
    CHECK(d.s.pending_output() == "421 4.3.2 Service shutting down, closing connection\r\n");
}

// ---- the private building blocks ----

TEST_CASE("output_buffer: partial consumption, compaction and reuse", "[server][detail]") {
    smtpp::detail::output_buffer b;
    CHECK(b.empty());
    b.append("hello ");
    b.append("world");
    b.consume(3);
    CHECK(b.pending() == "lo world");
    b.consume(100);
    CHECK(b.empty());
    for (int i = 0; i < 100; ++i) b.append("0123456789");
    const std::size_t heap = b.heap_bytes();
    const auto n = smtpp_test::allocations_during([&] {
        for (int round = 0; round < 1000; ++round) {
            b.consume(7);
            b.append("abcdefg");
        }
    });
    CHECK(n == 0);
    CHECK(b.heap_bytes() == heap);
    CHECK(b.size() == 1000);
    b.clear();
    b.release_if_empty();
    CHECK(b.heap_bytes() == 0);
}

TEST_CASE("line_framer: CRLF only, bare LF inside, over-long lines, any split", "[server][detail]") {
    const std::string input = "A\r\nB\nC\r\n" + std::string(600, 'x') + "\r\nD\r\r\nE\r\n";
    const auto run = [](const std::vector<std::string_view>& pieces) {
        smtpp::detail::line_framer f;
        std::string out;
        for (const auto piece : pieces) {
            REQUIRE(f.feed(piece) == errc::ok);
            for (;;) {
                const smtpp::detail::frame fr = f.next(512, false);
                if (fr.status == smtpp::detail::frame_status::need_more) break;
                if (fr.status == smtpp::detail::frame_status::too_long) out += "[long]";
                else out += "[" + smtpp_test::escape(fr.text) + (fr.bare_lf ? " bare" : "") + "]";
            }
        }
        return out;
    };
    CHECK(run({input}) == "[A][B\\nC bare][long][D\\r][E]");
    CHECK(smtpp_test::first_divergent_split(input, run) == -1);
}

TEST_CASE("random command soup: valid replies, bounded memory, no crash", "[server][robust]") {
    static const char* const words[] = {
        "EHLO c\r\n", "HELO c\r\n", "LHLO c\r\n", "MAIL FROM:<a@b.example>\r\n", "MAIL FROM:<>\r\n",
        "RCPT TO:<x@y.example>\r\n", "RCPT TO:<\xC3\xB8@y.example>\r\n", "DATA\r\n", "body\r\n",
        ".\r\n", "..x\r\n", "\n.\n", "BDAT 3\r\n", "BDAT 2 LAST\r\n", "abc", "RSET\r\n", "NOOP x\r\n",
        "VRFY a\r\n", "EXPN a\r\n", "HELP\r\n", "STARTTLS\r\n", "AUTH PLAIN\r\n", "AUTH LOGIN\r\n",
        "AHVzZXIAcGFzcw==\r\n", "*\r\n", "AUTH FOO\r\n", "FROB\r\n", "\x00\xff\r\n", "\r\n", "\r",
        "\n", "QUIT\r\n", "MAIL FROM:<a@b.example> SIZE=99999999999\r\n", "BDAT 0 LAST\r\n"};
    std::mt19937 rng(2920);
    for (int round = 0; round < 300; ++round) {
        smtpp::server_config c = test_config();
        c.chunking = (rng() & 1) != 0;
        c.lmtp = (rng() & 3) == 0;
        c.starttls = (rng() & 1) != 0;
        c.auth_mechanisms = "PLAIN LOGIN";
        c.plaintext_auth_requires_tls = (rng() & 1) != 0;
        c.lenient_bare_lf_commands = (rng() & 3) == 0;
        c.limit.output_buffer = 256;
        smtpp::server_session s(c);
        std::string input;
        for (int i = 0; i < 60; ++i) input += words[rng() % (sizeof words / sizeof words[0])];
        std::size_t fed = 0;
        std::string out;
        bool pending = false;
        for (int step = 0; step < 5000 && !s.is_closed(); ++step) {
            const server_event ev = s.next_event();
            if (ev.kind == kind::need_data) {
                if (fed == input.size()) {
                    s.receive_eof();
                    continue;
                }
                const std::size_t n = std::min<std::size_t>(1 + rng() % 40, input.size() - fed);
                REQUIRE(s.receive(std::string_view(input).substr(fed, n)) == errc::ok);
                fed += n;
            } else if (ev.kind == kind::start_tls) {
                REQUIRE(s.tls_established() == errc::ok);
            } else if (smtpp::is_decision(ev.kind) || (ev.kind == kind::awaiting_decision && pending)) {
                pending = true;
                const unsigned pick = rng() % 4;
                if (pick == 0) continue; // decide later
                const errc e = pick == 1 ? s.reject(550, {5, 7, 1}, "no") : s.accept();
                CHECK(e == errc::ok);
                pending = false;
            }
            CHECK(s.heap_bytes() <= 4096);
            if ((rng() & 3) == 0) {
                out += std::string(s.pending_output());
                s.consume_output(s.pending_output().size());
            }
        }
        out += std::string(s.pending_output());
        std::size_t start = 0;
        for (std::size_t eol; (eol = out.find("\r\n", start)) != std::string::npos; start = eol + 2) {
            const std::string line = out.substr(start, eol - start);
            REQUIRE(line.size() >= 3);
            CHECK(smtpp::is_valid_reply_code(std::atoi(line.substr(0, 3).c_str())));
            CHECK((line.size() == 3 || line[3] == ' ' || line[3] == '-'));
            CHECK(line.find('\r') == std::string::npos);
            CHECK(line.find('\n') == std::string::npos);
        }
        CHECK(start == out.size());
    }
}
