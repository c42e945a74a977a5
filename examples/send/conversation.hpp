// smtpp-send: one connection and its client session, from the TCP connect to the close. At
// each `ready` it takes the next message from the shared queue (any number of transactions
// per connection), until none is left and it says QUIT. It never blocks: the loop that runs
// it (run.hpp) polls for what events() asks and calls on_io(), or on_deadline() once
// deadline() has passed.
//
// Every wait has a deadline: the session's own (client_session::waiting(), the timeouts of
// client_config::timeout, re-armed only when the session says a new wait began, so octets
// trickling in never move it; when it passes, timeout_expired() fails what is outstanding),
// the connect timeout per address, and the command timeout for the TLS handshake (the
// session waits for nothing then: the handshake is ours).
#ifndef SMTPP_SEND_CONVERSATION_HPP
#define SMTPP_SEND_CONVERSATION_HPP

#include "connection.hpp"
#include "messages.hpp"
#include "options.hpp"
#include "results.hpp"
#include "text.hpp"
#include "transaction.hpp"

#include <smtpp/client_session.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <poll.h>

namespace smtpp_send {

// What every conversation of a run shares.
struct run_context {
    const options& o;
    smtpp::client_config config;
    tls_settings tls;
    std::vector<server_address> addresses;
    std::vector<smtpp::recipient> recipients;
    const message_list& messages;
    message_queue& queue;
    results& out;
};

class conversation {
public:
    // `number` names it in the --verbose trace when there are several.
    conversation(run_context& ctx, std::size_t number) : ctx_(ctx), number_(number) {}

    void start() { try_address(0); }

    // poll() reported `revents` on fd().
    void on_io(short revents) {
        switch (state_) {
        case state::connecting:
            return connect_done(revents);
        case state::handshake:
            return handshake_step();
        case state::talking:
            return pump();
        case state::over:
            return;
        }
    }

    // deadline() has passed.
    void on_deadline() {
        switch (state_) {
        case state::connecting:
            connect_error_ = "cannot connect to " + address().text + ": timed out after " +
                             seconds_text(ctx_.o.connect_timeout);
            return try_address(address_ + 1);
        case state::handshake:
            fail("TLS handshake with " + ctx_.tls.name + " failed: timed out after " +
                     seconds_text(ctx_.config.timeout.reply),
                 smtpp::outcome::temporary);
            return finish();
        case state::talking:
            fail("timed out after " + seconds_text(wait_.limit) + " waiting for " + wait_.what,
                 smtpp::outcome::temporary);
            (void)session_->timeout_expired(); // fails what is outstanding, closes
            return pump();
        case state::over:
            return;
        }
    }

    [[nodiscard]] int fd() const noexcept { return net_.fd(); }
    [[nodiscard]] short events() const noexcept { return events_; }
    [[nodiscard]] clock::time_point deadline() const noexcept { return deadline_; }
    [[nodiscard]] bool over() const noexcept { return state_ == state::over; }
    // Messages this connection saw through to an outcome the server (or the session) gave.
    [[nodiscard]] std::size_t finished_messages() const noexcept { return finished_; }
    // Why the conversation failed, if it did, and how (a 5yz behind it is permanent).
    [[nodiscard]] const std::string& failure() const noexcept { return failure_; }
    [[nodiscard]] smtpp::outcome failure_outcome() const noexcept { return failure_outcome_; }

private:
    enum class state : std::uint8_t { connecting, handshake, talking, over };
    // Where the session is, to name what a reply wait is for.
    enum class stage : std::uint8_t { greeting, setup, transactions, quit };
    enum class step : std::uint8_t { moved, blocked, over };

    struct wait_spec {
        std::chrono::milliseconds limit{};
        std::string what;
    };

    // ---- connecting ----

    [[nodiscard]] const server_address& address() const { return ctx_.addresses[address_]; }

    // Connects to address `i`, or the next one that can be tried; the conversation is over
    // when none is left.
    void try_address(std::size_t i) {
        for (address_ = i; address_ < ctx_.addresses.size(); ++address_) {
            const io_result r = net_.connect(address());
            if (r.what == io_result::state::done) return begin_session();
            if (r.what == io_result::state::wait) {
                state_ = state::connecting;
                events_ = r.events;
                deadline_ = clock::now() + ctx_.o.connect_timeout;
                return;
            }
            connect_error_ = "cannot connect to " + address().text + ": " + r.error;
        }
        fail(connect_error_, smtpp::outcome::temporary);
        finish();
    }

    void connect_done(short revents) {
        if ((revents & (POLLOUT | POLLERR | POLLHUP)) == 0) return;
        const io_result r = net_.connected();
        if (r.what == io_result::state::done) return begin_session();
        connect_error_ = "cannot connect to " + address().text + ": " + r.error;
        try_address(address_ + 1);
    }

    void begin_session() {
        session_.emplace(ctx_.config);
        state_ = state::talking;
        deadline_ = clock::time_point::max();
        pump();
    }

    // ---- STARTTLS ----

    // The 220 to STARTTLS arrived; nothing is queued behind it (RFC 3207 4.2).
    void start_tls() {
        std::string error;
        if (!net_.start_tls(ctx_.tls, error)) {
            fail("TLS handshake with " + ctx_.tls.name + " failed: " + error,
                 smtpp::outcome::temporary);
            return finish();
        }
        state_ = state::handshake;
        deadline_ = clock::now() + ctx_.config.timeout.reply;
        handshake_step();
    }

    // A failed handshake (a certificate that does not verify) ends the conversation: no
    // AUTH, no QUIT.
    void handshake_step() {
        std::string info;
        const io_result r = net_.handshake(ctx_.tls, info);
        if (r.what == io_result::state::wait) {
            events_ = r.events;
            return;
        }
        if (r.what != io_result::state::done) {
            fail("TLS handshake with " + ctx_.tls.name + " failed: " + info,
                 smtpp::outcome::temporary);
            return finish();
        }
        if (ctx_.o.verbose)
            std::fprintf(stderr, "%s== TLS: %s\n", trace_prefix().c_str(), info.c_str());
        (void)session_->tls_established();
        state_ = state::talking;
        pump();
    }

    // ---- the session ----

    // Acts on events, writes and reads until nothing moves without waiting; then events()
    // and deadline() say what to wait for.
    void pump() {
        for (;;) {
            if (!handle_events()) return;
            track_wait(); // before the next read: a close names what was awaited then
            events_ = 0;
            const step w = session_->wants_write() ? write_some() : step::blocked;
            if (w == step::over) return;
            const step r = session_->input_room() > 0 ? read_some() : step::blocked;
            if (r == step::over) return;
            if (w != step::moved && r != step::moved) break;
        }
    }

    // Starts a new deadline when the session began a new wait (its serial changed) or now
    // waits for something else; none while it waits for nothing.
    void track_wait() {
        const smtpp::wait_state w = session_->waiting();
        if (w.phase == smtpp::wait_phase::none) {
            deadline_ = clock::time_point::max();
            return;
        }
        if (deadline_ != clock::time_point::max() && w.serial == wait_serial_ &&
            w.phase == wait_phase_)
            return;
        wait_serial_ = w.serial;
        wait_phase_ = w.phase;
        wait_ = {w.timeout, describe(w.phase)};
        deadline_ = clock::now() + w.timeout;
    }

    // What the session waits for, in words (RFC 5321 4.5.3.2).
    [[nodiscard]] std::string describe(smtpp::wait_phase phase) const {
        switch (phase) {
        case smtpp::wait_phase::greeting:
            return "the greeting";
        case smtpp::wait_phase::mail_reply:
        case smtpp::wait_phase::rcpt_reply:
            return "the replies to MAIL and RCPT";
        case smtpp::wait_phase::data_reply:
            return "the reply to DATA";
        case smtpp::wait_phase::data_block: // the body being written, or a reply to BDAT
            return session_->wants_write() ? "the server to read the message" : "the reply to BDAT";
        case smtpp::wait_phase::data_termination:
            return "the reply to the end of the message";
        default: // reply (EHLO, STARTTLS, AUTH, RSET, QUIT)
            break;
        }
        switch (stage_) {
        case stage::setup:
            return "the reply to EHLO, STARTTLS or AUTH";
        case stage::quit:
            return "the reply to QUIT";
        default:
            return "a reply";
        }
    }

    // Acts on events until the session needs I/O; false once it is not talking any more
    // (over, or in the TLS handshake).
    bool handle_events() {
        for (smtpp::client_event ev = session_->next_event();
             ev.kind != smtpp::client_event_kind::need_data; ev = session_->next_event()) {
            on_event(ev);
            if (state_ != state::talking) return false;
        }
        return true;
    }

    void on_event(const smtpp::client_event& ev) {
        using kind = smtpp::client_event_kind;
        switch (ev.kind) {
        case kind::need_data:
        case kind::authenticated:
            return;
        case kind::greeting:
            stage_ = stage::setup;
            return;
        case kind::tls_handshake:
            return start_tls();
        case kind::auth_challenge:
            (void)session_->auth_cancel(); // only PLAIN and LOGIN are configured
            return;
        case kind::ready:
            return next_message();
        case kind::recipient_result:
            if (transaction* t = in_flight(ev.transaction)) t->report.recipient_result(ev);
            return;
        case kind::send_body:
            return send_body(ev.transaction);
        case kind::message_result:
            return message_result(ev);
        case kind::error:
            return fail(error_text(ev), ev.result);
        case kind::closed:
            if (ev.error != smtpp::errc::ok && ev.error != smtpp::errc::timed_out)
                fail(closed_text(ev), ev.result);
            flush();
            return finish();
        }
    }

    // ---- transactions ----

    // The session is ready: the next message, or QUIT when none is left. A message the
    // server cannot take (8-bit content without 8BITMIME, over its SIZE, ...) is refused by
    // send_mail() before anything is sent, and the session stays ready for the next one.
    void next_message() {
        std::size_t index = 0;
        while (ctx_.queue.take(index)) {
            if (begin_transaction(index)) return;
        }
        stage_ = stage::quit;
        (void)session_->quit();
    }

    bool begin_transaction(std::size_t index) {
        std::string content, error;
        const bool loaded = ctx_.messages.load(index, content, error);
        transaction t(index, std::move(content), ctx_.o.from, ctx_.recipients);
        if (loaded) {
            const smtpp::errc e = session_->send_mail(t.env);
            if (e == smtpp::errc::ok) {
                stage_ = stage::transactions;
                t.number = session_->last_transaction();
                in_flight_.push_back(std::move(t));
                return true;
            }
            error = smtpp::to_string(e);
        }
        ctx_.out.failure(ctx_.out.about(index, error));
        t.report.settle(error, smtpp::outcome::permanent);
        ctx_.out.done(t.report);
        ++finished_;
        return false;
    }

    // Hands the session the message whose body is due, a piece at a time, as far as its
    // output limit allows; a send_body event follows when it takes more.
    void send_body(std::uint32_t number) {
        transaction* due = in_flight(number);
        if (due == nullptr || due->body_ended) return;
        transaction& t = *due;
        constexpr std::size_t piece = 65536;
        while (t.body_sent < t.content.size()) {
            const std::string_view next = std::string_view(t.content).substr(t.body_sent, piece);
            const smtpp::errc e = session_->send_body(next);
            if (e == smtpp::errc::output_full) return;
            if (e != smtpp::errc::ok) {
                fail(std::string("cannot send the message: ") + smtpp::to_string(e),
                     smtpp::outcome::temporary);
                return finish();
            }
            t.body_sent += next.size();
        }
        if (const smtpp::errc e = session_->end_body(); e != smtpp::errc::ok) {
            fail(std::string("cannot end the message: ") + smtpp::to_string(e),
                 smtpp::outcome::temporary);
            return finish();
        }
        t.body_ended = true;
        t.written_by = written_ + session_->pending_output_size();
    }

    // A verdict for one transaction (with PIPELINING possibly after the next one began): for
    // all of it, or in LMTP for one recipient. Once every recipient is decided its outcome is
    // reported; one the session gave up on without a reply is reported when the conversation
    // ends, with the reason.
    void message_result(const smtpp::client_event& ev) {
        const auto t = find_in_flight(ev.transaction);
        if (t == in_flight_.end()) return;
        t->report.message_result(ev);
        if (ev.for_recipient && !t->report.complete()) return;
        if (t->report.complete()) {
            ctx_.out.done(t->report);
            ++finished_;
        } else {
            unsettled_.push_back(std::move(t->report));
        }
        in_flight_.erase(t);
    }

    std::deque<transaction>::iterator find_in_flight(std::uint32_t number) {
        return std::find_if(in_flight_.begin(), in_flight_.end(),
                            [&](const transaction& t) { return t.number == number; });
    }
    transaction* in_flight(std::uint32_t number) {
        const auto t = find_in_flight(number);
        return t == in_flight_.end() ? nullptr : &*t;
    }

    // ---- I/O ----

    // Sends what the connection takes of the session's output.
    step write_some() {
        const io_result w = net_.write(session_->pending_output());
        switch (w.what) {
        case io_result::state::done:
            sent(w.bytes);
            return step::moved;
        case io_result::state::wait:
            events_ = static_cast<short>(events_ | w.events);
            return step::blocked;
        case io_result::state::eof:
        case io_result::state::failed:
            break;
        }
        write_failed(w.error);
        return step::over;
    }

    // Feeds the session what the server sent, at most what it takes now.
    step read_some() {
        static char buffer[65536]; // one loop, one buffer: receive() copies
        const std::size_t room = std::min(sizeof buffer, session_->input_room());
        const io_result r = net_.read(buffer, room);
        switch (r.what) {
        case io_result::state::done:
            received(std::string_view(buffer, r.bytes));
            return step::moved;
        case io_result::state::wait:
            events_ = static_cast<short>(events_ | r.events);
            return step::blocked;
        case io_result::state::eof:
            session_->receive_eof(); // closed once the bytes before it are read
            return step::moved;
        case io_result::state::failed:
            break;
        }
        fail("cannot receive: " + r.error, smtpp::outcome::temporary);
        finish();
        return step::over;
    }

    void received(std::string_view bytes) {
        trace("<-", bytes);
        (void)session_->receive(bytes); // takes it all: at most input_room() was read
    }

    // `n` octets of the output went out (each 64 KiB of a message is a new wait for the
    // session; track_wait() sees it).
    void sent(std::size_t n) {
        trace("->", session_->pending_output().substr(0, std::min<std::size_t>(n, 2000)));
        session_->consume_output(n);
        written_ += n;
        for (transaction& t : in_flight_) {
            if (t.body_ended && !t.on_the_wire && written_ >= t.written_by) {
                t.on_the_wire = true;
                t.report.message_sent();
            }
        }
    }

    // The server stopped taking our bytes (reset, or closed). A reply it sent before is worth
    // more than the write error: read what is there first.
    void write_failed(const std::string& error) {
        static char buffer[16384];
        for (;;) {
            const io_result r = net_.read(buffer, sizeof buffer);
            if (r.what != io_result::state::done) break;
            received(std::string_view(buffer, r.bytes));
            if (!handle_events()) return;
        }
        fail("cannot send: " + error, smtpp::outcome::temporary);
        finish();
    }

    // What the session queued before it closed (QUIT after a protocol error), if the
    // connection takes it now.
    void flush() {
        while (session_->wants_write()) {
            const io_result w = net_.write(session_->pending_output());
            if (w.what != io_result::state::done) return;
            session_->consume_output(w.bytes);
        }
    }

    // ---- the end ----

    // The first failure is the reason given for the messages it left without a verdict;
    // each one is printed.
    void fail(const std::string& why, smtpp::outcome result) {
        if (failure_.empty()) {
            failure_ = why;
            failure_outcome_ = result;
        }
        ctx_.out.failure(why);
    }

    // The conversation is over: the messages the server gave no verdict on are reported
    // with the reason.
    void finish() {
        const std::string why = failure_.empty() ? "the connection closed" : failure_;
        for (message_report& r : unsettled_) settle(r, why);
        for (transaction& t : in_flight_) settle(t.report, why);
        unsettled_.clear();
        in_flight_.clear();
        state_ = state::over;
        events_ = 0;
        deadline_ = clock::time_point::max();
    }

    void settle(message_report& r, const std::string& why) {
        r.settle(why, failure_outcome_);
        ctx_.out.done(r);
    }

    [[nodiscard]] std::string error_text(const smtpp::client_event& ev) const {
        std::string text = smtpp::to_string(ev.error);
        if (ev.reply.code != 0) text += ": " + last_line(ev.reply);
        if (ev.error == smtpp::errc::tls_required && ctx_.o.auth && !ctx_.o.starttls) {
            text += " (--auth sends a password only with --starttls)";
        }
        return text;
    }

    // Why the session closed, named: the server's closing, a protocol error, or an EOF.
    [[nodiscard]] std::string closed_text(const smtpp::client_event& ev) const {
        const std::string reply = ev.reply.code != 0 ? ": " + last_line(ev.reply) : "";
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

    [[nodiscard]] std::string trace_prefix() const {
        return ctx_.o.connections > 1 ? "[" + std::to_string(number_) + "] " : std::string();
    }

    void trace(const char* direction, std::string_view bytes) const {
        if (!ctx_.o.verbose) return;
        const std::string prefix = trace_prefix();
        while (!bytes.empty()) {
            const std::size_t nl = bytes.find('\n');
            std::string_view line = bytes.substr(0, nl);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            const std::string shown = printable(line.substr(0, 200));
            std::fprintf(stderr, "%s%s %s\n", prefix.c_str(), direction, shown.c_str());
            bytes.remove_prefix(nl == std::string_view::npos ? bytes.size() : nl + 1);
        }
    }

    run_context& ctx_;
    std::size_t number_;
    connection net_;
    std::optional<smtpp::client_session> session_;
    state state_ = state::connecting;
    stage stage_ = stage::greeting;
    short events_ = 0;
    clock::time_point deadline_ = clock::time_point::max();
    std::size_t address_ = 0;
    std::string connect_error_;

    wait_spec wait_{};
    std::uint64_t wait_serial_ = 0; // of the wait the deadline is for
    smtpp::wait_phase wait_phase_ = smtpp::wait_phase::none;
    std::uint64_t written_ = 0; // octets of output written, ever

    std::deque<transaction> in_flight_;     // sent with send_mail(), verdict not complete
    std::vector<message_report> unsettled_; // given up by the session without a verdict
    std::size_t finished_ = 0;
    std::string failure_;
    smtpp::outcome failure_outcome_ = smtpp::outcome::temporary;
};

} // namespace smtpp_send

#endif // SMTPP_SEND_CONVERSATION_HPP
