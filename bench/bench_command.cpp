// smtpp benchmarks: command parsing (command.hpp) on a realistic pipelined command stream.
//
//   command_parse/parse_only        parse_command over the lines, split beforehand
//   command_parse/whole             memchr finds each CRLF, then parse_command
//   command_parse/framer_<feed>     the session's path with receive_in_place():
//                                   detail::input_buffer reads the bytes in place, fed whole
//                                   or in 1/16/4096-octet pieces, then parse_command
//   command_parse/copy_<feed>       the same with receive(): the input buffer copies each
//                                   piece first (bounded by limits::input_buffer)
//   command_parse/baseline_memchr   memchr for LF over the same bytes
//   command_verb/<line>/parse       parse_command on one typical line of each kind, repeated
//                                   64 times (where the time goes); baseline: memchr for LF
// items = commands; target >= 25 M commands/s, 0 allocations per command.
#include "bench_common.hpp"

#include <smtpp/command.hpp>
#include <smtpp/detail/input_buffer.hpp>
#include <smtpp/limits.hpp>

#include <string_view>
#include <vector>

namespace smtpp_bench {

namespace {

smtpp::command_options stream_options() {
    smtpp::command_options o;
    o.offer.dsn = true; // NOTIFY and ORCPT; SIZE and 8BITMIME are on by default
    return o;
}

// What parsing the stream must find; a tally that differs means the benchmark measured
// something else (a rejected command is much cheaper than an accepted one).
struct tally {
    std::size_t ok = 0;
    std::size_t rcpt_notify = 0;
    std::size_t mail_size = 0;

    void add(const smtpp::command_result& r) noexcept {
        ok += r.ok() ? 1u : 0u;
        rcpt_notify += r.cmd.kind == smtpp::verb::rcpt && r.cmd.notify != 0 ? 1u : 0u;
        mail_size += r.cmd.kind == smtpp::verb::mail && r.cmd.has_size ? 1u : 0u;
    }
    [[nodiscard]] bool matches(const command_stream& s) const noexcept {
        return ok == s.commands && mail_size == s.transactions &&
               rcpt_notify == s.commands - 5 * s.transactions;
    }
};

std::vector<std::string_view> split_lines(std::string_view bytes) {
    std::vector<std::string_view> lines;
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        const std::size_t lf = bytes.find('\n', pos);
        lines.push_back(bytes.substr(pos, lf - 1 - pos)); // without CRLF
        pos = lf + 1;
    }
    return lines;
}

void parse_only(benchmark::State& state) {
    const command_stream& s = commands();
    const std::vector<std::string_view> lines = split_lines(s.bytes);
    const smtpp::command_options options = stream_options();
    const allocation_meter meter;
    for (auto _ : state) {
        tally t;
        for (const std::string_view line : lines) {
            const smtpp::command_result r = smtpp::parse_command(line, options);
            t.add(r);
        }
        benchmark::DoNotOptimize(t);
        if (!t.matches(s)) {
            state.SkipWithError("parse_only: unexpected parse results");
            break;
        }
    }
    meter.report(state, s.commands);
    set_processed(state, s.bytes.size(), s.commands);
}

void parse_whole(benchmark::State& state) {
    const command_stream& s = commands();
    const std::string_view bytes = s.bytes;
    const smtpp::command_options options = stream_options();
    const allocation_meter meter;
    for (auto _ : state) {
        tally t;
        const char* p = bytes.data();
        const char* const end = p + bytes.size();
        while (p < end) {
            const auto* lf =
                static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
            if (lf == nullptr) break;
            t.add(smtpp::parse_command(std::string_view(p, static_cast<std::size_t>(lf - 1 - p)),
                                       options));
            p = lf + 1;
        }
        benchmark::DoNotOptimize(t);
        if (!t.matches(s)) {
            state.SkipWithError("whole: unexpected parse results");
            break;
        }
    }
    meter.report(state, s.commands);
    set_processed(state, s.bytes.size(), s.commands);
}

// Frames and parses every complete line the input buffer holds; false on a framing surprise.
bool parse_lines(smtpp::detail::input_buffer& in, const smtpp::command_options& options, tally& t) {
    for (;;) {
        const smtpp::detail::frame f = in.next_line(512 + 26, false);
        if (f.status == smtpp::detail::frame_status::need_more) return true;
        if (f.status != smtpp::detail::frame_status::line || f.bare_lf) return false;
        t.add(smtpp::parse_command(f.text, options));
    }
}

// One pass of the stream through an input buffer, in pieces, read in place (`copy` false:
// receive_in_place) or copied in first (`copy` true: receive); false on a framing surprise.
bool frame_and_parse(smtpp::detail::input_buffer& in, std::string_view bytes, long piece, bool copy,
                     const smtpp::command_options& options, tally& t) {
    static constexpr std::size_t input_limit = smtpp::limits{}.input_buffer;
    bool good = true;
    for_each_piece(bytes, piece, [&](std::string_view chunk) {
        while (good && !chunk.empty()) {
            if (copy) {
                const std::size_t taken = in.copy_in(chunk, input_limit);
                chunk.remove_prefix(taken);
                good = taken != 0; // parse_lines leaves less than a line held
            } else {
                good = in.place(chunk) == smtpp::errc::ok;
                chunk = {};
            }
            good = good && parse_lines(in, options, t);
        }
    });
    return good && in.drained() && !in.mid_line();
}

void parse_framer(benchmark::State& state, long piece, bool copy) {
    const command_stream& s = commands();
    const smtpp::command_options options = stream_options();
    smtpp::detail::input_buffer in;
    tally warm;
    if (!frame_and_parse(in, s.bytes, piece, copy, options, warm)) { // reserves the buffer
        state.SkipWithError("framer: framing failed");
        return;
    }
    const allocation_meter meter;
    for (auto _ : state) {
        tally t;
        const bool good = frame_and_parse(in, s.bytes, piece, copy, options, t);
        benchmark::DoNotOptimize(t);
        if (!good || !t.matches(s)) {
            state.SkipWithError("framer: unexpected parse results");
            break;
        }
    }
    meter.report(state, s.commands);
    set_processed(state, s.bytes.size(), s.commands);
}

struct verb_line {
    const char* name;
    std::string_view text; // with CRLF
    smtpp::verb kind;
};

constexpr verb_line verb_lines[] = {
    {"ehlo", "EHLO client3.relay.example.org\r\n", smtpp::verb::ehlo},
    {"mail_size_body",
     "MAIL FROM:<grace.hopper@mx1.university.example.edu> SIZE=1234567 BODY=8BITMIME\r\n",
     smtpp::verb::mail},
    {"mail_plain", "MAIL FROM:<grace.hopper@mx1.university.example.edu>\r\n", smtpp::verb::mail},
    {"rcpt_notify_orcpt",
     "RCPT TO:<bob.smith@example.org> NOTIFY=SUCCESS,FAILURE "
     "ORCPT=rfc822;bob.smith@example.org\r\n",
     smtpp::verb::rcpt},
    {"rcpt_plain", "RCPT TO:<bob.smith@example.org>\r\n", smtpp::verb::rcpt},
    {"data", "DATA\r\n", smtpp::verb::data},
    {"quit", "QUIT\r\n", smtpp::verb::quit},
};
constexpr std::size_t verb_repeat = 64;

std::string repeated(std::string_view line) {
    std::string s;
    for (std::size_t i = 0; i < verb_repeat; ++i) s.append(line.data(), line.size());
    return s;
}

void parse_verb(benchmark::State& state, const verb_line& v) {
    const std::string_view line = v.text.substr(0, v.text.size() - 2);
    const smtpp::command_options options = stream_options();
    const allocation_meter meter;
    for (auto _ : state) {
        std::size_t ok = 0;
        for (std::size_t i = 0; i < verb_repeat; ++i) {
            benchmark::DoNotOptimize(line.data());
            const smtpp::command_result r = smtpp::parse_command(line, options);
            ok += r.ok() && r.cmd.kind == v.kind ? 1u : 0u;
        }
        if (ok != verb_repeat) {
            state.SkipWithError("command_verb: the line did not parse");
            break;
        }
    }
    meter.report(state, verb_repeat);
    set_processed(state, v.text.size() * verb_repeat, verb_repeat);
}

} // namespace

void register_command_benchmarks() {
    const command_stream& s = commands();
    add("command_parse/parse_only", parse_only);
    add("command_parse/whole", parse_whole);
    for (const long piece : piece_sizes) {
        add("command_parse/framer_" + piece_name(piece),
            [piece](benchmark::State& state) { parse_framer(state, piece, false); });
        add("command_parse/copy_" + piece_name(piece),
            [piece](benchmark::State& state) { parse_framer(state, piece, true); });
    }
    register_memchr_baseline("command_parse", s.bytes, s.commands, s.commands);
    for (const verb_line& v : verb_lines) {
        const std::string figure = std::string("command_verb/") + v.name;
        add(figure + "/parse", [&v](benchmark::State& state) { parse_verb(state, v); });
        static std::vector<std::string> keep; // the baseline reads these bytes in place
        keep.reserve(sizeof verb_lines / sizeof verb_lines[0]);
        keep.push_back(repeated(v.text));
        register_memchr_baseline(figure, keep.back(), verb_repeat, verb_repeat);
    }
}

} // namespace smtpp_bench
