/// \file
/// smtpp: what server_session::next_event() hands out.
#ifndef SMTPP_SERVER_EVENT_HPP
#define SMTPP_SERVER_EVENT_HPP

#include <smtpp/command.hpp>
#include <smtpp/error.hpp>
#include <smtpp/macros.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

/// What a server event is: flow control for your loop, a decision to answer, or information.
enum class server_event_kind : std::uint8_t {
    // Flow control: nothing to decide.
    need_data,         ///< all input is used: receive() more bytes or receive_eof()
    output_full,       ///< unsent output reached limits.output_buffer: write, then consume_output()
    awaiting_decision, ///< the last decision event is still unanswered (pending_decision() says
                       ///< which)
    tls_handshake,     ///< 220 to STARTTLS queued: write all pending output, run the TLS handshake,
                       ///< then call tls_established(); repeated until then (closed after
                       ///< receive_eof(): the peer left without a handshake)
    closed,            ///< the session is over: write pending output, then close the connection

    // Decisions: answer each with accept(), reject() or reply() (auth also challenge()).
    // The default accept() reply is given in brackets.
    connect,     ///< a client connected [`220 <hostname> <greeting_text>`]; reject with 554 or 521
                 ///< to refuse service (then only QUIT works), 421 to close at once
    hello,       ///< HELO, EHLO or LHLO (command().kind) [250 single line / capability list];
                 ///< accepting ends any open transaction (RFC 5321 4.1.4)
    mail,        ///< MAIL FROM [250 2.1.0]; accepting opens a transaction
    rcpt,        ///< RCPT TO [250 2.1.5]; only accepted recipients count
    data,        ///< DATA with at least one accepted recipient [354]
    message_end, ///< the message is complete [250 2.0.0]; in LMTP one event per accepted
                 ///< recipient (recipient_index), each reply sent as soon as it is given
    bdat_chunk,  ///< a BDAT chunk without LAST was read [250 2.0.0]; BDAT LAST ends in message_end
    vrfy,        ///< VRFY [252 2.0.0]
    expn,        ///< EXPN, only when offered [252 2.0.0]
    help,        ///< HELP [214 2.0.0]
    starttls, ///< STARTTLS [220 2.0.0, then tls_handshake]; reject with 454 if TLS is unavailable
    auth,     ///< an AUTH step: the command (auth_step 0) or a client response [235 2.7.0];
              ///< challenge() sends 334 and waits for the next response

    // Information: no answer needed.
    body_chunk,        ///< message bytes (DATA unstuffed, or BDAT raw) in `data`
    transaction_reset, ///< the open transaction and every body byte received for it are void
                       ///< (RSET, an accepted HELO/EHLO, a failed message, TLS, EOF, ...): drop
                       ///< what you buffered; `error` says why (ok for RSET/EHLO/QUIT)
    protocol_error,    ///< the session answered a bad command itself: `error`, `reply_code`
};

/// One event. Plain fields; which ones are set depends on `kind` (the rest keep defaults).
/// LIFETIME: every view (the command, data, mechanism, authzid, authcid, password) stays valid
/// until the next mutating call on the session (receive, receive_in_place, receive_eof,
/// next_event, a decision, consume_output, tls_established, timeout_expired, shutdown,
/// release_idle_memory).
struct server_event {
    server_event_kind kind = server_event_kind::need_data; ///< what happened; which fields are set

    /// protocol_error: what was wrong. transaction_reset: why (ok, message_too_large,
    /// bare_cr, bare_lf, nul_byte, peer_closed_early, service_closing, too_many_errors, ...).
    /// closed: ok after QUIT, connection_closed on a clean EOF, peer_closed_early on EOF
    /// mid-command or mid-transaction, service_closing after shutdown() or a 421, timed_out,
    /// too_many_errors, too_many_auth_failures, invalid_config, or what ended it otherwise.
    errc error = errc::ok;
    std::uint16_t reply_code = 0; ///< protocol_error, transaction_reset: the code sent (0: none)

    /// hello, mail, rcpt, vrfy, expn, help, auth (step 0): the parsed command line; null for
    /// the other kinds. command() never is.
    const smtpp::command* cmd = nullptr;

    /// body_chunk: the bytes. auth: the decoded SASL response (initial or later).
    std::string_view data;

    /// rcpt: recipients accepted so far (this one would be number recipient_index).
    /// message_end: LMTP recipient this reply is for (0-based among accepted ones; 0 in SMTP).
    std::size_t recipient_index = 0;
    std::size_t recipient_count = 0; ///< message_end: accepted recipients

    /// message_end: body octets (RFC 1870 5 counting). bdat_chunk: this chunk's octets.
    std::uint64_t size = 0;
    bool chunked = false;          ///< message_end: the body came by BDAT
    bool eight_bit = false;        ///< message_end: an octet >= 0x80 was seen (accepted and marked,
                                   ///< also without BODY=8BITMIME, like Postfix)
    bool bare_line_ending = false; ///< message_end: bare CR, bare LF or NUL (lenient mode only)
    bool long_line = false;        ///< message_end: a line exceeded limits.text_line
    bool last_reply = false;       ///< message_end: this reply ends the transaction (always in
                                   ///< SMTP; the last recipient's in LMTP)

    /// auth: which step (0: the AUTH command).
    std::size_t auth_step = 0;
    bool has_response = false;  ///< auth: `data` holds a response (IR or reply line)
    std::string_view mechanism; ///< auth: the mechanism, as the client wrote it
    /// auth with PLAIN (RFC 4616) or LOGIN, once all fields are in: the decoded credentials.
    /// This one is the authorization identity, PLAIN only; empty when the client asks to act
    /// as itself (RFC 4616 2).
    std::string_view authzid;
    std::string_view authcid;  ///< auth, PLAIN or LOGIN: the user name
    std::string_view password; ///< auth, PLAIN or LOGIN: the password

    /// The parsed command line, or an empty command for kinds that carry none.
    [[nodiscard]] const smtpp::command& command() const noexcept {
        static constexpr smtpp::command none{};
        return cmd != nullptr ? *cmd : none;
    }
};

namespace detail {

inline constexpr bool server_decision_kinds[] = {false, false, false, false, false, // flow control
                                                 true,  true,  true,  true,  true,  true, true,
                                                 true,  true,  true,  true,  true, // decisions
                                                 false, false, false};             // information

} // namespace detail

/// True for the kinds that wait for accept()/reject()/reply()/challenge().
[[nodiscard]] constexpr bool is_decision(server_event_kind kind) noexcept {
    const auto i = static_cast<std::size_t>(kind);
    return i < sizeof detail::server_decision_kinds && detail::server_decision_kinds[i];
}

/// A short stable name for logs and tests ("need_data", "mail", ...).
[[nodiscard]] constexpr const char* to_string(server_event_kind kind) noexcept {
    constexpr const char* names[] = {"need_data",
                                     "output_full",
                                     "awaiting_decision",
                                     "tls_handshake",
                                     "closed",
                                     "connect",
                                     "hello",
                                     "mail",
                                     "rcpt",
                                     "data",
                                     "message_end",
                                     "bdat_chunk",
                                     "vrfy",
                                     "expn",
                                     "help",
                                     "starttls",
                                     "auth",
                                     "body_chunk",
                                     "transaction_reset",
                                     "protocol_error"};
    const auto i = static_cast<std::size_t>(kind);
    return i < sizeof names / sizeof names[0] ? names[i] : "unknown";
}

SMTPP_NAMESPACE_END

#endif // SMTPP_SERVER_EVENT_HPP
