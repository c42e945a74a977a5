// smtpp: library version. This header is the single source of truth; CMake reads it and a
// test checks that meson.build agrees.
#ifndef SMTPP_VERSION_HPP
#define SMTPP_VERSION_HPP

#define SMTPP_VERSION_MAJOR 0
#define SMTPP_VERSION_MINOR 1
#define SMTPP_VERSION_PATCH 1

#define SMTPP_VERSION \
    (SMTPP_VERSION_MAJOR * 10000 + SMTPP_VERSION_MINOR * 100 + SMTPP_VERSION_PATCH)

#define SMTPP_DETAIL_STRINGIFY2(x) #x
#define SMTPP_DETAIL_STRINGIFY(x) SMTPP_DETAIL_STRINGIFY2(x)
#define SMTPP_VERSION_STRING                                                    \
    SMTPP_DETAIL_STRINGIFY(SMTPP_VERSION_MAJOR)                                 \
    "." SMTPP_DETAIL_STRINGIFY(SMTPP_VERSION_MINOR) "." SMTPP_DETAIL_STRINGIFY( \
        SMTPP_VERSION_PATCH)

#endif // SMTPP_VERSION_HPP
