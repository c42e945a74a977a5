// coro-server: smtpp-server's protocol handling in C++20 coroutines on standalone Asio. The
// connection logic (common/connection.hpp: session, policy, maildir, STARTTLS through memory
// BIOs) is the code smtpp-server runs under epoll; each client is one coroutine that reads
// like blocking code: send what is pending, else wait for input and read it, each step raced
// against the deadline of what the connection waits for. Reads wait until the socket is
// readable and then read into one buffer all clients share (the session copies what it keeps);
// writes point straight at the pending output, which stays put until consumed(). The signals
// that would kill the process stop it cleanly (common/signals.hpp). Same command line as
// smtpp-server (see --help).
#include "common/connection.hpp"
#include "common/coro.hpp"
#include "common/net.hpp"
#include "common/server_setup.hpp"
#include "common/signals.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

using asio::ip::tcp;
using smtpp_examples::mail_connection;
using smtpp_examples::server_context;
using clock_type = mail_connection::clock;
using smtpp_examples::before;
using smtpp_examples::deferred;
using namespace std::chrono_literals;

constexpr const char* prog = "coro-server";
struct client;

struct registry {
    std::unordered_set<client*> live;
    std::array<char, 16384> buffer; // one thread, one read at a time: every client reads here
    bool stopping = false;
};

// What the server can do to a client from outside its coroutine: wake it (its deadline timer,
// when stopping or when stress mode moves the deadlines) or cut it off (close its socket).
struct client {
    client(registry& r, mail_connection& c, tcp::socket& s, asio::steady_timer& d)
        : reg(r), conn(c), socket(s), deadline(d) {
        reg.live.insert(this);
    }
    ~client() { reg.live.erase(this); }
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    registry& reg;
    mail_connection& conn;
    tcp::socket& socket;
    asio::steady_timer& deadline;
};

// [readme-coro]
asio::awaitable<void> serve(mail_connection& conn, tcp::socket& socket,
                            asio::steady_timer& deadline, registry& reg) {
    while (!conn.finished()) {
        deadline.expires_at(conn.deadline()); // the deadline of what the connection waits for
        if (conn.output_pending()) {
            const std::string_view out = conn.output(); // valid until consumed()
            auto [order, ec, n, timer] =
                co_await before(deadline, asio::async_write(socket, asio::buffer(out), deferred));
            conn.consumed(n);
            if (ec && ec != asio::error::operation_aborted) co_return;
        } else if (conn.wants_input()) {
            auto [order, ec, timer] =
                co_await before(deadline, socket.async_wait(tcp::socket::wait_read, deferred));
            if (!ec) {
                const std::size_t n = socket.read_some(asio::buffer(reg.buffer), ec);
                if (n > 0) conn.input(std::string_view(reg.buffer.data(), n)); // copied
                if (ec == asio::error::eof) conn.input_eof();
            }
            if (ec && ec != asio::error::operation_aborted && ec != asio::error::eof &&
                ec != asio::error::would_block)
                co_return;
        } else {
            co_return; // waits for nothing: never happens
        }
        if (clock_type::now() >= conn.deadline() && conn.expire()) co_return; // 421 sent
    }
}
// [/readme-coro]

// One client from accept to close.
asio::awaitable<void> run_client(tcp::socket socket, server_context& ctx, registry& reg,
                                 std::string peer, std::string address) {
    mail_connection conn(ctx, std::move(peer), std::move(address));
    asio::steady_timer deadline(socket.get_executor());
    const client self(reg, conn, socket, deadline);
    co_await serve(conn, socket, deadline, reg);
    asio::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
} // an unfinished message's temporary file goes with the connection

void admit(tcp::socket socket, server_context& ctx, registry& reg) {
    asio::error_code ec;
    socket.non_blocking(true, ec);
    const tcp::endpoint peer = socket.remote_endpoint(ec);
    const std::string host = ec ? "?" : smtpp_examples::host_text(peer.data());
    if (const char* refusal = ctx.refusal(host)) {
        socket.write_some(asio::buffer(refusal, std::strlen(refusal)), ec);
        return;
    }
    socket.set_option(tcp::no_delay(true), ec); // as smtpp-server: no Nagle
    const std::string name = host == "?" ? host : smtpp_examples::address_text(peer.data());
    const auto executor = socket.get_executor();
    asio::co_spawn(executor, run_client(std::move(socket), ctx, reg, name, host), asio::detached);
}

asio::awaitable<void> accept_clients(tcp::acceptor& acceptor, server_context& ctx, registry& reg) {
    smtpp_examples::spare_descriptor spare;
    asio::steady_timer pause(acceptor.get_executor());
    while (!reg.stopping) {
        asio::error_code ec;
        tcp::socket socket =
            co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::operation_aborted || reg.stopping) co_return;
        if (!ec) {
            admit(std::move(socket), ctx, reg);
            continue;
        }
        // Out of descriptors: the spare one answers the waiting clients 421. Accepting again at
        // once would fail the same way, so the next try comes a moment later.
        const int error = ec.value();
        const bool answered = (error == EMFILE || error == ENFILE) &&
                              spare.turn_away_waiting(acceptor.native_handle(), error, prog);
        if (!answered)
            smtpp_examples::log_line(smtpp_examples::log_err(), "%s: accept: %s", prog,
                                     ec.message().c_str());
        pause.expires_after(answered ? 50ms : 250ms);
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

// Four times a second: stress mode (a change moves every deadline: each client is woken to
// set its timer again) and the memory budget. Allocates nothing unless it has to close
// someone: a block freed now and kept for reuse could sit at the top of the heap and keep a
// burst's freed buffers from going back to the system.
asio::awaitable<void> sweep(server_context& ctx, registry& reg) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (!reg.stopping) {
        asio::error_code ec;
        timer.expires_after(250ms);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        const bool stress = ctx.stress;
        ctx.update_stress(prog);
        std::size_t held = 0;
        for (client* c : reg.live) {
            held += c->conn.memory_bytes();
            if (stress != ctx.stress) c->deadline.cancel();
        }
        if (held <= ctx.options.memory_budget << 20) continue;
        const std::vector<client*> all(reg.live.begin(), reg.live.end());
        std::vector<const mail_connection*> conns;
        for (client* c : all) conns.push_back(&c->conn);
        for (const std::size_t i : smtpp_examples::shed_over_budget(ctx, conns, clock_type::now()))
            all[i]->socket.close(ec);
    }
}

// The first stop signal: 421 to every client, then 2 seconds for them to take it.
asio::awaitable<void> stop_on_signal(asio::signal_set& signals, tcp::acceptor& acceptor,
                                     server_context& ctx, registry& reg) {
    asio::error_code ec;
    const int sig = co_await signals.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    smtpp_examples::log_stopping(ctx, prog, sig);
    reg.stopping = true;
    acceptor.close(ec);
    for (client* c : reg.live) {
        c->conn.shutdown();
        c->deadline.cancel(); // wakes it: it sends the 421 and ends
    }
    asio::steady_timer wait(acceptor.get_executor());
    for (int round = 0; round < 40 && !reg.live.empty(); ++round) {
        wait.expires_after(50ms);
        co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    for (client* c : reg.live) c->socket.close(ec);
}

} // namespace

int main(int argc, char** argv) {
    auto ctx = std::make_unique<server_context>();
    const int status = smtpp_examples::configure_server(*ctx, argc, argv, prog);
    if (status >= 0) return status;
    std::string bound;
    const int fd = smtpp_examples::listen_on(ctx->options.listen, bound, prog);
    if (fd < 0) return 1;
    asio::io_context io(1);
    tcp::acceptor acceptor(io);
    asio::error_code ec;
    acceptor.assign(bound[0] == '[' ? tcp::v6() : tcp::v4(), fd, ec);
    asio::signal_set signals(io);
    for (const int sig : smtpp_examples::stop_signals()) signals.add(sig, ec);
    auto reg = std::make_unique<registry>();
    asio::co_spawn(io, accept_clients(acceptor, *ctx, *reg), asio::detached);
    asio::co_spawn(io, sweep(*ctx, *reg), asio::detached);
    asio::co_spawn(io, stop_on_signal(signals, acceptor, *ctx, *reg), asio::detached);
    smtpp_examples::make_logs_nonblocking();
    smtpp_examples::log_listening(*ctx, prog, bound);
    io.run(); // until the stop signal's coroutine, and every client's, have ended
    return 0;
}
