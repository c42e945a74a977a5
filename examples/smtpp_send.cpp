// smtpp-send: sends one message with smtpp::client_session over a non-blocking socket, using
// whatever the server offers (PIPELINING, CHUNKING/BDAT, 8BITMIME, SMTPUTF8, SIZE; STARTTLS
// with certificate verification and AUTH PLAIN/LOGIN when asked). Every wait has a deadline
// (RFC 5321 4.5.3.2). Prints one line per recipient with the reply that decided it and exits
// 0 only if every recipient and the message were accepted.
//
//   smtpp-send --server HOST:PORT --from ADDR --to ADDR [--to ADDR ...] [--helo NAME]
//              [--starttls [--ca-file FILE] [--tls-name NAME] | [--insecure]]
//              [--auth USER:PASS] [--lmtp] [--verbose] [timeouts] FILE|-
//
// The parts: send/options.hpp (the command line), send/connection.hpp (the socket and TLS,
// never blocking), send/report.hpp (the verdicts and their printing); here the message, the
// session's configuration and the event loop.
#include "common/options.hpp"
#include "send/connection.hpp"
#include "send/options.hpp"
#include "send/report.hpp"

#include <smtpp/client_session.hpp>
#include <smtpp/data.hpp>
#include <smtpp/envelope.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

using smtpp_send::clock;
using smtpp_send::io_result;

bool read_input(const std::string& file, std::string& out) {
    std::FILE* f = file == "-" ? stdin : std::fopen(file.c_str(), "rb");
    if (!f) return false;
    char buf[65536];
    for (;;) {
        const std::size_t n = std::fread(buf, 1, sizeof buf, f);
        out.append(buf, n);
        if (n < sizeof buf) break;
    }
    const bool ok = !std::ferror(f);
    if (f != stdin) std::fclose(f);
    return ok;
}

// The header section: everything before the first empty line.
std::string_view header_section(std::string_view message) {
    for (std::size_t start = 0; start < message.size();) {
        const std::size_t end = message.find('\n', start);
        const std::string_view line =
            message.substr(start, end == std::string_view::npos ? end : end - start);
        if (line.empty() || line == "\r") return message.substr(0, start);
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return message;
}

// What the message needs, for the envelope: 8BITMIME for octets >= 0x80, BINARYMIME for NUL
// or lines over 998 octets (RFC 3030), SMTPUTF8 for a UTF-8 header section (RFC 6531), and
// its RFC 1870 size as it goes on the wire. ASCII text declares no BODY.
void describe_content(std::string_view message, smtpp::envelope& env) {
    const smtpp::body_traits traits = smtpp::scan_body(message);
    env.body = smtpp::body_for(traits);
    // Text is CRLF-normalised on the way out; a binary body goes out as it is (BDAT).
    env.size = env.body == smtpp::body_type::binary_mime ? message.size() : traits.size;
    const std::string_view headers = header_section(message);
    env.utf8_message = std::any_of(headers.begin(), headers.end(),
                                   [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

smtpp::client_config make_config(const smtpp_send::options& o, const std::string& port) {
    smtpp::client_config cfg;
    cfg.helo_name = o.helo;
    cfg.lmtp = o.lmtp;
    cfg.use_chunking = true; // BDAT whenever the server offers CHUNKING
    cfg.tls = o.starttls ? smtpp::tls_mode::required : smtpp::tls_mode::never;
    if (o.auth) {
        cfg.auth_mechanisms = {"PLAIN", "LOGIN"};
        cfg.credentials.username = o.user;
        cfg.credentials.password = o.pass;
    }
    std::uint64_t p = 0;
    if (smtpp_examples::parse_number(port.c_str(), p) && p < 65536)
        cfg.port = static_cast<std::uint16_t>(p);
    return cfg;
}

// One conversation: the session's events acted on, its output sent and the server's bytes
// fed to it, every wait bounded by a deadline. A deadline starts when the session says a new
// wait began (client_session::waiting(): a reply completed, a command sent, 64 KiB of the
// message written) and is never moved by bytes that trickle in.
class conversation {
public:
    conversation(const smtpp_send::options& o, const smtpp_send::tls_settings& tls,
                 smtpp::client_session& session, smtpp_send::connection& net,
                 std::string_view message, const smtpp::envelope& env, smtpp_send::report& out)
        : o_(o), tls_(tls), s_(session), net_(net), message_(message), env_(env), out_(out) {}

    // Returns when the session has closed, or the conversation failed (a timeout, a dead
    // connection, a failed TLS handshake): the report knows why.
    void run() {
        while (handle_events()) {
            track_wait();
            short events = 0; // what to poll() for if neither direction moves
            const step w = s_.wants_write() ? write_some(events) : step::blocked;
            if (w == step::over) return;
            const step r = read_some(events);
            if (r == step::over) return;
            if (w == step::moved || r == step::moved) continue;
            if (!smtpp_send::wait_until(net_.fd(), events, deadline_)) {
                return out_.failure("timed out after " + smtpp_send::seconds_text(wait_.limit) +
                                    " waiting for " + wait_.what);
            }
        }
    }

private:
    // Where the conversation is, to name what it waits for.
    enum class stage : std::uint8_t {
        greeting,
        setup,
        envelope,
        body,
        message_sent,
        finishing,
        quit
    };

    struct wait_spec {
        std::chrono::milliseconds limit;
        std::string what;
    };

    // The setting (in milliseconds: the session's own timeouts are whole seconds) and the
    // name for what the session waits for now (RFC 5321 4.5.3.2).
    [[nodiscard]] wait_spec describe(smtpp::wait_phase phase) const {
        const smtpp_send::timeouts& t = o_.wait;
        switch (phase) {
        case smtpp::wait_phase::greeting:
            return {t.command, "the greeting"};
        case smtpp::wait_phase::mail_reply:
        case smtpp::wait_phase::rcpt_reply:
            return {t.command, "the replies to MAIL and RCPT"};
        case smtpp::wait_phase::data_reply:
            return {t.data_init, "the reply to DATA"};
        case smtpp::wait_phase::data_block: // the body being written, or a reply to BDAT
            if (s_.wants_write()) return {t.data_block, "the server to read the message"};
            return {t.data_block, "the reply to BDAT"};
        case smtpp::wait_phase::data_termination:
            return {t.data_done, "the reply to the end of the message"};
        default: // reply (EHLO, STARTTLS, AUTH, RSET, QUIT), or nothing from the server
            break;
        }
        switch (stage_) {
        case stage::setup:
            return {t.command, "the reply to EHLO, STARTTLS or AUTH"};
        case stage::quit:
            return {t.command, "the reply to QUIT"};
        default:
            return {t.command, "a reply"};
        }
    }

    // Starts a new deadline when the session began a new wait (its serial changed) or now
    // waits for something else.
    void track_wait() {
        const smtpp::wait_state w = s_.waiting();
        if (started_ && w.serial == wait_serial_ && w.phase == wait_phase_) return;
        started_ = true;
        wait_serial_ = w.serial;
        wait_phase_ = w.phase;
        wait_ = describe(w.phase);
        deadline_ = clock::now() + wait_.limit;
    }

    // Acts on events until the session needs I/O; false once the conversation is over.
    bool handle_events() {
        for (smtpp::client_event ev = s_.next_event();
             ev.kind != smtpp::client_event_kind::need_data; ev = s_.next_event()) {
            if (!on_event(ev)) return false;
        }
        return true;
    }

    bool on_event(const smtpp::client_event& ev) {
        using kind = smtpp::client_event_kind;
        switch (ev.kind) {
        case kind::need_data:
        case kind::authenticated:
            break;
        case kind::greeting:
            stage_ = stage::setup;
            break;
        case kind::tls_handshake:
            return start_tls();
        case kind::auth_challenge:
            (void)s_.auth_cancel();
            break; // only PLAIN and LOGIN are configured
        case kind::ready:
            ready();
            break;
        case kind::recipient_result:
            out_.recipient_result(ev);
            break;
        case kind::send_body:
            stage_ = stage::body;
            return send_body();
        case kind::message_result:
            out_.message_result(ev, o_.lmtp && body_ended_);
            if (stage_ != stage::quit) stage_ = stage::finishing;
            break;
        case kind::error:
            out_.failure(error_text(ev));
            break;
        case kind::closed:
            if (ev.error != smtpp::errc::ok) out_.failure(closed_text(ev));
            flush();
            return false;
        }
        return true;
    }

    // The first `ready` starts the transaction; the next one ends the session. An envelope
    // the server cannot take (8-bit content without 8BITMIME, over its SIZE, ...) is refused
    // by send_mail() before anything is sent, and the session stays ready for QUIT.
    void ready() {
        if (!mail_sent_) {
            mail_sent_ = true;
            stage_ = stage::envelope;
            const smtpp::errc e = s_.send_mail(env_);
            if (e == smtpp::errc::ok) return;
            out_.failure(smtpp::to_string(e));
        }
        stage_ = stage::quit;
        (void)s_.quit();
    }

    // The 220 to STARTTLS arrived; nothing is queued behind it (RFC 3207 4.2). A failed
    // handshake (a certificate that does not verify) ends the conversation: no AUTH, no QUIT.
    bool start_tls() {
        std::string info;
        if (!net_.start_tls(tls_, o_.wait.command, info)) {
            out_.failure("TLS handshake with " + tls_.name + " failed: " + info);
            return false;
        }
        if (o_.verbose) std::fprintf(stderr, "== TLS: %s\n", info.c_str());
        (void)s_.tls_established();
        return true;
    }

    // Hands the session the message, a piece at a time, as far as its output limit allows;
    // a send_body event follows when it takes more.
    bool send_body() {
        constexpr std::size_t piece = 65536;
        while (body_pos_ < message_.size()) {
            const std::string_view next = message_.substr(body_pos_, piece);
            const smtpp::errc e = s_.send_body(next);
            if (e == smtpp::errc::output_full) return true;
            if (e != smtpp::errc::ok) {
                out_.failure(std::string("cannot send the message: ") + smtpp::to_string(e));
                return false;
            }
            body_pos_ += next.size();
        }
        if (body_ended_) return true;
        body_ended_ = true;
        if (const smtpp::errc e = s_.end_body(); e != smtpp::errc::ok) {
            out_.failure(std::string("cannot end the message: ") + smtpp::to_string(e));
            return false;
        }
        return true;
    }

    enum class step : std::uint8_t { moved, blocked, over };

    // Sends what the connection takes of the session's output.
    step write_some(short& events) {
        const io_result w = net_.write(s_.pending_output());
        switch (w.what) {
        case io_result::state::done:
            sent(w.bytes);
            return step::moved;
        case io_result::state::wait:
            events = static_cast<short>(events | w.events);
            return step::blocked;
        case io_result::state::eof:
        case io_result::state::failed:
            break;
        }
        write_failed(w.error);
        return step::over;
    }

    // Feeds the session what the server sent.
    step read_some(short& events) {
        char buffer[16384];
        const io_result r = net_.read(buffer, sizeof buffer);
        switch (r.what) {
        case io_result::state::done:
            received(std::string_view(buffer, r.bytes));
            return step::moved;
        case io_result::state::wait:
            events = static_cast<short>(events | r.events);
            return step::blocked;
        case io_result::state::eof:
            if (eof_) break; // the session did not close at the first one
            eof_ = true;     // the session closes once it has read what came before
            s_.receive_eof();
            return step::moved;
        case io_result::state::failed:
            out_.failure("cannot receive: " + r.error);
            return step::over;
        }
        out_.failure("the server closed the connection");
        return step::over;
    }

    // receive() copies. Every read follows a need_data, when the session has read all it was
    // given, so it takes the whole read (16 KiB, below limits.input_buffer); it takes less
    // only once it has closed, and the closed event says why.
    void received(std::string_view bytes) {
        trace("<-", bytes);
        (void)s_.receive(bytes);
    }

    // `n` octets of the output went out (each 64 KiB of the message is a new wait for the
    // session; track_wait() sees it).
    void sent(std::size_t n) {
        trace("->", s_.pending_output().substr(0, std::min<std::size_t>(n, 2000)));
        s_.consume_output(n);
        if (!s_.wants_write() && stage_ == stage::body && body_ended_) {
            stage_ = stage::message_sent;
            out_.message_sent();
        }
    }

    // The server stopped taking our bytes (reset, or closed). A reply it sent before is worth
    // more than the write error: read what is there first.
    void write_failed(const std::string& error) {
        char buffer[16384];
        for (;;) {
            const io_result r = net_.read(buffer, sizeof buffer);
            if (r.what != io_result::state::done) break;
            received(std::string_view(buffer, r.bytes));
            if (!handle_events()) return;
        }
        out_.failure("cannot send: " + error);
    }

    // Best effort, within the current deadline: what the session queued before it closed.
    void flush() {
        while (s_.wants_write()) {
            const io_result w = net_.write(s_.pending_output());
            if (w.what == io_result::state::done) {
                s_.consume_output(w.bytes);
            } else if (w.what != io_result::state::wait ||
                       !smtpp_send::wait_until(net_.fd(), w.events, deadline_)) {
                return;
            }
        }
    }

    [[nodiscard]] std::string error_text(const smtpp::client_event& ev) const {
        std::string text = smtpp::to_string(ev.error);
        if (ev.reply.code != 0) text += ": " + smtpp_send::last_line(ev.reply);
        if (ev.error == smtpp::errc::tls_required && o_.auth && !o_.starttls) {
            text += " (--auth sends a password only with --starttls)";
        }
        return text;
    }

    // Why the session closed, named: the server's closing, a protocol error, or an EOF.
    [[nodiscard]] std::string closed_text(const smtpp::client_event& ev) const {
        const std::string reply = ev.reply.code != 0 ? ": " + smtpp_send::last_line(ev.reply) : "";
        switch (ev.error) {
        case smtpp::errc::peer_closed_early:
            return "the server closed the connection before " + wait_.what;
        case smtpp::errc::connection_closed:
            return "the server closed the connection";
        case smtpp::errc::service_closing:
            return "the server closed the service" + reply;
        case smtpp::errc::invalid_config:
            return "invalid configuration (--helo wants a domain or an address literal; no LMTP on "
                   "port 25)";
        default:
            return std::string("protocol error: ") + smtpp::to_string(ev.error) + reply +
                   " (waiting for " + wait_.what + ")";
        }
    }

    void trace(const char* direction, std::string_view bytes) const {
        if (!o_.verbose) return;
        while (!bytes.empty()) {
            const std::size_t nl = bytes.find('\n');
            std::string_view line = bytes.substr(0, nl);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            const std::string shown = smtpp_send::printable(line.substr(0, 200));
            std::fprintf(stderr, "%s %s\n", direction, shown.c_str());
            bytes.remove_prefix(nl == std::string_view::npos ? bytes.size() : nl + 1);
        }
    }

    const smtpp_send::options& o_;
    const smtpp_send::tls_settings& tls_;
    smtpp::client_session& s_;
    smtpp_send::connection& net_;
    std::string_view message_;
    const smtpp::envelope& env_;
    smtpp_send::report& out_;

    stage stage_ = stage::greeting;
    wait_spec wait_{};
    clock::time_point deadline_{};
    std::uint64_t wait_serial_ = 0; // of the wait the deadline is for
    smtpp::wait_phase wait_phase_ = smtpp::wait_phase::none;
    bool started_ = false;
    std::size_t body_pos_ = 0;
    bool mail_sent_ = false;
    bool body_ended_ = false;
    bool eof_ = false;
};

} // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    smtpp_send::options o;
    std::string host, port;
    if (!smtpp_send::parse(argc, argv, o) ||
        !smtpp_examples::split_host_port(o.server, host, port)) {
        smtpp_send::usage(stderr);
        return 2;
    }
    if (o.starttls && !SMTPP_EXAMPLES_TLS) {
        std::fprintf(stderr, "smtpp-send: --starttls needs OpenSSL, and this build has none\n");
        return 2;
    }
    std::string message;
    if (!read_input(o.file, message)) {
        std::fprintf(stderr, "smtpp-send: cannot read %s: %s\n", o.file.c_str(),
                     std::strerror(errno));
        return 2;
    }

    std::vector<smtpp::recipient> recipients;
    for (const std::string& to : o.to) recipients.emplace_back(to);
    smtpp::envelope env(o.from, recipients.data(), recipients.size());
    describe_content(message, env);

    smtpp_send::tls_settings tls;
    tls.name = o.tls_name.empty() ? host : o.tls_name;
    tls.ca_file = o.ca_file;
    tls.verify = !o.insecure;
    if (o.insecure) {
        std::fprintf(
            stderr,
            "smtpp-send: warning: --insecure: the server's certificate is NOT verified; anyone in "
            "the path can read and change the conversation%s\n",
            o.auth ? " and learn the password" : "");
    }

    smtpp_send::report out(o.to);
    std::string error;
    const int fd = smtpp_send::connect_to(host, port, o.wait.connect, error);
    if (fd < 0) {
        out.failure(error);
        return out.print();
    }
    smtpp_send::connection net(fd);
    smtpp::client_session session(make_config(o, port));
    conversation(o, tls, session, net, message, env, out).run();
    return out.print();
}
