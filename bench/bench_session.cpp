// smtpp benchmarks: whole sessions in memory (server_session.hpp, client_session.hpp).
//
//   server_connection/<size>/<feed>    a new server_session per iteration reads one pipelined
//                                      connection: EHLO, MAIL (SIZE, BODY), 3 RCPT (NOTIFY),
//                                      DATA, the dot-stuffed body, QUIT; every decision
//                                      accepted, output consumed; fed whole or in
//                                      1/16/4096-octet pieces with receive_in_place() (read
//                                      where it lies); items = transactions
//   server_connection/<size>/copy_<feed>   the same with receive(), which copies what it takes
//                                      (at most limits::input_buffer unread octets: the rest is
//                                      offered again at the next need_data)
//   server_transaction/<size>/[copy_]<feed>   the same without EHLO/QUIT, on one long-lived
//                                      session (steady state: allocations per transaction,
//                                      target 0)
//   client_server/<size>/whole         a client_session and a server_session wired back to
//                                      back, one connection (greeting and EHLO done
//                                      beforehand), then per iteration one transaction:
//                                      send_mail with 3 recipients (NOTIFY), the body through
//                                      send_body/end_body, every event of both sides handled,
//                                      until the client is ready again; bytes = octets both
//                                      ways, recorded once for the baseline. The server reads
//                                      in place, the client copies (receive())
//   client_server/<size>/copy          the same with the server copying too (receive())
//   .../baseline_memchr                memchr for LF over the same octets
// Bodies: 1 KiB and 64 KiB of plain text.
#include "bench_common.hpp"

#include <smtpp/client_session.hpp>
#include <smtpp/server_session.hpp>

#include <string>
#include <string_view>

namespace smtpp_bench {

namespace {

constexpr std::size_t session_body_sizes[] = {1024, 64 * 1024};

smtpp::server_config bench_server_config() {
    smtpp::server_config c;
    c.hostname = "mx.example.org";
    c.offer.dsn = true;
    c.offer.chunking = true;
    return c;
}

// What a client pipelines in one transaction (RFC 2920): envelope, DATA, then the body.
std::string transaction_bytes(const body& b) {
    return "MAIL FROM:<alice@example.org> SIZE=" + std::to_string(b.text.size()) +
           " BODY=8BITMIME\r\n"
           "RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE\r\n"
           "RCPT TO:<carol@example.com> NOTIFY=FAILURE\r\n"
           "RCPT TO:<dave@lists.example.com> NOTIFY=NEVER\r\n"
           "DATA\r\n" +
           b.wire;
}

struct session_input {
    std::string connection;  // EHLO, one transaction, QUIT
    std::string transaction; // one transaction only
    std::size_t body_octets = 0;
};

const session_input& get_session_input(std::size_t size) {
    static const session_input inputs[] = {
        [] {
            session_input in;
            const body& b = get_body(session_body_sizes[0], body_kind::plain);
            in.transaction = transaction_bytes(b);
            in.connection = "EHLO client.example.org\r\n" + in.transaction + "QUIT\r\n";
            in.body_octets = b.text.size();
            return in;
        }(),
        [] {
            session_input in;
            const body& b = get_body(session_body_sizes[1], body_kind::plain);
            in.transaction = transaction_bytes(b);
            in.connection = "EHLO client.example.org\r\n" + in.transaction + "QUIT\r\n";
            in.body_octets = b.text.size();
            return in;
        }(),
    };
    return size == session_body_sizes[0] ? inputs[0] : inputs[1];
}

struct server_outcome {
    std::size_t messages = 0;
    std::uint64_t body_octets = 0;
    std::size_t output_octets = 0;
    bool closed = false;
    bool good = true;
};

// How a session is given its input: receive_in_place() (the bytes are read where they lie
// until the session asks for more) or receive() (copied, up to limits::input_buffer).
enum class input_mode { in_place, copy };

const char* mode_prefix(input_mode mode) noexcept {
    return mode == input_mode::copy ? "copy_" : "";
}

// Writes (counts and consumes) every unsent octet; pending_output() may hand them out in more
// than one block.
std::size_t drain_output(smtpp::server_session& s) {
    std::size_t n = 0;
    while (s.pending_output_size() != 0) {
        const std::string_view out = s.pending_output();
        n += out.size();
        s.consume_output(out.size());
    }
    return n;
}

// Runs `s` over `input` (fed in pieces, each only when the session asks for data) until the
// input is used up or the session closes. Accepts every decision; consumes all output.
server_outcome run_server(smtpp::server_session& s, std::string_view input, long piece,
                          input_mode mode) {
    using kind = smtpp::server_event_kind;
    server_outcome o;
    const std::size_t step = piece <= 0 ? input.size() : static_cast<std::size_t>(piece);
    std::size_t pos = 0;
    for (;;) {
        const smtpp::server_event ev = s.next_event();
        switch (ev.kind) {
        case kind::need_data: {
            if (pos == input.size()) return o;
            const std::string_view p = input.substr(pos, step);
            if (mode == input_mode::copy) {
                const std::size_t taken = s.receive(p); // all of it unless the buffer is full
                pos += taken;
                if (taken == 0) o.good = false;
            } else {
                pos += p.size();
                if (s.receive_in_place(p) != smtpp::errc::ok) o.good = false;
            }
            break;
        }
        case kind::output_full:
            break;
        case kind::connect:
        case kind::hello:
        case kind::mail:
        case kind::rcpt:
        case kind::data:
        case kind::bdat_chunk:
            if (s.accept() != smtpp::errc::ok) o.good = false;
            break;
        case kind::message_end:
            ++o.messages;
            if (ev.error != smtpp::errc::ok || s.accept() != smtpp::errc::ok) o.good = false;
            break;
        case kind::body_chunk:
            o.body_octets += ev.data.size();
            break;
        case kind::transaction_reset:
            if (ev.error != smtpp::errc::ok) o.good = false;
            break;
        case kind::closed:
            o.closed = ev.error == smtpp::errc::ok;
            o.good = o.good && o.closed;
            o.output_octets += drain_output(s);
            return o;
        default:
            o.good = false;
            break; // errors, TLS, AUTH: not part of this script
        }
        if (!o.good) return o;
        o.output_octets += drain_output(s);
    }
}

void server_connection(benchmark::State& state, std::size_t size, long piece, input_mode mode) {
    const session_input& in = get_session_input(size);
    const smtpp::server_config config = bench_server_config();
    std::size_t expected_output = 0;
    {
        smtpp::server_session s(config);
        const server_outcome o = run_server(s, in.connection, piece, mode);
        if (!o.good || !o.closed || o.messages != 1 || o.body_octets != in.body_octets) {
            state.SkipWithError("server_connection: the session did not run the script");
            return;
        }
        expected_output = o.output_octets;
    }
    const allocation_meter meter;
    for (auto _ : state) {
        smtpp::server_session s(config);
        const server_outcome o = run_server(s, in.connection, piece, mode);
        if (!o.good || !o.closed || o.messages != 1 || o.body_octets != in.body_octets ||
            o.output_octets != expected_output) {
            state.SkipWithError("server_connection: unexpected events or output");
            break;
        }
    }
    meter.report(state, 1);
    set_processed(state, in.connection.size(), 1);
}

void server_transaction(benchmark::State& state, std::size_t size, long piece, input_mode mode) {
    const session_input& in = get_session_input(size);
    const smtpp::server_config config = bench_server_config();
    smtpp::server_session s(config);
    const server_outcome hello = run_server(s, "EHLO client.example.org\r\n", piece, mode);
    const server_outcome warm = run_server(s, in.transaction, piece, mode); // sizes the buffers
    if (!hello.good || !warm.good || warm.messages != 1 || warm.body_octets != in.body_octets) {
        state.SkipWithError("server_transaction: the session did not run the script");
        return;
    }
    const allocation_meter meter;
    for (auto _ : state) {
        const server_outcome o = run_server(s, in.transaction, piece, mode);
        if (!o.good || o.messages != 1 || o.body_octets != in.body_octets ||
            o.output_octets != warm.output_octets) {
            state.SkipWithError("server_transaction: unexpected events or output");
            break;
        }
    }
    meter.report(state, 1);
    set_processed(state, in.transaction.size(), 1);
}

// The server half of the client<->server pair: every decision accepted, fed in memory.
class server_peer {
public:
    explicit server_peer(input_mode mode) : mode_(mode) {
        in_flight_.reserve(256 * 1024);
        queued_.reserve(256 * 1024);
    }

    // Queues `from_client` (copied: in place, the session reads its input where it lies until
    // it asks for more), runs the server until it needs input and appends its output to
    // `to_client`. False on an event the script does not expect.
    bool exchange(std::string_view from_client, std::string& to_client) {
        using kind = smtpp::server_event_kind;
        queued_.append(from_client.data(), from_client.size());
        for (;;) {
            const smtpp::server_event ev = session_.next_event();
            bool good = true;
            bool done = ev.kind == kind::closed;
            switch (ev.kind) {
            case kind::need_data:
                if (queued_.size() == queued_pos_) {
                    done = true; // all the client sent so far is read
                } else {
                    good = feed();
                }
                break;
            case kind::output_full:
                break;
            case kind::connect:
            case kind::hello:
            case kind::mail:
            case kind::rcpt:
            case kind::data:
            case kind::bdat_chunk:
            case kind::message_end:
                good = session_.accept() == smtpp::errc::ok;
                break;
            case kind::body_chunk:
                body_ += ev.data.size();
                break;
            case kind::transaction_reset:
                good = ev.error == smtpp::errc::ok;
                break;
            case kind::closed:
                good = ev.error == smtpp::errc::ok;
                break;
            default:
                good = false;
                break;
            }
            while (session_.pending_output_size() != 0) {
                const std::string_view out = session_.pending_output();
                to_client.append(out.data(), out.size());
                session_.consume_output(out.size());
            }
            if (!good) return false;
            if (done) return true;
        }
    }

    [[nodiscard]] std::uint64_t body_octets() const noexcept { return body_; }

private:
    // At need_data: hands the session what is queued; false when it takes nothing.
    bool feed() {
        if (mode_ == input_mode::copy) {
            const std::size_t taken =
                session_.receive(std::string_view(queued_).substr(queued_pos_));
            queued_pos_ += taken;
            if (queued_pos_ == queued_.size()) {
                queued_.clear();
                queued_pos_ = 0;
            }
            return taken != 0;
        }
        in_flight_.swap(queued_); // the session has used up in_flight_
        queued_.clear();
        return session_.receive_in_place(in_flight_) == smtpp::errc::ok;
    }

    input_mode mode_;
    smtpp::server_session session_{bench_server_config()};
    std::string in_flight_;
    std::string queued_;
    std::size_t queued_pos_ = 0; // copy: octets of queued_ the session has taken
    std::uint64_t body_ = 0;
};

smtpp::client_config bench_client_config() {
    smtpp::client_config c;
    c.helo_name = "client.example.org";
    c.tls = smtpp::tls_mode::never;
    return c;
}

class session_pair {
public:
    explicit session_pair(input_mode server_input)
        : client_(bench_client_config()), server_(server_input) {
        to_client_.reserve(64 * 1024);
    }

    // Runs both sides until neither makes progress; calls on_client(event) for each client
    // event but need_data (false from it stops everything). False on any surprise.
    template <class OnClient>
    bool pump(OnClient&& on_client) {
        for (;;) {
            bool progress = false;
            for (smtpp::client_event ev = client_.next_event();
                 ev.kind != smtpp::client_event_kind::need_data; ev = client_.next_event()) {
                if (!on_client(ev)) return false;
                progress = true;
            }
            const std::string_view c_out = client_.pending_output();
            to_client_.clear();
            if (!server_.exchange(c_out, to_client_)) return false;
            octets_ += c_out.size() + to_client_.size();
            if (record_ != nullptr) {
                record_->append(c_out.data(), c_out.size());
                record_->append(to_client_);
            }
            progress = progress || !c_out.empty() || !to_client_.empty();
            client_.consume_output(c_out.size());
            // The client copies; a few replies never come near limits::input_buffer.
            if (client_.receive(to_client_) != to_client_.size()) return false;
            if (!progress) return true;
        }
    }

    smtpp::client_session& client() noexcept { return client_; }
    [[nodiscard]] std::size_t octets() const noexcept { return octets_; }
    [[nodiscard]] std::uint64_t server_body() const noexcept { return server_.body_octets(); }
    void reset_octets() noexcept { octets_ = 0; }
    void record(std::string* to) noexcept { record_ = to; }

private:
    smtpp::client_session client_;
    server_peer server_;
    std::string to_client_;
    std::size_t octets_ = 0;
    std::string* record_ = nullptr;
};

// A pair past greeting and EHLO, ready for transactions.
bool pair_connect(session_pair& pair) {
    bool ready = false;
    const bool good = pair.pump([&](const smtpp::client_event& ev) {
        if (ev.kind == smtpp::client_event_kind::greeting) return true;
        ready = ready || ev.kind == smtpp::client_event_kind::ready;
        return ev.kind == smtpp::client_event_kind::ready;
    });
    return good && ready && pair.client().is_ready();
}

// One transaction on a ready pair; false when any event differs from the plan.
bool pair_transaction(session_pair& pair, const body& b, std::size_t& results) {
    static constexpr smtpp::recipient rcpts[] = {
        smtpp::recipient("bob@example.net", smtpp::notify_success | smtpp::notify_failure),
        smtpp::recipient("carol@example.com", smtpp::notify_failure),
        smtpp::recipient("dave@lists.example.com", smtpp::notify_never),
    };
    smtpp::envelope env("alice@example.org", rcpts, 3);
    env.size = b.text.size();
    if (pair.client().send_mail(env) != smtpp::errc::ok) return false;
    bool ready = false;
    const bool good = pair.pump([&](const smtpp::client_event& ev) {
        switch (ev.kind) {
        case smtpp::client_event_kind::recipient_result:
            return ev.result == smtpp::outcome::success;
        case smtpp::client_event_kind::send_body:
            return pair.client().send_body(b.text) == smtpp::errc::ok &&
                   pair.client().end_body() == smtpp::errc::ok;
        case smtpp::client_event_kind::message_result:
            ++results;
            return ev.result == smtpp::outcome::success;
        case smtpp::client_event_kind::ready:
            ready = true;
            return true;
        default:
            return false;
        }
    });
    return good && ready;
}

struct pair_wire {
    std::string octets;
    std::size_t lines = 0;
};

// The octets of one steady-state transaction, both ways, recorded once from a pair.
const pair_wire& get_pair_wire(std::size_t size) {
    static const auto record = [](std::size_t body_size) {
        pair_wire w;
        const body& b = get_body(body_size, body_kind::plain);
        session_pair pair(input_mode::in_place);
        std::size_t results = 0;
        if (pair_connect(pair) && pair_transaction(pair, b, results)) {
            pair.record(&w.octets);
            if (!pair_transaction(pair, b, results)) w.octets.clear();
            pair.record(nullptr);
        }
        w.lines = memchr_count_lf(w.octets);
        return w;
    };
    static const pair_wire wires[] = {record(session_body_sizes[0]), record(session_body_sizes[1])};
    return size == session_body_sizes[0] ? wires[0] : wires[1];
}

void client_server(benchmark::State& state, std::size_t size, input_mode server_input) {
    const body& b = get_body(size, body_kind::plain);
    const std::size_t expected_octets = get_pair_wire(size).octets.size();
    session_pair pair(server_input);
    std::size_t results = 0;
    if (expected_octets == 0 || !pair_connect(pair) || !pair_transaction(pair, b, results) ||
        results != 1) {
        state.SkipWithError("client_server: the sessions did not complete a transaction");
        return;
    }
    const allocation_meter meter;
    for (auto _ : state) {
        results = 0;
        pair.reset_octets();
        const std::uint64_t body_before = pair.server_body();
        const bool good = pair_transaction(pair, b, results);
        if (!good || results != 1 || pair.server_body() - body_before != b.text.size() ||
            pair.octets() != expected_octets) {
            state.SkipWithError("client_server: unexpected events or octets");
            break;
        }
    }
    meter.report(state, 1);
    set_processed(state, expected_octets, 1);
}

} // namespace

void register_session_benchmarks() {
    for (const std::size_t size : session_body_sizes) {
        const session_input& in = get_session_input(size);
        const std::string connection = std::string("server_connection/") + size_name(size);
        const std::string transaction = std::string("server_transaction/") + size_name(size);
        for (const input_mode mode : {input_mode::in_place, input_mode::copy}) {
            for (const long piece : piece_sizes) {
                const std::string variant = mode_prefix(mode) + piece_name(piece);
                add(connection + "/" + variant, [size, piece, mode](benchmark::State& state) {
                    server_connection(state, size, piece, mode);
                });
                add(transaction + "/" + variant, [size, piece, mode](benchmark::State& state) {
                    server_transaction(state, size, piece, mode);
                });
            }
        }
        register_memchr_baseline(connection, in.connection, memchr_count_lf(in.connection), 1);
        register_memchr_baseline(transaction, in.transaction, memchr_count_lf(in.transaction), 1);
        const std::string pair = std::string("client_server/") + size_name(size);
        add(pair + "/whole",
            [size](benchmark::State& state) { client_server(state, size, input_mode::in_place); });
        add(pair + "/copy",
            [size](benchmark::State& state) { client_server(state, size, input_mode::copy); });
        const pair_wire& w = get_pair_wire(size);
        register_memchr_baseline(pair, w.octets, w.lines, 1);
    }
}

} // namespace smtpp_bench
