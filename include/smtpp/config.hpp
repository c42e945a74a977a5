// smtpp: compile-time configuration shared by every header.
#ifndef SMTPP_CONFIG_HPP
#define SMTPP_CONFIG_HPP

// The inline ABI namespace. Bump its name when the layout of a public type changes so that
// objects built against two versions cannot be linked together silently.
#define SMTPP_ABI_NAMESPACE v0

#define SMTPP_NAMESPACE_BEGIN \
    namespace smtpp {         \
    inline namespace SMTPP_ABI_NAMESPACE {
#define SMTPP_NAMESPACE_END \
    }                       \
    }

// SMTPP_ASSERT checks internal invariants and API preconditions in debug builds. Define it
// before including any smtpp header to route failures to your own handler.
#ifndef SMTPP_ASSERT
#include <cassert>
#define SMTPP_ASSERT(condition) assert(condition)
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SMTPP_LIKELY(x) __builtin_expect(!!(x), 1)
#define SMTPP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define SMTPP_LIKELY(x) (x)
#define SMTPP_UNLIKELY(x) (x)
#endif

// Asks for a short loop over a compile-time bound to be unrolled even at -O2, where GCC does
// not unroll by itself (keyword compares against literals).
#if defined(__clang__)
#define SMTPP_UNROLL _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__) && __GNUC__ >= 8
#define SMTPP_UNROLL _Pragma("GCC unroll 16")
#else
#define SMTPP_UNROLL
#endif

#endif // SMTPP_CONFIG_HPP
