// libuv-server: smtpp-server's protocol handling on a libuv loop. The connection logic
// (common/connection.hpp: session, policy, maildir, STARTTLS through memory BIOs) is the code
// smtpp-server runs under epoll; only the plumbing below is libuv's. Each client has a TCP
// handle that reads only while the session wants input (uv_read_start / uv_read_stop), one
// uv_write at a time pointing straight at the pending output (consumed in its callback), and a
// timer set to the deadline of what the connection waits for, moved whenever a new wait begins.
// The signals that would kill the process stop it cleanly (common/signals.hpp). Same command
// line as smtpp-server (see --help).
#include "common/connection.hpp"
#include "common/net.hpp"
#include "common/server_setup.hpp"
#include "common/signals.hpp"

#include <uv.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

using smtpp_examples::mail_connection;
using smtpp_examples::server_context;
using clock_type = mail_connection::clock;

constexpr const char* prog = "libuv-server";

struct server;

// One client: its socket (accepted before the client existed), its deadline timer and write
// request (libuv keeps pointers to them until they are done, so they never move), and the
// connection.
struct client {
    client(server& s, uv_tcp_t* accepted, std::string peer, std::string address);

    server& srv;
    uv_tcp_t* socket;
    uv_timer_t timer{};
    uv_write_t write_req{};
    mail_connection conn;
    std::size_t writing = 0; // octets of the uv_write in flight (0: none)
    clock_type::time_point armed = clock_type::time_point::max(); // the timer's deadline
    bool reading = false, closing = false;
    int open_handles = 2; // socket and timer: the client goes when both are closed
};

struct server {
    explicit server(server_context& c) : ctx(c) {}

    server_context& ctx;
    uv_loop_t* loop = uv_default_loop();
    uv_tcp_t listener{};
    uv_timer_t sweep{}, stop_timer{};
    std::vector<uv_signal_t> signals;
    std::unordered_set<client*> clients;
    char buffer[16384]; // every read lands here: the session copies what it keeps
};

client::client(server& s, uv_tcp_t* accepted, std::string peer, std::string address)
    : srv(s), socket(accepted), conn(s.ctx, std::move(peer), std::move(address)) {
    socket->data = timer.data = write_req.data = this;
    uv_timer_init(srv.loop, &timer);
    srv.clients.insert(this);
}

client& owner(void* handle_data) { return *static_cast<client*>(handle_data); }

uv_handle_t* handle(void* h) { return static_cast<uv_handle_t*>(h); }
uv_stream_t* stream(uv_tcp_t* h) { return reinterpret_cast<uv_stream_t*>(h); }

void on_closed(uv_handle_t* h) {
    client& c = owner(h->data);
    if (h == handle(c.socket)) delete c.socket;
    if (--c.open_handles != 0) return;
    c.srv.clients.erase(&c);
    delete &c; // an unfinished message's temporary file goes with the connection
}

// Closes both handles; a uv_write still in flight is called back with UV_ECANCELED first.
void close(client& c) {
    if (c.closing) return;
    c.closing = true;
    uv_close(handle(c.socket), on_closed);
    uv_close(handle(&c.timer), on_closed);
}

void kick(client& c);

// [readme-libuv]
void on_alloc(uv_handle_t* h, std::size_t, uv_buf_t* buf) {
    server& srv = owner(h->data).srv;
    *buf = uv_buf_init(srv.buffer, sizeof srv.buffer); // one buffer: input() copies
}

void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
    client& c = owner(s->data);
    if (n > 0)
        c.conn.input(std::string_view(buf->base, static_cast<std::size_t>(n)));
    else if (n == UV_EOF)
        c.conn.input_eof();
    else if (n < 0)
        return close(c);
    kick(c);
}

void on_written(uv_write_t* req, int status) {
    client& c = owner(req->data);
    const std::size_t n = c.writing;
    c.writing = 0;
    if (c.closing) return;
    if (status < 0) return close(c);
    c.conn.consumed(n); // the bytes stayed put until now
    kick(c);
}

void on_deadline(uv_timer_t* timer) {
    client& c = owner(timer->data);
    c.armed = clock_type::time_point::max();
    if (clock_type::now() >= c.conn.deadline() && c.conn.expire()) return close(c);
    kick(c); // the 421, on its way
}

// After anything happened to a client: write what is pending, read only while the session
// wants input, keep the timer on the deadline of the current wait.
void kick(client& c) {
    if (c.closing) return;
    if (c.conn.finished()) return close(c);
    if (c.writing == 0 && c.conn.output_pending()) {
        const std::string_view out = c.conn.output(); // valid and unchanged until consumed()
        const uv_buf_t buf =
            uv_buf_init(const_cast<char*>(out.data()), static_cast<unsigned>(out.size()));
        if (uv_write(&c.write_req, stream(c.socket), &buf, 1, on_written) != 0) return close(c);
        c.writing = out.size();
    }
    const bool want = c.conn.wants_input();
    if (want && !c.reading) uv_read_start(stream(c.socket), on_alloc, on_read);
    if (!want && c.reading) uv_read_stop(stream(c.socket));
    c.reading = want;
    const clock_type::time_point deadline = c.conn.deadline(); // moves when a new wait begins
    if (deadline != c.armed) {
        c.armed = deadline;
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - clock_type::now());
        uv_timer_start(
            &c.timer, on_deadline,
            static_cast<std::uint64_t>(std::max<decltype(left.count())>(0, left.count())), 0);
    }
}
// [/readme-libuv]

void on_connection(uv_stream_t* listener, int status) {
    server& srv = *static_cast<server*>(listener->data);
    if (status < 0) { // out of descriptors: libuv turns the waiting client away itself
        smtpp_examples::log_line(smtpp_examples::log_err(), "%s: accept: %s", prog,
                                 uv_strerror(status));
        return;
    }
    auto* socket = new uv_tcp_t;
    uv_tcp_init(srv.loop, socket);
    sockaddr_storage ss{};
    int len = sizeof ss;
    const char* refusal = "";
    std::string host = "?";
    if (uv_accept(listener, stream(socket)) == 0 &&
        uv_tcp_getpeername(socket, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
        host = smtpp_examples::host_text(reinterpret_cast<const sockaddr*>(&ss));
        refusal = srv.ctx.refusal(host);
    }
    if (refusal) {
        const uv_buf_t buf =
            uv_buf_init(const_cast<char*>(refusal), static_cast<unsigned>(std::strlen(refusal)));
        uv_try_write(stream(socket), &buf, 1);
        uv_close(handle(socket), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
        return;
    }
    uv_tcp_nodelay(socket, 1); // as smtpp-server: no Nagle
    kick(*new client(srv, socket,
                     smtpp_examples::address_text(reinterpret_cast<const sockaddr*>(&ss)), host));
}

// Stress mode and the memory budget, four times a second. A change of stress mode moves every
// deadline, so every timer is set again. Allocates nothing unless it has to close someone: a
// block freed now and kept for reuse could sit at the top of the heap and keep a burst's freed
// buffers from going back to the system.
void on_sweep(uv_timer_t* timer) {
    server& srv = *static_cast<server*>(timer->data);
    const bool stress = srv.ctx.stress;
    srv.ctx.update_stress(prog);
    std::size_t held = 0;
    for (client* c : srv.clients) {
        held += c->conn.memory_bytes();
        if (stress == srv.ctx.stress) continue;
        c->armed = clock_type::time_point::max();
        kick(*c);
    }
    if (held <= srv.ctx.options.memory_budget << 20) return;
    std::vector<client*> all;
    std::vector<const mail_connection*> conns;
    for (client* c : srv.clients) {
        all.push_back(c);
        conns.push_back(&c->conn);
    }
    const auto now = clock_type::now();
    for (const std::size_t i : smtpp_examples::shed_over_budget(srv.ctx, conns, now))
        close(*all[i]);
}

// The 421s did not all get out within 2 seconds: close who is left.
void on_stop_timeout(uv_timer_t* timer) {
    server& srv = *static_cast<server*>(timer->data);
    const std::vector<client*> left(srv.clients.begin(), srv.clients.end());
    for (client* c : left) close(*c);
    uv_close(handle(timer), nullptr);
}

// 421 to every client; uv_run() returns once every handle is closed.
void on_signal(uv_signal_t* signal, int sig) {
    server& srv = *static_cast<server*>(signal->data);
    smtpp_examples::log_stopping(srv.ctx, prog, sig);
    uv_close(handle(&srv.listener), nullptr);
    uv_close(handle(&srv.sweep), nullptr);
    for (uv_signal_t& s : srv.signals) uv_close(handle(&s), nullptr);
    for (client* c : srv.clients) {
        c->conn.shutdown();
        kick(*c);
    }
    uv_timer_init(srv.loop, &srv.stop_timer);
    srv.stop_timer.data = &srv;
    uv_timer_start(&srv.stop_timer, on_stop_timeout, 2000, 0);
    uv_unref(handle(&srv.stop_timer)); // not a reason to keep running once the clients are gone
}

bool start(server& srv) {
    std::string bound;
    const int fd = smtpp_examples::listen_on(srv.ctx.options.listen, bound, prog);
    if (fd < 0) return false;
    uv_tcp_init(srv.loop, &srv.listener);
    srv.listener.data = &srv;
    uv_tcp_open(&srv.listener, fd);
    if (const int e = uv_listen(stream(&srv.listener), SOMAXCONN, on_connection); e != 0) {
        std::fprintf(stderr, "%s: listen: %s\n", prog, uv_strerror(e));
        return false;
    }
    uv_timer_init(srv.loop, &srv.sweep);
    srv.sweep.data = &srv;
    uv_timer_start(&srv.sweep, on_sweep, 250, 250);
    const std::vector<int> stop = smtpp_examples::stop_signals();
    srv.signals.resize(stop.size());
    for (std::size_t i = 0; i < stop.size(); ++i) {
        uv_signal_init(srv.loop, &srv.signals[i]);
        srv.signals[i].data = &srv;
        uv_signal_start(&srv.signals[i], on_signal, stop[i]);
    }
    smtpp_examples::make_logs_nonblocking();
    smtpp_examples::log_listening(srv.ctx, prog, bound);
    return true;
}

} // namespace

int main(int argc, char** argv) {
    auto ctx = std::make_unique<server_context>();
    const int status = smtpp_examples::configure_server(*ctx, argc, argv, prog);
    if (status >= 0) return status;
    auto srv = std::make_unique<server>(*ctx);
    if (!start(*srv)) return 1;
    uv_run(srv->loop, UV_RUN_DEFAULT); // until every client is gone after a stop signal
    if (!uv_is_closing(handle(&srv->stop_timer))) uv_close(handle(&srv->stop_timer), nullptr);
    uv_run(srv->loop, UV_RUN_DEFAULT);
    uv_loop_close(srv->loop);
    return 0;
}
