// Fuzz target: reply_reader (include/smtpp/reply_reader.hpp), the client's reply parser.
//
// Input: byte 0 picks the options (bits 0-1 line_limit 5/16/80/512, bits 2-3 max_lines
// 1/2/5/128, bit 4 lenient_bare_lf, bit 5 lenient_control_characters); the rest are server
// bytes, fed in pieces whose sizes are decided by the input's trailing octets.
// Invariants:
//  - the replies and the stopping error agree with a plain reference reader written here
//    over the whole input (same raw bytes per reply, error or not), whatever the split;
//  - every reply has a code in 200..599, `line_count` lines each within line_limit, at most
//    max_lines lines, all with the same code, the last one final; an enhanced status, when
//    reported, has the code's class; lines() yields line_count texts;
//  - the replies' raw bytes concatenate to exactly the consumed prefix of the input;
//  - text holds no NUL, C0 control but HT, or DEL (RFC 5321 4.2 textstring), unless
//    lenient_control_characters, and then reply::controls says whether it does;
//  - heap: capacity() never exceeds line_limit * max_lines (or the std::string's small
//    buffer); read() consumes all input on need_more_data, 0 on error; errors are sticky.
#include <smtpp/reply_reader.hpp>

#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace smtpp;
using smtpp_fuzz::escaped;

namespace {

struct outcome_list {
    std::vector<std::string> raws;
    bool error = false;
};

bool digit(char c) { return c >= '0' && c <= '9'; }

bool has_control(std::string_view text) { // CR and LF excluded: framing decides about them
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && u != '\t' && u != '\r' && u != '\n') || u == 0x7f) return true;
    }
    return false;
}

outcome_list reference_read(std::string_view in, const reply_reader_options& o) {
    outcome_list out;
    std::size_t pos = 0;
    for (;;) {
        const std::size_t start = pos;
        int code = -1;
        std::size_t lines = 0;
        for (;;) {
            const std::size_t lf = in.find('\n', pos);
            if (lf == std::string_view::npos) {
                out.error = in.size() - pos >= o.line_limit;
                return out;
            }
            if (lf + 1 - pos > o.line_limit) {
                out.error = true;
                return out;
            }
            std::string_view line = in.substr(pos, lf - pos);
            if (!line.empty() && line.back() == '\r')
                line.remove_suffix(1);
            else if (!o.lenient_bare_lf) {
                out.error = true;
                return out;
            }
            if (line.find('\r') != std::string_view::npos ||
                (!o.lenient_control_characters && has_control(line))) {
                out.error = true;
                return out;
            }
            if (line.size() < 3 || line[0] < '2' || line[0] > '5' || !digit(line[1]) ||
                !digit(line[2]) || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
                out.error = true;
                return out;
            }
            const int c = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
            if (code >= 0 && c != code) {
                out.error = true;
                return out;
            }
            code = c;
            ++lines;
            const bool last = line.size() == 3 || line[3] == ' ';
            if (!last && lines >= o.max_lines) {
                out.error = true;
                return out;
            }
            pos = lf + 1;
            if (last) break;
        }
        out.raws.emplace_back(in.substr(start, pos - start));
    }
}

void check_reply(const reply& r, const reply_reader_options& o) {
    FUZZ_CHECK(r.code >= 200 && r.code <= 599);
    FUZZ_CHECK(!r.raw.empty() && r.raw.back() == '\n');
    FUZZ_CHECK(r.line_count >= 1 && r.line_count <= (o.max_lines == 0 ? 1 : o.max_lines));
    if (!r.status.empty()) FUZZ_CHECK(r.status.cls == r.code / 100);
    FUZZ_CHECK(r.standard_code == (r.code / 10 % 10 <= 5));
    std::size_t lines = 0;
    std::string_view rest = r.raw;
    while (!rest.empty()) {
        const std::size_t lf = rest.find('\n');
        FUZZ_CHECK(lf != std::string_view::npos);
        FUZZ_CHECK(lf + 1 <= o.line_limit);
        std::string_view line = rest.substr(0, lf);
        if (!o.lenient_bare_lf) FUZZ_CHECK(!line.empty() && line.back() == '\r');
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        FUZZ_CHECK(line.size() >= 3);
        const int c = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        FUZZ_CHECK(c == r.code);
        const bool last = lf + 1 == rest.size();
        FUZZ_CHECK(last == (line.size() == 3 || line[3] == ' '));
        ++lines;
        rest.remove_prefix(lf + 1);
    }
    FUZZ_CHECK(lines == r.line_count);
    FUZZ_CHECK(r.controls == has_control(r.raw));
    if (r.controls) FUZZ_CHECK(o.lenient_control_characters);
    std::size_t texts = 0;
    for (std::string_view text : r.lines()) {
        FUZZ_CHECK(text.find('\n') == std::string_view::npos);
        ++texts;
    }
    FUZZ_CHECK(texts == r.line_count);
    (void)strip_enhanced_status(*r.lines().begin());
    // text() is the first line, without a status only when one was recognised.
    const std::string_view first = *r.lines().begin();
    FUZZ_CHECK(r.text() == (r.status.empty() ? first : strip_enhanced_status(first)));
}

// Feeds `input` in pieces chosen by `in` (whole when `in` is null); returns what was read.
outcome_list run(std::string_view input, const reply_reader_options& o,
                 smtpp_fuzz::fuzz_input* in) {
    reply_reader reader(o);
    outcome_list out;
    std::string consumed_so_far;
    std::string concatenated;
    const std::size_t bound = o.line_limit * (o.max_lines == 0 ? 1 : o.max_lines);
    // findings/reply_reader-1.txt: std::string::reserve may grow past the bound (at most 2x).
    static const std::size_t slack = smtpp_fuzz::tolerated("reply_reader-1") ? 2 : 1;
    const std::size_t heap_bound = (bound > 32 ? bound : 32) * slack;
    bool stop = false;
    auto feed = [&](std::string_view piece) {
        if (stop) return;
        while (true) {
            const read_result r = reader.read(piece);
            if (reader.capacity() > heap_bound) {
                std::fprintf(
                    stderr,
                    "capacity %zu > bound %zu (line_limit %zu, max_lines %zu) after read of %zu\n",
                    reader.capacity(), bound, o.line_limit, o.max_lines, piece.size());
            }
            FUZZ_CHECK(reader.capacity() <= heap_bound);
            if (r.error == errc::need_more_data) {
                FUZZ_CHECK(r.consumed == piece.size());
                consumed_so_far.append(piece.data(), piece.size());
                return;
            }
            if (r.error != errc::ok) {
                FUZZ_CHECK(r.consumed == 0);
                FUZZ_CHECK(reader.error() == r.error);
                const errc again = reader.read(piece).error;
                FUZZ_CHECK(again == r.error); // sticky
                out.error = true;
                stop = true;
                return;
            }
            FUZZ_CHECK(r.consumed <= piece.size());
            check_reply(r.reply, o);
            consumed_so_far.append(piece.data(), r.consumed);
            concatenated.append(r.reply.raw.data(), r.reply.raw.size());
            out.raws.emplace_back(r.reply.raw);
            // The replies' raw bytes are exactly what was consumed up to here.
            FUZZ_CHECK(concatenated == consumed_so_far);
            piece.remove_prefix(r.consumed);
            if (piece.empty()) return;
        }
    };
    if (in == nullptr) {
        feed(input);
    } else {
        smtpp_fuzz::for_each_piece(input, *in, 64, feed);
    }
    FUZZ_CHECK(input.substr(0, concatenated.size()) == concatenated);
    reader.reset();
    FUZZ_CHECK(reader.error() == errc::ok && !reader.mid_reply());
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t bits = data[0];
    reply_reader_options o;
    static constexpr std::size_t line_limits[] = {5, 16, 80, 512};
    static constexpr std::size_t max_lines[] = {1, 2, 5, 128};
    o.line_limit = line_limits[bits & 3u];
    o.max_lines = max_lines[(bits >> 2) & 3u];
    o.lenient_bare_lf = (bits & 16u) != 0;
    o.lenient_control_characters = (bits & 32u) != 0;

    smtpp_fuzz::fuzz_input in(data + 1, size - 1);
    // Split decisions come from the end; the server bytes are the whole remaining input so
    // that the reference sees the same bytes (the trailing octets are both data and decisions).
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

    const outcome_list reference = reference_read(input, o);
    const outcome_list whole = run(input, o, nullptr);
    const outcome_list split = run(input, o, &in);
    if (whole.raws != reference.raws || whole.error != reference.error) {
        std::fprintf(
            stderr, "reader: %zu replies error=%d, reference: %zu replies error=%d, input \"%s\"\n",
            whole.raws.size(), whole.error, reference.raws.size(), reference.error,
            escaped(input).c_str());
    }
    FUZZ_CHECK(whole.raws == reference.raws && whole.error == reference.error);
    FUZZ_CHECK(split.raws == whole.raws && split.error == whole.error);
    return 0;
}
