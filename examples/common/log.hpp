// smtpp examples: logging that never blocks the event loop. Each line is one write(2) of at
// most PIPE_BUF octets, which a pipe takes whole or not at all; when the pipe (or terminal,
// or socket) is full the line is dropped and counted, and the next line that gets through is
// preceded by the count. A reader that stops draining the server's output costs log lines,
// never service.
#ifndef SMTPP_EXAMPLES_LOG_HPP
#define SMTPP_EXAMPLES_LOG_HPP

#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace smtpp_examples {

class log_output {
public:
    explicit log_output(int fd) : fd_(fd) {}

    // Makes writes to the descriptor non-blocking. Setting O_NONBLOCK on the inherited
    // descriptor would change it for every process sharing that pipe or terminal (the shell
    // too), so a pipe or terminal is opened afresh through /proc: same pipe, own flags. A
    // socket is written with MSG_DONTWAIT; a regular file is left alone.
    void make_nonblocking() {
        struct stat st {};
        if (::fstat(fd_, &st) != 0) return;
        if (S_ISSOCK(st.st_mode)) {
            socket_ = true;
            return;
        }
        if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) return;
        const std::string self = "/proc/self/fd/" + std::to_string(fd_);
        const int own = ::open(self.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (own < 0) return;
        ::dup2(own, fd_);
        ::close(own);
    }

    // Writes one line (`text` ends with its newline), or drops and counts it.
    void write_line(const char* text, std::size_t size) {
        if (dropped_ > 0) {
            char note[80];
            const int n = std::snprintf(note, sizeof note, "(%llu log line(s) dropped)\n",
                                        static_cast<unsigned long long>(dropped_));
            if (!put(note, static_cast<std::size_t>(n))) {
                count_drop();
                return;
            }
            dropped_ = 0;
        }
        if (!put(text, size)) count_drop();
    }

    // Lines dropped since the start.
    std::uint64_t dropped_total() const noexcept { return dropped_total_; }

private:
    bool put(const char* p, std::size_t n) {
        for (;;) {
            const ssize_t w =
                socket_ ? ::send(fd_, p, n, MSG_DONTWAIT | MSG_NOSIGNAL) : ::write(fd_, p, n);
            if (w < 0 && errno == EINTR) continue;
            return w > 0; // a terminal or socket may take part of a line: the rest is lost
        }
    }
    void count_drop() noexcept {
        ++dropped_;
        ++dropped_total_;
    }

    int fd_;
    bool socket_ = false;
    std::uint64_t dropped_ = 0, dropped_total_ = 0;
};

// Message lines and the start-up line go to stdout, problems to stderr.
inline log_output& log_out() {
    static log_output out(STDOUT_FILENO);
    return out;
}
inline log_output& log_err() {
    static log_output err(STDERR_FILENO);
    return err;
}

inline void make_logs_nonblocking() {
    log_out().make_nonblocking();
    log_err().make_nonblocking();
}

// printf-style; the newline is added. Lines longer than PIPE_BUF are cut (and end in "...").
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
inline void
log_line(log_output& to, const char* format, ...) {
    char line[PIPE_BUF];
    std::va_list args;
    va_start(args, format);
    const int n = std::vsnprintf(line, sizeof line - 1, format, args);
    va_end(args);
    if (n < 0) return;
    std::size_t size = static_cast<std::size_t>(n);
    if (size >= sizeof line - 1) { // cut: vsnprintf wrote sizeof line - 2 characters
        size = sizeof line - 5;
        line[size++] = '.';
        line[size++] = '.';
        line[size++] = '.';
    }
    line[size++] = '\n';
    to.write_line(line, size);
}

} // namespace smtpp_examples

#endif // SMTPP_EXAMPLES_LOG_HPP
