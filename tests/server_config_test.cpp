// server_config: plain data with the RFC defaults, and validate().
#include <smtpp/server_config.hpp>

#include "smtpp_catch.hpp"

using smtpp::errc;

namespace {
smtpp::server_config test_config() {
    smtpp::server_config c;
    c.hostname = "mx.example";
    return c;
}
} // namespace

TEST_CASE("server_config defaults are valid, strict, and offer the RFC 5321 basics",
          "[server][config]") {
    const smtpp::server_config c;
    CHECK(c.validate() == errc::ok);
    CHECK(c.offer.pipelining);
    CHECK(c.offer.eight_bit_mime);
    CHECK(c.offer.enhanced_status_codes);
    CHECK_FALSE(c.lenient_bare_lf_commands);
    CHECK_FALSE(c.lenient_space_after_colon);
    CHECK_FALSE(c.lenient_bare_line_endings);
    CHECK(c.plaintext_auth_requires_tls);
    CHECK(c.limit.recipients == 100);
    CHECK(c.limit.auth_line == 12288);
}

TEST_CASE("S-5321-4.5.3.1.7-a: validate() refuses a message size limit below 64K",
          "[server][config]") {
    smtpp::server_config c = test_config();
    CHECK(c.validate() == errc::ok);
    c.limit.message_size = 1000;
    CHECK(c.validate() == errc::invalid_config);
    c.limit.message_size = 65536;
    CHECK(c.validate() == errc::ok);
    c.limit.message_size = 0; // no limit
    CHECK(c.validate() == errc::ok);
}

TEST_CASE("S-6531-3.1-b, S-3030-3-a: SMTPUTF8 needs 8BITMIME, BINARYMIME needs CHUNKING",
          "[server][config]") {
    smtpp::server_config c = test_config();
    c.offer.smtputf8 = true;
    c.offer.eight_bit_mime = false;
    CHECK(c.validate() == errc::invalid_config);
    c.offer.eight_bit_mime = true;
    CHECK(c.validate() == errc::ok);
    c.offer.binarymime = true;
    CHECK(c.validate() == errc::invalid_config);
    c.offer.chunking = true;
    CHECK(c.validate() == errc::ok);
}

TEST_CASE("S-6531-3.7.1-a: hostname must be ASCII; mechanisms well formed", "[server][config]") {
    smtpp::server_config c = test_config();
    c.hostname = "b\xC3\xB8.example";
    CHECK(c.validate() == errc::invalid_config);
    c.hostname = "mx.example";
    c.auth_mechanisms = "PLAIN  LOGIN";
    CHECK(c.validate() == errc::invalid_config);
    c.auth_mechanisms = "plain";
    CHECK(c.validate() == errc::invalid_config);
    c.auth_mechanisms = "PLAIN LOGIN SCRAM-SHA-256";
    CHECK(c.validate() == errc::ok);
}

TEST_CASE("validate() refuses limits below the RFC minimums and an empty hostname",
          "[server][config]") {
    smtpp::server_config c = test_config();
    c.limit.command_line = 100;
    CHECK(c.validate() == errc::invalid_config);
    c = test_config();
    c.limit.text_line = 80;
    CHECK(c.validate() == errc::invalid_config);
    c = test_config();
    c.limit.output_buffer = 0;
    CHECK(c.validate() == errc::invalid_config);
    c = test_config();
    c.hostname = "";
    CHECK(c.validate() == errc::invalid_config);
    c = test_config();
    c.greeting_text = "ESMTP\r\n250 injected";
    CHECK(c.validate() == errc::invalid_config);
}
