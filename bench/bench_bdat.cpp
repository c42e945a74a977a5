// smtpp benchmarks: CHUNKING (bdat.hpp, RFC 3030).
//
//   bdat_read/<size>/<feed>   the server's path for a message sent as BDAT chunks of 16 KiB
//                             ("BDAT 16384\r\n" + octets ..., the last one with LAST): the
//                             command lines through detail::input_buffer + parse_command, the
//                             octets through bdat_reader taking views from the bytes read in
//                             place (receive_in_place);
//                             fed whole or in 1/16/4096-octet pieces; chunk octets summed, not
//                             copied; bytes = stream octets, items = messages
//   bdat_read/<size>/baseline_memchr   memchr for LF over the same stream
//   bdat_write/<size>/whole   the client's path: append_bdat_command + the chunk octets
//                             appended to a std::string reserved once; items = messages
//   bdat_write/<size>/baseline_memcpy  memcpy of the same stream
#include "bench_common.hpp"

#include <smtpp/bdat.hpp>
#include <smtpp/command.hpp>
#include <smtpp/detail/input_buffer.hpp>

#include <string>
#include <string_view>

namespace smtpp_bench {

namespace {

constexpr std::size_t bdat_chunk = 16 * 1024;

struct bdat_stream {
    std::string bytes;
    std::size_t chunks = 0;
    std::size_t body_octets = 0;
    std::size_t lines = 0;
};

bdat_stream make_bdat_stream(const body& b) {
    bdat_stream s;
    for (std::size_t pos = 0; pos < b.text.size(); pos += bdat_chunk) {
        const std::size_t n = b.text.size() - pos < bdat_chunk ? b.text.size() - pos : bdat_chunk;
        smtpp::append_bdat_command(s.bytes, n, pos + n == b.text.size());
        s.bytes.append(b.text, pos, n);
        ++s.chunks;
    }
    s.body_octets = b.text.size();
    s.lines = memchr_count_lf(s.bytes);
    return s;
}

const bdat_stream& get_bdat_stream(std::size_t size) {
    static const bdat_stream streams[] = {
        make_bdat_stream(get_body(body_sizes[0], body_kind::plain)),
        make_bdat_stream(get_body(body_sizes[1], body_kind::plain)),
        make_bdat_stream(get_body(body_sizes[2], body_kind::plain))};
    for (std::size_t i = 0; i < 3; ++i) {
        if (body_sizes[i] == size) return streams[i];
    }
    return streams[0];
}

struct bdat_outcome {
    std::size_t chunks = 0;
    std::uint64_t octets = 0;
    bool last = false;
    bool good = true;
};

// Reads one BDAT stream the way a server session does.
template <class Sink>
bdat_outcome read_stream(smtpp::detail::input_buffer& input, const smtpp::command_options& options,
                         std::string_view bytes, long piece, Sink&& sink) {
    bdat_outcome o;
    smtpp::bdat_reader reader;
    bool in_chunk = false;
    for_each_piece(bytes, piece, [&](std::string_view in) {
        if (!o.good || input.place(in) != smtpp::errc::ok) {
            o.good = false;
            return;
        }
        for (;;) {
            if (in_chunk) {
                const std::string_view unread = input.unread();
                if (unread.empty()) break;
                const smtpp::bdat_reader::result r = reader.read(unread);
                input.advance(r.consumed);
                o.octets += r.chunk.size();
                sink(r.chunk);
                if (r.done) {
                    in_chunk = false;
                    ++o.chunks;
                }
                continue;
            }
            const smtpp::detail::frame f = input.next_line(512, false);
            if (f.status == smtpp::detail::frame_status::need_more) break;
            const smtpp::command_result c = smtpp::parse_command(f.text, options);
            if (f.status != smtpp::detail::frame_status::line || !c.ok() ||
                c.cmd.kind != smtpp::verb::bdat || o.last) {
                o.good = false;
                return;
            }
            o.last = c.cmd.bdat_last;
            reader.start(c.cmd.bdat_size);
            in_chunk = !reader.done();
            if (!in_chunk) ++o.chunks;
        }
    });
    o.good = o.good && !in_chunk && input.drained() && !input.mid_line();
    return o;
}

void bdat_read(benchmark::State& state, std::size_t size, long piece) {
    const bdat_stream& s = get_bdat_stream(size);
    const body& b = get_body(size, body_kind::plain);
    const smtpp::command_options options;
    smtpp::detail::input_buffer input;
    std::string joined;
    const bdat_outcome first = read_stream(input, options, s.bytes, piece, [&](std::string_view c) {
        joined.append(c.data(), c.size());
    });
    if (!first.good || !first.last || first.chunks != s.chunks || joined != b.text) {
        state.SkipWithError("bdat_read: chunks put together differ from the body");
        return;
    }
    const allocation_meter meter;
    for (auto _ : state) {
        const bdat_outcome o = read_stream(input, options, s.bytes, piece, [](std::string_view c) {
            benchmark::DoNotOptimize(c.data());
        });
        if (!o.good || !o.last || o.chunks != s.chunks || o.octets != s.body_octets) {
            state.SkipWithError("bdat_read: wrong chunks");
            break;
        }
    }
    meter.report(state, 1);
    set_processed(state, s.bytes.size(), 1);
}

void bdat_write(benchmark::State& state, std::size_t size) {
    const bdat_stream& s = get_bdat_stream(size);
    const std::string_view text = get_body(size, body_kind::plain).text;
    std::string out;
    out.reserve(s.bytes.size());
    const allocation_meter meter;
    for (auto _ : state) {
        out.clear();
        for (std::size_t pos = 0; pos < text.size(); pos += bdat_chunk) {
            const std::string_view chunk = text.substr(pos, bdat_chunk);
            smtpp::append_bdat_command(out, chunk.size(), pos + chunk.size() == text.size());
            out.append(chunk.data(), chunk.size());
        }
        benchmark::DoNotOptimize(out.data());
        if (out.size() != s.bytes.size()) {
            state.SkipWithError("bdat_write: wrong stream size");
            break;
        }
    }
    if (out != s.bytes) state.SkipWithError("bdat_write: wrong stream");
    meter.report(state, 1);
    set_processed(state, s.bytes.size(), 1);
}

} // namespace

void register_bdat_benchmarks() {
    for (const std::size_t size : body_sizes) {
        const bdat_stream& s = get_bdat_stream(size);
        const std::string read_figure = std::string("bdat_read/") + size_name(size);
        for (const long piece : piece_sizes) {
            add(read_figure + "/" + piece_name(piece),
                [size, piece](benchmark::State& state) { bdat_read(state, size, piece); });
        }
        register_memchr_baseline(read_figure, s.bytes, s.lines, 1);
        const std::string write_figure = std::string("bdat_write/") + size_name(size);
        add(write_figure + "/whole", [size](benchmark::State& state) { bdat_write(state, size); });
        register_memcpy_baseline(write_figure, s.bytes, 1);
    }
}

} // namespace smtpp_bench
