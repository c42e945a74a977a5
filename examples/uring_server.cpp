// uring-server: smtpp-server's protocol handling on io_uring (liburing). The connection logic
// (common/connection.hpp: session, policy, maildir, STARTTLS through memory BIOs) is the code
// smtpp-server runs under epoll; here every socket operation is a submission. Each client has
// at most one receive and one send in flight:
//   * receives take a buffer from a ring of buffers all clients share (provided buffers): the
//     kernel picks one when data arrives, input() copies what the session keeps, and the buffer
//     goes back at once, so an idle client holds no read buffer;
//   * sends point straight at the pending output, which stays put until the completion says
//     how much went out (consumed());
//   * each operation carries a linked timeout at the deadline of what the connection waits for:
//     when it fires the operation is cancelled and the deadline handled (421, or close).
// Needs Linux 5.19 or later; where io_uring cannot be used (an older kernel, a container whose
// seccomp profile forbids it) it says so and exits with status 3. Same command line as
// smtpp-server (see --help).
#include "common/connection.hpp"
#include "common/net.hpp"
#include "common/server_setup.hpp"
#include "common/signals.hpp"

#include <liburing.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/signalfd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

using smtpp_examples::log_err;
using smtpp_examples::log_line;
using smtpp_examples::mail_connection;
using smtpp_examples::server_context;
using clock_type = mail_connection::clock;

constexpr const char* prog = "uring-server";
constexpr int unavailable = 3; // exit status: io_uring cannot be used here

// What a completion is for: a client's operation (the client's address with the operation in
// the low bits), one of the server's own, or one whose completion needs nothing (the linked
// timeouts, the cancellations).
enum op : std::uint64_t {
    op_none = 0,
    op_recv = 1,
    op_send = 2,
    op_accept = 3,
    op_signal = 4,
    op_tick = 5,
    op_accept_later = 6,
    op_mask = 7
};

struct client {
    client(server_context& ctx, int socket, std::string peer, std::string address)
        : fd(socket), conn(ctx, std::move(peer), std::move(address)) {}
    ~client() { ::close(fd); } // after its last operation completed

    int fd;
    mail_connection conn;
    bool reading = false, writing = false, closing = false;
    __kernel_timespec recv_limit{}, send_limit{}; // read by the kernel when submitted
};

// The receive buffers, shared by every client: a ring the kernel takes from and the server
// gives back to (IORING_REGISTER_PBUF_RING). 1 MiB in all, mapped at start.
class buffer_ring {
public:
    static constexpr unsigned count = 64, size = 16384;

    ~buffer_ring() {
        if (ring_) ::munmap(ring_, ring_bytes());
        if (storage_) ::munmap(storage_, storage_bytes());
    }

    // 0, or the error: -EINVAL before Linux 5.19.
    int setup(io_uring& uring) {
        void* ring = map(ring_bytes());
        void* storage = map(storage_bytes());
        if (!ring || !storage) return -ENOMEM;
        ring_ = static_cast<io_uring_buf_ring*>(ring);
        storage_ = static_cast<char*>(storage);
        io_uring_buf_reg reg{};
        reg.ring_addr = reinterpret_cast<std::uintptr_t>(ring_);
        reg.ring_entries = count;
        reg.bgid = group;
        if (const int e = io_uring_register_buf_ring(&uring, &reg, 0); e < 0) return e;
        io_uring_buf_ring_init(ring_);
        for (unsigned id = 0; id < count; ++id) give_back(static_cast<unsigned short>(id));
        return 0;
    }

    std::string_view data(unsigned short id, std::size_t n) const {
        return {storage_ + std::size_t{id} * size, n};
    }

    void give_back(unsigned short id) {
        io_uring_buf_ring_add(ring_, storage_ + std::size_t{id} * size, size, id,
                              io_uring_buf_ring_mask(count), 0);
        io_uring_buf_ring_advance(ring_, 1);
    }

    static constexpr unsigned short group = 0;

private:
    static std::size_t ring_bytes() { return count * sizeof(io_uring_buf); }
    static std::size_t storage_bytes() { return std::size_t{count} * size; }
    // Populated up front: memory the server holds from the start, not a cost of the first
    // busy clients.
    static void* map(std::size_t bytes) {
        void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                           MAP_ANONYMOUS | MAP_PRIVATE | MAP_POPULATE, -1, 0);
        return mem == MAP_FAILED ? nullptr : mem;
    }

    io_uring_buf_ring* ring_ = nullptr;
    char* storage_ = nullptr;
};

__kernel_timespec time_left(clock_type::time_point deadline) {
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock_type::now());
    const long long left = ms.count() < 1 ? 1 : ms.count();
    return {left / 1000, (left % 1000) * 1'000'000};
}

class server {
public:
    server(server_context& ctx, io_uring& ring, buffer_ring& buffers, int listen_fd, int signal_fd)
        : ctx_(ctx), ring_(ring), buffers_(buffers), lfd_(listen_fd), sfd_(signal_fd) {}

    void run() {
        accept();
        submit_signal_read();
        tick();
        while (!stopping_ || !clients_.empty()) {
            io_uring_submit_and_wait(&ring_, 1);
            unsigned head = 0, seen = 0;
            io_uring_cqe* cqe = nullptr;
            io_uring_for_each_cqe(&ring_, head, cqe) {
                ++seen;
                complete(cqe->user_data, cqe->res, cqe->flags);
            }
            io_uring_cq_advance(&ring_, seen);
        }
    }

private:
    // A submission entry, with room for `n` (an operation and its linked timeout go together).
    io_uring_sqe* entry(unsigned n = 1) {
        if (io_uring_sq_space_left(&ring_) < n) io_uring_submit(&ring_);
        return io_uring_get_sqe(&ring_);
    }

    static std::uint64_t tag(client* c, op o) { return reinterpret_cast<std::uintptr_t>(c) | o; }

    void complete(std::uint64_t user_data, int res, unsigned flags) {
        auto* c = reinterpret_cast<client*>(user_data & ~std::uint64_t{op_mask});
        switch (static_cast<op>(user_data & op_mask)) {
        case op_recv:
            return received(*c, res, flags);
        case op_send:
            return sent(*c, res);
        case op_accept:
            return accepted(res);
        case op_signal:
            return stop();
        case op_tick:
            return on_tick();
        case op_accept_later:
            return accept();
        default:
            return;
        }
    }

    // [readme-uring]
    void received(client& c, int res, unsigned flags) {
        c.reading = false;
        if ((flags & IORING_CQE_F_BUFFER) != 0) {
            const auto id = static_cast<unsigned short>(flags >> IORING_CQE_BUFFER_SHIFT);
            if (res > 0 && !c.closing)
                c.conn.input(buffers_.data(id, static_cast<std::size_t>(res))); // copies
            buffers_.give_back(id);
        } else if (res == 0 && !c.closing) {
            c.conn.input_eof();
        } else if (res < 0 && res != -ECANCELED && res != -ENOBUFS) {
            return close(c); // -ECANCELED: the deadline passed, or we cancelled
        }
        kick(c);
    }

    void sent(client& c, int res) {
        c.writing = false;
        if (res > 0 && !c.closing) c.conn.consumed(static_cast<std::size_t>(res));
        if (res < 0 && res != -ECANCELED) return close(c);
        kick(c);
    }

    // After anything happened to a client: handle a passed deadline, then send what is
    // pending and receive while the session wants input, each with the deadline linked.
    void kick(client& c) {
        if (c.closing) return close(c);
        if (clock_type::now() >= c.conn.deadline() && c.conn.expire()) return close(c);
        if (c.conn.finished()) return close(c);
        if (!c.writing && c.conn.output_pending()) {
            const std::string_view out = c.conn.output(); // valid until consumed()
            io_uring_sqe* sqe = entry(2);
            io_uring_prep_send(sqe, c.fd, out.data(), out.size(), MSG_NOSIGNAL);
            link_deadline(sqe, tag(&c, op_send), c.send_limit, c.conn.deadline());
            c.writing = true;
        }
        if (!c.reading && c.conn.wants_input()) {
            io_uring_sqe* sqe = entry(2);
            io_uring_prep_recv(sqe, c.fd, nullptr, buffer_ring::size, 0);
            sqe->flags |= IOSQE_BUFFER_SELECT; // a buffer from the ring when data arrives
            sqe->buf_group = buffer_ring::group;
            link_deadline(sqe, tag(&c, op_recv), c.recv_limit, c.conn.deadline());
            c.reading = true;
        }
        if (!c.reading && !c.writing) close(c); // waits for nothing: never happens
    }

    void link_deadline(io_uring_sqe* sqe, std::uint64_t user_data, __kernel_timespec& limit,
                       clock_type::time_point deadline) {
        io_uring_sqe_set_data64(sqe, user_data);
        sqe->flags |= IOSQE_IO_LINK;
        limit = time_left(deadline);
        io_uring_sqe* timeout = entry();
        io_uring_prep_link_timeout(timeout, &limit, 0);
        io_uring_sqe_set_data64(timeout, op_none);
    }
    // [/readme-uring]

    // Cancels what the client has in flight and frees it once both operations completed.
    void close(client& c) {
        if (!c.closing && (c.reading || c.writing)) interrupt(c);
        c.closing = true;
        if (c.reading || c.writing) return;
        clients_.erase(&c);
        delete &c; // an unfinished message's temporary file goes with the connection
    }

    // Cancels the client's operations; their completions come back with -ECANCELED.
    void interrupt(client& c) {
        io_uring_sqe* sqe = entry();
        io_uring_prep_cancel_fd(sqe, c.fd, IORING_ASYNC_CANCEL_ALL);
        io_uring_sqe_set_data64(sqe, op_none);
    }

    void accept() {
        peer_len_ = sizeof peer_;
        io_uring_sqe* sqe = entry();
        io_uring_prep_accept(sqe, lfd_, reinterpret_cast<sockaddr*>(&peer_), &peer_len_,
                             SOCK_CLOEXEC);
        io_uring_sqe_set_data64(sqe, op_accept);
    }

    void accepted(int fd) {
        if (stopping_) {
            if (fd >= 0) ::close(fd);
            return;
        }
        if (fd >= 0) {
            admit(fd);
            return accept();
        }
        // Out of descriptors: the spare one answers the waiting clients 421. Accepting again at
        // once would fail the same way, so the next try comes a moment later.
        const bool answered =
            (fd == -EMFILE || fd == -ENFILE) && spare_.turn_away_waiting(lfd_, -fd, prog);
        if (!answered) log_line(log_err(), "%s: accept: %s", prog, std::strerror(-fd));
        accept_pause_ = {0, answered ? 50'000'000 : 250'000'000};
        io_uring_sqe* sqe = entry();
        io_uring_prep_timeout(sqe, &accept_pause_, 0, 0);
        io_uring_sqe_set_data64(sqe, op_accept_later);
    }

    void admit(int fd) {
        const auto* address = reinterpret_cast<const sockaddr*>(&peer_);
        const std::string host = smtpp_examples::host_text(address);
        if (const char* refusal = ctx_.refusal(host)) {
            (void)!::send(fd, refusal, std::strlen(refusal), MSG_NOSIGNAL | MSG_DONTWAIT);
            ::close(fd);
            return;
        }
        const int one = 1; // as smtpp-server: no Nagle
        (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto* c = new client(ctx_, fd, smtpp_examples::address_text(address), host);
        clients_.insert(c);
        kick(*c);
    }

    // Four times a second: stress mode (which moves every deadline: the operations in flight
    // are cancelled and submitted again with the new one), the memory budget, and the end of
    // the time the clients get to take their 421 when stopping. Allocates nothing unless it
    // has to close someone: a block freed now and kept for reuse could sit at the top of the
    // heap and keep a burst's freed buffers from going back to the system.
    void tick() {
        tick_limit_ = {0, 250'000'000};
        io_uring_sqe* sqe = entry();
        io_uring_prep_timeout(sqe, &tick_limit_, 0, 0);
        io_uring_sqe_set_data64(sqe, op_tick);
    }

    void on_tick() {
        tick();
        const auto now = clock_type::now();
        if (stopping_ && now >= stop_deadline_) { // the 421s did not all get out in time
            for (auto it = clients_.begin(); it != clients_.end();) close(**it++);
            return;
        }
        const bool stress = ctx_.stress;
        ctx_.update_stress(prog);
        std::size_t held = 0; // by the clients not closing already
        for (client* c : clients_) {
            if (c->closing) continue;
            if (stress != ctx_.stress) interrupt(*c);
            held += c->conn.memory_bytes();
        }
        if (held > ctx_.options.memory_budget << 20) shed_over_budget(now);
    }

    void shed_over_budget(clock_type::time_point now) {
        std::vector<client*> all;
        std::vector<const mail_connection*> conns;
        for (client* c : clients_) {
            if (c->closing) continue;
            all.push_back(c);
            conns.push_back(&c->conn);
        }
        for (const std::size_t i : smtpp_examples::shed_over_budget(ctx_, conns, now))
            close(*all[i]);
    }

    void submit_signal_read() {
        io_uring_sqe* sqe = entry();
        io_uring_prep_read(sqe, sfd_, &signal_, sizeof signal_, 0);
        io_uring_sqe_set_data64(sqe, op_signal);
    }

    // 421 to every client; run() returns once all are gone (2 seconds at most).
    void stop() {
        stopping_ = true;
        stop_deadline_ = clock_type::now() + std::chrono::seconds(2);
        smtpp_examples::log_stopping(ctx_, prog, static_cast<int>(signal_.ssi_signo));
        io_uring_sqe* sqe = entry();
        io_uring_prep_cancel_fd(sqe, lfd_, 0); // the accept
        io_uring_sqe_set_data64(sqe, op_none);
        const std::vector<client*> all(clients_.begin(), clients_.end());
        for (client* c : all) {
            c->conn.shutdown();
            kick(*c);
        }
    }

    server_context& ctx_;
    io_uring& ring_;
    buffer_ring& buffers_;
    int lfd_, sfd_;
    std::unordered_set<client*> clients_;
    smtpp_examples::spare_descriptor spare_;
    sockaddr_storage peer_{};
    socklen_t peer_len_ = 0;
    signalfd_siginfo signal_{};
    __kernel_timespec tick_limit_{}, accept_pause_{};
    bool stopping_ = false;
    clock_type::time_point stop_deadline_{};
};

// The signals that stop the server arrive as reads on a signalfd, through the ring.
int stop_signal_descriptor() {
    sigset_t mask;
    sigemptyset(&mask);
    for (const int sig : smtpp_examples::stop_signals()) sigaddset(&mask, sig);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    return ::signalfd(-1, &mask, SFD_CLOEXEC);
}

int no_uring(const char* what, int error) {
    std::fprintf(stderr,
                 "%s: io_uring is not available here (%s: %s): it needs Linux 5.19 or later, "
                 "and containers often forbid it (seccomp)\n",
                 prog, what, std::strerror(-error));
    return unavailable;
}

} // namespace

int main(int argc, char** argv) {
    auto ctx = std::make_unique<server_context>();
    const int status = smtpp_examples::configure_server(*ctx, argc, argv, prog);
    if (status >= 0) return status;
    io_uring ring{};
    if (const int e = io_uring_queue_init(1024, &ring, 0); e < 0)
        return no_uring("io_uring_queue_init", e);
    buffer_ring buffers;
    if (const int e = buffers.setup(ring); e < 0) {
        io_uring_queue_exit(&ring);
        return no_uring("io_uring_register_buf_ring", e);
    }
    const int sfd = stop_signal_descriptor();
    std::string bound;
    const int lfd = smtpp_examples::listen_on(ctx->options.listen, bound, prog);
    if (lfd < 0 || sfd < 0) return 1;
    smtpp_examples::make_logs_nonblocking();
    smtpp_examples::log_listening(*ctx, prog, bound);
    auto srv = std::make_unique<server>(*ctx, ring, buffers, lfd, sfd);
    srv->run();
    io_uring_queue_exit(&ring);
    ::close(lfd);
    ::close(sfd);
    return 0;
}
