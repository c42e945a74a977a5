// asio-server: smtpp-server's protocol handling dropped into a standalone Asio event loop.
// The connection logic (common/connection.hpp: session, policy, maildir, STARTTLS through
// memory BIOs) is the same code smtpp-server runs under epoll; only the socket plumbing below
// differs. One io_context, one thread; every connection has at most one read and one write in
// flight, and reads only while the session wants input, so memory stays bounded. The signals
// that would kill the process stop it cleanly instead (common/signals.hpp).
#include "common/connection.hpp"
#include "common/log.hpp"
#include "common/net.hpp"
#include "common/options.hpp"
#include "common/server_setup.hpp"
#include "common/signals.hpp"

#include <asio.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

using asio::ip::tcp;
using smtpp_examples::log_err;
using smtpp_examples::log_line;
using smtpp_examples::mail_connection;
using smtpp_examples::server_context;

class client;

// Room for the state of one asynchronous operation, inside the client. Asio allocates an
// operation's state through its handler's allocator (asio::bind_allocator below); left to the
// heap, the read waits armed during a burst, and the blocks Asio caches for reuse, sit above the
// burst's buffers and keep the freed heap below them from going back to the system (glibc
// returns only the top of the heap): a drained connection then held 60-90 KiB instead of
// 3 KiB. A larger state (another Asio version), or a second one at once, comes from the heap.
class op_memory {
public:
    op_memory() = default;
    op_memory(const op_memory&) = delete;
    op_memory& operator=(const op_memory&) = delete;

    void* allocate(std::size_t size) {
        if (used_ || size > sizeof storage_) return ::operator new(size);
        used_ = true;
        return storage_;
    }
    void deallocate(void* p) noexcept {
        if (p == storage_)
            used_ = false;
        else
            ::operator delete(p);
    }

private:
    // Asio 1.22: an async_wait takes 200 octets, an async_write 280.
    alignas(std::max_align_t) unsigned char storage_[320];
    bool used_ = false;
};

template <class T>
struct op_allocator {
    using value_type = T;
    explicit op_allocator(op_memory& m) noexcept : memory(&m) {}
    template <class U>
    op_allocator(const op_allocator<U>& other) noexcept : memory(other.memory) {}
    T* allocate(std::size_t n) { return static_cast<T*>(memory->allocate(n * sizeof(T))); }
    void deallocate(T* p, std::size_t) noexcept { memory->deallocate(p); }
    friend bool operator==(const op_allocator& a, const op_allocator& b) noexcept {
        return a.memory == b.memory;
    }
    friend bool operator!=(const op_allocator& a, const op_allocator& b) noexcept {
        return a.memory != b.memory;
    }
    op_memory* memory;
};

// What the clients of one server share: who is open (for the sweep and for stopping) and one
// read buffer (one thread, so one read at a time).
struct registry {
    std::unordered_set<client*> live;
    std::array<char, 16384> buffer;
    std::vector<std::shared_ptr<client>> snapshot() const; // those not closed yet
};

// One socket. Reads wait until the socket is readable (async_wait), then read non-blocking into
// the buffer all connections share (the session copies what it keeps). Writes are async_write
// straight from the connection's output(), which stays put until consumed() is called in the
// completion handler. So a connection holds no I/O buffer of its own, and the state of its two
// operations lives in it too (op_memory).
class client : public std::enable_shared_from_this<client> {
public:
    client(tcp::socket socket, server_context& ctx, registry& reg, std::string peer,
           std::string address)
        : socket_(std::move(socket)), conn_(ctx, std::move(peer), std::move(address)), reg_(reg) {
        reg_.live.insert(this);
        asio::error_code ignored;
        socket_.non_blocking(true, ignored);
    }
    ~client() { reg_.live.erase(this); }

    void start() { kick(); }

    // The deadline of what the connection waits for passed: 421, or close when even that
    // was not taken in time.
    void check_deadline(mail_connection::clock::time_point now) {
        if (closed_ || now < conn_.deadline()) return;
        if (conn_.expire()) return close();
        kick();
    }

    // The server is stopping: 421, then close once it is written.
    void stop() {
        conn_.shutdown();
        kick();
    }

    // The server is stopping and the 421 did not get out in time, or the client is over the
    // memory budget.
    void cut_off() { close(); }

    const mail_connection& connection() const noexcept { return conn_; }
    bool closed() const noexcept { return closed_; }

private:
    // [readme-asio-kick]
    // Reads what can be read now and writes what is pending, then waits until the socket is
    // readable (while the session wants input).
    void kick() {
        if (closed_) return;
        if (!read_now()) return close();
        write();
        if (conn_.finished()) return close();
        if (!reading_ && conn_.wants_input()) {
            reading_ = true;
            socket_.async_wait(
                tcp::socket::wait_read,
                asio::bind_allocator(op_allocator<void>(read_op_),
                                     [self = shared_from_this()](const asio::error_code& ec) {
                                         self->reading_ = false;
                                         self->ready(ec);
                                     }));
        }
    }
    // [/readme-asio-kick]

    void ready(const asio::error_code& ec) {
        if (ec == asio::error::operation_aborted) return;
        if (ec) return close();
        kick();
    }

    // Reads while the session wants input, 4 pieces at most (as smtpp-server). False when
    // the socket failed.
    bool read_now() {
        for (int round = 0; round < 4 && conn_.wants_input(); ++round) {
            asio::error_code ec;
            const std::size_t n = socket_.read_some(asio::buffer(reg_.buffer), ec);
            if (ec == asio::error::would_block) return true;
            if (ec == asio::error::eof) {
                conn_.input_eof();
                return true;
            }
            if (ec) return false;
            conn_.input(std::string_view(reg_.buffer.data(), n));
            write();
        }
        return true;
    }

    // [readme-asio-write]
    // Sends output() unless a write is in flight: its bytes stay valid and unchanged until
    // consumed(), however much is queued meanwhile, so the write points straight at them.
    void write() {
        if (writing_ || !conn_.output_pending()) return;
        const std::string_view out = conn_.output();
        writing_ = true;
        asio::async_write(socket_, asio::buffer(out.data(), out.size()),
                          asio::bind_allocator(op_allocator<void>(write_op_),
                                               [self = shared_from_this()](
                                                   const asio::error_code& ec, std::size_t n) {
                                                   self->writing_ = false;
                                                   if (ec) return self->close();
                                                   self->conn_.consumed(n);
                                                   self->kick();
                                               }));
    }
    // [/readme-asio-write]

    void close() {
        if (closed_) return;
        closed_ = true;
        asio::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
    }

    op_memory read_op_, write_op_; // before the socket: destroyed after it
    tcp::socket socket_;
    mail_connection conn_;
    registry& reg_;
    bool reading_ = false, writing_ = false, closed_ = false;
};

std::vector<std::shared_ptr<client>> registry::snapshot() const {
    std::vector<std::shared_ptr<client>> all;
    all.reserve(live.size());
    for (client* c : live) {
        if (!c->closed()) all.push_back(c->shared_from_this());
    }
    return all;
}

std::string endpoint_text(const tcp::endpoint& ep) {
    const std::string host = ep.address().to_string();
    const std::string port = std::to_string(ep.port());
    return ep.address().is_v6() ? "[" + host + "]:" + port : host + ":" + port;
}

class server {
public:
    server(asio::io_context& io, server_context& ctx, const tcp::endpoint& where)
        : io_(io), ctx_(ctx), acceptor_(io, where), pause_(io), sweep_(io), signals_(io) {
        for (const int sig : smtpp_examples::stop_signals()) signals_.add(sig);
    }

    std::string bound() const { return endpoint_text(acceptor_.local_endpoint()); }

    void start() {
        accept();
        sweep();
        signals_.async_wait([this](const asio::error_code& ec, int sig) {
            if (!ec) stop(sig);
        });
    }

private:
    // 421 to every client; io.run() returns once all are closed (2 seconds at most).
    void stop(int sig) {
        stopping_ = true; // a timer that already fired is not cancelled: its handler checks this
        smtpp_examples::log_stopping(ctx_, "asio-server", sig);
        asio::error_code ignored;
        acceptor_.close(ignored);
        pause_.cancel();
        sweep_.cancel();
        for (const auto& c : reg_.snapshot()) c->stop();
        wait_for_clients(40);
    }

    void wait_for_clients(int rounds) {
        if (reg_.live.empty()) return;
        if (rounds == 0) {
            for (const auto& c : reg_.snapshot()) c->cut_off();
            return;
        }
        auto t = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(50));
        t->async_wait([this, t, rounds](const asio::error_code&) { wait_for_clients(rounds - 1); });
    }

    void accept() {
        acceptor_.async_accept([this](const asio::error_code& ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted || stopping_) return;
            if (ec) return accept_failed(ec.value());
            admit(std::move(socket));
            accept();
        });
    }

    void admit(tcp::socket socket) {
        asio::error_code peer_ec;
        const auto peer = socket.remote_endpoint(peer_ec);
        const std::string host = peer_ec ? "?" : peer.address().to_string();
        if (const char* refusal = ctx_.refusal(host)) {
            asio::error_code ignored;
            socket.non_blocking(true, ignored);
            socket.write_some(asio::buffer(refusal, std::strlen(refusal)), ignored);
            return;
        }
        socket.set_option(tcp::no_delay(true), peer_ec); // as smtpp-server: no Nagle
        std::make_shared<client>(std::move(socket), ctx_, reg_,
                                 host == "?" ? host : endpoint_text(peer), host)
            ->start();
    }

    // A few times a second: every client whose deadline passed gets its 421 (or is closed).
    void sweep() {
        sweep_.expires_after(std::chrono::milliseconds(250));
        sweep_.async_wait([this](const asio::error_code& ec) {
            if (ec || stopping_) return;
            ctx_.update_stress("asio-server");
            const auto now = mail_connection::clock::now();
            const auto all = reg_.snapshot();
            shed_over_budget(all, now);
            for (const auto& c : all) c->check_deadline(now);
            sweep();
        });
    }

    // Over --memory-budget: close the largest connections whose client stopped reading.
    void shed_over_budget(const std::vector<std::shared_ptr<client>>& all,
                          mail_connection::clock::time_point now) {
        std::vector<const mail_connection*> conns;
        for (const auto& c : all) conns.push_back(&c->connection());
        for (const std::size_t i : smtpp_examples::shed_over_budget(ctx_, conns, now))
            all[i]->cut_off();
    }

    // Out of descriptors: the spare one answers the waiting clients 421. Accepting again at
    // once would fail the same way (accept(2) says EMFILE before it looks at the queue), so
    // the next try comes a moment later.
    void accept_failed(int error) {
        const bool answered =
            (error == EMFILE || error == ENFILE) &&
            spare_.turn_away_waiting(acceptor_.native_handle(), error, "asio-server");
        if (!answered) log_line(log_err(), "asio-server: accept: %s", std::strerror(error));
        pause_.expires_after(std::chrono::milliseconds(answered ? 50 : 250));
        pause_.async_wait([this](const asio::error_code& ec) {
            if (!ec && !stopping_) accept();
        });
    }

    asio::io_context& io_;
    server_context& ctx_;
    tcp::acceptor acceptor_;
    asio::steady_timer pause_, sweep_;
    smtpp_examples::spare_descriptor spare_;
    asio::signal_set signals_;
    registry reg_;
    bool stopping_ = false;
};

// --listen as an endpoint; prints why and returns false when it is not a numeric ADDR:PORT.
bool listen_endpoint(const std::string& listen, tcp::endpoint& where) {
    std::string host, port;
    asio::error_code ec;
    std::uint64_t port_number = 0;
    if (smtpp_examples::split_host_port(listen, host, port)) {
        const auto address = asio::ip::make_address(host, ec);
        if (!ec && smtpp_examples::parse_number(port.c_str(), port_number) && port_number < 65536) {
            where = tcp::endpoint(address, static_cast<unsigned short>(port_number));
            return true;
        }
    }
    std::fprintf(stderr, "asio-server: --listen wants a numeric ADDR:PORT, not '%s'\n",
                 listen.c_str());
    return false;
}

} // namespace

int main(int argc, char** argv) {
    auto ctx = std::make_unique<server_context>();
    const int status = smtpp_examples::configure_server(*ctx, argc, argv, "asio-server");
    if (status >= 0) return status;
    tcp::endpoint where;
    if (!listen_endpoint(ctx->options.listen, where)) return 2;
    try { // Asio reports setup errors (address in use, ...) as exceptions
        asio::io_context io(1);
        server srv(io, *ctx, where);
        srv.start();
        smtpp_examples::make_logs_nonblocking();
        smtpp_examples::log_listening(*ctx, "asio-server", srv.bound());
        io.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "asio-server: %s\n", e.what());
        return 1;
    }
    return 0;
}
