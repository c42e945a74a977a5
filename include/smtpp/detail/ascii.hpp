// smtpp internal: character classes as one constexpr table, and locale-free ASCII helpers.
// Every grammar in smtpp is defined over octets, so nothing here looks at the C locale.
#ifndef SMTPP_DETAIL_ASCII_HPP
#define SMTPP_DETAIL_ASCII_HPP

#include <smtpp/macros.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

SMTPP_NAMESPACE_BEGIN
namespace detail {

// One bit per character class; a byte may belong to several.
enum char_class : std::uint16_t {
    cc_alpha = 1u << 0,       // ALPHA
    cc_digit = 1u << 1,       // DIGIT
    cc_hex = 1u << 2,         // HEXDIG, either case
    cc_atext = 1u << 3,       // RFC 5322 3.2.3 atext (ASCII part)
    cc_qtext = 1u << 4,       // RFC 5321 qtextSMTP: %d32-33 / %d35-91 / %d93-126
    cc_dcontent = 1u << 5,    // RFC 5321 4.1.3 dcontent: %d33-90 / %d94-126
    cc_esmtp_value = 1u << 6, // RFC 5321 4.1.2 esmtp-value: %d33-60 / %d62-126
    cc_xchar = 1u << 7,       // RFC 3461 4 xchar: %d33-126 except "+" and "="
    cc_base64 = 1u << 8,      // base64 alphabet without the pad
    cc_sasl = 1u << 9,        // SASL mechanism name characters (letters of either case)
    cc_ldh = 1u << 10,        // letter, digit or hyphen
    cc_print = 1u << 11,      // %d32-126
    cc_space = 1u << 12,      // SP / HTAB
};

struct char_table {
    std::uint16_t bits[256];
};

constexpr bool in_range(unsigned c, unsigned lo, unsigned hi) noexcept {
    return c >= lo && c <= hi;
}

constexpr std::uint16_t classify(unsigned c) noexcept {
    std::uint16_t bits = 0;
    const bool alpha = in_range(c, 'A', 'Z') || in_range(c, 'a', 'z');
    const bool digit = in_range(c, '0', '9');
    const bool print = in_range(c, 32, 126);
    if (alpha) bits |= cc_alpha;
    if (digit) bits |= cc_digit;
    if (digit || in_range(c, 'A', 'F') || in_range(c, 'a', 'f')) bits |= cc_hex;
    const std::string_view atext_specials = "!#$%&'*+-/=?^_`{|}~";
    if (alpha || digit || atext_specials.find(static_cast<char>(c)) != std::string_view::npos) {
        bits |= cc_atext;
    }
    if (print && c != '"' && c != '\\') bits |= cc_qtext;
    if (in_range(c, 33, 90) || in_range(c, 94, 126)) bits |= cc_dcontent;
    if (in_range(c, 33, 60) || in_range(c, 62, 126)) bits |= cc_esmtp_value;
    if (in_range(c, 33, 126) && c != '+' && c != '=') bits |= cc_xchar;
    if (alpha || digit || c == '+' || c == '/') bits |= cc_base64;
    if (alpha || digit || c == '-' || c == '_') bits |= cc_sasl;
    if (alpha || digit || c == '-') bits |= cc_ldh;
    if (print) bits |= cc_print;
    if (c == ' ' || c == '\t') bits |= cc_space;
    return bits;
}

constexpr char_table make_char_table() noexcept {
    char_table table{};
    for (unsigned c = 0; c < 256; ++c) table.bits[c] = classify(c);
    return table;
}

inline constexpr char_table char_classes = make_char_table();

[[nodiscard]] constexpr std::uint16_t class_bits(char c) noexcept {
    return char_classes.bits[static_cast<unsigned char>(c)];
}

[[nodiscard]] constexpr bool has_class(char c, std::uint16_t cls) noexcept {
    return (char_classes.bits[static_cast<unsigned char>(c)] & cls) != 0;
}

[[nodiscard]] constexpr bool is_alpha(char c) noexcept { return has_class(c, cc_alpha); }
[[nodiscard]] constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
[[nodiscard]] constexpr bool is_hex(char c) noexcept { return has_class(c, cc_hex); }
[[nodiscard]] constexpr bool is_alnum(char c) noexcept { return has_class(c, cc_alpha | cc_digit); }
[[nodiscard]] constexpr bool is_ascii(char c) noexcept {
    return static_cast<unsigned char>(c) < 0x80;
}

[[nodiscard]] constexpr char to_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

[[nodiscard]] constexpr char to_upper(char c) noexcept {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - ('a' - 'A')) : c;
}

// Value of a hex digit (either case), or -1.
[[nodiscard]] constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// ASCII case-insensitive equality; octets >= 0x80 must match exactly.
[[nodiscard]] constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (to_lower(a[i]) != to_lower(b[i])) return false;
    }
    return true;
}

[[nodiscard]] constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

[[nodiscard]] constexpr bool all_of_class(std::string_view s, std::uint16_t cls) noexcept {
    for (char c : s) {
        if (!has_class(c, cls)) return false;
    }
    return true;
}

// Four octets folded to lower case as one integer, for verb dispatch: only letters can
// produce the value of a lower-case letter after `| 0x20`, so comparing the folded word with
// a lower-case constant is an exact case-insensitive match.
[[nodiscard]] constexpr std::uint32_t fold4(const char* p) noexcept {
    return (static_cast<std::uint32_t>(static_cast<unsigned char>(p[0])) |
            static_cast<std::uint32_t>(static_cast<unsigned char>(p[1])) << 8 |
            static_cast<std::uint32_t>(static_cast<unsigned char>(p[2])) << 16 |
            static_cast<std::uint32_t>(static_cast<unsigned char>(p[3])) << 24) |
           0x20202020u;
}

// ---- eight octets at a time (SWAR, after "Bit Twiddling Hacks") ----
// Each test answers "does any octet of the word ...?" exactly; which octet is not reported.

inline constexpr std::uint64_t swar_ones = 0x0101010101010101ull;
inline constexpr std::uint64_t swar_highs = 0x8080808080808080ull;

// Eight octets as one word; the order of octets in the word does not matter to the tests below.
// At run time one unaligned load; the shifts keep it usable in constant expressions (GCC 12
// does not fold them into a load).
[[nodiscard]] constexpr std::uint64_t load8(const char* p) noexcept {
    std::uint64_t word = 0;
#if defined(__GNUC__) || defined(__clang__)
    if (!__builtin_is_constant_evaluated()) {
        __builtin_memcpy(&word, p, sizeof word);
        return word;
    }
#endif
    for (int i = 7; i >= 0; --i) word = word << 8 | static_cast<unsigned char>(p[i]);
    return word;
}

// Some octet < n (n <= 128).
[[nodiscard]] constexpr bool swar_has_less(std::uint64_t x, unsigned n) noexcept {
    return ((x - swar_ones * n) & ~x & swar_highs) != 0;
}

// Some octet > n (n <= 127), including every octet >= 0x80.
[[nodiscard]] constexpr bool swar_has_more(std::uint64_t x, unsigned n) noexcept {
    return (((x + swar_ones * (127 - n)) | x) & swar_highs) != 0;
}

// Some octet == b.
[[nodiscard]] constexpr bool swar_has_byte(std::uint64_t x, unsigned char b) noexcept {
    const std::uint64_t v = x ^ (swar_ones * b);
    return ((v - swar_ones) & ~v & swar_highs) != 0;
}

// Index of the first octet at or after i outside `Class`, a class of %d33-126 minus the
// octets Ex1 and Ex2 (esmtp-value: '='; xtext xchar: '+', '='). Whole clean words are skipped
// eight octets at a time; these values (ORCPT, ENVID, AUTH=) run long.
template <std::uint16_t Class, char Ex1, char Ex2>
[[nodiscard]] constexpr std::size_t skip_graphic(std::string_view s, std::size_t i) noexcept {
    while (s.size() - i >= 8) {
        const std::uint64_t w = load8(s.data() + i);
        if (swar_has_less(w, 33) || swar_has_more(w, 126) ||
            swar_has_byte(w, static_cast<unsigned char>(Ex1)) ||
            swar_has_byte(w, static_cast<unsigned char>(Ex2))) {
            break;
        }
        i += 8;
    }
    while (i < s.size() && has_class(s[i], Class)) ++i;
    return i;
}

// True for the octets RFC 5321 4.2's textstring leaves out below 0x80: C0 controls other than
// HT (NUL, CR, LF, ESC, ...) and DEL.
[[nodiscard]] constexpr bool is_text_control(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t') || u == 0x7f;
}

// True when `s` holds a C0 control (HT included) or DEL: values that may never hold one (ENVID,
// XCLIENT and XFORWARD attributes).
[[nodiscard]] constexpr bool has_control(std::string_view s) noexcept {
    for (const char c : s) {
        const auto octet = static_cast<unsigned char>(c);
        if (octet < 0x20 || octet == 0x7F) return true;
    }
    return false;
}

// Some octet of the word is a text control (or HT: the caller looks closer).
[[nodiscard]] constexpr bool swar_may_hold_control(std::uint64_t w) noexcept {
    return swar_has_less(w, 0x20) || swar_has_byte(w, 0x7f);
}

// Index of the first text control (is_text_control) at or after i, or s.size(). Clean words
// are skipped eight octets at a time, and the last octets by one more word that overlaps
// ones already known clean; a word that may hold one (or HT) is looked at octet by octet.
[[nodiscard]] constexpr std::size_t find_text_control(std::string_view s, std::size_t i) noexcept {
    const std::size_t n = s.size();
    while (n - i >= 8) {
        if (swar_may_hold_control(load8(s.data() + i))) {
            for (const std::size_t end = i + 8; i < end; ++i) {
                if (is_text_control(s[i])) return i;
            }
            continue;
        }
        i += 8;
    }
    if (i < n && n >= 8 && !swar_may_hold_control(load8(s.data() + n - 8))) return n;
    while (i < n && !is_text_control(s[i])) ++i;
    return i;
}

} // namespace detail
SMTPP_NAMESPACE_END

#endif // SMTPP_DETAIL_ASCII_HPP
