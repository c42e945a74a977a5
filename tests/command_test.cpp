#include <smtpp/command.hpp>

#include "allocation_counter.hpp"
#include "smtpp_catch.hpp"

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using smtpp::errc;
using smtpp::verb;

namespace {

smtpp::command_result parse(std::string_view line, const smtpp::command_options& o = {}) {
    return smtpp::parse_command(line, o);
}

std::uint16_t code(std::string_view line, const smtpp::command_options& o = {}) {
    return parse(line, o).reply.code;
}

bool accepted(std::string_view line, const smtpp::command_options& o = {}) {
    const auto r = parse(line, o);
    INFO(std::string(line) << " -> " << r.reply.code << " " << smtpp::to_string(r.error));
    return r.ok() && r.reply.code == 0;
}

smtpp::enhanced_status status(std::uint8_t c, std::uint16_t s, std::uint16_t d) {
    return {c, s, d};
}

smtpp::command_options dsn() {
    smtpp::command_options o;
    o.offer.dsn = true;
    return o;
}

smtpp::command_options utf8_offered() {
    smtpp::command_options o;
    o.offer.smtputf8 = true;
    return o;
}

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

bool points_into(std::string_view part, std::string_view whole) {
    if (part.empty()) return true;
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

} // namespace

TEST_CASE("RFC 5321 4.1.1: every verb is recognised, in any case", "[command]") {
    struct row {
        const char* line;
        verb kind;
    };
    const row rows[] = {
        {"HELO x.example", verb::helo},
        {"ehlo x.example", verb::ehlo},
        {"LhLo x.example", verb::lhlo},
        {"MAIL FROM:<>", verb::mail},
        {"rcpt to:<a@b.example>", verb::rcpt},
        {"DATA", verb::data},
        {"bdat 1", verb::bdat},
        {"Rset", verb::rset},
        {"noop", verb::noop},
        {"QUIT", verb::quit},
        {"vrfy bob", verb::vrfy},
        {"EXPN list", verb::expn},
        {"help", verb::help},
        {"StartTLS", verb::starttls},
        {"AUTH PLAIN", verb::auth},
    };
    for (const row& r : rows) {
        INFO(r.line);
        const auto result = parse(r.line);
        CHECK(result.ok());
        CHECK(result.cmd.kind == r.kind);
        CHECK(result.reply.code == 0);
        CHECK(std::string_view(result.reply.text).empty());
    }
}

TEST_CASE("RFC 5321 4.2.4: unknown verbs are 500 5.5.2, known unimplemented ones 502 5.5.1",
          "[command]") {
    for (const char* line :
         {"TURN", "ETRN x.example", "ATRN", "SEND FROM:<a@b.example>", "soml", "SAML", "BURL x"}) {
        INFO(line);
        const auto r = parse(line);
        CHECK(r.cmd.kind == verb::unimplemented);
        CHECK(r.error == errc::unimplemented_command);
        CHECK(r.reply.code == 502);
        CHECK(r.reply.status == status(5, 5, 1));
    }
    for (const char* line : {"FOO", "", "MAILX FROM:<a@b.example>", "MAI", "HELLO x", "STARTTLSX",
                             "XCLIENT A=b", " NOOP"}) {
        INFO(line);
        const auto r = parse(line);
        CHECK(r.cmd.kind == verb::unknown);
        CHECK(r.error == errc::unknown_command);
        CHECK(r.reply.code == 500);
        CHECK(r.reply.status == status(5, 5, 2));
        CHECK_FALSE(std::string_view(r.reply.text).empty());
    }
}

TEST_CASE("S-5321-2.4-a: verbs, FROM:/TO: and parameter keywords are case-insensitive",
          "[command]") {
    const auto r = parse("mAiL fRoM:<a@b.example> size=10");
    REQUIRE(r.ok());
    CHECK(r.cmd.kind == verb::mail);
    CHECK(r.cmd.has_size);
    CHECK(r.cmd.size == 10);
    CHECK(r.cmd.verb_text == "mAiL");
    CHECK(accepted("rCpT tO:<a@b.example>"));
    CHECK(accepted("MAIL FROM:<a@b.example> body=8bitMIME"));
}

TEST_CASE("S-5321-2.4-b: RCPT keeps the local part's case", "[command]") {
    const auto r = parse("RCPT TO:<Smith@D.Example>");
    REQUIRE(r.ok());
    CHECK(r.cmd.address.box.local_part == "Smith");
    CHECK(r.cmd.address.box.domain == "D.Example");
}

TEST_CASE("S-5321-4.1.1-a: trailing white space before CRLF is tolerated for every verb",
          "[command]") {
    for (const char* line : {"RSET ", "RSET \t ", "DATA\t", "QUIT  ", "NOOP ", "STARTTLS ", "HELP ",
                             "EHLO x.example ", "HELO x.example\t", "MAIL FROM:<a@b.example>  ",
                             "RCPT TO:<a@b.example> ", "MAIL FROM:<a@b.example> SIZE=1 ",
                             "BDAT 1 LAST ", "VRFY bob ", "AUTH PLAIN ", "AUTH PLAIN AGEAYg== "}) {
        CHECK(accepted(line));
    }
    CHECK(parse("EHLO x.example ").cmd.domain == "x.example");
}

TEST_CASE("S-5321-2.3.8-a: a line holding a bare LF gets exactly one reply, 501", "[command]") {
    const auto r = parse("RSET\nRSET");
    CHECK(r.reply.code == 501);
    CHECK(r.error == errc::syntax_error);
    CHECK(r.cmd.kind == verb::rset);
    CHECK(code("EHLO\tx.example") == 501);
    CHECK(code("STARTTLS\r") == 501);
}

TEST_CASE("S-5321-4.5.3.1.4-a: a 512-octet command line is a command, not a 500", "[command]") {
    const std::string line = "NOOP " + repeat('x', 505); // + CRLF = 512 octets
    CHECK(accepted(line));
}

TEST_CASE("S-5321-4.5.3.1.4-b: the over-long-line reply is 500", "[command]") {
    const smtpp::reply_spec& r = smtpp::replies::line_too_long;
    CHECK(r.code == 500);
    CHECK(r.status == status(5, 5, 2));
}

TEST_CASE("S-EXT-linelen-a: MAIL/RCPT line limit grows with the offered extensions", "[command]") {
    smtpp::limits l;
    smtpp::command_options o;
    o.offer.size = false;
    o.offer.eight_bit_mime = false;
    CHECK(smtpp::mail_rcpt_line_limit(l, o) == 512);
    o.offer.size = true;
    CHECK(smtpp::mail_rcpt_line_limit(l, o) == 512 + 26);
    o.offer.binarymime = o.offer.smtputf8 = o.auth = true;
    CHECK(smtpp::mail_rcpt_line_limit(l, o) == 512 + 26 + 16 + 10 + 500);
    o.auth = false;
    o.offer.dsn = true;
    CHECK(smtpp::mail_rcpt_line_limit(l, o) == 1036);
    // A long DSN RCPT line parses: 500-character ORCPT and a full NOTIFY list.
    const std::string orcpt = "rfc822;" + repeat('b', 493);
    const std::string line =
        "RCPT TO:<" + repeat('a', 64) + "@x.example> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=" + orcpt;
    CHECK(accepted(line, dsn()));
}

TEST_CASE("S-5321-4.5.3.1-a: RCPT with a path of exactly 256 octets is accepted", "[command]") {
    std::string domain = repeat('d', 63) + "." + repeat('d', 63) + "." + repeat('d', 61);
    const std::string path = "<" + repeat('a', 64) + "@" + domain + ">";
    REQUIRE(path.size() == 256);
    CHECK(accepted("RCPT TO:" + path));
    const auto r = parse("RCPT TO:<" + repeat('a', 64) + "@" + domain + "d>");
    CHECK(r.error == errc::path_too_long);
    CHECK(r.reply.code == 501);
    CHECK(parse("RCPT TO:<" + repeat('a', 65) + "@x.example>").error == errc::local_part_too_long);
}

TEST_CASE("S-5321-4.1.1.2-a: no space after FROM:/TO: unless the leniency is on", "[command]") {
    CHECK(accepted("MAIL FROM:<a@b.example>"));
    auto r = parse("MAIL FROM: <a@b.example>");
    CHECK(r.reply.code == 501);
    CHECK(r.error == errc::syntax_error);
    CHECK(code("RCPT TO: <a@b.example>") == 501);
    smtpp::command_options lenient;
    lenient.lenient_space_after_colon = true;
    r = parse("MAIL FROM: <a@b.example>", lenient);
    REQUIRE(r.ok());
    CHECK(r.cmd.address.box.domain == "b.example");
    CHECK(accepted("RCPT TO:  <a@b.example>", lenient));
    // Other malformed shapes.
    CHECK(parse("MAIL").error == errc::missing_argument);
    CHECK(parse("MAIL FROM").reply.code == 501);
    CHECK(parse("MAIL  FROM:<a@b.example>").reply.code == 501);
    CHECK(parse("MAIL TO:<a@b.example>").reply.code == 501);
    CHECK(parse("RCPT FROM:<a@b.example>").reply.code == 501);
    CHECK(parse("MAIL FROM:a@b.example").error == errc::bad_path);
    CHECK(parse("MAIL FROM:").error == errc::bad_path);
    CHECK(parse("MAIL FROM:<a@b.example").error == errc::bad_path);
    CHECK(parse("MAIL FROM:<a@b.example>x").error == errc::bad_path);
    CHECK(parse("MAIL FROM :<a@b.example>").reply.code == 501);
}

TEST_CASE("S-5321-4.1.2-a: null reverse-path for MAIL, not for RCPT", "[command]") {
    const auto r = parse("MAIL FROM:<>");
    REQUIRE(r.ok());
    CHECK(r.cmd.address.is_null);
    const auto rcpt = parse("RCPT TO:<>");
    CHECK(rcpt.reply.code == 501);
    CHECK(rcpt.error == errc::null_path_not_allowed);
    CHECK(rcpt.reply.status == status(5, 1, 3));
}

TEST_CASE("S-5321-4.1.2-b: a source route is accepted and the mailbox is what follows it",
          "[command]") {
    const auto r = parse("RCPT TO:<@h1.example,@h2.example:u@d.example>");
    REQUIRE(r.ok());
    CHECK(r.cmd.address.source_route == "@h1.example,@h2.example");
    CHECK(r.cmd.address.box.local_part == "u");
    CHECK(r.cmd.address.box.domain == "d.example");
}

TEST_CASE("S-5321-4.1.2-c: empty atoms in a dot-string are a 501", "[command]") {
    CHECK(accepted("RCPT TO:<a.b@x.example>"));
    for (const char* line :
         {"RCPT TO:<a..b@x.example>", "RCPT TO:<.a@x.example>", "RCPT TO:<a.@x.example>"}) {
        const auto r = parse(line);
        CHECK(r.reply.code == 501);
        CHECK(r.error == errc::bad_local_part);
        CHECK(r.reply.status == status(5, 1, 3));
    }
    CHECK(parse("MAIL FROM:<a..b@x.example>").reply.status == status(5, 1, 7));
}

TEST_CASE("S-5321-4.1.2-d: quoted local parts, including '>' and spaces inside quotes",
          "[command]") {
    CHECK(accepted("RCPT TO:<\"john doe\"@x.example>"));
    CHECK(accepted("RCPT TO:<\"a\\\"b\"@x.example>"));
    CHECK(code("RCPT TO:<\"a\"b\"@x.example>") == 501);
    const auto r = parse("MAIL FROM:<\"a> b\"@x.example> SIZE=5");
    REQUIRE(r.ok());
    CHECK(r.cmd.address.box.local_part == "\"a> b\"");
    CHECK(r.cmd.address.box.quoted);
    CHECK(r.cmd.size == 5);
    CHECK(accepted("MAIL FROM:<\"a\\\\\"@x.example>"));
}

TEST_CASE("S-5321-4.1.2-f: 8-bit or control octets in a mailbox without SMTPUTF8", "[command]") {
    auto r = parse("RCPT TO:<j\xC3\xB6@x.example>");
    CHECK(r.reply.code == 553);
    CHECK(r.error == errc::non_ascii);
    CHECK(r.reply.status == status(5, 6, 7));
    r = parse("MAIL FROM:<j\xC3\xB6@x.example>");
    CHECK(r.reply.code == 553);
    CHECK(code("RCPT TO:<j\x01@x.example>") == 501);
    CHECK(code(std::string_view("RCPT TO:<j\0@x.example>", 23)) == 501);
}

TEST_CASE("S-5321-4.1.2-g: an underscore in a domain is a 501", "[command]") {
    const auto r = parse("MAIL FROM:<a@ex_ample.com>");
    CHECK(r.reply.code == 501);
    CHECK(r.error == errc::bad_domain);
    CHECK(r.reply.status == status(5, 1, 7));
}

TEST_CASE("S-5321-4.1.2-h: hyphens, empty labels and trailing dots are a 501", "[command]") {
    for (const char* line : {"RCPT TO:<a@-x.example>", "RCPT TO:<a@x-.example>",
                             "RCPT TO:<a@x..example>", "RCPT TO:<a@x.example.>"}) {
        INFO(line);
        CHECK(parse(line).error == errc::bad_domain);
        CHECK(code(line) == 501);
    }
}

TEST_CASE("S-5321-4.1.3-a: IPv4 address literals", "[command]") {
    const auto r = parse("RCPT TO:<postmaster@[192.0.2.1]>");
    REQUIRE(r.ok());
    CHECK(r.cmd.address.box.host == smtpp::host_kind::ipv4);
    CHECK(r.cmd.address.box.domain == "[192.0.2.1]");
    CHECK(code("RCPT TO:<a@[256.0.0.1]>") == 501);
    CHECK(code("RCPT TO:<a@[1.2.3]>") == 501);
}

TEST_CASE("S-5321-4.1.3-b: IPv6 address literals need the tag", "[command]") {
    CHECK(parse("RCPT TO:<a@[IPv6:2001:db8::1]>").cmd.address.box.host == smtpp::host_kind::ipv6);
    CHECK(accepted("RCPT TO:<a@[IPv6:::ffff:192.0.2.1]>"));
    CHECK(parse("RCPT TO:<a@[IPv6:1::2::3]>").error == errc::bad_address_literal);
    CHECK(code("RCPT TO:<a@[IPv6:1::2::3]>") == 501);
    CHECK(code("RCPT TO:<a@[2001:db8::1]>") == 501);
    CHECK(parse("RCPT TO:<a@[X-Tag:stuff]>").cmd.address.box.host == smtpp::host_kind::general);
}

TEST_CASE("S-5321-4.1.2-i: esmtp-params are keyword[=value] separated by single spaces",
          "[command]") {
    smtpp::command_options open;
    open.allow_unknown_params = true;
    const auto r = parse("MAIL FROM:<a@b.example> X-A=1 Y", open);
    REQUIRE(r.ok());
    REQUIRE(r.cmd.extra_count == 2);
    CHECK(r.cmd.extra_param(0).keyword == "X-A");
    CHECK(r.cmd.extra_param(0).value == "1");
    CHECK(r.cmd.extra_param(0).has_value);
    CHECK(r.cmd.extra_param(1).keyword == "Y");
    CHECK_FALSE(r.cmd.extra_param(1).has_value);
    for (const smtpp::command_options& o : {smtpp::command_options{}, open}) {
        for (const char* line :
             {"MAIL FROM:<a@b.example> FOO=a=b",
              "MAIL FROM:<a@b.example> FOO=", "MAIL FROM:<a@b.example> -X=1",
              "MAIL FROM:<a@b.example>  SIZE=1", "MAIL FROM:<a@b.example> SIZE=1  X-A=1",
              "MAIL FROM:<a@b.example> X_A=1", "MAIL FROM:<a@b.example> =1",
              "MAIL FROM:<a@b.example> X-A=a\tb", "MAIL FROM:<a@b.example> SIZE=1\tX=1"}) {
            INFO(line);
            const auto bad = parse(line, o);
            CHECK(bad.reply.code == 501);
            CHECK(bad.error == errc::bad_parameter);
            CHECK(bad.reply.status == status(5, 5, 2));
        }
    }
}

TEST_CASE("S-5321-4.1.1.11-a: an unknown MAIL/RCPT parameter is a 555 by default", "[command]") {
    auto r = parse("MAIL FROM:<a@b.example> FOO=1");
    CHECK(r.reply.code == 555);
    CHECK(r.error == errc::unsupported_parameter);
    CHECK(r.reply.status == status(5, 5, 4));
    CHECK(code("RCPT TO:<a@b.example> FOO") == 555);
    CHECK(code("RCPT TO:<a@b.example> SIZE=1") == 555);                // SIZE is a MAIL parameter
    CHECK(code("MAIL FROM:<a@b.example> NOTIFY=NEVER", dsn()) == 555); // NOTIFY is an RCPT one
    // With the application judging unknown parameters, they are kept, never dropped.
    smtpp::command_options open;
    open.allow_unknown_params = true;
    r = parse("RCPT TO:<a@b.example> FOO=1 XBAR", open);
    REQUIRE(r.ok());
    CHECK(r.cmd.extra_count == 2);
}

TEST_CASE("RFC 5321 4.1.2: repeated unknown parameters and too many of them are 501", "[command]") {
    smtpp::command_options open;
    open.allow_unknown_params = true;
    auto r = parse("MAIL FROM:<a@b.example> FOO=1 foo=2", open);
    CHECK(r.reply.code == 501);
    CHECK(r.error == errc::duplicate_parameter);
    std::string line = "MAIL FROM:<a@b.example>";
    for (int i = 0; i < 8; ++i) line += " X" + std::to_string(i) + "=1";
    r = parse(line, open);
    REQUIRE(r.ok());
    CHECK(r.cmd.extra_count == smtpp::max_extra_params);
    r = parse(line + " X8=1", open);
    CHECK(r.reply.code == 501);
    CHECK(r.error == errc::too_many_parameters);
    for (int i = 9; i < 40; ++i) line += " X" + std::to_string(i);
    CHECK(parse(line, open).error == errc::too_many_parameters);
}

TEST_CASE("S-5321-4.5.1-a: <Postmaster> without a domain, any case", "[command]") {
    const auto r = parse("RCPT TO:<POSTMASTER>");
    REQUIRE(r.ok());
    CHECK(r.cmd.address.is_postmaster);
    CHECK(accepted("RCPT TO:<Postmaster>"));
    CHECK(code("MAIL FROM:<Postmaster>") == 501);
}

TEST_CASE("S-5321-4.1.1.1-a: EHLO takes a domain or address literal, HELO a domain", "[command]") {
    auto r = parse("EHLO [192.0.2.1]");
    REQUIRE(r.ok());
    CHECK(r.cmd.domain == "[192.0.2.1]");
    CHECK(r.cmd.host == smtpp::host_kind::ipv4);
    r = parse("EHLO client.example");
    REQUIRE(r.ok());
    CHECK(r.cmd.domain == "client.example");
    CHECK(r.cmd.host == smtpp::host_kind::domain);
    CHECK(parse("LHLO [IPv6:::1]").cmd.host == smtpp::host_kind::ipv6);
    r = parse("EHLO");
    CHECK(r.reply.code == 501);
    CHECK(r.error == errc::missing_argument);
    CHECK(r.reply.status == status(5, 5, 2));
    CHECK(parse("HELO").reply.code == 501);
    CHECK(accepted("HELO client.example"));
    CHECK(code("HELO [192.0.2.1]") == 501);
    CHECK(code("EHLO client.example extra") == 501);
    CHECK(code("EHLO  client.example") == 501);
    CHECK(code("EHLO under_score.example") == 501);
    CHECK(code("EHLO [256.1.1.1]") == 501);
    CHECK(code("EHLO [2001:db8::1]") == 501);
    CHECK(code("EHLO x.example.") == 501);
}

TEST_CASE("S-6531-3.7.1-a: the EHLO argument is ASCII even with SMTPUTF8", "[command]") {
    smtpp::command_options o = utf8_offered();
    o.address.allow_utf8 = true;
    const auto r = parse("EHLO b\xC3\xB8.example", o);
    CHECK(r.reply.code == 501);
    CHECK(r.error == errc::non_ascii);
    CHECK(accepted("EHLO xn--b-5ga.example", o));
}

TEST_CASE("S-5321-4.1.1-b: DATA, RSET, QUIT and STARTTLS take no argument", "[command]") {
    for (const char* line : {"DATA x", "QUIT now", "RSET x", "STARTTLS please"}) {
        INFO(line);
        const auto r = parse(line);
        CHECK(r.reply.code == 501);
        CHECK(r.error == errc::unexpected_argument);
    }
}

TEST_CASE("S-5321-4.1.1.9-a: NOOP ignores any parameter", "[command]") {
    CHECK(accepted("NOOP hi"));
    CHECK(accepted("NOOP hi there \xFF \x01"));
    CHECK(parse("NOOP hi").cmd.vrfy_argument == "hi");
    CHECK(code(std::string_view("NOOP a\0b", 8)) == 501);
}

TEST_CASE("S-5321-4.1.1.8-a: HELP with and without an argument", "[command]") {
    CHECK(accepted("HELP"));
    const auto r = parse("HELP MAIL");
    REQUIRE(r.ok());
    CHECK(r.cmd.vrfy_argument == "MAIL");
    CHECK(code("HELP a\x01") == 501);
}

TEST_CASE("S-6531-3.7.4.2-a: VRFY/EXPN need an argument and take an optional SMTPUTF8",
          "[command]") {
    auto r = parse("VRFY j\xC3\xB8 SMTPUTF8");
    REQUIRE(r.ok());
    CHECK(r.cmd.vrfy_argument == "j\xC3\xB8");
    CHECK(r.cmd.vrfy_smtputf8);
    r = parse("VRFY j\xC3\xB8"); // the session answers 252 or 550 5.6.8
    REQUIRE(r.ok());
    CHECK_FALSE(r.cmd.vrfy_smtputf8);
    r = parse("EXPN Some List smtputf8");
    REQUIRE(r.ok());
    CHECK(r.cmd.vrfy_argument == "Some List");
    CHECK(r.cmd.vrfy_smtputf8);
    CHECK(parse("VRFY SMTPUTF8").cmd.vrfy_argument == "SMTPUTF8");
    CHECK(parse("VRFY").error == errc::missing_argument);
    CHECK(parse("EXPN").reply.code == 501);
    CHECK(parse("VRFY \xC0\x80").error == errc::invalid_utf8);
    CHECK(parse("VRFY a\tb").reply.code == 501);
}

TEST_CASE("S-6152-3-a: BODY=7BIT or 8BITMIME in any case; other values 501", "[command]") {
    CHECK(parse("MAIL FROM:<a@b.example> BODY=8bitmime").cmd.body ==
          smtpp::body_type::eight_bit_mime);
    CHECK(parse("MAIL FROM:<a@b.example> BODY=7Bit").cmd.body == smtpp::body_type::seven_bit);
    CHECK(parse("MAIL FROM:<a@b.example>").cmd.body == smtpp::body_type::unspecified);
    auto r = parse("MAIL FROM:<a@b.example> BODY=9BIT");
    CHECK(r.reply.code == 501);
    CHECK(r.error == errc::bad_parameter_value);
    CHECK(r.reply.status == status(5, 5, 4));
    CHECK(code("MAIL FROM:<a@b.example> BODY") == 501);
    smtpp::command_options no8bit;
    no8bit.offer.eight_bit_mime = false;
    CHECK(code("MAIL FROM:<a@b.example> BODY=8BITMIME", no8bit) == 555);
    CHECK(code("MAIL FROM:<a@b.example> BODY=7BIT", no8bit) == 555);
}

TEST_CASE("S-6152-3-b: at most one BODY parameter", "[command]") {
    const auto r = parse("MAIL FROM:<a@b.example> BODY=7BIT BODY=8BITMIME");
    CHECK(r.reply.code == 501);
    CHECK(r.error == errc::duplicate_parameter);
}

TEST_CASE("S-3030-3-b: BODY=BINARYMIME only when BINARYMIME is offered", "[command]") {
    CHECK(code("MAIL FROM:<a@b.example> BODY=BINARYMIME") == 555);
    smtpp::command_options o;
    o.offer.binarymime = true;
    CHECK(parse("MAIL FROM:<a@b.example> BODY=binarymime", o).cmd.body ==
          smtpp::body_type::binary_mime);
}

TEST_CASE("S-1870-3-b: SIZE=1*20DIGIT, once, overflow-safe", "[command]") {
    auto r = parse("MAIL FROM:<a@b.example> SIZE=123");
    REQUIRE(r.ok());
    CHECK(r.cmd.has_size);
    CHECK(r.cmd.size == 123);
    CHECK_FALSE(parse("MAIL FROM:<a@b.example>").cmd.has_size);
    r = parse("MAIL FROM:<a@b.example> SIZE=18446744073709551615");
    REQUIRE(r.ok());
    CHECK(r.cmd.size == UINT64_MAX);
    CHECK(parse("MAIL FROM:<a@b.example> SIZE=00000000000000000001").cmd.size == 1);
    CHECK(parse("MAIL FROM:<a@b.example> SIZE=0").cmd.size == 0);
    struct row {
        const char* line;
        errc error;
    };
    const row rows[] = {
        {"MAIL FROM:<a@b.example> SIZE=", errc::bad_parameter},
        {"MAIL FROM:<a@b.example> SIZE", errc::bad_parameter_value},
        {"MAIL FROM:<a@b.example> SIZE=12a", errc::bad_parameter_value},
        {"MAIL FROM:<a@b.example> SIZE=-1", errc::bad_parameter_value},
        {"MAIL FROM:<a@b.example> SIZE=+1", errc::bad_parameter_value},
        {"MAIL FROM:<a@b.example> SIZE=0x10", errc::bad_parameter_value},
        {"MAIL FROM:<a@b.example> SIZE=000000000000000000001", errc::bad_parameter_value}, // 21
        {"MAIL FROM:<a@b.example> SIZE=1 SIZE=2", errc::duplicate_parameter},
        {"MAIL FROM:<a@b.example> SIZE=1 size=1", errc::duplicate_parameter},
    };
    for (const row& x : rows) {
        INFO(x.line);
        r = parse(x.line);
        CHECK(r.reply.code == 501);
        CHECK(r.error == x.error);
    }
    // 20 digits above 2^64-1 are well formed (1*20DIGIT): a size larger than every limit,
    // which the session answers 552 (RFC 1870 6.1), not a syntax error.
    for (const char* line : {"MAIL FROM:<a@b.example> SIZE=99999999999999999999",
                             "MAIL FROM:<a@b.example> SIZE=18446744073709551616"}) {
        INFO(line);
        r = parse(line);
        REQUIRE(r.ok());
        CHECK(r.cmd.size == UINT64_MAX);
    }
    smtpp::command_options nosize;
    nosize.offer.size = false;
    CHECK(code("MAIL FROM:<a@b.example> SIZE=1", nosize) == 555);
}

TEST_CASE("S-6531-3.4-a: the SMTPUTF8 MAIL parameter takes no value", "[command]") {
    auto r = parse("MAIL FROM:<a@b.example> SMTPUTF8", utf8_offered());
    REQUIRE(r.ok());
    CHECK(r.cmd.smtputf8);
    r = parse("MAIL FROM:<a@b.example> SMTPUTF8=1", utf8_offered());
    CHECK(r.reply.code == 501);
    CHECK(r.error == errc::bad_parameter_value);
    CHECK(code("MAIL FROM:<a@b.example> SMTPUTF8 SMTPUTF8", utf8_offered()) == 501);
    CHECK(code("MAIL FROM:<a@b.example> SMTPUTF8") == 555); // not offered
}

TEST_CASE("S-6531-3.2-a: with SMTPUTF8, UTF-8 mailboxes are accepted", "[command]") {
    auto r = parse("MAIL FROM:<j\xC3\xB8ran@b\xC3\xB8.example> SMTPUTF8", utf8_offered());
    REQUIRE(r.ok());
    CHECK(r.cmd.address.box.utf8);
    CHECK(r.cmd.address.box.local_part == "j\xC3\xB8ran");
    // MAIL needs its own SMTPUTF8 parameter: 553 5.6.7 without it.
    r = parse("MAIL FROM:<j\xC3\xB8ran@b\xC3\xB8.example>", utf8_offered());
    CHECK(r.reply.code == 553);
    CHECK(r.reply.status == status(5, 6, 7));
    CHECK(code("MAIL FROM:<j\xC3\xB8ran@b\xC3\xB8.example> SMTPUTF8") == 553); // not offered
    // RCPT follows the session's address.allow_utf8.
    smtpp::command_options in_utf8_transaction = utf8_offered();
    in_utf8_transaction.address.allow_utf8 = true;
    const char* chinese =
        "RCPT TO:<\xE7\x94\xA8\xE6\x88\xB7@\xE4\xBE\x8B\xE5\xAD\x90.\xE5\xB9\xBF\xE5\x91\x8A>";
    CHECK(accepted(chinese, in_utf8_transaction));
    CHECK(code(chinese, utf8_offered()) == 553);
    // esmtp-value may carry UTF-8 under SMTPUTF8 only.
    smtpp::command_options open = in_utf8_transaction;
    open.allow_unknown_params = true;
    CHECK(accepted("RCPT TO:<a@b.example> X-NOTE=\xC3\xB8", open));
    open.address.allow_utf8 = false;
    CHECK(parse("RCPT TO:<a@b.example> X-NOTE=\xC3\xB8", open).error == errc::non_ascii);
    CHECK(accepted("MAIL FROM:<a@b.example> X-NOTE=\xC3\xB8 SMTPUTF8", open));
    CHECK(parse("MAIL FROM:<a@b.example> X-NOTE=\xC3\xB8", open).error == errc::non_ascii);
}

TEST_CASE("S-6531-3.3-a: only well-formed UTF-8 is accepted", "[command]") {
    smtpp::command_options o = utf8_offered();
    o.address.allow_utf8 = true;
    auto r = parse("RCPT TO:<\xC0\x80@x.example>", o);
    CHECK(r.reply.code == 501);
    CHECK(r.error == errc::invalid_utf8);
    CHECK(code("RCPT TO:<\xC0\x80@x.example>") == 553); // without SMTPUTF8: any 8-bit octet
    CHECK(code("MAIL FROM:<\xED\xA0\x80@x.example> SMTPUTF8", o) == 501);
    o.allow_unknown_params = true;
    CHECK(parse("RCPT TO:<a@x.example> X=\xF4\x90\x80\x80", o).error == errc::invalid_utf8);
}

TEST_CASE("S-3030-2-a: BDAT SP 1*DIGIT [SP LAST]", "[command]") {
    auto r = parse("BDAT 0 LAST");
    REQUIRE(r.ok());
    CHECK(r.cmd.bdat_size == 0);
    CHECK(r.cmd.bdat_last);
    r = parse("BDAT 86 last");
    REQUIRE(r.ok());
    CHECK(r.cmd.bdat_size == 86);
    CHECK(r.cmd.bdat_last);
    r = parse("BDAT 100000");
    REQUIRE(r.ok());
    CHECK(r.cmd.bdat_size == 100000);
    CHECK_FALSE(r.cmd.bdat_last);
    CHECK(parse("BDAT 18446744073709551615").cmd.bdat_size == UINT64_MAX);
    for (const char* line :
         {"BDAT", "BDAT x", "BDAT 5 FIRST", "BDAT -1", "BDAT 0x10", "BDAT 5 LAST LAST", "BDAT  5",
          "BDAT 5  LAST", "BDAT LAST", "BDAT +5", "BDAT 5LAST"}) {
        INFO(line);
        CHECK(code(line) == 501);
    }
    CHECK(parse("BDAT").error == errc::missing_argument);
    // A well-formed size above 2^64-1 is larger than any message: 552 (RFC 3030 2, RFC 1870).
    for (const char* line : {"BDAT 18446744073709551616", "BDAT 99999999999999999999999"}) {
        INFO(line);
        const auto big = parse(line);
        CHECK(big.error == errc::number_overflow);
        CHECK(big.reply.code == 552);
        CHECK(big.reply.status == status(5, 3, 4));
    }
}

TEST_CASE("S-3030-2-l: a line of arbitrary octets gets a defined rejection", "[command]") {
    const auto r = parse(std::string_view("\x00\xff\xfe junk", 9));
    CHECK(r.reply.code == 500);
    CHECK(r.error == errc::unknown_command);
    CHECK(code("\xC3\xA9HLO x") == 500);
    CHECK(code(std::string_view("RS\0T", 4)) == 500);
    CHECK(code(std::string_view("RSET\0", 5)) == 500);
    CHECK(code("DATA\xFF") == 500);
}

TEST_CASE("S-3461-4.1-a: NOTIFY is NEVER alone or a list of SUCCESS/FAILURE/DELAY", "[command]") {
    auto r = parse("RCPT TO:<a@b.example> NOTIFY=success,Delay", dsn());
    REQUIRE(r.ok());
    CHECK(r.cmd.notify == (smtpp::notify_success | smtpp::notify_delay));
    CHECK(parse("RCPT TO:<a@b.example> NOTIFY=never", dsn()).cmd.notify == smtpp::notify_never);
    CHECK(parse("RCPT TO:<a@b.example> NOTIFY=FAILURE", dsn()).cmd.notify == smtpp::notify_failure);
    for (const char* line :
         {"RCPT TO:<a@b.example> NOTIFY=NEVER,SUCCESS", "RCPT TO:<a@b.example> NOTIFY=",
          "RCPT TO:<a@b.example> NOTIFY", "RCPT TO:<a@b.example> NOTIFY=SOMETIMES",
          "RCPT TO:<a@b.example> NOTIFY=SUCCESS,", "RCPT TO:<a@b.example> NOTIFY=,DELAY"}) {
        INFO(line);
        CHECK(code(line, dsn()) == 501);
    }
    CHECK(code("RCPT TO:<a@b.example> NOTIFY=NEVER") == 555); // DSN not offered
}

TEST_CASE("S-3461-4.2-a: ORCPT=addr-type;xtext with both parts", "[command]") {
    auto r = parse("RCPT TO:<bob@example.com> ORCPT=rfc822;bob@example.com", dsn());
    REQUIRE(r.ok());
    CHECK(r.cmd.orcpt_type == "rfc822");
    CHECK(r.cmd.orcpt_address == "bob@example.com");
    CHECK(accepted("RCPT TO:<a@b.example> ORCPT=rfc822;a+2Bb@b.example", dsn()));
    for (const char* line :
         {"RCPT TO:<a@b.example> ORCPT=rfc822", "RCPT TO:<a@b.example> ORCPT=;x",
          "RCPT TO:<a@b.example> ORCPT=rfc822;", "RCPT TO:<a@b.example> ORCPT",
          "RCPT TO:<a@b.example> ORCPT=rfc822;a+2", "RCPT TO:<a@b.example> ORCPT=rfc822;a+0Ab",
          "RCPT TO:<a@b.example> ORCPT=rfc(822;a"}) {
        INFO(line);
        CHECK(code(line, dsn()) == 501);
    }
    CHECK(code("RCPT TO:<a@b.example> ORCPT=rfc822;a@b.example") == 555);
}

TEST_CASE("S-3461-4-a: xtext in DSN parameters uses upper-case hex", "[command]") {
    CHECK(accepted("MAIL FROM:<a@b.example> ENVID=e+3Dmc2", dsn()));
    for (const char* line :
         {"MAIL FROM:<a@b.example> ENVID=a+2", "MAIL FROM:<a@b.example> ENVID=a+ZZ",
          "MAIL FROM:<a@b.example> ENVID=e+3dmc2"}) {
        INFO(line);
        const auto r = parse(line, dsn());
        CHECK(r.reply.code == 501);
        CHECK(r.error == errc::bad_xtext);
    }
}

TEST_CASE("S-3461-4-b: an address encoded as xtext is accepted back as ORCPT", "[command]") {
    std::string xtext;
    smtpp::xtext_encode(xtext, "a+b=c d@x.example");
    CHECK(xtext == "a+2Bb+3Dc+20d@x.example");
    CHECK(accepted("RCPT TO:<a@x.example> ORCPT=rfc822;" + xtext, dsn()));
}

TEST_CASE("S-3461-4.3-a: RET=FULL or RET=HDRS in any case", "[command]") {
    CHECK(parse("MAIL FROM:<a@b.example> RET=hdrs", dsn()).cmd.ret == smtpp::dsn_ret::headers);
    CHECK(parse("MAIL FROM:<a@b.example> RET=Full", dsn()).cmd.ret == smtpp::dsn_ret::full);
    CHECK(code("MAIL FROM:<a@b.example> RET=BODY", dsn()) == 501);
    CHECK(code("MAIL FROM:<a@b.example> RET", dsn()) == 501);
    CHECK(code("MAIL FROM:<a@b.example> RET=FULL") == 555);
}

TEST_CASE("S-3461-4.4-a: ENVID=xtext, required, printable when decoded", "[command]") {
    auto r = parse("MAIL FROM:<a@b.example> ENVID=QQ314159", dsn());
    REQUIRE(r.ok());
    CHECK(r.cmd.envid == "QQ314159");
    CHECK(code("MAIL FROM:<a@b.example> ENVID=", dsn()) == 501);
    CHECK(code("MAIL FROM:<a@b.example> ENVID", dsn()) == 501);
    r = parse("MAIL FROM:<a@b.example> ENVID=a+00b", dsn());
    CHECK(r.reply.code == 501);
    CHECK(r.error == errc::bad_parameter_value);
    CHECK(code("MAIL FROM:<a@b.example> ENVID=x") == 555);
}

TEST_CASE("S-3461-4.5-a: RET, ENVID, NOTIFY and ORCPT at most once", "[command]") {
    for (const char* line :
         {"MAIL FROM:<a@b.example> RET=FULL RET=HDRS", "MAIL FROM:<a@b.example> ENVID=a ENVID=b"}) {
        INFO(line);
        CHECK(parse(line, dsn()).error == errc::duplicate_parameter);
        CHECK(code(line, dsn()) == 501);
    }
    for (const char* line : {"RCPT TO:<a@b.example> NOTIFY=NEVER NOTIFY=NEVER",
                             "RCPT TO:<a@b.example> ORCPT=rfc822;a ORCPT=rfc822;a"}) {
        INFO(line);
        CHECK(parse(line, dsn()).error == errc::duplicate_parameter);
    }
}

TEST_CASE("S-3461-5.1-a: valid DSN parameters do not change the verdict", "[command]") {
    CHECK(accepted("MAIL FROM:<a@b.example>", dsn()));
    CHECK(accepted("MAIL FROM:<a@b.example> RET=FULL ENVID=x", dsn()));
}

TEST_CASE("S-3461-5.4-a: ENVID of 100 and ORCPT of 500 characters are accepted", "[command]") {
    CHECK(accepted("MAIL FROM:<a@b.example> RET=HDRS ENVID=" + repeat('e', 100), dsn()));
    CHECK(code("MAIL FROM:<a@b.example> ENVID=" + repeat('e', 101), dsn()) == 501);
    const std::string orcpt = "rfc822;" + repeat('o', 493);
    REQUIRE(orcpt.size() == 500);
    CHECK(accepted("RCPT TO:<a@b.example> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=" + orcpt, dsn()));
    CHECK(code("RCPT TO:<a@b.example> ORCPT=" + orcpt + "o", dsn()) == 501);
}

TEST_CASE("S-4954-8-a: AUTH SP mechanism [SP initial-response], case-insensitive", "[command]") {
    auto r = parse("auth plain AGEAYg==");
    REQUIRE(r.ok());
    CHECK(r.cmd.kind == verb::auth);
    CHECK(r.cmd.auth_mechanism == "plain");
    CHECK(r.cmd.has_initial_response);
    CHECK(r.cmd.auth_initial_response == "AGEAYg==");
    r = parse("AUTH SCRAM-SHA-256");
    REQUIRE(r.ok());
    CHECK(r.cmd.auth_mechanism == "SCRAM-SHA-256");
    CHECK_FALSE(r.cmd.has_initial_response);
    CHECK(accepted("AUTH X_Y-1 AAAA"));
    r = parse("AUTH");
    CHECK(r.reply.code == 501);
    CHECK(r.error == errc::missing_argument);
    CHECK(code("AUTH " + repeat('A', 21)) == 501);
    CHECK(accepted("AUTH " + repeat('A', 20)));
    CHECK(code("AUTH PL@IN") == 501);
    CHECK(code("AUTH  PLAIN") == 501);
    CHECK(code("AUTH PLAIN AGEAYg== extra") == 501);
}

TEST_CASE("S-4954-4-h: an initial response of '=' is an empty response", "[command]") {
    const auto r = parse("AUTH EXTERNAL =");
    REQUIRE(r.ok());
    CHECK(r.cmd.has_initial_response);
    CHECK(r.cmd.auth_initial_response.empty());
}

TEST_CASE("S-4954-4-f: strict base64 in the initial response, else 501 5.5.2", "[command]") {
    for (const char* ir : {"=AAA", "AAA=BBB", "AB$=", "AAA", "AA=A",
                           "A===", "====", "AAAA====", "==", "AAAA=", "AA-A", "AA_A"}) {
        INFO(ir);
        const auto r = parse(std::string("AUTH PLAIN ") + ir);
        CHECK(r.reply.code == 501);
        CHECK(r.error == errc::bad_base64);
        CHECK(r.reply.status == status(5, 5, 2));
    }
    for (const char* ir : {"AAAA", "AA==", "AAA=", "ab+/", "dGVzdA=="}) {
        INFO(ir);
        CHECK(accepted(std::string("AUTH PLAIN ") + ir));
    }
}

TEST_CASE("S-4954-5-a: MAIL AUTH= is xtext of a mailbox or <>", "[command]") {
    smtpp::command_options o;
    o.auth = true;
    auto r = parse("MAIL FROM:<e=mc2@example.com> AUTH=e+3Dmc2@example.com", o);
    REQUIRE(r.ok());
    CHECK(r.cmd.has_auth_param);
    CHECK(r.cmd.auth_param == "e+3Dmc2@example.com");
    CHECK(accepted("MAIL FROM:<a@b.example> AUTH=<>", o));
    CHECK(accepted("MAIL FROM:<a@b.example> AUTH=e+3dmc2@example.com",
                   o)); // RFC 4954 8: HEXDIG any case
    r = parse("MAIL FROM:<a@b.example> AUTH=foo", o);
    CHECK(r.reply.code == 501);
    CHECK(r.error == errc::bad_parameter_value);
    CHECK(code("MAIL FROM:<a@b.example> AUTH=", o) == 501);
    CHECK(code("MAIL FROM:<a@b.example> AUTH", o) == 501);
    CHECK(code("MAIL FROM:<a@b.example> AUTH=a+ZZ@b.example", o) == 501);
    CHECK(code("MAIL FROM:<a@b.example> AUTH=<a@b.example>", o) == 501);
    CHECK(code("MAIL FROM:<a@b.example> AUTH=<> AUTH=<>", o) == 501);
    CHECK(code("MAIL FROM:<a@b.example> AUTH=" + repeat('a', 1100) + "@b.example", o) == 501);
    CHECK(code("MAIL FROM:<a@b.example> AUTH=<>") == 555); // AUTH not offered
}

TEST_CASE("parse_command: every view points into the line", "[command]") {
    smtpp::command_options o = dsn();
    o.allow_unknown_params = true;
    const std::string lines[] = {
        "MAIL FROM:<@r.example:a@b.example> SIZE=1 ENVID=x RET=FULL X=1",
        "RCPT TO:<\"q q\"@[IPv6:::1]> NOTIFY=NEVER ORCPT=rfc822;a@b Y",
        "EHLO client.example",
        "AUTH PLAIN AAAA",
        "VRFY bob SMTPUTF8",
    };
    for (const std::string& line : lines) {
        INFO(line);
        const auto r = parse(line, o);
        REQUIRE(r.ok());
        const smtpp::command& c = r.cmd;
        for (std::string_view v :
             {c.line, c.verb_text, c.argument, c.domain, c.address.text, c.address.source_route,
              c.address.box.local_part, c.address.box.domain, c.envid, c.auth_param, c.orcpt_type,
              c.orcpt_address, c.auth_mechanism, c.auth_initial_response, c.vrfy_argument}) {
            CHECK(points_into(v, line));
        }
        for (std::size_t i = 0; i < c.extra_count; ++i) {
            CHECK(points_into(c.extra_param(i).keyword, line));
            CHECK(points_into(c.extra_param(i).value, line));
        }
    }
}

TEST_CASE("parse_command performs no heap allocation", "[command]") {
    smtpp::command_options o = dsn();
    o.offer.smtputf8 = o.auth = o.offer.binarymime = o.allow_unknown_params = true;
    const std::vector<std::string> mix = {
        "EHLO client.example",
        "MAIL FROM:<sender@example.com> SIZE=12345 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ314159",
        "MAIL FROM:<e=mc2@example.com> AUTH=e+3Dmc2@example.com",
        "RCPT TO:<rcpt@example.org> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;rcpt@example.org X-A=1",
        "RCPT TO:<\"quoted user\"@[IPv6:2001:db8::1]>",
        "RCPT TO:<@a.example,@b.example:u@d.example>",
        "DATA",
        "BDAT 1000 LAST",
        "AUTH PLAIN AGEAYg==",
        "NOOP",
        "RSET",
        "QUIT",
        "VRFY bob SMTPUTF8",
        "MAIL FROM:<a..b@x.example>",
        "MAIL FROM:<a@b.example> FOO=a=b",
        "FOO bar",
        std::string("\x00\xff junk", 7),
    };
    std::size_t ok_count = 0;
    const std::size_t allocations = smtpp_test::allocations_during([&] {
        for (int round = 0; round < 10; ++round) {
            for (const std::string& line : mix)
                ok_count += smtpp::parse_command(line, o).ok() ? 1 : 0;
        }
    });
    CHECK(allocations == 0);
    CHECK(ok_count == 10 * 13);
}

TEST_CASE("parse_command classifies random octet lines without crashing", "[command][robustness]") {
    std::mt19937 rng(20240611);
    const std::vector<std::string> seeds = {
        "MAIL FROM:<a@b.example> SIZE=10 BODY=8BITMIME",
        "RCPT TO:<\"x y\"@[IPv6:::1]> NOTIFY=NEVER ORCPT=rfc822;a",
        "EHLO [192.0.2.1]",
        "AUTH PLAIN AGEAYg==",
        "BDAT 10 LAST",
        "VRFY x SMTPUTF8",
        "HELO a.example",
        "MAIL FROM:<e@x> AUTH=e+3Dmc2@x.example ENVID=a+2B RET=FULL SMTPUTF8",
    };
    const std::string alphabet = "<>@.:;,=+-\"\\[] \tAaZz09fFIPv6LASTMRCOTH";
    smtpp::command_options options[3];
    options[1].offer.dsn = options[1].auth = options[1].offer.smtputf8 =
        options[1].offer.binarymime = true;
    options[1].address.allow_utf8 = true;
    options[2] = options[1];
    options[2].allow_unknown_params = options[2].lenient_space_after_colon = true;

    std::size_t accepted_count = 0;
    for (int i = 0; i < 30000; ++i) {
        std::string line;
        switch (i % 3) {
        case 0: { // arbitrary octets
            line.resize(rng() % 64);
            for (char& c : line) c = static_cast<char>(rng() & 0xFF);
            break;
        }
        case 1: { // a verb and grammar-ish characters
            line = seeds[rng() % seeds.size()].substr(0, 5);
            const std::size_t n = rng() % 60;
            for (std::size_t k = 0; k < n; ++k) line += alphabet[rng() % alphabet.size()];
            break;
        }
        default: { // a valid command with a few octets mutated
            line = seeds[rng() % seeds.size()];
            for (int k = 0, n = static_cast<int>(rng() % 4) + 1; k < n; ++k) {
                line[rng() % line.size()] = static_cast<char>(rng() & 0xFF);
            }
            break;
        }
        }
        const auto r = smtpp::parse_command(line, options[i % 3]);
        INFO(line);
        if (r.ok()) {
            ++accepted_count;
            CHECK(r.reply.code == 0);
            CHECK(r.cmd.kind != verb::unknown);
            CHECK(r.cmd.kind != verb::unimplemented);
        } else {
            CHECK(r.reply.code >= 500);
            CHECK(r.reply.code <= 559);
            CHECK(r.reply.status.cls == 5);
            CHECK_FALSE(r.reply.text.empty());
        }
    }
    CHECK(accepted_count > 0);
}
