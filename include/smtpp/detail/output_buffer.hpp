// smtpp: a byte queue for a session's unsent output (not public API).
//
// Sessions append protocol bytes at the back; the caller's transport sends from the front
// (pending()) and reports how much it wrote (consume(n)). Storage is one contiguous block that
// grows on demand and is reused: once the queue has been as large as a session ever needs it,
// appending and consuming allocate nothing. Consumed bytes at the front are reclaimed by one
// memmove when they make up at least half of the block, so a long-lived session never grows
// just because the peer reads slowly in small pieces.
//
// The queue does not refuse bytes: a session checks `size() >= limit` before it produces more
// output (see limits::output_buffer), so the queue exceeds the limit by at most one reply.
// The client session uses the same type for its commands and message data.
#ifndef SMTPP_DETAIL_OUTPUT_BUFFER_HPP
#define SMTPP_DETAIL_OUTPUT_BUFFER_HPP

#include <smtpp/config.hpp>

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

SMTPP_NAMESPACE_BEGIN
namespace detail {

// Heap bytes behind a std::string (0 while its text fits in the object itself).
[[nodiscard]] inline std::size_t heap_bytes_of(const std::string& s) noexcept {
    const auto* self = reinterpret_cast<const char*>(&s);
    const char* p = s.data();
    const bool inline_storage = p >= self && p < self + sizeof s;
    return inline_storage ? 0 : s.capacity() + 1;
}

class output_buffer {
public:
    // Appends `n` bytes. Allocates only when the block must grow.
    void append(const char* bytes, std::size_t n) {
        if (n == 0) return;
        make_room(n);
        data_.append(bytes, n);
    }
    void append(std::string_view bytes) { append(bytes.data(), bytes.size()); }
    void push_back(char c) { append(&c, 1); }

    // The unsent bytes, oldest first. The view is valid until the next non-const call.
    [[nodiscard]] std::string_view pending() const noexcept {
        return std::string_view(data_).substr(head_);
    }

    // Marks the first `n` pending bytes as sent; `n` larger than size() is clamped.
    void consume(std::size_t n) noexcept {
        head_ += n < size() ? n : size();
        if (head_ == data_.size()) clear();
    }

    [[nodiscard]] std::size_t size() const noexcept { return data_.size() - head_; }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }
    // Bytes of heap the queue holds, sent or not.
    [[nodiscard]] std::size_t heap_bytes() const noexcept { return heap_bytes_of(data_); }

    // Drops every pending byte and keeps the storage for reuse.
    void clear() noexcept {
        data_.clear();
        head_ = 0;
    }

    // Returns the storage to the heap when nothing is pending (an idle connection).
    void release_if_empty() {
        if (!empty()) return;
        std::string().swap(data_);
        head_ = 0;
    }

    // The size the owner keeps the queue under (limits::output_buffer; 0: none). Growth
    // doubles the block but stops at this size unless one append needs more, so the heap held
    // stays near the limit instead of twice it.
    void set_growth_limit(std::size_t limit) noexcept { growth_limit_ = limit; }

private:
    void make_room(std::size_t n) {
        if (head_ != 0) {
            const bool would_grow = data_.size() + n > data_.capacity();
            if (would_grow || head_ >= data_.size() / 2) {
                data_.erase(0, head_);
                head_ = 0;
            }
        }
        const std::size_t needed = data_.size() + n;
        if (needed > data_.capacity()) grow_to(next_capacity(needed));
    }

    [[nodiscard]] std::size_t next_capacity(std::size_t needed) const noexcept {
        std::size_t target = data_.capacity() * 2;
        if (growth_limit_ != 0 && target > growth_limit_) target = growth_limit_;
        return target > needed ? target : needed;
    }

    // Exactly `capacity` bytes: std::string::reserve may round a request up to twice the old
    // capacity, which is the overshoot this class avoids.
    void grow_to(std::size_t capacity) {
        std::string bigger;
        bigger.reserve(capacity);
        bigger.append(data_);
        data_.swap(bigger);
    }

    std::string data_;
    std::size_t head_ = 0;
    std::size_t growth_limit_ = 0;
};

} // namespace detail
SMTPP_NAMESPACE_END

#endif // SMTPP_DETAIL_OUTPUT_BUFFER_HPP
