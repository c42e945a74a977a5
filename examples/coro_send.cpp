// coro-send: sends one message with smtpp::client_session in a C++20 coroutine on standalone
// Asio. The conversation reads like blocking code: act on the session's events until it needs
// I/O, then send what it queued or read what the server says, each step raced against the
// deadline of what the session waits for (client_session::waiting(), RFC 5321 4.5.3.2's
// timeouts). Plain SMTP or LMTP, no TLS: smtpp-send is the complete client. Prints one line per
// recipient and exits as smtpp-send does: 0 all delivered, 1 something refused for good, 75
// only temporary failures or unknown outcomes, 64 a usage error, 66 an unreadable input.
//
//   coro-send --server HOST:PORT --from ADDR --to ADDR [--to ADDR ...] [--helo NAME] [--lmtp]
//             FILE|-
#include "common/coro.hpp"
#include "common/options.hpp"
#include "send/report.hpp"
#include "send/text.hpp"

#include <smtpp/client_session.hpp>
#include <smtpp/data.hpp>
#include <smtpp/envelope.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <sysexits.h>

namespace {

using asio::ip::tcp;
using smtpp_examples::before;
using smtpp_examples::deferred;
using event_kind = smtpp::client_event_kind;

constexpr const char* prog = "coro-send";

struct options {
    std::string server, from, helo = "localhost", file;
    std::vector<std::string> to;
    bool lmtp = false;
};

bool parse(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--server" && has_value)
            o.server = argv[++i];
        else if (a == "--from" && has_value)
            o.from = argv[++i];
        else if (a == "--to" && has_value)
            o.to.emplace_back(argv[++i]);
        else if (a == "--helo" && has_value)
            o.helo = argv[++i];
        else if (a == "--lmtp")
            o.lmtp = true;
        else if ((a == "-" || a[0] != '-') && o.file.empty())
            o.file = a;
        else
            return false;
    }
    return !o.server.empty() && !o.to.empty() && !o.file.empty();
}

bool read_message(const std::string& file, std::string& out) {
    std::FILE* f = file == "-" ? stdin : std::fopen(file.c_str(), "rb");
    if (!f) return false;
    char buf[65536];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    const bool ok = !std::ferror(f);
    if (f != stdin) std::fclose(f);
    return ok;
}

// What coro-send prints: a line per recipient, decided by smtpp-send's message_report, each
// problem once on stderr, and the exit status.
class outcome_lines {
public:
    explicit outcome_lines(const std::vector<std::string>& to) : to_(to), report_(0, to.size()) {}

    void recipient_result(const smtpp::client_event& ev) { report_.recipient_result(ev); }
    void message_result(const smtpp::client_event& ev) { report_.message_result(ev); }
    void message_sent() { report_.message_sent(); }
    void failure(const std::string& why) {
        if (why == last_failure_) return;
        if (first_failure_.empty()) first_failure_ = why;
        last_failure_ = why;
        std::fprintf(stderr, "%s: %s\n", prog, why.c_str());
    }

    [[nodiscard]] int print() {
        report_.settle(first_failure_.empty() ? "the message was not sent" : first_failure_,
                       smtpp::outcome::temporary);
        for (std::size_t i = 0; i < to_.size(); ++i) {
            std::printf("%s: %s\n", smtpp_send::printable(to_[i]).c_str(),
                        report_.recipients()[i].line().c_str());
        }
        std::fflush(stdout);
        switch (report_.overall()) {
        case smtpp_send::verdict::delivered:
            return 0;
        case smtpp_send::verdict::permanent:
            return 1;
        default:
            return EX_TEMPFAIL;
        }
    }

private:
    const std::vector<std::string>& to_;
    smtpp_send::message_report report_;
    std::string first_failure_, last_failure_;
};

// One message, from the greeting to the server's reply to QUIT.
class conversation {
public:
    conversation(tcp::socket& socket, smtpp::client_session& session, std::string_view message,
                 const smtpp::envelope& envelope, outcome_lines& out)
        : socket_(socket), s_(session), message_(message), envelope_(envelope), out_(out),
          deadline_(socket.get_executor()) {}

    // [readme-coro-send]
    asio::awaitable<void> run() {
        while (handle_events()) {
            arm_deadline();
            if (s_.wants_write()) { // send what the session queued
                auto [order, ec, n, timer] = co_await before(
                    deadline_,
                    asio::async_write(socket_, asio::buffer(s_.pending_output()), deferred));
                s_.consume_output(n);
                if (body_ended_ && !s_.wants_write()) out_.message_sent();
                if (ec && ec != asio::error::operation_aborted) co_return fail("send", ec);
            } else { // read what the server says
                auto [order, ec, n, timer] = co_await before(
                    deadline_, socket_.async_read_some(asio::buffer(buffer_), deferred));
                (void)s_.receive(std::string_view(buffer_.data(), n)); // copies it all
                if (ec == asio::error::eof)
                    s_.receive_eof();
                else if (ec && ec != asio::error::operation_aborted)
                    co_return fail("read", ec);
            }
            if (std::chrono::steady_clock::now() >= deadline_.expiry() &&
                s_.timeout_expired() != smtpp::errc::ok)
                co_return out_.failure("timed out sending");
        }
    }
    // [/readme-coro-send]

private:
    // Acts on the session's events until it needs I/O; false once it has closed.
    bool handle_events() {
        for (smtpp::client_event ev = s_.next_event(); ev.kind != event_kind::need_data;
             ev = s_.next_event()) {
            switch (ev.kind) {
            case event_kind::ready: // first the message, then QUIT
                if (mail_sent_ || !send_mail()) (void)s_.quit();
                break;
            case event_kind::send_body:
                send_body();
                break;
            case event_kind::recipient_result:
                out_.recipient_result(ev);
                break;
            case event_kind::message_result:
                out_.message_result(ev);
                break;
            case event_kind::error:
                out_.failure(smtpp::to_string(ev.error));
                break;
            case event_kind::closed:
                if (ev.error != smtpp::errc::ok) out_.failure(smtpp::to_string(ev.error));
                return false;
            default: // greeting; no TLS, no AUTH configured
                break;
            }
        }
        return true;
    }

    // A new deadline when the session begins a new wait. While it waits for no reply (its
    // commands are not written yet) writing them gets the command timeout.
    void arm_deadline() {
        const smtpp::wait_state w = s_.waiting();
        if (armed_ && w.serial == serial_ && w.phase == phase_) return;
        armed_ = true;
        serial_ = w.serial;
        phase_ = w.phase;
        const auto none = w.phase == smtpp::wait_phase::none;
        deadline_.expires_after(none ? smtpp::client_config{}.timeout.command : w.timeout);
    }

    // An envelope the server cannot take (8-bit without 8BITMIME, over its SIZE) is refused
    // before anything is sent.
    bool send_mail() {
        mail_sent_ = true;
        const smtpp::errc e = s_.send_mail(envelope_);
        if (e != smtpp::errc::ok) out_.failure(smtpp::to_string(e));
        return e == smtpp::errc::ok;
    }

    // The message, a piece at a time, as far as the session's output limit allows; another
    // send_body event comes when it takes more.
    void send_body() {
        while (sent_ < message_.size()) {
            const std::string_view piece = message_.substr(sent_, 65536);
            if (s_.send_body(piece) != smtpp::errc::ok) return; // output_full: later
            sent_ += piece.size();
        }
        if (!body_ended_) body_ended_ = s_.end_body() == smtpp::errc::ok;
    }

    void fail(const char* what, const asio::error_code& ec) {
        out_.failure(std::string("cannot ") + what + ": " + ec.message());
    }

    tcp::socket& socket_;
    smtpp::client_session& s_;
    std::string_view message_;
    const smtpp::envelope& envelope_;
    outcome_lines& out_;
    asio::steady_timer deadline_;
    std::array<char, 16384> buffer_{};
    std::uint64_t serial_ = 0;
    smtpp::wait_phase phase_ = smtpp::wait_phase::none;
    bool armed_ = false, mail_sent_ = false, body_ended_ = false;
    std::size_t sent_ = 0;
};

// Connects (30 seconds at most), then runs the conversation.
asio::awaitable<void> send(const options& o, std::string_view message,
                           const smtpp::envelope& envelope, outcome_lines& out) {
    std::string host, port;
    smtpp_examples::split_host_port(o.server, host, port);
    const auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    asio::error_code ec;
    const auto addresses =
        co_await resolver.async_resolve(host, port, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return out.failure(o.server + ": " + ec.message());
    tcp::socket socket(executor);
    asio::steady_timer deadline(executor, std::chrono::seconds(30));
    auto [order, connect_ec, endpoint, timer] =
        co_await before(deadline, asio::async_connect(socket, addresses, deferred));
    if (connect_ec) co_return out.failure("connect to " + o.server + ": " + connect_ec.message());
    smtpp::client_config config;
    config.helo_name = o.helo;
    config.lmtp = o.lmtp;
    config.tls = smtpp::tls_mode::never;
    config.use_chunking = true; // BDAT whenever the server offers CHUNKING
    smtpp::client_session session(config);
    co_await conversation(socket, session, message, envelope, out).run();
}

} // namespace

int main(int argc, char** argv) {
    options o;
    std::string message;
    if (!parse(argc, argv, o)) {
        std::fprintf(stderr,
                     "usage: %s --server HOST:PORT --from ADDR --to ADDR [--to ADDR ...] "
                     "[--helo NAME] [--lmtp] FILE|-\n",
                     prog);
        return EX_USAGE;
    }
    if (!read_message(o.file, message)) {
        std::fprintf(stderr, "%s: cannot read %s\n", prog, o.file.c_str());
        return EX_NOINPUT;
    }
    std::vector<smtpp::recipient> to(o.to.begin(), o.to.end());
    smtpp::envelope envelope(o.from, to.data(), to.size());
    const smtpp::body_traits traits = smtpp::scan_body(message);
    envelope.body = smtpp::body_for(traits); // BODY=8BITMIME (or BINARYMIME) when needed
    envelope.size = envelope.body == smtpp::body_type::binary_mime ? message.size() : traits.size;
    outcome_lines out(o.to);
    asio::io_context io(1);
    asio::co_spawn(io, send(o, message, envelope, out), asio::detached);
    io.run();
    return out.print();
}
