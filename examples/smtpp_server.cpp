// smtpp-server: a single-threaded, non-blocking epoll SMTP/LMTP server built on
// smtpp::server_session. One mail_connection (session + small buffers) per socket; the socket
// is watched for EPOLLIN only while the session wants input and for EPOLLOUT only while output
// is pending (level-triggered). SIGTERM, SIGINT, SIGHUP and every other signal that would kill
// the process arrive through a signalfd: every client gets 421, then the program exits 0.
// Log lines never block the loop (common/log.hpp). See --help for the options.
#include "common/connection.hpp"
#include "common/log.hpp"
#include "common/net.hpp"
#include "common/options.hpp"
#include "common/server_setup.hpp"
#include "common/signals.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using smtpp_examples::log_err;
using smtpp_examples::log_line;
using smtpp_examples::mail_connection;
using smtpp_examples::server_context;

struct client {
    client(server_context& ctx, int fd_, std::string peer, std::string address)
        : fd(fd_), conn(ctx, std::move(peer), std::move(address)) {}
    int fd;
    mail_connection conn;
    std::uint32_t watching = 0; // the epoll interest set now registered
};

class server {
public:
    server(server_context& ctx, int listen_fd, int signal_fd, int epoll_fd)
        : ctx_(ctx), lfd_(listen_fd), sfd_(signal_fd), ep_(epoll_fd) {}

    int run() {
        watch(lfd_, EPOLLIN, EPOLL_CTL_ADD);
        watch(sfd_, EPOLLIN, EPOLL_CTL_ADD);
        epoll_event events[256];
        auto next_sweep = clock::now();
        while (!stopping_) {
            const int n = ::epoll_wait(ep_, events, 256, sweep_ms);
            if (n < 0) {
                if (errno == EINTR) continue;
                log_line(log_err(), "smtpp-server: epoll_wait: %s", std::strerror(errno));
                return 1;
            }
            for (int i = 0; i < n; ++i) {
                const int fd = events[i].data.fd;
                if (fd == lfd_)
                    accept_all();
                else if (fd == sfd_)
                    stopping_ = read_signal();
                else
                    service(fd, events[i].events);
            }
            const auto now = clock::now();
            if (now >= next_sweep) {
                next_sweep = now + std::chrono::milliseconds(sweep_ms);
                sweep(now);
            }
        }
        stop();
        return 0;
    }

private:
    using clock = std::chrono::steady_clock;
    static constexpr std::size_t read_chunk = 16384;
    static constexpr int sweep_ms = 250;

    void watch(int fd, std::uint32_t events, int op) {
        epoll_event ev{};
        ev.events = events;
        ev.data.fd = fd;
        ::epoll_ctl(ep_, op, fd, &ev);
    }

    void accept_all() {
        for (;;) {
            sockaddr_storage ss{};
            socklen_t len = sizeof ss;
            const int fd = ::accept4(lfd_, reinterpret_cast<sockaddr*>(&ss), &len,
                                     SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                admit(fd, reinterpret_cast<const sockaddr*>(&ss));
                continue;
            }
            const int error = errno;
            if (error == EINTR || error == ECONNABORTED) continue;
            if (error == EAGAIN || error == EWOULDBLOCK) return;
            if ((error == EMFILE || error == ENFILE) &&
                spare_.turn_away_waiting(lfd_, error, "smtpp-server"))
                return;
            // No spare descriptor, or out of memory: stop watching the level-triggered listener
            // until the next sweep instead of spinning on it.
            log_line(log_err(), "smtpp-server: accept: %s", std::strerror(error));
            watch(lfd_, 0, EPOLL_CTL_MOD);
            accept_paused_ = true;
            return;
        }
    }

    void admit(int fd, const sockaddr* address) {
        const std::string host = smtpp_examples::host_text(address);
        if (const char* refusal = ctx_.refusal(host)) {
            (void)!::send(fd, refusal, std::strlen(refusal), MSG_NOSIGNAL | MSG_DONTWAIT);
            ::close(fd);
            return;
        }
        // Replies leave in one send() per loop pass; Nagle would only hold back the next one
        // until the client's delayed ACK.
        const int one = 1;
        (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto c = std::make_unique<client>(ctx_, fd, smtpp_examples::address_text(address), host);
        client& ref = *c;
        clients_.emplace(fd, std::move(c));
        update(ref);
    }

    // Reads what the connection wants, writes what it has, re-arms epoll or closes.
    void service(int fd, std::uint32_t events) {
        const auto it = clients_.find(fd);
        if (it == clients_.end()) return;
        client& c = *it->second;
        if (events & EPOLLERR) return close_client(c);
        bool broken = false;
        for (int round = 0; round < 4 && c.conn.wants_input(); ++round) {
            const ssize_t n = ::recv(fd, buffer_, read_chunk, 0);
            if (n > 0) {
                c.conn.input(std::string_view(buffer_, static_cast<std::size_t>(n)));
                broken = !flush(c);
                if (broken) break;
                continue;
            }
            if (n == 0)
                c.conn.input_eof();
            else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                break;
            else
                broken = true;
            break;
        }
        if (!broken) broken = !flush(c);
        if (broken || c.conn.finished() ||
            ((events & EPOLLHUP) && !c.conn.wants_input() && !c.conn.output_pending())) {
            return close_client(c);
        }
        update(c);
    }

    // Writes pending output until the socket would block. False when the peer is gone.
    bool flush(client& c) {
        for (;;) {
            const std::string_view out = c.conn.output();
            if (out.empty()) return true;
            const ssize_t n = ::send(c.fd, out.data(), out.size(), MSG_NOSIGNAL);
            if (n > 0) {
                c.conn.consumed(static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        }
    }

    void update(client& c) {
        if (c.conn.finished()) return close_client(c);
        std::uint32_t want = 0;
        if (c.conn.wants_input()) want |= EPOLLIN;
        if (c.conn.output_pending()) want |= EPOLLOUT;
        if (c.watching == 0 && want == 0)
            want = EPOLLIN; // registered at least once (never happens)
        if (want == c.watching) return;
        watch(c.fd, want, c.watching == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD);
        c.watching = want;
    }

    void close_client(client& c) {
        const int fd = c.fd;
        ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
        clients_.erase(fd); // destroys c: an unfinished message's temporary file is removed
    }

    // A few times a second: accept again after a pause, and give every client whose deadline
    // passed its 421 (or, when it did not take that in time either, close it).
    void sweep(clock::time_point now) {
        if (accept_paused_) {
            accept_paused_ = false;
            watch(lfd_, EPOLLIN, EPOLL_CTL_MOD);
        }
        ctx_.update_stress("smtpp-server");
        shed_over_budget(now);
        for (auto it = clients_.begin(); it != clients_.end();) {
            client& c = *it->second;
            ++it; // close_client erases c
            if (now < c.conn.deadline()) continue;
            if (c.conn.expire() || !flush(c) || c.conn.finished())
                close_client(c);
            else
                update(c);
        }
    }

    // Over --memory-budget: close the largest connections whose client stopped reading.
    void shed_over_budget(clock::time_point now) {
        std::vector<client*> all;
        std::vector<const mail_connection*> conns;
        for (const auto& entry : clients_) {
            all.push_back(entry.second.get());
            conns.push_back(&entry.second->conn);
        }
        for (const std::size_t i : smtpp_examples::shed_over_budget(ctx_, conns, now))
            close_client(*all[i]);
    }

    // The signal that stops the server; false when none was pending after all.
    bool read_signal() {
        signalfd_siginfo info{};
        if (::read(sfd_, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) return false;
        signal_ = static_cast<int>(info.ssi_signo);
        return true;
    }

    // Clean exit: 421 to everyone, one best-effort write, close (which removes unfinished
    // messages).
    void stop() {
        ::close(lfd_);
        smtpp_examples::log_stopping(ctx_, "smtpp-server", signal_);
        for (auto& entry : clients_) {
            client& c = *entry.second;
            c.conn.shutdown();
            (void)flush(c);
            ::close(c.fd);
        }
        clients_.clear();
    }

    server_context& ctx_;
    int lfd_, sfd_, ep_;
    smtpp_examples::spare_descriptor spare_;
    bool stopping_ = false, accept_paused_ = false;
    int signal_ = 0;
    std::unordered_map<int, std::unique_ptr<client>> clients_;
    char buffer_[read_chunk];
};

// The signals that stop the server arrive as reads on a signalfd, in the event loop.
int stop_signal_descriptor() {
    sigset_t mask;
    sigemptyset(&mask);
    for (const int sig : smtpp_examples::stop_signals()) sigaddset(&mask, sig);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    return ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

} // namespace

int main(int argc, char** argv) {
    auto ctx = std::make_unique<server_context>();
    const int status = smtpp_examples::configure_server(*ctx, argc, argv, "smtpp-server");
    if (status >= 0) return status;

    const int sfd = stop_signal_descriptor();
    std::string bound;
    const int lfd = smtpp_examples::listen_on(ctx->options.listen, bound, "smtpp-server");
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (lfd < 0 || sfd < 0 || ep < 0) return 1;
    smtpp_examples::make_logs_nonblocking();
    smtpp_examples::log_listening(*ctx, "smtpp-server", bound);

    auto srv = std::make_unique<server>(*ctx, lfd, sfd, ep);
    const int rc = srv->run();
    ::close(ep);
    ::close(sfd);
    return rc;
}
