// smtpp internal: fast searches for line ends and forbidden octets (not public API).
#ifndef SMTPP_DETAIL_LINE_SCANNER_HPP
#define SMTPP_DETAIL_LINE_SCANNER_HPP

#include <smtpp/macros.hpp>

#include <cstddef>
#include <cstring>
#include <string_view>

SMTPP_NAMESPACE_BEGIN
namespace detail {

inline constexpr std::size_t no_position = std::string_view::npos;

// Position of the first `c` in `s` at or after `from`, or no_position. memchr, not a loop:
// the library's hot path is finding line ends in long runs of text.
[[nodiscard]] inline std::size_t find_byte(std::string_view s, char c,
                                           std::size_t from = 0) noexcept {
    if (from >= s.size()) return no_position;
    const void* hit = std::memchr(s.data() + from, static_cast<unsigned char>(c), s.size() - from);
    if (hit == nullptr) return no_position;
    return static_cast<std::size_t>(static_cast<const char*>(hit) - s.data());
}

// Position of the LF of the first CRLF in `s` at or after `from`, or no_position.
[[nodiscard]] inline std::size_t find_crlf_end(std::string_view s, std::size_t from = 0) noexcept {
    for (std::size_t lf = find_byte(s, '\n', from); lf != no_position;
         lf = find_byte(s, '\n', lf + 1)) {
        if (lf > 0 && s[lf - 1] == '\r') return lf;
    }
    return no_position;
}

// `line` without one trailing CR (a line that was cut before its LF).
[[nodiscard]] constexpr std::string_view without_cr(std::string_view line) noexcept {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

} // namespace detail
SMTPP_NAMESPACE_END

#endif // SMTPP_DETAIL_LINE_SCANNER_HPP
