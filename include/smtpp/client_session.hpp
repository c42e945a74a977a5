// smtpp: a Sans-IO SMTP/LMTP client session.
//
// The session never touches a socket. The caller feeds what the server sent with receive()
// (and receive_eof() when the connection closed), pulls events one at a time with
// next_event() until need_data, sends pending_output() and reports what was written with
// consume_output(n). Calls such as send_mail(), send_body(), end_body() and quit() only queue
// output; nothing calls back into the caller.
//
// Lifetime rule: every view in an event, and every view returned by a const accessor, stays
// valid until the next mutating call on the session (receive, receive_eof, next_event,
// consume_output, send_mail, send_body, end_body, quit, tls_established, auth_respond,
// auth_cancel).
//
// Flow: greeting -> EHLO (HELO fallback on 5xx) -> STARTTLS -> EHLO -> AUTH -> `ready`;
// then any number of transactions, each ended by message_result event(s) and `ready` again;
// quit() -> QUIT -> 221 -> `closed`. With PIPELINING, MAIL, every RCPT and DATA go out as one
// group and replies are matched to commands by counting (RFC 2920 3.1); otherwise one command
// at a time (RFC 5321 4.3.1).
#ifndef SMTPP_CLIENT_SESSION_HPP
#define SMTPP_CLIENT_SESSION_HPP

#include <smtpp/base64.hpp>
#include <smtpp/capabilities.hpp>
#include <smtpp/client_config.hpp>
#include <smtpp/client_event.hpp>
#include <smtpp/config.hpp>
#include <smtpp/data.hpp>
#include <smtpp/detail/output_buffer.hpp>
#include <smtpp/error.hpp>
#include <smtpp/grammar.hpp>
#include <smtpp/reply_reader.hpp>
#include <smtpp/sasl.hpp>
#include <smtpp/status.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

SMTPP_NAMESPACE_BEGIN

namespace detail {

// The commands whose replies the client waits for, in the order they were sent.
enum class client_command : std::uint8_t {
    greeting,
    ehlo,
    helo,
    starttls,
    auth,
    auth_step,
    mail,
    rcpt,
    data,
    bdat,
    end_of_data,
    rset,
    quit,
};

// RFC 2920 3.1: only RSET, MAIL and RCPT may be followed by more commands in the same group.
[[nodiscard]] constexpr bool ends_group(client_command command) noexcept {
    return command != client_command::mail && command != client_command::rcpt &&
           command != client_command::rset && command != client_command::bdat;
}

struct expected_reply {
    client_command command;
    std::uint32_t recipient; // rcpt, LMTP end_of_data: envelope index
};

struct staged_command {
    client_command command;
    std::uint32_t recipient;
    std::size_t length; // octets in staged_text, CRLF included
};

// A FIFO over a vector that keeps its storage once empty, so steady state allocates nothing.
template <class T>
class reusable_queue {
public:
    void push(const T& value) { items_.push_back(value); }
    [[nodiscard]] bool empty() const noexcept { return head_ == items_.size(); }
    [[nodiscard]] std::size_t size() const noexcept { return items_.size() - head_; }
    [[nodiscard]] const T& front() const noexcept { return items_[head_]; }
    [[nodiscard]] const T& back() const noexcept { return items_.back(); }
    T pop() noexcept {
        T value = items_[head_++];
        if (empty()) clear();
        return value;
    }
    void clear() noexcept {
        items_.clear();
        head_ = 0;
    }
    void reserve(std::size_t n) { items_.reserve(n); }

private:
    std::vector<T> items_;
    std::size_t head_ = 0;
};

// Which positive replies answer each command (RFC 5321 4.3.2, read by the first digit as
// RFC 5321 4.2 requires for codes it does not list): a 2yz completes every command but DATA,
// which a 3yz (354) lets go on; AUTH also goes on with a 3yz (334). A 4yz or 5yz is a failure
// the command's handler judges. A positive reply of the other kind (a 3yz after the final
// dot, a 2yz to DATA) answers nothing: the reply stream no longer matches the commands, so
// the session ends and nothing outstanding counts as done.
struct reply_rule {
    client_command command;
    bool completes_on_2yz;
    bool continues_on_3yz;
};

inline constexpr reply_rule reply_rules[] = {
    {client_command::greeting, true, false},    {client_command::ehlo, true, false},
    {client_command::helo, true, false},        {client_command::starttls, true, false},
    {client_command::auth, true, true},         {client_command::auth_step, true, true},
    {client_command::mail, true, false},        {client_command::rcpt, true, false},
    {client_command::data, false, true},        {client_command::bdat, true, false},
    {client_command::end_of_data, true, false}, {client_command::rset, true, false},
    {client_command::quit, true, false},
};

// True when `code` answers `command` at all. RSET must succeed: after a failed RSET the
// server's state is unknown, so it is not a failure to go on from.
[[nodiscard]] constexpr bool answers(client_command command, int code) noexcept {
    for (const reply_rule& rule : reply_rules) {
        if (rule.command != command) continue;
        switch (code / 100) {
        case 2:
            return rule.completes_on_2yz;
        case 3:
            return rule.continues_on_3yz;
        default:
            return command != client_command::rset;
        }
    }
    return false;
}

// RFC 5321 4.5.3.2 default timeouts for what the client is waiting for.
[[nodiscard]] constexpr std::chrono::seconds default_timeout(client_command waiting_for) noexcept {
    switch (waiting_for) {
    case client_command::data:
        return std::chrono::seconds(120);
    case client_command::bdat:
        return std::chrono::seconds(180);
    case client_command::end_of_data:
        return std::chrono::seconds(600);
    default:
        return std::chrono::seconds(300);
    }
}

// Reads a reply code by its first digit (RFC 5321 4.2.1, 4.2 for unknown codes).
[[nodiscard]] constexpr outcome outcome_of(int code) noexcept {
    if (code >= 500) return outcome::permanent;
    if (code >= 400) return outcome::temporary;
    return outcome::success;
}

// Every SASL mechanism sends something an eavesdropper must not see (a password, a bearer
// token, a hash to attack offline), except EXTERNAL (the credential is the TLS client
// certificate or the connection itself, RFC 4422 A) and ANONYMOUS (RFC 4505).
[[nodiscard]] constexpr bool carries_credentials(std::string_view mechanism) noexcept {
    return !iequals(mechanism, "EXTERNAL") && !iequals(mechanism, "ANONYMOUS");
}

[[nodiscard]] constexpr bool has_control(std::string_view s) noexcept {
    for (char c : s) {
        const auto octet = static_cast<unsigned char>(c);
        if (octet < 0x20 || octet == 0x7F) return true;
    }
    return false;
}

} // namespace detail

class client_session {
public:
    using capabilities_type = smtpp::capabilities;

    // Creates a session that waits for the server's greeting. The configuration is copied.
    // An invalid configuration (see validate()) makes the first event `closed` with
    // invalid_config; nothing is ever sent.
    explicit client_session(client_config config) : config_(std::move(config)) {
        accepted_.reserve(config_.limit.recipients);
        output_.set_growth_limit(config_.limit.output_buffer);
        secure_ = config_.tls == tls_mode::implicit;
        expected_.push({detail::client_command::greeting, 0});
        if (const errc e = validate(config_); e != errc::ok) close_with(e);
    }

    client_session(const client_session&) = delete;
    client_session& operator=(const client_session&) = delete;
    client_session(client_session&&) = default;
    client_session& operator=(client_session&&) = default;
    ~client_session() = default;

    // ---- input ----

    // Hands the session bytes received from the server. They are copied; nothing is parsed
    // until next_event(). Ignored once closed, and discarded while a TLS handshake is due
    // (plaintext after the 220 to STARTTLS is never taken as a reply, RFC 3207 4.2).
    // Memory: call next_event() until need_data between receives; the session then holds at
    // most one read plus one reply (limits reply_line * reply_lines, auth_line for 334).
    void receive(std::string_view bytes) {
        if (closed_ || phase_ == phase::tls_handshake) return;
        if (input_head_ >= input_.size() / 2) {
            input_.erase(0, input_head_); // keep only the unread part, in the same storage
            input_head_ = 0;
        }
        input_.append(bytes.data(), bytes.size());
    }

    // Tells the session the server closed the connection; reported by next_event() once the
    // bytes received before it have been read.
    void receive_eof() noexcept { eof_ = true; }

    // Returns the next event; need_data when the session waits for input or for the caller.
    // Views in the event are valid until the next mutating call.
    [[nodiscard]] client_event next_event() {
        while (true) {
            if (!events_.empty()) return events_.pop();
            if (closed_) return closed_event_;
            release_staged();
            if (body_blocked_ && body_writable()) {
                body_blocked_ = false;
                return simple_event(client_event_kind::send_body);
            }
            if (!read_one_reply()) return simple_event(client_event_kind::need_data);
        }
    }

    // ---- output ----

    // Bytes to send to the server, oldest first; valid until the next mutating call.
    [[nodiscard]] std::string_view pending_output() const noexcept { return output_.pending(); }

    // Marks the first `n` octets of pending_output() as sent (clamped to its size).
    void consume_output(std::size_t n) {
        output_.consume(n);
        release_staged();
    }

    // True while the session expects bytes from the server.
    [[nodiscard]] bool wants_read() const noexcept {
        return !closed_ && phase_ != phase::tls_handshake;
    }
    // True while pending_output() is not empty.
    [[nodiscard]] bool wants_write() const noexcept { return !output_.empty(); }
    // True once the `closed` event is due: the caller should close the connection after
    // sending whatever pending_output() still holds.
    [[nodiscard]] bool is_closed() const noexcept { return closed_; }
    // True with implicit TLS or after tls_established().
    [[nodiscard]] bool is_secure() const noexcept { return secure_; }
    // True after a 235 reply to AUTH.
    [[nodiscard]] bool is_authenticated() const noexcept { return authenticated_; }
    // True between `ready` and the next send_mail() or quit().
    [[nodiscard]] bool is_ready() const noexcept { return phase_ == phase::idle; }

    // What the last EHLO/LHLO reply advertised (all false after HELO or before EHLO, and
    // forgotten at tls_established()). Views valid until the next mutating call.
    [[nodiscard]] const capabilities_type& capabilities() const noexcept { return caps_; }

    // RFC 5321 4.5.3.2: how long to wait for the server in the current state (5 minutes in
    // general, 2 for the DATA reply, 3 per data block, 10 for the end-of-data reply).
    [[nodiscard]] std::chrono::seconds timeout() const noexcept {
        if (phase_ == phase::body && expected_.empty()) return std::chrono::seconds(180);
        return expected_.empty() ? std::chrono::seconds(300)
                                 : detail::default_timeout(expected_.front().command);
    }

    // ---- commands ----

    // Starts a transaction: queues MAIL FROM, one RCPT TO per recipient and (DATA mode) DATA.
    // Allowed only after a `ready` event (else invalid_state, nothing changes).
    // Refuses, before any byte of the transaction is queued, what the server cannot take:
    //   invalid_argument (no recipients; control characters such as CR/LF in an address or
    //   ENVID; ENVID over 100 octets or not printable ASCII), the address grammar errors of
    //   parse_mailbox (bad_local_part, bad_domain, ...), non_ascii (UTF-8 address or
    //   utf8_message without SMTPUTF8), eight_bit_not_allowed (no 8BITMIME),
    //   binary_not_allowed (no BINARYMIME + CHUNKING), message_too_large (over SIZE).
    // Such a refusal is also reported as an `error` event; the session stays ready.
    // Parameters of extensions the server did not advertise are left out (RFC 5321 4.1.1.3).
    [[nodiscard]] errc send_mail(const envelope& message) {
        if (phase_ != phase::idle) return errc::invalid_state;
        if (const errc e = check_envelope(message); e != errc::ok) {
            client_event refused = simple_event(client_event_kind::error);
            refused.error = e;
            events_.push(refused);
            return e;
        }
        begin_transaction(message);
        stage_mail(message);
        for (std::size_t i = 0; i < message.recipient_count; ++i)
            stage_rcpt(message.recipients[i], i);
        if (!use_bdat_) stage_line(detail::client_command::data, 0, "DATA");
        release_staged();
        return errc::ok;
    }

    // Queues a piece of the message content; allowed after a `send_body` event until
    // end_body(). Text bodies are CRLF-normalised (bare CR/LF become CRLF unless the config
    // refuses them) and dot-stuffed for DATA; with BDAT each piece becomes one chunk.
    // Errors (nothing queued): invalid_state (not in the body, or the server already refused
    // the message), output_full (drain pending_output() first; a `send_body` event follows
    // when more is welcome), eight_bit_not_allowed, binary_not_allowed (NUL in a text body),
    // text_line_too_long (a line over 998 octets in a text body), bare_cr, bare_lf.
    [[nodiscard]] errc send_body(std::string_view piece) {
        if (phase_ != phase::body || body_ended_) return errc::invalid_state;
        if (!body_writable()) {
            body_blocked_ = true;
            return errc::output_full;
        }
        if (content_ == body_content::binary) return send_chunk(piece, false);
        // Checks first, on a copy of the encoder, so that a refused piece queues nothing.
        data_encoder probe = encoder_;
        for (std::string_view in = piece; !in.empty();) in.remove_prefix(probe.next(in).consumed);
        if (const errc e = check_text(probe, false); e != errc::ok) return e;
        if (use_bdat_) {
            const std::uint64_t length = probe.size() - encoder_.size();
            if (length == 0) { // nothing to send yet: at most a CR whose LF may follow
                encoder_ = probe;
                return errc::ok;
            }
            append_bdat_header(static_cast<std::size_t>(length), false);
            expected_.push({detail::client_command::bdat, 0});
        }
        append_text(piece);
        return errc::ok;
    }

    // Ends the message content: CRLF if the last line lacks one, then "." (DATA) or the last
    // BDAT chunk. Errors: invalid_state (not in the body), bare_cr (a trailing CR when bare
    // line endings are refused).
    [[nodiscard]] errc end_body() {
        if (phase_ != phase::body || body_ended_) return errc::invalid_state;
        std::string_view tail = detail::data_constant(2, 3); // ".\r\n" of an empty binary body
        if (content_ != body_content::binary) {
            data_encoder probe = encoder_;
            const data_encoder::result r = probe.finish();
            if (const errc e = check_text(probe, true); e != errc::ok) return e;
            tail = r.segment;
            encoder_ = probe;
        }
        body_ended_ = true;
        // BDAT: the closing segment without its ".\r\n" is the last chunk (no stuffing).
        if (use_bdat_) return send_chunk(tail.substr(0, tail.size() - 3), true);
        output_.append(tail);
        expect_end_of_data();
        return errc::ok;
    }

    // Queues QUIT (RFC 5321 4.1.1.10); the session closes when 221 (or EOF) arrives.
    // Allowed whenever the session is not closed, not in the middle of a message body or a
    // TLS handshake, and QUIT is not queued yet; otherwise invalid_state.
    [[nodiscard]] errc quit() {
        if (closed_ || quitting_ || phase_ == phase::body || phase_ == phase::tls_handshake)
            return errc::invalid_state;
        start_quit();
        return errc::ok;
    }

    // Reports that the TLS handshake requested by a `start_tls` event succeeded. The session
    // forgets the capabilities and sends EHLO again (RFC 3207 4.2). invalid_state otherwise.
    [[nodiscard]] errc tls_established() {
        if (phase_ != phase::tls_handshake) return errc::invalid_state;
        secure_ = true;
        caps_ = capabilities_type{};
        ehlo_text_.clear();
        discard_input();
        phase_ = phase::setup;
        stage_hello();
        release_staged();
        return errc::ok;
    }

    // Answers an `auth_challenge` with `response` (raw octets; base64-encoded on the wire).
    // invalid_state unless a challenge is waiting.
    [[nodiscard]] errc auth_respond(std::string_view response) {
        if (phase_ != phase::auth_challenge) return errc::invalid_state;
        phase_ = phase::setup;
        scratch_.clear();
        base64_encode_append(response, scratch_);
        stage_line(detail::client_command::auth_step, 0, scratch_);
        release_staged();
        return errc::ok;
    }

    // Cancels the exchange with "*" (RFC 4954 4); the server's reply ends the AUTH attempt.
    // invalid_state unless a challenge is waiting.
    [[nodiscard]] errc auth_cancel() {
        if (phase_ != phase::auth_challenge) return errc::invalid_state;
        phase_ = phase::setup;
        stage_line(detail::client_command::auth_step, 0, "*");
        release_staged();
        return errc::ok;
    }

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
    enum class auth_kind : std::uint8_t { plain, login, caller };
    using command = detail::client_command;

    // ---- events ----

    [[nodiscard]] static client_event simple_event(client_event_kind kind) noexcept {
        client_event event;
        event.kind = kind;
        return event;
    }

    [[nodiscard]] client_event reply_event(client_event_kind kind) const noexcept {
        client_event event = simple_event(kind);
        event.reply = reply_;
        event.result = detail::outcome_of(event.reply.code);
        return event;
    }

    void push_error(errc error, bool with_reply) {
        client_event event = with_reply ? reply_event(client_event_kind::error)
                                        : simple_event(client_event_kind::error);
        event.error = error;
        events_.push(event);
    }

    void become_ready() {
        phase_ = phase::idle;
        events_.push(simple_event(client_event_kind::ready));
    }

    // ---- reading replies ----

    // Reads at most one complete reply and acts on it; false when nothing more can happen
    // until the caller feeds bytes or acts.
    [[nodiscard]] bool read_one_reply() {
        if (phase_ == phase::tls_handshake) {
            if (!eof_) return false;
            on_eof();
            return true;
        }
        const std::string_view input = std::string_view(input_).substr(input_head_);
        (void)reader_.set_options(reader_options()); // kept as they were mid-reply
        const read_result r = reader_.read(input);
        input_head_ += r.consumed;
        if (r.error == errc::ok) {
            keep_reply(r.reply);
            on_reply();
            return true;
        }
        if (r.error != errc::need_more_data) {
            close_with(r.error);
            return true;
        }
        if (!eof_) return false;
        on_eof();
        return true;
    }

    // The reader's limits for the next reply. RFC 4954 4: a 334 challenge may be as long as an
    // AUTH line (12288 octets suggested).
    [[nodiscard]] reply_reader_options reader_options() const noexcept {
        reply_reader_options options = make_reply_reader_options(config_.limit);
        options.line_limit = config_.reply_line_limit;
        options.lenient_mixed_codes = config_.lenient_mixed_reply_codes;
        const bool auth = !expected_.empty() && (expected_.front().command == command::auth ||
                                                 expected_.front().command == command::auth_step);
        if (auth && config_.limit.auth_line > options.line_limit)
            options.line_limit = config_.limit.auth_line;
        return options;
    }

    // Copies a finished reply out of the reader (whose views die with the next read) into
    // storage that queued events may view until the next mutating call.
    void keep_reply(const reply& r) {
        reply_bytes_.assign(r.raw.begin(), r.raw.end());
        reply_ = reply_info{};
        reply_.code = r.code;
        reply_.status = r.status;
        reply_.raw = std::string_view(reply_bytes_.data(), reply_bytes_.size());
        reply_.lines = r.line_count;
        std::string_view first = reply_.raw.substr(0, reply_.raw.find("\r\n"));
        first = first.size() > 4 ? first.substr(4) : std::string_view();
        reply_.text = r.status.empty() ? first : strip_enhanced_status(first);
    }

    void on_reply() {
        const int code = reply_.code;
        if (expected_.empty()) {
            close_with(code == 421 ? errc::service_closing : errc::unexpected_reply, true);
            return;
        }
        // RFC 5321 3.8: 421 answers nothing in particular; the command it arrived for fails
        // with all the others, as temporary.
        if (code == 421 && expected_.front().command != command::quit) {
            close_with(errc::service_closing, true);
            return;
        }
        if (!detail::answers(expected_.front().command, code)) return protocol_failure();
        dispatch(expected_.pop());
    }

    void dispatch(detail::expected_reply waiting) {
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
            return on_end_of_data(waiting.recipient);
        case command::rset:
            return finish_transaction();
        case command::quit:
            // A refused QUIT is reported, not taken as a clean end (421 may answer anything,
            // RFC 5321 3.8).
            return close_with(
                reply_code() / 100 == 2 || reply_code() == 421 ? errc::ok : errc::unexpected_reply,
                true);
        }
    }

    // A reply that answers nothing outstanding: every later reply would be matched to the wrong
    // command. Whatever is outstanding fails as temporary (retried, never lost), QUIT is
    // queued as a courtesy and the session closes without reading another reply.
    void protocol_failure() {
        close_with(errc::unexpected_reply, true);
        output_.append("QUIT\r\n");
    }

    void on_eof() {
        eof_ = false;
        if (quitting_) return close_with(errc::ok);
        const bool busy = !expected_.empty() || phase_ == phase::body;
        close_with(busy ? errc::peer_closed_early : errc::connection_closed);
    }

    // Discards everything received so far (the STARTTLS response-injection defence).
    void discard_input() noexcept {
        input_.clear();
        input_head_ = 0;
        reader_.reset();
    }

    // ---- connection setup ----

    void on_greeting() {
        if (reply_code() / 100 == 2) {
            events_.push(reply_event(client_event_kind::greeting));
            stage_hello();
            return;
        }
        // 554 / 521 (RFC 5321 3.1, RFC 7504): no service here; say QUIT and wait for the end.
        push_error(errc::service_closing, true);
        start_quit();
    }

    void stage_hello() {
        stage_line(command::ehlo, 0, config_.lmtp ? "LHLO " : "EHLO ", config_.helo_name);
    }

    void on_ehlo() {
        const int code = reply_code();
        if (code / 100 == 2) {
            ehlo_text_.assign(reply_.raw.begin(), reply_.raw.end());
            reply copy;
            copy.code = code;
            copy.raw = std::string_view(ehlo_text_.data(), ehlo_text_.size());
            copy.line_count = reply_.lines;
            (void)parse_ehlo_reply(copy, caps_);
            return next_setup_step();
        }
        // RFC 5321 3.2 fallback; HELO takes a Domain only, so an address-literal name cannot.
        if (code / 100 == 5 && !config_.lmtp && config_.helo_name.front() != '[') {
            stage_line(command::helo, 0, "HELO ", config_.helo_name);
            return;
        }
        fail_setup(errc::unexpected_reply);
    }

    void on_helo() {
        if (reply_code() / 100 != 2) return fail_setup(errc::unexpected_reply);
        caps_ = capabilities_type{};
        next_setup_step();
    }

    // Reports `error` with the current reply and leaves politely.
    void fail_setup(errc error) {
        push_error(error, true);
        start_quit();
    }

    void next_setup_step() {
        if (quitting_) return;
        if (wants_starttls()) {
            if (caps_.starttls) return stage_line(command::starttls, 0, "STARTTLS");
            if (config_.tls == tls_mode::required)
                return fail_setup_without_reply(errc::tls_required);
        }
        if (!config_.auth_mechanisms.empty() && !authenticated_) return start_auth();
        become_ready();
    }

    [[nodiscard]] bool wants_starttls() const noexcept {
        const bool tls_wanted =
            config_.tls == tls_mode::opportunistic || config_.tls == tls_mode::required;
        return tls_wanted && !secure_ && !starttls_refused_;
    }

    void fail_setup_without_reply(errc error) {
        push_error(error, false);
        start_quit();
    }

    void on_starttls() {
        if (reply_code() / 100 == 2) {
            events_.push(reply_event(client_event_kind::start_tls));
            // RFC 3207 4.2: whatever followed the 220 in plaintext is an attacker's, not a reply.
            // The reply buffer itself is kept until tls_established() (the event views it).
            input_.clear();
            input_head_ = 0;
            phase_ = phase::tls_handshake;
            return;
        }
        if (config_.tls == tls_mode::required) return fail_setup(errc::tls_required); // RFC 3207 6
        starttls_refused_ = true;
        next_setup_step();
    }

    // ---- AUTH (RFC 4954) ----

    void start_auth() {
        if (!pick_mechanism()) return fail_setup_without_reply(errc::extension_not_offered);
        const std::string& mechanism = config_.auth_mechanisms[mechanism_index_];
        if (config_.auth_requires_tls && !secure_ && detail::carries_credentials(mechanism)) {
            return fail_setup_without_reply(errc::tls_required); // RFC 4954 4, RFC 7628 3.2
        }
        auth_steps_ = 0;
        challenges_ = 0;
        const std::string& name = config_.auth_mechanisms[mechanism_index_];
        if (mechanism_ == auth_kind::plain) {
            scratch_.clear();
            if (const errc e = append_plain_response(scratch_); e != errc::ok) {
                return fail_setup_without_reply(e);
            }
            // RFC 4954 4: no initial response that would push the line over the limit.
            const std::size_t line = 5 + name.size() + 1 + scratch_.size() + 2;
            if (line <= config_.limit.command_line) {
                ++auth_steps_;
                return stage_line(command::auth, 0, "AUTH ", name, " ", scratch_);
            }
        }
        stage_line(command::auth, 0, "AUTH ", name);
    }

    [[nodiscard]] bool pick_mechanism() noexcept {
        for (std::size_t i = 0; i < config_.auth_mechanisms.size(); ++i) {
            const std::string& name = config_.auth_mechanisms[i];
            if (!caps_.has_auth_mechanism(name)) continue;
            mechanism_index_ = i;
            mechanism_ = detail::iequals(name, "PLAIN")   ? auth_kind::plain
                         : detail::iequals(name, "LOGIN") ? auth_kind::login
                                                          : auth_kind::caller;
            return true;
        }
        return false;
    }

    // Errors: invalid_argument (empty user name or password, a NUL), invalid_utf8.
    [[nodiscard]] errc append_plain_response(std::string& out) const {
        const client_credentials& c = config_.credentials;
        return sasl_plain_encode(out, c.authzid, c.username, c.password);
    }

    void on_auth() {
        const int code = reply_code();
        if (code / 100 == 2) {
            authenticated_ = true;
            events_.push(reply_event(client_event_kind::authenticated));
            return become_ready();
        }
        if (code / 100 != 3) return fail_setup(errc::auth_failed);
        // A server that never ends the exchange must not keep the client answering forever.
        if (++challenges_ > config_.max_auth_challenges)
            return stage_line(command::auth_step, 0, "*");
        const std::string_view text = reply_.text;
        challenge_.resize(base64_decoded_size_max(text.size()) + 1);
        if (base64_decode(text, challenge_.data(), challenge_.size(), challenge_view_) !=
            errc::ok) {
            return stage_line(command::auth_step, 0, "*"); // RFC 4954 4: undecodable challenge
        }
        if (mechanism_ == auth_kind::caller) return ask_caller();
        answer_builtin();
    }

    void ask_caller() {
        phase_ = phase::auth_challenge;
        client_event event = reply_event(client_event_kind::auth_challenge);
        event.mechanism = config_.auth_mechanisms[mechanism_index_];
        event.challenge = challenge_view_;
        events_.push(event);
    }

    void answer_builtin() {
        const std::size_t step = auth_steps_++;
        scratch_.clear();
        const std::string* login = mechanism_ == auth_kind::login ? login_answer(step) : nullptr;
        if (mechanism_ == auth_kind::plain && step == 0) {
            if (append_plain_response(scratch_) != errc::ok) scratch_.assign("*");
        } else if (login != nullptr) {
            base64_encode_append(*login, scratch_);
        } else {
            scratch_.assign("*");
        }
        stage_line(command::auth_step, 0, scratch_);
    }

    // LOGIN answers the prompt it is given ("Username:" / "Password:", in the spellings
    // servers use), so a server cannot have the password sent where it asked for the user
    // name. A prompt it does not recognise is answered by position (user name first), as
    // every LOGIN client does; nothing after the second step.
    [[nodiscard]] const std::string* login_answer(std::size_t step) const noexcept {
        const client_credentials& c = config_.credentials;
        switch (sasl_login_classify(reply_.text)) {
        case sasl_login_prompt::username:
            return &c.username;
        case sasl_login_prompt::password:
            return &c.password;
        case sasl_login_prompt::unknown:
            break;
        }
        if (step == 0) return &c.username;
        if (step == 1) return &c.password;
        return nullptr;
    }

    // ---- transactions ----

    [[nodiscard]] bool can_use_utf8() const noexcept {
        return caps_.smtputf8 && config_.use_smtputf8;
    }
    [[nodiscard]] bool can_use_8bit() const noexcept {
        return caps_.eight_bit_mime && config_.use_8bitmime;
    }
    [[nodiscard]] bool can_use_binary() const noexcept {
        return caps_.binarymime && caps_.chunking;
    }
    [[nodiscard]] bool can_use_dsn() const noexcept { return caps_.dsn && config_.use_dsn; }

    [[nodiscard]] errc check_address(std::string_view address, bool& utf8) const noexcept {
        if (detail::has_control(address)) return errc::invalid_argument; // command injection
        mailbox box;
        if (const errc e = parse_mailbox(address, box, make_address_options(config_.limit, true));
            e != errc::ok) {
            return e;
        }
        if (address.size() + 2 > config_.limit.path) return errc::path_too_long;
        utf8 = utf8 || box.utf8;
        return errc::ok;
    }

    [[nodiscard]] static errc check_envid(std::string_view envid) noexcept {
        if (envid.size() > 100) return errc::invalid_argument; // RFC 3461 5.4
        for (char c : envid) {
            if (c < 0x20 || c > 0x7E) return errc::invalid_argument;
        }
        return errc::ok;
    }

    [[nodiscard]] errc check_content(const envelope& message) const noexcept {
        if (message.content == body_content::eight_bit && !can_use_8bit())
            return errc::eight_bit_not_allowed;
        if (message.content == body_content::binary && !can_use_binary())
            return errc::binary_not_allowed;
        if (!caps_.size_allows(message.size)) return errc::message_too_large;
        return errc::ok;
    }

    [[nodiscard]] errc check_envelope(const envelope& message) const noexcept {
        if (message.recipient_count == 0 || message.recipients == nullptr)
            return errc::invalid_argument;
        bool utf8 = message.utf8_message;
        if (!message.sender.empty()) {
            if (const errc e = check_address(message.sender, utf8); e != errc::ok) return e;
        }
        for (std::size_t i = 0; i < message.recipient_count; ++i) {
            if (const errc e = check_address(message.recipients[i].address, utf8); e != errc::ok)
                return e;
        }
        if (utf8 && !can_use_utf8()) return errc::non_ascii;
        if (const errc e = check_envid(message.envid); e != errc::ok) return e;
        return check_content(message);
    }

    void begin_transaction(const envelope& message) {
        phase_ = phase::envelope;
        content_ = message.content;
        use_bdat_ = content_ == body_content::binary || (config_.use_chunking && caps_.chunking);
        recipient_count_ = message.recipient_count;
        replied_ = 0;
        accepted_.clear();
        mail_ok_ = false;
        needs_rset_ = false;
        result_reported_ = false;
        body_ended_ = false;
        body_blocked_ = false;
        last_chunk_waits_ = false;
        encoder_.reset();
        lmtp_final_ = false;
        worst_recipient_outcome_ = outcome::permanent;
        utf8_envelope_ = message.utf8_message || has_utf8_address(message);
    }

    [[nodiscard]] static bool has_non_ascii(std::string_view s) noexcept {
        for (char c : s) {
            if (static_cast<unsigned char>(c) >= 0x80) return true;
        }
        return false;
    }

    [[nodiscard]] static bool has_utf8_address(const envelope& message) noexcept {
        if (has_non_ascii(message.sender)) return true;
        for (std::size_t i = 0; i < message.recipient_count; ++i) {
            if (has_non_ascii(message.recipients[i].address)) return true;
        }
        return false;
    }

    void stage_mail(const envelope& message) {
        const std::size_t start = staged_text_.size();
        staged_text_.append("MAIL FROM:<").append(message.sender).append(">");
        if (caps_.size && config_.use_size && message.size != 0) {
            staged_text_.append(" SIZE=");
            append_number(staged_text_, message.size);
        }
        if (message.content == body_content::eight_bit) staged_text_.append(" BODY=8BITMIME");
        if (message.content == body_content::binary) staged_text_.append(" BODY=BINARYMIME");
        if (utf8_envelope_) staged_text_.append(" SMTPUTF8"); // RFC 6531 3.4
        if (can_use_dsn()) append_dsn_mail(message);
        commit_staged(command::mail, 0, start);
    }

    void append_dsn_mail(const envelope& message) {
        if (message.ret == dsn_return::full) staged_text_.append(" RET=FULL");
        if (message.ret == dsn_return::headers) staged_text_.append(" RET=HDRS");
        if (!message.envid.empty()) {
            staged_text_.append(" ENVID=");
            xtext_encode(message.envid, staged_text_);
        }
    }

    void stage_rcpt(const recipient& to, std::size_t index) {
        const std::size_t start = staged_text_.size();
        staged_text_.append("RCPT TO:<").append(to.address).append(">");
        if (can_use_dsn()) {
            append_notify(to.notify);
            // rfc822 ORCPT values must decode to ASCII (RFC 3461 4.2); the utf-8 address type
            // of RFC 6533 is not implemented, so a UTF-8 address goes without ORCPT.
            if (to.orcpt && !has_non_ascii(to.address)) {
                staged_text_.append(" ORCPT=rfc822;"); // RFC 3461 4.2: the same address
                xtext_encode(to.address, staged_text_);
            }
        }
        commit_staged(command::rcpt, index, start);
    }

    void append_notify(unsigned notify) {
        if (notify == 0) return;
        if (notify & notify_never) {
            staged_text_.append(" NOTIFY=NEVER");
            return;
        }
        const char* separator = " NOTIFY=";
        const std::pair<unsigned, const char*> names[] = {
            {notify_success, "SUCCESS"}, {notify_failure, "FAILURE"}, {notify_delay, "DELAY"}};
        for (const auto& name : names) {
            if ((notify & name.first) == 0) continue;
            staged_text_.append(separator).append(name.second);
            separator = ",";
        }
    }

    void on_mail() {
        if (reply_code() / 100 == 2) {
            mail_ok_ = true;
            return;
        }
        // RFC 1870 6.2: no DATA after a refused MAIL; RSET and report the message failed.
        report_failure(errc::ok, true);
        drop_staged();
        maybe_finish_envelope();
    }

    void on_rcpt(std::uint32_t index) {
        ++replied_;
        if (mail_ok_) {
            client_event event = reply_event(client_event_kind::recipient_result);
            event.recipient = index;
            // RFC 5321 4.5.3.1.10: 552 to RCPT means "too many recipients", try again later.
            if (event.reply.code == 552) event.result = outcome::temporary;
            if (event.result == outcome::success) accepted_.push_back(index);
            if (event.result == outcome::temporary) worst_recipient_outcome_ = outcome::temporary;
            events_.push(event);
        }
        if (replied_ < recipient_count_ || !mail_ok_) return maybe_finish_envelope();
        if (accepted_.empty()) {
            report_failure(errc::no_recipients_accepted, false);
            drop_staged(); // DATA, if it is still waiting for its turn
            return maybe_finish_envelope();
        }
        if (use_bdat_) start_body();
    }

    void on_data() {
        const bool go_ahead = reply_code() / 100 == 3;
        if (go_ahead && !accepted_.empty() && mail_ok_) return start_body();
        if (go_ahead) {
            // RFC 2920 3.1: 354 with no recipient accepted; an empty message, then RSET.
            output_.append(".\r\n");
            expected_.push({command::end_of_data, 0});
            return;
        }
        report_failure(errc::ok, true); // RFC 5321 3.3: no content without 354
        maybe_finish_envelope();
    }

    void start_body() {
        phase_ = phase::body;
        events_.push(simple_event(client_event_kind::send_body));
    }

    void on_bdat() {
        if (reply_code() / 100 == 2) {
            if (last_chunk_waits_ && expected_.empty()) {
                last_chunk_waits_ = false;
                (void)send_chunk(last_chunk_, true);
            }
            return;
        }
        // RFC 3030 2: no more BDAT after a failed chunk; RSET once the replies are in.
        last_chunk_waits_ = false;
        report_failure(errc::ok, true);
        phase_ = phase::finishing;
        maybe_finish_envelope();
    }

    void on_end_of_data(std::uint32_t index) {
        if (!result_reported_) {
            client_event event = reply_event(client_event_kind::message_result);
            event.recipient = index;
            events_.push(event);
        }
        if (!config_.lmtp) result_reported_ = true;
        maybe_finish_envelope();
    }

    // Reports the message as failed, once: with the current reply, or (no_reply) only `error`.
    void report_failure(errc error, bool with_reply) {
        needs_rset_ = true;
        if (result_reported_) return;
        result_reported_ = true;
        client_event event = with_reply ? reply_event(client_event_kind::message_result)
                                        : simple_event(client_event_kind::message_result);
        event.error = error;
        if (!with_reply) event.result = worst_recipient_outcome_;
        events_.push(event);
    }

    // Ends the transaction once no reply of it is outstanding and no content is being sent.
    void maybe_finish_envelope() {
        if (!expected_.empty() || staged_count() != 0 || phase_ == phase::body) return;
        if (needs_rset_) {
            needs_rset_ = false;
            phase_ = phase::finishing;
            return stage_line(command::rset, 0, "RSET");
        }
        finish_transaction();
    }

    void finish_transaction() {
        if (quitting_) return;
        become_ready();
    }

    void expect_end_of_data() {
        phase_ = phase::finishing;
        lmtp_final_ = config_.lmtp;
        if (!config_.lmtp) return expected_.push({command::end_of_data, 0});
        // RFC 2033 4.2: one reply per accepted recipient, in RCPT order.
        for (std::uint32_t index : accepted_) expected_.push({command::end_of_data, index});
    }

    // BDAT: one chunk per piece (RFC 3030 2: exact octet counts, no dot-stuffing). Without
    // PIPELINING each BDAT waits for the reply to the one before (RFC 3030 2, 4.2), the last
    // one too: it is held (at most a CRLF) until that reply is in.
    [[nodiscard]] errc send_chunk(std::string_view bytes, bool last) {
        if (bytes.empty() && !last) return errc::ok;
        if (last && !pipelining() && !expected_.empty()) {
            last_chunk_.assign(bytes.data(), bytes.size());
            last_chunk_waits_ = true;
            return errc::ok;
        }
        append_bdat_header(bytes.size(), last);
        output_.append(bytes);
        if (last) {
            expect_end_of_data();
        } else {
            expected_.push({command::bdat, 0});
        }
        return errc::ok;
    }

    void append_bdat_header(std::size_t length, bool last) {
        std::string& header = header_;
        header.assign("BDAT ");
        append_number(header, length);
        if (last) header.append(" LAST");
        header.append("\r\n");
        output_.append(header);
    }

    // What a text body may not hold, judged on `probe`, an encoder that has consumed the
    // piece (or finished the body, `closed`). An open line counts as if it ended here, so an
    // over-long line is refused as soon as its 999th octet arrives (RFC 5321 4.5.3.1.6).
    [[nodiscard]] errc check_text(const data_encoder& probe, bool closed) const noexcept {
        if (config_.refuse_bare_line_endings) {
            if (probe.traits().has_bare_lf) return errc::bare_lf;
            if (probe.traits().has_bare_cr) return errc::bare_cr;
        }
        if (probe.traits().has_nul) return errc::binary_not_allowed;
        if (probe.traits().has_8bit && content_ == body_content::seven_bit)
            return errc::eight_bit_not_allowed;
        bool long_line = probe.traits().long_line;
        if (!long_line && !closed) {
            data_encoder ended = probe; // a bare CR it notes is only a CR whose LF may follow
            (void)ended.finish();
            long_line = ended.traits().long_line;
        }
        return long_line ? errc::text_line_too_long : errc::ok;
    }

    // Appends the wire form of a checked text piece straight from data_encoder's segments
    // (views into `piece` or static constants); BDAT drops the stuffing dots.
    void append_text(std::string_view piece) {
        const char* const stuffing = detail::data_constant(2, 1).data();
        while (!piece.empty()) {
            const data_encoder::result r = encoder_.next(piece);
            piece.remove_prefix(r.consumed);
            if (use_bdat_ && r.segment.data() == stuffing && r.segment.size() == 1) continue;
            output_.append(r.segment);
        }
    }

    [[nodiscard]] bool body_writable() const noexcept {
        if (phase_ != phase::body || body_ended_) return false;
        if (output_.size() >= config_.limit.output_buffer) return false;
        return !(use_bdat_ && !pipelining() && !expected_.empty()); // lockstep chunks
    }

    // ---- staging and pipelining (RFC 2920) ----

    [[nodiscard]] bool pipelining() const noexcept {
        return config_.use_pipelining && caps_.pipelining;
    }

    template <class... Parts>
    void stage_line(command kind, std::size_t recipient, const Parts&... parts) {
        const std::size_t start = staged_text_.size();
        (staged_text_.append(std::string_view(parts)), ...);
        commit_staged(kind, recipient, start);
        release_staged();
    }

    void commit_staged(command kind, std::size_t recipient, std::size_t start) {
        staged_text_.append("\r\n");
        staged_.push({kind, static_cast<std::uint32_t>(recipient), staged_text_.size() - start});
    }

    [[nodiscard]] std::size_t staged_count() const noexcept { return staged_.size(); }

    // Moves staged commands to the output as far as the pipelining rules and the output
    // limit allow: lockstep without PIPELINING (RFC 5321 4.3.1), and nothing after a
    // group-ending command until every reply of the group is in (RFC 2920 3.1).
    void release_staged() {
        while (!staged_.empty() && !closed_) {
            if (output_.size() >= config_.limit.output_buffer) return;
            if (!expected_.empty()) {
                if (!pipelining() || detail::ends_group(expected_.back().command)) return;
            }
            const detail::staged_command next = staged_.pop();
            output_.append(staged_text_.data() + staged_head_, next.length);
            staged_head_ += next.length;
            expected_.push({next.command, next.recipient});
        }
        if (staged_.empty()) {
            staged_text_.clear();
            staged_head_ = 0;
        }
    }

    void drop_staged() noexcept {
        staged_.clear();
        staged_text_.clear();
        staged_head_ = 0;
    }

    // ---- ending ----

    void start_quit() {
        if (quitting_) return;
        quitting_ = true;
        drop_staged();
        stage_line(command::quit, 0, "QUIT");
    }

    // Closes the session. Outstanding recipients and messages fail as temporary
    // (RFC 5321 3.8: as if 451; RFC 2033 5 for LMTP), then `closed` carries the cause.
    void close_with(errc cause, bool with_reply = false) {
        fail_outstanding(cause == errc::ok ? errc::connection_closed : cause, with_reply);
        closed_event_ = with_reply ? reply_event(client_event_kind::closed)
                                   : simple_event(client_event_kind::closed);
        closed_event_.error = cause;
        closed_event_.result = cause == errc::ok ? outcome::success : outcome::temporary;
        expected_.clear();
        drop_staged();
        closed_ = true;
        phase_ = phase::finishing;
    }

    // Everything still outstanding fails as temporary, with `cause` as its error: the reply
    // that ended the session (421, an unexpected one), a malformed reply, EOF.
    void fail_outstanding(errc cause, bool with_reply) {
        const bool in_transaction =
            phase_ == phase::envelope || phase_ == phase::body || phase_ == phase::finishing;
        while (!expected_.empty()) {
            const detail::expected_reply waiting = expected_.pop();
            fail_pending(waiting.command, waiting.recipient, cause, with_reply);
        }
        while (!staged_.empty()) {
            const detail::staged_command waiting = staged_.pop();
            fail_pending(waiting.command, waiting.recipient, cause, with_reply);
        }
        // LMTP after the end of data reports per recipient (above); otherwise one result.
        if (in_transaction && !result_reported_ && !lmtp_final_) {
            push_temporary(client_event_kind::message_result, 0, cause, with_reply);
        }
        result_reported_ = true;
    }

    void fail_pending(command kind, std::uint32_t recipient, errc cause, bool with_reply) {
        // A refused MAIL already failed the message; its RCPTs have nothing left to report.
        if (kind == command::rcpt && (mail_ok_ || !result_reported_)) {
            push_temporary(client_event_kind::recipient_result, recipient, cause, with_reply);
        }
        if (kind == command::end_of_data && lmtp_final_ && !result_reported_) {
            push_temporary(client_event_kind::message_result, recipient, cause, with_reply);
        }
    }

    void push_temporary(client_event_kind kind, std::size_t recipient, errc cause,
                        bool with_reply) {
        client_event event = with_reply ? reply_event(kind) : simple_event(kind);
        event.recipient = recipient;
        event.result = outcome::temporary;
        event.error = cause;
        events_.push(event);
    }

    static void append_number(std::string& out, std::uint64_t value) {
        char digits[20];
        std::size_t n = 0;
        do {
            digits[n++] = static_cast<char>('0' + value % 10);
            value /= 10;
        } while (value != 0);
        while (n > 0) out.push_back(digits[--n]);
    }

    [[nodiscard]] int reply_code() const noexcept { return reply_.code; }

    client_config config_;
    capabilities_type caps_{};
    std::vector<char> ehlo_text_; // a vector so that moving the session keeps caps_ views valid
    reply_reader reader_;
    // The last reply, copied out of the reader. A vector, not a string: moving the session
    // must not move the bytes (short-string buffers do), because queued events view them.
    std::vector<char> reply_bytes_;
    reply_info reply_;
    detail::output_buffer output_;
    std::string input_;
    std::size_t input_head_ = 0;

    detail::reusable_queue<detail::expected_reply> expected_;
    detail::reusable_queue<detail::staged_command> staged_;
    std::string staged_text_;
    std::size_t staged_head_ = 0;
    detail::reusable_queue<client_event> events_;
    client_event closed_event_{};

    std::string scratch_;
    std::string header_;
    std::vector<char> challenge_; // decode buffer behind challenge_view_ (a vector: see ehlo_text_)
    std::string_view challenge_view_;

    phase phase_ = phase::setup;
    bool secure_ = false;
    bool authenticated_ = false;
    bool starttls_refused_ = false;
    bool quitting_ = false;
    bool closed_ = false;
    bool eof_ = false;

    auth_kind mechanism_ = auth_kind::plain;
    std::size_t mechanism_index_ = 0;
    std::size_t auth_steps_ = 0;
    std::size_t challenges_ = 0; // 334 replies in this AUTH exchange

    body_content content_ = body_content::seven_bit;
    bool use_bdat_ = false;
    bool utf8_envelope_ = false;
    std::size_t recipient_count_ = 0;
    std::size_t replied_ = 0;
    std::vector<std::uint32_t> accepted_;
    outcome worst_recipient_outcome_ = outcome::permanent;
    bool mail_ok_ = false;
    bool needs_rset_ = false;
    bool result_reported_ = false;
    data_encoder encoder_{}; // text bodies: CRLF normalisation, dot-stuffing, the checks
    bool body_ended_ = false;
    bool body_blocked_ = false;
    bool last_chunk_waits_ = false; // lockstep BDAT: the last chunk waits for a reply
    std::string last_chunk_;        // its octets (at most the closing CRLF)
    bool lmtp_final_ = false; // LMTP: the per-recipient replies after the end of data are due
};

SMTPP_NAMESPACE_END

#endif // SMTPP_CLIENT_SESSION_HPP
