#include <smtpp/sasl.hpp>

#include "allocation_counter.hpp"
#include "smtpp_catch.hpp"

#include <string>
#include <string_view>

using namespace std::string_view_literals;

namespace {

std::string b64(std::string_view bytes) {
    std::string out;
    smtpp::base64_encode_append(out, bytes);
    return out;
}

struct plain_result {
    smtpp::errc error = smtpp::errc::ok;
    std::string authzid, authcid, password;
};

plain_result decode_plain(std::string_view message_bytes) {
    char buffer[4096];
    smtpp::sasl_plain fields;
    plain_result out;
    out.error = smtpp::sasl_plain_decode(b64(message_bytes), buffer, sizeof buffer, fields);
    out.authzid.assign(fields.authzid);
    out.authcid.assign(fields.authcid);
    out.password.assign(fields.password);
    return out;
}

} // namespace

TEST_CASE("S-4616-2-a: PLAIN is [authzid] NUL authcid NUL passwd, exactly two NULs", "[sasl]") {
    auto r = decode_plain("\0user\0pass"sv);
    CHECK(r.error == smtpp::errc::ok);
    CHECK(r.authzid.empty());
    CHECK(r.authcid == "user");
    CHECK(r.password == "pass");

    r = decode_plain("admin\0user\0pa ss"sv);
    CHECK(r.error == smtpp::errc::ok);
    CHECK(r.authzid == "admin");
    CHECK(r.password == "pa ss");

    CHECK(decode_plain("user\0pass"sv).error == smtpp::errc::bad_sasl_message);
    CHECK(decode_plain("a\0b\0c\0d"sv).error == smtpp::errc::bad_sasl_message);
    CHECK(decode_plain("\0\0pass"sv).error == smtpp::errc::bad_sasl_message);
    CHECK(decode_plain("\0user\0"sv).error == smtpp::errc::bad_sasl_message);
    CHECK(decode_plain("").error == smtpp::errc::bad_sasl_message);
    CHECK(decode_plain("\0us\xFFr\0pass"sv).error == smtpp::errc::invalid_utf8);
    CHECK(decode_plain("\0user\0p\xC3"sv).error == smtpp::errc::invalid_utf8);
    CHECK(decode_plain("\xED\xA0\x80\0user\0pass"sv).error ==
          smtpp::errc::invalid_utf8); // surrogate
}

TEST_CASE("S-4616-2-a: each PLAIN field of 255 octets (and more) is accepted, UTF-8 included",
          "[sasl]") {
    std::string field;
    while (field.size() < 255) field += "\xC3\xA9"; // 256 octets of e-acute
    field.pop_back();
    field.pop_back();
    field += "xy";
    REQUIRE(field.size() == 256);
    const std::string message = field + '\0' + field + '\0' + field;
    const auto r = decode_plain(message);
    CHECK(r.error == smtpp::errc::ok);
    CHECK(r.authzid == field);
    CHECK(r.authcid == field);
    CHECK(r.password == field);
    const std::string long_field(1000, 'p');
    CHECK(decode_plain(std::string("\0u\0"sv) + long_field).password == long_field);
}

TEST_CASE("S-4954-4-f: responses must be strict base64; 501 5.5.2 material", "[sasl]") {
    char buffer[64];
    smtpp::sasl_plain fields;
    std::string_view decoded;
    for (std::string_view bad : {"=AAA"sv, "AAA=BBB"sv, "AB$="sv, "AHVzZXIAcGFzcw= ="sv}) {
        CAPTURE(bad);
        CHECK(smtpp::sasl_plain_decode(bad, buffer, sizeof buffer, fields) ==
              smtpp::errc::bad_base64);
        CHECK(smtpp::sasl_decode_response(bad, buffer, sizeof buffer, decoded) ==
              smtpp::errc::bad_base64);
        CHECK(smtpp::sasl_decode_initial_response(bad, buffer, sizeof buffer, decoded) ==
              smtpp::errc::bad_base64);
    }
    CHECK(smtpp::sasl_plain_decode("AHVzZXIAcGFzcw==", buffer, 3, fields) ==
          smtpp::errc::invalid_argument);
    CHECK(smtpp::sasl_plain_decode("AHVzZXIAcGFzcw==", buffer, sizeof buffer, fields) ==
          smtpp::errc::ok);
    CHECK(fields.authcid == "user");
}

TEST_CASE("S-4954-4-h: an initial response of '=' is present and empty", "[sasl]") {
    char buffer[8];
    std::string_view decoded = "before";
    CHECK(smtpp::sasl_decode_initial_response("=", buffer, sizeof buffer, decoded) ==
          smtpp::errc::ok);
    CHECK(decoded.empty());
    CHECK(smtpp::sasl_decode_initial_response("", buffer, sizeof buffer, decoded) ==
          smtpp::errc::bad_base64);
    CHECK(smtpp::sasl_decode_initial_response("Zm9v", buffer, sizeof buffer, decoded) ==
          smtpp::errc::ok);
    CHECK(decoded == "foo");
    // "=" is only an initial-response form; a response line is base64 or empty (RFC 4954 8).
    CHECK(smtpp::sasl_decode_response("=", buffer, sizeof buffer, decoded) ==
          smtpp::errc::bad_base64);
    CHECK(smtpp::sasl_decode_response("", buffer, sizeof buffer, decoded) == smtpp::errc::ok);
    CHECK(decoded.empty());
}

TEST_CASE("S-4954-4-e: a '*' response cancels the exchange", "[sasl]") {
    char buffer[8];
    std::string_view value;
    CHECK(smtpp::sasl_decode_response("*", buffer, sizeof buffer, value) ==
          smtpp::errc::auth_cancelled);
    CHECK(smtpp::sasl_login_decode("*", buffer, sizeof buffer, value) ==
          smtpp::errc::auth_cancelled);
}

TEST_CASE("PLAIN client encoding round-trips and refuses what the server must refuse", "[sasl]") {
    std::string out;
    CHECK(smtpp::sasl_plain_encode(out, "", "user", "pass") == smtpp::errc::ok);
    CHECK(out == "AHVzZXIAcGFzcw==");
    out.clear();
    CHECK(smtpp::sasl_plain_encode(out, "admin", "us\xC3\xA9r", "p\xE2\x82\xACss") ==
          smtpp::errc::ok);
    char buffer[64];
    smtpp::sasl_plain fields;
    REQUIRE(smtpp::sasl_plain_decode(out, buffer, sizeof buffer, fields) == smtpp::errc::ok);
    CHECK(fields.authzid == "admin");
    CHECK(fields.authcid == "us\xC3\xA9r");
    CHECK(fields.password == "p\xE2\x82\xACss");

    out.clear();
    CHECK(smtpp::sasl_plain_encode(out, "", "", "pass") == smtpp::errc::invalid_argument);
    CHECK(smtpp::sasl_plain_encode(out, "", "user", "") == smtpp::errc::invalid_argument);
    CHECK(smtpp::sasl_plain_encode(out, "", "us\0r"sv, "p") == smtpp::errc::invalid_argument);
    CHECK(smtpp::sasl_plain_encode(out, "\xFF", "user", "p") == smtpp::errc::invalid_utf8);
    CHECK(out.empty());
}

TEST_CASE("LOGIN: the two challenges, classification and one response per step", "[sasl]") {
    char buffer[64];
    std::string_view text;
    REQUIRE(smtpp::base64_decode(smtpp::sasl_login_username_challenge, buffer, sizeof buffer,
                                 text) == smtpp::errc::ok);
    CHECK(text == "Username:");
    REQUIRE(smtpp::base64_decode(smtpp::sasl_login_password_challenge, buffer, sizeof buffer,
                                 text) == smtpp::errc::ok);
    CHECK(text == "Password:");

    CHECK(smtpp::sasl_login_classify(smtpp::sasl_login_username_challenge) ==
          smtpp::sasl_login_prompt::username);
    CHECK(smtpp::sasl_login_classify(smtpp::sasl_login_password_challenge) ==
          smtpp::sasl_login_prompt::password);
    CHECK(smtpp::sasl_login_classify(b64("username:")) == smtpp::sasl_login_prompt::username);
    CHECK(smtpp::sasl_login_classify(b64("User Name")) == smtpp::sasl_login_prompt::username);
    CHECK(smtpp::sasl_login_classify(b64("PASSWORD")) == smtpp::sasl_login_prompt::password);
    CHECK(smtpp::sasl_login_classify(b64("Token:")) == smtpp::sasl_login_prompt::unknown);
    CHECK(smtpp::sasl_login_classify("!!!") == smtpp::sasl_login_prompt::unknown);
    CHECK(smtpp::sasl_login_classify(b64(std::string(40, 'u'))) ==
          smtpp::sasl_login_prompt::unknown);

    std::string out;
    CHECK(smtpp::sasl_login_encode(out, "user@example.org") == smtpp::errc::ok);
    std::string_view value;
    CHECK(smtpp::sasl_login_decode(out, buffer, sizeof buffer, value) == smtpp::errc::ok);
    CHECK(value == "user@example.org");
    CHECK(smtpp::sasl_login_decode(b64("a\0b"sv), buffer, sizeof buffer, value) ==
          smtpp::errc::bad_sasl_message);
    CHECK(smtpp::sasl_login_decode(b64("\xC0\xAF"), buffer, sizeof buffer, value) ==
          smtpp::errc::invalid_utf8);
    CHECK(smtpp::sasl_login_decode("AB$=", buffer, sizeof buffer, value) ==
          smtpp::errc::bad_base64);
    CHECK(smtpp::sasl_login_decode("", buffer, sizeof buffer, value) == smtpp::errc::ok);
    CHECK(value.empty());
    out.clear();
    CHECK(smtpp::sasl_login_encode(out, "a\0b"sv) == smtpp::errc::invalid_argument);
    CHECK(out.empty());
}

TEST_CASE("SASL decoding never allocates", "[sasl][alloc]") {
    char buffer[64];
    smtpp::sasl_plain fields;
    smtpp::errc e = smtpp::errc::invalid_state;
    const auto count = smtpp_test::allocations_during(
        [&] { e = smtpp::sasl_plain_decode("AHVzZXIAcGFzcw==", buffer, sizeof buffer, fields); });
    CHECK(count == 0);
    CHECK(e == smtpp::errc::ok);
    CHECK(fields.password == "pass");
}
