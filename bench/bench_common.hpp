// smtpp benchmarks: shared helpers (registration, baselines, allocation counting).
//
// Every figure is registered as "<figure>/<variant>" next to a baseline "<figure>/baseline_*"
// measured over the same bytes in the same run; run_benchmarks.sh prints
// ratio = smtpp throughput / baseline throughput for each variant. Timings on a shared machine
// are noisy; the ratios are what to compare between runs.
#ifndef SMTPP_BENCH_COMMON_HPP
#define SMTPP_BENCH_COMMON_HPP

#include "bench_inputs.hpp"

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace smtpp_bench {

// Calls to any form of operator new since the program started (bench_main.cpp replaces the
// global allocation functions).
std::size_t allocation_count() noexcept;

// Counts allocations over the timed loop of one benchmark and reports them per item.
class allocation_meter {
public:
    allocation_meter() noexcept : start_(allocation_count()) {}
    void report(benchmark::State& state, std::size_t items_per_iteration) const {
        const std::size_t allocs = allocation_count() - start_;
        const double items =
            static_cast<double>(state.iterations()) * static_cast<double>(items_per_iteration);
        state.counters["allocs_per_item"] = items > 0 ? static_cast<double>(allocs) / items : 0.0;
    }

private:
    std::size_t start_;
};

// Sets bytes and items processed for `state.iterations()` runs over the same input.
inline void set_processed(benchmark::State& state, std::size_t bytes, std::size_t items) {
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(bytes));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(items));
}

// Registers `fn(state)` under `name` (a std::string, so names can be built at start-up).
template <class Fn>
benchmark::internal::Benchmark* add(const std::string& name, Fn fn) {
    return benchmark::RegisterBenchmark(name.c_str(), std::move(fn));
}

// Name of a feeding variant: "whole" or "piece:N".
inline std::string piece_name(long piece) {
    return piece == 0 ? std::string("whole") : "piece:" + std::to_string(piece);
}

// Splits `bytes` into pieces of `piece` octets (0: whole) and calls feed(piece_view) on each.
template <class Feed>
void for_each_piece(std::string_view bytes, long piece, Feed&& feed) {
    if (piece <= 0) {
        feed(bytes);
        return;
    }
    const auto n = static_cast<std::size_t>(piece);
    for (std::size_t pos = 0; pos < bytes.size(); pos += n) feed(bytes.substr(pos, n));
}

// ---- Baselines ----------------------------------------------------------------------------

// Number of LF octets in `bytes`, found with memchr: the least any line-oriented reader of
// these bytes must do.
inline std::size_t memchr_count_lf(std::string_view bytes) noexcept {
    std::size_t n = 0;
    const char* p = bytes.data();
    const char* const end = p + bytes.size();
    while (p < end) {
        const void* hit = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
        if (hit == nullptr) break;
        ++n;
        p = static_cast<const char*>(hit) + 1;
    }
    return n;
}

// Baseline benchmark: memchr for LF over `bytes`, checked against `lines`; items = `items`.
inline void register_memchr_baseline(const std::string& figure, std::string_view bytes,
                                     std::size_t lines, std::size_t items) {
    add(figure + "/baseline_memchr", [bytes, lines, items](benchmark::State& state) {
        for (auto _ : state) {
            benchmark::DoNotOptimize(bytes.data());
            const std::size_t n = memchr_count_lf(bytes);
            benchmark::DoNotOptimize(n);
            if (n != lines) {
                state.SkipWithError("baseline: wrong line count");
                break;
            }
        }
        set_processed(state, bytes.size(), items);
    });
}

// Baseline benchmark: memcpy of `bytes` into a buffer reserved once; items = `items`.
inline void register_memcpy_baseline(const std::string& figure, std::string_view bytes,
                                     std::size_t items) {
    add(figure + "/baseline_memcpy", [bytes, items](benchmark::State& state) {
        std::string out(bytes.size(), '\0');
        for (auto _ : state) {
            benchmark::DoNotOptimize(bytes.data());
            std::memcpy(&out[0], bytes.data(), bytes.size());
            benchmark::ClobberMemory();
            if (out.back() != bytes.back()) {
                state.SkipWithError("baseline: copy mismatch");
                break;
            }
        }
        set_processed(state, bytes.size(), items);
    });
}

// Registration hooks, one per bench_<unit>.cpp, called once by bench_main.cpp.
void register_command_benchmarks();
void register_reply_benchmarks();
void register_data_benchmarks();
void register_bdat_benchmarks();
void register_session_benchmarks();

} // namespace smtpp_bench

#endif // SMTPP_BENCH_COMMON_HPP
