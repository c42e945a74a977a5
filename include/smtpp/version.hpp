/// \file
/// smtpp: library version. This header is the single source of truth; CMake reads it and a
/// test checks that meson.build agrees.
#ifndef SMTPP_VERSION_HPP
#define SMTPP_VERSION_HPP

/// The major version; it changes when the API breaks.
#define SMTPP_VERSION_MAJOR 1
/// The minor version; it changes when the API grows.
#define SMTPP_VERSION_MINOR 0
/// The patch version; it changes for fixes that leave the API as it is.
#define SMTPP_VERSION_PATCH 0

/// The version as one number, major * 10000 + minor * 100 + patch, for comparisons in `#if`.
#define SMTPP_VERSION \
    (SMTPP_VERSION_MAJOR * 10000 + SMTPP_VERSION_MINOR * 100 + SMTPP_VERSION_PATCH)

#define SMTPP_DETAIL_STRINGIFY2(x) #x
#define SMTPP_DETAIL_STRINGIFY(x) SMTPP_DETAIL_STRINGIFY2(x)
/// The version as a string literal, "major.minor.patch".
#define SMTPP_VERSION_STRING                    \
    SMTPP_DETAIL_STRINGIFY(SMTPP_VERSION_MAJOR) \
    "." SMTPP_DETAIL_STRINGIFY(SMTPP_VERSION_MINOR) "." SMTPP_DETAIL_STRINGIFY(SMTPP_VERSION_PATCH)

#endif // SMTPP_VERSION_HPP
