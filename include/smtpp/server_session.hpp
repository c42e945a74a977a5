// smtpp: the server side of one SMTP or LMTP connection, Sans-IO.
//
// The session never touches a socket and never calls back into your code:
//
//   server_session s(config);                 // config.validate() == errc::ok
//   for (;;) {
//       server_event ev = s.next_event();
//       switch (ev.kind) {
//       case server_event_kind::need_data: s.receive(bytes_from_socket); break; // or receive_eof()
//       case server_event_kind::rcpt: s.accept(); break;   // or later, or reject(550, ...)
//       ...
//       }
//       write s.pending_output() to the socket, then s.consume_output(bytes_written);
//   }
//
// Input. receive() reads your bytes in place: they must stay valid and unchanged until
// next_event() returns need_data (or closed/start_tls). Only an incomplete command line is
// copied, into a buffer bounded by the line limit, so a peer cannot grow the session's memory
// with input. While earlier bytes are still unread receive() takes nothing (invalid_state);
// wants_read() tells when it will take more.
//
// Decisions. Events of the decision kinds (see server_event.hpp) wait for accept(), reject(),
// reply() or challenge(); these only queue output and may come much later. Meanwhile
// next_event() returns awaiting_decision and parses nothing further, so replies leave in the
// order of the commands (RFC 2920 3.2) and a command that changes framing (DATA, BDAT,
// STARTTLS, AUTH) is never read past.
//
// Output. Replies are queued; pending_output() + consume_output(n) allow partial writes. When
// limits.output_buffer bytes are unsent, the session stops reading input (output_full, and
// wants_read() false) until you consume some, so a peer that never reads cannot grow memory.
//
// LIFETIME: every view in an event, and pending_output(), stays valid until the next mutating
// call on the session (receive, receive_eof, next_event, accept, reject, reply, reply_lines,
// challenge, consume_output, tls_established, shutdown, release_idle_memory).
//
// Choices where the RFCs leave room (documented behaviour):
//   * Over-long command line: skipped to its CRLF, then 500 5.5.6; the session goes on.
//   * Bare CR/LF inside a command line: 500 5.5.2, one reply for the whole CRLF-ended line.
//   * DATA with bare CR, bare LF or NUL: read to the real CRLF.CRLF, then 550 5.6.0 for the
//     whole message (per recipient in LMTP), never a second message. Opt out with
//     server_config::lenient_bare_line_endings.
//   * 8-bit octets without BODY=8BITMIME: accepted and marked (message_end.eight_bit).
//   * Message over limits.message_size: MAIL SIZE=n above it gets 552 5.3.4; DATA beyond it
//     is read and dropped (body_chunk events stop after exactly message_size octets), then
//     552 5.3.4 after the real end. A BDAT chunk that would pass the limit is refused whole.
//   * A refused or failed BDAT consumes exactly its declared octets before its reply; later
//     BDATs of that transaction get 503 5.5.1 until RSET (RFC 3030 2).
//   * BDAT when CHUNKING is not offered: its chunk is consumed, then 502 5.5.1.
//   * Protocol errors (500-504, 530, 538, 555) count; at limits.errors_before_disconnect the
//     session adds 421 4.7.0 and closes.
#ifndef SMTPP_SERVER_SESSION_HPP
#define SMTPP_SERVER_SESSION_HPP

#include <smtpp/base64.hpp>
#include <smtpp/capabilities.hpp>
#include <smtpp/command.hpp>
#include <smtpp/config.hpp>
#include <smtpp/data.hpp>
#include <smtpp/detail/ascii.hpp>
#include <smtpp/detail/line_framer.hpp>
#include <smtpp/detail/output_buffer.hpp>
#include <smtpp/error.hpp>
#include <smtpp/reply.hpp>
#include <smtpp/sasl.hpp>
#include <smtpp/server_config.hpp>
#include <smtpp/server_event.hpp>
#include <smtpp/status.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

class server_session {
public:
    // Builds a session for one connection. The config's strings must outlive the session. An
    // invalid config (validate() != ok) gives a session whose first event is closed with
    // invalid_config.
    explicit server_session(const server_config& config);

    // ---- input ----

    // Hands the session bytes from the peer, read in place (see the header comment: keep them
    // until next_event() returns need_data). Errors: invalid_state when earlier bytes are
    // still unread or after receive_eof() (nothing taken), connection_closed once closed.
    // Between an accepted STARTTLS and tls_established() bytes are taken and dropped.
    [[nodiscard]] errc receive(std::string_view bytes) noexcept;

    // The peer closed its side. Complete commands already received are still processed; an
    // open transaction is cancelled (transaction_reset, never message_end).
    void receive_eof() noexcept;

    // The next thing to act on; see server_event_kind. Views in the event live until the next
    // mutating call.
    [[nodiscard]] server_event next_event();

    // ---- decisions (only while a decision event is unanswered; else invalid_state) ----

    // Answers the pending decision with its default positive reply (see server_event_kind).
    // Errors: invalid_state (no decision pending).
    errc accept();
    // Refuses with a 4xx/5xx reply. `status` may be empty: with ENHANCEDSTATUSCODES on, x.0.0
    // is used (the greeting never carries one). Long texts are wrapped (reply.hpp). Nothing is
    // written and nothing changes on error: invalid_state (no decision pending),
    // bad_reply_code (not 4xx/5xx), bad_enhanced_status (class != first digit, or a code not
    // in the RFC 5248 registry), bad_reply_text (CR, LF, NUL, controls; 8-bit except in the
    // RFC 6531 3.7.4 cases: VRFY/EXPN ... SMTPUTF8, RCPT after MAIL ... SMTPUTF8), invalid_utf8.
    errc reject(std::uint16_t code, enhanced_status status, std::string_view text);
    // A full custom reply. The code picks the path: 4xx/5xx refuse; the positive code the
    // decision calls for accepts (220 for connect and starttls, 354 for data, 2xx otherwise;
    // anything else is bad_reply_code; for auth use challenge() rather than 334). For connect
    // and hello the session writes its hostname first and `text` follows it; for EHLO/LHLO the
    // capability lines follow. Errors as reject().
    errc reply(std::uint16_t code, enhanced_status status, std::string_view text);
    // As reply(), with `count` lines (a multi-line reply, e.g. EXPN). Positive multi-line
    // replies are refused (invalid_argument) for connect, hello, data, starttls and auth;
    // count 0 or above limits.reply_lines is invalid_argument too.
    errc reply_lines(std::uint16_t code, enhanced_status status, const std::string_view* lines,
                     std::size_t count);
    // auth only: sends `334 <base64 of raw>` and waits for the client's next response, which
    // comes back as another auth event. Errors: invalid_state.
    errc challenge(std::string_view raw);

    // ---- connection ----

    // After start_tls: the handshake succeeded. The session forgets everything from before
    // (back to just after the greeting: no new greeting, EHLO required, STARTTLS no longer
    // offered; RFC 3207 4.2). acceptable=false: the TLS result is not good enough, every
    // command but QUIT gets 554 5.7.0 (RFC 3207 4.1). Errors: invalid_state.
    errc tls_established(bool acceptable = true);

    // Queues an unsolicited 421 4.3.2 and closes (RFC 5321 3.8). An open transaction is
    // cancelled. No-op once closed.
    void shutdown();

    // ---- output ----

    // Bytes to send, oldest first. Valid until the next mutating call.
    [[nodiscard]] std::string_view pending_output() const noexcept { return out_.pending(); }
    // The transport wrote the first `n` bytes of pending_output() (clamped to its size).
    void consume_output(std::size_t n) noexcept { out_.consume(n); }

    // True when receive() would take bytes and the session would read them.
    [[nodiscard]] bool wants_read() const noexcept {
        return !closed_ && !eof_ && mode_ != mode::tls_wait && in_.drained() &&
               out_.size() < cfg_.limit.output_buffer;
    }
    [[nodiscard]] bool wants_write() const noexcept { return !out_.empty(); }
    // True once the session is over: write what is pending, then close the connection.
    [[nodiscard]] bool is_closed() const noexcept { return closed_; }

    // ---- state ----

    [[nodiscard]] bool tls_active() const noexcept { return tls_; }
    [[nodiscard]] bool authenticated() const noexcept { return authed_; }
    [[nodiscard]] bool in_transaction() const noexcept { return txn_; }
    [[nodiscard]] std::size_t accepted_recipients() const noexcept { return accepted_; }
    // How long to wait for the client before shutdown(), in seconds: RFC 5321 4.5.3.2.7 asks
    // a server to wait at least 5 minutes in every state (the session keeps no clock).
    [[nodiscard]] static constexpr unsigned timeout_seconds() noexcept { return 300; }
    // Heap bytes the session holds (buffers are reserved on demand and reused).
    [[nodiscard]] std::size_t heap_bytes() const noexcept;
    // Returns empty buffers to the heap; for idle connections. The next use allocates again.
    void release_idle_memory();

private:
    enum class mode : std::uint8_t { command, auth, data, bdat, tls_wait };
    enum class phase : std::uint8_t { connecting, refused, fresh, greeted };
    enum class auth_kind : std::uint8_t { plain, login, other };
    enum class outcome : std::uint8_t { invalid, positive, negative };
    using kind = server_event_kind;

    // A reply the session chooses on its own.
    struct canned {
        std::uint16_t code;
        enhanced_status status;
        const char* text;
    };

    // ---- event plumbing ----
    [[nodiscard]] static server_event make(kind k, errc e = errc::ok, std::uint16_t code = 0) noexcept {
        server_event ev;
        ev.kind = k;
        ev.error = e;
        ev.reply_code = code;
        return ev;
    }
    static server_event none() noexcept { return make(kind::need_data); }
    server_event ask(kind k) noexcept;
    server_event ask_command(kind k) noexcept;
    server_event closed_event() noexcept;
    server_event at_input_end();

    // ---- reading ----
    server_event next_line();
    server_event next_data();
    server_event next_bdat();
    server_event on_command(const detail::frame& f);
    server_event dispatch(const command& c);
    [[nodiscard]] std::size_t line_limit(verb v) const noexcept;
    [[nodiscard]] errc blocked_by_policy(verb v, canned& why) const noexcept;
    server_event refuse(const command& c, const canned& r, errc e);

    // ---- commands ----
    server_event on_hello(const command& c);
    server_event on_mail(const command& c);
    server_event on_rcpt(const command& c);
    server_event on_data();
    server_event on_bdat(const command& c);
    void start_chunk(const command& c) noexcept;
    server_event on_rset();
    server_event on_quit();
    server_event on_starttls();
    server_event on_auth(const command& c);
    server_event on_auth_line(std::string_view line);
    server_event auth_got_response();
    server_event auth_event(bool has_response) noexcept;
    [[nodiscard]] static bool is_plaintext_mechanism(std::string_view mech) noexcept {
        return detail::iequals(mech, "PLAIN") || detail::iequals(mech, "LOGIN");
    }
    server_event auth_fail(const canned& r, errc e);
    [[nodiscard]] errc decode_append(std::string_view text);

    // ---- message ends ----
    server_event data_end();
    server_event chunk_end();
    server_event message_complete(bool chunked, bool bad_endings);
    server_event fail_message(const canned& r, errc e);
    server_event ask_message_end() noexcept;
    void fail_chunk(const canned& r, errc e, bool ends_transaction);
    server_event unless_too_large_to_discard();

    // ---- replies ----
    void write(std::uint16_t code, enhanced_status status, std::string_view text);
    [[nodiscard]] errc emit(outcome o, std::uint16_t code, enhanced_status status,
                            const std::string_view* lines, std::size_t count);
    [[nodiscard]] errc write_hello(std::string_view greeting);
    [[nodiscard]] reply_options options_for(kind k) const noexcept;
    [[nodiscard]] std::string_view usable_mechanisms(char (&buffer)[detail::max_mechanism_list]) const noexcept;
    server_event error(const canned& r, errc e);
    server_event error_from_parse(const command_result& r);
    [[nodiscard]] bool counts_as_error(std::uint16_t code) const noexcept;

    // ---- decisions ----
    [[nodiscard]] outcome classify(std::uint16_t code) const noexcept;
    void apply_positive(kind k);
    void apply_negative(kind k, std::uint16_t code);
    void after_message_reply();
    void count_auth_failure();
    [[nodiscard]] canned default_positive() const noexcept;

    // ---- state changes ----
    void end_transaction(errc why, std::uint16_t code) noexcept;
    void clear_transaction() noexcept;
    server_event take_reset() noexcept;
    server_event reset_or(server_event ev) noexcept;
    server_event close_unframed(const command_result& r);
    void close(errc reason) noexcept;
    void wipe_sasl() noexcept;
    [[nodiscard]] bool plaintext_auth_allowed() const noexcept;
    [[nodiscard]] bool offers_mechanism(std::string_view mech) const noexcept;

    server_config cfg_;
    command_options opts_;
    std::size_t mail_rcpt_limit_ = 0;
    std::size_t frame_limit_ = 0;

    detail::output_buffer out_;
    detail::line_framer in_;
    data_decoder body_;
    command_result parsed_;
    std::string sasl_; // decoded SASL responses (LOGIN: username then password)

    // Connection.
    mode mode_ = mode::command;
    phase phase_ = phase::connecting;
    kind decision_ = kind::need_data; // need_data: no decision pending
    errc close_reason_ = errc::ok;
    canned refusal_{503, {5, 5, 1}, "Service refused, only QUIT is allowed"};
    std::size_t errors_ = 0;
    std::size_t auth_failures_ = 0;
    bool closed_ = false;
    bool eof_ = false;
    // A transaction ended without message_end: transaction_reset is due before anything else.
    bool reset_due_ = false;
    errc reset_error_ = errc::ok;
    std::uint16_t reset_code_ = 0;
    bool tls_ = false;
    bool authed_ = false;
    bool ehlo_ = false; // the pending hello is EHLO/LHLO (not HELO)

    // Transaction.
    bool txn_ = false;
    bool txn_binary_ = false;
    bool txn_utf8_ = false;
    bool txn_bdat_ = false;
    bool bdat_failed_ = false;
    bool oversize_ = false;
    body_scanner bdat_body_; // BDAT text: bare CR/LF, NUL, 8-bit, long lines across chunks
    std::size_t accepted_ = 0;
    std::uint64_t body_size_ = 0;

    // BDAT chunk in progress.
    std::uint64_t chunk_size_ = 0;
    std::uint64_t chunk_left_ = 0;
    bool chunk_last_ = false;
    bool chunk_discard_ = false;
    bool chunk_reply_ = false; // the failed chunk gets chunk_error_ (LMTP LAST with 0 RCPT: no)
    bool chunk_resets_ = false;
    canned chunk_error_{503, {5, 5, 1}, ""};
    errc chunk_errc_ = errc::ok;

    // Final replies (LMTP: one per accepted recipient).
    std::size_t replies_sent_ = 0;
    std::size_t replies_due_ = 0;
    data_findings message_;
    std::uint64_t message_size_ = 0;
    bool body_done_ = false; // the DATA terminator was read with the last chunk

    // AUTH exchange.
    auth_kind auth_kind_ = auth_kind::other;
    std::size_t auth_step_ = 0;
    std::size_t login_user_size_ = 0;
    bool login_have_user_ = false;
    char mech_[20] = {};
    std::size_t mech_size_ = 0;
};

// ======================================================================================
// Implementation
// ======================================================================================

namespace detail {

[[nodiscard]] inline bool contains(std::string_view s, char c) noexcept {
    return s.find(c) != std::string_view::npos;
}

} // namespace detail

inline server_session::server_session(const server_config& config) : cfg_(config) {
    out_.set_growth_limit(cfg_.limit.output_buffer);
    bdat_body_ = body_scanner(cfg_.limit.text_line);
    opts_.address = make_address_options(cfg_.limit, false);
    opts_.lenient_space_after_colon = cfg_.lenient_space_after_colon;
    opts_.size = cfg_.size;
    opts_.eight_bit_mime = cfg_.eight_bit_mime;
    opts_.binarymime = cfg_.binarymime;
    opts_.smtputf8 = cfg_.smtputf8;
    opts_.dsn = cfg_.dsn;
    opts_.auth = !cfg_.auth_mechanisms.empty();
    mail_rcpt_limit_ = mail_rcpt_line_limit(cfg_.limit, opts_);
    frame_limit_ = mail_rcpt_limit_;
    if (opts_.auth && cfg_.limit.auth_line > frame_limit_) frame_limit_ = cfg_.limit.auth_line;
    tls_ = cfg_.tls_active;
    if (cfg_.validate() != errc::ok) close(errc::invalid_config);
}

// ---- input ----

inline errc server_session::receive(std::string_view bytes) noexcept {
    if (closed_) return errc::connection_closed;
    if (eof_) return errc::invalid_state;
    if (mode_ == mode::tls_wait) return errc::ok; // plaintext after STARTTLS: never executed
    return in_.feed(bytes);
}

inline void server_session::receive_eof() noexcept { eof_ = true; }

inline server_event server_session::next_event() {
    if (reset_due_) return take_reset();
    if (closed_) return closed_event();
    if (decision_ != kind::need_data) return make(kind::awaiting_decision);
    if (phase_ == phase::connecting) return ask(kind::connect);
    if (mode_ == mode::tls_wait) {
        if (!eof_) return make(kind::start_tls);
        close(errc::peer_closed_early); // the peer left before (or instead of) the handshake
        return closed_event();
    }
    if (replies_sent_ < replies_due_) return ask_message_end();
    switch (mode_) {
    case mode::data: return next_data();
    case mode::bdat: return next_bdat();
    default: return next_line();
    }
}

inline server_event server_session::closed_event() noexcept {
    if (reset_due_) return take_reset();
    return make(kind::closed, close_reason_);
}

inline server_event server_session::take_reset() noexcept {
    reset_due_ = false;
    return make(kind::transaction_reset, reset_error_, reset_code_);
}

// `ev`, unless a transaction just ended: its transaction_reset goes out first.
inline server_event server_session::reset_or(server_event ev) noexcept {
    return reset_due_ ? take_reset() : ev;
}

inline server_event server_session::at_input_end() {
    if (!eof_) return make(kind::need_data);
    const bool early = txn_ || in_.mid_line() || mode_ != mode::command;
    close(early ? errc::peer_closed_early : errc::connection_closed);
    return closed_event();
}

inline server_event server_session::ask(kind k) noexcept {
    decision_ = k;
    return make(k);
}

inline server_event server_session::ask_command(kind k) noexcept {
    server_event ev = ask(k);
    ev.cmd = &parsed_.cmd;
    if (k == kind::rcpt) ev.recipient_index = accepted_;
    return ev;
}

// ---- reading command lines ----

inline server_event server_session::next_line() {
    while (mode_ == mode::command || mode_ == mode::auth) {
        if (out_.size() >= cfg_.limit.output_buffer) return make(kind::output_full, errc::output_full);
        const bool auth = mode_ == mode::auth;
        const detail::frame f =
            in_.next(auth ? cfg_.limit.auth_line : frame_limit_, cfg_.lenient_bare_lf_commands);
        if (f.status == detail::frame_status::need_more) return at_input_end();
        if (f.status == detail::frame_status::too_long) {
            if (auth) return auth_fail({500, {5, 5, 6}, "Authentication line too long"}, errc::line_too_long);
            return error({500, {5, 5, 6}, "Line too long"}, errc::line_too_long);
        }
        server_event ev = auth ? on_auth_line(f.text) : on_command(f);
        if (ev.kind != kind::need_data || reset_due_) return reset_or(ev);
    }
    return next_event(); // BDAT switched to reading its chunk
}

inline server_event server_session::on_command(const detail::frame& f) {
    if (f.bare_lf) return error({500, {5, 5, 2}, "Bare LF in command line"}, errc::bare_lf);
    if (detail::contains(f.text, '\r')) return error({500, {5, 5, 2}, "Bare CR in command line"}, errc::bare_cr);
    opts_.address.allow_utf8 = txn_utf8_;
    parsed_ = parse_command(f.text, opts_);
    const command& c = parsed_.cmd;
    if (c.kind == verb::bdat && !parsed_.ok()) return close_unframed(parsed_);
    if (phase_ == phase::refused && !(c.kind == verb::quit && parsed_.ok())) {
        return refuse(c, refusal_, errc::bad_sequence);
    }
    if (f.text.size() + 2 > line_limit(c.kind)) return error({500, {5, 5, 6}, "Line too long"}, errc::line_too_long);
    if (parsed_.error == errc::unknown_command || parsed_.error == errc::unimplemented_command) {
        return error_from_parse(parsed_);
    }
    canned why{};
    const errc blocked = blocked_by_policy(c.kind, why);
    if (blocked != errc::ok) return refuse(c, why, blocked);
    if (!parsed_.ok()) return error_from_parse(parsed_);
    return dispatch(c);
}

// A refused command; a well-formed BDAT still consumes its chunk first (RFC 3030 2).
inline server_event server_session::refuse(const command& c, const canned& r, errc e) {
    if (c.kind != verb::bdat || !parsed_.ok()) return error(r, e);
    start_chunk(c);
    fail_chunk(r, e, false);
    return unless_too_large_to_discard();
}

inline std::size_t server_session::line_limit(verb v) const noexcept {
    if (v == verb::mail || v == verb::rcpt) return mail_rcpt_limit_;
    if (v == verb::auth && opts_.auth) return cfg_.limit.auth_line;
    return cfg_.limit.command_line;
}

// RFC 3207 4 and RFC 4954 6: which commands a TLS or AUTH policy still lets through.
inline errc server_session::blocked_by_policy(verb v, canned& why) const noexcept {
    const bool hello = v == verb::helo || v == verb::ehlo || v == verb::lhlo;
    const bool always = hello || v == verb::noop || v == verb::quit || v == verb::starttls;
    if (cfg_.require_tls && !tls_ && !always) {
        why = {530, {5, 7, 0}, "Must issue a STARTTLS command first"};
        return errc::tls_required;
    }
    if (cfg_.require_auth && !authed_ && !always && v != verb::auth && v != verb::rset) {
        why = {530, {5, 7, 0}, "Authentication required"};
        return errc::auth_required;
    }
    return errc::ok;
}

inline server_event server_session::dispatch(const command& c) {
    switch (c.kind) {
    case verb::helo:
    case verb::ehlo:
    case verb::lhlo: return on_hello(c);
    case verb::mail: return on_mail(c);
    case verb::rcpt: return on_rcpt(c);
    case verb::data: return on_data();
    case verb::bdat: return on_bdat(c);
    case verb::rset: return on_rset();
    case verb::noop: write(250, {2, 0, 0}, "OK"); return none();
    case verb::quit: return on_quit();
    case verb::vrfy: return ask_command(kind::vrfy);
    case verb::expn:
        if (!cfg_.expn) return error({502, {5, 5, 1}, "EXPN not available"}, errc::unimplemented_command);
        return ask_command(kind::expn);
    case verb::help: return ask_command(kind::help);
    case verb::starttls: return on_starttls();
    case verb::auth: return on_auth(c);
    default: return error_from_parse(parsed_);
    }
}

// ---- commands ----

inline server_event server_session::on_hello(const command& c) {
    const bool lhlo = c.kind == verb::lhlo;
    if (cfg_.lmtp && !lhlo) return error({500, {5, 5, 1}, "This is LMTP: use LHLO"}, errc::bad_sequence);
    if (!cfg_.lmtp && lhlo) return error({500, {5, 5, 2}, "Command unrecognized"}, errc::unknown_command);
    ehlo_ = c.kind != verb::helo;
    return ask_command(kind::hello);
}

inline server_event server_session::on_mail(const command& c) {
    if (phase_ != phase::greeted) return error({503, {5, 5, 1}, "Send HELO/EHLO first"}, errc::bad_sequence);
    if (txn_) return error({503, {5, 5, 1}, "Nested MAIL command"}, errc::bad_sequence);
    const std::uint64_t max = cfg_.limit.message_size;
    if (c.has_size && max != 0 && c.size > max) {
        return error({552, {5, 3, 4}, "Message size exceeds fixed maximum message size"},
                     errc::message_too_large);
    }
    return ask_command(kind::mail);
}

inline server_event server_session::on_rcpt(const command&) {
    if (!txn_) return error({503, {5, 5, 1}, "Need MAIL command"}, errc::bad_sequence);
    if (txn_bdat_) return error({503, {5, 5, 1}, "RCPT after BDAT"}, errc::bad_sequence);
    if (accepted_ >= cfg_.limit.recipients) {
        return error({452, {4, 5, 3}, "Too many recipients"}, errc::too_many_recipients);
    }
    return ask_command(kind::rcpt);
}

inline server_event server_session::on_data() {
    if (!txn_) return error({503, {5, 5, 1}, "Need MAIL command"}, errc::bad_sequence);
    if (txn_binary_) return error({503, {5, 5, 1}, "BODY=BINARYMIME requires BDAT"}, errc::bad_sequence);
    if (txn_bdat_) return error({503, {5, 5, 1}, "DATA after BDAT"}, errc::bad_sequence);
    if (accepted_ == 0) return error({503, {5, 5, 1}, "No valid recipients"}, errc::bad_sequence);
    return ask(kind::data);
}

// Every BDAT with a valid size consumes its octets, even when it is refused (RFC 3030 2).
inline void server_session::start_chunk(const command& c) noexcept {
    mode_ = mode::bdat;
    chunk_size_ = chunk_left_ = c.bdat_size;
    chunk_last_ = c.bdat_last;
    chunk_discard_ = false;
}

inline server_event server_session::on_bdat(const command& c) {
    start_chunk(c);
    const std::uint64_t max = cfg_.limit.message_size;
    if (!cfg_.chunking) {
        fail_chunk({502, {5, 5, 1}, "BDAT not available"}, errc::unimplemented_command, false);
    } else if (!txn_) {
        fail_chunk({503, {5, 5, 1}, "Need MAIL command"}, errc::bad_sequence, false);
    } else if (accepted_ == 0) {
        fail_chunk({503, {5, 5, 1}, "No valid recipients"}, errc::bad_sequence, false);
        if (cfg_.lmtp && chunk_last_) { // RFC 2033 4.3: one reply per accepted RCPT, here none
            chunk_reply_ = false;
            chunk_resets_ = true;
        }
    } else if (bdat_failed_) {
        fail_chunk({503, {5, 5, 1}, "Earlier BDAT failed, send RSET"}, errc::bad_sequence, false);
    } else if (max != 0 && (c.bdat_size > max || body_size_ + c.bdat_size > max)) {
        fail_chunk({552, {5, 3, 4}, "Message size exceeds fixed maximum message size"},
                   errc::message_too_large, true);
    } else {
        txn_bdat_ = true;
    }
    return unless_too_large_to_discard();
}

// RFC 3030 2 has a refused chunk read to its end before the reply; a peer could then hold the
// connection for as long as it likes to send. A refused chunk declared larger than
// limits.bdat_discard_limit is not read: its reply goes out at once and the session closes.
inline server_event server_session::unless_too_large_to_discard() {
    const std::uint64_t max = cfg_.limit.bdat_discard_limit;
    if (!chunk_discard_ || max == 0 || chunk_size_ <= max) return none();
    mode_ = mode::command;
    chunk_discard_ = false;
    if (chunk_reply_) {
        write(chunk_error_.code, chunk_error_.status, chunk_error_.text);
        end_transaction(chunk_errc_, chunk_error_.code);
    }
    close(chunk_errc_);
    return closed_event();
}

inline void server_session::fail_chunk(const canned& r, errc e, bool ends_transaction) {
    chunk_discard_ = true;
    chunk_reply_ = true;
    chunk_resets_ = ends_transaction;
    chunk_error_ = r;
    chunk_errc_ = e;
}

inline server_event server_session::on_rset() {
    end_transaction(errc::ok, 250);
    write(250, {2, 0, 0}, "OK");
    return reset_or(none());
}

// RFC 3030 2: the chunk octets that follow a BDAT whose size cannot be read would be run as
// commands. There is no safe way on: answer and close (Postfix: 521 5.5.4). A size beyond
// 2^64-1 is well-formed but too large for any limit: 552 5.3.4.
inline server_event server_session::close_unframed(const command_result& r) {
    if (r.error == errc::number_overflow) {
        write(552, {5, 3, 4},
              "Message size exceeds fixed maximum message size, closing connection");
        close(errc::message_too_large);
    } else {
        write(521, {5, 5, 4}, "Syntax: BDAT size [LAST], closing connection");
        close(r.error);
    }
    return reset_or(closed_event());
}

inline server_event server_session::on_quit() {
    write(221, {2, 0, 0}, "Bye");
    close(errc::ok);
    return closed_event();
}

inline server_event server_session::on_starttls() {
    if (tls_) return error({503, {5, 5, 1}, "TLS already active"}, errc::bad_sequence);
    // RFC 3207 4.2 forgets everything from before TLS; a transaction opened in plaintext
    // (by an attacker in the path, say) must not be carried across, not even in part.
    if (txn_) {
        return error({503, {5, 5, 1}, "STARTTLS not allowed in a mail transaction"},
                     errc::bad_sequence);
    }
    // RFC 3207 4 has one answer for "no TLS here": 454, which leaves the client to decide
    // whether to go on in the clear (conformance row S-3207-4-a).
    if (!cfg_.starttls) {
        return error({454, {4, 7, 0}, "TLS not available due to temporary reason"},
                     errc::unimplemented_command);
    }
    return ask(kind::starttls);
}

// ---- AUTH (RFC 4954) ----

inline bool server_session::plaintext_auth_allowed() const noexcept {
    return tls_ || !cfg_.plaintext_auth_requires_tls;
}

inline bool server_session::offers_mechanism(std::string_view mech) const noexcept {
    std::string_view list = cfg_.auth_mechanisms;
    while (!list.empty()) {
        const std::size_t space = list.find(' ');
        if (detail::iequals(list.substr(0, space), mech)) return true;
        if (space == std::string_view::npos) break;
        list.remove_prefix(space + 1);
    }
    return false;
}

inline server_event server_session::on_auth(const command& c) {
    if (!opts_.auth) return error({502, {5, 5, 1}, "AUTH not available"}, errc::unimplemented_command);
    if (phase_ != phase::greeted) return error({503, {5, 5, 1}, "Send EHLO first"}, errc::bad_sequence);
    if (authed_) return error({503, {5, 5, 1}, "Already authenticated"}, errc::bad_sequence);
    if (txn_) return error({503, {5, 5, 1}, "AUTH not allowed in a mail transaction"}, errc::bad_sequence);
    const std::string_view mech = c.auth_mechanism;
    if (!offers_mechanism(mech)) {
        return error({504, {5, 5, 4}, "Unrecognized authentication mechanism"}, errc::unsupported_parameter);
    }
    if (is_plaintext_mechanism(mech) && !plaintext_auth_allowed()) {
        return error({538, {5, 7, 11}, "Encryption required for requested authentication mechanism"},
                     errc::tls_required);
    }
    const bool plain = detail::iequals(mech, "PLAIN");
    auth_kind_ = plain ? auth_kind::plain : is_plaintext_mechanism(mech) ? auth_kind::login : auth_kind::other;
    mech_size_ = mech.size();
    for (std::size_t i = 0; i < mech_size_; ++i) mech_[i] = detail::to_upper(mech[i]);
    auth_step_ = 0;
    login_have_user_ = false;
    wipe_sasl();
    if (!c.has_initial_response) {
        if (auth_kind_ == auth_kind::other) return auth_event(false);
        // PLAIN: empty challenge "334 " (RFC 4954 4); LOGIN: the customary prompts.
        mode_ = mode::auth;
        write(334, {}, auth_kind_ == auth_kind::login ? sasl_login_username_challenge : std::string_view());
        return none();
    }
    if (decode_append(c.auth_initial_response) != errc::ok) {
        return auth_fail({501, {5, 5, 2}, "Invalid base64 data"}, errc::bad_base64);
    }
    return auth_got_response();
}

inline server_event server_session::on_auth_line(std::string_view line) {
    if (line == "*") return auth_fail({501, {5, 0, 0}, "Authentication cancelled"}, errc::auth_cancelled);
    ++auth_step_;
    if (auth_kind_ != auth_kind::login || !login_have_user_) wipe_sasl();
    if (decode_append(line) != errc::ok) {
        return auth_fail({501, {5, 5, 2}, "Invalid base64 data"}, errc::bad_base64);
    }
    return auth_got_response();
}

// A response is in sasl_ (for LOGIN after the username). Decide what the caller must see.
inline server_event server_session::auth_got_response() {
    if (auth_kind_ == auth_kind::login && !login_have_user_) {
        login_have_user_ = true;
        login_user_size_ = sasl_.size();
        mode_ = mode::auth;
        write(334, {}, sasl_login_password_challenge);
        return none();
    }
    mode_ = mode::command;
    sasl_plain f;
    if (auth_kind_ == auth_kind::plain) {
        const errc e = sasl_plain_parse(sasl_, f);
        if (e != errc::ok) return auth_fail({501, {5, 5, 2}, "Malformed PLAIN response"}, e);
    }
    if (auth_kind_ == auth_kind::login) {
        f.authcid = std::string_view(sasl_).substr(0, login_user_size_);
        f.password = std::string_view(sasl_).substr(login_user_size_);
    }
    server_event ev = auth_event(true);
    ev.authzid = f.authzid;
    ev.authcid = f.authcid;
    ev.password = f.password;
    if (auth_kind_ == auth_kind::login) ev.data = f.password;
    return ev;
}

inline server_event server_session::auth_event(bool has_response) noexcept {
    server_event ev = ask(kind::auth);
    ev.auth_step = auth_step_;
    ev.has_response = has_response;
    ev.mechanism = std::string_view(mech_, mech_size_);
    ev.data = sasl_;
    if (auth_step_ == 0) ev.cmd = &parsed_.cmd;
    return ev;
}

inline server_event server_session::auth_fail(const canned& r, errc e) {
    mode_ = mode::command;
    wipe_sasl();
    return error(r, e);
}

// Appends the strict base64 decoding of `text` (RFC 4954 4) to sasl_. Errors: bad_base64.
inline errc server_session::decode_append(std::string_view text) {
    const std::size_t start = sasl_.size();
    sasl_.resize(start + base64_decoded_size_max(text.size()));
    std::string_view decoded;
    const errc e = base64_decode(text, &sasl_[0] + start, sasl_.size() - start, decoded);
    sasl_.resize(e == errc::ok ? start + decoded.size() : start);
    return e;
}

inline void server_session::wipe_sasl() noexcept {
    for (char& c : sasl_) c = '\0'; // credentials do not linger in the heap block
    sasl_.clear();
}

// ---- DATA and BDAT ----

inline server_event server_session::next_data() {
    for (;;) {
        if (body_done_) return data_end();
        const std::string_view in = in_.unread();
        if (in.empty()) return at_input_end();
        const data_decoder::result r = body_.decode(in);
        in_.advance(r.consumed);
        body_done_ = r.done;
        if (r.chunk.empty() || oversize_) continue;
        // Deliver exactly the first message_size octets, however the input was split.
        std::string_view bytes = r.chunk;
        const std::uint64_t max = cfg_.limit.message_size;
        const std::uint64_t total = body_.size();
        if (max != 0 && total > max) {
            oversize_ = true;
            bytes = bytes.substr(0, static_cast<std::size_t>(max - (total - bytes.size())));
            if (bytes.empty()) continue;
        }
        server_event ev = make(kind::body_chunk);
        ev.data = bytes;
        return ev;
    }
}

inline server_event server_session::data_end() {
    mode_ = mode::command;
    body_done_ = false;
    message_ = body_.findings();
    message_size_ = body_.size();
    const bool bad = message_.bare_cr || message_.bare_lf || message_.nul;
    return message_complete(false, bad);
}

inline server_event server_session::next_bdat() {
    for (;;) {
        if (chunk_left_ == 0) return chunk_end();
        const std::string_view in = in_.unread();
        if (in.empty()) return at_input_end();
        const std::size_t n = chunk_left_ < in.size() ? static_cast<std::size_t>(chunk_left_) : in.size();
        in_.advance(n);
        chunk_left_ -= n;
        if (chunk_discard_) continue;
        server_event ev = make(kind::body_chunk);
        ev.data = in.substr(0, n);
        bdat_body_.scan(ev.data);
        return ev;
    }
}

inline server_event server_session::chunk_end() {
    mode_ = mode::command;
    if (chunk_discard_) {
        chunk_discard_ = false;
        if (!chunk_reply_) { // LMTP BDAT LAST without recipients: no reply is due (RFC 2033 4.3)
            end_transaction(errc::ok, 0);
            return reset_or(none());
        }
        if (chunk_resets_) {
            write(chunk_error_.code, chunk_error_.status, chunk_error_.text);
            end_transaction(chunk_errc_, chunk_error_.code);
            return reset_or(none());
        }
        if (txn_) bdat_failed_ = true;
        return error(chunk_error_, chunk_errc_);
    }
    body_size_ += chunk_size_;
    if (chunk_last_) {
        bdat_body_.finish();
        message_ = bdat_body_.findings();
        message_size_ = body_size_;
        // RFC 3030 2: only BODY=BINARYMIME may carry octets that are not CRLF-canonical text.
        if (txn_binary_)
            message_.bare_cr = message_.bare_lf = message_.nul = message_.long_line = false;
        return message_complete(true, message_.bare_cr || message_.bare_lf || message_.nul);
    }
    server_event ev = ask(kind::bdat_chunk);
    ev.size = chunk_size_;
    return ev;
}

inline server_event server_session::message_complete(bool chunked, bool bad_endings) {
    if (oversize_) {
        return fail_message({552, {5, 3, 4}, "Message size exceeds fixed maximum message size"},
                            errc::message_too_large);
    }
    if (bad_endings && !cfg_.lenient_bare_line_endings) {
        const errc why = message_.error();
        return fail_message({550, {5, 6, 0}, "Message contains bare CR, bare LF or NUL"}, why);
    }
    txn_bdat_ = txn_bdat_ || chunked;
    replies_sent_ = 0;
    replies_due_ = cfg_.lmtp ? accepted_ : 1;
    return ask_message_end();
}

inline server_event server_session::ask_message_end() noexcept {
    server_event ev = ask(kind::message_end);
    ev.recipient_index = replies_sent_;
    ev.recipient_count = accepted_;
    ev.size = message_size_;
    ev.chunked = txn_bdat_;
    ev.eight_bit = message_.eight_bit;
    ev.bare_line_ending = message_.bare_cr || message_.bare_lf || message_.nul;
    ev.long_line = message_.long_line;
    return ev;
}

inline server_event server_session::fail_message(const canned& r, errc e) {
    const std::size_t n = cfg_.lmtp ? accepted_ : 1;
    for (std::size_t i = 0; i < n; ++i) write(r.code, r.status, r.text);
    end_transaction(e, r.code);
    return take_reset();
}

// ---- replies ----

inline reply_options server_session::options_for(kind k) const noexcept {
    reply_options o = make_reply_options(cfg_.limit, cfg_.enhanced_status_codes);
    // RFC 6531 3.7.4: UTF-8 only in answers to VRFY/EXPN ... SMTPUTF8 and to RCPT after
    // MAIL ... SMTPUTF8.
    const bool vrfy = (k == kind::vrfy || k == kind::expn) && parsed_.cmd.vrfy_smtputf8;
    o.allow_utf8 = vrfy || (k == kind::rcpt && txn_utf8_);
    return o;
}

// A reply the session chose itself: its texts and codes are known to be valid.
inline void server_session::write(std::uint16_t code, enhanced_status status, std::string_view text) {
    const errc e = write_reply(out_, code, status, text, options_for(kind::need_data));
    SMTPP_ASSERT(e == errc::ok);
    (void)e;
}

// Writes the caller's answer to the pending decision, or nothing and an error.
inline errc server_session::emit(outcome o, std::uint16_t code, enhanced_status status,
                                 const std::string_view* lines, std::size_t count) {
    const bool positive = o == outcome::positive;
    if (decision_ == kind::hello && positive) return write_hello(lines[0]);
    if (decision_ == kind::connect) {
        // No enhanced code on a greeting (RFC 2034 3); a 220 starts with our name (RFC 5321 4.2).
        if (!positive) return write_reply_lines(out_, code, {}, lines, count, options_for(decision_));
        return write_domain_reply(out_, reply_spec{code, {}, lines[0]}, cfg_.hostname, options_for(decision_));
    }
    return write_reply_lines(out_, code, status, lines, count, options_for(decision_));
}

// HELO: one line. EHLO/LHLO: the capability list from the config (RFC 5321 4.1.1.1), with
// STARTTLS only before TLS and plaintext SASL mechanisms only where allowed (RFC 4954 4).
inline errc server_session::write_hello(std::string_view greeting) {
    if (!ehlo_) return write_domain_reply(out_, reply_spec{250, {}, greeting}, cfg_.hostname, options_for(kind::hello));
    server_extensions ext;
    ext.pipelining = cfg_.pipelining;
    ext.size = cfg_.size;
    ext.size_limit = cfg_.limit.message_size;
    ext.eight_bit_mime = cfg_.eight_bit_mime;
    ext.smtputf8 = cfg_.smtputf8;
    ext.enhanced_status_codes = cfg_.enhanced_status_codes;
    ext.chunking = cfg_.chunking;
    ext.binarymime = cfg_.binarymime;
    ext.dsn = cfg_.dsn;
    ext.starttls = cfg_.starttls && !tls_;
    ext.expn = cfg_.expn;
    ext.help = true;
    char mechanisms[detail::max_mechanism_list];
    ext.auth_mechanisms = usable_mechanisms(mechanisms);
    return write_ehlo_reply(out_, cfg_.hostname, greeting, ext, cfg_.limit.reply_line);
}

// The configured mechanisms without PLAIN and LOGIN while those are not allowed.
inline std::string_view server_session::usable_mechanisms(char (&buffer)[detail::max_mechanism_list]) const noexcept {
    if (plaintext_auth_allowed()) return cfg_.auth_mechanisms;
    std::size_t n = 0;
    std::string_view list = cfg_.auth_mechanisms;
    while (!list.empty()) {
        const std::size_t space = list.find(' ');
        const std::string_view mech = list.substr(0, space);
        if (!is_plaintext_mechanism(mech)) {
            if (n != 0) buffer[n++] = ' ';
            for (const char c : mech) buffer[n++] = c;
        }
        if (space == std::string_view::npos) break;
        list.remove_prefix(space + 1);
    }
    return std::string_view(buffer, n);
}

inline bool server_session::counts_as_error(std::uint16_t code) const noexcept {
    return (code >= 500 && code <= 504) || code == 530 || code == 538 || code == 555;
}

// The session answers on its own; too many of these end the connection with 421.
inline server_event server_session::error(const canned& r, errc e) {
    write(r.code, r.status, r.text);
    const std::size_t max = cfg_.limit.errors_before_disconnect;
    if (counts_as_error(r.code) && max != 0 && ++errors_ >= max) {
        write(421, {4, 7, 0}, "Too many errors, closing connection");
        close(errc::too_many_errors);
    }
    return make(kind::protocol_error, e, r.code);
}

inline server_event server_session::error_from_parse(const command_result& r) {
    canned c{r.reply_code, r.status, r.reply_text};
    if (r.cmd.kind == verb::mail && r.error == errc::non_ascii) c.code = 550; // RFC 6531 3.5
    return error(c, r.error);
}

// ---- decisions ----

inline server_session::outcome server_session::classify(std::uint16_t code) const noexcept {
    const reply_class cls = class_of(code);
    const bool negative = cls == reply_class::transient_negative || cls == reply_class::permanent_negative;
    if (negative) return outcome::negative;
    switch (decision_) {
    case kind::connect:
    case kind::starttls: return code == 220 ? outcome::positive : outcome::invalid;
    case kind::data: return code == 354 ? outcome::positive : outcome::invalid;
    default: return cls == reply_class::positive_completion ? outcome::positive : outcome::invalid;
    }
}

inline server_session::canned server_session::default_positive() const noexcept {
    switch (decision_) {
    case kind::mail: return {250, {2, 1, 0}, "Sender OK"};
    case kind::rcpt: return {250, {2, 1, 5}, "Recipient OK"};
    case kind::data: return {354, {}, "End data with <CR><LF>.<CR><LF>"};
    case kind::message_end: return {250, {2, 0, 0}, "Message accepted"};
    case kind::bdat_chunk: return {250, {2, 0, 0}, "Chunk received"};
    case kind::vrfy: return {252, {2, 5, 0}, "Cannot VRFY user, but will accept message and attempt delivery"};
    case kind::expn: return {252, {2, 5, 0}, "Cannot EXPN list"};
    case kind::help: return {214, {2, 0, 0}, "See RFC 5321"};
    case kind::starttls: return {220, {2, 0, 0}, "Ready to start TLS"};
    case kind::auth: return {235, {2, 7, 0}, "Authentication successful"};
    default: return {250, {2, 0, 0}, "OK"};
    }
}

inline errc server_session::accept() {
    if (decision_ == kind::need_data) return errc::invalid_state;
    if (decision_ == kind::connect) return reply(220, {}, cfg_.greeting_text);
    if (decision_ == kind::hello) return reply(250, {}, {});
    const canned d = default_positive();
    return reply(d.code, d.status, d.text);
}

inline errc server_session::reject(std::uint16_t code, enhanced_status status, std::string_view text) {
    if (decision_ == kind::need_data) return errc::invalid_state;
    const reply_class cls = class_of(code);
    if (cls != reply_class::transient_negative && cls != reply_class::permanent_negative) {
        return errc::bad_reply_code;
    }
    return reply_lines(code, status, &text, 1);
}

inline errc server_session::reply(std::uint16_t code, enhanced_status status, std::string_view text) {
    return reply_lines(code, status, &text, 1);
}

inline errc server_session::reply_lines(std::uint16_t code, enhanced_status status,
                                        const std::string_view* lines, std::size_t count) {
    if (decision_ == kind::need_data) return errc::invalid_state;
    if (count == 0 || count > cfg_.limit.reply_lines) return errc::invalid_argument;
    if (!is_valid_reply_code(code)) return errc::bad_reply_code;
    const outcome o = classify(code);
    if (o == outcome::invalid) return errc::bad_reply_code;
    const bool one_line_only = decision_ == kind::hello || decision_ == kind::data || decision_ == kind::connect ||
                               decision_ == kind::starttls || decision_ == kind::auth;
    if (count > 1 && o == outcome::positive && one_line_only) return errc::invalid_argument;
    const bool coded = class_of(code) != reply_class::positive_intermediate;
    if (status.empty() && coded) status = {static_cast<std::uint8_t>(code / 100), 0, 0};
    const errc e = emit(o, code, status, lines, count);
    if (e != errc::ok) return e;
    const kind k = decision_;
    decision_ = kind::need_data;
    if (o == outcome::positive) apply_positive(k);
    else apply_negative(k, code);
    return errc::ok;
}

// The state change an accepted decision brings; its reply is already written.
inline void server_session::apply_positive(kind k) {
    switch (k) {
    case kind::connect: phase_ = phase::fresh; return;
    case kind::hello:
        end_transaction(errc::ok, 250); // RFC 5321 4.1.4: an accepted EHLO acts as RSET
        phase_ = phase::greeted;
        return;
    case kind::mail:
        txn_ = true;
        txn_binary_ = parsed_.cmd.body == body_type::binary_mime;
        txn_utf8_ = parsed_.cmd.smtputf8;
        return;
    case kind::rcpt: ++accepted_; return;
    case kind::data:
        mode_ = mode::data;
        body_ = data_decoder(cfg_.limit.text_line, 0);
        body_done_ = oversize_ = false;
        return;
    case kind::message_end: return after_message_reply();
    case kind::starttls:
        mode_ = mode::tls_wait;
        in_.discard_all(); // RFC 3207 4.2: nothing sent before TLS may be executed
        return;
    case kind::auth:
        authed_ = true;
        mode_ = mode::command;
        wipe_sasl();
        return;
    default: return;
    }
}

// The state change a refused decision brings; its reply is already written.
inline void server_session::apply_negative(kind k, std::uint16_t code) {
    switch (k) {
    case kind::connect:
        if (code / 100 == 4) return close(errc::service_closing);
        phase_ = phase::refused;
        if (code == 521) refusal_ = {521, {5, 3, 2}, "This host does not accept mail"};
        return;
    case kind::message_end: return after_message_reply();
    case kind::bdat_chunk: bdat_failed_ = true; return;
    case kind::auth:
        mode_ = mode::command;
        wipe_sasl();
        if (code / 100 == 5) count_auth_failure();
        return;
    default: return;
    }
}

// Each permanent refusal of an AUTH exchange counts, whatever the caller's reason; at
// limits.auth_failures_before_disconnect the session closes (a password guesser gets a few
// tries per connection, not millions). Temporary refusals (454) do not count.
inline void server_session::count_auth_failure() {
    const std::size_t max = cfg_.limit.auth_failures_before_disconnect;
    if (max == 0 || ++auth_failures_ < max) return;
    write(421, {4, 7, 0}, "Too many authentication failures, closing connection");
    close(errc::auth_failed);
}

inline void server_session::after_message_reply() {
    if (++replies_sent_ < replies_due_) return;
    replies_sent_ = replies_due_ = 0;
    clear_transaction(); // message_end ended it: no transaction_reset
}

inline errc server_session::challenge(std::string_view raw) {
    if (decision_ != kind::auth) return errc::invalid_state;
    decision_ = kind::need_data;
    out_.append("334 ", 4);
    base64_encode_append(raw, out_);
    out_.append("\r\n", 2);
    mode_ = mode::auth;
    return errc::ok;
}

// ---- connection ----

inline errc server_session::tls_established(bool acceptable) {
    if (closed_ || mode_ != mode::tls_wait) return errc::invalid_state;
    tls_ = true;
    end_transaction(errc::ok, 0); // RFC 3207 4.2 (STARTTLS is refused inside one anyway)
    mode_ = mode::command;
    phase_ = phase::fresh;
    authed_ = false;
    if (!acceptable) {
        phase_ = phase::refused;
        refusal_ = {554, {5, 7, 0}, "TLS not acceptable, only QUIT is allowed"};
    }
    return errc::ok;
}

inline void server_session::shutdown() {
    if (closed_) return;
    write(421, {4, 3, 2}, "Service shutting down, closing connection");
    close(errc::service_closing);
}

// Every way a transaction ends, but message_end, goes through here: the caller learns of it
// by a transaction_reset, the next event handed out, and drops what it buffered.
inline void server_session::end_transaction(errc why, std::uint16_t code) noexcept {
    if (txn_ && !reset_due_) {
        reset_due_ = true;
        reset_error_ = why;
        reset_code_ = code;
    }
    clear_transaction();
}

inline void server_session::clear_transaction() noexcept {
    txn_ = txn_binary_ = txn_utf8_ = txn_bdat_ = bdat_failed_ = oversize_ = false;
    bdat_body_.reset();
    accepted_ = 0;
    body_size_ = 0;
}

inline void server_session::close(errc reason) noexcept {
    end_transaction(reason, 0);
    closed_ = true;
    close_reason_ = reason;
    decision_ = kind::need_data;
    replies_sent_ = replies_due_ = 0;
    in_.discard_all();
    wipe_sasl();
}

inline std::size_t server_session::heap_bytes() const noexcept {
    return out_.heap_bytes() + in_.heap_bytes() + detail::heap_bytes_of(sasl_);
}

inline void server_session::release_idle_memory() {
    out_.release_if_empty();
    in_.release_if_empty();
    if (mode_ != mode::auth) std::string().swap(sasl_);
}

SMTPP_NAMESPACE_END

#endif // SMTPP_SERVER_SESSION_HPP
