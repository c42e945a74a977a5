/// \file
/// smtpp: server-side reply writer and the standard replies (RFC 5321 4.2, RFC 2034, RFC 3463).
///
/// The writer appends complete CRLF-terminated replies to a caller buffer of any type with
/// `append(const char*, std::size_t)` (std::string, detail::output_buffer, ...). It checks
/// everything first and writes nothing on error, so a bad code or a CR/LF smuggled into the
/// text can never reach the wire. It allocates nothing beyond what `out.append` does.
///
/// ```unparsed
///   250 2.1.0 Sender OK\r\n                      one line
///   250-2.0.0 first\r\n250 2.0.0 last\r\n        several lines, the status code on every line
/// ```
///
/// Text longer than a reply line allows (options.line_limit, CRLF included; RFC 5321
/// 4.5.3.1.5) is wrapped at spaces into continuation lines, or cut hard inside a word that
/// does not fit, never inside a UTF-8 sequence.
#ifndef SMTPP_REPLY_HPP
#define SMTPP_REPLY_HPP

#include <smtpp/detail/ascii.hpp>
#include <smtpp/detail/utf8.hpp>
#include <smtpp/error.hpp>
#include <smtpp/limits.hpp>
#include <smtpp/macros.hpp>
#include <smtpp/status.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

/// How the reply writer checks and writes a reply.
struct reply_options {
    /// Longest line written, CRLF included (limits::reply_line; RFC 5321 4.5.3.1.5).
    std::size_t line_limit = 512;
    /// Write a reply's enhanced status code (RFC 2034). Off: the code is checked, not written.
    bool enhanced_status_codes = true;
    /// Accept well-formed UTF-8 in the text: only for the replies RFC 6531 3.7.4 allows
    /// (VRFY/EXPN answers to a request with SMTPUTF8, 251/551 after MAIL ... SMTPUTF8).
    bool allow_utf8 = false;
    /// Accept enhanced status codes missing from the RFC 5248 registry (RFC 3463 2 says a
    /// server should send only registered ones).
    bool allow_unregistered_status = false;
};

/// Options from the session's limits and its ENHANCEDSTATUSCODES setting.
[[nodiscard]] inline reply_options make_reply_options(const limits& l,
                                                      bool enhanced_status_codes) noexcept {
    reply_options options;
    options.line_limit = l.reply_line;
    options.enhanced_status_codes = enhanced_status_codes;
    return options;
}

/// A reply to send, as data: what every decision call, the catalog below and the command
/// parser's results use. `status` empty: no enhanced status code (greeting, EHLO/HELO
/// replies, 3xx). The text is a view: whatever it points to must outlive the call it is
/// passed to (the catalog's texts are static).
struct reply_spec {
    std::uint16_t code = 0;   ///< the three-digit reply code
    enhanced_status status{}; ///< the enhanced status code; empty: none
    std::string_view text;    ///< the text after the codes, without CRLF
};

namespace detail {

// Text per RFC 5321 textstring: HT, SP and printable ASCII; with `allow_utf8` also
// well-formed UTF-8. Errors: invalid_reply_text (CR, LF, NUL, other controls, DEL, 8-bit octets
// when not allowed), invalid_utf8.
[[nodiscard]] inline errc check_reply_text(std::string_view text, bool allow_utf8) noexcept {
    bool non_ascii = false;
    for (const char c : text) {
        if (has_class(c, cc_print) || c == '\t') continue;
        if (!allow_utf8 || is_ascii(c)) return errc::invalid_reply_text;
        non_ascii = true;
    }
    if (non_ascii && !is_valid_utf8(text)) return errc::invalid_utf8;
    return errc::ok;
}

// Everything a reply's lines share: the code digits, the status text and the room for text.
struct reply_line_format {
    char code[3] = {};
    enhanced_status_text status; // empty when not written
    std::size_t width = 0;       // text octets that fit on one line
};

// The narrowest text width accepted: a UTF-8 sequence must always fit on a line.
inline constexpr std::size_t min_text_width = 8;

[[nodiscard]] inline errc make_line_format(int code, enhanced_status status,
                                           const reply_options& options,
                                           reply_line_format& format) noexcept {
    if (!is_valid_reply_code(code)) return errc::invalid_reply_code;
    if (!status.empty()) {
        // RFC 2034 4: the class must repeat the first digit, so a 3xx can carry none.
        if (!is_valid(status) || status.cls != code / 100) return errc::invalid_enhanced_status;
        if (!options.allow_unregistered_status && !is_registered(status))
            return errc::invalid_enhanced_status;
        if (options.enhanced_status_codes) format.status = to_text(status);
    }
    const std::size_t status_room = format.status.size == 0 ? 0 : format.status.size + 1;
    const std::size_t fixed = 4 + status_room + 2; // "250-" status SP ... CRLF
    if (options.line_limit < fixed + min_text_width) return errc::invalid_argument;
    format.width = options.line_limit - fixed;
    format.code[0] = static_cast<char>('0' + code / 100);
    format.code[1] = static_cast<char>('0' + code / 10 % 10);
    format.code[2] = static_cast<char>('0' + code % 10);
    return errc::ok;
}

// Writes one line: code, '-' or ' ', status, `head` (a domain or keyword) SP `text`, CRLF.
// The caller has checked that it fits.
template <class Out>
void put_reply_line(Out& out, const reply_line_format& format, bool last, std::string_view head,
                    std::string_view text) {
    const char prefix[4] = {format.code[0], format.code[1], format.code[2], last ? ' ' : '-'};
    out.append(prefix, 4);
    if (format.status.size != 0) {
        out.append(format.status.chars, format.status.size);
        out.append(" ", 1); // RFC 2034 3(4): the status code is always followed by a space
    }
    if (!head.empty()) {
        out.append(head.data(), head.size());
        if (!text.empty()) out.append(" ", 1);
    }
    out.append(text.data(), text.size());
    out.append("\r\n", 2);
}

// Where a line of at most `width` octets of `text` ends: `take` octets go on the line and
// `skip` separating spaces are dropped.
struct line_cut {
    std::size_t take = 0;
    std::size_t skip = 0;
};

[[nodiscard]] constexpr line_cut next_cut(std::string_view text, std::size_t width) noexcept {
    if (text.size() <= width) return {text.size(), 0};
    const std::size_t space = text.substr(0, width + 1).rfind(' ');
    if (space != std::string_view::npos && space > 0) return {space, 1};
    std::size_t take = width; // a word longer than a line: cut it, but between code points
    while (take > 1 && (static_cast<unsigned char>(text[take]) & 0xC0u) == 0x80u) --take;
    return {take, 0};
}

// Writes one logical line of text as one or more physical lines; `head` starts the first.
template <class Out>
void put_wrapped(Out& out, const reply_line_format& format, bool last_logical,
                 std::string_view head, std::string_view text) {
    bool first = true;
    do {
        const std::size_t head_room = first && !head.empty() ? head.size() + 1 : 0;
        const line_cut cut = next_cut(text, format.width - head_room);
        const std::string_view rest = text.substr(cut.take + cut.skip);
        put_reply_line(out, format, last_logical && rest.empty(), first ? head : std::string_view(),
                       text.substr(0, cut.take));
        text = rest;
        first = false;
    } while (!text.empty());
}

// A domain heading a 220/221/421 line: printable ASCII without spaces, short enough to leave
// room for text on its line.
[[nodiscard]] constexpr bool is_reply_head(std::string_view head,
                                           const reply_line_format& format) noexcept {
    return !head.empty() && all_of_class(head, cc_print) &&
           head.find(' ') == std::string_view::npos &&
           head.size() + 1 + min_text_width <= format.width;
}

template <class Out>
[[nodiscard]] errc write_reply_impl(Out& out, int code, enhanced_status status,
                                    std::string_view head, const std::string_view* lines,
                                    std::size_t count, const reply_options& options) {
    reply_line_format format;
    if (const errc e = make_line_format(code, status, options, format); e != errc::ok) return e;
    if (count == 0) return errc::invalid_argument;
    if (!head.empty() && !is_reply_head(head, format)) return errc::invalid_reply_text;
    for (std::size_t i = 0; i < count; ++i) {
        if (const errc e = check_reply_text(lines[i], options.allow_utf8); e != errc::ok) return e;
    }
    for (std::size_t i = 0; i < count; ++i) {
        put_wrapped(out, format, i + 1 == count, i == 0 ? head : std::string_view(), lines[i]);
    }
    return errc::ok;
}

// Writes one line of a reply the library itself chose (the catalog, the parser's results):
// its code, status and text are known to be valid and short, so nothing is checked again.
template <class Out>
void put_trusted_reply(Out& out, const reply_spec& spec, bool enhanced_status_codes) {
    reply_line_format format;
    format.code[0] = static_cast<char>('0' + spec.code / 100);
    format.code[1] = static_cast<char>('0' + spec.code / 10 % 10);
    format.code[2] = static_cast<char>('0' + spec.code % 10);
    if (enhanced_status_codes && !spec.status.empty()) format.status = to_text(spec.status);
    put_reply_line(out, format, true, {}, spec.text);
}

} // namespace detail

/// Appends the reply `code` [status] `text` to `out`, wrapped into continuation lines when the
/// text does not fit on one line. The enhanced status code `status` (empty: none) is written on
/// every line when options.enhanced_status_codes is set. Nothing is written on error:
/// ```unparsed
///   invalid_reply_code      code is not %x32-35 %x30-35 %x30-39 (RFC 5321 4.2)
///   invalid_enhanced_status status invalid, class differs from the code's first digit (RFC 2034 4;
///                       so any status on a 3xx), or unregistered (RFC 5248) unless allowed
///   invalid_reply_text      CR, LF, NUL or another control octet, or 8-bit text when not allowed
///   invalid_utf8        8-bit text allowed but not well-formed UTF-8
///   invalid_argument    options.line_limit leaves no room for text
/// ```
template <class Out>
[[nodiscard]] errc write_reply(Out& out, std::uint16_t code, enhanced_status status,
                               std::string_view text, const reply_options& options = {}) {
    return detail::write_reply_impl(out, code, status, {}, &text, 1, options);
}

/// Appends `spec`; see write_reply above.
template <class Out>
[[nodiscard]] errc write_reply(Out& out, const reply_spec& spec,
                               const reply_options& options = {}) {
    return write_reply(out, spec.code, spec.status, spec.text, options);
}

/// Appends a multi-line reply, one line per element of `lines` (each wrapped if too long);
/// `count` must be at least 1 (else invalid_argument). Errors as for write_reply.
template <class Out>
[[nodiscard]] errc write_reply_lines(Out& out, std::uint16_t code, enhanced_status status,
                                     const std::string_view* lines, std::size_t count,
                                     const reply_options& options = {}) {
    return detail::write_reply_impl(out, code, status, {}, lines, count, options);
}

/// As above with the lines in a braced list: `write_reply_lines(out, 250, {}, {"a", "b"})`.
template <class Out>
[[nodiscard]] errc write_reply_lines(Out& out, std::uint16_t code, enhanced_status status,
                                     std::initializer_list<std::string_view> lines,
                                     const reply_options& options = {}) {
    return detail::write_reply_impl(out, code, status, {}, lines.begin(), lines.size(), options);
}

/// Appends `spec` with `domain` as the first word of its text, as RFC 5321 4.2 and 4.3.2 want
/// for the greeting and for 221 and 421: "220 mx.example ESMTP ready". `domain` must be
/// printable ASCII without spaces (invalid_reply_text otherwise). Other errors as for write_reply.
template <class Out>
[[nodiscard]] errc write_domain_reply(Out& out, const reply_spec& spec, std::string_view domain,
                                      const reply_options& options = {}) {
    if (domain.empty()) return errc::invalid_reply_text;
    return detail::write_reply_impl(out, spec.code, spec.status, domain, &spec.text, 1, options);
}

/// The standard replies: every reply the sessions write on their own comes from here, and a
/// caller may pass any of them to a decision call (server_session::reject, reply). Texts after
/// RFC 5321 4.2.2-4.2.3 and the extension RFCs; every enhanced status code is registered
/// (RFC 5248) and agrees with the reply code's first digit (RFC 2034 4).
namespace replies {
// ---- connection ----
/// The greeting: written with write_domain_reply, which puts the hostname first.
inline constexpr reply_spec service_ready{220, {}, "ESMTP Service ready"};
/// The answer to QUIT; the session closes after it (RFC 5321 4.1.1.10).
inline constexpr reply_spec closing{221, {2, 0, 0}, "Bye"};
/// What shutdown() sends before closing (RFC 5321 3.8).
inline constexpr reply_spec shutting_down{
    421, {4, 3, 2}, "Service shutting down, closing connection"};
/// Sent before closing once limits::errors_before_disconnect protocol errors were made.
inline constexpr reply_spec too_many_errors{421, {4, 7, 0}, "Too many errors, closing connection"};
/// Sent before closing once limits::auth_failures_before_disconnect AUTH exchanges were
/// refused.
inline constexpr reply_spec too_many_auth_failures{
    421, {4, 7, 0}, "Too many authentication failures, closing connection"};
/// What timeout_expired() sends before closing (RFC 5321 4.5.3.2).
inline constexpr reply_spec timeout{421, {4, 4, 2}, "Timeout exceeded, closing connection"};
/// After a 521 greeting (this host takes no mail, RFC 7504), the answer to every command but
/// QUIT.
inline constexpr reply_spec does_not_accept_mail{521, {5, 3, 2}, "This host does not accept mail"};
/// After a 5xx greeting other than 521 (554, RFC 5321 3.1), the answer to every command but
/// QUIT.
inline constexpr reply_spec service_refused{
    503, {5, 5, 1}, "Service refused, only QUIT is allowed"};
/// After tls_established(false), the answer to every command but QUIT (RFC 3207 4.1).
inline constexpr reply_spec tls_not_acceptable{
    554, {5, 7, 0}, "TLS not acceptable, only QUIT is allowed"};

// ---- completion (the default answers of the decisions) ----
/// The answer to NOOP and RSET; after the hostname, the default text of an accepted
/// HELO/EHLO/LHLO.
inline constexpr reply_spec ok{250, {2, 0, 0}, "OK"};
/// The default acceptance of MAIL.
inline constexpr reply_spec sender_ok{250, {2, 1, 0}, "Sender OK"};
/// The default acceptance of RCPT.
inline constexpr reply_spec recipient_ok{250, {2, 1, 5}, "Recipient OK"};
/// The default acceptance of a message, after DATA or BDAT LAST.
inline constexpr reply_spec message_accepted{250, {2, 0, 0}, "Message accepted"};
/// The default acceptance of a BDAT chunk that is not the last.
inline constexpr reply_spec chunk_accepted{250, {2, 0, 0}, "Chunk received"};
/// The default answer to HELP.
inline constexpr reply_spec help{214, {2, 0, 0}, "See RFC 5321"};
/// RFC 5321 3.5.3: 252 when the server will not verify; not 2.1.5, which says the address
/// is valid.
inline constexpr reply_spec cannot_vrfy{
    252, {2, 0, 0}, "Cannot VRFY user, but will accept message and attempt delivery"};
/// The default answer to EXPN when EXPN is enabled (RFC 5321 3.5.3).
inline constexpr reply_spec cannot_expn{252, {2, 0, 0}, "Cannot EXPN list"};
/// The default acceptance of STARTTLS; the TLS handshake follows (RFC 3207 4).
inline constexpr reply_spec ready_to_start_tls{220, {2, 0, 0}, "Ready to start TLS"};
/// The default acceptance of an AUTH exchange (RFC 4954 6).
inline constexpr reply_spec auth_succeeded{235, {2, 7, 0}, "Authentication successful"};

// ---- intermediate (3xx never carries an enhanced status code) ----
/// The default acceptance of DATA: the client sends the message next (RFC 5321 4.1.1.4).
inline constexpr reply_spec start_mail_input{354, {}, "End data with <CR><LF>.<CR><LF>"};
/// An AUTH challenge with no data, `"334 \r\n"`, as PLAIN without an initial response
/// gets (RFC 4954 4).
inline constexpr reply_spec auth_continue{334, {}, ""};

// ---- transient failures ----
/// A fallback refusal when your own processing failed (a lookup, a disk): try again later.
inline constexpr reply_spec local_error{
    451, {4, 3, 0}, "Requested action aborted: local error in processing"};
/// A refusal of RCPT or of the message when the server cannot store it now (RFC 5321 4.2.3).
inline constexpr reply_spec insufficient_storage{452, {4, 3, 1}, "Insufficient system storage"};
/// The answer to a RCPT beyond limits::recipients (RFC 5321 4.5.3.1.10).
inline constexpr reply_spec too_many_recipients{452, {4, 5, 3}, "Too many recipients"};
/// The answer to STARTTLS when server_config does not offer it, or to refuse it for now
/// (RFC 3207 4).
inline constexpr reply_spec tls_not_available{
    454, {4, 7, 0}, "TLS not available due to temporary reason"};
/// A refusal of AUTH when the credentials cannot be checked now (RFC 4954 6).
inline constexpr reply_spec auth_temporary_failure{
    454, {4, 7, 0}, "Temporary authentication failure"};
/// A refusal of AUTH when the user must first authenticate once with another mechanism,
/// typically PLAIN, before this one works (RFC 4954 6).
inline constexpr reply_spec password_transition_needed{
    432, {4, 7, 12}, "A password transition is needed"};

// ---- syntax (RFC 5321 4.2.2; the parser's own texts are in command.hpp) ----
/// The answer to a line that is not a command, or LHLO in SMTP (RFC 5321 4.2.4).
inline constexpr reply_spec command_unrecognized{500, {5, 5, 2}, "Command unrecognized"};
/// The answer to a command line over its limit (RFC 5321 4.5.3.1.4).
inline constexpr reply_spec line_too_long{500, {5, 5, 2}, "Line too long"};
/// The answer to a command line with an LF not preceded by CR (RFC 5321 2.3.8).
inline constexpr reply_spec bare_lf_in_command{500, {5, 5, 2}, "Bare LF in command line"};
/// The answer to a command line with a CR not followed by LF (RFC 5321 2.3.8).
inline constexpr reply_spec bare_cr_in_command{500, {5, 5, 2}, "Bare CR in command line"};
/// The answer to HELO or EHLO in LMTP (RFC 2033 4.1).
inline constexpr reply_spec use_lhlo{500, {5, 5, 1}, "This is LMTP: use LHLO"};
/// The answer to MAIL, RCPT, DATA and the other commands that need a session, before HELO or
/// EHLO.
inline constexpr reply_spec send_hello_first{503, {5, 5, 1}, "Send HELO/EHLO first"};
/// The answer to BDAT, STARTTLS or AUTH when no EHLO was accepted.
inline constexpr reply_spec send_ehlo_first{503, {5, 5, 1}, "Send EHLO first"};
/// The answer to the commands that need a session before LHLO, in LMTP.
inline constexpr reply_spec send_lhlo_first{503, {5, 5, 1}, "Send LHLO first"};
/// The answer to EXPN when server_config leaves EXPN off (RFC 5321 4.2.4).
inline constexpr reply_spec expn_not_available{502, {5, 5, 1}, "EXPN not available"};
/// The answer to BDAT when CHUNKING is not offered, after its chunk is consumed.
inline constexpr reply_spec bdat_not_available{502, {5, 5, 1}, "BDAT not available"};
/// The answer to AUTH when no mechanism is offered.
inline constexpr reply_spec auth_not_available{502, {5, 5, 1}, "AUTH not available"};
/// The answer to STARTTLS on a connection already in TLS (RFC 3207 4.2).
inline constexpr reply_spec tls_already_active{503, {5, 5, 1}, "TLS already active"};
/// The answer to DATA in a transaction that declared BODY=BINARYMIME (RFC 3030 3).
inline constexpr reply_spec binarymime_needs_bdat{503, {5, 5, 1}, "BODY=BINARYMIME requires BDAT"};
/// The answer to BDAT after a refused chunk of the same transaction, until RSET.
inline constexpr reply_spec earlier_chunk_failed{503, {5, 5, 1}, "Earlier BDAT failed, send RSET"};
/// A refusal for a command whose argument does not parse (RFC 5321 4.2.2).
inline constexpr reply_spec syntax_error{501, {5, 5, 2}, "Syntax error"};
/// A refusal for well-formed arguments whose values are wrong (RFC 5321 4.2.2).
inline constexpr reply_spec bad_arguments{
    501, {5, 5, 4}, "Syntax error in parameters or arguments"};
/// The parser's answer to a MAIL whose reverse-path does not parse (RFC 5321 4.1.2).
inline constexpr reply_spec bad_sender_syntax{501, {5, 1, 7}, "Bad sender address syntax"};
/// The parser's answer to a RCPT whose forward-path does not parse (RFC 5321 4.1.2).
inline constexpr reply_spec bad_recipient_syntax{501, {5, 1, 3}, "Bad recipient address syntax"};
/// The answer to a known command smtpp does not implement (TURN, ETRN, ...).
inline constexpr reply_spec not_implemented{502, {5, 5, 1}, "Command not implemented"};
/// A refusal for a command that is valid but not now (RFC 5321 4.1.4).
inline constexpr reply_spec bad_sequence{503, {5, 5, 1}, "Bad sequence of commands"};
/// A refusal for a parameter the server recognises but will not act on (RFC 5321 4.2.2).
inline constexpr reply_spec parameter_not_implemented{
    504, {5, 5, 4}, "Command parameter not implemented"};
/// The answer to a MAIL or RCPT parameter not offered or unknown (RFC 5321 4.1.1.11).
inline constexpr reply_spec parameter_unsupported{
    555, {5, 5, 4}, "Parameter not recognized or not implemented"};

// ---- BDAT (RFC 3030 2) ----
/// A size that cannot be read loses the framing: the session closes after this reply.
inline constexpr reply_spec bdat_unframed{
    521, {5, 5, 4}, "Syntax: BDAT size [LAST], closing connection"};
/// The answer to a BDAT whose size is over 2^64-1, or a refused chunk over
/// limits::bdat_discard_limit: its octets are not read, so the session closes.
inline constexpr reply_spec message_too_big_closing{
    552, {5, 3, 4}, "Message size exceeds fixed maximum message size, closing connection"};

// ---- AUTH (RFC 4954 4, 6) ----
/// The answer to an AUTH response line over limits::auth_line (RFC 4954 4).
inline constexpr reply_spec auth_line_too_long{
    500, {5, 5, 6}, "Authentication Exchange line is too long"};
/// The answer to an AUTH response that is not valid base64 (RFC 4954 4).
inline constexpr reply_spec auth_bad_response{
    501, {5, 5, 2}, "Cannot Base64-decode client response"};
/// The answer to a PLAIN response that is not authzid NUL authcid NUL password (RFC 4616 2).
inline constexpr reply_spec auth_bad_plain{501, {5, 5, 2}, "Malformed PLAIN response"};
/// The answer when the client cancels an AUTH exchange with `"*"` (RFC 4954 4).
inline constexpr reply_spec auth_cancelled{501, {5, 7, 0}, "Authentication cancelled"};
/// A refusal for an AUTH initial response to a mechanism where the server speaks first
/// (RFC 4954 4).
inline constexpr reply_spec auth_initial_response_not_allowed{
    501, {5, 7, 0}, "Initial response not allowed"};
/// The answer to AUTH after a successful AUTH (RFC 4954 4).
inline constexpr reply_spec already_authenticated{503, {5, 5, 1}, "Already authenticated"};
/// The answer to AUTH with a mechanism not offered (RFC 4954 4).
inline constexpr reply_spec auth_mechanism_unrecognized{
    504, {5, 5, 4}, "Unrecognized authentication mechanism"};

// ---- policy ----
/// The answer to every command but HELO/EHLO/LHLO, NOOP, STARTTLS and QUIT before TLS, when
/// server_config requires TLS (RFC 3207 4).
inline constexpr reply_spec must_starttls{530, {5, 7, 0}, "Must issue a STARTTLS command first"};
/// The answer to every command but HELO/EHLO/LHLO, AUTH, NOOP, RSET, STARTTLS and QUIT before
/// a successful AUTH, when server_config requires authentication (RFC 4954 6).
inline constexpr reply_spec auth_required{530, {5, 7, 0}, "Authentication required"};
/// A refusal of AUTH with a mechanism your policy finds too weak (RFC 4954 6).
inline constexpr reply_spec auth_too_weak{534, {5, 7, 9}, "Authentication mechanism is too weak"};
/// A refusal of AUTH with wrong credentials (RFC 4954 6).
inline constexpr reply_spec auth_invalid{535, {5, 7, 8}, "Authentication credentials invalid"};
/// The answer to AUTH PLAIN or LOGIN before TLS when server_config asks for TLS first
/// (RFC 4954 6).
inline constexpr reply_spec encryption_required{
    538, {5, 7, 11}, "Encryption required for requested authentication mechanism"};
/// A refusal for a command your policy allows only with TLS or authentication.
inline constexpr reply_spec security_required{
    554, {5, 7, 0}, "Command refused due to lack of security"};
/// A refusal of RCPT for a domain this server does not relay for.
inline constexpr reply_spec relay_denied{550, {5, 7, 1}, "Relay access denied"};

// ---- mailboxes and messages ----
/// A refusal of RCPT for a mailbox that does not exist (RFC 5321 4.2.3).
inline constexpr reply_spec mailbox_unavailable{550, {5, 1, 1}, "Mailbox unavailable"};
/// A refusal of MAIL or RCPT for an address your policy does not allow (RFC 5321 4.2.3).
inline constexpr reply_spec mailbox_name_not_allowed{553, {5, 1, 3}, "Mailbox name not allowed"};
/// A refusal of DATA when no recipient was accepted (RFC 5321 3.3).
inline constexpr reply_spec no_valid_recipients{554, {5, 5, 1}, "No valid recipients"};
/// A refusal of a message for no more specific reason (RFC 5321 4.2.3).
inline constexpr reply_spec transaction_failed{554, {5, 0, 0}, "Transaction failed"};
/// The answer to MAIL SIZE= above limits::message_size, and to a message or chunk beyond it
/// (RFC 1870).
inline constexpr reply_spec message_too_big{
    552, {5, 3, 4}, "Message size exceeds fixed maximum message size"};
/// The answer to a message with bare CR, bare LF or NUL, after its end (RFC 5321 2.3.8).
inline constexpr reply_spec bad_line_endings{
    550, {5, 6, 0}, "Message contains bare CR, bare LF or NUL"};
/// A refusal of MAIL with a UTF-8 address that the server does not permit (RFC 6531 3.5).
inline constexpr reply_spec non_ascii_sender{
    550, {5, 6, 7}, "Non-ASCII addresses not permitted for that sender"};
/// A refusal of RCPT with a UTF-8 address that the server does not permit (RFC 6531 3.5).
inline constexpr reply_spec non_ascii_recipient{
    553, {5, 6, 7}, "Non-ASCII addresses not permitted for that recipient"};
/// A refusal of VRFY or EXPN whose answer needs UTF-8 the client did not ask for
/// (RFC 6531 4).
inline constexpr reply_spec utf8_reply_required{
    550, {5, 6, 8}, "UTF-8 string reply is required, but not permitted by the SMTP client"};
/// A refusal of a message with UTF-8 headers that a recipient cannot take (RFC 6531 3.5).
inline constexpr reply_spec utf8_message_refused{
    554, {5, 6, 9}, "UTF-8 header message cannot be transferred to one or more recipients"};
/// A refusal of RCPT to a domain whose MX is null: it takes no mail (RFC 7505 4.1).
inline constexpr reply_spec recipient_domain_no_mail{
    556, {5, 1, 10}, "Recipient address has null MX"};
/// A refusal of MAIL from a domain whose MX is null: it takes no mail (RFC 7505 4.2).
inline constexpr reply_spec sender_domain_no_mail{550, {5, 7, 27}, "Sender address has null MX"};
} // namespace replies

SMTPP_NAMESPACE_END

#endif // SMTPP_REPLY_HPP
