// Fuzz target: base64.hpp and the SASL helpers of sasl.hpp.
//
// The whole input is used three ways: as raw octets, as base64 text, as a PLAIN message.
// Invariants:
//  - base64_encode writes exactly base64_encoded_size(n) characters, the same text as
//    base64_encode_append and as detail::base64_stream fed in pieces (split invariance), and
//    base64_decode(encode(x)) == x with the decoded size <= base64_decoded_size_max;
//  - strict decode accepts exactly what a plain reference decoder written here accepts (RFC
//    4648 alphabet, length % 4 == 0, '=' only as the last one or two characters, zero unused
//    bits) and yields the same octets; base64_validate agrees with base64_decode; a buffer one
//    octet short gives invalid_argument, never an overflow (ASan);
//  - sasl_decode_response: "*" -> auth_cancelled, else as base64_decode;
//    sasl_decode_initial_response: "=" -> empty, "" -> bad_base64, else as base64_decode;
//  - sasl_plain_parse agrees with a reference split (exactly two NULs, non-empty authcid and
//    password, UTF-8); sasl_plain_encode of three fields decodes back to the same fields;
//  - sasl_login_encode/sasl_login_decode round-trip; sasl_login_classify never crashes.
#include <smtpp/base64.hpp>
#include <smtpp/sasl.hpp>

#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

using namespace smtpp;

namespace {

int ref_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

// Reference strict decoder: one quantum at a time, the obvious way.
bool ref_decode(std::string_view text, std::string& out) {
    out.clear();
    if (text.size() % 4 != 0) return false;
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = text[i + static_cast<std::size_t>(k)];
            if (c == '=') {
                if (!last || k < 2) return false;
                ++pad;
                v[k] = 0;
            } else {
                if (pad != 0) return false; // data after padding
                v[k] = ref_value(c);
                if (v[k] < 0) return false;
            }
        }
        const unsigned group = static_cast<unsigned>(v[0]) << 18 |
                               static_cast<unsigned>(v[1]) << 12 |
                               static_cast<unsigned>(v[2]) << 6 | static_cast<unsigned>(v[3]);
        if (pad == 1 && (v[2] & 3) != 0) return false;
        if (pad == 2 && (v[1] & 15) != 0) return false;
        out += static_cast<char>(group >> 16 & 0xff);
        if (pad < 2) out += static_cast<char>(group >> 8 & 0xff);
        if (pad < 1) out += static_cast<char>(group & 0xff);
    }
    return true;
}

bool ref_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1fu;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0fu;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07u;
        } else
            return false;
        for (std::size_t k = 1; k <= n; ++k) {
            if (i + k >= s.size()) return false;
            const auto d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xc0u) != 0x80u) return false;
            cp = cp << 6 | (d & 0x3fu);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff)) {
            return false;
        }
        i += n + 1;
    }
    return true;
}

// A heap block of exactly n octets (ASan sees any write past it).
struct exact_buffer {
    explicit exact_buffer(std::size_t n) : bytes(new char[n == 0 ? 1 : n]), size(n) {}
    std::unique_ptr<char[]> bytes;
    std::size_t size;
};

void check_roundtrip(std::string_view raw, smtpp_fuzz::fuzz_input& in) {
    const std::size_t need = base64_encoded_size(raw.size());
    FUZZ_CHECK(need % 4 == 0 && need / 4 * 3 >= raw.size());
    exact_buffer text(need);
    std::string_view encoded;
    FUZZ_CHECK(base64_encode(raw, text.bytes.get(), need, encoded) == errc::ok);
    FUZZ_CHECK(encoded.size() == need);
    if (need > 0) {
        std::string_view untouched;
        FUZZ_CHECK(base64_encode(raw, text.bytes.get(), need - 1, untouched) ==
                   errc::invalid_argument);
        FUZZ_CHECK(untouched.empty());
    }
    std::string appended;
    base64_encode_append(appended, raw);
    FUZZ_CHECK(appended == encoded);

    std::string streamed;
    detail::base64_stream<std::string> stream(streamed);
    smtpp_fuzz::for_each_piece(raw, in, 97, [&](std::string_view piece) { stream.feed(piece); });
    stream.finish();
    FUZZ_CHECK(streamed == encoded);

    FUZZ_CHECK(base64_validate(encoded) == errc::ok);
    const std::size_t max = base64_decoded_size_max(encoded.size());
    exact_buffer back(raw.size());
    std::string_view decoded;
    FUZZ_CHECK(raw.size() <= max);
    FUZZ_CHECK(base64_decode(encoded, back.bytes.get(), raw.size(), decoded) == errc::ok);
    FUZZ_CHECK(decoded == raw);
    FUZZ_CHECK(decoded.data() == back.bytes.get());
    std::string reference;
    FUZZ_CHECK(ref_decode(encoded, reference) && reference == raw);
}

void check_decode(std::string_view text) {
    std::string reference;
    const bool ref_ok = ref_decode(text, reference);
    const std::size_t max = base64_decoded_size_max(text.size());
    exact_buffer buffer(max);
    std::string_view decoded = "unchanged";
    const errc e = base64_decode(text, buffer.bytes.get(), max, decoded);
    FUZZ_CHECK(base64_validate(text) == (ref_ok ? errc::ok : errc::bad_base64));
    if (!ref_ok) {
        FUZZ_CHECK(e == errc::bad_base64);
        FUZZ_CHECK(decoded == "unchanged");
        return;
    }
    FUZZ_CHECK(e == errc::ok);
    FUZZ_CHECK(decoded == reference);
    if (!reference.empty()) {
        exact_buffer small(reference.size() - 1);
        std::string_view none;
        FUZZ_CHECK(base64_decode(text, small.bytes.get(), small.size, none) ==
                   errc::invalid_argument);
    }
    // The encoding of the decoded octets is the input again: one accepted form per value.
    std::string again;
    base64_encode_append(again, decoded);
    FUZZ_CHECK(again == text);
}

void check_sasl(std::string_view text, std::string_view raw, smtpp_fuzz::fuzz_input& in) {
    const std::size_t max = base64_decoded_size_max(text.size()) + 1;
    exact_buffer buffer(max);
    std::string reference;
    const bool ref_ok = ref_decode(text, reference);

    std::string_view decoded;
    const errc r = sasl_decode_response(text, buffer.bytes.get(), max, decoded);
    if (text == "*")
        FUZZ_CHECK(r == errc::auth_cancelled);
    else
        FUZZ_CHECK((r == errc::ok) == ref_ok && (!ref_ok || decoded == reference));

    const errc ir = sasl_decode_initial_response(text, buffer.bytes.get(), max, decoded);
    if (text == "=")
        FUZZ_CHECK(ir == errc::ok && decoded.empty());
    else if (text.empty())
        FUZZ_CHECK(ir == errc::bad_base64);
    else
        FUZZ_CHECK((ir == errc::ok) == ref_ok && (!ref_ok || decoded == reference));

    // PLAIN parse of the raw octets against a reference split.
    sasl_plain fields;
    const errc p = sasl_plain_parse(raw, fields);
    std::size_t nuls = 0;
    for (char c : raw) nuls += c == '\0' ? 1u : 0u;
    const std::size_t first = raw.find('\0');
    const std::size_t second = first == raw.npos ? raw.npos : raw.find('\0', first + 1);
    const bool ref_plain =
        nuls == 2 && second != first + 1 && second + 1 < raw.size() && ref_utf8(raw);
    FUZZ_CHECK((p == errc::ok) == ref_plain);
    if (ref_plain) {
        FUZZ_CHECK(fields.authzid == raw.substr(0, first));
        FUZZ_CHECK(fields.authcid == raw.substr(first + 1, second - first - 1));
        FUZZ_CHECK(fields.password == raw.substr(second + 1));
    }

    // PLAIN encode/decode round trip over three fields cut from the raw octets.
    const std::string_view a = raw.substr(0, in.take_range(0, raw.size()));
    const std::string_view rest = raw.substr(a.size());
    const std::string_view b = rest.substr(0, in.take_range(0, rest.size()));
    const std::string_view c = rest.substr(b.size());
    std::string plain;
    const errc enc = sasl_plain_encode(plain, a, b, c);
    const bool fields_ok = a.find('\0') == a.npos && b.find('\0') == b.npos &&
                           c.find('\0') == c.npos && ref_utf8(a) && ref_utf8(b) && ref_utf8(c) &&
                           !b.empty() && !c.empty();
    FUZZ_CHECK((enc == errc::ok) == fields_ok);
    if (enc != errc::ok) {
        FUZZ_CHECK(plain.empty());
    } else {
        exact_buffer out(base64_decoded_size_max(plain.size()));
        sasl_plain back;
        FUZZ_CHECK(sasl_plain_decode(plain, out.bytes.get(), out.size, back) == errc::ok);
        FUZZ_CHECK(back.authzid == a && back.authcid == b && back.password == c);
    }

    // LOGIN round trip of the raw octets.
    std::string login;
    const errc le = sasl_login_encode(login, raw);
    const bool login_ok = raw.find('\0') == raw.npos && ref_utf8(raw);
    FUZZ_CHECK((le == errc::ok) == login_ok);
    if (le == errc::ok) {
        exact_buffer out(base64_decoded_size_max(login.size()));
        std::string_view value;
        const errc ld = sasl_login_decode(login, out.bytes.get(), out.size, value);
        FUZZ_CHECK(ld == errc::ok && value == raw);
    } else {
        FUZZ_CHECK(login.empty());
    }
    (void)sasl_login_classify(text);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    smtpp_fuzz::fuzz_input in(data, size);
    const std::string_view whole(size == 0 ? "" : reinterpret_cast<const char*>(data), size);
    check_decode(whole);
    check_sasl(whole, whole, in);
    const std::string_view raw = in.take_rest();
    check_roundtrip(raw, in);
    return 0;
}
