// smtpp internal: a session's unsent output (not public API).
//
// Sessions append protocol bytes at the back; the caller's transport sends from the front
// (front()) and reports how much it wrote (consume(n)). The bytes front() hands out stay where
// they are and unchanged until consume() says they were all written, however much is appended
// meanwhile: an asynchronous write (Asio async_write, an io_uring submission) may point at them
// while the session goes on producing output. That takes two blocks: the front block, frozen
// once handed out, and a back block that collects what comes while it is. Both grow on demand
// and are reused, so a session that has been as busy as it ever gets allocates nothing more.
//
// The queue does not refuse bytes: a session checks `size() >= limit` before it produces more
// output (limits::output_buffer), so the unsent bytes exceed the limit by at most one reply.
#ifndef SMTPP_DETAIL_OUTPUT_QUEUE_HPP
#define SMTPP_DETAIL_OUTPUT_QUEUE_HPP

#include <smtpp/detail/buffer.hpp>
#include <smtpp/macros.hpp>

#include <cstddef>
#include <string>
#include <string_view>

SMTPP_NAMESPACE_BEGIN
namespace detail {

class output_queue {
public:
    // Appends `n` bytes. Allocates only when a block must grow.
    void append(const char* bytes, std::size_t n) {
        if (n == 0) return;
        if (exposed_ && front_unsent() != 0) return append_to(back_, bytes, n);
        // Nothing of the front block is out there: its sent part may go. Once at least half
        // of it, or before it would grow.
        const bool grows = front_.size() + n > front_.capacity();
        if (head_ != 0 && (grows || head_ >= front_.size() / 2)) {
            front_.erase(0, head_);
            head_ = 0;
        }
        exposed_ = false;
        append_to(front_, bytes, n);
    }
    void append(std::string_view bytes) { append(bytes.data(), bytes.size()); }

    // The oldest unsent bytes: not necessarily all of them (size() says how many there are),
    // but these stay valid and unchanged until consume() has taken every one of them.
    [[nodiscard]] std::string_view front() const noexcept {
        exposed_ = true;
        return std::string_view(front_).substr(head_);
    }

    // Marks the first `n` bytes of front() as sent; `n` larger than front() is clamped.
    void consume(std::size_t n) noexcept {
        head_ += n < front_unsent() ? n : front_unsent();
        if (front_unsent() != 0) return;
        front_.clear();
        head_ = 0;
        // The back block's bytes come next (its storage is reused later). Without any, the
        // front block stays: a caller that writes everything before more is queued uses one
        // block only.
        if (!back_.empty()) front_.swap(back_);
        exposed_ = false;
    }

    [[nodiscard]] std::size_t size() const noexcept { return front_unsent() + back_.size(); }
    // How much front() would hand out, without handing it out.
    [[nodiscard]] std::size_t front_size() const noexcept { return front_unsent(); }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }
    [[nodiscard]] std::size_t heap_bytes() const noexcept {
        return heap_bytes_of(front_) + heap_bytes_of(back_);
    }

    // A place to roll back to: what has been appended since mark() can be taken back, as long
    // as front() has not been asked for in between (nothing of it can be out there then).
    struct position {
        bool in_back = false;
        std::size_t unsent = 0; // in that block (sent bytes of the front block may move)
    };
    [[nodiscard]] position mark() const noexcept {
        const bool in_back = exposed_ && front_unsent() != 0;
        return {in_back, in_back ? back_.size() : front_unsent()};
    }
    void rollback(position p) noexcept {
        if (p.in_back) {
            if (p.unsent < back_.size()) back_.resize(p.unsent);
        } else if (p.unsent < front_unsent()) {
            front_.resize(head_ + p.unsent);
        }
    }

    // Drops every unsent byte and keeps the storage.
    void clear() noexcept {
        front_.clear();
        back_.clear();
        head_ = 0;
        exposed_ = false;
    }

    // Returns the storage to the heap when nothing is pending (an idle connection).
    void release_if_empty() {
        if (!empty()) return;
        std::string().swap(front_);
        std::string().swap(back_);
        head_ = 0;
        exposed_ = false;
    }

    // The size the owner keeps the queue under (limits::output_buffer; 0: none). Growth doubles
    // a block but stops at this size unless one append needs more.
    void set_growth_limit(std::size_t limit) noexcept { growth_limit_ = limit; }

private:
    [[nodiscard]] std::size_t front_unsent() const noexcept { return front_.size() - head_; }

    void append_to(std::string& block, const char* bytes, std::size_t n) {
        append_bounded(block, bytes, n, growth_limit_);
    }

    std::string front_; // [head_, size) unsent; frozen while exposed_
    std::string back_;  // appended while the front block is out there
    std::size_t head_ = 0;
    mutable bool exposed_ = false; // front() handed out the front block's bytes
    std::size_t growth_limit_ = 0;
};

} // namespace detail
SMTPP_NAMESPACE_END

#endif // SMTPP_DETAIL_OUTPUT_QUEUE_HPP
