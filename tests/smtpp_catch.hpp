// The one include for Catch2 in smtpp's tests: Debian's Catch2 v2 single header or Catch2 v3.
#ifndef SMTPP_TESTS_CATCH_HPP
#define SMTPP_TESTS_CATCH_HPP

#if defined(__has_include)
#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#define SMTPP_CATCH_VERSION 3
#endif
#endif

#ifndef SMTPP_CATCH_VERSION
#include <catch2/catch.hpp>
#define SMTPP_CATCH_VERSION 2
#endif

#endif // SMTPP_TESTS_CATCH_HPP
