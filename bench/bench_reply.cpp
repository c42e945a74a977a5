// smtpp benchmarks: reply writing (reply.hpp, ehlo_writer.hpp) and reading
// (reply_reader.hpp, ehlo_reader.hpp).
//
//   reply_write/transaction      the 7 replies of one transaction (MAIL, 3 RCPT, 354, 250,
//                                221) appended to a std::string reserved once; items = replies
//   reply_write/ehlo             write_ehlo_reply for 11 lines; items = replies
//   reply_write/ehlo_lines       the same lines through write_reply_lines
//   .../baseline_memcpy          memcpy of the same output bytes
//   reply_read/<feed>            reply_reader over the replies a client reads in 16
//                                transactions (EHLO multi-line, MAIL, RCPT, DATA, QUIT), fed
//                                whole or in 1/16/4096-octet pieces; items = replies
//   ehlo_parse/whole             reply_reader + parse_ehlo_reply on one EHLO reply; items = 1
//   .../baseline_memchr          memchr for LF over the same bytes
#include "bench_common.hpp"

#include <smtpp/ehlo_reader.hpp>
#include <smtpp/ehlo_writer.hpp>
#include <smtpp/reply.hpp>
#include <smtpp/reply_reader.hpp>

#include <string>
#include <string_view>

namespace smtpp_bench {

namespace {

// The bytes of an EHLO reply with the ehlo_lines of bench_inputs.hpp.
std::string ehlo_reply_bytes() {
    std::string s;
    for (std::size_t i = 0; i < ehlo_line_count; ++i) {
        s += i + 1 == ehlo_line_count ? "250 " : "250-";
        s += ehlo_lines[i];
        s += "\r\n";
    }
    return s;
}

const std::string& ehlo_reply() {
    static const std::string s = ehlo_reply_bytes();
    return s;
}

const std::string& transaction_replies() {
    static const std::string s =
        "250 2.1.0 Sender OK\r\n"
        "250 2.1.5 Recipient OK\r\n250 2.1.5 Recipient OK\r\n250 2.1.5 Recipient OK\r\n"
        "354 End data with <CR><LF>.<CR><LF>\r\n"
        "250 2.0.0 Message accepted for delivery\r\n"
        "221 2.0.0 Service closing transmission channel\r\n";
    return s;
}
constexpr std::size_t transaction_reply_count = 7;

// The 0.1 catalog texts of these two (1.0 says "Message accepted" and "Bye"): the same
// bytes as before, so that figures compare across versions.
constexpr smtpp::reply_spec message_accepted{250, {2, 0, 0}, "Message accepted for delivery"};
constexpr smtpp::reply_spec closing{221, {2, 0, 0}, "Service closing transmission channel"};

void write_transaction(benchmark::State& state) {
    const std::string& expected = transaction_replies();
    std::string out;
    out.reserve(expected.size() * 2);
    const smtpp::reply_options options;
    const allocation_meter meter;
    for (auto _ : state) {
        out.clear();
        bool good = smtpp::write_reply(out, smtpp::replies::sender_ok, options) == smtpp::errc::ok;
        for (int i = 0; i < 3; ++i) {
            good = good && smtpp::write_reply(out, smtpp::replies::recipient_ok, options) ==
                               smtpp::errc::ok;
        }
        good = good && smtpp::write_reply(out, smtpp::replies::start_mail_input, options) ==
                           smtpp::errc::ok;
        good = good && smtpp::write_reply(out, message_accepted, options) == smtpp::errc::ok;
        good = good && smtpp::write_reply(out, closing, options) == smtpp::errc::ok;
        benchmark::DoNotOptimize(out.data());
        if (!good || out != expected) {
            state.SkipWithError("reply_write/transaction: unexpected output");
            break;
        }
    }
    meter.report(state, transaction_reply_count);
    set_processed(state, expected.size(), transaction_reply_count);
}

void write_ehlo_lines(benchmark::State& state) {
    const std::string& expected = ehlo_reply();
    std::string out;
    out.reserve(expected.size() * 2);
    const smtpp::reply_options options;
    const allocation_meter meter;
    for (auto _ : state) {
        out.clear();
        const smtpp::errc e =
            smtpp::write_reply_lines(out, 250, {}, ehlo_lines, ehlo_line_count, options);
        benchmark::DoNotOptimize(out.data());
        if (e != smtpp::errc::ok || out != expected) {
            state.SkipWithError("reply_write/ehlo_lines: unexpected output");
            break;
        }
    }
    meter.report(state, 1);
    set_processed(state, expected.size(), 1);
}

smtpp::ehlo_offer bench_offer() {
    smtpp::ehlo_offer offer;
    offer.size_limit = 52428800;
    offer.offered.binarymime = true;
    offer.offered.chunking = true;
    offer.offered.smtputf8 = true;
    offer.offered.dsn = true;
    offer.offered.starttls = true;
    offer.offered.help = false; // on by default since 1.0; the expected bytes have no HELP
    offer.auth_mechanisms = "PLAIN LOGIN";
    return offer;
}

void write_ehlo(benchmark::State& state) {
    const std::string& expected = ehlo_reply();
    const smtpp::ehlo_offer offer = bench_offer();
    std::string out;
    out.reserve(expected.size() * 2);
    const allocation_meter meter;
    for (auto _ : state) {
        out.clear();
        const smtpp::errc e = smtpp::write_ehlo_reply(
            out, "mx.example.org", "Hello client.relay.example.org [192.0.2.7]", offer);
        benchmark::DoNotOptimize(out.data());
        if (e != smtpp::errc::ok || out != expected) {
            state.SkipWithError("reply_write/ehlo: unexpected output");
            break;
        }
    }
    meter.report(state, 1);
    set_processed(state, expected.size(), 1);
}

struct reply_stream {
    std::string bytes;
    std::size_t replies = 0;
    std::size_t lines = 0;
};

const reply_stream& replies_input() {
    static const reply_stream s = [] {
        reply_stream r;
        r.bytes = make_reply_stream(16, r.replies);
        r.lines = memchr_count_lf(r.bytes);
        return r;
    }();
    return s;
}

// Reads every reply of `bytes` fed in pieces; counts replies and lines. False on an error.
bool read_all(smtpp::reply_reader& reader, std::string_view bytes, long piece, std::size_t& replies,
              std::size_t& lines) {
    bool good = true;
    for_each_piece(bytes, piece, [&](std::string_view in) {
        while (good) {
            const smtpp::read_result r = reader.read(in);
            in.remove_prefix(r.consumed);
            if (r.error == smtpp::errc::need_more_data) break;
            if (r.error != smtpp::errc::ok) {
                good = false;
                break;
            }
            ++replies;
            lines += r.reply.line_count;
        }
    });
    return good && !reader.mid_reply();
}

void read_replies(benchmark::State& state, long piece) {
    const reply_stream& s = replies_input();
    smtpp::reply_reader reader;
    std::size_t replies = 0;
    std::size_t lines = 0;
    if (!read_all(reader, s.bytes, piece, replies, lines)) { // warm-up: sizes the buffer once
        state.SkipWithError("reply_read: reader failed");
        return;
    }
    const allocation_meter meter;
    for (auto _ : state) {
        replies = 0;
        lines = 0;
        const bool good = read_all(reader, s.bytes, piece, replies, lines);
        benchmark::DoNotOptimize(lines);
        if (!good || replies != s.replies || lines != s.lines) {
            state.SkipWithError("reply_read: unexpected replies");
            break;
        }
    }
    meter.report(state, s.replies);
    set_processed(state, s.bytes.size(), s.replies);
}

void parse_ehlo(benchmark::State& state) {
    const std::string_view bytes = ehlo_reply();
    smtpp::reply_reader reader;
    const allocation_meter meter;
    for (auto _ : state) {
        const smtpp::read_result r = reader.read(bytes);
        smtpp::capabilities caps;
        const bool good = r.error == smtpp::errc::ok && r.consumed == bytes.size() &&
                          smtpp::parse_ehlo_reply(r.reply, caps) == smtpp::errc::ok;
        benchmark::DoNotOptimize(caps);
        if (!good || !caps.pipelining || !caps.chunking || !caps.dsn ||
            caps.size_limit != 52428800 || !caps.has_auth_mechanism("LOGIN")) {
            state.SkipWithError("ehlo_parse: unexpected capabilities");
            break;
        }
    }
    meter.report(state, 1);
    set_processed(state, bytes.size(), 1);
}

} // namespace

void register_reply_benchmarks() {
    add("reply_write_transaction/whole", write_transaction);
    register_memcpy_baseline("reply_write_transaction", transaction_replies(),
                             transaction_reply_count);
    add("reply_write_ehlo/write_reply_lines", write_ehlo_lines);
    add("reply_write_ehlo/write_ehlo_reply", write_ehlo);
    register_memcpy_baseline("reply_write_ehlo", ehlo_reply(), 1);
    const reply_stream& s = replies_input();
    for (const long piece : piece_sizes) {
        add("reply_read/" + piece_name(piece),
            [piece](benchmark::State& state) { read_replies(state, piece); });
    }
    register_memchr_baseline("reply_read", s.bytes, s.lines, s.replies);
    add("ehlo_parse/whole", parse_ehlo);
    register_memchr_baseline("ehlo_parse", ehlo_reply(), ehlo_line_count, 1);
}

} // namespace smtpp_bench
