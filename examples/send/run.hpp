// smtpp-send: N conversations in one poll() loop, sharing the queue of messages. The sessions
// are Sans-IO, so one thread serves every connection: each says what it waits for (events(),
// deadline()) and is called back when that happens.
//
// A connection that ends while messages are left is opened again if it saw at least one
// message through (a server that closes after so many messages per connection); one that
// failed before that (refused, a greeting of 554, a certificate that does not verify) is not
// retried, and when no connection is left the messages nobody took get its reason.
#ifndef SMTPP_SEND_RUN_HPP
#define SMTPP_SEND_RUN_HPP

#include "conversation.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <memory>
#include <string>
#include <vector>

#include <poll.h>

namespace smtpp_send {

// Messages no connection took: each gets `why`.
inline void settle_untaken(run_context& ctx, const std::string& why, smtpp::outcome how) {
    std::size_t index = 0;
    while (ctx.queue.take(index)) {
        message_report r(index, ctx.recipients.size());
        r.settle(why, how);
        ctx.out.done(r);
    }
}

class runner {
public:
    explicit runner(run_context& ctx) : ctx_(ctx) {}

    // Sends every message over at most `connections` connections at once; returns when each
    // has its outcome.
    void run(std::size_t connections) {
        const std::size_t n = std::min(connections, ctx_.messages.size());
        for (std::size_t i = 0; i < n; ++i) slots_.push_back(open(i + 1));
        while (replace_finished()) wait_and_dispatch();
        settle_untaken(ctx_, last_failure_.empty() ? "no connection to send it" : last_failure_,
                       last_outcome_);
    }

private:
    std::unique_ptr<conversation> open(std::size_t number) {
        auto c = std::make_unique<conversation>(ctx_, number);
        c->start();
        return c;
    }

    // Reopens or retires the conversations that are over; false when none is left.
    bool replace_finished() {
        bool any = false;
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            std::unique_ptr<conversation>& c = slots_[i];
            while (c && c->over()) {
                if (!c->failure().empty()) {
                    last_failure_ = c->failure();
                    last_outcome_ = c->failure_outcome();
                }
                const bool reopen = c->finished_messages() > 0 && !ctx_.queue.empty();
                c.reset();
                if (reopen) c = open(i + 1);
            }
            any = any || c != nullptr;
        }
        return any;
    }

    // One poll() over the live conversations, until the earliest deadline; then each is told
    // what happened to it.
    void wait_and_dispatch() {
        fds_.clear();
        clock::time_point earliest = clock::time_point::max();
        for (const auto& c : slots_) {
            if (!c) continue;
            fds_.push_back({c->fd(), c->events(), 0});
            earliest = std::min(earliest, c->deadline());
        }
        int timeout = -1;
        if (earliest != clock::time_point::max()) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(earliest - clock::now());
            timeout = static_cast<int>(std::clamp<long long>(left.count(), 0, INT_MAX));
        }
        // On EINTR no revents are set: the deadlines are checked all the same.
        (void)::poll(fds_.data(), fds_.size(), timeout);
        std::size_t k = 0;
        for (const auto& c : slots_) {
            if (!c) continue;
            const short revents = k < fds_.size() ? fds_[k].revents : short{0};
            ++k;
            if (revents != 0) c->on_io(revents);
            if (!c->over() && clock::now() >= c->deadline()) c->on_deadline();
        }
    }

    run_context& ctx_;
    std::vector<std::unique_ptr<conversation>> slots_;
    std::vector<pollfd> fds_;
    std::string last_failure_;
    smtpp::outcome last_outcome_ = smtpp::outcome::temporary;
};

} // namespace smtpp_send

#endif // SMTPP_SEND_RUN_HPP
