/// \file
/// smtpp: reply codes and enhanced status codes (RFC 5321 4.2, RFC 3463).
#ifndef SMTPP_STATUS_HPP
#define SMTPP_STATUS_HPP

#include <smtpp/macros.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

/// An enhanced status code class.subject.detail (RFC 3463 2). A default-constructed value
/// (class 0) means "no enhanced status code".
struct enhanced_status {
    std::uint8_t cls = 0;      ///< 2 success, 4 persistent transient failure, 5 permanent
    std::uint16_t subject = 0; ///< the area: 1 addressing, 5 protocol, 7 security, ...
    std::uint16_t detail = 0;  ///< the condition within the subject

    /// True for the default value: no enhanced status code.
    [[nodiscard]] constexpr bool empty() const noexcept { return cls == 0; }
    /// True when class, subject and detail are the same.
    [[nodiscard]] friend constexpr bool operator==(enhanced_status a, enhanced_status b) noexcept {
        return a.cls == b.cls && a.subject == b.subject && a.detail == b.detail;
    }
    /// True when class, subject or detail differ.
    [[nodiscard]] friend constexpr bool operator!=(enhanced_status a, enhanced_status b) noexcept {
        return !(a == b);
    }
};

/// How a reply code is to be read, by its first digit (RFC 5321 4.2.1).
enum class reply_class : std::uint8_t {
    invalid,               ///< not a reply code: below 100 or above 599
    positive_preliminary,  ///< 1yz, not used by SMTP itself
    positive_completion,   ///< 2yz
    positive_intermediate, ///< 3yz
    transient_negative,    ///< 4yz
    permanent_negative,    ///< 5yz
};

/// The class of `code`, from its first digit; invalid outside 100-599.
[[nodiscard]] constexpr reply_class class_of(int code) noexcept {
    if (code < 100 || code > 599) return reply_class::invalid;
    return static_cast<reply_class>(code / 100);
}

/// True for codes a server may send: `%x32-35 %x30-35 %x30-39` (RFC 5321 4.2).
[[nodiscard]] constexpr bool is_valid_reply_code(int code) noexcept {
    return code >= 200 && code <= 559 && (code / 10) % 10 <= 5;
}

// ---- Enhanced status codes as text (RFC 3463 2, RFC 2034 4) ----

/// Longest text of a valid enhanced status code: "5.999.999".
inline constexpr std::size_t max_enhanced_status_length = 9;

/// True when `s` can be written: class 2, 4 or 5, subject and detail 0..999.
[[nodiscard]] constexpr bool is_valid(enhanced_status s) noexcept {
    return (s.cls == 2 || s.cls == 4 || s.cls == 5) && s.subject <= 999 && s.detail <= 999;
}

namespace detail {

// Reads 1*3DIGIT without a leading zero (RFC 3463 2) at text[pos]; 0 octets when absent.
[[nodiscard]] constexpr std::size_t scan_status_number(std::string_view text, std::size_t pos,
                                                       std::uint16_t& value) noexcept {
    std::size_t n = 0;
    unsigned v = 0;
    while (n < 3 && pos + n < text.size() && text[pos + n] >= '0' && text[pos + n] <= '9') {
        v = v * 10u + static_cast<unsigned>(text[pos + n] - '0');
        ++n;
    }
    if (n > 1 && text[pos] == '0') return 0;
    value = static_cast<std::uint16_t>(v);
    return n;
}

} // namespace detail

/// Parses an enhanced status code at the start of `text` (a reply line's text): class "."
/// subject "." detail, class 2/4/5, subject and detail 1-3 digits without leading zeros, then a
/// SP or the end of `text`. Returns the length of the code (5 to 9 octets) and sets `out`;
/// returns 0 and leaves `out` empty when `text` does not start with a status code ("5.01.1",
/// "5.1.1000", "5. 1.1", "5.1.1x" are plain text). Never fails otherwise.
[[nodiscard]] constexpr std::size_t parse_enhanced_status(std::string_view text,
                                                          enhanced_status& out) noexcept {
    out = {};
    if (text.size() < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') || text[1] != '.') {
        return 0;
    }
    enhanced_status s;
    s.cls = static_cast<std::uint8_t>(text[0] - '0');
    const std::size_t subject = detail::scan_status_number(text, 2, s.subject);
    const std::size_t dot = 2 + subject;
    if (subject == 0 || dot >= text.size() || text[dot] != '.') return 0;
    const std::size_t detail = detail::scan_status_number(text, dot + 1, s.detail);
    const std::size_t end = dot + 1 + detail;
    if (detail == 0 || (end < text.size() && text[end] != ' ')) return 0;
    out = s;
    return end;
}

/// Writes `s` as text ("5.1.1") into `buffer` of `capacity` octets, without a terminating NUL.
/// Returns the number of octets written, or 0 (nothing written) when `s` is not valid or does
/// not fit; max_enhanced_status_length octets always suffice.
[[nodiscard]] constexpr std::size_t format_enhanced_status(enhanced_status s, char* buffer,
                                                           std::size_t capacity) noexcept {
    char text[max_enhanced_status_length] = {};
    std::size_t n = 0;
    const auto put_number = [&](unsigned v) {
        if (v >= 100) text[n++] = static_cast<char>('0' + v / 100);
        if (v >= 10) text[n++] = static_cast<char>('0' + v / 10 % 10);
        text[n++] = static_cast<char>('0' + v % 10);
    };
    if (!is_valid(s)) return 0;
    text[n++] = static_cast<char>('0' + s.cls);
    text[n++] = '.';
    put_number(s.subject);
    text[n++] = '.';
    put_number(s.detail);
    if (n > capacity) return 0;
    for (std::size_t i = 0; i < n; ++i) buffer[i] = text[i];
    return n;
}

/// An enhanced status code as text, held by value (no allocation).
struct enhanced_status_text {
    char chars[max_enhanced_status_length] = {}; ///< the text, `size` octets, no NUL
    std::size_t size = 0;                        ///< octets used in `chars`
    /// The text as a view into `chars`, valid as long as this object.
    [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars, size}; }
};

/// `s` as text; empty when `s` is not valid.
[[nodiscard]] constexpr enhanced_status_text to_text(enhanced_status s) noexcept {
    enhanced_status_text t;
    t.size = format_enhanced_status(s, t.chars, sizeof t.chars);
    return t;
}

namespace detail {

// Highest registered detail for each subject 0..7 of the IANA "Enumerated Status Codes"
// table: RFC 5248 2.4 (X.0.0, X.1.0-9, X.2.0-4, X.3.0-5, X.4.0-7, X.5.0-6, X.6.0-6,
// X.7.0-14), RFC 6531 4 (X.6.7-10), RFC 7505 (X.1.10, X.7.27), and later IANA entries:
// X.3.6 and X.7.15-16 (RFC 6710), X.7.17-19 (RFC 7293), X.7.20-26 (RFC 7372), X.7.28
// (mail flood), X.7.29 (RFC 8617), X.7.30 (RFC 8689). Every entry has a contiguous range.
inline constexpr std::uint16_t registered_detail_max[8] = {0, 10, 4, 6, 7, 6, 10, 30};

} // namespace detail

/// True when `s` is valid and its subject.detail is in the IANA registry of enhanced status
/// codes (RFC 5248), so a server may send it (RFC 3463 2: "should send only defined,
/// registered status codes"). The registry does not tie codes to classes.
[[nodiscard]] constexpr bool is_registered(enhanced_status s) noexcept {
    return is_valid(s) && s.subject < 8 && s.detail <= detail::registered_detail_max[s.subject];
}

SMTPP_NAMESPACE_END

#endif // SMTPP_STATUS_HPP
