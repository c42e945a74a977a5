// The program every consumer test builds: it only uses smtpp through the way under test
// (find_package, add_subdirectory/FetchContent, pkg-config or a Meson subproject).
#include <smtpp.hpp>

#include <cstdio>
#include <cstring>
#include <string_view>
#include <system_error>

static_assert(__cplusplus >= 201703L, "the smtpp target/dependency must bring C++17");

#ifndef SMTPP_CONSUMER_EXPECTED_VERSION
#error "the consumer build must pass the version its package lookup reported"
#endif

int main() {
    if (std::strcmp(SMTPP_VERSION_STRING, SMTPP_CONSUMER_EXPECTED_VERSION) != 0) {
        std::fprintf(stderr, "header says %s, package says %s\n", SMTPP_VERSION_STRING,
                     SMTPP_CONSUMER_EXPECTED_VERSION);
        return 1;
    }
    const std::error_code code = smtpp::errc::line_too_long;
    if (code.category().name() != std::string_view("smtpp") || code.message().empty()) return 1;
    if (smtpp::limits{}.command_line != 512) return 1;
    std::printf("consumed smtpp %s\n", SMTPP_VERSION_STRING);
    return 0;
}
