#include <smtpp/ehlo_reader.hpp>
#include <smtpp/ehlo_writer.hpp>

#include "allocation_counter.hpp"
#include "smtpp_catch.hpp"
#include "split_grind.hpp"

#include <smtpp/reply_reader.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace {

using smtpp::errc;

std::string ehlo(const smtpp::ehlo_offer& ext, std::string_view greeting = "hello",
                 std::size_t line_limit = 512, errc expected = errc::ok) {
    std::string out;
    CHECK(smtpp::write_ehlo_reply(out, "mx.example", greeting, ext, line_limit) == expected);
    return out;
}

smtpp::capabilities parse(std::string_view wire) {
    smtpp::reply_reader reader;
    const smtpp::read_result r = reader.read(wire);
    REQUIRE(r.error == errc::ok);
    REQUIRE(r.consumed == wire.size());
    smtpp::capabilities caps;
    REQUIRE(smtpp::parse_ehlo_reply(r.reply, caps) == errc::ok);
    return caps;
}

std::vector<std::string> words(smtpp::word_list list) {
    std::vector<std::string> v;
    for (std::string_view w : list) v.emplace_back(w);
    return v;
}

std::vector<std::string> unknown(const smtpp::capabilities& caps) {
    std::vector<std::string> v;
    caps.for_each_unknown_extension([&](const smtpp::ehlo_extension& e) {
        v.push_back(std::string(e.keyword) + (e.params.empty() ? "" : "=" + std::string(e.params)));
    });
    return v;
}

smtpp::ehlo_offer everything() {
    smtpp::ehlo_offer ext;
    ext.size_limit = 35882577;
    ext.offered.smtputf8 = true;
    ext.offered.chunking = true;
    ext.offered.binarymime = true;
    ext.offered.dsn = true;
    ext.offered.starttls = true;
    ext.auth_mechanisms = "PLAIN LOGIN SCRAM-SHA-256";
    ext.offered.expn = true;
    ext.offered.help = true;
    ext.extra = {"XCLIENT NAME ADDR", "DELIVERBY 60", "", "x-local"};
    return ext;
}

} // namespace

// ---- Server side ----

TEST_CASE("RFC 5321 4.1.1.1: the EHLO reply is domain line, one keyword per line, last with SP",
          "[capabilities]") {
    CHECK(ehlo(smtpp::ehlo_offer{}) ==
          "250-mx.example hello\r\n250-PIPELINING\r\n250-SIZE 0\r\n250-8BITMIME\r\n"
          "250-ENHANCEDSTATUSCODES\r\n250 HELP\r\n");
    CHECK(ehlo(everything(), "") ==
          "250-mx.example\r\n250-PIPELINING\r\n250-SIZE "
          "35882577\r\n250-8BITMIME\r\n250-BINARYMIME\r\n"
          "250-CHUNKING\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-DSN\r\n250-STARTTLS\r\n"
          "250-AUTH PLAIN LOGIN SCRAM-SHA-256\r\n250-EXPN\r\n250-HELP\r\n250-XCLIENT NAME ADDR\r\n"
          "250-DELIVERBY 60\r\n250 x-local\r\n");
    smtpp::ehlo_offer none;
    none.offered = smtpp::extensions::none();
    CHECK(ehlo(none) == "250 mx.example hello\r\n");
}

TEST_CASE("S-6152-2-a: 8BITMIME is offered by default, without a parameter", "[capabilities]") {
    CHECK(ehlo(smtpp::ehlo_offer{}).find("\r\n250-8BITMIME\r\n") != std::string::npos);
}

TEST_CASE("S-2920-2-a: PIPELINING is advertised without a parameter", "[capabilities]") {
    CHECK(ehlo(smtpp::ehlo_offer{}).find("\r\n250-PIPELINING\r\n") != std::string::npos);
    smtpp::ehlo_offer off;
    off.offered.pipelining = false;
    CHECK(ehlo(off).find("PIPELINING") == std::string::npos);
}

TEST_CASE("S-2034-3-a: ENHANCEDSTATUSCODES is advertised without a parameter", "[capabilities]") {
    CHECK(ehlo(smtpp::ehlo_offer{}).find("\r\n250-ENHANCEDSTATUSCODES\r\n") != std::string::npos);
}

TEST_CASE("S-2034-4-a: the EHLO reply carries no enhanced status codes", "[capabilities]") {
    const std::string wire = ehlo(everything());
    std::size_t at = 0;
    while ((at = wire.find("250", at)) != std::string::npos) {
        CHECK(wire.substr(at + 4, 2) != "2.");
        at += 3;
    }
}

TEST_CASE("S-3461-2-a: DSN is advertised without a parameter", "[capabilities]") {
    CHECK(ehlo(everything()).find("\r\n250-DSN\r\n") != std::string::npos);
}

TEST_CASE("S-3207-2-a: STARTTLS is advertised without a parameter only when offered",
          "[capabilities]") {
    CHECK(ehlo(everything()).find("\r\n250-STARTTLS\r\n") != std::string::npos);
    CHECK(ehlo(smtpp::ehlo_offer{}).find("STARTTLS") == std::string::npos);
}

TEST_CASE("S-5321-4.2.4-a: EXPN is advertised exactly when enabled", "[capabilities]") {
    CHECK(ehlo(everything()).find("\r\n250-EXPN\r\n") != std::string::npos);
    CHECK(ehlo(smtpp::ehlo_offer{}).find("EXPN") == std::string::npos);
}

TEST_CASE("S-2033-5-a: the default LHLO reply lists PIPELINING, ENHANCEDSTATUSCODES, 8BITMIME",
          "[capabilities]") {
    const smtpp::capabilities caps = parse(ehlo(smtpp::ehlo_offer{}));
    CHECK(caps.pipelining);
    CHECK(caps.enhanced_status_codes);
    CHECK(caps.eight_bit_mime);
}

TEST_CASE("S-6531-3.1-b: SMTPUTF8 requires 8BITMIME", "[capabilities]") {
    smtpp::ehlo_offer ext;
    ext.offered.smtputf8 = true;
    ext.offered.eight_bit_mime = false;
    CHECK(ext.validate() == errc::invalid_config);
    CHECK(ehlo(ext, "hello", 512, errc::invalid_config).empty());
    ext.offered.eight_bit_mime = true;
    CHECK(ext.validate() == errc::ok);
}

TEST_CASE("S-3030-3-a: BINARYMIME requires CHUNKING", "[capabilities]") {
    smtpp::ehlo_offer ext;
    ext.offered.binarymime = true;
    CHECK(ext.validate() == errc::invalid_config);
    CHECK(ehlo(ext, "hello", 512, errc::invalid_config).empty());
    ext.offered.chunking = true;
    CHECK(ext.validate() == errc::ok);
}

TEST_CASE("S-5321-2.2.2-a: unregistered non-X keywords are refused, X keywords advertised",
          "[capabilities]") {
    smtpp::ehlo_offer ext;
    for (std::string_view bad :
         {"FOO", "FOO bar", "SIZE 5", "pipelining", "AUTH PLAIN", "XFOO  two-spaces",
          "XFOO trailing ", "-X", "X\x01", "XFOO b\xc3\xa9"}) {
        INFO(bad);
        ext.extra = {bad};
        CHECK(ext.validate() == errc::invalid_config);
    }
    for (std::string_view good :
         {"XFOO", "xfoo", "X-ANONYMOUSTLS", "XEXPS GSSAPI NTLM", "DELIVERBY 60", "ETRN",
          "MT-PRIORITY MIXER", "REQUIRETLS", "LIMITS RCPTMAX=100"}) {
        INFO(good);
        ext.extra = {good};
        CHECK(ext.validate() == errc::ok);
        CHECK(ehlo(ext).find("\r\n250 " + std::string(good) + "\r\n") != std::string::npos);
    }
}

TEST_CASE("RFC 4954 3, RFC 1870 4: AUTH and SIZE settings are checked", "[capabilities]") {
    smtpp::ehlo_offer ext;
    for (std::string_view bad :
         {"plain", "PLAIN  LOGIN", " PLAIN", "PLAIN ", "THIS-NAME-IS-TOO-LONG-X", "PL@IN"}) {
        INFO(bad);
        ext.auth_mechanisms = bad;
        CHECK(ext.validate() == errc::invalid_config);
    }
    ext.auth_mechanisms = "CRAM-MD5 DIGEST_MD5 X-OAUTH2";
    CHECK(ext.validate() == errc::ok);
    ext.size_limit = 1000; // S-5321-4.5.3.1.7-a: never below 64K
    CHECK(ext.validate() == errc::invalid_config);
    ext.size_limit = 65536;
    CHECK(ext.validate() == errc::ok);
    CHECK(ehlo(ext).find("\r\n250-SIZE 65536\r\n") != std::string::npos);
    ext.size_limit = UINT64_MAX;
    CHECK(ehlo(ext).find("\r\n250-SIZE 18446744073709551615\r\n") != std::string::npos);
}

TEST_CASE("S-6531-3.7.1-a: hostname and greeting are ASCII; lines stay within the limit",
          "[capabilities]") {
    std::string out;
    const smtpp::ehlo_offer ext;
    CHECK(smtpp::write_ehlo_reply(out, "b\xc3\xb8.example", "", ext) == errc::invalid_reply_text);
    CHECK(smtpp::write_ehlo_reply(out, "", "", ext) == errc::invalid_reply_text);
    CHECK(smtpp::write_ehlo_reply(out, "mx example", "", ext) == errc::invalid_reply_text);
    CHECK(smtpp::write_ehlo_reply(out, "mx.example", "hi\r\n250 x", ext) ==
          errc::invalid_reply_text);
    CHECK(smtpp::write_ehlo_reply(out, "mx.example", std::string(600, 'g'), ext) ==
          errc::invalid_argument);
    CHECK(out.empty());
    // S-5321-4.5.3.1.5-a: every line fits, or nothing is written.
    const std::string wire = ehlo(everything(), std::string(480, 'g'));
    std::size_t begin = 0;
    for (std::size_t end; (end = wire.find("\r\n", begin)) != std::string::npos; begin = end + 2) {
        CHECK(end + 2 - begin <= 512);
    }
    CHECK(smtpp::write_ehlo_reply(out, "mx.example", "", everything(), 30) ==
          errc::invalid_argument);
    CHECK(out.empty());
}

TEST_CASE("the EHLO writer allocates nothing when the output has room",
          "[capabilities][allocation]") {
    std::string out;
    out.reserve(4096);
    const smtpp::ehlo_offer ext = everything();
    CHECK(smtpp_test::allocations_during([&] {
              CHECK(smtpp::write_ehlo_reply(out, "mx.example", "hello", ext) == errc::ok);
          }) == 0);
}

// ---- Client side ----

TEST_CASE("S-5321-4.1.1.1-b: EHLO reply lines are keyword and parameters", "[capabilities]") {
    const smtpp::capabilities caps = parse("250-mx.example hi\r\n250-SIZE 1000\r\n250 DSN\r\n");
    CHECK(caps.domain == "mx.example");
    CHECK(caps.greeting == "hi");
    CHECK(caps.size);
    CHECK(caps.size_known);
    CHECK(caps.size_limit == 1000);
    CHECK(caps.dsn);
    CHECK_FALSE(caps.pipelining);
    smtpp::ehlo_extension e;
    REQUIRE(caps.find("size", e));
    CHECK(e.keyword == "SIZE");
    CHECK(e.params == "1000");
    CHECK_FALSE(caps.has("PIPELINING"));
}

TEST_CASE("S-5321-4.1.1.1-c: keywords match in any case", "[capabilities]") {
    const smtpp::capabilities caps = parse(
        "250-mx.example\r\n250-pipelining\r\n250-Size 20\r\n250-StartTLS\r\n250 auth plain\r\n");
    CHECK(caps.pipelining);
    CHECK(caps.size_limit == 20);
    CHECK(caps.starttls);
    CHECK(caps.has_auth_mechanism("PLAIN"));
    CHECK(parse("250-mx.example\r\n250 pipelining\r\n").pipelining);
}

TEST_CASE("S-1870-3-a: SIZE alone, SIZE 0 and SIZE n", "[capabilities]") {
    const smtpp::capabilities bare = parse("250-mx.example\r\n250 SIZE\r\n");
    CHECK(bare.size);
    CHECK_FALSE(bare.size_known);
    CHECK(bare.size_allows(UINT64_MAX));

    const smtpp::capabilities zero = parse("250-mx.example\r\n250 SIZE 0\r\n");
    CHECK(zero.size_known);
    CHECK(zero.size_limit == 0);
    CHECK(zero.size_allows(UINT64_MAX));

    const smtpp::capabilities fixed = parse("250-mx.example\r\n250 SIZE 1000\r\n");
    CHECK(fixed.size_limit == 1000);
    CHECK(fixed.size_allows(1000));
    CHECK_FALSE(fixed.size_allows(1001));

    CHECK(parse("250-mx.example\r\n250 SIZE 18446744073709551615\r\n").size_limit == UINT64_MAX);
    for (std::string_view odd :
         {"250-mx.example\r\n250 SIZE 18446744073709551616\r\n",
          "250-mx.example\r\n250 SIZE 99999999999999999999999\r\n",
          "250-mx.example\r\n250 SIZE 12a\r\n", "250-mx.example\r\n250 SIZE -1\r\n"}) {
        INFO(odd);
        const smtpp::capabilities caps = parse(odd);
        CHECK(caps.size);
        CHECK_FALSE(caps.size_known);
        CHECK(caps.size_limit == 0);
    }
    CHECK_FALSE(parse("250 mx.example\r\n").size);
}

TEST_CASE("S-6531-3.1-a: SMTPUTF8 with parameters is still SMTPUTF8", "[capabilities]") {
    CHECK(parse("250-mx.example\r\n250 SMTPUTF8 foo\r\n").smtputf8);
}

TEST_CASE("S-4954-3-a: AUTH lists space-separated mechanisms; legacy AUTH= too", "[capabilities]") {
    const smtpp::capabilities caps = parse("250-mx.example\r\n250 AUTH PLAIN SCRAM-SHA-256\r\n");
    CHECK(caps.auth);
    CHECK(words({caps.auth_mechanisms}) == std::vector<std::string>{"PLAIN", "SCRAM-SHA-256"});
    CHECK(caps.has_auth_mechanism("scram-sha-256"));
    CHECK_FALSE(caps.has_auth_mechanism("LOGIN"));

    const smtpp::capabilities legacy =
        parse("250-mx.example\r\n250-AUTH=PLAIN LOGIN\r\n250 AUTH CRAM-MD5\r\n");
    CHECK(legacy.auth);
    CHECK(legacy.has_auth_mechanism("LOGIN"));
    CHECK(legacy.has_auth_mechanism("CRAM-MD5"));
    CHECK(words({legacy.legacy_auth_mechanisms}) == std::vector<std::string>{"PLAIN", "LOGIN"});
    CHECK(unknown(legacy).empty());

    CHECK_FALSE(parse("250-mx.example\r\n250 DSN\r\n").auth);
}

TEST_CASE("RFC 5321 4.1.1.1: real servers' EHLO replies", "[capabilities]") {
    const smtpp::capabilities exchange =
        parse("250-EX01.corp.example Hello [192.0.2.1]\r\n250-SIZE "
              "37748736\r\n250-PIPELINING\r\n250-DSN\r\n"
              "250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250-X-ANONYMOUSTLS\r\n250-AUTH NTLM\r\n"
              "250-X-EXPS GSSAPI NTLM\r\n250-8BITMIME\r\n250-BINARYMIME\r\n250-CHUNKING\r\n250 "
              "XRDST\r\n");
    CHECK(exchange.domain == "EX01.corp.example");
    CHECK(exchange.greeting == "Hello [192.0.2.1]");
    CHECK(exchange.size_limit == 37748736);
    CHECK((exchange.pipelining && exchange.dsn && exchange.enhanced_status_codes &&
           exchange.starttls && exchange.eight_bit_mime && exchange.binarymime &&
           exchange.chunking));
    CHECK(exchange.has_auth_mechanism("NTLM"));
    CHECK(unknown(exchange) ==
          std::vector<std::string>{"X-ANONYMOUSTLS", "X-EXPS=GSSAPI NTLM", "XRDST"});
    smtpp::ehlo_extension exps;
    REQUIRE(exchange.find("x-exps", exps));
    CHECK(words(exps.param_list()) == std::vector<std::string>{"GSSAPI", "NTLM"});

    const smtpp::capabilities gmail = parse(
        "250-mx.google.com at your service, [192.0.2.1]\r\n250-SIZE 157286400\r\n250-8BITMIME\r\n"
        "250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 "
        "SMTPUTF8\r\n");
    CHECK(gmail.domain == "mx.google.com");
    CHECK(gmail.smtputf8);
    CHECK_FALSE(gmail.dsn);
    CHECK(unknown(gmail).empty());

    const smtpp::capabilities sendmail =
        parse("250-host.example.com Hello client.example [192.0.2.1], pleased to meet you\r\n"
              "250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE\r\n250-"
              "DSN\r\n250-ETRN\r\n"
              "250-AUTH DIGEST-MD5 CRAM-MD5\r\n250-DELIVERBY\r\n250 HELP\r\n");
    CHECK(sendmail.size);
    CHECK_FALSE(sendmail.size_known);
    CHECK(sendmail.help);
    CHECK(unknown(sendmail) == std::vector<std::string>{"ETRN", "DELIVERBY"});
}

TEST_CASE("RFC 5321 4.1.1.1: an empty last line and extra spaces are tolerated", "[capabilities]") {
    const smtpp::capabilities caps =
        parse("250-mx.example  hi  there \r\n250-PIPELINING \r\n250-SIZE  2048\r\n250 \r\n");
    CHECK(caps.domain == "mx.example");
    CHECK(caps.greeting == "hi  there");
    CHECK(caps.pipelining);
    CHECK(caps.size_limit == 2048);
    std::size_t n = 0;
    for (const smtpp::ehlo_extension e : caps.extension_lines()) n += e.keyword.empty() ? 100 : 1;
    CHECK(n == 2);

    const smtpp::capabilities single = parse("250 mx.example\r\n");
    CHECK(single.domain == "mx.example");
    CHECK(single.greeting.empty());
    CHECK(single.extension_lines().begin() == single.extension_lines().end());
}

TEST_CASE("parse_ehlo_reply refuses a reply that is not 250", "[capabilities]") {
    smtpp::reply_reader reader;
    const smtpp::read_result r = reader.read("502 5.5.1 EHLO not implemented\r\n");
    smtpp::capabilities caps;
    caps.pipelining = true;
    CHECK(smtpp::parse_ehlo_reply(r.reply, caps) == errc::invalid_argument);
    CHECK_FALSE(caps.pipelining);
}

TEST_CASE("written capabilities read back the same", "[capabilities]") {
    const std::string wire = ehlo(everything());
    const smtpp::capabilities caps = parse(wire);
    CHECK(caps.domain == "mx.example");
    CHECK(caps.greeting == "hello");
    CHECK((caps.pipelining && caps.eight_bit_mime && caps.smtputf8 && caps.enhanced_status_codes &&
           caps.chunking && caps.binarymime && caps.dsn && caps.starttls && caps.expn &&
           caps.help && caps.auth));
    CHECK(caps.size_limit == 35882577);
    CHECK(words({caps.auth_mechanisms}) ==
          std::vector<std::string>{"PLAIN", "LOGIN", "SCRAM-SHA-256"});
    CHECK(unknown(caps) ==
          std::vector<std::string>{"XCLIENT=NAME ADDR", "DELIVERBY=60", "x-local"});
}

TEST_CASE("capabilities copied into caller storage outlive the reader's next call",
          "[capabilities]") {
    smtpp::reply_reader reader;
    std::string storage;
    smtpp::capabilities caps;
    {
        CHECK(reader.read("250-mx.example hi\r\n250-AUTH PLA").error == errc::need_more_data);
        const smtpp::read_result r = reader.read("IN\r\n250 XFOO bar\r\n");
        REQUIRE(r.error == errc::ok);
        REQUIRE(smtpp::parse_ehlo_reply(r.reply, caps, storage) == errc::ok);
    }
    CHECK(reader.read("250-overwrites the reader's buffer\r\n250 ok\r\n").error == errc::ok);
    CHECK(caps.domain == "mx.example");
    CHECK(caps.has_auth_mechanism("PLAIN"));
    CHECK(unknown(caps) == std::vector<std::string>{"XFOO=bar"});
    CHECK(caps.raw.data() == storage.data());
}

TEST_CASE("split grind: an EHLO reply parses the same however it is cut", "[capabilities][grind]") {
    const std::string wire = ehlo(everything());
    CHECK(smtpp_test::first_divergent_split(wire, [](const std::vector<std::string_view>& pieces) {
              smtpp::reply_reader reader;
              std::string storage;
              std::string result;
              for (std::string_view in : pieces) {
                  const smtpp::read_result r = reader.read(in);
                  if (r.error != errc::ok) continue;
                  smtpp::capabilities caps;
                  if (smtpp::parse_ehlo_reply(r.reply, caps, storage) != errc::ok)
                      return std::string("error");
                  result += std::string(caps.domain) + " " + std::to_string(caps.size_limit) + " " +
                            std::string(caps.auth_mechanisms);
                  for (const std::string& u : unknown(caps)) result += " " + u;
              }
              return result;
          }) == -1);
}

TEST_CASE("parsing capabilities allocates nothing", "[capabilities][allocation]") {
    const std::string wire = ehlo(everything());
    smtpp::reply_reader reader;
    const smtpp::read_result r = reader.read(wire);
    REQUIRE(r.error == errc::ok);
    smtpp::capabilities caps;
    bool found = false;
    CHECK(smtpp_test::allocations_during([&] {
              CHECK(smtpp::parse_ehlo_reply(r.reply, caps) == errc::ok);
              found = caps.has("DELIVERBY") && caps.has_auth_mechanism("LOGIN");
          }) == 0);
    CHECK(found);
}
