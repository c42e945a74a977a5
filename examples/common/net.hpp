// smtpp examples: small POSIX socket helpers shared by the example programs.
#ifndef SMTPP_EXAMPLES_NET_HPP
#define SMTPP_EXAMPLES_NET_HPP

#include "log.hpp"
#include "options.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace smtpp_examples {

// "1.2.3.4" or "::1": the client's address without the port.
inline std::string host_text(const sockaddr* sa) {
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET)
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, host,
                    sizeof host);
    else if (sa->sa_family == AF_INET6)
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, host,
                    sizeof host);
    return host;
}

// "1.2.3.4:25" or "[::1]:25" for a socket address.
inline std::string address_text(const sockaddr* sa) {
    const std::string host = host_text(sa);
    if (sa->sa_family == AF_INET)
        return host + ":" +
               std::to_string(ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port));
    if (sa->sa_family == AF_INET6)
        return "[" + host +
               "]:" + std::to_string(ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port));
    return host;
}

// A non-blocking listening socket on ADDR:PORT; -1 (and a message) on failure. `bound` gets
// the address actually bound (the real port when PORT is 0).
inline int listen_on(const std::string& where, std::string& bound, const char* prog) {
    std::string host, port;
    if (!split_host_port(where, host, port)) {
        std::fprintf(stderr, "%s: --listen wants ADDR:PORT, not '%s'\n", prog, where.c_str());
        return -1;
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const int gai = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
    if (gai != 0) {
        std::fprintf(stderr, "%s: %s: %s\n", prog, where.c_str(), ::gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                      ai->ai_protocol);
        if (fd < 0) continue;
        const int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) break;
        std::fprintf(stderr, "%s: %s: %s\n", prog, where.c_str(), std::strerror(errno));
        ::close(fd);
        fd = -1;
    }
    ::freeaddrinfo(res);
    if (fd < 0) return -1;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    bound = address_text(reinterpret_cast<const sockaddr*>(&ss));
    return fd;
}

// Descriptors for everything but connections: standard streams, listener, epoll, signalfd,
// the spare below, Asio's own.
inline constexpr std::size_t reserved_descriptors = 16;

// How many connections the descriptor limit allows, raising the soft limit first (up to the
// hard one) to what `wanted` connections need. A connection needs two descriptors while a
// message comes in: its socket and the message file.
inline std::size_t connection_cap(std::size_t wanted, const char* prog) {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return wanted;
    const rlim_t need = static_cast<rlim_t>(wanted) * 2 + reserved_descriptors;
    if (rl.rlim_cur < need && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
        ::getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur >= need) return wanted;
    const rlim_t fit =
        rl.rlim_cur > reserved_descriptors + 2 ? (rl.rlim_cur - reserved_descriptors) / 2 : 1;
    log_line(log_err(), "%s: at most %llu connections: RLIMIT_NOFILE is %llu", prog,
             static_cast<unsigned long long>(fit), static_cast<unsigned long long>(rl.rlim_cur));
    return static_cast<std::size_t>(fit);
}

// One descriptor held back (on /dev/null) for the moment the process runs out: accept(2) then
// fails with EMFILE and the client would wait in the listen queue, unanswered, while a
// level-triggered loop spins on the listener. With the spare given up for a moment the client
// can be accepted, told 421 and closed.
class spare_descriptor {
public:
    spare_descriptor() : fd_(open_spare()) {}
    spare_descriptor(const spare_descriptor&) = delete;
    spare_descriptor& operator=(const spare_descriptor&) = delete;
    ~spare_descriptor() {
        if (fd_ >= 0) ::close(fd_);
    }

    // Accepts one waiting client on `listen_fd`, sends it the 421 and closes it. Returns 0,
    // or an errno: EAGAIN when nobody was waiting, EMFILE when there is no spare.
    int turn_away(int listen_fd) {
        if (fd_ < 0 && (fd_ = open_spare()) < 0) return EMFILE;
        ::close(fd_);
        const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        const int error = fd < 0 ? errno : 0;
        if (fd >= 0) {
            static const char reply[] =
                "421 4.3.2 Server out of file descriptors, try again later\r\n";
            (void)!::send(fd, reply, sizeof reply - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            ::close(fd);
        }
        fd_ = open_spare();
        return error;
    }

    // accept(2) failed with `error` (EMFILE or ENFILE): turns away the clients waiting in the
    // listen queue, at most 64 per call, and logs how many. False when not even that worked:
    // the caller pauses accepting for a while rather than spin on the listener.
    bool turn_away_waiting(int listen_fd, int error, const char* prog) {
        int result = 0;
        std::size_t n = 0;
        while (n < 64 && (result = turn_away(listen_fd)) == 0) ++n;
        if (n > 0) {
            log_line(log_err(), "%s: %zu client(s) turned away with 421: accept: %s", prog, n,
                     std::strerror(error));
        }
        return result == 0 || result == EAGAIN || result == EWOULDBLOCK;
    }

private:
    static int open_spare() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }
    int fd_;
};

} // namespace smtpp_examples

#endif // SMTPP_EXAMPLES_NET_HPP
