// smtpp internal: the storage helpers every buffer shares (not public API).
#ifndef SMTPP_DETAIL_BUFFER_HPP
#define SMTPP_DETAIL_BUFFER_HPP

#include <smtpp/macros.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

SMTPP_NAMESPACE_BEGIN
namespace detail {

// Heap bytes behind a std::string (0 while its text fits in the object itself).
[[nodiscard]] inline std::size_t heap_bytes_of(const std::string& s) noexcept {
    const auto self = reinterpret_cast<std::uintptr_t>(&s);
    const auto data = reinterpret_cast<std::uintptr_t>(s.data());
    const bool inline_storage = data >= self && data < self + sizeof s;
    return inline_storage ? 0 : s.capacity() + 1;
}

// Reallocates `s` to exactly `capacity` bytes, keeping its contents: std::string::reserve may
// round a request up to twice the old capacity, which would break a promised bound.
inline void grow_exactly(std::string& s, std::size_t capacity) {
    std::string bigger;
    bigger.reserve(capacity);
    bigger.append(s);
    s.swap(bigger);
}

// Appends `n` bytes to `block`. When it must grow it doubles, but not past `growth_limit`
// (0: no limit) unless this one append needs more: a block that stays under a limit never
// holds more than that limit of heap.
inline void append_bounded(std::string& block, const char* bytes, std::size_t n,
                           std::size_t growth_limit) {
    const std::size_t needed = block.size() + n;
    if (needed > block.capacity()) {
        std::size_t target = block.capacity() * 2;
        if (growth_limit != 0 && target > growth_limit) target = growth_limit;
        grow_exactly(block, target > needed ? target : needed);
    }
    block.append(bytes, n);
}

} // namespace detail
SMTPP_NAMESPACE_END

#endif // SMTPP_DETAIL_BUFFER_HPP
