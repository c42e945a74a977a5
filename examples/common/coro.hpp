// smtpp examples: what the coroutine examples (coro-server, coro-send) share: standalone Asio
// with C++20 coroutines, and an operation raced against a deadline.
#ifndef SMTPP_EXAMPLES_CORO_HPP
#define SMTPP_EXAMPLES_CORO_HPP

// Asio 1.22 enables co_await for clang only with the Coroutines TS (<experimental/coroutine>);
// clang 14 with libstdc++ has C++20's <coroutine>, which Asio's awaitables work with.
#if defined(__clang__) && defined(__cpp_impl_coroutine) && !defined(ASIO_HAS_CO_AWAIT)
#define ASIO_HAS_CO_AWAIT 1
#endif

#include <asio.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/experimental/parallel_group.hpp>

#include <utility>

namespace smtpp_examples {

inline constexpr auto deferred = asio::experimental::deferred;

// Runs `op` (a deferred Asio operation) against the deadline: whichever completes first
// cancels the other. co_await gives every result (the order they completed in, the
// operation's, the timer's), so an operation cut short still says what it did: the octets an
// async_write sent before the deadline are never lost. (The awaitable operators' `a || b`
// would give only the first one's.)
template <class Op>
auto before(asio::steady_timer& deadline, Op op) {
    return asio::experimental::make_parallel_group(std::move(op), deadline.async_wait(deferred))
        .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
}

} // namespace smtpp_examples

#endif // SMTPP_EXAMPLES_CORO_HPP
