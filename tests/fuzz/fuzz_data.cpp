// Fuzz target: the DATA body codecs (include/smtpp/data.hpp): data_decoder (server) and
// data_encoder / scan_body (client).
//
// Input: byte 0 picks options (bits 0-1 text_line 1000/10/3/1, bits 2-3 max_size
// 0/16/1000/1, bit 4 the encoder's reject_bare_cr_lf); the rest is used twice: as the byte
// stream after a 354 (decoder) and as a message body (encoder). Piece sizes come from the
// input's trailing octets.
// Invariants:
//  - decoding never reports end-of-data unless the input holds CRLF "." CRLF at a line start
//    (or "." CRLF as the first line): a plain reference decoder written here (lines split at
//    CRLF only, a leading dot removed, "." ends) agrees on done, on the octets consumed and on
//    the body; without an end, the output is a prefix of the reference's, at most 2 octets
//    short (held-back bytes); every call makes progress;
//  - split invariance: the same bytes fed whole and in pieces give the same body, the same
//    consumed count and the same findings; findings (bare CR/LF, NUL, 8-bit, long line,
//    too large, offsets) and size() agree with the reference body;
//  - decode(encode(x)) == x after CRLF normalisation (bare CR or LF -> CRLF, a final CRLF
//    added to a non-empty body), consuming exactly the encoder's output; the wire form has no
//    bare CR or LF; next() segments, encode() and split feeding produce identical wire bytes;
//    traits() agree with a reference and with scan_body(); in reject mode a body with a bare
//    CR/LF fails with bare_cr/bare_lf and nothing bare reaches the output;
//  - body_scanner (raw BDAT text) reports, fed whole or in pieces, the findings of a reference
//    over the input as a raw body (a CRLF split between pieces is a line end; a final line
//    without CRLF is measured as if its CRLF followed), and size() is the input size.
#include <smtpp/data.hpp>

#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

using namespace smtpp;
using smtpp_fuzz::escaped;

namespace {

struct reference_decoding {
    bool done = false;
    std::size_t end = 0; // octets consumed, terminator included, when done
    std::string body;    // the body when done; else what the complete part decodes to
};

reference_decoding reference_decode(std::string_view in) {
    reference_decoding r;
    std::size_t pos = 0;
    for (;;) {
        const std::size_t crlf = in.find("\r\n", pos);
        if (crlf == std::string_view::npos) {
            std::string_view rest = in.substr(pos);
            if (!rest.empty() && rest[0] == '.') rest.remove_prefix(1);
            r.body.append(rest.data(), rest.size());
            return r;
        }
        std::string_view line = in.substr(pos, crlf - pos);
        if (line == ".") {
            r.done = true;
            r.end = crlf + 2;
            return r;
        }
        if (!line.empty() && line[0] == '.') line.remove_prefix(1);
        r.body.append(line.data(), line.size());
        r.body += "\r\n";
        pos = crlf + 2;
    }
}

struct decoded {
    std::string body;
    std::size_t consumed = 0;
    bool done = false;
    data_findings findings;
    std::uint64_t size = 0;
};

bool same_findings(const data_findings& a, const data_findings& b) {
    return a.bare_cr == b.bare_cr && a.bare_lf == b.bare_lf && a.nul == b.nul &&
           a.eight_bit == b.eight_bit && a.long_line == b.long_line && a.too_large == b.too_large &&
           a.bare_cr_at == b.bare_cr_at && a.bare_lf_at == b.bare_lf_at && a.nul_at == b.nul_at &&
           a.long_line_at == b.long_line_at;
}

decoded run_decoder(std::string_view input, std::size_t text_line, std::uint64_t max_size,
                    smtpp_fuzz::fuzz_input* in) {
    data_decoder decoder(text_line, max_size);
    decoded out;
    auto feed = [&](std::string_view piece) {
        while (!piece.empty() && !out.done) {
            const data_decoder::result r = decoder.decode(piece);
            FUZZ_CHECK(r.consumed <= piece.size());
            FUZZ_CHECK(r.consumed > 0 || !r.chunk.empty() || r.done); // progress
            out.body.append(r.chunk.data(), r.chunk.size());
            out.consumed += r.consumed;
            piece.remove_prefix(r.consumed);
            out.done = r.done;
            FUZZ_CHECK(decoder.done() == r.done);
        }
    };
    if (in == nullptr)
        feed(input);
    else
        smtpp_fuzz::for_each_piece(input, *in, 40, feed);
    if (out.done) {
        const data_decoder::result after = decoder.decode("more\r\n");
        FUZZ_CHECK(after.consumed == 0 && after.chunk.empty() && after.done);
    }
    out.findings = decoder.findings();
    out.size = decoder.size();
    return out;
}

// The findings a decoder must report for a complete body.
data_findings reference_findings(std::string_view body, std::size_t text_line,
                                 std::uint64_t max_size) {
    data_findings f;
    for (std::size_t i = 0; i < body.size(); ++i) {
        const char c = body[i];
        const bool bare_cr = c == '\r' && (i + 1 == body.size() || body[i + 1] != '\n');
        const bool bare_lf = c == '\n' && (i == 0 || body[i - 1] != '\r');
        if (bare_cr && !f.bare_cr) {
            f.bare_cr = true;
            f.bare_cr_at = i;
        }
        if (bare_lf && !f.bare_lf) {
            f.bare_lf = true;
            f.bare_lf_at = i;
        }
        if (c == '\0' && !f.nul) {
            f.nul = true;
            f.nul_at = i;
        }
        if (static_cast<unsigned char>(c) >= 0x80) f.eight_bit = true;
    }
    for (std::size_t start = 0; start < body.size();) {
        const std::size_t crlf = body.find("\r\n", start);
        const std::size_t next = crlf == std::string_view::npos ? body.size() : crlf + 2;
        if (next - start > text_line && !f.long_line) {
            f.long_line = true;
            f.long_line_at = start;
        }
        start = next;
    }
    f.too_large = max_size != 0 && body.size() > max_size;
    return f;
}

void print_findings(const char* name, const data_findings& f) {
    std::fprintf(stderr, "%s: cr=%d@%lld lf=%d@%lld nul=%d@%lld 8bit=%d long=%d@%lld large=%d\n",
                 name, f.bare_cr, static_cast<long long>(f.bare_cr_at), f.bare_lf,
                 static_cast<long long>(f.bare_lf_at), f.nul, static_cast<long long>(f.nul_at),
                 f.eight_bit, f.long_line, static_cast<long long>(f.long_line_at), f.too_large);
}

void check_decoder(std::string_view input, std::size_t text_line, std::uint64_t max_size,
                   smtpp_fuzz::fuzz_input& in) {
    const reference_decoding ref = reference_decode(input);
    const decoded whole = run_decoder(input, text_line, max_size, nullptr);
    const decoded split = run_decoder(input, text_line, max_size, &in);
    if (whole.done != ref.done) {
        std::fprintf(stderr, "decoder done=%d, reference done=%d for \"%s\"\n", whole.done,
                     ref.done, escaped(input).c_str());
    }
    FUZZ_CHECK(whole.done == ref.done);
    if (ref.done) {
        FUZZ_CHECK(whole.consumed == ref.end);
        if (whole.body != ref.body) {
            std::fprintf(stderr, "decoder body \"%s\" != reference \"%s\"\n",
                         escaped(whole.body).c_str(), escaped(ref.body).c_str());
        }
        FUZZ_CHECK(whole.body == ref.body);
        const data_findings expected = reference_findings(ref.body, text_line, max_size);
        if (!same_findings(whole.findings, expected)) {
            std::fprintf(stderr, "findings differ for body \"%s\" (text_line %zu, max_size %llu)\n",
                         escaped(ref.body).c_str(), text_line,
                         static_cast<unsigned long long>(max_size));
            print_findings("decoder  ", whole.findings);
            print_findings("reference", expected);
        }
        FUZZ_CHECK(same_findings(whole.findings, expected));
    } else {
        FUZZ_CHECK(whole.consumed == input.size());
        FUZZ_CHECK(ref.body.compare(0, whole.body.size(), whole.body) == 0);
        FUZZ_CHECK(ref.body.size() - whole.body.size() <= 2);
    }
    FUZZ_CHECK(whole.size == whole.body.size());
    // Split invariance.
    FUZZ_CHECK(split.done == whole.done && split.consumed == whole.consumed &&
               split.body == whole.body);
    FUZZ_CHECK(split.size == whole.size);
    if (!same_findings(split.findings, whole.findings)) {
        print_findings("split", split.findings);
        print_findings("whole", whole.findings);
    }
    FUZZ_CHECK(same_findings(split.findings, whole.findings));
}

// body_scanner's findings for a complete raw body: the decoder's reference, except that a last
// line without CRLF is measured as if it had one (a CR ending the body standing for its CR).
data_findings reference_scan(std::string_view body, std::size_t text_line) {
    data_findings f = reference_findings(body, text_line, 0);
    const std::size_t last_crlf = body.rfind("\r\n");
    const std::size_t start = last_crlf == std::string_view::npos ? 0 : last_crlf + 2;
    if (start < body.size() && !f.long_line) {
        const std::size_t open = body.size() - start + (body.back() == '\r' ? 1 : 2);
        if (open > text_line) {
            f.long_line = true;
            f.long_line_at = start;
        }
    }
    return f;
}

void check_scanner(std::string_view input, std::size_t text_line, smtpp_fuzz::fuzz_input& in) {
    body_scanner whole(text_line);
    whole.scan(input);
    whole.finish();
    body_scanner split(text_line);
    smtpp_fuzz::for_each_piece(input, in, 40, [&](std::string_view piece) { split.scan(piece); });
    split.finish();
    const data_findings expected = reference_scan(input, text_line);
    if (!same_findings(whole.findings(), expected)) {
        std::fprintf(stderr, "body_scanner findings differ for \"%s\" (text_line %zu)\n",
                     escaped(input).c_str(), text_line);
        print_findings("scanner  ", whole.findings());
        print_findings("reference", expected);
    }
    FUZZ_CHECK(same_findings(whole.findings(), expected));
    FUZZ_CHECK(same_findings(split.findings(), expected));
    FUZZ_CHECK(whole.size() == input.size() && split.size() == input.size());
}

bool has_bare(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) return true;
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return true;
    }
    return false;
}

struct encoded {
    std::string wire;
    errc error = errc::ok;
    body_traits traits;
};

encoded run_encoder(std::string_view body, const data_encoder_options& o,
                    smtpp_fuzz::fuzz_input* in, bool use_next) {
    data_encoder encoder(o);
    encoded out;
    auto feed = [&](std::string_view piece) {
        if (out.error != errc::ok) return;
        if (!use_next) {
            out.error = encoder.encode(out.wire, piece);
            return;
        }
        while (!piece.empty()) {
            const data_encoder::result r = encoder.next(piece);
            if (r.error != errc::ok) {
                FUZZ_CHECK(r.consumed == 0 && r.segment.empty());
                out.error = r.error;
                return;
            }
            FUZZ_CHECK(r.consumed > 0 || !r.segment.empty());
            out.wire.append(r.segment.data(), r.segment.size());
            piece.remove_prefix(r.consumed);
        }
    };
    if (in == nullptr)
        feed(body);
    else
        smtpp_fuzz::for_each_piece(body, *in, 40, feed);
    if (out.error == errc::ok) out.error = encoder.finish(out.wire);
    FUZZ_CHECK(encoder.error() == (out.error == errc::invalid_state ? errc::ok : out.error));
    out.traits = encoder.traits();
    return out;
}

bool same_traits(const body_traits& a, const body_traits& b) {
    return a.has_8bit == b.has_8bit && a.has_nul == b.has_nul && a.has_bare_cr == b.has_bare_cr &&
           a.has_bare_lf == b.has_bare_lf && a.long_line == b.long_line &&
           a.longest_line == b.longest_line && a.size == b.size;
}

void check_encoder(std::string_view body, std::size_t text_line, bool reject,
                   smtpp_fuzz::fuzz_input& in) {
    data_encoder_options o;
    o.normalize_line_endings = !reject;
    o.text_line = text_line;
    const encoded whole = run_encoder(body, o, nullptr, false);
    const encoded split = run_encoder(body, o, &in, true);
    FUZZ_CHECK(!has_bare(whole.wire));
    FUZZ_CHECK(whole.error == split.error && whole.wire == split.wire);
    const bool bare = has_bare(body);
    if (reject && bare) {
        FUZZ_CHECK(whole.error == errc::bare_cr || whole.error == errc::bare_lf);
        return;
    }
    FUZZ_CHECK(whole.error == errc::ok);
    FUZZ_CHECK(same_traits(whole.traits, split.traits));

    // The wire form decodes back to the normalised body, ending exactly at its end.
    const std::string expected = smtpp_fuzz::normalise(body);
    data_decoder decoder(text_line, 0);
    std::string back;
    std::string_view wire = whole.wire;
    std::size_t consumed = 0;
    bool done = false;
    while (!wire.empty() && !done) {
        const data_decoder::result r = decoder.decode(wire);
        back.append(r.chunk.data(), r.chunk.size());
        wire.remove_prefix(r.consumed);
        consumed += r.consumed;
        done = r.done;
    }
    if (!done || consumed != whole.wire.size() || back != expected) {
        std::fprintf(stderr, "round trip: body \"%s\" wire \"%s\" back \"%s\" done=%d\n",
                     escaped(body).c_str(), escaped(whole.wire).c_str(), escaped(back).c_str(),
                     done);
    }
    FUZZ_CHECK(done && consumed == whole.wire.size() && back == expected);
    FUZZ_CHECK(!decoder.findings().bare_cr && !decoder.findings().bare_lf);

    // Traits against a reference over the normalised body.
    body_traits t;
    for (std::size_t i = 0; i < body.size(); ++i) {
        const char c = body[i];
        if (static_cast<unsigned char>(c) >= 0x80) t.has_8bit = true;
        if (c == '\0') t.has_nul = true;
        if (c == '\r' && (i + 1 == body.size() || body[i + 1] != '\n')) t.has_bare_cr = true;
        if (c == '\n' && (i == 0 || body[i - 1] != '\r')) t.has_bare_lf = true;
    }
    for (std::size_t start = 0; start < expected.size();) {
        const std::size_t next = expected.find("\r\n", start) + 2;
        const std::uint64_t length = next - start;
        if (length > t.longest_line) t.longest_line = length;
        if (length > text_line) t.long_line = true;
        start = next;
    }
    t.size = expected.size();
    if (!same_traits(whole.traits, t)) {
        std::fprintf(stderr,
                     "traits: 8bit %d/%d nul %d/%d cr %d/%d lf %d/%d long %d/%d longest %llu/%llu "
                     "size %llu/%llu\n",
                     whole.traits.has_8bit, t.has_8bit, whole.traits.has_nul, t.has_nul,
                     whole.traits.has_bare_cr, t.has_bare_cr, whole.traits.has_bare_lf,
                     t.has_bare_lf, whole.traits.long_line, t.long_line,
                     static_cast<unsigned long long>(whole.traits.longest_line),
                     static_cast<unsigned long long>(t.longest_line),
                     static_cast<unsigned long long>(whole.traits.size),
                     static_cast<unsigned long long>(t.size));
    }
    FUZZ_CHECK(same_traits(whole.traits, t));
    FUZZ_CHECK(same_traits(scan_body(body, text_line), t));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static constexpr std::size_t text_lines[] = {1000, 10, 3, 1};
    static constexpr std::uint64_t max_sizes[] = {0, 16, 1000, 1};
    const std::size_t text_line = text_lines[data[0] & 3u];
    const std::uint64_t max_size = max_sizes[(data[0] >> 2) & 3u];
    const bool reject = (data[0] & 16u) != 0;
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    smtpp_fuzz::fuzz_input in(data + 1, size - 1);
    check_decoder(input, text_line, max_size, in);
    check_encoder(input, text_line, reject, in);
    check_scanner(input, text_line, in);
    return 0;
}
