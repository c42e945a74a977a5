// smtpp benchmarks: DATA transparency (data.hpp) on 1 KiB, 64 KiB and 1 MiB bodies of ~72-octet
// lines: plain ASCII text, text where one line in four starts with a dot, and UTF-8 text.
//
//   data_decode/<size>/<kind>/<feed>        data_decoder over the dot-stuffed wire form fed
//                                           whole or in 1/16/4096-octet pieces; chunks summed,
//                                           not copied; bytes = wire octets, items = messages
//   data_decode/<size>/<kind>/baseline_memchr   memchr for LF over the wire form
//   data_encode/<size>/<kind>/<feed>        data_encoder::encode(out, in) + finish appending to a
//                                           std::string reserved once; bytes = body octets
//   data_encode/<size>/<kind>/baseline_memcpy   memcpy of the body
//   data_encode_views/<size>/<kind>/<feed>  data_encoder::next + finish, segments summed
//                                           (the writev path, no copy)
//   data_encode_views/.../baseline_memchr   memchr for LF over the body
// Target: data_decode on 64 KiB >= 0.5 x baseline_memchr; 0 allocations per message.
#include "bench_common.hpp"

#include <smtpp/data.hpp>

#include <string>
#include <string_view>

namespace smtpp_bench {

namespace {

struct decode_outcome {
    std::uint64_t chunk_octets = 0;
    bool done = false;
    bool all_consumed = true;
};

// Decodes the whole wire form once; `sink(chunk)` sees every chunk.
template <class Sink>
decode_outcome decode_message(smtpp::data_decoder& decoder, std::string_view wire, long piece,
                              Sink&& sink) {
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
    const decode_outcome first = decode_message(
        decoder, b.wire, piece, [&](std::string_view c) { joined.append(c.data(), c.size()); });
    const bool eight_bit = kind == body_kind::eight_bit;
    if (!first.done || !first.all_consumed || joined != b.text ||
        decoder.findings().error() != smtpp::errc::ok ||
        decoder.findings().eight_bit != eight_bit || decoder.size() != b.text.size()) {
        state.SkipWithError("data_decode: decoded body differs from the original");
        return;
    }
    const allocation_meter meter;
    for (auto _ : state) {
        const decode_outcome o = decode_message(
            decoder, b.wire, piece, [](std::string_view c) { benchmark::DoNotOptimize(c.data()); });
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
            good = good && encoder.encode(out, in) == smtpp::errc::ok;
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

} // namespace

void register_data_benchmarks() {
    for (const std::size_t size : body_sizes) {
        for (const body_kind kind : body_kinds) {
            const body& b = get_body(size, kind);
            const std::string suffix =
                std::string("/") + size_name(size) + "/" + body_kind_name(kind);
            for (const long piece : piece_sizes) {
                add("data_decode" + suffix + "/" + piece_name(piece),
                    [&b, kind, piece](benchmark::State& state) { decode(state, b, kind, piece); });
            }
            register_memchr_baseline("data_decode" + suffix, b.wire, b.lines + 1, 1);
            for (const long piece : piece_sizes) {
                add("data_encode" + suffix + "/" + piece_name(piece),
                    [&b, piece](benchmark::State& state) { encode_append(state, b, piece); });
                add("data_encode_views" + suffix + "/" + piece_name(piece),
                    [&b, piece](benchmark::State& state) { encode_views(state, b, piece); });
            }
            register_memcpy_baseline("data_encode" + suffix, b.text, 1);
            register_memchr_baseline("data_encode_views" + suffix, b.text, b.lines, 1);
        }
    }
}

} // namespace smtpp_bench
