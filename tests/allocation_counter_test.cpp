// Replaces the global allocation functions with counting ones (see allocation_counter.hpp).
#include "allocation_counter.hpp"

#include "smtpp_catch.hpp"

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>

namespace {
std::atomic<std::size_t> allocations{0};

void* counted_allocate(std::size_t size) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    std::abort();
}
} // namespace

std::size_t smtpp_test::allocation_count() noexcept {
    return allocations.load(std::memory_order_relaxed);
}

void* operator new(std::size_t size) { return counted_allocate(size); }
void* operator new[](std::size_t size) { return counted_allocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return counted_allocate(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return counted_allocate(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

TEST_CASE("the allocation counter sees heap allocations", "[test-support]") {
    const auto counted = smtpp_test::allocations_during([] {
        auto p = std::make_unique<int>(42);
        CHECK(*p == 42);
    });
    CHECK(counted == 1);
    CHECK(smtpp_test::allocations_during([] {}) == 0);
}
