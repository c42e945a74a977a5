// smtpp benchmarks: what one session costs in memory. Prints sizeof(server_session) and
// sizeof(client_session), then the heap each holds at every stage of a connection: built,
// greeted, after EHLO, after a transaction with a 1 KiB and with a 64 KiB body, after
// release_idle_memory() (server), with the allocations made so far and the peak. The input
// arrives in 4096-octet reads, read in place (receive_in_place) or copied (receive).
//
//   smtpp_footprint
//
// A counting allocator measures the heap (octets asked for, not what malloc rounds them up
// to). The program also builds against the 0.1 API (selected when <smtpp/ehlo_writer.hpp> is
// missing), so that one source measures both sides of a comparison:
//   c++ -std=c++17 -O2 -I<smtpp 0.1>/include bench/footprint.cpp -o footprint-0.1
#if __has_include(<smtpp/ehlo_writer.hpp>)
#define SMTPP_FOOTPRINT_API_1 1
#else
#define SMTPP_FOOTPRINT_API_1 0
#endif

#include <smtpp/client_session.hpp>
#include <smtpp/server_session.hpp>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>

// ---- counting allocator ----------------------------------------------------------------

namespace {

struct heap_counter {
    std::size_t live = 0;   // octets allocated and not freed
    std::size_t peak = 0;   // most `live` since reset_peak()
    std::size_t allocs = 0; // allocations since the program started
};
heap_counter heap;

constexpr std::size_t header = alignof(std::max_align_t); // keeps the size in front

void* counted_allocate(std::size_t n) noexcept {
    void* block = std::malloc(n + header);
    if (block == nullptr) return nullptr;
    *static_cast<std::size_t*>(block) = n;
    heap.live += n;
    if (heap.live > heap.peak) heap.peak = heap.live;
    ++heap.allocs;
    return static_cast<char*>(block) + header;
}

void* counted_allocate_or_abort(std::size_t n) noexcept {
    if (void* p = counted_allocate(n == 0 ? 1 : n)) return p;
    std::abort();
}

void counted_free(void* p) noexcept {
    if (p == nullptr) return;
    char* const block = static_cast<char*>(p) - header;
    heap.live -= *reinterpret_cast<std::size_t*>(block);
    std::free(block);
}

} // namespace

void* operator new(std::size_t n) { return counted_allocate_or_abort(n); }
void* operator new[](std::size_t n) { return counted_allocate_or_abort(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    return counted_allocate(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    return counted_allocate(n == 0 ? 1 : n);
}
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }

namespace {

// ---- inputs ----------------------------------------------------------------------------

constexpr std::size_t read_size = 4096;

// `size` octets of ~72-octet CRLF lines of plain text (no line starts with a dot).
std::string make_text(std::size_t size) {
    std::string text;
    while (text.size() < size) {
        text += "The quick brown fox jumps over the lazy dog, and the queue moves on ...";
        text += "\r\n";
    }
    return text;
}

std::string transaction_bytes(const std::string& text) {
    return "MAIL FROM:<alice@example.org> SIZE=" + std::to_string(text.size()) +
           "\r\n"
           "RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE\r\n"
           "RCPT TO:<carol@example.com> NOTIFY=FAILURE\r\n"
           "RCPT TO:<dave@lists.example.com> NOTIFY=NEVER\r\n"
           "DATA\r\n" +
           text + ".\r\n";
}

struct stage_report {
    const char* name;
    std::size_t base_allocs;
    std::size_t base_live;
};

void print_stage(const char* who, const char* mode, const char* stage, const stage_report& r,
                 std::size_t own_heap_bytes) {
    std::printf("%-6s %-8s %-22s heap %7zu B  allocations %3zu  peak %7zu B", who, mode, stage,
                heap.live - r.base_live, heap.allocs - r.base_allocs, heap.peak - r.base_live);
    if (own_heap_bytes != static_cast<std::size_t>(-1))
        std::printf("  heap_bytes() %7zu", own_heap_bytes);
    std::printf("\n");
}

// ---- server ----------------------------------------------------------------------------

smtpp::server_config server_config() {
    smtpp::server_config c;
    c.hostname = "mx.example.org";
#if SMTPP_FOOTPRINT_API_1
    c.offer.dsn = true;
#else
    c.dsn = true;
#endif
    return c;
}

void drain(smtpp::server_session& s) {
#if SMTPP_FOOTPRINT_API_1
    while (s.pending_output_size() != 0) s.consume_output(s.pending_output().size());
#else
    s.consume_output(s.pending_output().size());
#endif
}

// Feeds `input` in reads of read_size octets, accepting every decision, until it is used up.
// False on anything unexpected.
bool run_server(smtpp::server_session& s, const std::string& input, bool copy) {
    using kind = smtpp::server_event_kind;
    std::size_t pos = 0;
    for (;;) {
        const smtpp::server_event ev = s.next_event();
        bool good = true;
        switch (ev.kind) {
        case kind::need_data: {
            if (pos == input.size()) return true;
            const std::string_view piece = std::string_view(input).substr(pos, read_size);
#if SMTPP_FOOTPRINT_API_1
            if (copy) {
                const std::size_t taken = s.receive(piece);
                pos += taken;
                good = taken != 0;
                break;
            }
            good = s.receive_in_place(piece) == smtpp::errc::ok;
#else
            (void)copy;
            good = s.receive(piece) == smtpp::errc::ok;
#endif
            pos += piece.size();
            break;
        }
        case kind::connect:
        case kind::hello:
        case kind::mail:
        case kind::rcpt:
        case kind::data:
        case kind::message_end:
            good = s.accept() == smtpp::errc::ok;
            break;
        case kind::body_chunk:
        case kind::transaction_reset:
            break;
        default:
            good = false;
            break;
        }
        drain(s);
        if (!good) return false;
    }
}

bool measure_server(bool copy) {
    const char* const mode = copy ? "copy" : "in-place";
    const smtpp::server_config config = server_config();
    const std::string small = transaction_bytes(make_text(1024));
    const std::string large = transaction_bytes(make_text(64 * 1024));
    const stage_report base{"", heap.allocs, heap.live};
    heap.peak = heap.live;
    smtpp::server_session s(config);
    print_stage("server", mode, "built", base, s.heap_bytes());
    bool good = run_server(s, std::string(), copy);
    print_stage("server", mode, "greeted", base, s.heap_bytes());
    good = good && run_server(s, "EHLO client.example.org\r\n", copy);
    print_stage("server", mode, "after EHLO", base, s.heap_bytes());
    good = good && run_server(s, small, copy);
    print_stage("server", mode, "after 1 KiB message", base, s.heap_bytes());
    good = good && run_server(s, large, copy);
    print_stage("server", mode, "after 64 KiB message", base, s.heap_bytes());
    s.release_idle_memory();
    print_stage("server", mode, "release_idle_memory()", base, s.heap_bytes());
    return good;
}

// ---- client ----------------------------------------------------------------------------

// The server's side, canned: what it answers to the greeting, EHLO and one transaction.
constexpr std::string_view greeting = "220 mx.example.org ESMTP\r\n";
constexpr std::string_view ehlo_reply =
    "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n"
    "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-DSN\r\n250 HELP\r\n";
constexpr std::string_view envelope_replies = "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n"
                                              "250 2.1.5 Recipient OK\r\n250 2.1.5 Recipient OK\r\n"
                                              "354 End data with <CR><LF>.<CR><LF>\r\n";
constexpr std::string_view message_reply = "250 2.0.0 Message accepted\r\n";

smtpp::client_config client_config() {
    smtpp::client_config c;
    c.helo_name = "client.example.org";
    c.tls = smtpp::tls_mode::never;
    return c;
}

void give(smtpp::client_session& c, std::string_view bytes, bool& good) {
    c.consume_output(c.pending_output().size());
#if SMTPP_FOOTPRINT_API_1
    while (c.pending_output_size() != 0) c.consume_output(c.pending_output().size());
    good = good && c.receive(bytes) == bytes.size();
#else
    c.receive(bytes);
    (void)good;
#endif
}

// Handles events until need_data; counts the ones of interest.
struct client_tally {
    std::size_t ready = 0, send_body = 0, accepted = 0, delivered = 0;
};

bool pump(smtpp::client_session& c, client_tally& t, std::string_view body) {
    using kind = smtpp::client_event_kind;
    for (smtpp::client_event ev = c.next_event(); ev.kind != kind::need_data; ev = c.next_event()) {
        switch (ev.kind) {
        case kind::greeting:
            break;
        case kind::ready:
            ++t.ready;
            break;
        case kind::recipient_result:
            t.accepted += ev.result == smtpp::outcome::success ? 1u : 0u;
            break;
        case kind::send_body:
            ++t.send_body;
            if (c.send_body(body) != smtpp::errc::ok || c.end_body() != smtpp::errc::ok)
                return false;
            break;
        case kind::message_result:
            t.delivered += ev.result == smtpp::outcome::success ? 1u : 0u;
            break;
        default:
            return false;
        }
    }
    return true;
}

bool client_transaction(smtpp::client_session& c, const std::string& text) {
    static constexpr smtpp::recipient rcpts[] = {
        smtpp::recipient("bob@example.net", smtpp::notify_success | smtpp::notify_failure),
        smtpp::recipient("carol@example.com", smtpp::notify_failure),
        smtpp::recipient("dave@lists.example.com", smtpp::notify_never),
    };
    smtpp::envelope env("alice@example.org", rcpts, 3);
    env.size = text.size();
    if (c.send_mail(env) != smtpp::errc::ok) return false;
    client_tally t;
    bool good = pump(c, t, text);
    give(c, envelope_replies, good);
    good = good && pump(c, t, text);
    give(c, message_reply, good);
    good = good && pump(c, t, text);
    return good && t.accepted == 3 && t.send_body == 1 && t.delivered == 1 && t.ready == 1;
}

bool measure_client() {
    const smtpp::client_config config = client_config();
    const std::string small = make_text(1024);
    const std::string large = make_text(64 * 1024);
    const stage_report base{"", heap.allocs, heap.live};
    heap.peak = heap.live;
    constexpr std::size_t none = static_cast<std::size_t>(-1);
    smtpp::client_session c(config);
    print_stage("client", "copy", "built", base, none);
    bool good = true;
    client_tally t;
    give(c, greeting, good);
    good = good && pump(c, t, {});
    give(c, ehlo_reply, good);
    good = good && pump(c, t, {}) && t.ready == 1;
    print_stage("client", "copy", "ready (after EHLO)", base, none);
    good = good && client_transaction(c, small);
    print_stage("client", "copy", "after 1 KiB message", base, none);
    good = good && client_transaction(c, large);
    print_stage("client", "copy", "after 64 KiB message", base, none);
    return good;
}

} // namespace

int main() {
    std::printf("smtpp %s API\n", SMTPP_FOOTPRINT_API_1 ? "1.0" : "0.1");
    std::printf("sizeof(server_session) %zu B, sizeof(server_config) %zu B\n",
                sizeof(smtpp::server_session), sizeof(smtpp::server_config));
    std::printf("sizeof(client_session) %zu B, sizeof(client_config) %zu B\n",
                sizeof(smtpp::client_session), sizeof(smtpp::client_config));
    bool good = measure_server(false);
#if SMTPP_FOOTPRINT_API_1
    good = measure_server(true) && good;
#endif
    good = measure_client() && good;
    if (!good) std::printf("FAILED: a session did not run its script\n");
    return good ? 0 : 1;
}
