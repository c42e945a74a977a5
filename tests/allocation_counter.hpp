// Counts heap allocations made by the test executable, so a test can prove a piece of code
// allocates nothing. The replacement operator new lives in allocation_counter_test.cpp.
#ifndef SMTPP_TESTS_ALLOCATION_COUNTER_HPP
#define SMTPP_TESTS_ALLOCATION_COUNTER_HPP

#include <cstddef>

namespace smtpp_test {

// Number of calls to any form of operator new since the program started.
std::size_t allocation_count() noexcept;

// Counts the allocations made while `body()` runs.
template <class Body>
std::size_t allocations_during(Body&& body) {
    const std::size_t before = allocation_count();
    body();
    return allocation_count() - before;
}

} // namespace smtpp_test

#endif // SMTPP_TESTS_ALLOCATION_COUNTER_HPP
