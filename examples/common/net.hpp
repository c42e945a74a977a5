// smtpp examples: small POSIX socket helpers shared by the example programs.
#ifndef SMTPP_EXAMPLES_NET_HPP
#define SMTPP_EXAMPLES_NET_HPP

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

// "1.2.3.4:25" or "[::1]:25" for a socket address.
inline std::string address_text(const sockaddr* sa) {
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
        return std::string(host) + ":" + std::to_string(port);
    }
    if (sa->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        return "[" + std::string(host) + "]:" + std::to_string(port);
    }
    return "?";
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

// Thousands of connections need thousands of descriptors: raise the soft limit to the hard one.
inline void raise_fd_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

} // namespace smtpp_examples

#endif // SMTPP_EXAMPLES_NET_HPP
