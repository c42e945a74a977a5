/// \file
/// smtpp: the client side of one SMTP or LMTP connection, Sans-IO.
///
/// The session never touches a socket and never calls back into your code:
///
/// ```unparsed
///   client_session c(config);                        // config.validate() == errc::ok
///   after every receive(), consume_output() and call below, pull events until need_data:
///     ready: c.send_mail(envelope) or c.quit();  send_body: c.send_body(piece)... c.end_body()
///     recipient_result, message_result: the verdicts;  tls_handshake: handshake, then
///     c.tls_established();  closed: write pending_output(), close the connection
///   write pending_output() to the socket; consume_output(bytes_written) once written
/// ```
///
/// The same contract as server_session: receive() copies what it takes (up to
/// limits.input_buffer unread octets) and returns how much; receive_in_place() reads in place
/// for fuzzers and benchmarks; pending_output() stays valid and unchanged until consume_output()
/// has taken it all, whatever is queued meanwhile; waiting() and timeout_expired() carry the
/// RFC 5321 4.5.3.2 timeouts (client_config::timeout).
///
/// Flow: greeting -> EHLO (HELO fallback on 5xx) -> STARTTLS -> EHLO -> AUTH -> `ready`; then
/// any number of transactions, each ended by message_result event(s), and `ready` for the next;
/// quit() -> QUIT -> 221 -> `closed`. With PIPELINING, MAIL, every RCPT and DATA go out as one
/// group and replies are matched to commands by counting (RFC 2920 3.1); otherwise one command
/// at a time (RFC 5321 4.3.1). send_mail() is allowed at `ready`. With PIPELINING (and
/// client_config::pipeline_transactions) `ready` comes once a message's content is out, before
/// its result, so the next MAIL follows the end of data without a round trip: match results to
/// messages by client_event::transaction, and keep reading events until `closed` after quit()
/// (every result comes before it).
///
/// Body pacing: send_body() refuses a piece with output_full while limits.output_buffer octets
/// are unsent; a `send_body` event follows once enough was consumed, so call next_event() after
/// consume_output(), not only after receive().
///
/// Replies are judged by the class their command allows (RFC 5321 4.3.2): only a 2yz completes
/// a command (a 3yz for DATA, and AUTH's 334 challenges). Any other positive reply answers
/// nothing; whatever is outstanding fails as temporary (retried, never lost) and the session
/// ends. So does a reply read before its command was handed out by pending_output() (RFC 5321
/// 4.2: the server cannot have seen the command yet), a reply when no command is outstanding,
/// and a reply holding NUL. Replies are read liberally where it is safe
/// (client_config::reply_line_limit, lenient_mixed_reply_codes); text with other controls
/// (ESC, DEL, ...) is acted on by its code and marked reply::controls: log it with
/// append_printable() (`<smtpp/printable.hpp>`), never as it is.
#ifndef SMTPP_CLIENT_SESSION_HPP
#define SMTPP_CLIENT_SESSION_HPP

#include <smtpp/bdat.hpp>
#include <smtpp/client_config.hpp>
#include <smtpp/client_event.hpp>
#include <smtpp/data.hpp>
#include <smtpp/detail/client_pipeline.hpp>
#include <smtpp/detail/client_sasl.hpp>
#include <smtpp/detail/input_buffer.hpp>
#include <smtpp/detail/output_queue.hpp>
#include <smtpp/detail/sequence.hpp>
#include <smtpp/ehlo_reader.hpp>
#include <smtpp/envelope.hpp>
#include <smtpp/error.hpp>
#include <smtpp/macros.hpp>
#include <smtpp/reply_reader.hpp>
#include <smtpp/timeouts.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

SMTPP_NAMESPACE_BEGIN

namespace detail {

// A transaction, from send_mail() to its last result; `= {}` starts the next.
struct client_transaction {
    std::uint32_t id = 0; // 1 for the session's first send_mail(), then 2, ...; 0: none
    body_type body = body_type::unspecified;
    bool chunked = false; // the body goes by BDAT
    std::size_t recipient_count = 0;
    std::size_t replied = 0; // RCPT replies in
    outcome worst_recipient = outcome::permanent;
    bool mail_ok = false;
    bool needs_rset = false;
    bool result_reported = false;
    bool body_ended = false;
    bool body_blocked = false;     // send_body() said output_full: a send_body event is owed
    bool lmtp_final = false;       // LMTP: the per-recipient replies after the body are due
    bool last_chunk_waits = false; // lockstep BDAT: the last chunk waits for a reply
    bool chunk_refused = false;    // a BDAT chunk was refused: RSET even after the last reply
};

} // namespace detail

/// The client side of one SMTP or LMTP connection: replies from the server go in, events come
/// out, your calls queue the commands. The contract is described with client_session.hpp.
class client_session {
public:
    /// Creates a session that waits for the server's greeting; the config is copied. An invalid
    /// configuration (client_config::validate()) makes the first event `closed` with
    /// invalid_config; nothing is ever sent.
    explicit client_session(const client_config& config);

    client_session(const client_session&) = delete;
    client_session& operator=(const client_session&) = delete;
    /// Moves the session; as any mutating call, it ends the views handed out before.
    client_session(client_session&&) = default;
    /// Moves the session; as any mutating call, it ends the views handed out before.
    client_session& operator=(client_session&&) = default;
    ~client_session() = default;

    // ---- input ----

    /// Copies bytes received from the server, up to limits.input_buffer unread octets, and
    /// returns how many it took (offer the rest again once wants_read() is true). 0 once
    /// closed, after receive_eof(), or while receive_in_place() bytes are unread. Between the 220
    /// to STARTTLS and tls_established() every byte is taken and dropped (RFC 3207 4.2: plaintext
    /// after the 220 is never taken as a reply).
    [[nodiscard]] std::size_t receive(std::string_view bytes);
    /// Reads the bytes in place: keep them valid and unchanged while reading_in_place() is
    /// true (it is false by the time next_event() returns need_data). Errors: invalid_state
    /// while earlier bytes are unread or after receive_eof() (nothing taken),
    /// connection_closed once closed.
    [[nodiscard]] errc receive_in_place(std::string_view bytes) noexcept;
    /// True while bytes given to receive_in_place() are unread (the session may still point
    /// into them); false once every one was read or copied.
    [[nodiscard]] bool reading_in_place() const noexcept { return !in_.drained(); }
    /// The server closed the connection; reported once the bytes received before it are read.
    void receive_eof() noexcept { eof_ = true; }

    /// The next event; need_data when the session waits for input or for the caller. Views in
    /// the event are valid until the next mutating call.
    [[nodiscard]] client_event next_event();

    // ---- output ----

    /// The oldest unsent bytes; valid and unchanged until consume_output() has taken all of
    /// them. Possibly not all that is queued: ask again after consume_output(). Calling it hands
    /// the bytes out: later output queues behind them, and a reply may answer a command only
    /// once it was handed out. To ask whether anything is queued, use pending_output_size() or
    /// wants_write().
    [[nodiscard]] std::string_view pending_output() const noexcept {
        const std::string_view front = out_.front();
        if (written_ + front.size() > handed_out_) handed_out_ = written_ + front.size();
        return front;
    }
    /// Every unsent byte queued, pending_output() and what follows it.
    [[nodiscard]] std::size_t pending_output_size() const noexcept { return out_.size(); }
    /// Marks the first `n` octets of pending_output() as sent (clamped to its size).
    void consume_output(std::size_t n);

    /// True while the session takes bytes from the server.
    [[nodiscard]] bool wants_read() const noexcept;
    /// How many octets receive() takes now: read at most this much into a buffer you reuse,
    /// and nothing is ever left over (0 while wants_read() is false).
    [[nodiscard]] std::size_t input_room() const noexcept {
        return wants_read() ? config_.limit.input_buffer - in_.held_unread() : 0;
    }
    /// True when output is queued (pending_output_size() is not 0).
    [[nodiscard]] bool wants_write() const noexcept { return !out_.empty(); }
    /// True once the `closed` event is due: send what pending_output() still holds, then close.
    [[nodiscard]] bool is_closed() const noexcept { return closed_; }
    /// True with implicit TLS or after tls_established().
    [[nodiscard]] bool tls_active() const noexcept { return tls_; }
    /// True after a 235 reply to AUTH.
    [[nodiscard]] bool authenticated() const noexcept { return authenticated_; }
    /// True between `ready` and the next send_mail() or quit() (also after a refused
    /// send_mail(), which leaves the session ready).
    [[nodiscard]] bool is_ready() const noexcept { return phase_ == phase::idle && !closed_; }
    /// The number of the transaction the last accepted send_mail() started: 1 for the first,
    /// then 2, ... (0 before any). Its events carry it in client_event::transaction.
    [[nodiscard]] std::uint32_t last_transaction() const noexcept { return transactions_; }

    /// What the last EHLO/LHLO reply advertised (nothing after HELO or before EHLO, and
    /// forgotten at tls_established()). Views valid until the next mutating call.
    [[nodiscard]] const capabilities& server_capabilities() const noexcept { return caps_; }

    /// What the session waits for and for how long (see timeouts.hpp).
    [[nodiscard]] wait_state waiting() const noexcept;
    /// The wait waiting() described ran out: whatever is outstanding fails as temporary
    /// (timed_out) and the session closes. invalid_state when it waits for nothing.
    [[nodiscard]] errc timeout_expired();

    // ---- commands ----

    /// Starts a transaction: queues MAIL FROM, one RCPT TO per recipient and (DATA mode) DATA.
    /// Allowed only when is_ready() (else invalid_state, nothing changes). Refuses, before any
    /// byte is queued, what the server cannot take (check_envelope(), envelope.hpp): the
    /// session then stays ready for the next send_mail() or quit(); nothing else reports it.
    /// Parameters of extensions the server did not advertise are left out (RFC 5321 4.1.1.3).
    [[nodiscard]] errc send_mail(const envelope& message);

    /// Queues a piece of the message content; allowed after a `send_body` event until
    /// end_body(). Text bodies are CRLF-normalised (unless normalize_line_endings is off) and
    /// dot-stuffed for DATA; with BDAT each piece becomes one chunk. Errors (nothing queued):
    /// invalid_state (not in the body, or the server already refused the message: stop
    /// sending, a message_result says why), output_full (drain pending_output() first; a
    /// `send_body` event follows when more is welcome), eight_bit_not_allowed,
    /// binary_not_allowed (NUL in a text body), text_line_too_long (a line over 998 octets in a
    /// text body), bare_cr, bare_lf.
    [[nodiscard]] errc send_body(std::string_view piece);

    /// Ends the message content: CRLF if the last line lacks one, then "." (DATA) or the last
    /// BDAT chunk. Errors: invalid_state (not in the body), bare_cr (a trailing CR when bare
    /// line endings are refused).
    [[nodiscard]] errc end_body();

    /// Queues QUIT (RFC 5321 4.1.1.10); the session closes when 221 (or EOF) arrives. Allowed
    /// whenever the session is not closed, not in the middle of a message body or a TLS
    /// handshake, and QUIT is not queued yet; otherwise invalid_state.
    [[nodiscard]] errc quit();

    /// Reports that the TLS handshake asked for by a `tls_handshake` event succeeded. The
    /// session forgets the capabilities and sends EHLO again (RFC 3207 4.2). invalid_state
    /// otherwise.
    [[nodiscard]] errc tls_established();

    /// Answers an `auth_challenge` with `response` (raw octets; base64-encoded on the wire).
    /// invalid_state unless a challenge is waiting.
    [[nodiscard]] errc auth_respond(std::string_view response);
    /// Cancels the exchange with `"*"` (RFC 4954 4); the server's reply ends the AUTH attempt.
    /// invalid_state unless a challenge is waiting.
    [[nodiscard]] errc auth_cancel();

private:
    enum class phase : std::uint8_t {
        setup,
        tls_handshake,
        auth_challenge,
        idle,
        envelope,
        body,
        finishing
    };
    using command = detail::client_command;
    using kind = client_event_kind;

    // ---- events ----
    [[nodiscard]] static client_event simple_event(kind k) noexcept;
    [[nodiscard]] client_event reply_event(kind k) const noexcept;
    [[nodiscard]] static client_event about(client_event event,
                                            const detail::client_transaction& t) noexcept {
        event.transaction = t.id;
        return event;
    }
    void push_error(errc error, bool with_reply);
    void become_ready();

    // ---- reading replies ----
    [[nodiscard]] bool read_one_reply();
    void configure_reader(bool auth);
    void keep_reply(const reply& r);
    void on_reply();
    void dispatch(detail::command_in_flight waiting);
    void protocol_failure();
    void on_eof();

    // ---- connection setup ----
    void on_greeting();
    void stage_hello();
    void on_ehlo();
    void on_helo();
    void fail_setup(errc error);
    void fail_setup_without_reply(errc error);
    void next_setup_step();
    [[nodiscard]] bool wants_starttls() const noexcept;
    void on_starttls();
    void start_auth();
    void on_auth();

    // ---- transactions ----
    [[nodiscard]] mail_parameters parameters_for_mail() const noexcept;
    void begin_transaction(const envelope& message);
    void assert_sequence(verb v) const noexcept;
    void on_mail();
    void on_rcpt(std::uint32_t index);
    void on_data();
    void start_body();
    void on_bdat();
    void on_end_of_data(detail::command_in_flight waiting);
    [[nodiscard]] detail::client_transaction&
    transaction_of(const detail::command_in_flight& waiting) noexcept {
        return prior_.id != 0 && waiting.transaction == prior_.id ? prior_ : txn_;
    }
    void maybe_ready_early();
    void report_failure(errc error, bool with_reply);
    void maybe_finish_envelope();
    void expect_end_of_data();
    [[nodiscard]] errc send_chunk(std::string_view bytes, bool last);
    [[nodiscard]] errc send_text(std::string_view piece);
    [[nodiscard]] errc check_text(const data_encoder& encoder, bool closed) const noexcept;
    [[nodiscard]] bool body_writable() const noexcept;

    // ---- staging and pipelining (RFC 2920) ----
    [[nodiscard]] bool pipelining() const noexcept {
        return config_.use_pipelining && caps_.pipelining;
    }
    void stage_line(command c, std::size_t recipient, std::string_view first,
                    std::string_view second = {});
    void expect(command c, std::size_t recipient);
    void release_staged();

    // ---- ending ----
    void start_quit();
    void close_with(errc cause, bool with_reply = false);
    void fail_outstanding(errc cause, bool with_reply);
    void push_temporary(kind k, std::size_t recipient, errc cause, bool with_reply,
                        const detail::client_transaction& t);
    void new_wait() noexcept { ++wait_serial_; }

    [[nodiscard]] std::uint16_t reply_code() const noexcept { return reply_.code; }

    client_config config_;
    capabilities caps_{};
    std::vector<char> ehlo_text_; // a vector: moving the session keeps caps_ views valid
    reply_reader reader_;
    // The last reply, copied out of the reader: queued events view it. A vector, not a
    // string: moving the session must not move the bytes (short-string buffers do).
    std::vector<char> reply_bytes_;
    reply reply_;
    detail::output_queue out_;
    std::uint64_t written_ = 0;            // octets consumed from out_, ever
    mutable std::uint64_t handed_out_ = 0; // octets pending_output() ever handed out
    detail::input_buffer in_;
    detail::command_pipeline commands_;
    detail::reusable_queue<client_event> events_;
    client_event closed_event_{};
    detail::client_sasl sasl_;

    std::string scratch_;
    std::vector<char> challenge_; // decode buffer behind challenge_view_ (a vector: see ehlo_text_)
    std::string_view challenge_view_;

    phase phase_ = phase::setup;
    detail::hello_state hello_ = detail::hello_state::none;
    bool tls_ = false;
    bool authenticated_ = false;
    bool starttls_refused_ = false;
    bool quitting_ = false;
    bool closed_ = false;
    bool eof_ = false;
    bool reading_auth_ = false; // the reader takes AUTH-length lines
    std::uint64_t wait_serial_ = 0;
    std::uint64_t body_octets_written_ = 0;

    detail::client_transaction txn_;
    // With PIPELINING, the transaction whose end-of-data replies are still due while txn_'s
    // commands follow it (RFC 2920 3.1); id 0 when there is none.
    detail::client_transaction prior_;
    std::uint32_t transactions_ = 0;      // send_mail() calls accepted
    std::vector<std::uint32_t> accepted_; // envelope indexes of the accepted recipients
    std::string last_chunk_;              // lockstep BDAT: the held-back last chunk (<= CRLF)
    data_encoder encoder_{};              // text bodies: CRLF normalisation, dot-stuffing, checks
    mail_parameters params_;              // of the transaction in progress
};

// ======================================================================================
// Implementation
// ======================================================================================

inline client_session::client_session(const client_config& config) : config_(config) {
    accepted_.reserve(config_.limit.recipients);
    out_.set_growth_limit(config_.limit.output_buffer);
    tls_ = config_.tls == tls_mode::implicit;
    expect(command::greeting, 0);
    configure_reader(false);
    if (const errc e = config_.validate(); e != errc::ok) close_with(e);
}

// ---- input and output ----

inline std::size_t client_session::receive(std::string_view bytes) {
    if (closed_ || eof_) return 0;
    if (phase_ == phase::tls_handshake) return bytes.size(); // dropped, never read
    return in_.copy_in(bytes, config_.limit.input_buffer);
}

inline errc client_session::receive_in_place(std::string_view bytes) noexcept {
    if (closed_) return errc::connection_closed;
    if (eof_) return errc::invalid_state;
    if (phase_ == phase::tls_handshake) return errc::ok;
    return in_.place(bytes);
}

inline bool client_session::wants_read() const noexcept {
    return !closed_ && !eof_ && phase_ != phase::tls_handshake && in_.drained() &&
           in_.held_unread() < config_.limit.input_buffer;
}

inline void client_session::consume_output(std::size_t n) {
    const std::size_t taken = n < out_.front_size() ? n : out_.front_size();
    out_.consume(taken);
    const std::uint64_t before = written_;
    written_ += taken;
    // RFC 5321 4.5.3.2: a reply is waited for from when its command went out, so the wait
    // starts afresh once the command awaited first is written in full (a slow write does not
    // eat into it).
    if (commands_.awaiting()) {
        const std::uint64_t end = commands_.front().ends_at;
        if (before < end && written_ >= end) new_wait();
    }
    if (phase_ == phase::body) {
        // RFC 5321 4.5.3.2.5: each data block written is a wait of its own.
        const std::uint64_t block = config_.timeout.data_block_size;
        const std::uint64_t body_before = body_octets_written_;
        body_octets_written_ += taken;
        if (block != 0 && body_before / block != body_octets_written_ / block) new_wait();
    }
    release_staged();
}

inline client_event client_session::next_event() {
    for (;;) {
        if (!events_.empty()) return events_.pop();
        if (closed_) return closed_event_;
        release_staged();
        if (txn_.body_blocked && body_writable()) {
            txn_.body_blocked = false;
            return about(simple_event(kind::send_body), txn_);
        }
        if (!read_one_reply()) return simple_event(kind::need_data);
    }
}

inline wait_state client_session::waiting() const noexcept {
    wait_state w;
    w.serial = wait_serial_;
    if (closed_ || phase_ == phase::tls_handshake || phase_ == phase::auth_challenge) return w;
    if (phase_ == phase::body && !out_.empty()) {
        w.phase = wait_phase::data_block;
    } else if (commands_.awaiting()) {
        w.phase = detail::rule_for(commands_.front().command).waits;
    }
    w.timeout = config_.timeout.of(w.phase);
    return w;
}

inline errc client_session::timeout_expired() {
    if (waiting().phase == wait_phase::none) return errc::invalid_state;
    close_with(errc::timed_out);
    return errc::ok;
}

// ---- events ----

inline client_event client_session::simple_event(kind k) noexcept {
    client_event event;
    event.kind = k;
    return event;
}

// An event about the current reply, its outcome read by the first digit (RFC 5321 4.2.1).
inline client_event client_session::reply_event(kind k) const noexcept {
    client_event event = simple_event(k);
    event.reply = reply_;
    const int cls = reply_.code / 100;
    event.result = cls == 5 ? outcome::permanent : cls == 4 ? outcome::temporary : outcome::success;
    return event;
}

// The session gave up on something: never a success. A 5yz behind it is permanent (the
// same attempt fails again); anything else temporary.
inline void client_session::push_error(errc error, bool with_reply) {
    client_event event = with_reply ? reply_event(kind::error) : simple_event(kind::error);
    event.error = error;
    event.result =
        with_reply && event.reply.code / 100 == 5 ? outcome::permanent : outcome::temporary;
    events_.push(event);
}

inline void client_session::become_ready() {
    phase_ = phase::idle;
    events_.push(simple_event(kind::ready));
}

// ---- reading replies ----

// Reads at most one complete reply and acts on it; false when nothing more can happen until
// the caller feeds bytes or acts.
inline bool client_session::read_one_reply() {
    if (phase_ == phase::tls_handshake) {
        if (!eof_) return false;
        on_eof();
        return true;
    }
    const bool auth = commands_.awaiting() && (commands_.front().command == command::auth ||
                                               commands_.front().command == command::auth_step);
    if (auth != reading_auth_) configure_reader(auth);
    const read_result r = reader_.read(in_.unread());
    in_.advance(r.consumed);
    if (r.error == errc::ok) {
        keep_reply(r.reply);
        on_reply();
        return true;
    }
    if (r.error != errc::need_more_data) {
        close_with(r.error);
        return true;
    }
    if (!in_.empty()) return true; // the copied bytes are used up; in-place ones follow
    if (!eof_) return false;
    on_eof();
    return true;
}

// The reader's limits for the next reply: RFC 4954 4 lets a 334 challenge be as long as an
// AUTH line (12288 octets suggested). Changed only between replies (set_options() refuses
// mid-reply; then the next call tries again).
inline void client_session::configure_reader(bool auth) {
    reply_reader_options options = make_reply_reader_options(config_.limit);
    options.line_limit = config_.reply_line_limit;
    options.lenient_mixed_codes = config_.lenient_mixed_reply_codes;
    options.lenient_control_characters = true; // NUL is judged in on_reply()
    if (auth && config_.limit.auth_line > options.line_limit)
        options.line_limit = config_.limit.auth_line;
    if (reader_.set_options(options)) reading_auth_ = auth;
}

// Copies a finished reply out of the reader (whose views die with the next read) into storage
// that queued events may view until the next mutating call.
inline void client_session::keep_reply(const reply& r) {
    reply_bytes_.assign(r.raw.begin(), r.raw.end());
    reply_ = r;
    reply_.raw = std::string_view(reply_bytes_.data(), reply_bytes_.size());
}

inline void client_session::on_reply() {
    new_wait();
    const std::uint16_t code = reply_.code;
    // RFC 5321 4.2: reply text is HT and printable characters. Other controls are passed on
    // marked (reply::controls); a NUL, which no text may hold and which cuts C strings short,
    // ends the session.
    if (reply_.controls && reply_.raw.find('\0') != std::string_view::npos) {
        close_with(errc::bad_reply_text, true);
        return;
    }
    if (!commands_.awaiting()) {
        close_with(code == 421 ? errc::service_closing : errc::unexpected_reply, true);
        return;
    }
    // RFC 5321 3.8: 421 answers nothing in particular; the command it arrived for fails with
    // all the others, as temporary.
    if (code == 421 && commands_.front().command != command::quit) {
        close_with(errc::service_closing, true);
        return;
    }
    // A reply to a command the caller has not been handed yet (say, a second reply in the
    // greeting's read) was sent before the server could have seen the command: it answers
    // nothing, and taking it for the next command's reply would shift every later one. It is
    // judged when next_event() reads it, which the loop contract puts right after receive().
    if (commands_.front().ends_at > handed_out_) {
        close_with(errc::unexpected_reply, true);
        return;
    }
    if (!detail::answers(commands_.front().command, code)) return protocol_failure();
    dispatch(commands_.pop());
}

inline void client_session::dispatch(detail::command_in_flight waiting) {
    switch (waiting.command) {
    case command::greeting:
        return on_greeting();
    case command::ehlo:
        return on_ehlo();
    case command::helo:
        return on_helo();
    case command::starttls:
        return on_starttls();
    case command::auth:
    case command::auth_step:
        return on_auth();
    case command::mail:
        return on_mail();
    case command::rcpt:
        return on_rcpt(waiting.recipient);
    case command::data:
        return on_data();
    case command::bdat:
        return on_bdat();
    case command::end_of_data:
        return on_end_of_data(waiting);
    case command::rset:
        if (!quitting_) become_ready();
        return;
    case command::quit:
        // A refused QUIT is reported, not taken as a clean end (421 may answer anything,
        // RFC 5321 3.8).
        return close_with(reply_code() / 100 == 2 || reply_code() == 421 ? errc::ok
                                                                         : errc::unexpected_reply,
                          true);
    }
}

// A reply that answers nothing outstanding: every later reply would be matched to the wrong
// command. Whatever is outstanding fails as temporary (retried, never lost), QUIT is queued
// as a courtesy and the session closes without reading another reply.
inline void client_session::protocol_failure() {
    close_with(errc::unexpected_reply, true);
    out_.append("QUIT\r\n");
}

inline void client_session::on_eof() {
    eof_ = false;
    // After QUIT, losing its reply is a normal end; losing one due before it is not (QUIT may
    // follow the end of data in one group).
    const bool only_quit_due = !commands_.awaiting() || commands_.front().command == command::quit;
    if (quitting_ && only_quit_due) return close_with(errc::ok);
    const bool busy = commands_.awaiting() || phase_ == phase::body;
    close_with(busy ? errc::peer_closed_early : errc::connection_closed);
}

// ---- connection setup ----

inline void client_session::on_greeting() {
    if (reply_code() / 100 == 2) {
        events_.push(reply_event(kind::greeting));
        stage_hello();
        return;
    }
    // 554 / 521 (RFC 5321 3.1, RFC 7504): no service here; say QUIT and wait for the end.
    push_error(errc::service_closing, true);
    start_quit();
}

inline void client_session::stage_hello() {
    stage_line(command::ehlo, 0, config_.lmtp ? "LHLO " : "EHLO ", config_.helo_name);
}

inline void client_session::on_ehlo() {
    const std::uint16_t code = reply_code();
    if (code / 100 == 2) {
        // The capabilities outlive this reply: they view a copy of their own.
        ehlo_text_.assign(reply_.raw.begin(), reply_.raw.end());
        reply copy = reply_;
        copy.raw = std::string_view(ehlo_text_.data(), ehlo_text_.size());
        (void)parse_ehlo_reply(copy, caps_);
        hello_ = detail::hello_state::ehlo;
        return next_setup_step();
    }
    // RFC 5321 3.2 fallback; HELO takes a Domain only, so an address-literal name cannot.
    if (code / 100 == 5 && !config_.lmtp && config_.helo_name.front() != '[') {
        stage_line(command::helo, 0, "HELO ", config_.helo_name);
        return;
    }
    fail_setup(errc::unexpected_reply);
}

inline void client_session::on_helo() {
    if (reply_code() / 100 != 2) return fail_setup(errc::unexpected_reply);
    caps_ = capabilities{};
    hello_ = detail::hello_state::helo;
    next_setup_step();
}

// Reports `error` with the current reply and leaves politely.
inline void client_session::fail_setup(errc error) {
    push_error(error, true);
    start_quit();
}

inline void client_session::fail_setup_without_reply(errc error) {
    push_error(error, false);
    start_quit();
}

inline void client_session::next_setup_step() {
    if (quitting_) return;
    if (wants_starttls()) {
        if (caps_.starttls) return stage_line(command::starttls, 0, "STARTTLS");
        if (config_.tls == tls_mode::required) return fail_setup_without_reply(errc::tls_required);
    }
    if (!config_.auth_mechanisms.empty() && !authenticated_) return start_auth();
    become_ready();
}

inline bool client_session::wants_starttls() const noexcept {
    const bool tls_wanted =
        config_.tls == tls_mode::opportunistic || config_.tls == tls_mode::required;
    return tls_wanted && !tls_ && !starttls_refused_;
}

inline void client_session::on_starttls() {
    if (reply_code() / 100 == 2) {
        events_.push(reply_event(kind::tls_handshake));
        // RFC 3207 4.2: whatever followed the 220 in plaintext is an attacker's, not a reply.
        // The reply itself is kept until tls_established() (the event views it).
        in_.discard_all();
        phase_ = phase::tls_handshake;
        return;
    }
    if (config_.tls == tls_mode::required) return fail_setup(errc::tls_required); // RFC 3207 6
    starttls_refused_ = true;
    next_setup_step();
}

// ---- AUTH (RFC 4954) ----

inline void client_session::start_auth() {
    if (!sasl_.choose(config_.auth_mechanisms, caps_))
        return fail_setup_without_reply(errc::extension_not_offered);
    const std::string_view name = sasl_.mechanism();
    if (config_.auth_requires_tls && !tls_ && detail::carries_credentials(name)) {
        return fail_setup_without_reply(errc::tls_required); // RFC 4954 4, RFC 7628 3.2
    }
    if (sasl_.kind() == detail::client_sasl::mechanism_kind::plain) {
        if (const errc e = sasl_.plain_response(config_.credentials, scratch_); e != errc::ok) {
            return fail_setup_without_reply(e);
        }
        // RFC 4954 4: no initial response that would push the line over the limit.
        const std::size_t line = 5 + name.size() + 1 + scratch_.size() + 2;
        if (line <= config_.limit.command_line) {
            sasl_.initial_response_sent();
            commands_.stage(command::auth, 0, [&](std::string& out) {
                out.append("AUTH ")
                    .append(name.data(), name.size())
                    .append(" ")
                    .append(scratch_)
                    .append("\r\n");
            });
            return release_staged();
        }
    }
    stage_line(command::auth, 0, "AUTH ", name);
}

inline void client_session::on_auth() {
    const std::uint16_t code = reply_code();
    if (code / 100 == 2) {
        authenticated_ = true;
        events_.push(reply_event(kind::authenticated));
        return become_ready();
    }
    if (code / 100 != 3) return fail_setup(errc::auth_failed);
    // A server that never ends the exchange must not keep the client answering forever.
    if (!sasl_.another_challenge(config_.max_auth_challenges))
        return stage_line(command::auth_step, 0, "*");
    const std::string_view text = reply_.text();
    challenge_.resize(base64_decoded_size_max(text.size()) + 1);
    if (base64_decode(text, challenge_.data(), challenge_.size(), challenge_view_) != errc::ok) {
        return stage_line(command::auth_step, 0, "*"); // RFC 4954 4: an undecodable challenge
    }
    if (sasl_.kind() == detail::client_sasl::mechanism_kind::caller) {
        phase_ = phase::auth_challenge;
        client_event event = reply_event(kind::auth_challenge);
        event.mechanism = sasl_.mechanism();
        event.challenge = challenge_view_;
        events_.push(event);
        return;
    }
    sasl_.answer(text, config_.credentials, scratch_);
    stage_line(command::auth_step, 0, scratch_);
}

inline errc client_session::auth_respond(std::string_view response) {
    if (phase_ != phase::auth_challenge) return errc::invalid_state;
    phase_ = phase::setup;
    scratch_.clear();
    base64_encode_append(scratch_, response);
    stage_line(command::auth_step, 0, scratch_);
    return errc::ok;
}

inline errc client_session::auth_cancel() {
    if (phase_ != phase::auth_challenge) return errc::invalid_state;
    phase_ = phase::setup;
    stage_line(command::auth_step, 0, "*");
    return errc::ok;
}

// ---- connection ----

inline errc client_session::tls_established() {
    if (phase_ != phase::tls_handshake) return errc::invalid_state;
    tls_ = true;
    caps_ = capabilities{};
    ehlo_text_.clear();
    in_.discard_all();
    reader_.reset();
    hello_ = detail::hello_state::none;
    phase_ = phase::setup;
    new_wait();
    stage_hello();
    return errc::ok;
}

inline errc client_session::quit() {
    if (closed_ || quitting_ || phase_ == phase::body || phase_ == phase::tls_handshake)
        return errc::invalid_state;
    start_quit();
    return errc::ok;
}

// ---- transactions ----

// The parameters MAIL and RCPT may carry: the server offered them and the config wants them.
inline mail_parameters client_session::parameters_for_mail() const noexcept {
    mail_parameters p;
    extensions& u = p.usable;
    u.size = caps_.size && config_.use_size;
    u.eight_bit_mime = caps_.eight_bit_mime && config_.use_8bitmime;
    u.smtputf8 = caps_.smtputf8 && config_.use_smtputf8;
    u.dsn = caps_.dsn && config_.use_dsn;
    u.chunking = caps_.chunking;
    u.binarymime = caps_.binarymime;
    p.size_limit = caps_.size_known ? caps_.size_limit : 0;
    return p;
}

inline errc client_session::send_mail(const envelope& message) {
    if (!is_ready()) return errc::invalid_state;
    const mail_parameters params = parameters_for_mail();
    if (const errc e = check_envelope(message, params, config_.limit); e != errc::ok) return e;
    params_ = params;
    begin_transaction(message);
    assert_sequence(verb::mail);
    commands_.stage(command::mail, 0,
                    [&](std::string& out) { write_mail_command(out, message, params_); });
    for (std::size_t i = 0; i < message.recipient_count; ++i) {
        const recipient& to = message.recipients[i];
        commands_.stage(command::rcpt, i,
                        [&](std::string& out) { write_rcpt_command(out, to, params_); });
    }
    if (!txn_.chunked) {
        assert_sequence(verb::data);
        stage_line(command::data, 0, "DATA");
    }
    release_staged();
    return errc::ok;
}

inline void client_session::begin_transaction(const envelope& message) {
    phase_ = phase::envelope;
    txn_ = {};
    txn_.id = ++transactions_;
    commands_.set_transaction(txn_.id);
    txn_.body = message.body;
    txn_.chunked =
        message.body == body_type::binary_mime || (config_.use_chunking && caps_.chunking);
    txn_.recipient_count = message.recipient_count;
    accepted_.clear();
    encoder_ =
        data_encoder(data_encoder_options{config_.normalize_line_endings, config_.limit.text_line});
    body_octets_written_ = 0;
}

// The shared sequencing table (detail/sequence.hpp) must never refuse what the client sends,
// read as if every earlier command of the group succeeds.
inline void client_session::assert_sequence(verb v) const noexcept {
    using state = detail::transaction_state;
    const state s = v == verb::mail ? state::none : state::recipients;
    SMTPP_ASSERT(detail::check_sequence(v, hello_, s).allowed);
    (void)s;
    (void)v;
}

inline void client_session::on_mail() {
    if (reply_code() / 100 == 2) {
        txn_.mail_ok = true;
        return;
    }
    // RFC 1870 6.2: no DATA after a refused MAIL; RSET and report the message failed.
    report_failure(errc::ok, true);
    commands_.drop_staged();
    maybe_finish_envelope();
}

inline void client_session::on_rcpt(std::uint32_t index) {
    ++txn_.replied;
    if (txn_.mail_ok) {
        client_event event = about(reply_event(kind::recipient_result), txn_);
        event.recipient = index;
        // RFC 5321 4.5.3.1.10: 552 to RCPT means "too many recipients", try again later.
        if (event.reply.code == 552) event.result = outcome::temporary;
        if (event.result == outcome::success) accepted_.push_back(index);
        if (event.result == outcome::temporary) txn_.worst_recipient = outcome::temporary;
        events_.push(event);
    }
    if (txn_.replied < txn_.recipient_count || !txn_.mail_ok) return maybe_finish_envelope();
    if (accepted_.empty()) {
        report_failure(errc::no_recipients_accepted, false);
        commands_.drop_staged(); // DATA, if it is still waiting for its turn
        return maybe_finish_envelope();
    }
    if (txn_.chunked) start_body();
}

inline void client_session::on_data() {
    const bool go_ahead = reply_code() / 100 == 3;
    if (go_ahead && !accepted_.empty() && txn_.mail_ok) return start_body();
    if (go_ahead) {
        // RFC 2920 3.1: 354 with no recipient accepted; an empty message, then RSET.
        out_.append(".\r\n");
        expect(command::end_of_data, 0);
        return;
    }
    report_failure(errc::ok, true); // RFC 5321 3.3: no content without 354
    maybe_finish_envelope();
}

inline void client_session::start_body() {
    phase_ = phase::body;
    new_wait();
    events_.push(about(simple_event(kind::send_body), txn_));
}

inline void client_session::on_bdat() {
    if (reply_code() / 100 == 2) {
        if (txn_.last_chunk_waits && !commands_.awaiting()) {
            txn_.last_chunk_waits = false;
            (void)send_chunk(last_chunk_, true);
        }
        return maybe_ready_early();
    }
    // RFC 3030 2: no more BDAT after a failed chunk; RSET once the replies are in, whatever
    // the last chunk's reply says (the server's state is not known).
    txn_.last_chunk_waits = false;
    txn_.chunk_refused = true;
    report_failure(errc::ok, true);
    phase_ = phase::finishing;
    maybe_finish_envelope();
}

// The reply to the end of data ends the transaction, whatever it says (RFC 5321 4.1.1.4): no
// RSET is due after it unless a BDAT chunk was refused.
inline void client_session::on_end_of_data(detail::command_in_flight waiting) {
    detail::client_transaction& t = transaction_of(waiting);
    if (!t.result_reported) {
        client_event event = about(reply_event(kind::message_result), t);
        event.recipient = waiting.recipient;
        event.for_recipient = config_.lmtp;
        events_.push(event);
    }
    if (!config_.lmtp) t.result_reported = true;
    if (!t.chunk_refused) t.needs_rset = false;
    if (&t == &txn_) return maybe_finish_envelope();
    const bool more_due = commands_.awaiting() && commands_.front().transaction == t.id;
    if (!more_due) prior_ = {};
}

// RFC 2920 3.1: with PIPELINING the message content may be followed by the next MAIL in the
// same group. Once only the end-of-data replies of a transaction that has failed in nothing
// are due, it becomes the prior one and the session is ready for the next.
inline void client_session::maybe_ready_early() {
    if (!config_.pipeline_transactions || !pipelining() || quitting_ || closed_) return;
    if (phase_ != phase::finishing || !txn_.body_ended || txn_.needs_rset) return;
    if (txn_.result_reported || prior_.id != 0 || commands_.staged_count() != 0) return;
    if (!commands_.awaiting() || commands_.front().command != command::end_of_data) return;
    prior_ = txn_;
    txn_ = {};
    become_ready();
}

// Reports the message as failed, once: with the current reply, or (no reply) only `error`.
inline void client_session::report_failure(errc error, bool with_reply) {
    txn_.needs_rset = true;
    if (txn_.result_reported) return;
    txn_.result_reported = true;
    client_event event = about(
        with_reply ? reply_event(kind::message_result) : simple_event(kind::message_result), txn_);
    event.error = error;
    if (!with_reply) event.result = txn_.worst_recipient;
    events_.push(event);
}

// Ends the transaction once no reply of it is outstanding and no content is being sent.
inline void client_session::maybe_finish_envelope() {
    if (commands_.awaiting() || commands_.staged_count() != 0 || phase_ == phase::body) return;
    if (txn_.needs_rset) {
        txn_.needs_rset = false;
        phase_ = phase::finishing;
        return stage_line(command::rset, 0, "RSET");
    }
    if (!quitting_) become_ready();
}

inline void client_session::expect_end_of_data() {
    phase_ = phase::finishing;
    txn_.lmtp_final = config_.lmtp;
    if (!config_.lmtp) return expect(command::end_of_data, 0);
    // RFC 2033 4.2: one reply per accepted recipient, in RCPT order.
    for (const std::uint32_t index : accepted_) expect(command::end_of_data, index);
}

inline errc client_session::send_body(std::string_view piece) {
    if (phase_ != phase::body || txn_.body_ended) return errc::invalid_state;
    if (!body_writable()) {
        txn_.body_blocked = true;
        return errc::output_full;
    }
    if (txn_.body == body_type::binary_mime) return send_chunk(piece, false);
    return send_text(piece);
}

// One pass over a text piece: encoded straight into the output (DATA) or into a scratch
// buffer that becomes one chunk (BDAT, whose header needs the length first). A refused piece
// is taken back: nothing of it is queued, the encoder is as before.
inline errc client_session::send_text(std::string_view piece) {
    const data_encoder before = encoder_;
    const auto fail = [&](errc e) {
        encoder_ = before;
        return e;
    };
    if (!txn_.chunked) {
        const detail::output_queue::position mark = out_.mark();
        errc e = encoder_.encode(out_, piece);
        if (e == errc::ok) e = check_text(encoder_, false);
        if (e != errc::ok) out_.rollback(mark);
        return e == errc::ok ? e : fail(e);
    }
    scratch_.clear();
    const char* const stuffing = detail::data_constant(2, 1).data();
    for (std::string_view in = piece; !in.empty();) {
        const data_encoder::result r = encoder_.next(in);
        if (r.error != errc::ok) return fail(r.error);
        in.remove_prefix(r.consumed);
        if (r.segment.data() == stuffing && r.segment.size() == 1) continue; // BDAT: no stuffing
        scratch_.append(r.segment.data(), r.segment.size());
    }
    if (const errc e = check_text(encoder_, false); e != errc::ok) return fail(e);
    return send_chunk(scratch_, false);
}

inline errc client_session::end_body() {
    if (phase_ != phase::body || txn_.body_ended) return errc::invalid_state;
    std::string_view tail = detail::data_constant(2, 3); // ".\r\n" of an empty binary body
    if (txn_.body != body_type::binary_mime) {
        data_encoder probe = encoder_;
        const data_encoder::result r = probe.finish();
        if (r.error != errc::ok) return r.error; // a trailing bare CR, refused
        if (const errc e = check_text(probe, true); e != errc::ok) return e;
        tail = r.segment;
        encoder_ = probe;
    }
    txn_.body_ended = true;
    if (txn_.chunked) {
        // BDAT: the closing segment without its ".\r\n" is the last chunk (no stuffing).
        const errc e = send_chunk(tail.substr(0, tail.size() - 3), true);
        maybe_ready_early();
        return e;
    }
    out_.append(tail);
    expect_end_of_data();
    maybe_ready_early();
    return errc::ok;
}

// BDAT: one chunk per piece (RFC 3030 2: exact octet counts, no dot-stuffing). Without
// PIPELINING each BDAT waits for the reply to the one before (RFC 3030 2, 4.2), the last one
// too: it is held (at most a CRLF) until that reply is in.
inline errc client_session::send_chunk(std::string_view bytes, bool last) {
    if (bytes.empty() && !last) return errc::ok;
    if (last && !pipelining() && commands_.awaiting()) {
        last_chunk_.assign(bytes.data(), bytes.size());
        txn_.last_chunk_waits = true;
        return errc::ok;
    }
    append_bdat_command(out_, bytes.size(), last);
    out_.append(bytes);
    if (last) {
        expect_end_of_data();
    } else {
        expect(command::bdat, 0);
    }
    return errc::ok;
}

// What a text body may not hold, judged on an encoder that has consumed the piece (or
// finished the body, `closed`). An open line counts as if it ended here, so an over-long line
// is refused as soon as its 999th octet arrives (RFC 5321 4.5.3.1.6).
inline errc client_session::check_text(const data_encoder& encoder, bool closed) const noexcept {
    const body_traits& t = encoder.traits();
    if (t.has_nul) return errc::binary_not_allowed;
    if (t.has_8bit && txn_.body != body_type::eight_bit_mime) return errc::eight_bit_not_allowed;
    bool long_line = t.long_line;
    if (!long_line && !closed) {
        data_encoder ended = encoder; // a bare CR it notes is only a CR whose LF may follow
        (void)ended.finish();
        long_line = ended.traits().long_line;
    }
    return long_line ? errc::text_line_too_long : errc::ok;
}

inline bool client_session::body_writable() const noexcept {
    if (phase_ != phase::body || txn_.body_ended) return false;
    if (out_.size() >= config_.limit.output_buffer) return false;
    return !(txn_.chunked && !pipelining() && commands_.awaiting()); // lockstep chunks
}

// ---- staging and pipelining (RFC 2920) ----

inline void client_session::stage_line(command c, std::size_t recipient, std::string_view first,
                                       std::string_view second) {
    commands_.stage(c, recipient, [&](std::string& out) {
        out.append(first.data(), first.size());
        out.append(second.data(), second.size());
        out.append("\r\n", 2);
    });
    release_staged();
}

inline void client_session::expect(command c, std::size_t recipient) {
    if (!commands_.awaiting()) new_wait();
    commands_.expect(c, recipient, written_ + out_.size());
}

inline void client_session::release_staged() {
    if (closed_) return;
    const bool was_waiting = commands_.awaiting();
    commands_.release(out_, pipelining(), config_.limit.output_buffer, written_);
    if (!was_waiting && commands_.awaiting()) new_wait();
}

// ---- ending ----

inline void client_session::start_quit() {
    if (quitting_) return;
    quitting_ = true;
    commands_.drop_staged();
    stage_line(command::quit, 0, "QUIT");
}

// Closes the session. Outstanding recipients and messages fail as temporary (RFC 5321 3.8: as
// if 451; RFC 2033 5 for LMTP), then `closed` carries the cause.
inline void client_session::close_with(errc cause, bool with_reply) {
    fail_outstanding(cause == errc::ok ? errc::connection_closed : cause, with_reply);
    closed_event_ = with_reply ? reply_event(kind::closed) : simple_event(kind::closed);
    closed_event_.error = cause;
    closed_event_.result = cause == errc::ok ? outcome::success : outcome::temporary;
    closed_ = true;
    phase_ = phase::finishing;
}

// Everything still outstanding fails as temporary, with `cause` as its error: the reply that
// ended the session (421, an unexpected one), a malformed reply, a timeout, EOF.
// The prior transaction's results come first, as its replies would have.
inline void client_session::fail_outstanding(errc cause, bool with_reply) {
    const bool in_transaction =
        phase_ == phase::envelope || phase_ == phase::body || phase_ == phase::finishing;
    if (prior_.id != 0 && !prior_.result_reported && !prior_.lmtp_final) {
        push_temporary(kind::message_result, 0, cause, with_reply, prior_);
    }
    commands_.drain([&](detail::command_in_flight waiting) {
        const detail::client_transaction& t = transaction_of(waiting);
        // A refused MAIL already failed the message; its RCPTs have nothing left to report.
        if (waiting.command == command::rcpt && (t.mail_ok || !t.result_reported)) {
            push_temporary(kind::recipient_result, waiting.recipient, cause, with_reply, t);
        }
        if (waiting.command == command::end_of_data && t.lmtp_final && !t.result_reported) {
            push_temporary(kind::message_result, waiting.recipient, cause, with_reply, t);
        }
    });
    prior_ = {};
    // LMTP after the end of data reports per recipient (above); otherwise one result.
    if (in_transaction && !txn_.result_reported && !txn_.lmtp_final) {
        push_temporary(kind::message_result, 0, cause, with_reply, txn_);
    }
    txn_.result_reported = true;
}

inline void client_session::push_temporary(kind k, std::size_t recipient, errc cause,
                                           bool with_reply, const detail::client_transaction& t) {
    client_event event = about(with_reply ? reply_event(k) : simple_event(k), t);
    event.recipient = recipient;
    event.for_recipient = k == kind::message_result && t.lmtp_final;
    event.result = outcome::temporary;
    event.error = cause;
    events_.push(event);
}

SMTPP_NAMESPACE_END

#endif // SMTPP_CLIENT_SESSION_HPP
