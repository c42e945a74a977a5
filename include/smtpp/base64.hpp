/// \file
/// smtpp: strict base64 (RFC 4648 4) for SASL exchanges (RFC 4954 4).
///
/// Decoding is as strict as RFC 4954 4 demands of AUTH: only the 64 alphabet characters, "="
/// padding only at the very end and only as much as the length requires, no white space, a
/// length that is a multiple of 4, and no non-zero bits hidden in the last character (so every
/// byte string has exactly one accepted encoding). Nothing allocates and nothing throws.
#ifndef SMTPP_BASE64_HPP
#define SMTPP_BASE64_HPP

#include <smtpp/error.hpp>
#include <smtpp/macros.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

SMTPP_NAMESPACE_BEGIN
namespace detail {

inline constexpr char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

inline constexpr std::uint8_t base64_invalid = 0xFF;

struct base64_decode_table {
    std::uint8_t value[256];
};

constexpr base64_decode_table make_base64_decode_table() noexcept {
    base64_decode_table table{};
    for (auto& v : table.value) v = base64_invalid;
    for (std::uint8_t i = 0; i < 64; ++i) {
        table.value[static_cast<unsigned char>(base64_alphabet[i])] = i;
    }
    return table;
}

inline constexpr base64_decode_table base64_values = make_base64_decode_table();

[[nodiscard]] constexpr std::uint32_t base64_value(char c) noexcept {
    return base64_values.value[static_cast<unsigned char>(c)];
}

// Writes the four characters for up to three input octets (`n` of them, 1..3).
constexpr void base64_encode_group(const char* in, std::size_t n, char* out) noexcept {
    const std::uint32_t b0 = static_cast<unsigned char>(in[0]);
    const std::uint32_t b1 = n > 1 ? static_cast<unsigned char>(in[1]) : 0u;
    const std::uint32_t b2 = n > 2 ? static_cast<unsigned char>(in[2]) : 0u;
    const std::uint32_t group = b0 << 16 | b1 << 8 | b2;
    out[0] = base64_alphabet[group >> 18 & 63u];
    out[1] = base64_alphabet[group >> 12 & 63u];
    out[2] = n > 1 ? base64_alphabet[group >> 6 & 63u] : '=';
    out[3] = n > 2 ? base64_alphabet[group & 63u] : '=';
}

// Streams base64 over several pieces (a SASL PLAIN message is three fields and two NULs)
// without assembling them first. Out needs append(const char*, std::size_t).
template <class Out>
class base64_stream {
public:
    explicit base64_stream(Out& out) noexcept : out_(out) {}

    void feed(std::string_view bytes) {
        for (char c : bytes) {
            held_[held_count_++] = c;
            if (held_count_ == 3) flush_group();
        }
    }

    void finish() {
        if (held_count_ > 0) flush_group();
        flush_text();
    }

private:
    void flush_group() {
        if (text_count_ + 4 > sizeof text_) flush_text();
        base64_encode_group(held_, held_count_, text_ + text_count_);
        text_count_ += 4;
        held_count_ = 0;
    }

    void flush_text() {
        if (text_count_ > 0) out_.append(text_, text_count_);
        text_count_ = 0;
    }

    Out& out_;
    char held_[3] = {};
    std::size_t held_count_ = 0;
    char text_[64] = {};
    std::size_t text_count_ = 0;
};

} // namespace detail

/// The largest number of octets `encoded_size` characters of base64 can decode to; size the
/// buffer for base64_decode with it.
[[nodiscard]] constexpr std::size_t base64_decoded_size_max(std::size_t encoded_size) noexcept {
    return encoded_size / 4 * 3;
}

/// The exact number of characters base64_encode writes for `size` octets (padding included).
/// `size` must be below SIZE_MAX / 4 * 3.
[[nodiscard]] constexpr std::size_t base64_encoded_size(std::size_t size) noexcept {
    return (size + 2) / 3 * 4;
}

/// Checks `text` against the strict grammar without decoding it. errc::ok or errc::bad_base64.
/// The empty string is valid (it encodes zero octets).
[[nodiscard]] constexpr errc base64_validate(std::string_view text) noexcept {
    if (text.size() % 4 != 0) return errc::bad_base64;
    std::size_t pad = 0;
    if (!text.empty() && text[text.size() - 1] == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
    const std::size_t data = text.size() - pad;
    for (std::size_t i = 0; i < data; ++i) {
        if (detail::base64_value(text[i]) == detail::base64_invalid) return errc::bad_base64;
    }
    // Padding leaves 2 (one "=") or 4 (two "=") unused low bits in the last character.
    if (pad != 0 && (detail::base64_value(text[data - 1]) & (pad == 1 ? 3u : 15u)) != 0) {
        return errc::bad_base64;
    }
    return errc::ok;
}

/// Decodes `text` into buffer[0, capacity) and points `decoded` at the octets written (views
/// into `buffer`, valid as long as the buffer). Errors: errc::bad_base64 (malformed text, see
/// the top of this header), errc::invalid_argument (capacity below the decoded size; a
/// capacity of base64_decoded_size_max(text.size()) always suffices). On error `decoded` is
/// left unchanged and the buffer content is unspecified.
[[nodiscard]] constexpr errc base64_decode(std::string_view text, char* buffer,
                                           std::size_t capacity,
                                           std::string_view& decoded) noexcept {
    const errc valid = base64_validate(text);
    if (valid != errc::ok) return valid;
    std::size_t pad = 0;
    if (!text.empty() && text[text.size() - 1] == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
    const std::size_t size = text.size() / 4 * 3 - pad;
    if (size > capacity) return errc::invalid_argument;
    std::size_t out = 0;
    for (std::size_t i = 0; i < text.size(); i += 4) {
        std::uint32_t group = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            const char c = text[i + k];
            group = group << 6 | (c == '=' ? 0u : detail::base64_value(c));
        }
        for (std::size_t k = 0; k < 3 && out < size; ++k) {
            buffer[out++] = static_cast<char>(group >> (16 - 8 * k) & 0xFFu);
        }
    }
    decoded = std::string_view(buffer, size);
    return errc::ok;
}

/// Encodes `bytes` into buffer[0, capacity) and points `encoded` at the text (a view into
/// `buffer`). errc::invalid_argument when capacity < base64_encoded_size(bytes.size()); then
/// nothing is written.
[[nodiscard]] constexpr errc base64_encode(std::string_view bytes, char* buffer,
                                           std::size_t capacity,
                                           std::string_view& encoded) noexcept {
    const std::size_t size = base64_encoded_size(bytes.size());
    if (size > capacity) return errc::invalid_argument;
    for (std::size_t i = 0, o = 0; i < bytes.size(); i += 3, o += 4) {
        const std::size_t n = bytes.size() - i < 3 ? bytes.size() - i : 3;
        detail::base64_encode_group(bytes.data() + i, n, buffer + o);
    }
    encoded = std::string_view(buffer, size);
    return errc::ok;
}

/// Appends the base64 encoding of `bytes` to `out` (anything with append(const char*,
/// std::size_t), e.g. std::string). Cannot fail; throws only what Out::append throws.
template <class Out>
void base64_encode_append(Out& out, std::string_view bytes) {
    detail::base64_stream<Out> stream(out);
    stream.feed(bytes);
    stream.finish();
}

SMTPP_NAMESPACE_END

#endif // SMTPP_BASE64_HPP
