// smtpp internal: CRC-32C (Castagnoli), computed as RFC 4960 Appendix B describes, for the
// PROXY protocol v2 checksum TLV (proxy-protocol 2.2.3). Bit by bit, without a table: a PROXY
// header is a few hundred octets, read once per connection, so a 1 KiB table would buy nothing
// a connection could notice.
#ifndef SMTPP_DETAIL_CRC32C_HPP
#define SMTPP_DETAIL_CRC32C_HPP

#include <smtpp/macros.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

SMTPP_NAMESPACE_BEGIN
namespace detail {

// The Castagnoli polynomial 0x1EDC6F41, bit-reversed: the CRC is computed least significant
// bit first (RFC 4960 Appendix B).
inline constexpr std::uint32_t crc32c_polynomial = 0x82F63B78u;

// A CRC-32C over octets that come in several pieces: start, update with each piece, value().
class crc32c_state {
public:
    constexpr void update(std::string_view bytes) noexcept {
        for (const char c : bytes) {
            state_ ^= static_cast<std::uint32_t>(static_cast<unsigned char>(c));
            for (int bit = 0; bit < 8; ++bit)
                state_ = (state_ >> 1) ^ (crc32c_polynomial & (0u - (state_ & 1u)));
        }
    }
    // Appends like an output buffer, so a writer can compute the CRC of what it would write.
    constexpr void append(const char* bytes, std::size_t size) noexcept {
        update(std::string_view(bytes, size));
    }
    [[nodiscard]] constexpr std::uint32_t value() const noexcept { return ~state_; }

private:
    std::uint32_t state_ = ~0u;
};

[[nodiscard]] constexpr std::uint32_t crc32c(std::string_view bytes) noexcept {
    crc32c_state crc;
    crc.update(bytes);
    return crc.value();
}

} // namespace detail
SMTPP_NAMESPACE_END

#endif // SMTPP_DETAIL_CRC32C_HPP
