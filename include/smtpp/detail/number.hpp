// smtpp internal: the one decimal parser and formatter every header uses (SIZE, BDAT chunk
// sizes, EHLO SIZE values, DSN and LIMITS numbers).
#ifndef SMTPP_DETAIL_NUMBER_HPP
#define SMTPP_DETAIL_NUMBER_HPP

#include <smtpp/error.hpp>
#include <smtpp/macros.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

SMTPP_NAMESPACE_BEGIN
namespace detail {

// 1*DIGIT into a uint64 without overflow; leading zeros are allowed and never overflow.
// Errors: syntax_error (empty, or a non-digit), number_overflow (a well-formed number above
// 2^64-1: grammar and range are different failures).
[[nodiscard]] constexpr errc parse_decimal(std::string_view digits, std::uint64_t& value) noexcept {
    if (digits.empty()) return errc::syntax_error;
    bool overflow = false;
    std::uint64_t v = 0;
    for (const char c : digits) {
        const auto d = static_cast<std::uint64_t>(static_cast<unsigned char>(c) - '0');
        if (d > 9) return errc::syntax_error;
        if (v > (UINT64_MAX - d) / 10) overflow = true; // keep going: a later non-digit wins
        v = v * 10 + d;
    }
    if (overflow) return errc::number_overflow;
    value = v;
    return errc::ok;
}

// Longest decimal form of a uint64.
inline constexpr std::size_t max_decimal_digits = 20;

// The decimal digits of `n`, written at the end of `buffer`; the view points into it.
[[nodiscard]] constexpr std::string_view
format_decimal(std::uint64_t n, char (&buffer)[max_decimal_digits]) noexcept {
    std::size_t i = sizeof buffer;
    do {
        buffer[--i] = static_cast<char>('0' + n % 10);
        n /= 10;
    } while (n != 0);
    return {buffer + i, sizeof buffer - i};
}

// Appends the decimal digits of `n` to `out` (anything with append(const char*, size_t)).
template <class Out>
void append_decimal(Out& out, std::uint64_t n) {
    char buffer[max_decimal_digits];
    const std::string_view digits = format_decimal(n, buffer);
    out.append(digits.data(), digits.size());
}

} // namespace detail
SMTPP_NAMESPACE_END

#endif // SMTPP_DETAIL_NUMBER_HPP
