/// \file
/// smtpp: the macros every header shares (namespace, assertions, compiler hints).
#ifndef SMTPP_MACROS_HPP
#define SMTPP_MACROS_HPP

/// The inline ABI namespace. Bumped when the layout of a public type changes so that objects
/// built against two versions cannot be linked together silently.
#define SMTPP_ABI_NAMESPACE v1

/// Opens `namespace smtpp` and its inline ABI namespace, around every declaration of smtpp's
/// headers.
#define SMTPP_NAMESPACE_BEGIN \
    namespace smtpp {         \
    inline namespace SMTPP_ABI_NAMESPACE {
/// Closes what SMTPP_NAMESPACE_BEGIN opened.
#define SMTPP_NAMESPACE_END \
    }                       \
    }

/// SMTPP_ASSERT checks internal invariants and API preconditions in debug builds. Define it
/// before including any smtpp header to route failures to your own handler.
#ifndef SMTPP_ASSERT
#include <cassert>
#define SMTPP_ASSERT(condition) assert(condition)
#endif

/// Tells the compiler that `x` is rarely true, so the code it guards (an error, a rare input)
/// is laid out off the fast path.
#if defined(__GNUC__) || defined(__clang__)
#define SMTPP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define SMTPP_UNLIKELY(x) (x)
#endif

/// Keeps rare slow paths (UTF-8 decoding, error replies) out of the inlined fast paths.
#if defined(__GNUC__) || defined(__clang__)
#define SMTPP_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define SMTPP_NOINLINE __declspec(noinline)
#else
#define SMTPP_NOINLINE
#endif

/// Asks for a short loop over a compile-time bound to be unrolled even at -O2, where GCC does
/// not unroll by itself (keyword compares against literals).
#if defined(__clang__)
#define SMTPP_UNROLL _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__) && __GNUC__ >= 8
#define SMTPP_UNROLL _Pragma("GCC unroll 16")
#else
#define SMTPP_UNROLL
#endif

#endif // SMTPP_MACROS_HPP
