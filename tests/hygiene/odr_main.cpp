// Two translation units (odr_a.cpp, odr_b.cpp) include <smtpp.hpp> and are linked into this
// program. A function or variable defined in a header without `inline` makes the link fail;
// a function-local static in a non-inline function would make the two TUs see two objects.
#include <smtpp.hpp>

#include <cstddef>
#include <cstdio>
#include <system_error>

namespace smtpp_odr {
const std::error_category* category_a() noexcept;
const std::error_category* category_b() noexcept;
std::size_t limits_size_a() noexcept;
std::size_t limits_size_b() noexcept;
} // namespace smtpp_odr

int main() {
    int failures = 0;
    if (smtpp_odr::category_a() != smtpp_odr::category_b() ||
        smtpp_odr::category_a() != &smtpp::smtpp_category()) {
        std::fputs("smtpp_category() is not one object across translation units\n", stderr);
        ++failures;
    }
    if (smtpp_odr::limits_size_a() != smtpp_odr::limits_size_b()) {
        std::fputs("smtpp::limits differs between translation units\n", stderr);
        ++failures;
    }
    if (failures == 0) std::puts("two translation units including <smtpp.hpp> link and agree");
    return failures == 0 ? 0 : 1;
}
