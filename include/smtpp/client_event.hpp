/// \file
/// smtpp: the events a client session reports, one at a time, from next_event().
///
/// Lifetime: every view in an event (the reply, the challenge, the mechanism) stays valid until
/// the next mutating call on the session that produced it (receive, receive_in_place,
/// receive_eof, next_event, consume_output, send_*, end_body, quit, tls_established, auth_*,
/// timeout_expired, moving it).
#ifndef SMTPP_CLIENT_EVENT_HPP
#define SMTPP_CLIENT_EVENT_HPP

#include <smtpp/error.hpp>
#include <smtpp/macros.hpp>
#include <smtpp/reply_reader.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

/// What a client event reports; the client_event fields it sets are named in parentheses.
enum class client_event_kind : std::uint8_t {
    need_data,        ///< nothing to report: send pending_output() and/or receive() more bytes
    greeting,         ///< the server's 220 greeting (reply)
    tls_handshake,    ///< 220 to STARTTLS: run the TLS handshake, then call tls_established()
    auth_challenge,   ///< caller-driven SASL: answer with auth_respond() or auth_cancel()
    authenticated,    ///< 235 to AUTH (reply)
    ready,            ///< idle: send_mail() or quit() may be called
    recipient_result, ///< reply to one RCPT (recipient, result, reply)
    send_body,        ///< the server takes the message content now (again after output_full):
                      ///< send_body() pieces, then end_body()
    message_result,   ///< final outcome of a transaction, or in LMTP of one recipient
    error,            ///< something failed: error, result (never success), and reply when the
                      ///< server said so
    closed,           ///< the session is over (error ok after 221)
};

/// How a reply is to be read (RFC 5321 4.2.1, 4.2 for unknown codes: by their first digit).
enum class outcome : std::uint8_t {
    success,   ///< the 2yz that completes the command
    temporary, ///< 4yz, 552 to RCPT (RFC 5321 4.5.3.1.10), 421, an unexpected reply, the
               ///< connection lost or timed out: try again later
    permanent, ///< 5yz
};

/// One event. Plain fields; which ones are set depends on `kind` (the rest keep defaults).
struct client_event {
    /// What happened; it says which fields below are set.
    client_event_kind kind = client_event_kind::need_data;
    errc error = errc::ok;             ///< error, closed, failed results: why
    outcome result = outcome::success; ///< recipient_result, message_result; error and closed:
                                       ///< temporary or permanent (closed: success after QUIT)
    smtpp::reply reply{};              ///< the reply behind the event (code 0: none, e.g. the
                                       ///< connection closed early)
    std::size_t recipient = 0;         ///< recipient_result, LMTP message_result: envelope index
    bool for_recipient = false;        ///< message_result: the LMTP result of `recipient` alone
    /// recipient_result, send_body, message_result: the transaction's number
    /// (client_session::last_transaction() just after its send_mail()); 0 for other events.
    std::uint32_t transaction = 0;
    std::string_view mechanism; ///< auth_challenge: the mechanism name as configured
    std::string_view challenge; ///< auth_challenge: decoded server challenge
};

/// A static name for the kind ("need_data", "greeting", ...); never null.
[[nodiscard]] constexpr const char* to_string(client_event_kind kind) noexcept {
    constexpr const char* names[] = {
        "need_data", "greeting",         "tls_handshake", "auth_challenge", "authenticated",
        "ready",     "recipient_result", "send_body",     "message_result", "error",
        "closed"};
    const auto i = static_cast<std::size_t>(kind);
    return i < sizeof names / sizeof names[0] ? names[i] : "unknown";
}

/// A static name for the outcome; never null.
[[nodiscard]] constexpr const char* to_string(outcome value) noexcept {
    constexpr const char* names[] = {"success", "temporary", "permanent"};
    const auto i = static_cast<std::size_t>(value);
    return i < sizeof names / sizeof names[0] ? names[i] : "unknown";
}

SMTPP_NAMESPACE_END

#endif // SMTPP_CLIENT_EVENT_HPP
