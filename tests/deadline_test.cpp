// RFC 5321 4.5.3.2 on both sides, against a virtual clock: the caller arms one timer per wait
// (when waiting().serial changes) and calls timeout_expired() when it fires, as every example
// does. Peers that trickle, stall or never finish get the defined outcome in bounded time.
#include <smtpp/client_session.hpp>
#include <smtpp/server_session.hpp>

#include "session_helpers.hpp"
#include "smtpp_catch.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace smtpp;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// The caller's timer: re-armed only when a new wait begins, never by arriving bytes.
template <class Session>
class virtual_timer {
public:
    explicit virtual_timer(Session& s) : session_(s) {}

    // Re-arms if a new wait began; call after every step the event loop takes.
    void observe(milliseconds now) {
        const wait_state w = session_.waiting();
        if (w.serial != serial_ || w.phase != phase_) {
            serial_ = w.serial;
            phase_ = w.phase;
            armed_at_ = now;
        }
        timeout_ = w.timeout;
    }
    [[nodiscard]] bool armed() const noexcept { return phase_ != wait_phase::none; }
    [[nodiscard]] milliseconds deadline() const noexcept { return armed_at_ + timeout_; }
    [[nodiscard]] wait_phase phase() const noexcept { return phase_; }

private:
    Session& session_;
    std::uint64_t serial_ = ~std::uint64_t{0};
    wait_phase phase_ = wait_phase::none;
    milliseconds armed_at_{0};
    milliseconds timeout_{0};
};

// Time passes on `run` (a server_run or client_run) until `at`; its timer fires first when due,
// as the caller's would: then the session has closed and the result is false.
template <class Run>
bool let_time_pass(Run& run, milliseconds at) {
    if (run.closed) return false;
    if (run.timer.armed() && run.timer.deadline() <= at) {
        run.now = run.timer.deadline();
        REQUIRE(run.session.timeout_expired() == errc::ok);
        run.pump();
        return false;
    }
    run.now = at;
    return true;
}

// ---- server ----

struct server_run {
    explicit server_run(const server_config& c) : session(c), timer(session) {
        pump();
        timer.observe(now);
    }

    server_session session;
    virtual_timer<server_session> timer;
    milliseconds now{0};
    std::string out;
    std::string log;
    bool closed = false;
    errc closed_with = errc::ok;

    void pump() {
        for (server_event ev = session.next_event(); ev.kind != server_event_kind::need_data;
             ev = session.next_event()) {
            log += std::string(to_string(ev.kind)) + "\n";
            if (ev.kind == server_event_kind::closed) {
                closed = true;
                closed_with = ev.error;
                break;
            }
            if (is_decision(ev.kind)) REQUIRE(session.accept() == errc::ok);
        }
        while (session.pending_output_size() != 0) {
            out += session.pending_output();
            session.consume_output(session.pending_output().size());
        }
    }

    // The peer sends `bytes` at `at`; the timer fires first if its deadline comes earlier.
    // False once the session has closed.
    bool peer_sends_at(milliseconds at, std::string_view bytes) {
        if (!advance_to(at)) return false;
        smtpp_test::give(session, bytes);
        pump();
        timer.observe(now);
        return !closed;
    }

    bool advance_to(milliseconds at) { return let_time_pass(*this, at); }
};

server_config server_setup() {
    server_config c;
    c.hostname = "mx.example";
    return c;
}

// Runs the greeting, EHLO, MAIL and RCPT quickly; DATA's 354 at t = 1 s.
void start_data(server_run& r) {
    REQUIRE(r.peer_sends_at(milliseconds(100), "EHLO c.example\r\n"));
    REQUIRE(r.peer_sends_at(milliseconds(200), "MAIL FROM:<a@c.example>\r\n"));
    REQUIRE(r.peer_sends_at(milliseconds(300), "RCPT TO:<b@mx.example>\r\n"));
    REQUIRE(r.peer_sends_at(seconds(1), "DATA\r\n"));
    REQUIRE(r.out.find("354 ") != std::string::npos);
    CHECK(r.timer.phase() == wait_phase::data);
}

void expect_timed_out(const server_run& r, milliseconds at) {
    CHECK(r.closed);
    CHECK(r.closed_with == errc::timed_out);
    CHECK(r.now == at);
    const std::size_t last = r.out.rfind("421 4.4.2 "); // the last reply sent
    REQUIRE(last != std::string::npos);
    CHECK(r.out.find("\r\n", last) == r.out.size() - 2);
    CHECK(r.session.waiting().phase == wait_phase::none);
}

TEST_CASE("S-5321-4.5.3.2-a, 4.5.3.2.7: a silent client gets 421 4.4.2 after 5 minutes",
          "[server][timeouts]") {
    server_run r(server_setup());
    CHECK(r.timer.phase() == wait_phase::command);
    CHECK_FALSE(r.advance_to(minutes(6)));
    expect_timed_out(r, minutes(5));
    CHECK(r.log.find("closed") != std::string::npos);
}

TEST_CASE("S-5321-4.5.3.2-a: each command line starts a new 5-minute wait; a line trickled "
          "one octet a minute does not",
          "[server][timeouts]") {
    server_run r(server_setup());
    // A command every 4 minutes keeps the session: each one is a wait of its own.
    for (int i = 1; i <= 5; ++i) REQUIRE(r.peer_sends_at(minutes(4 * i), "NOOP\r\n"));
    const milliseconds start = r.now; // the last NOOP's reply: the wait began here
    // One octet a minute of a line that never ends: arriving octets do not restart it.
    const std::string_view line = "NOOP and then some more text";
    bool open = true;
    for (std::size_t i = 0; open && i < line.size(); ++i)
        open = r.peer_sends_at(start + minutes(1 + static_cast<int>(i)), line.substr(i, 1));
    CHECK_FALSE(open);
    expect_timed_out(r, start + minutes(5));
}

TEST_CASE("S-5321-4.5.3.2-a: a client sending one octet every 4 minutes during DATA is cut "
          "off 5 minutes after the 354",
          "[server][timeouts][data]") {
    server_run r(server_setup());
    start_data(r);
    const milliseconds go = r.now;
    bool open = true;
    for (int i = 1; open && i < 100; ++i) open = r.peer_sends_at(go + minutes(4 * i), "x");
    CHECK_FALSE(open);
    expect_timed_out(r, go + minutes(5));
    CHECK(r.log.find("message_end") == std::string::npos); // nothing delivered
    CHECK(r.log.find("transaction_reset") != std::string::npos);
}

TEST_CASE("S-5321-4.5.3.2-a: a client that never sends the end of data: fast blocks keep it "
          "alive, a stall ends it 5 minutes after the last full block",
          "[server][timeouts][data]") {
    server_config c = server_setup();
    c.timeout.data_block_size = 1024;
    server_run r(c);
    start_data(r);
    const std::string block(1024, 'b');
    const std::string line = std::string(78, 'y') + "\r\n";
    std::string blocks;
    while (blocks.size() < block.size()) blocks += line;
    milliseconds t = r.now;
    for (int i = 0; i < 20; ++i) {
        t += minutes(4);
        REQUIRE(r.peer_sends_at(t, std::string_view(blocks).substr(0, 1024))); // a block each
        blocks = blocks.substr(1024) + blocks.substr(0, 1024);
    }
    CHECK(t == r.now);
    // The client stops without the final dot: the last block's wait runs out.
    CHECK_FALSE(r.advance_to(t + minutes(60)));
    CHECK(r.closed_with == errc::timed_out);
    CHECK(r.now <= t + minutes(5));
    CHECK(r.now > t);
    CHECK(r.log.find("message_end") == std::string::npos);
}

TEST_CASE("S-5321-4.5.3.2-a: a BDAT chunk that stops arriving ends the session after 5 "
          "minutes, its octets never read as commands",
          "[server][timeouts][bdat]") {
    server_config c = server_setup();
    c.offer.chunking = true;
    server_run r(c);
    REQUIRE(r.peer_sends_at(milliseconds(100), "EHLO c.example\r\n"));
    REQUIRE(r.peer_sends_at(milliseconds(200), "MAIL FROM:<a@c.example>\r\n"));
    REQUIRE(r.peer_sends_at(milliseconds(300), "RCPT TO:<b@mx.example>\r\n"));
    REQUIRE(r.peer_sends_at(seconds(1), "BDAT 100 LAST\r\nQUIT\r\n"));
    CHECK(r.timer.phase() == wait_phase::data);
    CHECK_FALSE(r.advance_to(minutes(30)));
    expect_timed_out(r, seconds(1) + minutes(5));
    CHECK(r.out.find("221") == std::string::npos);
}

TEST_CASE("S-5321-4.5.3.2-a: no wait while a decision is the caller's; the timeouts are "
          "configurable per phase",
          "[server][timeouts]") {
    server_config c = server_setup();
    c.timeout.command = seconds(30);
    c.timeout.data = seconds(45);
    server_session s(c);
    REQUIRE(s.next_event().kind == server_event_kind::connect);
    CHECK(s.waiting().phase == wait_phase::none); // the connect decision is ours
    CHECK(s.timeout_expired() == errc::invalid_state);
    REQUIRE(s.accept() == errc::ok);
    REQUIRE(s.next_event().kind == server_event_kind::need_data);
    CHECK(s.waiting().timeout == seconds(30));
    smtpp_test::give(s, "EHLO c.example\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<b@x.example>\r\n");
    REQUIRE(s.next_event().kind == server_event_kind::hello);
    CHECK(s.waiting().phase == wait_phase::none);
    REQUIRE(s.accept() == errc::ok);
    REQUIRE(s.next_event().kind == server_event_kind::mail);
    REQUIRE(s.accept() == errc::ok);
    REQUIRE(s.next_event().kind == server_event_kind::rcpt);
    REQUIRE(s.accept() == errc::ok);
    REQUIRE(s.next_event().kind == server_event_kind::need_data);
    smtpp_test::give(s, "DATA\r\n");
    REQUIRE(s.next_event().kind == server_event_kind::data);
    REQUIRE(s.accept() == errc::ok);
    REQUIRE(s.next_event().kind == server_event_kind::need_data);
    CHECK(s.waiting().phase == wait_phase::data);
    CHECK(s.waiting().timeout == seconds(45));
}

// ---- client ----

struct client_run {
    explicit client_run(const client_config& c) : session(c), timer(session) { timer.observe(now); }

    client_session session;
    virtual_timer<client_session> timer;
    milliseconds now{0};
    std::string wire;
    std::string log;
    std::string body = "Subject: t\r\n\r\nhello\r\n";
    bool sent = false;
    bool hold_body = false; // the caller is slow to give the body
    bool closed = false;
    errc closed_with = errc::ok;

    void pump() {
        for (client_event ev = session.next_event(); ev.kind != client_event_kind::need_data;
             ev = session.next_event()) {
            log += std::string(to_string(ev.kind)) + " " + to_string(ev.result) + " " +
                   to_string(ev.error) + "\n";
            if (ev.kind == client_event_kind::closed) {
                closed = true;
                closed_with = ev.error;
                break;
            }
            if (ev.kind == client_event_kind::ready && !sent) {
                static const recipient to{"b@mx.example"};
                REQUIRE(session.send_mail({"a@c.example", &to, 1}) == errc::ok);
                sent = true;
            } else if (ev.kind == client_event_kind::ready) {
                REQUIRE(session.quit() == errc::ok);
            } else if (ev.kind == client_event_kind::send_body && !hold_body) {
                REQUIRE(session.send_body(body) == errc::ok);
                REQUIRE(session.end_body() == errc::ok);
            }
        }
    }

    // Writes everything queued (the socket takes it at once).
    void write_all() {
        while (session.pending_output_size() != 0) {
            wire += session.pending_output();
            session.consume_output(session.pending_output().size());
        }
        pump();
    }

    bool server_sends_at(milliseconds at, std::string_view bytes) {
        if (!advance_to(at)) return false;
        write_all();
        smtpp_test::give(session, bytes);
        pump();
        write_all();
        timer.observe(now);
        return !closed;
    }

    bool advance_to(milliseconds at) { return let_time_pass(*this, at); }
};

client_config client_setup() {
    client_config c;
    c.helo_name = "c.example";
    c.tls = tls_mode::never;
    return c;
}

constexpr std::string_view lockstep_ehlo = "250-mx.example\r\n250 8BITMIME\r\n";

// The server's replies, in order, each from a wait; the phase the client waits in before each.
struct step {
    std::string_view reply;
    wait_phase phase;
    seconds timeout;
};
constexpr step lockstep_steps[] = {
    {"220 mx\r\n", wait_phase::greeting, seconds(300)},
    {lockstep_ehlo, wait_phase::reply, seconds(300)},
    {"250 ok\r\n", wait_phase::mail_reply, seconds(300)},
    {"250 ok\r\n", wait_phase::rcpt_reply, seconds(300)},
    {"354 go\r\n", wait_phase::data_reply, seconds(120)},
    {"250 queued\r\n", wait_phase::data_termination, seconds(600)},
    {"221 bye\r\n", wait_phase::reply, seconds(300)},
};

TEST_CASE("S-5321-4.5.3.2-a, 4.5.3.2.1-4.5.3.2.6: a server that goes silent in any phase "
          "ends the session at that phase's timeout, the message failed as temporary",
          "[client][timeouts]") {
    constexpr std::size_t steps = sizeof lockstep_steps / sizeof lockstep_steps[0];
    for (std::size_t silent = 0; silent < steps; ++silent) {
        INFO("silent before reply " << silent);
        client_run r(client_setup());
        milliseconds t{0};
        for (std::size_t i = 0; i < silent; ++i) {
            CHECK(r.timer.phase() == lockstep_steps[i].phase);
            t += seconds(10);
            REQUIRE(r.server_sends_at(t, lockstep_steps[i].reply));
        }
        const step& s = lockstep_steps[silent];
        CHECK(r.timer.phase() == s.phase);
        CHECK(r.session.waiting().timeout == s.timeout);
        const milliseconds waiting_since = t;
        CHECK_FALSE(r.advance_to(t + minutes(60)));
        CHECK(r.now == waiting_since + s.timeout);
        CHECK(r.closed_with == errc::timed_out);
        const bool in_transaction = silent >= 2 && silent <= 5;
        CHECK((r.log.find("message_result temporary timed out") != std::string::npos) ==
              in_transaction);
        // Delivered only when the 250 to the end of data came before the silence.
        CHECK((r.log.find("message_result success") != std::string::npos) == (silent > 5));
        CHECK(r.session.waiting().phase == wait_phase::none);
    }
}

TEST_CASE("S-5321-4.5.3.2-a: a reply trickled one octet every 4 minutes is cut off at the "
          "phase's timeout",
          "[client][timeouts]") {
    client_run r(client_setup());
    REQUIRE(r.server_sends_at(seconds(1), "220 mx\r\n"));
    REQUIRE(r.server_sends_at(seconds(2), lockstep_ehlo));
    REQUIRE(r.server_sends_at(seconds(3), "250 ok\r\n")); // MAIL
    const milliseconds since = r.now;                     // RCPT written: its wait begins
    const std::string_view reply = "250 2.1.5 recipient ok\r\n";
    bool open = true;
    for (std::size_t i = 0; open && i < reply.size(); ++i)
        open = r.server_sends_at(since + minutes(4 * static_cast<int>(i + 1)), reply.substr(i, 1));
    CHECK_FALSE(open);
    CHECK(r.now == since + minutes(5));
    CHECK(r.closed_with == errc::timed_out);
    CHECK(r.log.find("recipient_result temporary timed out") != std::string::npos);
}

TEST_CASE("S-5321-4.5.3.2-a, 4.5.3.2.5: the body is a wait only while the server has not taken "
          "it; the caller's own pace is not the server's timeout",
          "[client][timeouts][data]") {
    client_run r(client_setup());
    r.hold_body = true;
    REQUIRE(r.server_sends_at(seconds(1), "220 mx\r\n"));
    REQUIRE(r.server_sends_at(seconds(2), lockstep_ehlo));
    REQUIRE(r.server_sends_at(seconds(3), "250 ok\r\n"));
    REQUIRE(r.server_sends_at(seconds(4), "250 ok\r\n"));
    REQUIRE(r.server_sends_at(seconds(5), "354 go\r\n"));
    CHECK(r.session.waiting().phase == wait_phase::none); // the caller's move: no timer
    CHECK(r.advance_to(minutes(30)));
    // The body queued but not written: the data block wait (3 minutes).
    REQUIRE(r.session.send_body(r.body) == errc::ok);
    r.timer.observe(r.now);
    CHECK(r.timer.phase() == wait_phase::data_block);
    CHECK_FALSE(r.advance_to(minutes(40)));
    CHECK(r.now == minutes(33));
    CHECK(r.closed_with == errc::timed_out);
    CHECK(r.log.find("message_result temporary timed out") != std::string::npos);
}

TEST_CASE("S-5321-4.5.3.2-a: client timeouts are configurable per phase", "[client][timeouts]") {
    client_config c = client_setup();
    c.timeout.greeting = seconds(20);
    c.timeout.data_termination = minutes(2);
    client_run r(c);
    CHECK(r.session.waiting().timeout == seconds(20));
    REQUIRE(r.server_sends_at(seconds(1), "220 mx\r\n"));
    REQUIRE(r.server_sends_at(seconds(2), lockstep_ehlo));
    REQUIRE(r.server_sends_at(seconds(3), "250 ok\r\n"));
    REQUIRE(r.server_sends_at(seconds(4), "250 ok\r\n"));
    REQUIRE(r.server_sends_at(seconds(5), "354 go\r\n"));
    CHECK(r.session.waiting().phase == wait_phase::data_termination);
    CHECK(r.session.waiting().timeout == minutes(2));
    CHECK(r.session.timeout_expired() == errc::ok);
    CHECK(r.session.timeout_expired() == errc::invalid_state); // closed: no wait left
}

} // namespace
