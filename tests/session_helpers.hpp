// Small helpers the session tests share.
#ifndef SMTPP_TESTS_SESSION_HELPERS_HPP
#define SMTPP_TESTS_SESSION_HELPERS_HPP

#include "smtpp_catch.hpp"

#include <string>
#include <string_view>

namespace smtpp_test {

// Hands `bytes` to a session's copying receive() and requires it to take all of them (the
// tests feed less than limits.input_buffer at a time), unless the session is closed by then:
// a closed session takes nothing.
template <class Session>
void give(Session& session, std::string_view bytes) {
    const std::size_t taken = session.receive(bytes);
    if (session.is_closed()) return;
    REQUIRE(taken == bytes.size());
}

// Everything a session has queued to send, taken out the way a transport writes it: one
// pending_output() block after the other, each consumed whole.
template <class Session>
std::string take_output(Session& session) {
    std::string all;
    while (session.pending_output_size() != 0) {
        const std::string_view block = session.pending_output();
        all.append(block.data(), block.size());
        session.consume_output(block.size());
    }
    return all;
}

} // namespace smtpp_test

#endif // SMTPP_TESTS_SESSION_HELPERS_HPP
