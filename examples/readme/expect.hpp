// The README's code snippets are these programs; `expect` is an assert that stays on in
// release builds, so ctest fails when a snippet stops doing what the README says.
#ifndef SMTPP_EXAMPLES_README_EXPECT_HPP
#define SMTPP_EXAMPLES_README_EXPECT_HPP

#include <cstdio>
#include <cstdlib>

#define expect(...)                                                                         \
    do {                                                                                    \
        if (!(__VA_ARGS__)) {                                                               \
            std::fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #__VA_ARGS__); \
            std::exit(1);                                                                   \
        }                                                                                   \
    } while (false)

#endif
