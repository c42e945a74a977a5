// smtpp benchmarks: main, and the counting allocator behind the allocs_per_item counters.
//
// Replacing the global allocation functions lets every benchmark report the heap allocations
// its timed loop made per item (command, reply, message, transaction); the target is 0.
#include "bench_common.hpp"

#include <benchmark/benchmark.h>

#include "../tests/counting_new.hpp" // the one translation unit of smtpp_bench that defines them

std::size_t smtpp_bench::allocation_count() noexcept {
    return smtpp_counting_new::allocations.load(std::memory_order_relaxed);
}

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
