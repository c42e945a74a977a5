// Fuzz target: the reply writer (reply.hpp), the EHLO reply writer (ehlo_writer.hpp) and
// parser (ehlo_reader.hpp), each read back through reply_reader.
//
// Input: byte 0 selects options; the rest is used three ways: as reply text for the writer,
// as the greeting/extension choices for write_ehlo_reply, and as raw server bytes for
// parse_ehlo_reply.
// Invariants:
//  - write_reply_lines either fails and writes nothing, or writes one well-formed reply that
//    reply_reader reads back whole: same code, every line within line_limit, the enhanced
//    status on every line when enabled, and the same non-space octets as the input text in
//    the same order (wrapping loses or invents nothing); text with CR, LF or NUL is refused;
//  - write_ehlo_reply -> reply_reader -> parse_ehlo_reply returns the flags, SIZE limit, AUTH
//    mechanisms and hostname that were written;
//  - parse_ehlo_reply on arbitrary bytes: every view lies inside the reply, the flags agree
//    with a reference scan of the lines, and the storage overload gives the same result.
#include <smtpp/ehlo_reader.hpp>
#include <smtpp/ehlo_writer.hpp>
#include <smtpp/reply.hpp>
#include <smtpp/reply_reader.hpp>

#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

using namespace smtpp;
using smtpp_fuzz::escaped;

namespace {

bool inside(std::string_view v, std::string_view whole) {
    return v.empty() ||
           (v.data() >= whole.data() && v.data() + v.size() <= whole.data() + whole.size());
}

bool ieq(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
        if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
        if (x != y) return false;
    }
    return true;
}

std::string non_space(std::string_view s) {
    std::string out;
    for (char c : s)
        if (c != ' ') out += c;
    return out;
}

// Reads exactly one reply from `bytes`; false if they are not exactly one reply.
bool read_one(std::string_view bytes, std::size_t line_limit, reply& out, std::string& storage) {
    reply_reader_options o;
    o.line_limit = line_limit;
    o.max_lines = 100000;
    reply_reader reader(o);
    const read_result r = reader.read(bytes);
    if (r.error != errc::ok || r.consumed != bytes.size()) return false;
    storage.assign(r.reply.raw.data(), r.reply.raw.size());
    out = r.reply;
    out.raw = storage;
    return true;
}

void check_writer(std::uint8_t bits, std::string_view text, smtpp_fuzz::fuzz_input& in) {
    static constexpr std::uint16_t codes[] = {250, 220, 354, 421, 550, 199, 600, 263,
                                              221, 334, 452, 554, 251, 252, 500, 214};
    static constexpr enhanced_status statuses[] = {{},        {2, 0, 0}, {5, 1, 1}, {4, 7, 0},
                                                   {5, 7, 1}, {2, 1, 5}, {5, 5, 2}, {9, 9, 9}};
    static constexpr std::size_t line_limits[] = {16, 40, 80, 512};
    const std::uint16_t code = codes[in.take_u8() & 15u];
    const enhanced_status status = statuses[in.take_u8() & 7u];
    reply_options o;
    o.line_limit = line_limits[bits & 3u];
    o.enhanced_status_codes = (bits & 4u) != 0;
    o.allow_utf8 = (bits & 8u) != 0;
    o.allow_unregistered_status = (bits & 16u) != 0;
    // Up to three logical lines cut from the text.
    std::string_view lines[3];
    const std::size_t count = 1 + in.take_range(0, 2);
    std::string_view rest = text;
    for (std::size_t i = 0; i < count; ++i) {
        lines[i] = i + 1 == count ? rest : rest.substr(0, in.take_range(0, rest.size()));
        rest.remove_prefix(lines[i].size());
    }
    std::string out = "keep";
    const errc e = write_reply_lines(out, code, status, lines, count, o);
    if (e != errc::ok) {
        FUZZ_CHECK(out == "keep");
        return;
    }
    FUZZ_CHECK(text.find('\r') == std::string_view::npos &&
               text.find('\n') == std::string_view::npos);
    FUZZ_CHECK(text.find('\0') == std::string_view::npos);
    FUZZ_CHECK(is_valid_reply_code(code));
    const std::string_view written = std::string_view(out).substr(4);
    reply r;
    std::string storage;
    if (!read_one(written, o.line_limit, r, storage)) {
        std::fprintf(stderr, "writer output is not one reply: \"%s\"\n", escaped(written).c_str());
    }
    FUZZ_CHECK(read_one(written, o.line_limit, r, storage));
    FUZZ_CHECK(r.code == code);
    std::string joined;
    const bool with_status = o.enhanced_status_codes && !status.empty();
    char prefix[32];
    std::snprintf(prefix, sizeof prefix, "%u.%u.%u ", status.cls, status.subject, status.detail);
    for (std::string_view line : r.lines()) {
        if (with_status) {
            FUZZ_CHECK(line.substr(0, std::char_traits<char>::length(prefix)) == prefix);
            line.remove_prefix(std::char_traits<char>::length(prefix));
        }
        joined += line;
    }
    std::string original;
    for (std::size_t i = 0; i < count; ++i) original += lines[i];
    if (non_space(joined) != non_space(original)) {
        std::fprintf(stderr, "wrapped text \"%s\" != \"%s\"\n", escaped(joined).c_str(),
                     escaped(original).c_str());
    }
    FUZZ_CHECK(non_space(joined) == non_space(original));
}

void check_ehlo_writer(std::uint8_t bits, std::string_view text, smtpp_fuzz::fuzz_input& in) {
    ehlo_offer offer;
    extensions& ext = offer.offered;
    const std::uint8_t a = in.take_u8();
    ext.pipelining = (a & 1u) != 0;
    ext.size = (a & 2u) != 0;
    offer.size_limit = (a & 4u) != 0 ? 0 : 10485760u + in.take_range(0, 1u << 20);
    ext.eight_bit_mime = (a & 8u) != 0;
    ext.smtputf8 = ext.eight_bit_mime && (a & 16u) != 0;
    ext.enhanced_status_codes = (a & 32u) != 0;
    ext.chunking = (a & 64u) != 0;
    ext.binarymime = ext.chunking && (a & 128u) != 0;
    const std::uint8_t b = in.take_u8();
    ext.dsn = (b & 1u) != 0;
    ext.starttls = (b & 2u) != 0;
    offer.auth_mechanisms = (b & 4u) != 0 ? "PLAIN LOGIN XOAUTH2" : "";
    ext.expn = (b & 8u) != 0;
    ext.help = (b & 16u) != 0;
    if ((b & 32u) != 0) offer.extra[0] = "XCLIENT NAME ADDR";
    const std::string_view greeting = text.substr(0, in.take_range(0, 40));
    const std::size_t line_limit = (bits & 32u) != 0 ? 512 : 24;
    std::string out;
    const errc e = write_ehlo_reply(out, "mx.example.org", greeting, offer, line_limit);
    if (e != errc::ok) {
        FUZZ_CHECK(out.empty());
        return;
    }
    reply r;
    std::string storage;
    FUZZ_CHECK(read_one(out, line_limit, r, storage));
    capabilities caps;
    FUZZ_CHECK(parse_ehlo_reply(r, caps) == errc::ok);
    FUZZ_CHECK(caps.domain == "mx.example.org");
    FUZZ_CHECK(caps.pipelining == ext.pipelining && caps.eight_bit_mime == ext.eight_bit_mime);
    FUZZ_CHECK(caps.smtputf8 == ext.smtputf8 &&
               caps.enhanced_status_codes == ext.enhanced_status_codes);
    FUZZ_CHECK(caps.chunking == ext.chunking && caps.binarymime == ext.binarymime &&
               caps.dsn == ext.dsn);
    FUZZ_CHECK(caps.starttls == ext.starttls && caps.expn == ext.expn && caps.help == ext.help);
    FUZZ_CHECK(caps.size == ext.size);
    if (ext.size) FUZZ_CHECK(caps.size_known && caps.size_limit == offer.size_limit);
    FUZZ_CHECK(caps.auth == !offer.auth_mechanisms.empty());
    if (caps.auth)
        FUZZ_CHECK(caps.auth_mechanisms == offer.auth_mechanisms &&
                   caps.has_auth_mechanism("xoauth2"));
    if (!offer.extra[0].empty()) FUZZ_CHECK(caps.has("xclient"));
}

void check_parser(std::string_view bytes) {
    reply_reader reader;
    const read_result rr = reader.read(bytes);
    if (rr.error != errc::ok) return;
    const reply& r = rr.reply;
    capabilities caps;
    const errc e = parse_ehlo_reply(r, caps);
    if (r.code != 250) {
        FUZZ_CHECK(e == errc::invalid_argument);
        return;
    }
    FUZZ_CHECK(e == errc::ok);
    const std::string_view views[] = {caps.domain, caps.greeting, caps.auth_mechanisms,
                                      caps.legacy_auth_mechanisms, caps.raw};
    for (std::string_view v : views) FUZZ_CHECK(inside(v, r.raw));
    // Reference scan of the extension lines.
    bool pipelining = false, starttls = false, chunking = false, size = false, auth = false;
    std::size_t count = 0;
    std::size_t index = 0;
    for (std::string_view text : r.lines()) {
        if (index++ == 0) continue;
        while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
            text.remove_prefix(1);
        while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
        if (text.empty()) continue;
        ++count;
        std::string_view keyword = text.substr(0, text.find(' '));
        if (text.size() >= 5 && ieq(text.substr(0, 5), "AUTH=")) keyword = text.substr(0, 5);
        pipelining |= ieq(keyword, "PIPELINING");
        starttls |= ieq(keyword, "STARTTLS");
        chunking |= ieq(keyword, "CHUNKING");
        size |= ieq(keyword, "SIZE");
        auth |= ieq(keyword, "AUTH") || ieq(keyword, "AUTH=");
    }
    FUZZ_CHECK(caps.pipelining == pipelining && caps.starttls == starttls &&
               caps.chunking == chunking);
    FUZZ_CHECK(caps.size == size && caps.auth == auth);
    std::size_t seen = 0;
    for (const ehlo_extension x : caps.extension_lines()) {
        FUZZ_CHECK(inside(x.keyword, r.raw) && inside(x.params, r.raw) && !x.keyword.empty());
        for (std::string_view word : x.param_list())
            FUZZ_CHECK(!word.empty() && word.find(' ') == word.npos);
        ++seen;
    }
    FUZZ_CHECK(seen == count);
    caps.for_each_unknown_extension(
        [&](const ehlo_extension& x) { FUZZ_CHECK(inside(x.keyword, r.raw)); });
    (void)caps.size_allows(1000);
    (void)caps.has_auth_mechanism("PLAIN");
    std::string storage;
    capabilities copy;
    FUZZ_CHECK(parse_ehlo_reply(r, copy, storage) == errc::ok);
    FUZZ_CHECK(copy.pipelining == caps.pipelining && copy.size_limit == caps.size_limit &&
               copy.domain == caps.domain && copy.auth_mechanisms == caps.auth_mechanisms);
    FUZZ_CHECK(inside(copy.domain, storage) && inside(copy.auth_mechanisms, storage));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t bits = data[0];
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    smtpp_fuzz::fuzz_input in(data + 1, size - 1);
    check_parser(text);
    check_writer(bits, text, in);
    check_ehlo_writer(bits, text, in);
    return 0;
}
