#include <smtpp/version.hpp>

#include "smtpp_catch.hpp"

#include <string>

// The build systems pass their idea of the version: CMake its project version (parsed from
// version.hpp) and the literal version in meson.build; Meson its project version for both.
#ifndef SMTPP_TEST_PROJECT_VERSION
#define SMTPP_TEST_PROJECT_VERSION ""
#endif
#ifndef SMTPP_TEST_MESON_BUILD_VERSION
#define SMTPP_TEST_MESON_BUILD_VERSION ""
#endif

TEST_CASE("version: the string spells MAJOR.MINOR.PATCH and SMTPP_VERSION encodes them",
          "[version]") {
    const std::string expected = std::to_string(SMTPP_VERSION_MAJOR) + "." +
                                 std::to_string(SMTPP_VERSION_MINOR) + "." +
                                 std::to_string(SMTPP_VERSION_PATCH);
    CHECK(std::string(SMTPP_VERSION_STRING) == expected);
    CHECK(SMTPP_VERSION ==
          SMTPP_VERSION_MAJOR * 10000 + SMTPP_VERSION_MINOR * 100 + SMTPP_VERSION_PATCH);
    CHECK(SMTPP_VERSION_MINOR < 100);
    CHECK(SMTPP_VERSION_PATCH < 100);
}

TEST_CASE("version: the build system's project version is the header's", "[version]") {
    INFO("the build system did not pass its version: see tests/CMakeLists.txt, tests/meson.build");
    CHECK(std::string(SMTPP_TEST_PROJECT_VERSION) == SMTPP_VERSION_STRING);
}

TEST_CASE("version: meson.build carries the header's version", "[version]") {
    INFO("update `version :` in meson.build to match include/smtpp/version.hpp");
    CHECK(std::string(SMTPP_TEST_MESON_BUILD_VERSION) == SMTPP_VERSION_STRING);
}
