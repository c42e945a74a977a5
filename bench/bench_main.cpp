// smtpp benchmarks: main, and the counting allocator behind the allocs_per_item counters.
//
// Replacing the global allocation functions lets every benchmark report the heap allocations
// its timed loop made per item (command, reply, message, transaction); the target is 0.
#include "bench_common.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<std::size_t> allocations{0};

void* counted_allocate(std::size_t size) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(size == 0 ? 1 : size);
}

void* counted_allocate_or_abort(std::size_t size) {
    if (void* p = counted_allocate(size)) return p;
    std::abort(); // the benchmarks are built without exception handling in mind
}
} // namespace

std::size_t smtpp_bench::allocation_count() noexcept {
    return allocations.load(std::memory_order_relaxed);
}

void* operator new(std::size_t size) { return counted_allocate_or_abort(size); }
void* operator new[](std::size_t size) { return counted_allocate_or_abort(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return counted_allocate(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return counted_allocate(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

int main(int argc, char** argv) {
    smtpp_bench::register_command_benchmarks();
    smtpp_bench::register_reply_benchmarks();
    smtpp_bench::register_data_benchmarks();
    smtpp_bench::register_bdat_benchmarks();
    smtpp_bench::register_session_benchmarks();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
