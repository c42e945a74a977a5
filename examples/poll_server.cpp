// poll-server: the smallest complete embedding, one file, poll() and nothing else. It serves
// many connections on 127.0.0.1, decides RCPT asynchronously (a pretend lookup: recipients at
// slow.example are decided 50 ms later, blocked.example is refused), keeps its own record of
// the envelope, honours the session's timeouts, and prints one line per message. No TLS, no
// storage: see smtpp-server and asio-server for those.
//
//   poll-server [PORT]        (default 2525; 0 picks a free port; it prints the one it got)
#include <smtpp/grammar.hpp>
#include <smtpp/printable.hpp>
#include <smtpp/server_session.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct connection {
    explicit connection(int socket, const smtpp::server_config& config)
        : fd(socket), session(config) {}
    ~connection() { ::close(fd); }

    int fd;
    smtpp::server_session session;
    std::string sender; // the transaction, as this program keeps it
    std::vector<std::string> recipients;
    std::uint64_t body_octets = 0;
    std::string pending_rcpt, pending_domain; // the RCPT whose lookup runs
    clock_type::time_point decide_at{};
    clock_type::time_point deadline = clock_type::time_point::max(); // the session's wait
    std::uint64_t wait_serial = ~std::uint64_t{0};
    bool gone = false; // the socket failed: nothing more can be written
};

std::string printable(std::string_view text) {
    std::string out;
    smtpp::append_printable(out, text);
    return out;
}

// Pulls events until the session needs input or waits for our RCPT decision.
void drive(connection& c) {
    using kind = smtpp::server_event_kind;
    for (;;) {
        const smtpp::server_event ev = c.session.next_event();
        switch (ev.kind) {
        case kind::need_data:
        case kind::awaiting_decision:
        case kind::output_full: // poll() will say when the client reads again
        case kind::closed:
            return;
        case kind::rcpt:
            c.pending_rcpt = std::string(ev.cmd->address.text); // copy: views die soon
            c.pending_domain = std::string(ev.cmd->address.box.domain);
            c.decide_at = clock_type::now() +
                          std::chrono::milliseconds(
                              smtpp::domain_equal(c.pending_domain, "slow.example") ? 50 : 0);
            return; // answered by the loop once decide_at has come
        case kind::mail:
            c.sender = std::string(ev.cmd->address.text);
            break;
        case kind::body_chunk:
            c.body_octets += ev.data.size();
            continue;
        case kind::message_end:
            std::printf("message from %s to %zu recipient(s), %llu octets\n",
                        printable(c.sender).c_str(), c.recipients.size(),
                        static_cast<unsigned long long>(c.body_octets));
            std::fflush(stdout);
            break;
        case kind::transaction_reset: // RSET, EHLO, a failed message, EOF: forget the envelope
            c.sender.clear();
            c.recipients.clear();
            c.body_octets = 0;
            continue;
        default:
            break;
        }
        if (smtpp::is_decision(ev.kind) && c.session.accept() != smtpp::errc::ok) return;
        if (ev.kind == kind::message_end) { // the next message starts afresh
            c.recipients.clear();
            c.body_octets = 0;
        }
    }
}

void answer_rcpt(connection& c) {
    smtpp::errc e = smtpp::errc::ok;
    if (smtpp::domain_equal(c.pending_domain, "blocked.example")) {
        e = c.session.reject(550, {5, 7, 1}, "Recipient domain blocked by policy");
    } else {
        e = c.session.accept();
        c.recipients.push_back(c.pending_rcpt);
    }
    if (e != smtpp::errc::ok) (void)c.session.reject(smtpp::replies::local_error);
    c.pending_rcpt.clear();
}

// [readme-poll]
// After every call that acts on a session: run it, arm its timer, write what it queued.
void settle(connection& c) {
    drive(c);
    const smtpp::wait_state w = c.session.waiting();
    if (w.serial != c.wait_serial) { // a new wait began: re-arm (phase none: no timer)
        c.wait_serial = w.serial;
        c.deadline = w.phase == smtpp::wait_phase::none ? clock_type::time_point::max()
                                                        : clock_type::now() + w.timeout;
    }
    while (!c.gone && c.session.pending_output_size() != 0) {
        const std::string_view out = c.session.pending_output();
        const ssize_t n = ::send(c.fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) c.gone = true;
        if (n <= 0) break; // the rest when poll() says POLLOUT
        c.session.consume_output(static_cast<std::size_t>(n));
    }
}
// [/readme-poll]

int listen_on(unsigned short port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
        std::perror("poll-server: bind/listen");
        std::exit(1);
    }
    socklen_t size = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size);
    std::printf("listening on 127.0.0.1:%u\n", ntohs(addr.sin_port));
    std::fflush(stdout);
    return fd;
}

} // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    const int listener =
        listen_on(static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 2525));
    smtpp::server_config config;
    config.hostname = "mx.poll.example";
    std::vector<std::unique_ptr<connection>> conns;
    static char buffer[16384]; // one read buffer for every connection: receive() copies
    for (;;) {
        std::vector<pollfd> fds{{listener, POLLIN, 0}};
        clock_type::time_point wake = clock_type::time_point::max();
        for (const auto& c : conns) {
            const short events = static_cast<short>((c->session.wants_read() ? POLLIN : 0) |
                                                    (c->session.wants_write() ? POLLOUT : 0));
            fds.push_back({c->fd, events, 0});
            if (!c->pending_rcpt.empty() && c->decide_at < wake) wake = c->decide_at;
            if (c->deadline < wake) wake = c->deadline;
        }
        int timeout_ms = -1;
        if (wake != clock_type::time_point::max()) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(wake - clock_type::now());
            timeout_ms = static_cast<int>(left.count() < 0 ? 0 : left.count() + 1);
        }
        if (::poll(fds.data(), fds.size(), timeout_ms) < 0) continue;
        if ((fds[0].revents & POLLIN) != 0) {
            const int fd = ::accept(listener, nullptr, nullptr);
            if (fd >= 0) {
                conns.push_back(std::make_unique<connection>(fd, config));
                settle(*conns.back()); // the greeting
            }
        }
        const auto now = clock_type::now();
        for (std::size_t i = 0; i < conns.size(); ++i) {
            connection& c = *conns[i];
            const short revents = i + 1 < fds.size() ? fds[i + 1].revents : 0;
            // [readme-poll-read]
            if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0 && c.session.wants_read()) {
                const std::size_t room = std::min(sizeof buffer, c.session.input_room());
                const ssize_t n = ::recv(c.fd, buffer, room, 0);
                if (n > 0)
                    (void)c.session.receive({buffer, static_cast<std::size_t>(n)});
                else
                    c.session.receive_eof(); // 0: the peer closed; < 0: it is gone
            }
            if (!c.pending_rcpt.empty() && c.decide_at <= now) answer_rcpt(c);
            if (c.deadline <= now && c.session.timeout_expired() == smtpp::errc::ok)
                std::printf("connection timed out\n");
            settle(c);
            // [/readme-poll-read]
        }
        // A closed session whose last reply is written (or cannot be) goes.
        for (auto it = conns.begin(); it != conns.end();) {
            const bool done =
                (*it)->gone || ((*it)->session.is_closed() && !(*it)->session.wants_write());
            it = done ? conns.erase(it) : it + 1;
        }
    }
}
