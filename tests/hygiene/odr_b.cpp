// ODR check, second translation unit: see odr_main.cpp.
#include <smtpp.hpp>

#include <system_error>

namespace smtpp_odr {

const std::error_category* category_b() noexcept { return &smtpp::smtpp_category(); }

std::size_t limits_size_b() noexcept { return sizeof(smtpp::limits); }

} // namespace smtpp_odr
