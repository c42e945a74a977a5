/// \file
/// smtpp: how long each side waits for the other (RFC 5321 4.5.3.2), as data. Sessions keep no
/// clock: they say what they are waiting for and for how long (wait_state); the caller arms a
/// timer when that wait begins and calls timeout_expired() when it fires. Arriving bytes do not
/// restart a wait: a peer that trickles one octet at a time gets no more time than one that
/// sends nothing.
#ifndef SMTPP_TIMEOUTS_HPP
#define SMTPP_TIMEOUTS_HPP

#include <smtpp/macros.hpp>

#include <chrono>
#include <cstdint>

SMTPP_NAMESPACE_BEGIN

/// What a session is waiting for.
enum class wait_phase : std::uint8_t {
    none,             ///< nothing from the peer: the caller's move (a decision, the body, ...)
    greeting,         ///< client: the 220 greeting (RFC 5321 4.5.3.2.1)
    reply,            ///< client: a reply to EHLO, HELO, STARTTLS, AUTH, RSET or QUIT
    mail_reply,       ///< client: the reply to MAIL (4.5.3.2.2)
    rcpt_reply,       ///< client: a reply to RCPT (4.5.3.2.3)
    data_reply,       ///< client: the 354 to DATA (4.5.3.2.4)
    data_block,       ///< client: its body output to be written (4.5.3.2.5)
    data_termination, ///< client: the reply to the final dot or BDAT LAST (4.5.3.2.6)
    command,          ///< server: the next command line (4.5.3.2.7)
    data,             ///< server: more of a message body (DATA or a BDAT chunk)
};

/// The durations, RFC 5321 4.5.3.2's values by default (assign any std::chrono duration:
/// std::chrono::seconds(30), 1500ms). Shorter server values defend against slow clients under
/// load (as Postfix's stress mode does); RFC 5321 asks for at least these.
struct timeouts {
    /// Client: for the 220 greeting (RFC 5321 4.5.3.2.1).
    std::chrono::milliseconds greeting = std::chrono::minutes(5);
    /// Client: for a reply to EHLO, HELO, STARTTLS, AUTH, RSET or QUIT.
    std::chrono::milliseconds reply = std::chrono::minutes(5);
    /// Client: for the reply to MAIL (RFC 5321 4.5.3.2.2).
    std::chrono::milliseconds mail_reply = std::chrono::minutes(5);
    /// Client: for a reply to RCPT (RFC 5321 4.5.3.2.3).
    std::chrono::milliseconds rcpt_reply = std::chrono::minutes(5);
    /// Client: for the 354 to DATA (RFC 5321 4.5.3.2.4).
    std::chrono::milliseconds data_reply = std::chrono::minutes(2);
    /// Client: for each block of body output to be written (RFC 5321 4.5.3.2.5).
    std::chrono::milliseconds data_block = std::chrono::minutes(3);
    /// Client: for the reply to the final dot or BDAT LAST (RFC 5321 4.5.3.2.6).
    std::chrono::milliseconds data_termination = std::chrono::minutes(10);
    /// Server: for the next command line (RFC 5321 4.5.3.2.7).
    std::chrono::milliseconds command = std::chrono::minutes(5);
    /// Server: for each block of a message body, DATA or BDAT.
    std::chrono::milliseconds data = std::chrono::minutes(5);
    /// A body (the server receiving it, the client's output draining) gets a new wait after
    /// each block of this many octets: 64 KiB per 5 minutes is about 218 octets a second, the
    /// least a peer must move to keep a connection (Postfix's smtpd_min_data_rate is 500).
    std::uint64_t data_block_size = 64u * 1024u;

    /// The duration for `phase`; zero for wait_phase::none.
    [[nodiscard]] constexpr std::chrono::milliseconds of(wait_phase phase) const noexcept {
        switch (phase) {
        case wait_phase::greeting:
            return greeting;
        case wait_phase::reply:
            return reply;
        case wait_phase::mail_reply:
            return mail_reply;
        case wait_phase::rcpt_reply:
            return rcpt_reply;
        case wait_phase::data_reply:
            return data_reply;
        case wait_phase::data_block:
            return data_block;
        case wait_phase::data_termination:
            return data_termination;
        case wait_phase::command:
            return command;
        case wait_phase::data:
            return data;
        case wait_phase::none:
            break;
        }
        return std::chrono::milliseconds{0};
    }
};

/// What a session waits for now. `serial` changes whenever a new wait begins (a new command
/// line, the next reply, the next data block), also when the phase stays the same: re-arm the
/// timer when it changes, and only then. Phase none (timeout 0): the session waits for you (a
/// decision, the body, a TLS handshake) or is closed: arm no timer of the session's; a loop
/// that bounds those waits too uses a deadline of its own.
struct wait_state {
    wait_phase phase = wait_phase::none;  ///< what the session waits for
    std::chrono::milliseconds timeout{0}; ///< how long, from when this wait began
    std::uint64_t serial = 0;             ///< the wait's number: a new one, a new timer
};

/// A short stable name for logs ("rcpt_reply", ...).
[[nodiscard]] constexpr const char* to_string(wait_phase phase) noexcept {
    constexpr const char* names[] = {"none",       "greeting",   "reply",      "mail_reply",
                                     "rcpt_reply", "data_reply", "data_block", "data_termination",
                                     "command",    "data"};
    const auto i = static_cast<std::size_t>(phase);
    return i < sizeof names / sizeof names[0] ? names[i] : "unknown";
}

SMTPP_NAMESPACE_END

#endif // SMTPP_TIMEOUTS_HPP
