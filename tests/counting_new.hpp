// Replaces the global allocation functions with ones that count every allocation, for the
// "no heap allocation per command/transaction" checks of the tests and the benchmarks.
// Include it in exactly ONE translation unit of a program: it defines the replacement
// operators, which a program may have only once.
#ifndef SMTPP_TESTS_COUNTING_NEW_HPP
#define SMTPP_TESTS_COUNTING_NEW_HPP

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace smtpp_counting_new {

inline std::atomic<std::size_t> allocations{0};

inline void* allocate(std::size_t size) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(size == 0 ? 1 : size);
}

// The throwing forms abort instead: the tests also build with -fno-exceptions.
inline void* allocate_or_abort(std::size_t size) noexcept {
    if (void* p = allocate(size)) return p;
    std::abort();
}

} // namespace smtpp_counting_new

void* operator new(std::size_t size) { return smtpp_counting_new::allocate_or_abort(size); }
void* operator new[](std::size_t size) { return smtpp_counting_new::allocate_or_abort(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    return smtpp_counting_new::allocate(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    return smtpp_counting_new::allocate(size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

#endif // SMTPP_TESTS_COUNTING_NEW_HPP
