// smtpp-send: one status line on stderr for long runs (messages done of the total, how many
// failed, messages per second), redrawn in place at most four times a second. Only on a
// terminal unless asked for, so logs and pipes never get it.
#ifndef SMTPP_SEND_PROGRESS_HPP
#define SMTPP_SEND_PROGRESS_HPP

#include <chrono>
#include <cstdio>

namespace smtpp_send {

class progress {
public:
    using clock = std::chrono::steady_clock;

    progress(bool enabled, std::size_t total)
        : enabled_(enabled), total_(total), start_(clock::now()) {}

    // `done` messages have their outcome, `failed` of them not delivered everywhere.
    void update(std::size_t done, std::size_t failed) {
        done_ = done;
        failed_ = failed;
        if (!enabled_) return;
        const clock::time_point now = clock::now();
        if (now - last_draw_ < std::chrono::milliseconds(250) && done != total_) return;
        draw(now);
    }

    // Erases the line, before something else is written to the terminal; it is drawn again
    // at the next update due.
    void clear() {
        if (!enabled_ || !shown_) return;
        std::fputs("\r\x1b[K", stderr);
        std::fflush(stderr);
        shown_ = false;
    }

    // The final figures, on a line of their own.
    void finish() {
        if (!enabled_) return;
        draw(clock::now());
        std::fputc('\n', stderr);
        std::fflush(stderr);
        shown_ = false;
    }

private:
    void draw(clock::time_point now) {
        const double seconds = std::chrono::duration<double>(now - start_).count();
        const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0.0;
        const std::size_t percent = total_ == 0 ? 100 : done_ * 100 / total_; // 100: all done
        std::fprintf(stderr, "\r\x1b[Ksmtpp-send: %zu/%zu messages (%zu%%), %zu failed, %.0f/s",
                     done_, total_, percent, failed_, rate);
        std::fflush(stderr);
        shown_ = true;
        last_draw_ = now;
    }

    bool enabled_;
    std::size_t total_;
    std::size_t done_ = 0;
    std::size_t failed_ = 0;
    clock::time_point start_;
    clock::time_point last_draw_{};
    bool shown_ = false;
};

} // namespace smtpp_send

#endif // SMTPP_SEND_PROGRESS_HPP
