// smtpp internal: UTF-8 well-formedness (RFC 3629), shared by the grammar and the reply
// writer. is_valid_utf8 is public API (documented in grammar.hpp, which includes this).
#ifndef SMTPP_DETAIL_UTF8_HPP
#define SMTPP_DETAIL_UTF8_HPP

#include <smtpp/detail/ascii.hpp>
#include <smtpp/macros.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

SMTPP_NAMESPACE_BEGIN
namespace detail {

// Length of the well-formed UTF-8 sequence (RFC 3629) starting at p[0] >= 0x80, or 0:
// rejects overlongs, surrogates, code points above U+10FFFF, stray continuation bytes and
// sequences cut short by `end`.
[[nodiscard]] inline std::size_t utf8_sequence_length(const char* p, const char* end) noexcept {
    const auto byte = [&](std::ptrdiff_t i) { return static_cast<unsigned char>(p[i]); };
    const auto cont = [&](std::ptrdiff_t i, unsigned lo, unsigned hi) {
        return end - p > i && byte(i) >= lo && byte(i) <= hi;
    };
    const unsigned lead = byte(0);
    if (lead >= 0xC2 && lead <= 0xDF) return cont(1, 0x80, 0xBF) ? 2 : 0;
    if (lead >= 0xE0 && lead <= 0xEF) {
        const unsigned lo = lead == 0xE0 ? 0xA0 : 0x80; // no overlongs
        const unsigned hi = lead == 0xED ? 0x9F : 0xBF; // no surrogates
        return cont(1, lo, hi) && cont(2, 0x80, 0xBF) ? 3 : 0;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        const unsigned lo = lead == 0xF0 ? 0x90 : 0x80; // no overlongs
        const unsigned hi = lead == 0xF4 ? 0x8F : 0xBF; // nothing above U+10FFFF
        return cont(1, lo, hi) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
    }
    return 0;
}

} // namespace detail

// True when `text` is well-formed UTF-8 (RFC 3629): no overlongs, no surrogates, nothing
// above U+10FFFF, no stray continuation bytes, no truncated sequences. ASCII runs go 8 octets
// at a time.
[[nodiscard]] inline bool is_valid_utf8(std::string_view text) noexcept {
    const char* p = text.data();
    const char* const end = p + text.size();
    while (p < end) {
        if (end - p >= 8) {
            std::uint64_t word;
            std::memcpy(&word, p, 8);
            if ((word & 0x8080808080808080ull) == 0) {
                p += 8;
                continue;
            }
        }
        if (detail::is_ascii(*p)) {
            ++p;
            continue;
        }
        const std::size_t length = detail::utf8_sequence_length(p, end);
        if (length == 0) return false;
        p += length;
    }
    return true;
}

SMTPP_NAMESPACE_END

#endif // SMTPP_DETAIL_UTF8_HPP
