#include <smtpp/data.hpp>

#include "allocation_counter.hpp"
#include "fuzz/fuzz_support.hpp" // smtpp_fuzz::normalise(): the body the encoder must deliver
#include "smtpp_catch.hpp"
#include "split_grind.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using namespace std::string_view_literals;

namespace {

// ---------------------------------------------------------------------------------------------
// Drivers.

struct decoded {
    std::string body;
    smtpp::data_findings findings;
    std::uint64_t size = 0;
    std::size_t consumed = 0;
    bool done = false;
    bool stuck = false; // a call made no progress: a decoder bug
};

decoded decode_pieces(const std::vector<std::string_view>& pieces,
                      smtpp::data_decoder decoder = {}) {
    decoded out;
    for (std::string_view piece : pieces) {
        int idle = 0;
        while (!piece.empty() && !out.done) {
            const auto r = decoder.decode(piece);
            out.body.append(r.chunk.data(), r.chunk.size());
            piece.remove_prefix(r.consumed);
            out.consumed += r.consumed;
            out.done = r.done;
            idle = r.consumed == 0 ? idle + 1 : 0;
            if (idle > 2) {
                out.stuck = true;
                return out;
            }
        }
        if (out.done) break;
    }
    out.findings = decoder.findings();
    out.size = decoder.size();
    return out;
}

decoded decode_whole(std::string_view wire, smtpp::data_decoder decoder = {}) {
    return decode_pieces({wire}, decoder);
}

std::string describe(const decoded& d) {
    const auto& f = d.findings;
    std::string s = "body=" + d.body;
    s += " cr=" + std::to_string(f.bare_cr) + "@" + std::to_string(f.bare_cr_at);
    s += " lf=" + std::to_string(f.bare_lf) + "@" + std::to_string(f.bare_lf_at);
    s += " nul=" + std::to_string(f.nul) + "@" + std::to_string(f.nul_at);
    s += " long=" + std::to_string(f.long_line) + "@" + std::to_string(f.long_line_at);
    s += " 8bit=" + std::to_string(f.eight_bit) + " big=" + std::to_string(f.too_large);
    s += " size=" + std::to_string(d.size) + " consumed=" + std::to_string(d.consumed);
    s += " done=" + std::to_string(d.done) + " stuck=" + std::to_string(d.stuck);
    return s;
}

struct encoded {
    std::string wire;
    smtpp::errc error = smtpp::errc::ok;
    smtpp::body_traits traits;
};

// Appending form.
encoded encode_pieces(const std::vector<std::string_view>& pieces,
                      smtpp::data_encoder_options options = {}) {
    smtpp::data_encoder encoder(options);
    encoded out;
    for (std::string_view piece : pieces) {
        out.error = encoder.encode(out.wire, piece);
        if (out.error != smtpp::errc::ok) return out;
    }
    out.error = encoder.finish(out.wire);
    out.traits = encoder.traits();
    return out;
}

// Segment (writev) form.
encoded encode_segments(const std::vector<std::string_view>& pieces,
                        smtpp::data_encoder_options options = {}) {
    smtpp::data_encoder encoder(options);
    encoded out;
    for (std::string_view piece : pieces) {
        while (!piece.empty()) {
            const auto r = encoder.next(piece);
            if (r.error != smtpp::errc::ok) {
                out.error = r.error;
                return out;
            }
            out.wire.append(r.segment.data(), r.segment.size());
            piece.remove_prefix(r.consumed);
        }
    }
    const auto last = encoder.finish();
    out.error = last.error;
    out.wire.append(last.segment.data(), last.segment.size());
    out.traits = encoder.traits();
    return out;
}

std::string describe(const encoded& e) {
    const auto& t = e.traits;
    return e.wire + "|err=" + smtpp::to_string(e.error) + " 8=" + std::to_string(t.has_8bit) +
           " nul=" + std::to_string(t.has_nul) + " cr=" + std::to_string(t.has_bare_cr) +
           " lf=" + std::to_string(t.has_bare_lf) + " long=" + std::to_string(t.long_line) +
           " longest=" + std::to_string(t.longest_line) + " size=" + std::to_string(t.size);
}

// ---------------------------------------------------------------------------------------------
// Plain reference implementations, written from the RFC text without the codecs' tricks.

struct reference_decoded {
    bool done = false;
    std::size_t consumed = 0;
    std::string body;
};

// The DATA command's CRLF is the first CRLF of the terminator; only CRLF "." CRLF ends.
reference_decoded reference_decode(std::string_view wire) {
    const std::string framed = "\r\n" + std::string(wire);
    const std::size_t at = framed.find("\r\n.\r\n");
    reference_decoded out;
    if (at == std::string::npos) return out;
    out.done = true;
    out.consumed = at + 3;
    const std::string_view lines = wire.substr(0, at); // includes the body's last CRLF
    bool line_start = true;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (!(line_start && lines[i] == '.')) out.body += lines[i];
        line_start = i > 0 && lines[i - 1] == '\r' && lines[i] == '\n';
    }
    return out;
}

// Facts about an unstuffed body, computed naively.
smtpp::data_findings reference_findings(std::string_view body, std::size_t text_line) {
    smtpp::data_findings f;
    auto mark = [](bool& flag, std::uint64_t& at, std::size_t i) {
        if (!flag) at = i;
        flag = true;
    };
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < body.size(); ++i) {
        const char c = body[i];
        const bool crlf_lf = c == '\n' && i > 0 && body[i - 1] == '\r';
        if (c == '\r' && (i + 1 == body.size() || body[i + 1] != '\n'))
            mark(f.bare_cr, f.bare_cr_at, i);
        if (c == '\n' && !crlf_lf) mark(f.bare_lf, f.bare_lf_at, i);
        if (c == '\0') mark(f.nul, f.nul_at, i);
        if (static_cast<unsigned char>(c) >= 0x80) f.eight_bit = true;
        if (crlf_lf) {
            if (i + 1 - line_start > text_line) mark(f.long_line, f.long_line_at, line_start);
            line_start = i + 1;
        }
    }
    return f;
}

std::string reference_encode(std::string_view body) {
    const std::string lines = smtpp_fuzz::normalise(body);
    std::string wire;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i] == '.' && (i == 0 || lines[i - 1] == '\n')) wire += '.';
        wire += lines[i];
    }
    return wire + ".\r\n";
}

void check_findings_equal(const smtpp::data_findings& got, const smtpp::data_findings& want) {
    CHECK(got.bare_cr == want.bare_cr);
    CHECK(got.bare_cr_at == want.bare_cr_at);
    CHECK(got.bare_lf == want.bare_lf);
    CHECK(got.bare_lf_at == want.bare_lf_at);
    CHECK(got.nul == want.nul);
    CHECK(got.nul_at == want.nul_at);
    CHECK(got.eight_bit == want.eight_bit);
    CHECK(got.long_line == want.long_line);
    CHECK(got.long_line_at == want.long_line_at);
}

// Random pieces of `s`, sizes from 1 to `max_piece`.
std::vector<std::string_view> random_pieces(std::string_view s, std::mt19937& rng,
                                            std::size_t max_piece) {
    std::vector<std::string_view> pieces;
    std::uniform_int_distribution<std::size_t> size(1, max_piece);
    while (!s.empty()) {
        const std::size_t n = std::min(size(rng), s.size());
        pieces.push_back(s.substr(0, n));
        s.remove_prefix(n);
    }
    return pieces;
}

std::string random_from_tokens(std::mt19937& rng, const std::vector<std::string>& tokens,
                               std::size_t max_tokens) {
    std::uniform_int_distribution<std::size_t> count(0, max_tokens);
    std::uniform_int_distribution<std::size_t> pick(0, tokens.size() - 1);
    std::string s;
    for (std::size_t i = count(rng); i > 0; --i) s += tokens[pick(rng)];
    return s;
}

const std::vector<std::string> body_tokens = {"a",
                                              "hello world",
                                              " ",
                                              "\t",
                                              ".",
                                              "..",
                                              "...",
                                              ".\r\n",
                                              "\r\n",
                                              "\r\n",
                                              "\r\n.",
                                              "\r\n..",
                                              "\r",
                                              "\n",
                                              std::string(1, '\0'),
                                              "\xE9",
                                              "\xFF\x80",
                                              "\r\n.\r\n",
                                              "x\r\n.\r\nBDAT 5 LAST\r\n",
                                              std::string(40, 'q'),
                                              std::string(997, 'L'),
                                              std::string(1001, 'M')};

// Wire tokens: more CR/LF/dot mixes, since this is the decoder's attack surface.
const std::vector<std::string> wire_tokens = {"a",
                                              "bc",
                                              ".",
                                              "..",
                                              "\r",
                                              "\n",
                                              "\r\n",
                                              "\r\n.",
                                              ".\r",
                                              ".\n",
                                              "\r.",
                                              "\n.",
                                              std::string(1, '\0'),
                                              "\xC3\xA9",
                                              " ",
                                              "\r\n.\r",
                                              "\r\n.\r\n",
                                              "\n.\n",
                                              std::string(20, 'z')};

} // namespace

// ---------------------------------------------------------------------------------------------
// Section 5: DATA and transparency.

TEST_CASE("S-5321-4.5.2-b: a lone dot line ends data; a leading dot is removed from others",
          "[data]") {
    const auto d = decode_whole("..x\r\n.y\r\n.\r\n");
    CHECK(d.done);
    CHECK(d.body == ".x\r\ny\r\n");
    CHECK(d.consumed == 12);
    CHECK(d.findings.error() == smtpp::errc::ok);
}

TEST_CASE("S-5321-4.1.1.4-a: LF.LF is not end of data", "[data]") {
    smtpp::data_decoder decoder;
    const auto first = decode_pieces({"x\n.\n"}, decoder);
    CHECK_FALSE(first.done);
    CHECK(first.consumed == 4);
    const auto d = decode_whole("x\n.\n\r\n.\r\n");
    CHECK(d.done);
    CHECK(d.body == "x\n.\n\r\n");
    CHECK(d.findings.bare_lf);
    CHECK(d.findings.bare_lf_at == 1);
    CHECK(d.findings.error() == smtpp::errc::bare_lf);
}

TEST_CASE("S-5321-4.1.1.4-e: .CRLF right after 354 ends an empty body", "[data]") {
    const auto d = decode_whole(".\r\nNOOP\r\n");
    CHECK(d.done);
    CHECK(d.body.empty());
    CHECK(d.size == 0);
    CHECK(d.consumed == 3);
}

TEST_CASE("S-5321-4.5.2-c: end of data is found across any feed split; '. ' lines are data",
          "[data]") {
    smtpp::data_decoder decoder;
    auto r = decoder.decode("a\r\n.");
    CHECK(r.chunk == "a\r\n");
    CHECK(r.consumed == 4);
    CHECK_FALSE(r.done);
    r = decoder.decode("\r\nMAIL");
    CHECK(r.done);
    CHECK(r.consumed == 2);
    CHECK(decoder.size() == 3);

    const auto d = decode_whole("a\r\n. \r\n.\r\n");
    CHECK(d.done);
    CHECK(d.body == "a\r\n \r\n");
}

TEST_CASE("S-5321-4.5.2-d: delivered data is byte-exact for any 7-bit body", "[data]") {
    std::mt19937 rng(4521);
    std::uniform_int_distribution<int> octet(1, 127);
    for (int round = 0; round < 300; ++round) {
        std::string body;
        for (int i = std::uniform_int_distribution<int>(0, 300)(rng); i > 0; --i) {
            body += static_cast<char>(octet(rng));
        }
        const auto e = encode_pieces(random_pieces(body, rng, 40));
        REQUIRE(e.error == smtpp::errc::ok);
        const auto d = decode_pieces(random_pieces(e.wire, rng, 40));
        CHECK(d.done);
        CHECK(d.body == smtpp_fuzz::normalise(body));
    }
}

TEST_CASE("S-5321-4.5.2-a: the encoder doubles every leading dot, across pieces too", "[data]") {
    CHECK(encode_pieces({".hidden\r\n"}).wire == "..hidden\r\n.\r\n");
    CHECK(encode_pieces({"a\r\n", ".b\r\n", "."}).wire == "a\r\n..b\r\n..\r\n.\r\n");
    CHECK(encode_pieces({"a\r", "\n", ".", "\r\n"}).wire == "a\r\n..\r\n.\r\n");
    CHECK(encode_pieces({"x.y\r\n.\r\n"}).wire == "x.y\r\n..\r\n.\r\n");
}

TEST_CASE("S-5321-4.1.1.4-c: no extra CRLF before the terminator", "[data]") {
    CHECK(encode_pieces({"a\r\n"}).wire == "a\r\n.\r\n");
    CHECK(encode_pieces({}).wire == ".\r\n");
    CHECK(encode_segments({"a\r\n"}).wire == "a\r\n.\r\n");
}

TEST_CASE("S-5321-4.1.1.4-d: a body without a final CRLF gets one", "[data]") {
    CHECK(encode_pieces({"a"}).wire == "a\r\n.\r\n");
    CHECK(encode_pieces({"a"}).traits.size == 3);
    CHECK(encode_pieces({"a\r\nb"}).wire == "a\r\nb\r\n.\r\n");
}

TEST_CASE("S-5321-2.4-c: the pre-scan tells a client a body needs 8BITMIME", "[data]") {
    CHECK(smtpp::scan_body("caf\xE9\r\n").has_8bit);
    CHECK_FALSE(smtpp::scan_body("cafe\r\n").has_8bit);
    CHECK(smtpp::scan_body(std::string(100, 'a') + "\x80").has_8bit); // in the vector loop tail
    CHECK(smtpp::scan_body(std::string(100, 'a') + "\x80" + std::string(100, 'b')).has_8bit);
    CHECK(encode_pieces({"a", "\xE9"}).traits.has_8bit);
}

// ---------------------------------------------------------------------------------------------
// Other rows the codecs carry.

TEST_CASE("S-5321-2.3.8-b: bare CR and LF become CRLF, or are refused", "[data]") {
    CHECK(encode_pieces({"a\nb\rc"}).wire == "a\r\nb\r\nc\r\n.\r\n");
    CHECK(encode_segments({"a\nb\rc"}).wire == "a\r\nb\r\nc\r\n.\r\n");
    // A CR at the end of one piece and an LF at the start of the next are one CRLF.
    CHECK(encode_pieces({"a\r", "\nb"}).wire == "a\r\nb\r\n.\r\n");
    CHECK(encode_pieces({"a\r", "b"}).wire == "a\r\nb\r\n.\r\n");
    CHECK(encode_pieces({"a\r"}).wire == "a\r\n.\r\n");
    CHECK(encode_pieces({"\r", "\r", "\n"}).wire == "\r\n\r\n.\r\n");
    CHECK(encode_pieces({"a\r\n\r.x"}).wire == "a\r\n\r\n..x\r\n.\r\n");
    const auto traits = encode_pieces({"a\nb\rc"}).traits;
    CHECK(traits.has_bare_cr);
    CHECK(traits.has_bare_lf);
    CHECK(traits.has_bare_cr_or_lf());

    smtpp::data_encoder_options strict;
    strict.normalize_line_endings = false;
    const auto lf = encode_pieces({"a\nb"}, strict);
    CHECK(lf.error == smtpp::errc::bare_lf);
    CHECK(lf.wire == "a");
    const auto cr = encode_pieces({"ab\r", "c"}, strict);
    CHECK(cr.error == smtpp::errc::bare_cr);
    CHECK(cr.wire == "ab"); // the held CR never left
    CHECK(encode_pieces({"ab\r"}, strict).error == smtpp::errc::bare_cr);
    CHECK(encode_pieces({"ab\r", "\n"}, strict).wire == "ab\r\n.\r\n");

    smtpp::data_encoder encoder(strict);
    std::string out;
    CHECK(encoder.encode(out, "x\n") == smtpp::errc::bare_lf);
    CHECK(encoder.encode(out, "y") == smtpp::errc::bare_lf); // sticky
    CHECK(encoder.finish(out) == smtpp::errc::bare_lf);
    CHECK(out == "x");
    encoder.reset();
    CHECK(encoder.encode(out, "y") == smtpp::errc::ok);
}

TEST_CASE("S-5321-4.5.3.1.6-a: data lines of 1000 octets incl CRLF are fine; the stuffed dot is "
          "not counted",
          "[data]") {
    const std::string line998(998, 'x');
    auto d = decode_whole(line998 + "\r\n." + line998 + "\r\n.\r\n");
    CHECK(d.done);
    CHECK_FALSE(d.findings.long_line);
    CHECK(d.size == 2000);
    CHECK(d.body == line998 + "\r\n" + line998 + "\r\n");

    d = decode_whole("ok\r\n" + line998 + "y\r\n.\r\n");
    CHECK(d.findings.long_line);
    CHECK(d.findings.long_line_at == 4);
    CHECK(d.findings.error() == smtpp::errc::text_line_too_long);
    CHECK(decode_whole("." + line998 + "y\r\n.\r\n").findings.long_line);

    // The encoder reports what it cannot fix.
    CHECK_FALSE(smtpp::scan_body(line998 + "\r\n" + line998).long_line);
    CHECK(smtpp::scan_body(line998 + "\r\n" + line998).longest_line == 1000);
    CHECK(smtpp::scan_body("." + line998.substr(1)).longest_line ==
          1000); // the added dot is not counted
    CHECK(smtpp::scan_body(line998 + "y").long_line);
    CHECK(smtpp::scan_body(line998 + "y").longest_line == 1001);

    // A configured limit; a line still open at a feed boundary is already known to be long.
    smtpp::data_decoder small(10);
    auto r = small.decode("0123456789");
    CHECK(r.consumed == 10);
    CHECK(small.findings().long_line);
    smtpp::data_decoder exact(10);
    r = exact.decode("01234567\r");
    CHECK_FALSE(exact.findings().long_line);
    r = exact.decode("\n.\r\n");
    CHECK(r.done);
    CHECK_FALSE(exact.findings().long_line);
}

TEST_CASE("S-1870-5-a: the message size counts CRLFs, not stuffing dots or the terminator",
          "[data]") {
    const auto d = decode_whole("..x\r\n.\r\n");
    CHECK(d.body == ".x\r\n");
    CHECK(d.size == 4);
    smtpp::data_encoder encoder;
    std::string wire;
    CHECK(encoder.encode(wire, ".x") == smtpp::errc::ok);
    CHECK(encoder.finish(wire) == smtpp::errc::ok);
    CHECK(wire == "..x\r\n.\r\n");
    CHECK(encoder.size() == 4);
    CHECK(smtpp::scan_body(".x").size == 4);
}

TEST_CASE("S-1870-6-a S-1870-4-a: the size limit never moves the end; an over-size body is read to "
          "its end",
          "[data]") {
    const std::string body(100, 'b');
    smtpp::data_decoder decoder(1000, 5); // as if SIZE=5 had been declared and enforced
    const std::string wire = body + "\r\n.\r\nRSET\r\n";
    const auto d = decode_pieces({wire}, decoder);
    CHECK(d.done);
    CHECK(d.size == 102);
    CHECK(d.consumed == wire.size() - 6);
    CHECK(d.findings.too_large);
    CHECK(d.findings.error() == smtpp::errc::message_too_large);

    smtpp::data_decoder limits_based{smtpp::limits{}};
    CHECK_FALSE(decode_pieces({wire}, limits_based).findings.too_large);
    smtpp::data_decoder later;
    (void)later.decode("0123456789");
    later.set_max_size(4);
    CHECK(later.findings().too_large);
}

TEST_CASE("S-6152-3-c: 8-bit octets survive; stuffing and line limits still apply", "[data]") {
    std::string body;
    for (int c = 0x80; c <= 0xFF; ++c) body += static_cast<char>(c);
    body += "\r\n.dot\r\n";
    const auto e = encode_pieces({body});
    CHECK(e.traits.has_8bit);
    CHECK(e.wire.find("\r\n..dot\r\n") != std::string::npos);
    const auto d = decode_whole(e.wire);
    CHECK(d.body == body);
    CHECK(d.findings.eight_bit);
    CHECK(decode_whole(std::string(999, '\xE9') + "\r\n.\r\n").findings.long_line);
    CHECK_FALSE(decode_whole("plain\r\n.\r\n").findings.eight_bit);
}

// ---------------------------------------------------------------------------------------------
// Smuggling: every near-terminator is data.

TEST_CASE("S-5321-4.1.1.4-a S-5321-2.3.8-a: no end-of-data trick ends the message early",
          "[data][smuggling]") {
    struct trick {
        std::string_view wire;
        std::string_view body; // the trick as delivered: a dot at a real line start is unstuffed
        bool bare_cr, bare_lf, nul;
    };
    const trick tricks[] = {
        {"\n.\n"sv, "\n.\n"sv, false, true, false},
        {"\n.\r\n"sv, "\n.\r\n"sv, false, true, false},
        {"\r\n.\n"sv, "\r\n\n"sv, false, true, false},
        {"\r.\r"sv, "\r.\r"sv, true, false, false},
        {"\r.\n"sv, "\r.\n"sv, true, true, false},
        {"\n.\r"sv, "\n.\r"sv, true, true, false},
        {"\r.\r\n"sv, "\r.\r\n"sv, true, false, false},
        {"\r\n.\r"sv, "\r\n\r"sv, true, false, false},
        {"\r\n.\r\r\n"sv, "\r\n\r\r\n"sv, true, false, false},
        {"\r\n. \r\n"sv, "\r\n \r\n"sv, false, false, false},
        {"\r\n.\t\r\n"sv, "\r\n\t\r\n"sv, false, false, false},
        {"\r\n\0.\r\n"sv, "\r\n\0.\r\n"sv, false, false, true},
        {"\r\n.\0\r\n"sv, "\r\n\0\r\n"sv, false, false, true},
        {"\n\r.\r\n"sv, "\n\r.\r\n"sv, true, true, false},
        {"\n\n.\n\n"sv, "\n\n.\n\n"sv, false, true, false},
        {"\r\n..\r\n"sv, "\r\n.\r\n"sv, false, false, false},
        {"\r\n.\n.\r\n"sv, "\r\n\n.\r\n"sv, false, true, false},
    };
    const std::string head = "Subject: t\r\n\r\nbody";
    const std::string smuggled = "BDAT 5 LAST\r\nMAIL FROM:<evil@example.org>\r\n";
    const std::string next = "QUIT\r\n";
    for (const auto& t : tricks) {
        CAPTURE(t.wire);
        const std::string wire = head + std::string(t.wire) + smuggled + "\r\n.\r\n" + next;
        const std::string expected = head + std::string(t.body) + smuggled + "\r\n";
        const auto d = decode_whole(wire);
        CHECK(d.done);
        CHECK(d.body == expected);
        CHECK(d.consumed == wire.size() - next.size());
        CHECK(d.size == expected.size());
        CHECK(d.findings.bare_cr == t.bare_cr);
        CHECK(d.findings.bare_lf == t.bare_lf);
        CHECK(d.findings.nul == t.nul);
        if (t.bare_cr || t.bare_lf || t.nul) CHECK(d.findings.error() != smtpp::errc::ok);
        const auto divergent =
            smtpp_test::first_divergent_split(wire, [](const std::vector<std::string_view>& p) {
                return describe(decode_pieces(p));
            });
        CHECK(divergent == -1);
        // The trick first in the body (right after the DATA line) is no end either.
        const std::string first =
            std::string(t.wire).substr(t.wire[0] == '\r' && t.wire[1] == '\n' ? 2 : 0) + smuggled +
            "\r\n.\r\n";
        const auto f = decode_whole(first);
        CHECK(f.done);
        CHECK(f.consumed == first.size());
    }
}

TEST_CASE("S-5321-4.5.2-b: a trailing fake end without the real one never reports done",
          "[data][smuggling]") {
    for (std::string_view tail :
         {"\n.\n"sv, "\r\n.\n"sv, "\n.\r\n"sv, "\r.\r"sv, "\r\n."sv, "\r\n.\r"sv}) {
        const std::string wire = "x" + std::string(tail);
        const auto d = decode_whole(wire);
        CHECK_FALSE(d.done);
        CHECK(d.consumed == wire.size());
    }
}

// ---------------------------------------------------------------------------------------------
// Incremental behaviour.

TEST_CASE(
    "S-5321-4.5.2-c: decoder split grind: every split gives the same body, flags, size, consumed",
    "[data][split]") {
    const std::vector<std::string> corpus = {
        ".\r\n",
        "..\r\n.\r\n",
        "a\r\n.\r\nNOOP\r\n",
        "..x\r\n.y\r\n.\r\nRSET\r\n",
        "x\n.\nmore\r\n.\r\n",
        "\r\n\r\n.\r\n",
        ".\rx\r\n.\r\n",
        "..\r.\r\n\r\n.\r\n",
        std::string("a\0b\xE9\r\n.\0\r\n.\r\nQ"sv),
        "\r\r\n.\r\n",
        "tail without end\r\n.",
        "...\r\n..\r\n.\r\r\n.\n\r\n.\r\nMAIL",
        std::string(30, 'k') + "\r\n" + std::string(30, 'm') + "\r\n.\r\n",
    };
    for (const auto& input : corpus) {
        CAPTURE(input);
        for (std::size_t text_line : {std::size_t{1000}, std::size_t{8}}) {
            const auto divergent = smtpp_test::first_divergent_split(
                input, [&](const std::vector<std::string_view>& p) {
                    return describe(decode_pieces(p, smtpp::data_decoder(text_line, 20)));
                });
            CHECK(divergent == -1);
        }
    }
}

TEST_CASE("S-5321-4.5.2-a: encoder split grind: every split gives the same wire bytes and traits",
          "[data][split]") {
    const std::vector<std::string> corpus = {
        "",
        ".",
        "..",
        ".\r\n",
        "a\r\n.",
        ".hidden\r\n.\r\n",
        "a\nb\rc",
        "a\r\n\r\n",
        "\r\r\n\n",
        "x\r\n.\r\nBDAT 5 LAST\r\n",
        std::string("n\0ul\xE9\r\n"sv),
        "end\r",
        std::string(12, 'w') + "\r\n." + std::string(12, 'v'),
    };
    for (const auto& input : corpus) {
        CAPTURE(input);
        for (bool strict : {false, true}) {
            const smtpp::data_encoder_options options{!strict, 10};
            const auto divergent = smtpp_test::first_divergent_split(
                input, [&](const std::vector<std::string_view>& p) {
                    return describe(encode_pieces(p, options)) + "#" +
                           describe(encode_segments(p, options));
                });
            CHECK(divergent == -1);
            const auto whole = encode_pieces({input}, options);
            CHECK(describe(whole) == describe(encode_segments({input}, options)));
        }
    }
}

TEST_CASE("S-5321-4.5.2-d S-6152-3-c: encoder then decoder is the identity on thousands of bodies",
          "[data][property]") {
    std::mt19937 rng(20231218);
    for (int round = 0; round < 3000; ++round) {
        const std::string body = random_from_tokens(rng, body_tokens, 24);
        CAPTURE(body);
        const auto e =
            encode_pieces(random_pieces(body, rng, 1 + static_cast<std::size_t>(round % 50)));
        REQUIRE(e.error == smtpp::errc::ok);
        CHECK(e.wire == reference_encode(body));
        const std::string expected = smtpp_fuzz::normalise(body);
        CHECK(e.traits.size == expected.size());

        const std::string wire = e.wire + "QUIT\r\n";
        const auto d =
            decode_pieces(random_pieces(wire, rng, 1 + static_cast<std::size_t>(round % 70)));
        CHECK(d.done);
        CHECK(d.consumed == e.wire.size()); // never earlier than the encoder's own end
        CHECK(d.body == expected);
        CHECK(d.size == expected.size());
        CHECK_FALSE(d.findings.bare_cr);
        CHECK_FALSE(d.findings.bare_lf);
        CHECK(d.findings.nul == e.traits.has_nul);
        CHECK(d.findings.eight_bit == e.traits.has_8bit);
        CHECK(d.findings.long_line == e.traits.long_line);
        CHECK(smtpp::scan_body(body).size == e.traits.size);
    }
}

TEST_CASE("S-5321-4.1.1.4-a: the decoder matches a plain reference on random wire bytes",
          "[data][property]") {
    std::mt19937 rng(5321);
    for (int round = 0; round < 6000; ++round) {
        std::string wire = random_from_tokens(rng, wire_tokens, 30);
        if (round % 3 == 0) wire += "\r\n.\r\nNOOP\r\n";
        CAPTURE(wire);
        const std::size_t text_line = round % 2 == 0 ? 1000 : 6;
        const auto ref = reference_decode(wire);
        const auto d =
            decode_pieces(random_pieces(wire, rng, 1 + static_cast<std::size_t>(round % 20)),
                          smtpp::data_decoder(text_line));
        REQUIRE_FALSE(d.stuck);
        CHECK(d.done == ref.done);
        if (!ref.done) {
            CHECK(d.consumed == wire.size());
            continue;
        }
        CHECK(d.consumed == ref.consumed);
        CHECK(d.body == ref.body);
        CHECK(d.size == ref.body.size());
        check_findings_equal(d.findings, reference_findings(ref.body, text_line));
    }
}

TEST_CASE("S-5321-2.3.8-a: special octets are found at every offset of the vector blocks",
          "[data]") {
    for (const char special : {'\r', '\n', '\0', '\xE9', '\t'}) {
        for (std::size_t at = 0; at < 200; ++at) {
            std::string wire(200, 'a');
            for (std::size_t i = 5; i < wire.size(); i += 37)
                wire[i] = '\t'; // coarse-filter decoys
            wire[at] = special;
            wire += "\r\n.\r\n";
            CAPTURE(special, at);
            const auto ref = reference_decode(wire);
            const auto d = decode_whole(wire, smtpp::data_decoder(1000));
            CHECK(d.done);
            CHECK(d.body == ref.body);
            check_findings_equal(d.findings, reference_findings(ref.body, 1000));
            CHECK(smtpp::scan_body(std::string_view(wire).substr(0, 200)).has_8bit ==
                  (special == '\xE9'));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Resources.

TEST_CASE("data_decoder hands out views into the input when nothing needs unstuffing",
          "[data][zero-copy]") {
    std::string wire;
    for (int i = 0; i < 200; ++i)
        wire += "Line " + std::to_string(i) + " of a body without leading dots\r\n";
    wire += ".\r\nQUIT\r\n";
    smtpp::data_decoder decoder;
    std::string_view in = wire;
    std::size_t chunks = 0;
    while (!in.empty()) {
        const auto r = decoder.decode(in);
        if (!r.chunk.empty()) {
            ++chunks;
            CHECK(r.chunk.data() >= wire.data());
            CHECK(r.chunk.data() + r.chunk.size() <= wire.data() + wire.size());
        }
        in.remove_prefix(r.consumed);
        if (r.done) break;
    }
    CHECK(chunks == 1);
    CHECK(in == "QUIT\r\n");

    // Held bytes come from constants, everything else still from the input.
    smtpp::data_decoder held;
    (void)held.decode("a\r\n.\r");
    const auto r = held.decode("x\r\n.\r\n");
    CHECK(r.chunk == "\r");
    CHECK(r.consumed == 0);
    CHECK(held.findings().bare_cr);
    CHECK(held.findings().bare_cr_at == 3);
}

TEST_CASE("data_encoder segments are views into the input or constants", "[data][zero-copy]") {
    const std::string body = "a\r\n.b\nc";
    smtpp::data_encoder encoder;
    std::string_view in = body;
    std::vector<std::string> segments;
    while (!in.empty()) {
        const auto r = encoder.next(in);
        REQUIRE(r.error == smtpp::errc::ok);
        const bool inside =
            r.segment.data() >= body.data() && r.segment.data() <= body.data() + body.size();
        segments.push_back((inside ? "in:" : "const:") + std::string(r.segment));
        in.remove_prefix(r.consumed);
    }
    segments.push_back("const:" + std::string(encoder.finish().segment));
    const std::vector<std::string> expected = {"in:a\r\n",   "const:.", "in:.b",
                                               "const:\r\n", "in:c",    "const:\r\n.\r\n"};
    CHECK(segments == expected);
    CHECK(encoder.finished());
    CHECK(encoder.next("more").error == smtpp::errc::invalid_state);
    CHECK(encoder.finish().error == smtpp::errc::invalid_state);
}

namespace {
struct fixed_out {
    char data[4096];
    std::size_t size = 0;
    void append(const char* p, std::size_t n) {
        for (std::size_t i = 0; i < n && size < sizeof data; ++i) data[size++] = p[i];
    }
};
} // namespace

TEST_CASE("the DATA codecs never allocate", "[data][alloc]") {
    const std::string body = "From: a\r\n.dot\r\nbare\nlf\r\n" + std::string(300, 'z') + "\xE9";
    std::string wire = reference_encode(body) + "NOOP\r\n";
    fixed_out out;
    smtpp::errc errors[3] = {};
    bool done = false;
    bool eight = false;
    const auto count = smtpp_test::allocations_during([&] {
        smtpp::data_encoder encoder;
        errors[0] = encoder.encode(out, std::string_view(body).substr(0, 11));
        errors[1] = encoder.encode(out, std::string_view(body).substr(11));
        errors[2] = encoder.finish(out);
        smtpp::data_decoder decoder;
        std::string_view in = wire;
        for (std::size_t cut = 0; !in.empty(); cut = (cut + 7) % 13) {
            const auto r = decoder.decode(in.substr(0, std::max<std::size_t>(cut, 1)));
            in.remove_prefix(r.consumed);
            if (r.done) break;
        }
        done = decoder.done();
        eight = smtpp::scan_body(body).has_8bit;
    });
    CHECK(count == 0);
    for (auto e : errors) CHECK(e == smtpp::errc::ok);
    CHECK(done);
    CHECK(eight);
    CHECK(std::string_view(out.data, out.size) ==
          std::string_view(wire).substr(0, wire.size() - 6));
}

TEST_CASE("data_findings::error ranks the problems and reset starts over", "[data]") {
    smtpp::data_decoder decoder(1000, 3);
    (void)decoder.decode(std::string("a\0b\nc\rd\r\n"sv));
    const auto& f = decoder.findings();
    CHECK(f.nul_at == 1);
    CHECK(f.bare_lf_at == 3);
    CHECK(f.bare_cr_at == 5);
    CHECK(f.error() == smtpp::errc::message_too_large);
    decoder.reset();
    CHECK(decoder.findings().error() == smtpp::errc::ok);
    CHECK(decoder.size() == 0);
    CHECK_FALSE(decoder.done());
    const auto r = decoder.decode(".\r\n");
    CHECK(r.done);
    CHECK(decoder.decode("more").done);
    CHECK(decoder.decode("more").consumed == 0);
}

// ---- body_scanner: BDAT text (RFC 3030 2, RFC 5322 2.3) ----

namespace {

smtpp::data_findings scan_pieces(const std::vector<std::string_view>& pieces,
                                 std::size_t text_line = 1000) {
    smtpp::body_scanner scanner(text_line);
    for (const std::string_view piece : pieces) scanner.scan(piece);
    scanner.finish();
    return scanner.findings();
}

std::string describe(const smtpp::data_findings& f) {
    std::string s;
    const auto at = [](std::uint64_t offset) {
        return std::to_string(static_cast<long long>(offset));
    };
    if (f.bare_cr) s += "cr@" + at(f.bare_cr_at) + " ";
    if (f.bare_lf) s += "lf@" + at(f.bare_lf_at) + " ";
    if (f.nul) s += "nul@" + at(f.nul_at) + " ";
    if (f.eight_bit) s += "8bit ";
    if (f.long_line) s += "long@" + at(f.long_line_at) + " ";
    return s;
}

} // namespace

TEST_CASE("RFC 3030 2: body_scanner finds bare CR, bare LF, NUL, 8-bit and long lines in raw "
          "BDAT text, whatever the chunk boundaries",
          "[data][bdat]") {
    struct sample {
        std::string body;
        const char* expected;
    };
    const sample samples[] = {
        {"Subject: x\r\n\r\nhello\r\n", ""},
        {"a\r\n.\r\n", ""}, // a dot line is just text here
        {"a\n.\nb", "lf@1 "},
        {"a\r.\rb", "cr@1 "},
        {std::string("a\0b", 3), "nul@1 "},
        {"caf\xC3\xA9\r\n", "8bit "},
        {"ends in CR\r", "cr@10 "},
        {"\r\n\r", "cr@2 "},
        {"\n", "lf@0 "},
        {std::string(998, 'x') + "\r\n", ""},
        {std::string(999, 'x') + "\r\n", "long@0 "},
        {"ok\r\n" + std::string(999, 'x'), "long@4 "}, // open line counted with its CRLF
    };
    for (const sample& s : samples) {
        INFO(s.body.substr(0, 40));
        const long divergent = smtpp_test::first_divergent_split(
            s.body, [](const auto& pieces) { return describe(scan_pieces(pieces)); });
        CHECK(divergent == -1);
        CHECK(describe(scan_pieces({s.body})) == s.expected);
    }
}

TEST_CASE("RFC 3030 2: body_scanner sees CR and LF split across chunks as one line end; a CR "
          "ending a chunk is judged by the next",
          "[data][bdat]") {
    CHECK(describe(scan_pieces({"ab\r", "\ncd\r\n"})) == "");
    CHECK(describe(scan_pieces({"ab\r", "cd\r\n"})) == "cr@2 ");
    CHECK(describe(scan_pieces({"ab\r", "", "\n"})) == "");
    CHECK(describe(scan_pieces({"ab\r"})) == "cr@2 ");
    smtpp::body_scanner scanner;
    scanner.scan("x\r");
    scanner.scan("\n");
    scanner.finish();
    CHECK(scanner.size() == 3);
    scanner.reset();
    CHECK(scanner.size() == 0);
    CHECK(describe(scanner.findings()) == "");
}

TEST_CASE("body_scanner allocates nothing and matches the vector paths at every offset",
          "[data][bdat][alloc]") {
    std::string body(200, 'a');
    for (std::size_t at = 0; at < 150; ++at) {
        for (const char special : {'\r', '\n', '\0', '\xE9'}) {
            std::string b = body;
            b[at] = special;
            smtpp::body_scanner scanner;
            const auto count = smtpp_test::allocations_during([&] {
                scanner.scan(std::string_view(b).substr(0, at / 2));
                scanner.scan(std::string_view(b).substr(at / 2));
                scanner.finish();
            });
            const smtpp::data_findings& f = scanner.findings();
            CHECK(count == 0);
            if (special == '\0') CHECK(f.nul_at == at);
            if (special == '\n') CHECK(f.bare_lf_at == at);
            if (special == '\r') CHECK(f.bare_cr_at == at);
            if (special == '\xE9') CHECK(f.eight_bit);
        }
    }
}
