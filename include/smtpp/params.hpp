/// \file
/// smtpp: the MAIL and RCPT parameter values both sides share: what the command parser reports
/// and what a client's envelope asks for (RFC 6152, RFC 3030 3, RFC 3461 4).
#ifndef SMTPP_PARAMS_HPP
#define SMTPP_PARAMS_HPP

#include <smtpp/macros.hpp>

#include <cstdint>

SMTPP_NAMESPACE_BEGIN

/// MAIL BODY= (RFC 6152 3, RFC 3030 3). `unspecified`: no BODY parameter, 7-bit text.
enum class body_type : std::uint8_t { unspecified, seven_bit, eight_bit_mime, binary_mime };

/// MAIL RET= (RFC 3461 4.3).
enum class dsn_ret : std::uint8_t { unspecified, full, headers };

/// RCPT NOTIFY= bits (RFC 3461 4.1); 0 means no NOTIFY parameter. NOTIFY=NEVER: no report
/// at all, whatever happens.
inline constexpr unsigned notify_never = 1;
/// NOTIFY=SUCCESS: a report when the message is delivered (RFC 3461 4.1).
inline constexpr unsigned notify_success = 2;
/// NOTIFY=FAILURE: a report when delivery fails (RFC 3461 4.1).
inline constexpr unsigned notify_failure = 4;
/// NOTIFY=DELAY: a report when delivery is delayed (RFC 3461 4.1).
inline constexpr unsigned notify_delay = 8;

SMTPP_NAMESPACE_END

#endif // SMTPP_PARAMS_HPP
