// Split grind: feed one input whole, split in two at every index, and byte by byte, so a test
// can check that every split yields the same result (Boost.Beast's habit).
#ifndef SMTPP_TESTS_SPLIT_GRIND_HPP
#define SMTPP_TESTS_SPLIT_GRIND_HPP

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace smtpp_test {

// The ways of cutting `input` into pieces that every incremental parser must treat alike.
inline std::vector<std::vector<std::string_view>> all_splits(std::string_view input) {
    std::vector<std::vector<std::string_view>> splits;
    splits.push_back({input});
    for (std::size_t cut = 1; cut < input.size(); ++cut) {
        splits.push_back({input.substr(0, cut), input.substr(cut)});
    }
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
    splits.push_back(bytes);
    return splits;
}

// Runs `run(pieces)` for every split and returns the index of the first split whose result
// differs from the whole-input result, or -1 when all agree. `run` returns a comparable value
// (typically a transcript of events as a std::string).
template <class Run>
long first_divergent_split(std::string_view input, Run run) {
    auto splits = all_splits(input);
    auto expected = run(splits.front());
    for (std::size_t i = 1; i < splits.size(); ++i) {
        if (run(splits[i]) != expected) return static_cast<long>(i);
    }
    return -1;
}

} // namespace smtpp_test

#endif // SMTPP_TESTS_SPLIT_GRIND_HPP
