// smtpp: reply codes and enhanced status codes (RFC 5321 4.2, RFC 3463).
#ifndef SMTPP_STATUS_HPP
#define SMTPP_STATUS_HPP

#include <smtpp/config.hpp>

#include <cstdint>

SMTPP_NAMESPACE_BEGIN

// An enhanced status code class.subject.detail (RFC 3463 2). A default-constructed value
// (class 0) means "no enhanced status code".
struct enhanced_status {
    std::uint8_t cls = 0;
    std::uint16_t subject = 0;
    std::uint16_t detail = 0;

    [[nodiscard]] constexpr bool empty() const noexcept { return cls == 0; }
    [[nodiscard]] friend constexpr bool operator==(enhanced_status a, enhanced_status b) noexcept {
        return a.cls == b.cls && a.subject == b.subject && a.detail == b.detail;
    }
    [[nodiscard]] friend constexpr bool operator!=(enhanced_status a, enhanced_status b) noexcept {
        return !(a == b);
    }
};

// How a reply code is to be read, by its first digit (RFC 5321 4.2.1).
enum class reply_class : std::uint8_t {
    invalid,
    positive_preliminary,  // 1yz, not used by SMTP itself
    positive_completion,   // 2yz
    positive_intermediate, // 3yz
    transient_negative,    // 4yz
    permanent_negative,    // 5yz
};

[[nodiscard]] constexpr reply_class class_of(int code) noexcept {
    if (code < 100 || code > 599) return reply_class::invalid;
    return static_cast<reply_class>(code / 100);
}

// True for codes a server may send: %x32-35 %x30-35 %x30-39 (RFC 5321 4.2).
[[nodiscard]] constexpr bool is_valid_reply_code(int code) noexcept {
    return code >= 200 && code <= 559 && (code / 10) % 10 <= 5;
}

SMTPP_NAMESPACE_END

#endif // SMTPP_STATUS_HPP
