// smtpp benchmarks: DATA transparency (data.hpp) on 1 KiB, 64 KiB and 1 MiB bodies of ~72-octet
// lines: plain ASCII text, text where one line in four starts with a dot, and UTF-8 text.
//
//   data_decode/<size>/<kind>/<feed>        data_decoder over the dot-stuffed wire form fed
//                                           whole or in 1/16/4096-octet pieces; chunks summed,
//                                           not copied; bytes = wire octets, items = messages
//   data_decode/<size>/<kind>/baseline_memchr   memchr for LF over the wire form
//   data_encode/<size>/<kind>/<feed>        data_encoder::encode + finish appending to a
//                                           std::string reserved once; bytes = body octets
//   data_encode/<size>/<kind>/baseline_memcpy   memcpy of the body
//   data_encode_views/<size>/<kind>/<feed>  data_encoder::next + finish, segments summed
//                                           (the writev path, no copy)
//   data_encode_views/.../baseline_memchr   memchr for LF over the body
//   data_decode/.../detail_dot_reader       the DATA reader server_session.hpp uses today
//                                           (detail/dot_reader.hpp), whole input
//   data_encode/.../detail_client_walk_text the body encoder client_session.hpp uses today
//                                           (detail/client_codec.hpp: a checking pass, then an
//                                           encoding pass into a std::string), whole input
// Target: data_decode on 64 KiB >= 0.5 x baseline_memchr; 0 allocations per message.
#include "bench_common.hpp"

#if __has_include(<smtpp/data.hpp>)
#include <smtpp/data.hpp>
#define SMTPP_BENCH_HAVE_DATA 1
#endif

// The session-internal codecs, measured beside data.hpp while the sessions still use them.
#if __has_include(<smtpp/detail/dot_reader.hpp>)
#include <smtpp/detail/dot_reader.hpp>
#define SMTPP_BENCH_HAVE_DOT_READER 1
#endif
#if __has_include(<smtpp/detail/client_codec.hpp>)
#include <smtpp/detail/client_codec.hpp>
#define SMTPP_BENCH_HAVE_CLIENT_CODEC 1
#endif

#include <string>
#include <string_view>

namespace smtpp_bench {

#ifdef SMTPP_BENCH_HAVE_DATA
namespace {

struct decode_outcome {
    std::uint64_t chunk_octets = 0;
    bool done = false;
    bool all_consumed = true;
};

// Decodes the whole wire form once; `sink(chunk)` sees every chunk.
template <class Sink>
decode_outcome decode_message(smtpp::data_decoder& decoder, std::string_view wire, long piece, Sink&& sink) {
    decoder.reset();
    decode_outcome o;
    for_each_piece(wire, piece, [&](std::string_view in) {
        while (!in.empty()) {
            if (o.done) {
                o.all_consumed = false; // octets after the terminator
                return;
            }
            const smtpp::data_decoder::result r = decoder.decode(in);
            o.chunk_octets += r.chunk.size();
            sink(r.chunk);
            in.remove_prefix(r.consumed);
            o.done = r.done;
        }
    });
    return o;
}

void decode(benchmark::State& state, const body& b, body_kind kind, long piece) {
    smtpp::data_decoder decoder(1000, 0);
    // Checked once outside the timing: the chunks put together are exactly the body.
    std::string joined;
    const decode_outcome first =
        decode_message(decoder, b.wire, piece, [&](std::string_view c) { joined.append(c.data(), c.size()); });
    const bool eight_bit = kind == body_kind::eight_bit;
    if (!first.done || !first.all_consumed || joined != b.text || decoder.findings().error() != smtpp::errc::ok ||
        decoder.findings().eight_bit != eight_bit || decoder.size() != b.text.size()) {
        state.SkipWithError("data_decode: decoded body differs from the original");
        return;
    }
    const allocation_meter meter;
    for (auto _ : state) {
        const decode_outcome o = decode_message(decoder, b.wire, piece, [](std::string_view c) {
            benchmark::DoNotOptimize(c.data());
        });
        if (!o.done || !o.all_consumed || o.chunk_octets != b.text.size()) {
            state.SkipWithError("data_decode: wrong decoded size");
            break;
        }
    }
    meter.report(state, 1);
    set_processed(state, b.wire.size(), 1);
}

void encode_append(benchmark::State& state, const body& b, long piece) {
    smtpp::data_encoder encoder;
    std::string out;
    out.reserve(b.wire.size() + 16);
    const auto run = [&] {
        encoder.reset();
        out.clear();
        bool good = true;
        for_each_piece(b.text, piece, [&](std::string_view in) {
            good = good && encoder.encode(in, out) == smtpp::errc::ok;
        });
        return good && encoder.finish(out) == smtpp::errc::ok;
    };
    if (!run() || out != b.wire) {
        state.SkipWithError("data_encode: wire form differs from the expected one");
        return;
    }
    const allocation_meter meter;
    for (auto _ : state) {
        const bool good = run();
        benchmark::DoNotOptimize(out.data());
        if (!good || out.size() != b.wire.size()) {
            state.SkipWithError("data_encode: wrong wire size");
            break;
        }
    }
    meter.report(state, 1);
    set_processed(state, b.text.size(), 1);
}

void encode_views(benchmark::State& state, const body& b, long piece) {
    smtpp::data_encoder encoder;
    const allocation_meter meter;
    for (auto _ : state) {
        encoder.reset();
        std::size_t octets = 0;
        bool good = true;
        for_each_piece(b.text, piece, [&](std::string_view in) {
            while (good && !in.empty()) {
                const smtpp::data_encoder::result r = encoder.next(in);
                good = r.error == smtpp::errc::ok;
                octets += r.segment.size();
                benchmark::DoNotOptimize(r.segment.data());
                in.remove_prefix(r.consumed);
            }
        });
        const smtpp::data_encoder::result end = encoder.finish();
        octets += end.segment.size();
        if (!good || end.error != smtpp::errc::ok || octets != b.wire.size()) {
            state.SkipWithError("data_encode_views: wrong wire size");
            break;
        }
    }
    meter.report(state, 1);
    set_processed(state, b.text.size(), 1);
}

#ifdef SMTPP_BENCH_HAVE_DOT_READER
void decode_dot_reader(benchmark::State& state, const body& b) {
    smtpp::detail::dot_reader reader;
    const auto run = [&](auto&& sink) {
        reader.reset(1000);
        std::string_view in = b.wire;
        for (;;) {
            const smtpp::detail::dot_step st = reader.step(in);
            in.remove_prefix(st.consumed);
            if (st.status == smtpp::detail::dot_status::chunk) sink(st.bytes);
            if (st.status != smtpp::detail::dot_status::chunk) return st.status == smtpp::detail::dot_status::end && in.empty();
        }
    };
    std::string joined;
    if (!run([&](std::string_view c) { joined.append(c.data(), c.size()); }) || joined != b.text) {
        state.SkipWithError("detail_dot_reader: decoded body differs from the original");
        return;
    }
    const allocation_meter meter;
    for (auto _ : state) {
        std::size_t octets = 0;
        const bool good = run([&](std::string_view c) {
            octets += c.size();
            benchmark::DoNotOptimize(c.data());
        });
        if (!good || octets != b.text.size()) {
            state.SkipWithError("detail_dot_reader: wrong decoded size");
            break;
        }
    }
    meter.report(state, 1);
    set_processed(state, b.wire.size(), 1);
}
#endif

#ifdef SMTPP_BENCH_HAVE_CLIENT_CODEC
// What client_session::send_body + end_body do with a DATA body: a checking pass, then the
// encoding pass into a scratch string (the session then copies that into its output).
void encode_client_walk_text(benchmark::State& state, const body& b, body_kind kind) {
    smtpp::detail::body_rules rules;
    rules.content = kind == body_kind::eight_bit ? smtpp::body_content::eight_bit : smtpp::body_content::seven_bit;
    std::string out;
    out.reserve(b.wire.size() + 16);
    const auto run = [&] {
        smtpp::detail::body_state st;
        smtpp::detail::body_state probe = st;
        out.clear();
        bool good = smtpp::detail::walk_text(b.text, probe, rules, smtpp::detail::null_sink{}) == smtpp::errc::ok;
        good = good && smtpp::detail::walk_text(b.text, st, rules, smtpp::detail::string_sink{&out}) == smtpp::errc::ok;
        good = good && smtpp::detail::finish_text(st, rules, smtpp::detail::string_sink{&out}) == smtpp::errc::ok;
        out.append(".\r\n");
        return good;
    };
    if (!run() || out != b.wire) {
        state.SkipWithError("detail_client_walk_text: wire form differs from the expected one");
        return;
    }
    const allocation_meter meter;
    for (auto _ : state) {
        const bool good = run();
        benchmark::DoNotOptimize(out.data());
        if (!good || out.size() != b.wire.size()) {
            state.SkipWithError("detail_client_walk_text: wrong wire size");
            break;
        }
    }
    meter.report(state, 1);
    set_processed(state, b.text.size(), 1);
}
#endif

} // namespace
#endif // SMTPP_BENCH_HAVE_DATA

void register_data_benchmarks() {
#ifdef SMTPP_BENCH_HAVE_DATA
    for (const std::size_t size : body_sizes) {
        for (const body_kind kind : body_kinds) {
            const body& b = get_body(size, kind);
            const std::string suffix = std::string("/") + size_name(size) + "/" + body_kind_name(kind);
            for (const long piece : piece_sizes) {
                add("data_decode" + suffix + "/" + piece_name(piece),
                    [&b, kind, piece](benchmark::State& state) { decode(state, b, kind, piece); });
            }
#ifdef SMTPP_BENCH_HAVE_DOT_READER
            add("data_decode" + suffix + "/detail_dot_reader",
                [&b](benchmark::State& state) { decode_dot_reader(state, b); });
#endif
            register_memchr_baseline("data_decode" + suffix, b.wire, b.lines + 1, 1);
            for (const long piece : piece_sizes) {
                add("data_encode" + suffix + "/" + piece_name(piece),
                    [&b, piece](benchmark::State& state) { encode_append(state, b, piece); });
                add("data_encode_views" + suffix + "/" + piece_name(piece),
                    [&b, piece](benchmark::State& state) { encode_views(state, b, piece); });
            }
#ifdef SMTPP_BENCH_HAVE_CLIENT_CODEC
            add("data_encode" + suffix + "/detail_client_walk_text",
                [&b, kind](benchmark::State& state) { encode_client_walk_text(state, b, kind); });
#endif
            register_memcpy_baseline("data_encode" + suffix, b.text, 1);
            register_memchr_baseline("data_encode_views" + suffix, b.text, b.lines, 1);
        }
    }
#endif
}

} // namespace smtpp_bench
