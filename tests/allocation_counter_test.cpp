// Replaces the global allocation functions with counting ones (see allocation_counter.hpp).
#include "allocation_counter.hpp"

#include "smtpp_catch.hpp"

#include "counting_new.hpp" // the one translation unit of smtpp_tests that defines them

#include <memory>

std::size_t smtpp_test::allocation_count() noexcept {
    return smtpp_counting_new::allocations.load(std::memory_order_relaxed);
}

TEST_CASE("the allocation counter sees heap allocations", "[test-support]") {
    const auto counted = smtpp_test::allocations_during([] {
        auto p = std::make_unique<int>(42);
        CHECK(*p == 42);
    });
    CHECK(counted == 1);
    CHECK(smtpp_test::allocations_during([] {}) == 0);
}
