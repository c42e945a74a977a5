// smtpp internal: IPv4 and IPv6 addresses between text and network-order octets, for the
// PROXY protocol's version 1 line (proxy-protocol 2.1). Reading is strict where the PROXY
// protocol is (decimal numbers without leading zeros); writing is canonical (RFC 5952).
#ifndef SMTPP_DETAIL_IP_TEXT_HPP
#define SMTPP_DETAIL_IP_TEXT_HPP

#include <smtpp/detail/ascii.hpp>
#include <smtpp/macros.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

SMTPP_NAMESPACE_BEGIN
namespace detail {

// A decimal number of at most `max` (at most 65535) written without leading zeros: "0",
// "7", "255"; not "", "00", "07", "+7". The PROXY protocol forbids leading zeros so that no
// one reads them as octal (proxy-protocol 2.1).
[[nodiscard]] constexpr bool parse_plain_decimal(std::string_view digits, std::uint32_t max,
                                                 std::uint32_t& value) noexcept {
    if (digits.empty() || digits.size() > 5 || (digits[0] == '0' && digits.size() > 1))
        return false;
    std::uint32_t v = 0;
    for (const char c : digits) {
        if (!is_digit(c)) return false;
        v = v * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (v > max) return false;
    value = v;
    return true;
}

// "a.b.c.d": exactly four decimal octets, 0-255, without leading zeros, into out[0..3].
[[nodiscard]] constexpr bool parse_ipv4_text(std::string_view text, std::uint8_t* out) noexcept {
    for (int part = 0; part < 4; ++part) {
        const std::size_t end = part < 3 ? text.find('.') : text.size();
        if (end == std::string_view::npos) return false;
        std::uint32_t value = 0;
        if (!parse_plain_decimal(text.substr(0, end), 255, value)) return false;
        out[part] = static_cast<std::uint8_t>(value);
        text.remove_prefix(part < 3 ? end + 1 : end);
    }
    return true;
}

// One run of colon-separated groups of 1-4 hex digits ("" is no group), the last of which may
// be an IPv4 address standing for two groups when `ipv4_tail`. At most `room` groups go to
// `words`; returns how many, or -1 for anything else.
[[nodiscard]] constexpr int parse_ipv6_run(std::string_view run, bool ipv4_tail,
                                           std::uint16_t* words, int room) noexcept {
    int count = 0;
    while (!run.empty()) {
        const std::size_t colon = run.find(':');
        const std::string_view group = run.substr(0, colon);
        if (colon == std::string_view::npos && ipv4_tail &&
            group.find('.') != std::string_view::npos) {
            std::uint8_t v4[4] = {};
            if (count + 2 > room || !parse_ipv4_text(group, v4)) return -1;
            words[count++] = static_cast<std::uint16_t>(v4[0] << 8 | v4[1]);
            words[count++] = static_cast<std::uint16_t>(v4[2] << 8 | v4[3]);
            return count;
        }
        if (group.empty() || group.size() > 4 || count == room) return -1;
        std::uint32_t word = 0;
        for (const char c : group) {
            if (!is_hex(c)) return -1;
            word = word << 4 | static_cast<std::uint32_t>(hex_value(c));
        }
        words[count++] = static_cast<std::uint16_t>(word);
        if (colon == std::string_view::npos) break;
        run.remove_prefix(colon + 1);
        if (run.empty()) return -1; // a trailing single colon
    }
    return count;
}

// An IPv6 address in the text forms of RFC 4291 2.2 into out[0..15]: eight groups of 1-4 hex
// digits (either case), or fewer with one "::" standing for at least one zero group, the last
// 32 bits possibly as an IPv4 address ("::ffff:192.0.2.1", which inet_ntop() writes and
// HAProxy sends in TCP6 lines). 128 bits exactly, as proxy-protocol 2.1 requires.
[[nodiscard]] constexpr bool parse_ipv6_text(std::string_view text, std::uint8_t* out) noexcept {
    std::uint16_t words[8] = {};
    const std::size_t gap = text.find("::");
    if (gap == std::string_view::npos) {
        if (parse_ipv6_run(text, true, words, 8) != 8) return false;
    } else {
        const int left = parse_ipv6_run(text.substr(0, gap), false, words, 7);
        if (left < 0) return false;
        std::uint16_t tail[7] = {};
        const int right = parse_ipv6_run(text.substr(gap + 2), true, tail, 7 - left);
        if (right < 0) return false;
        for (int k = 0; k < right; ++k) words[8 - right + k] = tail[k];
    }
    for (int k = 0; k < 8; ++k) {
        out[2 * k] = static_cast<std::uint8_t>(words[k] >> 8);
        out[2 * k + 1] = static_cast<std::uint8_t>(words[k] & 0xFFu);
    }
    return true;
}

// Longest text the two writers below produce: eight groups of four hex digits and 7 colons.
inline constexpr std::size_t ip_text_max = 39;

// Writes the decimal digits of `value` (below 1000) at `out`; returns how many.
constexpr std::size_t put_small_decimal(unsigned value, char* out) noexcept {
    std::size_t n = 0;
    if (value >= 100) out[n++] = static_cast<char>('0' + value / 100);
    if (value >= 10) out[n++] = static_cast<char>('0' + value / 10 % 10);
    out[n++] = static_cast<char>('0' + value % 10);
    return n;
}

// "a.b.c.d" for in[0..3]; returns the length written at `out` (at most 15).
constexpr std::size_t format_ipv4_text(const std::uint8_t* in, char* out) noexcept {
    std::size_t n = 0;
    for (int part = 0; part < 4; ++part) {
        if (part > 0) out[n++] = '.';
        n += put_small_decimal(in[part], out + n);
    }
    return n;
}

// The RFC 5952 4 text of in[0..15]: lower-case hex without leading zeros, the longest run of
// two or more zero groups (the first of equal runs) written "::". The trailing IPv4 form of
// RFC 5952 5 is not used: hex groups are what proxy-protocol 2.1 describes, so every receiver
// reads them. Returns the length written at `out` (at most ip_text_max).
constexpr std::size_t format_ipv6_text(const std::uint8_t* in, char* out) noexcept {
    unsigned words[8] = {};
    for (int k = 0; k < 8; ++k) words[k] = static_cast<unsigned>(in[2 * k] << 8 | in[2 * k + 1]);
    int best = -1;
    int best_length = 1; // a single zero group is written "0", never "::" (RFC 5952 4.2.2)
    for (int k = 0; k < 8;) {
        int length = 0;
        while (k + length < 8 && words[k + length] == 0) ++length;
        if (length > best_length) {
            best = k;
            best_length = length;
        }
        k += length > 0 ? length : 1;
    }
    constexpr char hex[] = "0123456789abcdef";
    std::size_t n = 0;
    for (int k = 0; k < 8; ++k) {
        if (k == best) {
            out[n++] = ':';
            out[n++] = ':';
            k += best_length - 1;
            continue;
        }
        if (k > 0 && k != best + best_length) out[n++] = ':';
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const unsigned digit = words[k] >> shift & 0xFu;
            started = started || digit != 0 || shift == 0;
            if (started) out[n++] = hex[digit];
        }
    }
    return n;
}

} // namespace detail
SMTPP_NAMESPACE_END

#endif // SMTPP_DETAIL_IP_TEXT_HPP
