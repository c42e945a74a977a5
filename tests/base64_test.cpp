#include <smtpp/base64.hpp>

#include "allocation_counter.hpp"
#include "smtpp_catch.hpp"

#include <random>
#include <string>
#include <string_view>

using namespace std::string_view_literals;

namespace {

smtpp::errc decode(std::string_view text, std::string& out) {
    char buffer[512];
    std::string_view decoded;
    const auto e = smtpp::base64_decode(text, buffer, sizeof buffer, decoded);
    if (e == smtpp::errc::ok) out.assign(decoded);
    return e;
}

std::string encode(std::string_view bytes) {
    std::string out;
    smtpp::base64_encode_append(out, bytes);
    return out;
}

constexpr bool constexpr_round_trip() {
    char text[8] = {};
    char bytes[6] = {};
    std::string_view encoded, decoded;
    if (smtpp::base64_encode("fooba", text, sizeof text, encoded) != smtpp::errc::ok) return false;
    if (encoded != "Zm9vYmE=") return false;
    if (smtpp::base64_decode(encoded, bytes, sizeof bytes, decoded) != smtpp::errc::ok)
        return false;
    return decoded == "fooba";
}
static_assert(constexpr_round_trip(), "base64 works at compile time");

} // namespace

TEST_CASE("RFC 4648 10: test vectors", "[base64]") {
    const std::pair<std::string_view, std::string_view> vectors[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [bytes, text] : vectors) {
        CHECK(encode(bytes) == text);
        std::string out = "unchanged";
        CHECK(decode(text, out) == smtpp::errc::ok);
        CHECK(out == bytes);
        CHECK(smtpp::base64_encoded_size(bytes.size()) == text.size());
    }
}

TEST_CASE("S-4954-4-f: non-alphabet characters and misplaced '=' are rejected", "[base64]") {
    std::string out = "unchanged";
    for (std::string_view bad :
         {"=AAA"sv, "AAA=BBB"sv, "AAA=BBBB"sv, "AB$="sv, "A==="sv, "===="sv, "AB=A"sv,
          "AA=="sv.substr(0, 3), "Zm9v\r\n"sv, "Zm9v YmFy"sv, " Zm9v"sv, "Zm9v\0"sv, "Zm-v"sv,
          "Zm_v"sv, "Zm\xC3\xA9"sv, "*"sv, "="sv, "Zm9vY"sv}) {
        CAPTURE(bad);
        CHECK(decode(bad, out) == smtpp::errc::bad_base64);
        CHECK(smtpp::base64_validate(bad) == smtpp::errc::bad_base64);
    }
    CHECK(out == "unchanged");
}

TEST_CASE(
    "S-4954-4-f: non-canonical padding bits are rejected, so each octet string has one encoding",
    "[base64]") {
    std::string out;
    CHECK(decode("AA==", out) == smtpp::errc::ok);
    CHECK(decode("AB==", out) == smtpp::errc::bad_base64);
    CHECK(decode("Zm9=", out) == smtpp::errc::bad_base64);
    CHECK(decode("Zm8=", out) == smtpp::errc::ok);
    // Every accepted 4-character group re-encodes to itself.
    std::mt19937 rng(4648);
    const std::string_view symbols =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=$ ";
    std::uniform_int_distribution<std::size_t> pick(0, symbols.size() - 1);
    int accepted = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string text;
        for (int i = 0; i < 4; ++i) text += symbols[pick(rng)];
        if (decode(text, out) != smtpp::errc::ok) continue;
        ++accepted;
        CHECK(encode(out) == text);
    }
    CHECK(accepted > 10000);
}

TEST_CASE("base64 round-trips every octet value at every length", "[base64]") {
    std::string bytes;
    for (int c = 0; c < 256; ++c) bytes += static_cast<char>(255 - c);
    for (std::size_t n = 0; n <= 256; ++n) {
        const std::string_view in = std::string_view(bytes).substr(0, n);
        const std::string text = encode(in);
        CHECK(text.size() == smtpp::base64_encoded_size(n));
        std::string out;
        REQUIRE(decode(text, out) == smtpp::errc::ok);
        CHECK(out == in);
        CHECK(out.size() <= smtpp::base64_decoded_size_max(text.size()));
    }
}

TEST_CASE("base64 buffers that are too small are refused, nothing written", "[base64]") {
    char buffer[4] = {'x', 'x', 'x', 'x'};
    std::string_view view = "before";
    CHECK(smtpp::base64_decode("Zm9vYmFy", buffer, 5, view) == smtpp::errc::invalid_argument);
    CHECK(smtpp::base64_decode("Zm9vYg==", buffer, 4, view) == smtpp::errc::ok);
    CHECK(view == "foob");
    CHECK(smtpp::base64_encode("foo", buffer, 3, view) == smtpp::errc::invalid_argument);
    CHECK(view == "foob");
    CHECK(smtpp::base64_encode("foo", buffer, 4, view) == smtpp::errc::ok);
    CHECK(view == "Zm9v");
    CHECK(smtpp::base64_decoded_size_max(8) == 6);
}

TEST_CASE("base64 decode and encode into caller buffers never allocate", "[base64][alloc]") {
    char buffer[64];
    std::string_view view;
    smtpp::errc a = smtpp::errc::ok, b = smtpp::errc::ok;
    const auto count = smtpp_test::allocations_during([&] {
        a = smtpp::base64_decode("Zm9vYmFy", buffer, sizeof buffer, view);
        b = smtpp::base64_encode(view, buffer + 10, sizeof buffer - 10, view);
    });
    CHECK(count == 0);
    CHECK(a == smtpp::errc::ok);
    CHECK(b == smtpp::errc::ok);
    CHECK(view == "Zm9vYmFy");
}
