// Catch2 v2's main, compiled with smtpp's own flags. Used instead of the prebuilt
// Catch2::Catch2WithMain when the tests are built with -fno-exceptions -fno-rtti (Debian's
// library was compiled with exceptions, and CATCH_CONFIG_DISABLE_EXCEPTIONS must be the same in
// every translation unit and the main), or when the installed Catch2 v2 has no WithMain library.
#define CATCH_CONFIG_MAIN
#include "smtpp_catch.hpp"
