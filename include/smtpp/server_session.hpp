/// \file
/// smtpp: the server side of one SMTP or LMTP connection, Sans-IO.
///
/// The session never touches a socket and never calls back into your code:
///
/// ```unparsed
///   server_session s(config);                        // config.validate() == errc::ok
///   after every receive(), consume_output() and decision, pull events until need_data:
///   for (server_event ev = s.next_event(); ev.kind != server_event_kind::need_data; ...) {
///       rcpt, mail, ...: s.accept() now, or later (an asynchronous lookup), or s.reject(...)
///       body_chunk: keep the bytes; transaction_reset: drop the bytes kept so far
///       tls_handshake: write pending_output(), run the handshake, s.tls_established()
///       closed: write pending_output(), close the connection
///   }
///   write pending_output() to the socket; consume_output(bytes_written) once written
/// ```
///
/// Input. receive() copies the bytes it takes, so your read buffer is free again when it
/// returns, whatever the session does next: decisions may take any number of loop turns, and
/// one read buffer may serve every connection. It takes up to limits.input_buffer unread
/// octets and returns how many it took; offer the rest again once wants_read() is true.
/// receive_in_place() reads your bytes where they are, zero-copy, for fuzzers, benchmarks and
/// loops that own a buffer per connection: they must then stay valid and unchanged while
/// reading_in_place() is true (it turns false by the time next_event() returns need_data,
/// closed or tls_handshake; an unfinished line at their end is copied). receive() takes
/// nothing while in-place bytes are unread.
///
/// Decisions. Events of the decision kinds (see server_event.hpp) wait for accept(), reject(),
/// reply() or challenge(); these only queue output and may come much later. Meanwhile
/// next_event() returns awaiting_decision (pending_decision() says which) and reads nothing
/// further, so replies leave in the order of the commands (RFC 2920 3.2) and a command that
/// changes framing (DATA, BDAT, STARTTLS, AUTH) is never read past.
///
/// Output. pending_output() gives the oldest unsent bytes; they stay valid and unchanged until
/// consume_output() has taken all of them, however much the session queues meanwhile, so an
/// asynchronous write may point at them. It may return only part of what is queued
/// (pending_output_size() says how much): after consume_output(), ask again. When
/// limits.output_buffer bytes are unsent the session stops reading input (output_full, and
/// wants_read() false) until you consume some, so a peer that never reads cannot grow memory.
///
/// Timeouts. waiting() says what the session waits for and for how long (RFC 5321 4.5.3.2,
/// server_config::timeout); arm a timer when its serial changes, and call timeout_expired()
/// when it fires: 421 4.4.2 and close. Bytes that trickle in do not restart a wait.
///
/// LIFETIME: every view in an event stays valid until the next mutating call on the session
/// (receive, receive_in_place, receive_eof, next_event, accept, reject, reply, challenge,
/// consume_output, tls_established, timeout_expired, shutdown, release_idle_memory, moving it).
///
/// Choices where the RFCs leave room (documented behaviour):
///   * Over-long command line: skipped to its CRLF, then 500 5.5.2; the session goes on.
///   * Bare CR/LF inside a command line: 500 5.5.2, one reply for the whole CRLF-ended line.
///   * A message body (DATA, or BDAT without BODY=BINARYMIME) with bare CR, bare LF or NUL: read
///     to its real end, then 550 5.6.0 for the whole message (per recipient in LMTP), never a
///     second message. Opt out with server_config::lenient_bare_line_endings.
///   * 8-bit octets without BODY=8BITMIME: accepted and marked (message_end.eight_bit).
///   * Message over limits.message_size: MAIL SIZE=n above it gets 552 5.3.4; DATA beyond it
///     is read and dropped (body_chunk events stop after exactly message_size octets), then
///     552 5.3.4 after the real end. A BDAT chunk that would pass the limit is refused whole.
///   * A refused or failed BDAT consumes exactly its declared octets before its reply, up to
///     limits.bdat_discard_limit; one declared larger is answered at once and the session
///     closes. Later BDATs of a failed transaction get 503 5.5.1 until RSET (RFC 3030 2).
///   * A BDAT whose size cannot be read: 521 5.5.4 and close (its octets cannot be told from
///     commands); a size above 2^64-1: 552 5.3.4 and close.
///   * BDAT when CHUNKING is not offered: its chunk is consumed, then 502 5.5.1.
///   * A HELO session negotiated no extension (RFC 5321 2.2.1): MAIL/RCPT parameters get 555,
///     BDAT (consumed), STARTTLS and AUTH get 503, unless lenient_helo_extensions.
///   * STARTTLS inside a mail transaction: 503 5.5.1 (RFC 3207 4.2 forgets it anyway).
///   * Every end of a transaction but message_end is reported by transaction_reset, before any
///     event of what follows: drop buffered body bytes then.
///   * Protocol errors (500-504, 530, 538, 555) count; at limits.errors_before_disconnect the
///     session adds 421 4.7.0 and closes. The 503 to DATA or BDAT after every pipelined RCPT
///     was refused by you does not count (RFC 2920 clients send it). Your own refusals do not
///     count, but for AUTH: each 5xx to an AUTH exchange counts toward
///     limits.auth_failures_before_disconnect (then 421 4.7.0 and close).
#ifndef SMTPP_SERVER_SESSION_HPP
#define SMTPP_SERVER_SESSION_HPP

#include <smtpp/base64.hpp>
#include <smtpp/bdat.hpp>
#include <smtpp/command.hpp>
#include <smtpp/data.hpp>
#include <smtpp/detail/ascii.hpp>
#include <smtpp/detail/input_buffer.hpp>
#include <smtpp/detail/output_queue.hpp>
#include <smtpp/detail/sequence.hpp>
#include <smtpp/detail/server_rules.hpp>
#include <smtpp/detail/server_sasl.hpp>
#include <smtpp/ehlo_writer.hpp>
#include <smtpp/error.hpp>
#include <smtpp/macros.hpp>
#include <smtpp/reply.hpp>
#include <smtpp/sasl.hpp>
#include <smtpp/server_config.hpp>
#include <smtpp/server_event.hpp>
#include <smtpp/status.hpp>
#include <smtpp/timeouts.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

namespace detail {

// The mail transaction in progress; `= {}` ends it.
struct server_transaction {
    bool open = false;           // MAIL accepted
    bool binary = false;         // BODY=BINARYMIME (RFC 3030 3)
    bool utf8 = false;           // SMTPUTF8 (RFC 6531 3.4)
    bool chunks = false;         // a BDAT chunk was accepted
    bool chunk_failed = false;   // a BDAT of this transaction failed: 503 until RSET
    std::size_t accepted = 0;    // recipients accepted
    std::size_t refused = 0;     // recipients refused by the caller
    std::uint64_t body_size = 0; // BDAT octets accepted so far
};

// The final replies of a message: one in SMTP, one per accepted recipient in LMTP.
// The message whose final replies are being asked for (LMTP: one per accepted recipient).
struct final_replies {
    std::size_t sent = 0;
    std::size_t due = 0;
    std::uint64_t size = 0;
    bool eight_bit = false;
    bool bare_line_ending = false; // bare CR, bare LF or NUL (accepted: lenient_bare_line_endings)
    bool long_line = false;
};

// Why the chunk being read was refused, and what its end brings.
struct chunk_refusal {
    reply_spec reply;
    errc error = errc::ok;
    bool replies = true; // LMTP BDAT LAST with no recipient: no reply (RFC 2033 4.3)
    bool ends_transaction = false;
};

// A transaction ended without message_end: transaction_reset is due before anything else.
struct pending_reset {
    bool due = false;
    errc error = errc::ok;
    std::uint16_t code = 0;
};

} // namespace detail

/// The server side of one SMTP or LMTP connection: bytes from the peer go in, events come out,
/// your decisions queue the replies. The contract (input, decisions, output, timeouts,
/// lifetime of views) is described with server_session.hpp.
class server_session {
public:
    /// Builds a session for one connection; the config is copied. An invalid config
    /// (validate() != ok) gives a session whose first event is closed with invalid_config.
    explicit server_session(const server_config& config);

    server_session(const server_session&) = delete;
    server_session& operator=(const server_session&) = delete;
    /// Moves the session; as any mutating call, it ends the views handed out before.
    server_session(server_session&&) = default;
    /// Moves the session; as any mutating call, it ends the views handed out before.
    server_session& operator=(server_session&&) = default;
    ~server_session() = default;

    // ---- input ----

    /// Copies bytes from the peer, up to limits.input_buffer unread octets, and returns how
    /// many it took: all of them unless the buffer is full (offer the rest again once
    /// wants_read() is true). 0 once closed, after receive_eof(), or while bytes given to
    /// receive_in_place() are unread. Between an accepted STARTTLS and tls_established() every
    /// byte is taken and dropped (RFC 3207 4.2).
    [[nodiscard]] std::size_t receive(std::string_view bytes);

    /// Reads the bytes in place: keep them valid and unchanged while reading_in_place() is
    /// true. Errors: invalid_state while earlier bytes are unread or after receive_eof()
    /// (nothing taken), connection_closed once closed.
    [[nodiscard]] errc receive_in_place(std::string_view bytes) noexcept;
    /// True while bytes given to receive_in_place() are unread (the session may still point
    /// into them); false once every one was read or copied.
    [[nodiscard]] bool reading_in_place() const noexcept { return !in_.drained(); }

    /// The peer closed its side. Complete commands already received are still processed; an
    /// open transaction is cancelled (transaction_reset, never message_end).
    void receive_eof() noexcept;

    /// The next thing to act on; see server_event_kind. Views in the event live until the next
    /// mutating call.
    [[nodiscard]] server_event next_event();

    // ---- decisions (only while a decision event is unanswered; else invalid_state) ----

    /// Answers the pending decision with its default positive reply (see server_event_kind).
    /// Errors: invalid_state.
    [[nodiscard]] errc accept();
    /// Refuses with a 4xx/5xx reply, e.g. reject(smtpp::replies::relay_denied). `status` may be
    /// empty: with ENHANCEDSTATUSCODES, x.0.0 is used (the greeting never carries one). Long
    /// texts are wrapped (reply.hpp). Nothing is written and nothing changes on error:
    /// invalid_state (no decision pending), invalid_reply_code (not 4xx/5xx),
    /// invalid_enhanced_status (class != first digit, or not in the RFC 5248 registry),
    /// invalid_reply_text (CR, LF, NUL, controls; 8-bit except in the RFC 6531 3.7.4 cases:
    /// VRFY/EXPN ... SMTPUTF8, RCPT after MAIL ... SMTPUTF8), invalid_utf8. A text from outside
    /// (a database, a policy service) can fail: check the result and fall back to a catalog
    /// reply such as replies::local_error, or the client waits for its own timeout.
    [[nodiscard]] errc reject(std::uint16_t code, enhanced_status status, std::string_view text);
    /// Refuses with `reply`, a catalog entry (replies::) or your own; as above.
    [[nodiscard]] errc reject(const reply_spec& reply);
    /// A full custom reply. The code picks the path: 4xx/5xx refuse; the positive code the
    /// decision calls for accepts (220 for connect and starttls, 354 for data, 2xx otherwise;
    /// anything else is invalid_reply_code; for auth use challenge() rather than 334). For
    /// connect and hello the session writes its hostname first and `text` follows it; for
    /// EHLO/LHLO the capability lines follow. Errors as reject().
    [[nodiscard]] errc reply(std::uint16_t code, enhanced_status status, std::string_view text);
    /// As above, with the code, status and text of `reply`.
    [[nodiscard]] errc reply(const reply_spec& reply);
    /// As above with `count` lines (a multi-line reply, e.g. EXPN). Positive multi-line replies
    /// are refused (invalid_argument) for connect, hello, data, starttls and auth; count 0 or
    /// above limits.reply_lines is invalid_argument too.
    [[nodiscard]] errc reply(std::uint16_t code, enhanced_status status,
                             const std::string_view* lines, std::size_t count);
    /// auth only: sends `334 <base64 of raw>` and waits for the client's next response, which
    /// comes back as another auth event. Errors: invalid_state.
    [[nodiscard]] errc challenge(std::string_view raw);
    /// The decision event waiting for an answer, or need_data when none is.
    [[nodiscard]] server_event_kind pending_decision() const noexcept { return decision_; }

    // ---- connection ----

    /// After tls_handshake: the handshake succeeded. The session forgets everything from before
    /// (back to just after the greeting: no new greeting, EHLO required, STARTTLS no longer
    /// offered; RFC 3207 4.2). acceptable=false: the TLS result is not good enough, every
    /// command but QUIT gets 554 5.7.0 (RFC 3207 4.1). Errors: invalid_state.
    [[nodiscard]] errc tls_established(bool acceptable = true);

    /// Queues an unsolicited 421 4.3.2 and closes (RFC 5321 3.8). An open transaction is
    /// cancelled. No-op once closed.
    void shutdown();

    /// What the session waits for from the peer now, and for how long (see timeouts.hpp).
    [[nodiscard]] wait_state waiting() const noexcept;
    /// The wait waiting() described ran out: 421 4.4.2 and close (closed: timed_out).
    /// invalid_state (nothing changes) when the session waits for no peer input: closed, a
    /// decision of yours pending, or a TLS handshake (that timeout is the caller's).
    [[nodiscard]] errc timeout_expired();

    // ---- output ----

    /// The oldest unsent bytes; valid and unchanged until consume_output() has taken all of
    /// them, whatever is queued meanwhile. Possibly not all that is queued: ask again after
    /// consume_output(). Calling it hands the bytes out (later output queues behind them): to
    /// ask whether anything is queued, use pending_output_size() or wants_write().
    [[nodiscard]] std::string_view pending_output() const noexcept { return out_.front(); }
    /// Every unsent byte queued, pending_output() and what follows it.
    [[nodiscard]] std::size_t pending_output_size() const noexcept { return out_.size(); }
    /// The transport wrote the first `n` bytes of pending_output() (clamped to its size).
    void consume_output(std::size_t n) noexcept { out_.consume(n); }

    /// True when receive() would take bytes and the session would read them.
    [[nodiscard]] bool wants_read() const noexcept;
    /// How many octets receive() takes now: read at most this much into a buffer you reuse,
    /// and nothing is ever left over (0 while wants_read() is false).
    [[nodiscard]] std::size_t input_room() const noexcept {
        return wants_read() ? config_.limit.input_buffer - in_.held_unread() : 0;
    }
    /// True when output is queued (pending_output_size() is not 0).
    [[nodiscard]] bool wants_write() const noexcept { return !out_.empty(); }
    /// True once the session is over: write what is pending, then close the connection.
    [[nodiscard]] bool is_closed() const noexcept { return closed_; }

    // ---- state ----

    /// True once TLS is in effect: after tls_established(), or from the start with
    /// server_config::tls_active.
    [[nodiscard]] bool tls_active() const noexcept { return tls_; }
    /// True once an AUTH exchange succeeded (STARTTLS resets it).
    [[nodiscard]] bool authenticated() const noexcept { return authed_; }
    /// True from an accepted MAIL until its transaction ends.
    [[nodiscard]] bool in_transaction() const noexcept { return txn_.open; }
    /// Recipients accepted in the current transaction.
    [[nodiscard]] std::size_t accepted_recipients() const noexcept { return txn_.accepted; }
    /// Heap bytes the session holds (buffers are reserved on demand and reused).
    [[nodiscard]] std::size_t heap_bytes() const noexcept;
    /// Returns empty buffers to the heap; for idle connections. The next use allocates again.
    void release_idle_memory();

private:
    enum class mode : std::uint8_t { command, auth, data, bdat, tls_wait };
    enum class phase : std::uint8_t { connecting, refused, open };
    using kind = server_event_kind;

    // ---- events ----
    [[nodiscard]] static server_event make(kind k, errc e = errc::ok,
                                           std::uint16_t code = 0) noexcept;
    static server_event none() noexcept { return make(kind::need_data); }
    server_event ask(kind k) noexcept;
    server_event ask_command(kind k) noexcept;
    server_event closed_event() noexcept;
    server_event take_reset() noexcept;
    server_event reset_or(server_event ev) noexcept;
    server_event at_input_end();

    // ---- reading ----
    server_event next_line();
    server_event next_data();
    server_event next_bdat();
    server_event on_command(const detail::frame& f);
    server_event dispatch(const command& c);
    [[nodiscard]] command_options parse_options() const noexcept;
    [[nodiscard]] std::size_t mail_rcpt_limit() const noexcept;
    [[nodiscard]] std::size_t frame_limit() const noexcept;
    [[nodiscard]] std::size_t line_limit(verb v) const noexcept;
    [[nodiscard]] errc blocked_by_policy(verb v, reply_spec& why) const noexcept;
    [[nodiscard]] detail::transaction_state transaction_state() const noexcept;
    [[nodiscard]] bool out_of_sequence(const command& c, reply_spec& why) const noexcept;
    server_event refuse(const command& c, const reply_spec& r, errc e);
    server_event close_unframed();
    void count_body_octets(std::size_t n) noexcept;

    // ---- commands ----
    server_event on_hello(const command& c);
    server_event on_mail(const command& c);
    server_event on_rcpt(const command& c);
    server_event on_data(const command& c);
    server_event on_bdat(const command& c);
    void start_chunk(const command& c) noexcept;
    void refuse_chunk(const reply_spec& r, errc e, bool ends_transaction) noexcept;
    server_event unless_too_large_to_discard();
    server_event on_rset();
    server_event on_quit();
    server_event on_starttls(const command& c);
    server_event on_auth(const command& c);
    server_event on_auth_line(std::string_view line);
    server_event after_auth_response(errc decoded, detail::server_sasl::next what);
    server_event auth_event(bool has_response) noexcept;
    server_event auth_fail(const reply_spec& r, errc e);
    [[nodiscard]] bool plaintext_auth_allowed() const noexcept;
    [[nodiscard]] bool offers_mechanism(std::string_view mech) const noexcept;

    // ---- message ends ----
    server_event data_end();
    server_event chunk_end();
    server_event message_complete(const data_findings& f, std::uint64_t size, bool chunked);
    server_event fail_message(const reply_spec& r, errc e);
    server_event ask_message_end() noexcept;

    // ---- replies ----
    void write(const reply_spec& r);
    [[nodiscard]] errc emit(bool positive, std::uint16_t code, enhanced_status status,
                            const std::string_view* lines, std::size_t count);
    [[nodiscard]] errc write_hello(std::string_view greeting);
    [[nodiscard]] reply_options options_for(kind k) const noexcept;
    [[nodiscard]] std::string_view
    usable_mechanisms(char (&buffer)[detail::max_mechanism_list]) const noexcept;
    server_event error(const reply_spec& r, errc e, bool counts = true);
    server_event error_from_parse();
    [[nodiscard]] static bool counts_as_error(std::uint16_t code) noexcept;

    // ---- decisions ----
    void apply(detail::decision_effect effect, std::uint16_t code);
    void after_message_reply();
    void count_auth_failure();

    // ---- state changes ----
    void end_transaction(errc why, std::uint16_t code) noexcept;
    void set_hello(detail::hello_state hello) noexcept;
    void close(errc reason) noexcept;
    void new_wait() noexcept { ++wait_serial_; }

    server_config config_;

    detail::output_queue out_;
    detail::input_buffer in_;
    data_decoder data_;
    bdat_reader chunk_;
    body_scanner chunk_text_; // BDAT text: bare CR/LF, NUL, 8-bit, long lines across chunks
    command_result parsed_;
    detail::server_sasl sasl_;

    detail::server_transaction txn_;
    detail::final_replies final_;
    detail::chunk_refusal chunk_refusal_;
    detail::pending_reset reset_;

    // Connection.
    mode mode_ = mode::command;
    phase phase_ = phase::connecting;
    detail::hello_state hello_ = detail::hello_state::none;
    kind decision_ = kind::need_data; // need_data: no decision pending
    errc close_reason_ = errc::ok;
    const reply_spec* refusal_ = &replies::service_refused; // a catalog entry
    std::uint32_t errors_ = 0;                              // saturating counters
    std::uint32_t auth_failures_ = 0;
    std::uint64_t wait_serial_ = 0;
    std::uint64_t body_octets_ = 0; // left in the data block being read (its wait ends there)
    bool closed_ = false;
    bool eof_ = false;
    bool tls_ = false;
    bool authed_ = false;
    bool ehlo_ = false; // the pending hello is EHLO/LHLO (not HELO)
    bool chunk_last_ = false;
    bool body_done_ = false; // the DATA terminator was read with the last chunk
};

// ======================================================================================
// Implementation
// ======================================================================================

inline server_session::server_session(const server_config& config)
    : config_(config), data_(config.limit.text_line, config.limit.message_size),
      chunk_text_(config.limit.text_line) {
    out_.set_growth_limit(config_.limit.output_buffer);
    tls_ = config_.tls_active;
    if (config_.validate() != errc::ok) close(errc::invalid_config);
}

// ---- input ----

inline std::size_t server_session::receive(std::string_view bytes) {
    if (closed_ || eof_) return 0;
    if (mode_ == mode::tls_wait) return bytes.size(); // plaintext after STARTTLS: never executed
    return in_.copy_in(bytes, config_.limit.input_buffer);
}

inline errc server_session::receive_in_place(std::string_view bytes) noexcept {
    if (closed_) return errc::connection_closed;
    if (eof_) return errc::invalid_state;
    if (mode_ == mode::tls_wait) return errc::ok;
    return in_.place(bytes);
}

inline void server_session::receive_eof() noexcept { eof_ = true; }

inline bool server_session::wants_read() const noexcept {
    return !closed_ && !eof_ && mode_ != mode::tls_wait && in_.drained() &&
           in_.held_unread() < config_.limit.input_buffer &&
           out_.size() < config_.limit.output_buffer;
}

inline server_event server_session::next_event() {
    if (reset_.due) return take_reset();
    if (closed_) return closed_event();
    if (decision_ != kind::need_data) return make(kind::awaiting_decision);
    if (phase_ == phase::connecting) return ask(kind::connect);
    if (mode_ == mode::tls_wait) {
        if (!eof_) return make(kind::tls_handshake);
        close(errc::peer_closed_early); // the peer left before (or instead of) the handshake
        return closed_event();
    }
    if (final_.sent < final_.due) return ask_message_end();
    switch (mode_) {
    case mode::data:
        return next_data();
    case mode::bdat:
        return next_bdat();
    default:
        return next_line();
    }
}

// ---- events ----

inline server_event server_session::make(kind k, errc e, std::uint16_t code) noexcept {
    server_event ev;
    ev.kind = k;
    ev.error = e;
    ev.reply_code = code;
    return ev;
}

inline server_event server_session::closed_event() noexcept {
    if (reset_.due) return take_reset();
    return make(kind::closed, close_reason_);
}

inline server_event server_session::take_reset() noexcept {
    reset_.due = false;
    return make(kind::transaction_reset, reset_.error, reset_.code);
}

// `ev`, unless a transaction just ended: its transaction_reset goes out first.
inline server_event server_session::reset_or(server_event ev) noexcept {
    return reset_.due ? take_reset() : ev;
}

inline server_event server_session::at_input_end() {
    if (!eof_) return make(kind::need_data);
    const bool early = txn_.open || in_.mid_line() || mode_ != mode::command;
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
    if (k == kind::rcpt) ev.recipient_index = txn_.accepted;
    return ev;
}

// ---- reading command lines ----

inline server_event server_session::next_line() {
    while (mode_ == mode::command || mode_ == mode::auth) {
        if (out_.size() >= config_.limit.output_buffer)
            return make(kind::output_full, errc::output_full);
        const bool auth = mode_ == mode::auth;
        const detail::frame f = in_.next_line(auth ? config_.limit.auth_line : frame_limit(),
                                              config_.lenient_bare_lf_commands);
        if (f.status == detail::frame_status::need_more) return at_input_end();
        new_wait(); // a line is in: the wait for the next one starts afresh
        if (f.status == detail::frame_status::too_long) {
            if (auth) return auth_fail(replies::auth_line_too_long, errc::line_too_long);
            return error(replies::line_too_long, errc::line_too_long);
        }
        server_event ev = auth ? on_auth_line(f.text) : on_command(f);
        if (ev.kind != kind::need_data || reset_.due) return reset_or(ev);
    }
    return next_event(); // BDAT switched to reading its chunk
}

inline server_event server_session::on_command(const detail::frame& f) {
    if (f.bare_lf) return error(replies::bare_lf_in_command, errc::bare_lf);
    if (f.text.find('\r') != std::string_view::npos)
        return error(replies::bare_cr_in_command, errc::bare_cr);
    parse_command(f.text, parse_options(), parsed_);
    const command& c = parsed_.cmd;
    if (c.kind == verb::bdat && !parsed_.ok()) return close_unframed();
    if (phase_ == phase::refused && !(c.kind == verb::quit && parsed_.ok())) {
        return refuse(c, *refusal_, errc::bad_sequence);
    }
    if (f.text.size() + 2 > line_limit(c.kind))
        return error(replies::line_too_long, errc::line_too_long);
    if (parsed_.error == errc::unknown_command || parsed_.error == errc::unimplemented_command) {
        return error_from_parse();
    }
    reply_spec why{};
    const errc blocked = blocked_by_policy(c.kind, why);
    if (blocked != errc::ok) return refuse(c, why, blocked);
    if (!parsed_.ok()) return error_from_parse();
    return dispatch(c);
}

// A refused command; a well-formed BDAT still consumes its chunk first (RFC 3030 2).
inline server_event server_session::refuse(const command& c, const reply_spec& r, errc e) {
    if (c.kind != verb::bdat) return error(r, e);
    start_chunk(c);
    refuse_chunk(r, e, false);
    return unless_too_large_to_discard();
}

// RFC 3030 2: the chunk octets that follow a BDAT whose size cannot be read would be run as
// commands. There is no safe way on: answer and close (Postfix: 521 5.5.4). A size beyond
// 2^64-1 is well-formed but too large for any limit: 552 5.3.4.
inline server_event server_session::close_unframed() {
    const bool too_large = parsed_.error == errc::number_overflow;
    write(too_large ? replies::message_too_big_closing : replies::bdat_unframed);
    close(too_large ? errc::message_too_large : parsed_.error);
    return closed_event();
}

// The MAIL/RCPT line limit of every extension offered, HELO session or not: a line is
// framed before its verb is known.
inline std::size_t server_session::mail_rcpt_limit() const noexcept {
    command_options offered;
    offered.offer = config_.offer;
    offered.auth = !config_.auth_mechanisms.empty();
    return mail_rcpt_line_limit(config_.limit, offered);
}

// The longest command line framed (a longer one is skipped and answered 500).
inline std::size_t server_session::frame_limit() const noexcept {
    const std::size_t mail_rcpt = mail_rcpt_limit();
    const bool auth = !config_.auth_mechanisms.empty();
    return auth && config_.limit.auth_line > mail_rcpt ? config_.limit.auth_line : mail_rcpt;
}

inline std::size_t server_session::line_limit(verb v) const noexcept {
    if (v == verb::mail || v == verb::rcpt) return mail_rcpt_limit();
    if (v == verb::auth && !config_.auth_mechanisms.empty()) return config_.limit.auth_line;
    return config_.limit.command_line;
}

// RFC 3207 4 and RFC 4954 6: which commands a TLS or AUTH policy still lets through.
inline errc server_session::blocked_by_policy(verb v, reply_spec& why) const noexcept {
    const bool hello = v == verb::helo || v == verb::ehlo || v == verb::lhlo;
    const bool always = hello || v == verb::noop || v == verb::quit || v == verb::starttls;
    if (config_.require_tls && !tls_ && !always) {
        why = replies::must_starttls;
        return errc::tls_required;
    }
    if (config_.require_auth && !authed_ && !always && v != verb::auth && v != verb::rset) {
        why = replies::auth_required;
        return errc::auth_required;
    }
    return errc::ok;
}

inline detail::transaction_state server_session::transaction_state() const noexcept {
    using state = detail::transaction_state;
    if (!txn_.open) return state::none;
    if (txn_.chunks) return state::chunks;
    return txn_.accepted != 0 ? state::recipients : state::mail;
}

// The sequencing table's verdict (detail/sequence.hpp): true, with the 503 in `why`, when the
// command may not come now.
inline bool server_session::out_of_sequence(const command& c, reply_spec& why) const noexcept {
    const detail::sequence_check check =
        detail::check_sequence(c.kind, hello_, transaction_state());
    if (check.allowed) return false;
    if (!check.needs_hello) {
        why = reply_spec{503, {5, 5, 1}, check.text};
    } else if (config_.lmtp) {
        why = replies::send_lhlo_first;
    } else {
        const bool ehlo_needed =
            c.kind == verb::bdat || c.kind == verb::starttls || c.kind == verb::auth;
        why = ehlo_needed ? replies::send_ehlo_first : replies::send_hello_first;
    }
    return true;
}

inline server_event server_session::dispatch(const command& c) {
    switch (c.kind) {
    case verb::helo:
    case verb::ehlo:
    case verb::lhlo:
        return on_hello(c);
    case verb::mail:
        return on_mail(c);
    case verb::rcpt:
        return on_rcpt(c);
    case verb::data:
        return on_data(c);
    case verb::bdat:
        return on_bdat(c);
    case verb::rset:
        return on_rset();
    case verb::noop:
        write(replies::ok);
        return none();
    case verb::quit:
        return on_quit();
    case verb::vrfy:
        return ask_command(kind::vrfy);
    case verb::expn:
        if (!config_.offer.expn)
            return error(replies::expn_not_available, errc::unimplemented_command);
        return ask_command(kind::expn);
    case verb::help:
        return ask_command(kind::help);
    case verb::starttls:
        return on_starttls(c);
    case verb::auth:
        return on_auth(c);
    default:
        return error_from_parse();
    }
}

// ---- commands ----

inline server_event server_session::on_hello(const command& c) {
    const bool lhlo = c.kind == verb::lhlo;
    if (config_.lmtp && !lhlo) return error(replies::use_lhlo, errc::bad_sequence);
    if (!config_.lmtp && lhlo) return error(replies::command_unrecognized, errc::unknown_command);
    ehlo_ = c.kind != verb::helo;
    return ask_command(kind::hello);
}

inline server_event server_session::on_mail(const command& c) {
    reply_spec why{};
    if (out_of_sequence(c, why)) return error(why, errc::bad_sequence);
    const std::uint64_t max = config_.limit.message_size;
    if (c.has_size && max != 0 && c.size > max)
        return error(replies::message_too_big, errc::message_too_large);
    return ask_command(kind::mail);
}

inline server_event server_session::on_rcpt(const command& c) {
    reply_spec why{};
    if (out_of_sequence(c, why)) return error(why, errc::bad_sequence);
    if (txn_.accepted >= config_.limit.recipients) {
        return error(replies::too_many_recipients, errc::too_many_recipients);
    }
    return ask_command(kind::rcpt);
}

inline server_event server_session::on_data(const command& c) {
    reply_spec why{};
    if (out_of_sequence(c, why)) {
        // RFC 2920 3.1: a pipelining client sends DATA whatever its RCPTs got; when the caller
        // refused them all, the 503 is no sign of a broken or hostile client.
        const bool expected =
            transaction_state() == detail::transaction_state::mail && txn_.refused != 0;
        return error(why, errc::bad_sequence, !expected);
    }
    if (txn_.binary) return error(replies::binarymime_needs_bdat, errc::bad_sequence);
    return ask(kind::data);
}

// Every BDAT with a valid size consumes its octets, even when it is refused (RFC 3030 2).
inline void server_session::start_chunk(const command& c) noexcept {
    mode_ = mode::bdat;
    chunk_.start(c.bdat_size);
    chunk_last_ = c.bdat_last;
    body_octets_ = config_.timeout.data_block_size;
    new_wait();
}

inline server_event server_session::on_bdat(const command& c) {
    start_chunk(c);
    const std::uint64_t max = config_.limit.message_size;
    reply_spec why{};
    if (!config_.offer.chunking) {
        refuse_chunk(replies::bdat_not_available, errc::unimplemented_command, false);
    } else if (out_of_sequence(c, why)) {
        const bool no_recipients = transaction_state() == detail::transaction_state::mail;
        refuse_chunk(why, errc::bad_sequence, false);
        if (no_recipients && config_.lmtp && chunk_last_) { // RFC 2033 4.3: one reply per
            chunk_refusal_.replies = false;                 // accepted RCPT, here none
            chunk_refusal_.ends_transaction = true;
        }
    } else if (txn_.chunk_failed) {
        refuse_chunk(replies::earlier_chunk_failed, errc::bad_sequence, false);
    } else if (max != 0 && (c.bdat_size > max || txn_.body_size + c.bdat_size > max)) {
        refuse_chunk(replies::message_too_big, errc::message_too_large, true);
    } else {
        txn_.chunks = true;
    }
    return unless_too_large_to_discard();
}

inline void server_session::refuse_chunk(const reply_spec& r, errc e,
                                         bool ends_transaction) noexcept {
    chunk_.discard();
    chunk_refusal_ = {r, e, true, ends_transaction};
}

// RFC 3030 2 has a refused chunk read to its end before the reply; a peer could then hold the
// connection for as long as it likes to send. A refused chunk declared larger than
// limits.bdat_discard_limit is not read: its reply goes out at once and the session closes.
inline server_event server_session::unless_too_large_to_discard() {
    const std::uint64_t max = config_.limit.bdat_discard_limit;
    if (!chunk_.discarding() || max == 0 || chunk_.size() <= max) return none();
    mode_ = mode::command;
    chunk_.start(0);
    if (chunk_refusal_.replies) {
        write(chunk_refusal_.reply);
        end_transaction(chunk_refusal_.error, chunk_refusal_.reply.code);
    }
    close(chunk_refusal_.error);
    return closed_event();
}

inline server_event server_session::on_rset() {
    end_transaction(errc::ok, 250);
    write(replies::ok);
    return reset_or(none());
}

inline server_event server_session::on_quit() {
    write(replies::closing);
    close(errc::ok);
    return closed_event();
}

inline server_event server_session::on_starttls(const command& c) {
    if (tls_) return error(replies::tls_already_active, errc::bad_sequence);
    // RFC 3207 4 has one answer for "no TLS here": 454, which leaves the client to decide
    // whether to go on in the clear.
    if (!config_.offer.starttls)
        return error(replies::tls_not_available, errc::unimplemented_command);
    reply_spec why{};
    if (out_of_sequence(c, why)) return error(why, errc::bad_sequence);
    return ask(kind::starttls);
}

// ---- AUTH (RFC 4954) ----

inline bool server_session::plaintext_auth_allowed() const noexcept {
    return tls_ || !config_.plaintext_auth_requires_tls;
}

inline bool server_session::offers_mechanism(std::string_view mech) const noexcept {
    std::string_view list = config_.auth_mechanisms;
    while (!list.empty()) {
        const std::size_t space = list.find(' ');
        if (detail::iequals(list.substr(0, space), mech)) return true;
        if (space == std::string_view::npos) break;
        list.remove_prefix(space + 1);
    }
    return false;
}

inline server_event server_session::on_auth(const command& c) {
    if (config_.auth_mechanisms.empty())
        return error(replies::auth_not_available, errc::unimplemented_command);
    reply_spec why{};
    if (out_of_sequence(c, why)) return error(why, errc::bad_sequence);
    if (authed_) return error(replies::already_authenticated, errc::bad_sequence);
    const std::string_view mech = c.auth_mechanism;
    if (!offers_mechanism(mech)) {
        return error(replies::auth_mechanism_unrecognized, errc::unsupported_parameter);
    }
    using mechanism_kind = detail::server_sasl::mechanism_kind;
    sasl_.start(mech);
    if (sasl_.kind() != mechanism_kind::other && !plaintext_auth_allowed()) {
        return error(replies::encryption_required, errc::tls_required);
    }
    if (!c.has_initial_response) {
        if (sasl_.kind() == mechanism_kind::other) return auth_event(false);
        // PLAIN: empty challenge "334 " (RFC 4954 4); LOGIN: the customary prompts.
        mode_ = mode::auth;
        const bool login = sasl_.kind() == mechanism_kind::login;
        write({334, {}, login ? sasl_login_username_challenge : std::string_view()});
        return none();
    }
    detail::server_sasl::next what{};
    const std::string_view ir = c.auth_initial_response.empty() ? "=" : c.auth_initial_response;
    const errc decoded = sasl_.take_response(ir, true, what);
    return after_auth_response(decoded, what);
}

inline server_event server_session::on_auth_line(std::string_view line) {
    if (line == "*") return auth_fail(replies::auth_cancelled, errc::auth_cancelled);
    detail::server_sasl::next what{};
    const errc decoded = sasl_.take_response(line, false, what);
    return after_auth_response(decoded, what);
}

// A response was decoded (or failed to): ask for the password, refuse, or let the caller judge.
inline server_event server_session::after_auth_response(errc decoded,
                                                        detail::server_sasl::next what) {
    using next = detail::server_sasl::next;
    if (decoded != errc::ok) return auth_fail(replies::auth_bad_response, errc::bad_base64);
    if (what == next::ask_password) {
        mode_ = mode::auth;
        write({334, {}, sasl_login_password_challenge});
        return none();
    }
    mode_ = mode::command;
    if (what == next::malformed) return auth_fail(replies::auth_bad_plain, errc::bad_sasl_message);
    return auth_event(true);
}

inline server_event server_session::auth_event(bool has_response) noexcept {
    server_event ev = ask(kind::auth);
    ev.auth_step = sasl_.step();
    ev.has_response = has_response;
    ev.mechanism = sasl_.mechanism();
    ev.data = sasl_.response();
    if (sasl_.step() == 0) ev.cmd = &parsed_.cmd;
    if (has_response && sasl_.kind() != detail::server_sasl::mechanism_kind::other) {
        const sasl_plain fields = sasl_.fields();
        ev.authzid = fields.authzid;
        ev.authcid = fields.authcid;
        ev.password = fields.password;
        if (sasl_.kind() == detail::server_sasl::mechanism_kind::login) ev.data = ev.password;
    }
    return ev;
}

inline server_event server_session::auth_fail(const reply_spec& r, errc e) {
    mode_ = mode::command;
    sasl_.wipe();
    return error(r, e);
}

// ---- DATA and BDAT ----

// Each data block of timeouts.data_block_size octets is a wait of its own.
inline void server_session::count_body_octets(std::size_t n) noexcept {
    // body_octets_ counts down the octets left in the current block: no division per chunk.
    const std::uint64_t block = config_.timeout.data_block_size;
    if (block == 0) return;
    if (n < body_octets_) {
        body_octets_ -= n;
        return;
    }
    new_wait();
    body_octets_ = block - (n - body_octets_) % block;
}

inline server_event server_session::next_data() {
    for (;;) {
        if (body_done_) return data_end();
        const std::string_view in = in_.unread();
        if (in.empty()) return at_input_end();
        const data_decoder::result r = data_.decode(in);
        in_.advance(r.consumed);
        count_body_octets(r.consumed);
        body_done_ = r.done;
        if (r.chunk.empty()) continue;
        // Deliver exactly the first message_size octets, however the input was split.
        std::string_view bytes = r.chunk;
        const std::uint64_t max = config_.limit.message_size;
        const std::uint64_t before = data_.size() - bytes.size();
        if (max != 0 && data_.findings().too_large) {
            if (before >= max) continue;
            bytes = bytes.substr(0, static_cast<std::size_t>(max - before));
        }
        server_event ev = make(kind::body_chunk);
        ev.data = bytes;
        return ev;
    }
}

inline server_event server_session::data_end() {
    mode_ = mode::command;
    body_done_ = false;
    return message_complete(data_.findings(), data_.size(), false);
}

inline server_event server_session::next_bdat() {
    for (;;) {
        if (chunk_.done()) return chunk_end();
        const std::string_view in = in_.unread();
        if (in.empty()) return at_input_end();
        const bdat_reader::result r = chunk_.read(in);
        in_.advance(r.consumed);
        count_body_octets(r.consumed);
        if (chunk_.discarding()) continue;
        chunk_text_.scan(r.chunk);
        server_event ev = make(kind::body_chunk);
        ev.data = r.chunk;
        return ev;
    }
}

inline server_event server_session::chunk_end() {
    mode_ = mode::command;
    if (chunk_.discarding()) {
        chunk_.start(0);
        const detail::chunk_refusal refusal = chunk_refusal_;
        if (!refusal.replies) { // LMTP BDAT LAST without recipients: no reply is due
            end_transaction(errc::ok, 0);
            return reset_or(none());
        }
        if (refusal.ends_transaction) {
            write(refusal.reply);
            end_transaction(refusal.error, refusal.reply.code);
            return reset_or(none());
        }
        if (txn_.open) txn_.chunk_failed = true;
        const bool expected = refusal.error == errc::bad_sequence && txn_.refused != 0 &&
                              transaction_state() == detail::transaction_state::mail;
        return error(refusal.reply, refusal.error, !expected);
    }
    txn_.body_size += chunk_.size();
    if (chunk_last_) {
        chunk_text_.finish();
        data_findings f = chunk_text_.findings();
        // RFC 3030 2: only BODY=BINARYMIME may carry octets that are not CRLF-canonical text.
        if (txn_.binary) f.bare_cr = f.bare_lf = f.nul = f.long_line = false;
        return message_complete(f, txn_.body_size, true);
    }
    server_event ev = ask(kind::bdat_chunk);
    ev.size = chunk_.size();
    return ev;
}

inline server_event server_session::message_complete(const data_findings& f, std::uint64_t size,
                                                     bool chunked) {
    const bool bad_endings = f.bare_cr || f.bare_lf || f.nul;
    if (f.too_large) return fail_message(replies::message_too_big, errc::message_too_large);
    if (bad_endings && !config_.lenient_bare_line_endings)
        return fail_message(replies::bad_line_endings, f.error());
    txn_.chunks = txn_.chunks || chunked;
    final_ = {};
    final_.due = config_.lmtp ? txn_.accepted : 1;
    final_.size = size;
    final_.eight_bit = f.eight_bit;
    final_.bare_line_ending = bad_endings;
    final_.long_line = f.long_line;
    return ask_message_end();
}

inline server_event server_session::ask_message_end() noexcept {
    server_event ev = ask(kind::message_end);
    ev.recipient_index = final_.sent;
    ev.recipient_count = txn_.accepted;
    ev.size = final_.size;
    ev.chunked = txn_.chunks;
    ev.last_reply = final_.sent + 1 >= final_.due;
    ev.eight_bit = final_.eight_bit;
    ev.bare_line_ending = final_.bare_line_ending;
    ev.long_line = final_.long_line;
    return ev;
}

inline server_event server_session::fail_message(const reply_spec& r, errc e) {
    const std::size_t n = config_.lmtp ? txn_.accepted : 1;
    for (std::size_t i = 0; i < n; ++i) write(r);
    end_transaction(e, r.code);
    return take_reset();
}

// ---- replies ----

inline reply_options server_session::options_for(kind k) const noexcept {
    reply_options o = make_reply_options(config_.limit, config_.offer.enhanced_status_codes);
    // RFC 6531 3.7.4: UTF-8 only in answers to VRFY/EXPN ... SMTPUTF8 and to RCPT after
    // MAIL ... SMTPUTF8.
    const bool vrfy = (k == kind::vrfy || k == kind::expn) && parsed_.cmd.vrfy_smtputf8;
    o.allow_utf8 = vrfy || (k == kind::rcpt && txn_.utf8);
    return o;
}

// A reply the session chose itself: from the catalog or the parser, known to be valid.
inline void server_session::write(const reply_spec& r) {
    detail::put_trusted_reply(out_, r, config_.offer.enhanced_status_codes);
}

// Writes the caller's answer to the pending decision, or nothing and an error.
inline errc server_session::emit(bool positive, std::uint16_t code, enhanced_status status,
                                 const std::string_view* lines, std::size_t count) {
    if (decision_ == kind::hello && positive) return write_hello(lines[0]);
    if (decision_ == kind::connect) {
        // No enhanced code on a greeting (RFC 2034 3); a 220 starts with our name (RFC 5321 4.2).
        if (!positive)
            return write_reply_lines(out_, code, {}, lines, count, options_for(decision_));
        return write_domain_reply(out_, reply_spec{code, {}, lines[0]}, config_.hostname,
                                  options_for(decision_));
    }
    return write_reply_lines(out_, code, status, lines, count, options_for(decision_));
}

// HELO: one line. EHLO/LHLO: the capability list from the config (RFC 5321 4.1.1.1), with
// STARTTLS only before TLS and plaintext SASL mechanisms only where allowed (RFC 4954 4).
inline errc server_session::write_hello(std::string_view greeting) {
    if (!ehlo_)
        return write_domain_reply(out_, reply_spec{250, {}, greeting}, config_.hostname,
                                  options_for(kind::hello));
    ehlo_offer offer;
    offer.offered = config_.offer;
    offer.offered.starttls = config_.offer.starttls && !tls_;
    offer.size_limit = config_.limit.message_size;
    char mechanisms[detail::max_mechanism_list];
    offer.auth_mechanisms = usable_mechanisms(mechanisms);
    return write_ehlo_reply(out_, config_.hostname, greeting, offer, config_.limit.reply_line);
}

// The configured mechanisms without PLAIN and LOGIN while those are not allowed.
inline std::string_view
server_session::usable_mechanisms(char (&buffer)[detail::max_mechanism_list]) const noexcept {
    if (plaintext_auth_allowed()) return config_.auth_mechanisms;
    std::size_t n = 0;
    std::string_view list = config_.auth_mechanisms;
    while (!list.empty()) {
        const std::size_t space = list.find(' ');
        const std::string_view mech = list.substr(0, space);
        if (!detail::iequals(mech, "PLAIN") && !detail::iequals(mech, "LOGIN")) {
            if (n != 0) buffer[n++] = ' ';
            for (const char c : mech) buffer[n++] = c;
        }
        if (space == std::string_view::npos) break;
        list.remove_prefix(space + 1);
    }
    return std::string_view(buffer, n);
}

inline bool server_session::counts_as_error(std::uint16_t code) noexcept {
    return (code >= 500 && code <= 504) || code == 530 || code == 538 || code == 555;
}

// The session answers on its own; too many of these end the connection with 421.
inline server_event server_session::error(const reply_spec& r, errc e, bool counts) {
    write(r);
    const std::size_t max = config_.limit.errors_before_disconnect;
    if (counts && counts_as_error(r.code) && errors_ != UINT32_MAX) ++errors_;
    if (counts && counts_as_error(r.code) && max != 0 && errors_ >= max) {
        write(replies::too_many_errors);
        close(errc::too_many_errors);
    }
    return make(kind::protocol_error, e, r.code);
}

inline server_event server_session::error_from_parse() {
    reply_spec r = parsed_.reply;
    if (parsed_.cmd.kind == verb::mail && parsed_.error == errc::non_ascii)
        r.code = 550; // RFC 6531 3.5
    return error(r, parsed_.error);
}

// ---- decisions ----

inline errc server_session::accept() {
    if (decision_ == kind::need_data) return errc::invalid_state;
    if (decision_ == kind::connect) return reply(220, {}, config_.greeting_text);
    if (decision_ == kind::hello) return reply(250, {}, {});
    return reply(detail::rule_for(decision_).default_reply);
}

inline errc server_session::reject(std::uint16_t code, enhanced_status status,
                                   std::string_view text) {
    if (decision_ == kind::need_data) return errc::invalid_state;
    if (code / 100 != 4 && code / 100 != 5) return errc::invalid_reply_code;
    return reply(code, status, &text, 1);
}

inline errc server_session::reject(const reply_spec& r) { return reject(r.code, r.status, r.text); }

inline errc server_session::reply(std::uint16_t code, enhanced_status status,
                                  std::string_view text) {
    return reply(code, status, &text, 1);
}

inline errc server_session::reply(const reply_spec& r) { return reply(r.code, r.status, r.text); }

inline errc server_session::reply(std::uint16_t code, enhanced_status status,
                                  const std::string_view* lines, std::size_t count) {
    if (decision_ == kind::need_data) return errc::invalid_state;
    if (count == 0 || count > config_.limit.reply_lines) return errc::invalid_argument;
    if (!is_valid_reply_code(code)) return errc::invalid_reply_code;
    const detail::decision_rule& rule = detail::rule_for(decision_);
    const bool negative = code / 100 == 4 || code / 100 == 5;
    if (!negative && !detail::is_allowed_positive(rule, code)) return errc::invalid_reply_code;
    if (count > 1 && !negative && !rule.multi_line_positive) return errc::invalid_argument;
    if (status.empty() && code / 100 != 3) status = {static_cast<std::uint8_t>(code / 100), 0, 0};
    const errc e = emit(!negative, code, status, lines, count);
    if (e != errc::ok) return e;
    decision_ = kind::need_data;
    new_wait();
    apply(negative ? rule.on_reject : rule.on_accept, code);
    return errc::ok;
}

inline errc server_session::challenge(std::string_view raw) {
    if (decision_ != kind::auth) return errc::invalid_state;
    decision_ = kind::need_data;
    new_wait();
    out_.append("334 ", 4);
    base64_encode_append(out_, raw);
    out_.append("\r\n", 2);
    mode_ = mode::auth;
    return errc::ok;
}

// What an answered decision changes; its reply is already written.
inline void server_session::apply(detail::decision_effect effect, std::uint16_t code) {
    using effect_kind = detail::decision_effect;
    switch (effect) {
    case effect_kind::none:
        return;
    case effect_kind::greet:
        phase_ = phase::open;
        return;
    case effect_kind::refuse_service:
        if (code / 100 == 4) return close(errc::service_closing);
        phase_ = phase::refused;
        refusal_ = code == 521 ? &replies::does_not_accept_mail : &replies::service_refused;
        return;
    case effect_kind::hello:
        end_transaction(errc::ok, 250); // RFC 5321 4.1.4: an accepted EHLO acts as RSET
        set_hello(ehlo_ ? detail::hello_state::ehlo : detail::hello_state::helo);
        return;
    case effect_kind::open_transaction:
        txn_.open = true;
        txn_.binary = parsed_.cmd.body == body_type::binary_mime;
        txn_.utf8 = parsed_.cmd.smtputf8;
        return;
    case effect_kind::add_recipient:
        ++txn_.accepted;
        return;
    case effect_kind::refuse_recipient:
        ++txn_.refused;
        return;
    case effect_kind::start_data:
        mode_ = mode::data;
        data_.reset();
        body_done_ = false;
        body_octets_ = config_.timeout.data_block_size;
        return;
    case effect_kind::message_replied:
        return after_message_reply();
    case effect_kind::chunk_refused:
        txn_.chunk_failed = true;
        return;
    case effect_kind::start_tls:
        mode_ = mode::tls_wait;
        in_.discard_all(); // RFC 3207 4.2: nothing sent before TLS may be executed
        return;
    case effect_kind::authenticated:
        authed_ = true;
        mode_ = mode::command;
        sasl_.wipe();
        return;
    case effect_kind::auth_refused:
        mode_ = mode::command;
        sasl_.wipe();
        if (code / 100 == 5) count_auth_failure();
        return;
    }
}

inline void server_session::after_message_reply() {
    if (++final_.sent < final_.due) return;
    final_ = {};
    txn_ = {}; // message_end ended it: no transaction_reset
    chunk_text_.reset();
}

// Each permanent refusal of an AUTH exchange counts, whatever the caller's reason; at
// limits.auth_failures_before_disconnect the session closes (a password guesser gets a few
// tries per connection, not millions). Temporary refusals (454) do not count.
inline void server_session::count_auth_failure() {
    const std::size_t max = config_.limit.auth_failures_before_disconnect;
    if (auth_failures_ != UINT32_MAX) ++auth_failures_;
    if (max == 0 || auth_failures_ < max) return;
    write(replies::too_many_auth_failures);
    close(errc::too_many_auth_failures);
}

// ---- connection ----

inline errc server_session::tls_established(bool acceptable) {
    if (closed_ || mode_ != mode::tls_wait) return errc::invalid_state;
    tls_ = true;
    end_transaction(errc::ok, 0); // RFC 3207 4.2 (STARTTLS is refused inside one anyway)
    mode_ = mode::command;
    phase_ = phase::open;
    set_hello(detail::hello_state::none);
    authed_ = false;
    new_wait();
    if (!acceptable) {
        phase_ = phase::refused;
        refusal_ = &replies::tls_not_acceptable;
    }
    return errc::ok;
}

inline void server_session::shutdown() {
    if (closed_) return;
    write(replies::shutting_down);
    close(errc::service_closing);
}

inline wait_state server_session::waiting() const noexcept {
    wait_state w;
    w.serial = wait_serial_;
    if (closed_ || decision_ != kind::need_data || mode_ == mode::tls_wait ||
        phase_ == phase::connecting || final_.sent < final_.due) {
        return w;
    }
    w.phase = mode_ == mode::data || mode_ == mode::bdat ? wait_phase::data : wait_phase::command;
    w.timeout = config_.timeout.of(w.phase);
    return w;
}

inline errc server_session::timeout_expired() {
    if (waiting().phase == wait_phase::none) return errc::invalid_state;
    write(replies::timeout);
    close(errc::timed_out);
    return errc::ok;
}

// Every way a transaction ends, but message_end, goes through here: the caller learns of it
// by a transaction_reset, the next event handed out, and drops what it buffered.
inline void server_session::end_transaction(errc why, std::uint16_t code) noexcept {
    if (txn_.open && !reset_.due) reset_ = {true, why, code};
    txn_ = {};
    chunk_text_.reset();
}

// What the parser accepts now. A HELO session negotiated no extension (RFC 5321 2.2.1): MAIL
// and RCPT take no parameters. UTF-8 addresses in RCPT only after MAIL ... SMTPUTF8.
inline command_options server_session::parse_options() const noexcept {
    command_options o;
    o.address = make_address_options(config_.limit, txn_.utf8);
    o.lenient_space_after_colon = config_.lenient_space_after_colon;
    const bool extended = hello_ != detail::hello_state::helo;
    o.offer = extended ? config_.offer : extensions::none();
    o.auth = extended && !config_.auth_mechanisms.empty();
    return o;
}

inline void server_session::set_hello(detail::hello_state hello) noexcept {
    hello_ = hello;
    if (hello == detail::hello_state::helo && config_.lenient_helo_extensions)
        hello_ = detail::hello_state::ehlo;
}

inline void server_session::close(errc reason) noexcept {
    end_transaction(reason, 0);
    closed_ = true;
    close_reason_ = reason;
    decision_ = kind::need_data;
    final_ = {};
    in_.discard_all();
    sasl_.wipe();
}

inline std::size_t server_session::heap_bytes() const noexcept {
    return out_.heap_bytes() + in_.heap_bytes() + sasl_.heap_bytes();
}

inline void server_session::release_idle_memory() {
    out_.release_if_empty();
    in_.release_if_empty();
    if (mode_ != mode::auth) sasl_.release();
}

SMTPP_NAMESPACE_END

#endif // SMTPP_SERVER_SESSION_HPP
