/// \file
/// smtpp: size limits, as plain data with the RFC defaults.
#ifndef SMTPP_LIMITS_HPP
#define SMTPP_LIMITS_HPP

#include <smtpp/macros.hpp>

#include <cstddef>
#include <cstdint>

SMTPP_NAMESPACE_BEGIN

/// Every length counts octets. Line lengths include the terminating CRLF. The defaults are the
/// minimums RFC 5321 4.5.3.1 requires an implementation to accept; raising them is safe,
/// lowering them below the RFC minimum breaks interoperability.
struct limits {
    std::size_t local_part = 64;    ///< RFC 5321 4.5.3.1.1
    std::size_t domain = 255;       ///< RFC 5321 4.5.3.1.2
    std::size_t path = 256;         ///< RFC 5321 4.5.3.1.3, including the angle brackets
    std::size_t command_line = 512; ///< RFC 5321 4.5.3.1.4; extensions add to it (see below)
    std::size_t reply_line = 512;   ///< RFC 5321 4.5.3.1.5
    std::size_t text_line = 1000;   ///< RFC 5321 4.5.3.1.6, a stuffed leading dot not counted
    std::size_t recipients = 100;   ///< RFC 5321 4.5.3.1.8
    std::size_t auth_line = 12288;  ///< RFC 4954 4
    std::size_t reply_lines = 128;  ///< lines in one multi-line reply a client will buffer

    /// RFC 5321 4.5.3.1.7 requires at least 64K; a value of 0 means no limit.
    std::uint64_t message_size = 10u * 1024u * 1024u;

    /// Protocol errors tolerated before the server answers 421 and closes (RFC 5321 4.5.3.1.9
    /// leaves the number to the implementation).
    std::size_t errors_before_disconnect = 10;

    /// Octets of a refused BDAT chunk the server still reads and drops so that the session can
    /// go on (RFC 3030 2); a refused chunk declared larger is answered at once and the
    /// connection closed. 0 means every refused chunk is read, however large.
    std::uint64_t bdat_discard_limit = 1024u * 1024u;

    /// Refused AUTH exchanges (the caller's 5xx to an auth decision, RFC 4954 6) before the
    /// server answers 421 and closes; 0 means no limit. Not counted in the errors above.
    std::size_t auth_failures_before_disconnect = 3;

    /// Unsent output a session buffers before it stops reading input, so a peer that never
    /// reads cannot grow the session's memory. The output sits in two blocks (the one
    /// pending_output() handed out stays put while the other collects), so its heap can reach
    /// about twice this while an asynchronous write holds the first.
    std::size_t output_buffer = 64u * 1024u;

    /// Received octets a session holds before receive() takes less than it is offered (and
    /// wants_read() turns false); at least the longest line the session accepts.
    std::size_t input_buffer = 64u * 1024u;
};

/// Octets an extension adds to the MAIL/RCPT command line limit when the server offers it.
namespace line_extra {
inline constexpr std::size_t size = 26;           ///< RFC 1870 3(5)
inline constexpr std::size_t binarymime = 16;     ///< RFC 3030 3(8)
inline constexpr std::size_t smtputf8 = 10;       ///< RFC 6531 3.1(5)
inline constexpr std::size_t auth = 500;          ///< RFC 4954 3(5)
inline constexpr std::size_t dsn_min_line = 1036; ///< RFC 3461 5.4: with DSN, lines of 1036 octets
} // namespace line_extra

/// The longest command line a server with these limits may have to accept, whatever it
/// offers: MAIL/RCPT with every extension's allowance, or an AUTH line.
[[nodiscard]] constexpr std::size_t longest_command_line(const limits& l) noexcept {
    const std::size_t mail = l.command_line + line_extra::size + line_extra::binarymime +
                             line_extra::smtputf8 + line_extra::auth;
    const std::size_t longest = mail > line_extra::dsn_min_line ? mail : line_extra::dsn_min_line;
    return longest > l.auth_line ? longest : l.auth_line;
}

/// The smallest message size limit RFC 5321 4.5.3.1.7 allows.
inline constexpr std::uint64_t min_message_size_limit = 64u * 1024u;

SMTPP_NAMESPACE_END

#endif // SMTPP_LIMITS_HPP
