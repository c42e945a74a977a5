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

// Hands a scripted server's bytes over the way a server sends them: cut after each complete
// reply (a line whose fourth octet is not '-'), so that each reply comes after the command it
// answers. A client takes a reply read before its command was handed out as one that answers
// nothing (RFC 5321 4.2): a script given in one piece would be a server that answers ahead.
// Pieces may end anywhere; the splitter remembers the line in progress.
class reply_splitter {
public:
    template <class Give>
    void split(std::string_view bytes, Give&& give) {
        std::size_t start = 0;
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            if (line_length_ < sizeof head_) head_[line_length_] = bytes[i];
            ++line_length_;
            if (bytes[i] != '\n') continue;
            const bool continued = line_length_ > sizeof head_ && head_[3] == '-';
            line_length_ = 0;
            if (continued) continue;
            give(bytes.substr(start, i + 1 - start));
            start = i + 1;
        }
        if (start < bytes.size()) give(bytes.substr(start));
    }

private:
    char head_[4] = {};
    std::size_t line_length_ = 0; // octets of the line in progress, LF included
};

} // namespace smtpp_test

#endif // SMTPP_TESTS_SESSION_HELPERS_HPP
