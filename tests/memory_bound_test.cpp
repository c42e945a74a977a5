// A peer cannot grow a session's memory past its configured limits: endless command lines,
// endless multi-line replies, pipelined commands from a peer that never reads, and an endless
// BDAT chunk. Each test measures the process heap in use (ASan's allocator statistics under
// ASan, glibc's mallinfo2 otherwise), the session's own heap_bytes() where it has one, and
// allocation counts (allocation_counter.hpp), and asserts a number for each.
// Sources: RFC 5321 4.5.3.1 (size limits), RFC 2920 3.2 (pipelining), RFC 3030 2 (BDAT).
#include <smtpp/client_session.hpp>
#include <smtpp/server_session.hpp>

#include "allocation_counter.hpp"
#include "session_helpers.hpp"
#include "smtpp_catch.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SMTPP_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(SMTPP_TEST_ASAN)
#define SMTPP_TEST_ASAN 1
#endif

#if defined(SMTPP_TEST_ASAN)
// From <sanitizer/allocator_interface.h>, which not every compiler installs.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define SMTPP_TEST_MALLINFO2 1
#endif

using smtpp::errc;
using kind = smtpp::server_event_kind;

namespace {

constexpr std::size_t piece_size = 4096;
constexpr std::size_t ten_megabytes = 10u * 1024u * 1024u;

// Heap octets the process has in use, or 0 when the platform cannot tell.
std::size_t heap_in_use() {
#if defined(SMTPP_TEST_ASAN)
    return __sanitizer_get_current_allocated_bytes();
#elif defined(SMTPP_TEST_MALLINFO2)
    return mallinfo2().uordblks;
#else
    return 0;
#endif
}

// What the allocator may count on top of live blocks: glibc's mallinfo2 reports blocks parked
// in its per-thread caches after free() as in use; ASan's statistics count live blocks only.
#if defined(SMTPP_TEST_ASAN)
constexpr std::size_t allocator_slack = 0;
#else
constexpr std::size_t allocator_slack = 1024;
#endif

// The largest growth of the heap over a baseline, sampled by the caller.
class heap_peak {
public:
    heap_peak() : base_(heap_in_use()) {}
    void sample() {
        const std::size_t now = heap_in_use();
        if (now > base_ && now - base_ > peak_) peak_ = now - base_;
    }
    [[nodiscard]] std::size_t growth() const { return peak_; }

private:
    std::size_t base_;
    std::size_t peak_ = 0;
};

// Answers decisions, never writes output unless told to; counts what it sees.
struct server_pump {
    smtpp::server_session& s;
    std::size_t body_octets = 0;
    std::size_t protocol_errors = 0;
    bool consume = true;

    // Runs events until need_data (or output_full when output is not consumed).
    kind run() {
        for (;;) {
            const smtpp::server_event ev = s.next_event();
            switch (ev.kind) {
            case kind::need_data:
            case kind::closed:
            case kind::tls_handshake:
                drain();
                return ev.kind;
            case kind::output_full:
                if (!consume) return ev.kind;
                drain();
                continue;
            case kind::body_chunk:
                body_octets += ev.data.size();
                continue;
            case kind::protocol_error:
                ++protocol_errors;
                continue;
            default:
                break;
            }
            if (smtpp::is_decision(ev.kind)) (void)s.accept();
            drain();
        }
    }
    void drain() {
        if (consume) s.consume_output(s.pending_output().size());
    }
};

smtpp::server_config server_config() {
    smtpp::server_config c;
    c.hostname = "mx.example";
    c.offer.chunking = true;
    return c;
}

enum class input_mode { in_place, copied };

// Hands `piece` over whole, read in place or copied; false when the session did not take all
// of it.
bool hand_over(smtpp::server_session& s, std::string_view piece, input_mode mode) {
    if (mode == input_mode::in_place) return s.receive_in_place(piece) == errc::ok;
    return s.receive(piece) == piece.size();
}

// Feeds ten megabytes, `piece` at a time, sampling memory after each; returns how many
// pieces receive() refused. No assertion inside: Catch itself may allocate while reporting.
template <class Sample>
std::size_t feed_ten_megabytes(smtpp::server_session& s, server_pump& pump, std::string_view piece,
                               input_mode mode, Sample sample) {
    std::size_t refused = 0;
    for (std::size_t fed = 0; fed < ten_megabytes; fed += piece.size()) {
        if (!hand_over(s, piece, mode)) ++refused;
        pump.run();
        sample();
    }
    return refused;
}

} // namespace

TEST_CASE("S-5321-4.5.3.1.4: 10 MB of one command line without CRLF keeps the server under "
          "the line limit",
          "[memory][server]") {
    const smtpp::server_config config = server_config();
    // The longest line the session frames: MAIL/RCPT with SIZE (RFC 1870 3).
    const std::size_t line_limit = config.limit.command_line + smtpp::line_extra::size;
    for (const input_mode mode : {input_mode::in_place, input_mode::copied}) {
        for (const std::size_t size : {piece_size, std::size_t{100}, std::size_t{1}}) {
            INFO((mode == input_mode::in_place ? "in place" : "copied")
                 << ", pieces of " << size << " octets");
            smtpp::server_session s(config);
            server_pump pump{s};
            pump.run();
            smtpp_test::give(s, "EHLO c.example\r\n");
            pump.run();
            const std::string piece(size, 'A');
            heap_peak heap;
            const std::size_t session_base = s.heap_bytes(); // buffers kept from EHLO
            std::size_t session_peak = 0;
            const std::size_t total = size == 1 ? 1024u * 1024u : ten_megabytes; // 1 MB bytewise
            for (std::size_t fed = 0; fed < total; fed += size) {
                REQUIRE(hand_over(s, piece, mode));
                REQUIRE(pump.run() == kind::need_data);
                heap.sample();
                session_peak = std::max(session_peak, s.heap_bytes());
            }
            // One 500 for the whole line, once it ends; the session carries on.
            smtpp_test::give(s, "\r\nNOOP\r\n");
            pump.run();
            CHECK(pump.protocol_errors == 1);
            // In place, the tail of an unfinished line is the only copy: below the line
            // limit, in a string whose capacity may round up to twice that. Copied, the input
            // block holds one piece besides.
            const std::size_t held = mode == input_mode::copied ? size : 0;
            CHECK(session_peak - session_base <= held + 2 * line_limit);
            // Measured under ASan, in place: 0, 801 and 961 octets for the three piece sizes.
            CHECK(heap.growth() <= held + 2 * line_limit + allocator_slack);
        }
    }
}

TEST_CASE("S-5321-4.5.3.1.5: an endless multi-line reply keeps the client under "
          "reply_line * reply_lines",
          "[memory][client]") {
    smtpp::client_config config;
    config.helo_name = "client.example";
    config.tls = smtpp::tls_mode::never;
    const std::size_t bound = config.limit.reply_line * config.limit.reply_lines;
    for (const std::size_t text : {std::size_t{1}, std::size_t{400}}) {
        INFO("line text of " << text << " octets");
        smtpp::client_session c(config);
        smtpp_test::give(c, "220 mx.example\r\n");
        while (c.next_event().kind != smtpp::client_event_kind::need_data) {}
        const std::string line = "250-" + std::string(text, 'x') + "\r\n";
        std::string piece;
        while (piece.size() < piece_size) piece += line;
        heap_peak heap;
        smtpp::client_event last;
        std::size_t fed = 0;
        for (; fed < ten_megabytes && !c.is_closed(); fed += piece.size()) {
            smtpp_test::give(c, piece);
            for (smtpp::client_event e = c.next_event();
                 e.kind != smtpp::client_event_kind::need_data; e = c.next_event()) {
                last = e;
                if (e.kind == smtpp::client_event_kind::closed) break;
            }
            heap.sample();
        }
        CHECK(c.is_closed());
        CHECK(last.kind == smtpp::client_event_kind::closed);
        CHECK(last.error == errc::too_many_reply_lines);
        CHECK(fed <= bound + 2 * piece.size()); // it stopped reading at the reply_lines limit
        CHECK(heap.growth() <= bound + 4 * piece.size());
        // Once closed, more input is ignored and nothing grows.
        const std::size_t allocations = smtpp_test::allocations_during([&] {
            for (int i = 0; i < 256; ++i) (void)c.receive(piece);
        });
        CHECK(allocations == 0);
    }
}

TEST_CASE("RFC 2920 3.2: a peer that pipelines commands and never reads cannot grow the "
          "server's output or input",
          "[memory][server]") {
    smtpp::server_config config = server_config();
    config.limit.errors_before_disconnect = 0;
    smtpp::server_session s(config);
    server_pump pump{s};
    pump.consume = false;
    pump.run();
    std::string piece;
    while (piece.size() + 6 <= piece_size) piece += "NOOP\r\n";
    const std::size_t noops_per_piece = piece.size() / 6;

    heap_peak heap;
    std::size_t taken = 0, refused = 0, output_peak = 0, taken_unwanted = 0;
    for (std::size_t attempt = 0; attempt < ten_megabytes / piece.size(); ++attempt) {
        const bool wanted = s.wants_read();
        const errc e = s.receive_in_place(piece);
        if (e == errc::ok) {
            ++taken;
            if (!wanted) ++taken_unwanted;
        } else {
            CHECK(e == errc::invalid_state); // nothing taken while earlier bytes are unread
            ++refused;
        }
        pump.run();
        output_peak = std::max(output_peak, s.pending_output().size());
        heap.sample();
    }
    const std::size_t reply = std::string_view("250 2.0.0 OK\r\n").size();
    // Output stops at the limit plus at most one reply; only one unread piece is ever held,
    // and it stays in the caller's buffer (read in place).
    CHECK_FALSE(s.wants_read());
    // With wants_read() false, receive() took a piece at most once (the output was full but
    // nothing was unread); it is read in place and parked, never copied.
    CHECK(taken_unwanted <= 1);
    CHECK(output_peak <= config.limit.output_buffer + reply);
    CHECK(taken <= config.limit.output_buffer / reply / noops_per_piece + 2);
    CHECK(refused >= ten_megabytes / piece.size() - taken);
    // The unsent bytes stop at the limit (plus the one reply that crossed it). They sit in
    // two blocks (the one pending_output() handed out stays put while the other collects),
    // each grown to at most the limit: never more than twice the limit, however long the
    // peer keeps sending.
    const std::size_t output_bound = 2 * (config.limit.output_buffer + reply);
    CHECK(s.heap_bytes() <= output_bound + 2 * config.limit.command_line);
    CHECK(heap.growth() <= output_bound + 4096);

    // Once the output is written the session reads on.
    pump.consume = true;
    s.consume_output(s.pending_output().size());
    REQUIRE(pump.run() == kind::need_data);
    CHECK(s.wants_read());
    CHECK(pump.protocol_errors == 0);
}

TEST_CASE("RFC 2920 3.2: a peer that pipelines and never reads fills the copying input "
          "buffer, then nothing more is taken",
          "[memory][server]") {
    smtpp::server_config config = server_config();
    config.limit.errors_before_disconnect = 0;
    smtpp::server_session s(config);
    server_pump pump{s};
    pump.consume = false;
    pump.run();
    std::string piece;
    while (piece.size() + 6 <= piece_size) piece += "NOOP\r\n";

    heap_peak heap;
    std::size_t taken = 0, output_peak = 0, session_peak = 0;
    for (std::size_t attempt = 0; attempt < ten_megabytes / piece.size(); ++attempt) {
        taken += s.receive(piece);
        pump.run();
        output_peak = std::max(output_peak, s.pending_output().size());
        session_peak = std::max(session_peak, s.heap_bytes());
        heap.sample();
    }
    const std::size_t reply = std::string_view("250 2.0.0 OK\r\n").size();
    const std::size_t answered_input = (config.limit.output_buffer / reply + 1) * 6;
    CHECK_FALSE(s.wants_read());
    CHECK(s.receive(piece) == 0);
    CHECK(output_peak <= config.limit.output_buffer + reply);
    // What was taken: the commands answered before the output filled, then one input buffer.
    CHECK(taken <= answered_input + config.limit.input_buffer);
    CHECK(taken >= config.limit.input_buffer);
    const std::size_t output_bound = 2 * (config.limit.output_buffer + reply); // two blocks
    CHECK(session_peak <= output_bound + config.limit.input_buffer);
    CHECK(heap.growth() <= output_bound + config.limit.input_buffer + 4096);

    pump.consume = true;
    s.consume_output(s.pending_output().size());
    REQUIRE(pump.run() == kind::need_data);
    CHECK(s.wants_read());
    CHECK(pump.protocol_errors == 0);
}

TEST_CASE("RFC 2920 3.2: every command of the pieces taken is answered once output drains",
          "[memory][server]") {
    for (const input_mode mode : {input_mode::in_place, input_mode::copied}) {
        INFO((mode == input_mode::in_place ? "read in place" : "copied"));
        smtpp::server_config config = server_config();
        smtpp::server_session s(config);
        server_pump pump{s};
        pump.consume = false;
        pump.run();
        std::string piece;
        while (piece.size() + 6 <= piece_size) piece += "NOOP\r\n";
        std::string output;
        std::size_t taken = 0;
        for (int attempt = 0; attempt < 200; ++attempt) {
            if (mode == input_mode::in_place) {
                if (s.receive_in_place(piece) == errc::ok) taken += piece.size();
            } else {
                taken += s.receive(piece);
            }
            pump.run();
        }
        // Now write everything, letting the session finish what it holds.
        for (int round = 0; round < 100000; ++round) {
            output.append(s.pending_output().data(), s.pending_output().size());
            s.consume_output(s.pending_output().size());
            if (pump.run() == kind::need_data && s.pending_output().empty()) break;
        }
        std::size_t oks = 0;
        for (std::size_t p = output.find("250 2.0.0 OK\r\n"); p != std::string::npos;
             p = output.find("250 2.0.0 OK\r\n", p + 1))
            ++oks;
        CHECK(oks == taken / 6); // a command cut by the last piece taken waits for its end
        CHECK(taken < 200 * piece.size()); // the peer was throttled
    }
}

TEST_CASE("RFC 3030 2: BDAT 18446744073709551615 streams megabytes as views, never buffered",
          "[memory][server][bdat]") {
    const std::string start =
        "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\n"
        "BDAT 18446744073709551615\r\n";
    const std::string piece(piece_size, 'b');
    for (const input_mode mode : {input_mode::in_place, input_mode::copied}) {
        INFO((mode == input_mode::in_place ? "read in place" : "copied"));
        smtpp::server_config config = server_config();
        config.limit.message_size = 0; // no size limit: the chunk is accepted and streamed
        smtpp::server_session s(config);
        server_pump pump{s};
        pump.run();
        REQUIRE(hand_over(s, start, mode));
        REQUIRE(pump.run() == kind::need_data);
        REQUIRE(hand_over(s, piece, mode)); // first piece: any one-time setup happens here
        pump.run();
        heap_peak heap;
        std::size_t refused = 0;
        const std::size_t allocations = smtpp_test::allocations_during(
            [&] { refused = feed_ten_megabytes(s, pump, piece, mode, [&] { heap.sample(); }); });
        CHECK(refused == 0);
        CHECK(allocations == 0);
        CHECK(heap.growth() <= allocator_slack);
        CHECK(pump.body_octets == piece.size() + ten_megabytes);
        // The output block kept from EHLO, and when copying, the input block that held the
        // longest unread run (the command lines, then one piece).
        CHECK(s.heap_bytes() <= (mode == input_mode::in_place ? 4096 : 4096 + 2 * piece_size));
        CHECK(s.in_transaction());

        // The same chunk refused (message_size limit) by a server told to read every refused
        // octet (no bdat_discard_limit): still streamed through, nothing kept.
        smtpp::server_config read_all = server_config();
        read_all.limit.bdat_discard_limit = 0;
        smtpp::server_session limited(read_all);
        server_pump quiet{limited};
        quiet.run();
        REQUIRE(hand_over(limited, start, mode));
        quiet.run();
        REQUIRE(hand_over(limited, piece, mode)); // the first piece sets up the input block
        quiet.run();
        heap_peak discard_heap;
        std::size_t discard_refused = 0;
        const std::size_t discard_allocations = smtpp_test::allocations_during([&] {
            discard_refused =
                feed_ten_megabytes(limited, quiet, piece, mode, [&] { discard_heap.sample(); });
        });
        CHECK(discard_refused == 0);
        CHECK(discard_allocations == 0);
        CHECK(discard_heap.growth() <= allocator_slack);
        CHECK(quiet.body_octets == 0);
        CHECK(limited.pending_output().empty()); // the 552 waits for the end of the chunk
    }
}
