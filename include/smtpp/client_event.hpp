// smtpp: the events a client session reports, one at a time, from next_event().
//
// Lifetime: every view in an event (reply text, challenge, mechanism) stays valid until the
// next mutating call on the session that produced it (receive, receive_eof, next_event,
// consume_output, send_*, end_body, quit, tls_established, auth_*).
#ifndef SMTPP_CLIENT_EVENT_HPP
#define SMTPP_CLIENT_EVENT_HPP

#include <smtpp/config.hpp>
#include <smtpp/error.hpp>
#include <smtpp/status.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

enum class client_event_kind : std::uint8_t {
    need_data,        // nothing to report: send pending_output() and/or receive() more bytes
    greeting,         // the server's 220 greeting (reply)
    start_tls,        // 220 to STARTTLS: run the TLS handshake, then call tls_established()
    auth_challenge,   // caller-driven SASL: answer with auth_respond() or auth_cancel()
    authenticated,    // 235 to AUTH (reply)
    ready,            // idle: send_mail() or quit() may be called
    recipient_result, // reply to one RCPT (recipient, outcome, reply)
    send_body,        // the server takes the message content now: send_body()/end_body()
    message_result,   // final outcome of a transaction (LMTP: one per accepted recipient)
    error,            // something failed (error, reply when the server said so)
    closed,           // the session is over (error == ok after 221)
};

// How a reply is to be read (RFC 5321 4.2.1, 4.2 for unknown codes: by their first digit).
enum class outcome : std::uint8_t {
    success,   // 2yz (3yz where it was asked for)
    temporary, // 4yz, 552 to RCPT (RFC 5321 4.5.3.1.10), 421, or the connection lost
    permanent, // 5yz
};

// A server reply as received. `raw` holds every line with its CRLF; `text` is the first line
// after the code, the separator and the enhanced status code. Both empty when the event was
// not caused by a reply (code 0), e.g. the connection closed early.
struct reply_info {
    int code = 0;
    enhanced_status status{}; // empty() when the reply carried none (RFC 2034, 3463)
    std::string_view text;
    std::string_view raw;
    std::size_t lines = 0;
};

struct client_event {
    client_event_kind kind = client_event_kind::need_data;
    errc error = errc::ok;             // error, closed, failed results: why
    outcome result = outcome::success; // recipient_result, message_result
    reply_info reply{};                // the reply behind the event, if any
    std::size_t recipient = 0;         // recipient_result, LMTP message_result: envelope index
    std::string_view mechanism;        // auth_challenge: the mechanism name as configured
    std::string_view challenge;        // auth_challenge: decoded server challenge
};

// The text of the next line of a raw reply (everything after the code and its separator; an
// enhanced status code is left in place), advancing `raw` past the line and its CRLF. An empty
// `raw` means there are no more lines. The view points into the same bytes as `raw`.
[[nodiscard]] constexpr std::string_view next_reply_line(std::string_view& raw) noexcept {
    const std::size_t end = raw.find("\r\n");
    const std::string_view line = raw.substr(0, end);
    raw = end == std::string_view::npos ? std::string_view() : raw.substr(end + 2);
    return line.size() > 4 ? line.substr(4) : std::string_view();
}

// A static name for the kind ("need_data", "greeting", ...); never null.
[[nodiscard]] constexpr const char* to_string(client_event_kind kind) noexcept {
    switch (kind) {
    case client_event_kind::need_data:
        return "need_data";
    case client_event_kind::greeting:
        return "greeting";
    case client_event_kind::start_tls:
        return "start_tls";
    case client_event_kind::auth_challenge:
        return "auth_challenge";
    case client_event_kind::authenticated:
        return "authenticated";
    case client_event_kind::ready:
        return "ready";
    case client_event_kind::recipient_result:
        return "recipient_result";
    case client_event_kind::send_body:
        return "send_body";
    case client_event_kind::message_result:
        return "message_result";
    case client_event_kind::error:
        return "error";
    case client_event_kind::closed:
        return "closed";
    }
    return "unknown";
}

// A static name for the outcome; never null.
[[nodiscard]] constexpr const char* to_string(outcome value) noexcept {
    switch (value) {
    case outcome::success:
        return "success";
    case outcome::temporary:
        return "temporary";
    case outcome::permanent:
        return "permanent";
    }
    return "unknown";
}

SMTPP_NAMESPACE_END

#endif // SMTPP_CLIENT_EVENT_HPP
