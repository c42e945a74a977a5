// XCLIENT and XFORWARD (Postfix XCLIENT_README, XFORWARD_README): the attribute parser, the
// command writer with its line splitting, and the EHLO keyword reader. Row ids are the
// conformance checklist's (tests/conformance.md, section 18).
#include <smtpp/xclient.hpp>

#include <smtpp/command.hpp>
#include <smtpp/ehlo_writer.hpp>
#include <smtpp/reply_reader.hpp>

#include "allocation_counter.hpp"
#include "smtpp_catch.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using smtpp::errc;
using smtpp::xclient_attribute;
using smtpp::xclient_value;
using smtpp::xclient_value_kind;
using smtpp::xclient_verb;
using attr = smtpp::xclient_attribute;

namespace {

constexpr xclient_verb xclient = xclient_verb::xclient;
constexpr xclient_verb xforward = xclient_verb::xforward;

smtpp::xclient_parse_result parse(xclient_verb verb, std::string_view argument,
                                  smtpp::xclient_attributes& out, bool lower_hex = false) {
    smtpp::xclient_options options;
    options.lenient_lower_hex = lower_hex;
    return smtpp::parse_xclient(verb, argument, out, options);
}

errc parse_error(xclient_verb verb, std::string_view argument) {
    smtpp::xclient_attributes out;
    const smtpp::xclient_parse_result r = parse(verb, argument, out);
    if (!r.ok()) CHECK(out.present().empty()); // nothing is kept from a refused command
    return r.error;
}

// The value of `a` after parsing a command that carries only `token`.
xclient_value value_of(xclient_verb verb, std::string_view token, attr a,
                       smtpp::xclient_attributes& out) {
    const smtpp::xclient_parse_result r = parse(verb, token, out);
    REQUIRE(r.ok());
    return out.get(a);
}

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

// A hostname of exactly n octets: labels of at most 63 octets joined by dots.
std::string hostname_of(std::size_t n) {
    std::string name;
    while (name.size() < n) {
        if (!name.empty()) name += '.';
        const std::size_t label = std::min<std::size_t>(63, n - name.size());
        name += repeat('a', label);
    }
    if (name.back() == '.') name.back() = 'b';
    return name;
}

// Attributes read back from written lines, merged the way a server merges XFORWARD commands.
using merged = std::map<attr, std::pair<xclient_value_kind, std::string>>;

// Checks each written line (CRLF, length, verb) and parses its argument into `into`.
void read_back(std::string_view wire, xclient_verb verb, merged& into, std::size_t& lines,
               std::size_t line_limit = smtpp::xclient_line_limit) {
    lines = 0;
    const std::string prefix = std::string(smtpp::to_string(verb)) + " ";
    while (!wire.empty()) {
        const std::size_t end = wire.find("\r\n");
        REQUIRE(end != std::string_view::npos);
        const std::string_view line = wire.substr(0, end);
        CHECK(line.size() + 2 <= line_limit);
        CHECK(line.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
        REQUIRE(line.substr(0, prefix.size()) == prefix);
        smtpp::xclient_attributes parsed;
        const smtpp::xclient_parse_result r = parse(verb, line.substr(prefix.size()), parsed);
        INFO(std::string(line));
        REQUIRE(r.ok());
        for (std::size_t i = 0; i < smtpp::xclient_attribute_count; ++i) {
            const auto a = static_cast<attr>(i);
            if (!parsed.has(a)) continue;
            CHECK(into.count(a) == 0); // each attribute is written once
            into[a] = {parsed.get(a).kind, std::string(parsed.get(a).text)};
        }
        ++lines;
        wire.remove_prefix(end + 2);
    }
}

merged expected_of(const smtpp::xclient_request& request) {
    merged m;
    for (std::size_t i = 0; i < smtpp::xclient_attribute_count; ++i) {
        const auto a = static_cast<attr>(i);
        const xclient_value v = request.get(a);
        if (v.present()) m[a] = {v.kind, std::string(v.text)};
    }
    return m;
}

// Writes `request`, reads the lines back and checks they carry exactly the request.
std::size_t round_trip(const smtpp::xclient_request& request,
                       std::size_t line_limit = smtpp::xclient_line_limit) {
    std::string wire;
    std::size_t lines = 0;
    REQUIRE(smtpp::write_xclient(wire, request, lines, line_limit) == errc::ok);
    merged back;
    std::size_t read = 0;
    read_back(wire, request.verb(), back, read, line_limit);
    CHECK(read == lines);
    CHECK(back == expected_of(request));
    std::size_t counted = 0;
    CHECK(smtpp::count_xclient_lines(request, counted, line_limit) == errc::ok);
    CHECK(counted == lines);
    return lines;
}

// The lines of `wire`, CRLF removed.
std::vector<std::string> lines_of(std::string_view wire) {
    std::vector<std::string> lines;
    while (!wire.empty()) {
        const std::size_t end = wire.find("\r\n");
        lines.emplace_back(wire.substr(0, end));
        wire.remove_prefix(end == std::string_view::npos ? wire.size() : end + 2);
    }
    return lines;
}

// An output buffer of fixed capacity, to write without allocating.
struct fixed_sink {
    char bytes[2048];
    std::size_t size = 0;
    bool overflow = false;
    void append(const char* p, std::size_t n) {
        if (size + n > sizeof bytes) {
            overflow = true;
            return;
        }
        for (std::size_t i = 0; i < n; ++i) bytes[size++] = p[i];
    }
    [[nodiscard]] std::string_view view() const { return {bytes, size}; }
};

// Every attribute of `verb`, for loops over all of them.
std::vector<attr> attributes_of(xclient_verb verb) {
    std::vector<attr> all;
    for (std::size_t i = 0; i < smtpp::xclient_attribute_count; ++i) {
        const auto a = static_cast<attr>(i);
        if (smtpp::xclient_attributes_of(verb).has(a)) all.push_back(a);
    }
    return all;
}

// A valid text value for each attribute.
std::string_view valid_text(xclient_verb verb, attr a) {
    switch (a) {
    case attr::name:
        return "spike.porcupine.org";
    case attr::addr:
    case attr::destaddr:
        return "168.100.189.2";
    case attr::port:
    case attr::destport:
        return "25";
    case attr::proto:
        return verb == xclient ? "ESMTP" : "LMTP";
    case attr::helo:
        return "client.example.com";
    case attr::login:
        return "wietse";
    case attr::ident:
        return "763402AAE6";
    case attr::source:
        return "REMOTE";
    }
    return "";
}

} // namespace

// ---- the README examples ----

TEST_CASE("S-XCLIENT-example-a: the XCLIENT_README example, through parse_command", "[xclient]") {
    // XCLIENT_README: XCLIENT Example. The command parser does not know the verb: the server
    // hands the argument of an unknown command to parse_xclient.
    const smtpp::command_result line =
        smtpp::parse_command("XCLIENT NAME=spike.porcupine.org ADDR=168.100.189.2", {});
    CHECK(line.error == errc::unknown_command);
    xclient_verb verb = xforward;
    REQUIRE(smtpp::lookup_xclient_verb(line.cmd.verb_text, verb));
    CHECK(verb == xclient);

    smtpp::xclient_attributes a;
    const smtpp::xclient_parse_result r = parse(verb, line.cmd.argument, a);
    REQUIRE(r.ok());
    CHECK(r.reply.code == 0);
    CHECK(a.verb() == xclient);
    CHECK(a.present().size() == 2);
    CHECK(a.get(attr::name) == xclient_value::of("spike.porcupine.org"));
    CHECK(a.address().family == smtpp::xclient_address_family::ipv4);
    CHECK(a.address().text == "168.100.189.2");

    std::string wire;
    std::size_t lines = 0;
    REQUIRE(smtpp::write_xclient(wire, smtpp::xclient_request::of(a), lines) == errc::ok);
    CHECK(lines == 1);
    CHECK(wire == "XCLIENT NAME=spike.porcupine.org ADDR=168.100.189.2\r\n");
}

TEST_CASE("S-XCLIENT-example-a: the example's EHLO reply announces NAME ADDR PROTO HELO",
          "[xclient]") {
    // XCLIENT_README: XCLIENT Example, the server's EHLO reply as shown.
    const std::string_view ehlo = "250-server.example.com\r\n250-PIPELINING\r\n"
                                  "250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n"
                                  "250-XCLIENT NAME ADDR PROTO HELO\r\n250 8BITMIME\r\n";
    smtpp::reply_reader reader{smtpp::limits{}};
    const smtpp::read_result read = reader.read(ehlo);
    REQUIRE(read.error == errc::ok);
    smtpp::capabilities caps;
    REQUIRE(smtpp::parse_ehlo_reply(read.reply, caps) == errc::ok);

    smtpp::xclient_attribute_set offered;
    REQUIRE(smtpp::find_xclient_offer(caps, xclient, offered));
    CHECK(offered == smtpp::xclient_attribute_set{}
                         .add(attr::name)
                         .add(attr::addr)
                         .add(attr::proto)
                         .add(attr::helo));
    CHECK_FALSE(smtpp::find_xclient_offer(caps, xforward, offered));
    CHECK(offered.empty());
}

TEST_CASE("S-XFORWARD-example-a: the XFORWARD_README example", "[xclient]") {
    // XFORWARD_README: XFORWARD Example: two commands, the second adding HELO.
    smtpp::xclient_attributes first;
    REQUIRE(parse(xforward, "NAME=spike.porcupine.org ADDR=168.100.189.2 PROTO=ESMTP", first).ok());
    CHECK(first.get(attr::name).text == "spike.porcupine.org");
    CHECK(first.get(attr::addr).text == "168.100.189.2");
    CHECK(first.get(attr::proto).text == "ESMTP");
    smtpp::xclient_attributes second;
    REQUIRE(parse(xforward, "HELO=spike.porcupine.org", second).ok());
    CHECK(second.present() == smtpp::xclient_attribute_set{}.add(attr::helo));

    std::string wire;
    std::size_t lines = 0;
    REQUIRE(smtpp::write_xclient(wire, smtpp::xclient_request::of(first), lines) == errc::ok);
    REQUIRE(smtpp::write_xclient(wire, smtpp::xclient_request::of(second), lines) == errc::ok);
    CHECK(wire == "XFORWARD NAME=spike.porcupine.org ADDR=168.100.189.2 PROTO=ESMTP\r\n"
                  "XFORWARD HELO=spike.porcupine.org\r\n");

    smtpp::capabilities caps;
    smtpp::reply_reader reader{smtpp::limits{}};
    const smtpp::read_result read =
        reader.read("250-server.example.com\r\n250-XFORWARD NAME ADDR PROTO HELO\r\n"
                    "250 8BITMIME\r\n");
    REQUIRE(read.error == errc::ok);
    REQUIRE(smtpp::parse_ehlo_reply(read.reply, caps) == errc::ok);
    smtpp::xclient_attribute_set offered;
    REQUIRE(smtpp::find_xclient_offer(caps, xforward, offered));
    CHECK(offered.size() == 4);
    CHECK_FALSE(offered.has(attr::ident));
}

// ---- syntax ----

TEST_CASE("S-XCLIENT-syntax-a: attribute=value pairs separated by one SP, names in any case",
          "[xclient]") {
    smtpp::xclient_attributes a;
    REQUIRE(parse(xclient, "name=a.example Addr=192.0.2.1 pOrT=4711", a).ok());
    CHECK(a.get(attr::name).text == "a.example");
    CHECK(a.port() == 4711);
    CHECK(errc::missing_argument == parse_error(xclient, ""));
    for (const std::string_view bad :
         {"NAME", "NAME=", "=a.example", "NAME=a.example  ADDR=1.2.3.4", " NAME=a.example",
          "NAME=a.example ", "NAME==a"}) {
        INFO(std::string(bad));
        const errc e = parse_error(xclient, bad);
        CHECK((e == errc::bad_attribute || e == errc::bad_xtext));
    }
    CHECK(parse_error(xclient, "NAME") == errc::bad_attribute);
    CHECK(parse_error(xclient, "NAME=") == errc::bad_attribute);
    CHECK(parse_error(xclient, "=a.example") == errc::bad_attribute);
    CHECK(parse_error(xclient, "NAME=a.example  ADDR=1.2.3.4") == errc::bad_attribute);
    // A tab is not a separator: it sits inside the value, where xtext does not allow it.
    CHECK(parse_error(xclient, "NAME=a.example\tADDR=1.2.3.4") == errc::bad_xtext);
}

TEST_CASE("S-XCLIENT-syntax-b: unknown and repeated attributes are refused", "[xclient]") {
    CHECK(parse_error(xclient, "IDENT=x") == errc::unknown_attribute);
    CHECK(parse_error(xclient, "SOURCE=LOCAL") == errc::unknown_attribute);
    CHECK(parse_error(xclient, "REVERSE_NAME=a.example") == errc::unknown_attribute);
    CHECK(parse_error(xclient, "FOO=1") == errc::unknown_attribute);
    CHECK(parse_error(xclient, "NAMEX=a") == errc::unknown_attribute);
    CHECK(parse_error(xclient, "NAME=a.example name=b.example") == errc::duplicate_attribute);
    CHECK(parse_error(xclient, "PORT=1 ADDR=1.2.3.4 PORT=1") == errc::duplicate_attribute);
    // Repeats cap the count: a ninth attribute is always a repeat or unknown.
    CHECK(parse_error(xclient,
                      "NAME=a.example ADDR=1.2.3.4 PORT=1 PROTO=SMTP HELO=h LOGIN=l "
                      "DESTADDR=1.2.3.5 DESTPORT=25 NAME=b.example") == errc::duplicate_attribute);

    smtpp::xclient_attributes a;
    const smtpp::xclient_parse_result r = parse(xclient, "NAME=a.example FOO=1 ADDR=1.2.3.4", a);
    CHECK(r.error == errc::unknown_attribute);
    CHECK(r.token == "FOO=1"); // a view into the argument, for the log
    CHECK(r.reply.code == 501);
    CHECK(r.reply.status == smtpp::enhanced_status{5, 5, 4});
    CHECK(a.present().empty());
}

TEST_CASE("S-XFORWARD-syntax-a: XFORWARD's attributes, in any case", "[xclient]") {
    smtpp::xclient_attributes a;
    REQUIRE(parse(xforward,
                  "name=a.example addr=IPV6:2001:db8::1 port=25 proto=SMTP helo=a ident=3CF6B2AAE8 "
                  "source=local",
                  a)
                .ok());
    CHECK(a.present() == smtpp::xclient_attributes_of(xforward));
    CHECK(a.get(attr::ident).text == "3CF6B2AAE8");
    CHECK(a.get(attr::source).text == "local");
    CHECK(parse_error(xforward, "LOGIN=x") == errc::unknown_attribute);
    CHECK(parse_error(xforward, "DESTADDR=1.2.3.4") == errc::unknown_attribute);
    CHECK(parse_error(xforward, "DESTPORT=25") == errc::unknown_attribute);
    CHECK(parse_error(xforward, "IDENT=a IDENT=b") == errc::duplicate_attribute);
}

TEST_CASE("the verb is recognised in any case, other verbs are not", "[xclient]") {
    xclient_verb verb = xclient;
    CHECK(smtpp::lookup_xclient_verb("xforward", verb));
    CHECK(verb == xforward);
    CHECK(smtpp::lookup_xclient_verb("XClient", verb));
    CHECK(verb == xclient);
    CHECK_FALSE(smtpp::lookup_xclient_verb("XCLIENTS", verb));
    CHECK_FALSE(smtpp::lookup_xclient_verb("XFORWARDS", verb));
    CHECK_FALSE(smtpp::lookup_xclient_verb("", verb));
    CHECK(std::string_view(smtpp::to_string(xforward)) == "XFORWARD");
    CHECK(std::string_view(smtpp::to_string(attr::destport)) == "DESTPORT");
}

// ---- xtext ----

TEST_CASE("S-XCLIENT-syntax-c: values are xtext, decoded before they are checked", "[xclient]") {
    smtpp::xclient_attributes a;
    CHECK(value_of(xclient, "LOGIN=a+2Bb", attr::login, a).text == "a+b");
    CHECK(value_of(xclient, "LOGIN=+3D", attr::login, a).text == "=");
    CHECK(value_of(xclient, "NAME=+41+42.example", attr::name, a).text == "AB.example");
    // RFC 3461 4 wants upper-case hex, as ENVID and ORCPT in this library.
    CHECK(parse_error(xclient, "LOGIN=a+2bb") == errc::bad_xtext);
    REQUIRE(parse(xclient, "LOGIN=a+2bb", a, true).ok()); // lenient_lower_hex
    CHECK(a.get(attr::login).text == "a+b");
    for (const std::string_view bad : {"LOGIN=a+", "LOGIN=a+2", "LOGIN=a+G0", "LOGIN=a+ 2",
                                       "LOGIN=a=b", "LOGIN=\xc3\xa9", "LOGIN=a\x7f"}) {
        INFO(std::string(bad));
        CHECK(parse_error(xclient, bad) == errc::bad_xtext);
    }
}

TEST_CASE("S-3461-4-a: xtext in XCLIENT follows the library's xtext rules", "[xclient]") {
    // The same decoder as ENVID: every octet through "+XX", the xchars as themselves.
    for (int octet = 0x20; octet < 0x7f; ++octet) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "+%02X", octet);
        smtpp::xclient_attributes a;
        const std::string argument = std::string("LOGIN=x") + hex;
        REQUIRE(parse(xclient, argument, a).ok());
        CHECK(a.get(attr::login).text == std::string("x") + static_cast<char>(octet));
    }
}

// ---- each attribute's values ----

TEST_CASE("S-XCLIENT-syntax-d: NAME is a hostname or a special", "[xclient]") {
    smtpp::xclient_attributes a;
    for (const std::string_view good :
         {"NAME=a", "NAME=mail.example.com", "NAME=mail_1.example", "NAME=xn--bcher-kva.example",
          "NAME=a-b.c-d", "NAME=1a.example", "NAME=MAIL.EXAMPLE"}) {
        INFO(std::string(good));
        CHECK(parse(xclient, good, a).ok());
    }
    for (const std::string_view bad :
         {"NAME=192.0.2.1", "NAME=123", "NAME=-a.example", "NAME=a-.example", "NAME=a..example",
          "NAME=a.example.", "NAME=.a.example", "NAME=a+2Fb", "NAME=[192.0.2.1]", "NAME=a+40b",
          "NAME=a+C3+A9.example"}) {
        INFO(std::string(bad));
        CHECK(parse_error(xclient, bad) == errc::bad_attribute_value);
    }
    CHECK(parse(xclient, "NAME=" + repeat('a', 63) + ".example", a).ok());
    CHECK(parse_error(xclient, "NAME=" + repeat('a', 64) + ".example") ==
          errc::bad_attribute_value);
    CHECK(value_of(xclient, "NAME=[UNAVAILABLE]", attr::name, a) == xclient_value::unavailable());
    CHECK(value_of(xclient, "NAME=[TEMPUNAVAIL]", attr::name, a) == xclient_value::tempunavail());
}

TEST_CASE("S-XCLIENT-syntax-e: ADDR and DESTADDR are IPv4 or IPV6:-prefixed IPv6", "[xclient]") {
    smtpp::xclient_attributes a;
    for (const attr which : {attr::addr, attr::destaddr}) {
        const std::string name = smtpp::to_string(which);
        for (const std::string_view good :
             {"192.0.2.1", "0.0.0.0", "255.255.255.255", "IPV6:2001:db8::1", "IPv6:::1",
              "ipv6:::ffff:192.0.2.1", "IPV6:1:2:3:4:5:6:7:8", "[UNAVAILABLE]"}) {
            INFO(name << "=" << std::string(good));
            CHECK(parse(xclient, name + "=" + std::string(good), a).ok());
        }
        for (const std::string_view bad :
             {"[192.0.2.1]", "2001:db8::1", "256.0.0.1", "1.2.3", "1.2.3.4.5", "IPV6:1::2::3",
              "IPV6:192.0.2.1", "[IPV6:::1]", "IPV6:", "a.example", "[TEMPUNAVAIL]"}) {
            INFO(name << "=" << std::string(bad));
            CHECK(parse_error(xclient, name + "=" + std::string(bad)) == errc::bad_attribute_value);
        }
    }
    REQUIRE(parse(xclient, "ADDR=IPV6:2001:db8::1 DESTADDR=192.0.2.25", a).ok());
    CHECK(a.address().family == smtpp::xclient_address_family::ipv6);
    CHECK(a.address().text == "2001:db8::1");
    CHECK(a.address(attr::destaddr).family == smtpp::xclient_address_family::ipv4);
    CHECK(a.address(attr::destaddr).text == "192.0.2.25");
    CHECK(a.address(attr::port).family == smtpp::xclient_address_family::none);
    REQUIRE(parse(xclient, "ADDR=[UNAVAILABLE]", a).ok());
    CHECK(a.address().family == smtpp::xclient_address_family::none);
}

TEST_CASE("S-XCLIENT-syntax-f: PORT and DESTPORT are decimal numbers up to 65535", "[xclient]") {
    smtpp::xclient_attributes a;
    REQUIRE(parse(xclient, "PORT=0 DESTPORT=65535", a).ok());
    CHECK(a.port() == 0);
    CHECK(a.port(attr::destport) == 65535);
    CHECK(a.port(attr::addr) == 0);
    REQUIRE(parse(xclient, "PORT=00025", a).ok());
    CHECK(a.port() == 25);
    for (const std::string_view bad :
         {"PORT=65536", "PORT=123456", "PORT=+2D1", "PORT=1a", "PORT=99999", "PORT=0x19",
          "DESTPORT=65536", "PORT=[TEMPUNAVAIL]"}) {
        INFO(std::string(bad));
        CHECK(parse_error(xclient, bad) == errc::bad_attribute_value);
    }
    REQUIRE(parse(xclient, "PORT=[unavailable]", a).ok());
    CHECK(a.get(attr::port) == xclient_value::unavailable());
    CHECK(a.port() == 0);
}

TEST_CASE("S-XCLIENT-syntax-g: XCLIENT PROTO is SMTP or ESMTP", "[xclient]") {
    smtpp::xclient_attributes a;
    for (const std::string_view good : {"PROTO=SMTP", "PROTO=ESMTP", "PROTO=esmtp", "PROTO=Smtp"})
        CHECK(parse(xclient, good, a).ok());
    for (const std::string_view bad :
         {"PROTO=LMTP", "PROTO=ESMTPS", "PROTO=[UNAVAILABLE]", "PROTO=[TEMPUNAVAIL]"}) {
        INFO(std::string(bad));
        CHECK(parse_error(xclient, bad) == errc::bad_attribute_value);
    }
}

TEST_CASE("S-XCLIENT-syntax-h: HELO takes a HELO argument, LOGIN a SASL name", "[xclient]") {
    smtpp::xclient_attributes a;
    for (const std::string_view good :
         {"HELO=client.example.com", "HELO=[192.0.2.1]", "HELO=[IPv6:2001:db8::1]",
          "HELO=localhost", "HELO=User_PC", "HELO=[UNAVAILABLE]"})
        CHECK(parse(xclient, good, a).ok());
    for (const std::string_view bad :
         {"HELO=a+20b", "HELO=a+3Cb", "HELO=a+3Eb", "HELO=a+40b", "HELO=a+22b", "HELO=a+3Bb",
          "HELO=a+28b", "HELO=a+5Cb", "HELO=+C3+A9", "HELO=[TEMPUNAVAIL]"}) {
        INFO(std::string(bad));
        CHECK(parse_error(xclient, bad) == errc::bad_attribute_value);
    }
    CHECK(value_of(xclient, "LOGIN=j+20doe+40example.com", attr::login, a).text ==
          "j doe@example.com");
    CHECK(value_of(xclient, "LOGIN=+C3+A9l+C3+A8ve", attr::login, a).text == "\xc3\xa9l\xc3\xa8ve");
    CHECK(value_of(xclient, "LOGIN=[Unavailable]", attr::login, a) == xclient_value::unavailable());
    CHECK(parse_error(xclient, "LOGIN=+C3") == errc::bad_attribute_value); // not UTF-8
    CHECK(parse_error(xclient, "LOGIN=+FF") == errc::bad_attribute_value);
    CHECK(parse_error(xclient, "LOGIN=[TEMPUNAVAIL]") == errc::bad_attribute_value);
}

TEST_CASE("S-XFORWARD-syntax-b: XFORWARD NAME, ADDR and PORT, [UNAVAILABLE] for all", "[xclient]") {
    smtpp::xclient_attributes a;
    REQUIRE(parse(xforward, "NAME=localhost ADDR=127.0.0.1 PORT=10025", a).ok());
    CHECK(a.port() == 10025);
    for (const attr which : attributes_of(xforward)) {
        const std::string token = std::string(smtpp::to_string(which)) + "=[UNAVAILABLE]";
        INFO(token);
        CHECK(value_of(xforward, token, which, a) == xclient_value::unavailable());
    }
    CHECK(parse_error(xforward, "NAME=[TEMPUNAVAIL]") == errc::bad_attribute_value);
    CHECK(parse_error(xforward, "NAME=192.0.2.1") == errc::bad_attribute_value);
    CHECK(parse_error(xforward, "ADDR=[192.0.2.1]") == errc::bad_attribute_value);
}

TEST_CASE("S-XFORWARD-syntax-c: XFORWARD PROTO is any protocol name of up to 64 octets",
          "[xclient]") {
    smtpp::xclient_attributes a;
    for (const std::string_view good : {"PROTO=SMTP", "PROTO=ESMTPSA", "PROTO=LMTP", "PROTO=QMQP",
                                        "PROTO=UUCP", "PROTO=[UNAVAILABLE]"})
        CHECK(parse(xforward, good, a).ok());
    CHECK(parse(xforward, "PROTO=" + repeat('P', 64), a).ok());
    CHECK(parse_error(xforward, "PROTO=" + repeat('P', 65)) == errc::attribute_too_long);
    CHECK(parse_error(xforward, "PROTO=a+20b") == errc::bad_attribute_value);
}

TEST_CASE("S-XFORWARD-syntax-d: SOURCE is LOCAL or REMOTE; IDENT a message id", "[xclient]") {
    smtpp::xclient_attributes a;
    for (const std::string_view good : {"SOURCE=LOCAL", "SOURCE=remote", "SOURCE=[UNAVAILABLE]",
                                        "IDENT=3CF6B2AAE8", "IDENT=4XyZ1b2c3d-x.y"})
        CHECK(parse(xforward, good, a).ok());
    for (const std::string_view bad : {"SOURCE=INTERNAL", "SOURCE=LOCALHOST", "SOURCE=local+20",
                                       "IDENT=a+20b", "IDENT=+3Cid+3E", "IDENT=a+40b"}) {
        INFO(std::string(bad));
        CHECK(parse_error(xforward, bad) == errc::bad_attribute_value);
    }
}

TEST_CASE("S-XFORWARD-note1-b: decoded values hold no controls, 8-bit, white space or header "
          "specials",
          "[xclient]") {
    CHECK(parse_error(xforward, "HELO=a+0D+0Ab") == errc::control_in_attribute);
    CHECK(parse_error(xforward, "HELO=a+09b") == errc::control_in_attribute);
    CHECK(parse_error(xforward, "IDENT=a+20b") == errc::bad_attribute_value);
    CHECK(parse_error(xforward, "IDENT=a+3Cb") == errc::bad_attribute_value);
    CHECK(parse_error(xforward, "HELO=+C3+A9") == errc::bad_attribute_value);
    CHECK(parse_error(xforward, "PROTO=ES+80MTP") == errc::bad_attribute_value);
}

// ---- specials and case ----

TEST_CASE("S-XCLIENT-note2-a: [UNAVAILABLE], [TEMPUNAVAIL] and IPV6: in any case", "[xclient]") {
    smtpp::xclient_attributes a;
    CHECK(value_of(xclient, "NAME=[tempUnavail]", attr::name, a) == xclient_value::tempunavail());
    CHECK(value_of(xclient, "NAME=[unavailable]", attr::name, a) == xclient_value::unavailable());
    CHECK(value_of(xclient, "ADDR=ipv6:::1", attr::addr, a).text == "ipv6:::1");
    CHECK(a.address().family == smtpp::xclient_address_family::ipv6);
    CHECK(value_of(xclient, "PORT=[UnAvailable]", attr::port, a) == xclient_value::unavailable());
    // The specials are compared after decoding: an encoded bracket is still the special.
    CHECK(value_of(xclient, "NAME=+5BUNAVAILABLE+5D", attr::name, a) ==
          xclient_value::unavailable());
    // Near misses are values, checked by the attribute's rule.
    CHECK(parse_error(xclient, "NAME=[UNAVAILABLE") == errc::bad_attribute_value);
    CHECK(value_of(xclient, "HELO=[UNAVAILABLE", attr::helo, a).text == "[UNAVAILABLE");
}

TEST_CASE("S-XFORWARD-note3-a: XFORWARD's [UNAVAILABLE] in any case", "[xclient]") {
    smtpp::xclient_attributes a;
    CHECK(value_of(xforward, "HELO=[Unavailable]", attr::helo, a) == xclient_value::unavailable());
    CHECK(value_of(xforward, "SOURCE=[unavailable]", attr::source, a) ==
          xclient_value::unavailable());
}

// ---- lengths ----

TEST_CASE("S-XCLIENT-note1-a: NAME and HELO of 255 octets are accepted, 256 are not", "[xclient]") {
    smtpp::xclient_attributes a;
    const std::string name = hostname_of(255);
    REQUIRE(name.size() == 255);
    CHECK(value_of(xclient, "NAME=" + name, attr::name, a).text == name);
    CHECK(value_of(xclient, "HELO=" + repeat('h', 255), attr::helo, a).text.size() == 255);
    CHECK(parse_error(xclient, "NAME=" + hostname_of(256)) == errc::attribute_too_long);
    CHECK(parse_error(xclient, "HELO=" + repeat('h', 256)) == errc::attribute_too_long);
    // The bound is on the value as written: 85 spaces are 255 octets of xtext, 86 are 258.
    std::string spaces;
    for (int i = 0; i < 85; ++i) spaces += "+20";
    CHECK(value_of(xclient, "LOGIN=" + spaces, attr::login, a).text == repeat(' ', 85));
    CHECK(parse_error(xclient, "LOGIN=" + spaces + "+20") == errc::attribute_too_long);
}

TEST_CASE("S-XFORWARD-note1-a: an attribute value is at most 255 octets", "[xclient]") {
    smtpp::xclient_attributes a;
    CHECK(parse(xforward, "IDENT=" + repeat('i', 255), a).ok());
    CHECK(parse_error(xforward, "IDENT=" + repeat('i', 256)) == errc::attribute_too_long);
    CHECK(parse_error(xforward, "HELO=" + repeat('h', 300)) == errc::attribute_too_long);
}

TEST_CASE("S-XCLIENT-note1-b: an argument longer than a 512-octet line is refused", "[xclient]") {
    // "XCLIENT " + argument + CRLF <= 512: the argument has 502 octets at most.
    const std::string fits = "HELO=" + repeat('h', 255) + " LOGIN=" + repeat('l', 235);
    REQUIRE(fits.size() == 502);
    smtpp::xclient_attributes a;
    CHECK(parse(xclient, fits, a).ok());
    const smtpp::xclient_parse_result r = parse(xclient, fits + "l", a);
    CHECK(r.error == errc::line_too_long);
    CHECK(r.reply.code == 500);
    CHECK(r.token.empty());
    // "XFORWARD " is one octet longer.
    const std::string fits_xforward = "HELO=" + repeat('h', 255) + " IDENT=" + repeat('i', 234);
    REQUIRE(fits_xforward.size() == 501);
    CHECK(parse(xforward, fits_xforward, a).ok());
    CHECK(parse_error(xforward, fits_xforward + "i") == errc::line_too_long);
}

// ---- injection ----

TEST_CASE("S-XCLIENT-security-a: CR, LF, NUL and other controls are refused in every attribute",
          "[xclient]") {
    // Decided: refused everywhere, LOGIN included. The values go into logs, Received: headers
    // and line-based policy protocols; SASLprep (RFC 4013 2.3) has no controls in names.
    for (const xclient_verb verb : {xclient, xforward}) {
        for (const attr which : attributes_of(verb)) {
            for (const std::string_view control : {"+0D+0A", "+0D", "+0A", "+00", "+09", "+1B",
                                                   "+7F", "a+0D+0AMAIL+20FROM:+3C+3E"}) {
                const std::string token =
                    std::string(smtpp::to_string(which)) + "=" + std::string(control);
                INFO(smtpp::to_string(verb) << " " << token);
                CHECK(parse_error(verb, token) == errc::control_in_attribute);
            }
            // Raw, they are not xtext at all.
            const std::string raw = std::string(smtpp::to_string(which)) + "=a\r\nQUIT";
            CHECK(parse_error(verb, raw) == errc::bad_xtext);
            CHECK(parse_error(verb, std::string(smtpp::to_string(which)) + "=a" +
                                        std::string(1, '\0')) == errc::bad_xtext);
        }
    }
}

TEST_CASE("S-XCLIENT-security-a: the writer refuses controls instead of encoding them",
          "[xclient]") {
    for (const xclient_verb verb : {xclient, xforward}) {
        for (const attr which : attributes_of(verb)) {
            for (const std::string_view bad :
                 {std::string_view("a\r\nRSET"), std::string_view("a\nb"),
                  std::string_view("a\0b", 3), std::string_view("\x1b[2J")}) {
                smtpp::xclient_request request(verb);
                request.set(which, xclient_value::of(bad));
                std::string wire = "untouched";
                std::size_t lines = 7;
                INFO(smtpp::to_string(verb) << " " << smtpp::to_string(which));
                CHECK(smtpp::write_xclient(wire, request, lines) == errc::control_in_attribute);
                CHECK(wire == "untouched");
                CHECK(lines == 0);
            }
        }
    }
}

// ---- the writer ----

TEST_CASE("the writer encodes values as xtext and writes specials as they are", "[xclient]") {
    smtpp::xclient_request request;
    request.set(attr::login, xclient_value::of("a+b=c d"))
        .set(attr::name, xclient_value::tempunavail())
        .set(attr::helo, xclient_value::unavailable());
    std::string wire;
    std::size_t lines = 0;
    REQUIRE(smtpp::write_xclient(wire, request, lines) == errc::ok);
    CHECK(wire == "XCLIENT NAME=[TEMPUNAVAIL] HELO=[UNAVAILABLE] LOGIN=a+2Bb+3Dc+20d\r\n");
    CHECK(round_trip(request) == 1);
}

TEST_CASE("the writer refuses what the parser would refuse, and writes nothing", "[xclient]") {
    struct refusal {
        xclient_verb verb;
        attr which;
        xclient_value value;
        errc expected;
    };
    const std::string long_helo(256, 'h');
    const std::string long_proto(65, 'P');
    const refusal cases[] = {
        {xforward, attr::login, xclient_value::of("x"), errc::unknown_attribute},
        {xclient, attr::ident, xclient_value::of("x"), errc::unknown_attribute},
        {xclient, attr::source, xclient_value::of("LOCAL"), errc::unknown_attribute},
        {xclient, attr::name, xclient_value::of(""), errc::bad_attribute},
        {xclient, attr::name, xclient_value::of("192.0.2.1"), errc::bad_attribute_value},
        {xclient, attr::addr, xclient_value::of("[192.0.2.1]"), errc::bad_attribute_value},
        {xclient, attr::port, xclient_value::of("65536"), errc::bad_attribute_value},
        {xclient, attr::proto, xclient_value::unavailable(), errc::bad_attribute_value},
        {xclient, attr::helo, xclient_value::tempunavail(), errc::bad_attribute_value},
        {xforward, attr::name, xclient_value::tempunavail(), errc::bad_attribute_value},
        // Text that spells a special would come back as the special: use the kind.
        {xclient, attr::helo, xclient_value::of("[UNAVAILABLE]"), errc::bad_attribute_value},
        {xclient, attr::login, xclient_value::of("[tempunavail]"), errc::bad_attribute_value},
        {xclient, attr::helo, xclient_value::of(long_helo), errc::attribute_too_long},
        {xforward, attr::proto, xclient_value::of(long_proto), errc::attribute_too_long},
    };
    for (const refusal& c : cases) {
        smtpp::xclient_request request(c.verb);
        request.set(attr::addr, xclient_value::of("192.0.2.1")); // a valid neighbour
        request.set(c.which, c.value);
        std::string wire;
        std::size_t lines = 9;
        INFO(smtpp::to_string(c.verb) << " " << smtpp::to_string(c.which));
        CHECK(smtpp::write_xclient(wire, request, lines) == c.expected);
        CHECK(wire.empty());
        CHECK(lines == 0);
        CHECK(smtpp::write_xclient_line(wire, request, 0) == c.expected);
        CHECK(wire.empty());
    }
}

TEST_CASE("the 255-octet bound is on the encoded value", "[xclient]") {
    // 85 spaces encode to 255 octets and are written; 86 encode to 258 and are not.
    smtpp::xclient_request request;
    const std::string spaces(85, ' ');
    request.set(attr::login, xclient_value::of(spaces));
    CHECK(round_trip(request) == 1);
    const std::string more(86, ' ');
    request.set(attr::login, xclient_value::of(more));
    std::size_t lines = 0;
    std::string wire;
    CHECK(smtpp::write_xclient(wire, request, lines) == errc::attribute_too_long);
}

TEST_CASE("writer round trips for every attribute and special", "[xclient]") {
    for (const xclient_verb verb : {xclient, xforward}) {
        smtpp::xclient_request all(verb);
        for (const attr which : attributes_of(verb)) {
            all.set(which, xclient_value::of(valid_text(verb, which)));
            smtpp::xclient_request one(verb);
            one.set(which, xclient_value::of(valid_text(verb, which)));
            CHECK(round_trip(one) == 1);
            if (!(verb == xclient && which == attr::proto)) {
                one.set(which, xclient_value::unavailable());
                CHECK(round_trip(one) == 1);
            }
        }
        CHECK(round_trip(all) == 1);
        CHECK(round_trip(smtpp::xclient_request(verb)) == 0); // nothing to send: no line
    }
    smtpp::xclient_request temp;
    temp.set(attr::name, xclient_value::tempunavail());
    CHECK(round_trip(temp) == 1);
}

TEST_CASE("S-XCLIENT-note1-c: a request too long for one line is split, NAME and ADDR last",
          "[xclient]") {
    const std::string name = hostname_of(255);
    const std::string helo(255, 'h');
    const std::string login(200, 'l');
    smtpp::xclient_request request;
    request.set(attr::name, xclient_value::of(name))
        .set(attr::helo, xclient_value::of(helo))
        .set(attr::login, xclient_value::of(login))
        .set(attr::addr, xclient_value::of("IPV6:2001:db8::1"))
        .set(attr::proto, xclient_value::of("ESMTP"))
        .set(attr::port, xclient_value::of("4711"))
        .set(attr::destaddr, xclient_value::of("192.0.2.25"))
        .set(attr::destport, xclient_value::of("25"));
    // NAME, ADDR, PROTO and LOGIN fill the last line; HELO no longer fits there.
    CHECK(round_trip(request) == 2);
    std::string wire;
    std::size_t lines = 0;
    REQUIRE(smtpp::write_xclient(wire, request, lines) == errc::ok);
    const std::vector<std::string> text = lines_of(wire);
    REQUIRE(text.size() == 2);
    const std::string& last = text.back();
    CHECK(last.find(" NAME=") != std::string::npos);
    CHECK(last.find(" ADDR=") != std::string::npos);
    CHECK(last.find(" PROTO=") != std::string::npos); // fits next to them: kept on the last line
    for (std::size_t i = 0; i + 1 < text.size(); ++i) {
        CHECK(text[i].find(" NAME=") == std::string::npos);
        CHECK(text[i].find(" ADDR=") == std::string::npos);
    }
    // One line at a time gives the same lines.
    std::string one_by_one;
    for (std::size_t i = 0; i < lines; ++i)
        REQUIRE(smtpp::write_xclient_line(one_by_one, request, i) == errc::ok);
    CHECK(one_by_one == wire);
    std::string past;
    CHECK(smtpp::write_xclient_line(past, request, lines) == errc::invalid_argument);
    CHECK(past.empty());
}

TEST_CASE("S-XFORWARD-note2-a: XFORWARD lines never exceed 512 octets", "[xclient]") {
    smtpp::xclient_request request(xforward);
    const std::string name = hostname_of(255);
    const std::string helo(255, 'h');
    const std::string ident(255, 'i');
    const std::string proto(64, 'P');
    request.set(attr::name, xclient_value::of(name))
        .set(attr::helo, xclient_value::of(helo))
        .set(attr::ident, xclient_value::of(ident))
        .set(attr::addr, xclient_value::of("192.0.2.1"))
        .set(attr::proto, xclient_value::of(proto))
        .set(attr::source, xclient_value::of("LOCAL"));
    // Three values of 255 octets: no two fit on one line.
    CHECK(round_trip(request) == 3);
}

TEST_CASE("S-XCLIENT-note1-b: the line limit holds for smaller limits, and bad limits are "
          "refused",
          "[xclient]") {
    smtpp::xclient_request request;
    request.set(attr::name, xclient_value::of("spike.porcupine.org"))
        .set(attr::addr, xclient_value::of("168.100.189.2"))
        .set(attr::helo, xclient_value::of("spike.porcupine.org"))
        .set(attr::proto, xclient_value::of("ESMTP"));
    // "XCLIENT NAME=spike.porcupine.org\r\n" is 34 octets, the longest single attribute.
    CHECK(round_trip(request, 34) == 4);
    CHECK(round_trip(request, 60) >= 2);
    std::string wire;
    std::size_t lines = 0;
    CHECK(smtpp::write_xclient(wire, request, lines, 33) == errc::invalid_argument);
    CHECK(smtpp::write_xclient(wire, request, lines, 0) == errc::invalid_argument);
    CHECK(smtpp::write_xclient(wire, request, lines, 513) == errc::invalid_argument);
    CHECK(wire.empty());
    // With a small limit NAME may move to an earlier line, but ADDR stays on the last one.
    REQUIRE(smtpp::write_xclient(wire, request, lines, 34) == errc::ok);
    CHECK(lines_of(wire).back().find(" ADDR=") != std::string::npos);
}

// ---- the EHLO keyword ----

TEST_CASE("S-XCLIENT-ehlo-a: the EHLO keyword's attributes; a client sends only those",
          "[xclient]") {
    // Postfix announces REVERSE_NAME too, which the README does not define: skipped.
    const smtpp::xclient_attribute_set offered = smtpp::parse_xclient_offer(
        xclient, "name ADDR  PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT IDENT");
    CHECK(offered == smtpp::xclient_attributes_of(xclient));
    CHECK(smtpp::parse_xclient_offer(xclient, "").empty());
    CHECK(smtpp::parse_xclient_offer(xclient, "SOURCE IDENT").empty());

    smtpp::xclient_request request;
    request.set(attr::name, xclient_value::of("a.example"))
        .set(attr::addr, xclient_value::of("192.0.2.1"))
        .set(attr::login, xclient_value::of("alice"));
    const smtpp::xclient_attribute_set example =
        smtpp::parse_xclient_offer(xclient, "NAME ADDR PROTO HELO");
    std::string wire;
    std::size_t lines = 0;
    REQUIRE(smtpp::write_xclient(wire, request.only(example), lines) == errc::ok);
    CHECK(wire == "XCLIENT NAME=a.example ADDR=192.0.2.1\r\n");
    CHECK(request.present().has(attr::login)); // only() returned a copy
}

TEST_CASE("S-XFORWARD-ehlo-a: XFORWARD's EHLO keyword, read and written", "[xclient]") {
    const smtpp::xclient_attribute_set offered =
        smtpp::parse_xclient_offer(xforward, "NAME ADDR PROTO HELO SOURCE PORT IDENT");
    CHECK(offered == smtpp::xclient_attributes_of(xforward));
    CHECK_FALSE(smtpp::parse_xclient_offer(xforward, "LOGIN DESTADDR").has(attr::login));

    std::string line;
    smtpp::write_xclient_offer(line, xforward, smtpp::xclient_attributes_of(xclient));
    CHECK(line == "XFORWARD NAME ADDR PORT PROTO HELO"); // LOGIN etc. are not XFORWARD's
    line.clear();
    smtpp::write_xclient_offer(line, xclient, smtpp::xclient_attributes_of(xclient));
    CHECK(line == "XCLIENT NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT");

    // The line is a valid extra EHLO line, and a client reads back what was announced.
    smtpp::ehlo_offer offer;
    offer.extra[0] = line;
    std::string wire;
    REQUIRE(smtpp::write_ehlo_reply(wire, "mx.example", "", offer) == errc::ok);
    smtpp::reply_reader reader{smtpp::limits{}};
    const smtpp::read_result read = reader.read(wire);
    REQUIRE(read.error == errc::ok);
    smtpp::capabilities caps;
    REQUIRE(smtpp::parse_ehlo_reply(read.reply, caps) == errc::ok);
    smtpp::xclient_attribute_set back;
    REQUIRE(smtpp::find_xclient_offer(caps, xclient, back));
    CHECK(back == smtpp::xclient_attributes_of(xclient));
}

// ---- replies ----

TEST_CASE("S-XCLIENT-replies-a: every refusal comes with a 501 5.5.4 reply", "[xclient]") {
    const std::pair<std::string_view, errc> cases[] = {
        {"", errc::missing_argument},          {"NAME", errc::bad_attribute},
        {"FOO=1", errc::unknown_attribute},    {"PORT=1 PORT=2", errc::duplicate_attribute},
        {"LOGIN=+4", errc::bad_xtext},         {"LOGIN=+0A", errc::control_in_attribute},
        {"PORT=x", errc::bad_attribute_value},
    };
    for (const xclient_verb verb : {xclient, xforward}) {
        for (const auto& [argument, expected] : cases) {
            smtpp::xclient_attributes a;
            const std::string fixed = verb == xforward && argument.substr(0, 5) == "LOGIN"
                                          ? "IDENT" + std::string(argument.substr(5))
                                          : std::string(argument);
            const smtpp::xclient_parse_result r = parse(verb, fixed, a);
            INFO(fixed);
            CHECK(r.error == expected);
            CHECK(r.reply.code == 501);
            CHECK(r.reply.status == smtpp::enhanced_status{5, 5, 4});
            CHECK_FALSE(r.reply.text.empty());
            CHECK(smtpp::detail::check_reply_text(r.reply.text, false) == errc::ok);
        }
    }
    smtpp::xclient_attributes a;
    CHECK(parse(xforward, "", a).reply.text == "Syntax: XFORWARD attribute=value ...");
    CHECK(parse(xclient, "HELO=" + repeat('h', 256), a).reply.text == "Attribute value too long");
}

// ---- the result object ----

TEST_CASE("a copy of the attributes owns its values", "[xclient]") {
    smtpp::xclient_attributes copy;
    {
        smtpp::xclient_attributes original;
        REQUIRE(parse(xclient, "NAME=a.example LOGIN=bob+40example.org", original).ok());
        copy = original;
        CHECK(copy == original);
        original.clear(xforward);
        CHECK(copy != original);
    }
    const std::string_view login = copy.get(attr::login).text;
    CHECK(login == "bob@example.org");
    const auto* begin = reinterpret_cast<const char*>(&copy);
    CHECK(login.data() >= begin);
    CHECK(login.data() + login.size() <= begin + sizeof copy);
    // A refused command leaves nothing behind, not even what came before the error.
    CHECK_FALSE(parse(xclient, "NAME=b.example PORT=x", copy).ok());
    CHECK(copy.present().empty());
    CHECK(copy.get(attr::name) == xclient_value{});
}

TEST_CASE("the attribute set", "[xclient]") {
    smtpp::xclient_attribute_set set;
    CHECK(set.empty());
    set.add(attr::name).add(attr::source).add(attr::name);
    CHECK(set.size() == 2);
    CHECK(set.has(attr::source));
    set.remove(attr::source);
    CHECK(set == smtpp::xclient_attribute_set{}.add(attr::name));
    CHECK((smtpp::xclient_attributes_of(xclient) & smtpp::xclient_attributes_of(xforward)).size() ==
          5);
    CHECK(smtpp::xclient_attributes_of(xclient).size() == 8);
    CHECK(smtpp::xclient_attributes_of(xforward).size() == 7);
    static_assert(smtpp::xclient_attributes_of(xclient).has(attr::destport),
                  "the set works at compile time");
}

// ---- memory ----

TEST_CASE("footprint: sizeof and no allocation", "[xclient][alloc]") {
    // 497 octets of decoded values (one 512-octet line can carry no more), 10 slots of 4
    // octets, the set, the fill mark and the verb: 544 with padding.
    static_assert(sizeof(smtpp::xclient_attributes) <= 544, "a session embeds this: keep it small");
    CHECK(sizeof(smtpp::xclient_attributes) == 544);
    CHECK(smtpp::xclient_attributes::capacity == 497);
    static_assert(sizeof(smtpp::xclient_request) <= 256, "views only");

    smtpp::xclient_attributes a;
    fixed_sink sink;
    const std::string argument = "NAME=" + hostname_of(255) + " ADDR=IPV6:2001:db8::1 PORT=25 " +
                                 "HELO=h LOGIN=j+20doe PROTO=ESMTP DESTADDR=[UNAVAILABLE]";
    int good = 0;
    const std::size_t allocations = smtpp_test::allocations_during([&] {
        for (int i = 0; i < 100; ++i) {
            good += parse(xclient, argument, a).ok() ? 1 : 0;
            std::size_t lines = 0;
            sink.size = 0;
            const errc written = smtpp::write_xclient(sink, smtpp::xclient_request::of(a), lines);
            good += written == errc::ok && lines == 1 ? 1 : 0;
            good += smtpp::parse_xclient_offer(xclient, "NAME ADDR PORT").size() == 3 ? 1 : 0;
            good += parse(xclient, "NAME=a NAME=b", a).error == errc::duplicate_attribute ? 1 : 0;
        }
    });
    CHECK(allocations == 0);
    CHECK(good == 400);
    CHECK_FALSE(sink.overflow);
    CHECK(sink.view().substr(0, 13) == "XCLIENT NAME=");
}

// ---- adversarial ----

TEST_CASE("adversarial: hostile arguments are refused without harm", "[xclient][adversarial]") {
    const std::string many_names = [] {
        std::string s = "NAME=a";
        for (int i = 0; i < 10000; ++i) s += " NAME=a";
        return s;
    }();
    const std::string every_octet = [] {
        std::string s = "LOGIN=";
        for (int c = 0; c < 256; ++c) s += static_cast<char>(c);
        return s;
    }();
    const std::pair<std::string, errc> cases[] = {
        {many_names, errc::line_too_long},
        {"NAME=a " + std::string(490, 'x'), errc::bad_attribute},
        {every_octet, errc::bad_xtext},
        {"LOGIN=" + std::string(100, '+'), errc::bad_xtext},
        {"LOGIN=+++", errc::bad_xtext},
        {"LOGIN=+2B+", errc::bad_xtext},
        {std::string("NAME\0=a", 7), errc::unknown_attribute},
        {"NAME=a.example\r\nXCLIENT ADDR=1.2.3.4", errc::bad_xtext},
        {"\r\n", errc::bad_attribute},
        {"=", errc::bad_attribute},
        {"==", errc::bad_attribute},
        {" ", errc::bad_attribute},
        {"NAME=a=", errc::bad_xtext},
        {"ADDR=1.2.3.4+00", errc::control_in_attribute},
        {"HELO=+5BUNAVAILABLE+5D+00", errc::control_in_attribute},
        {"PORT=+36+35+35+33+36", errc::bad_attribute_value}, // 65536 in disguise
    };
    for (const auto& [argument, expected] : cases) {
        INFO(argument.substr(0, 60));
        CHECK(parse_error(xclient, argument) == expected);
    }
}

TEST_CASE("adversarial: random arguments never give a value with a control, and round trip",
          "[xclient][adversarial]") {
    // Arguments assembled from plausible and hostile pieces; every accepted one must re-encode
    // to one line that parses to the same attributes.
    const std::string_view pieces[] = {"NAME=",
                                       "ADDR=",
                                       "PORT=",
                                       "PROTO=",
                                       "HELO=",
                                       "LOGIN=",
                                       "DESTADDR=",
                                       "DESTPORT=",
                                       "IDENT=",
                                       "SOURCE=",
                                       "name=",
                                       "a.example",
                                       "192.0.2.1",
                                       "IPV6:::1",
                                       "25",
                                       "65535",
                                       "ESMTP",
                                       "LOCAL",
                                       "[UNAVAILABLE]",
                                       "[TEMPUNAVAIL]",
                                       "+0D+0A",
                                       "+20",
                                       "+2B",
                                       "+2b",
                                       "+",
                                       "=",
                                       " ",
                                       "  ",
                                       "\r\n",
                                       std::string_view("\0", 1),
                                       "x",
                                       "-",
                                       ".",
                                       "_",
                                       "+C3+A9",
                                       "\xff"};
    std::mt19937 rng(20240514);
    std::size_t accepted = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string argument;
        const int n = static_cast<int>(rng() % 8) + 1;
        for (int i = 0; i < n; ++i) argument += pieces[rng() % (sizeof pieces / sizeof pieces[0])];
        const xclient_verb verb = (rng() & 1) ? xclient : xforward;
        smtpp::xclient_attributes a;
        const smtpp::xclient_parse_result r = parse(verb, argument, a, (rng() & 2) != 0);
        if (!r.ok()) {
            REQUIRE(a.present().empty());
            REQUIRE(r.reply.code >= 500);
            continue;
        }
        ++accepted;
        for (std::size_t i = 0; i < smtpp::xclient_attribute_count; ++i) {
            const xclient_value v = a.get(static_cast<attr>(i));
            for (const char c : v.text) REQUIRE(static_cast<unsigned char>(c) >= 0x20);
            REQUIRE(v.text.size() <= smtpp::xclient_value_limit);
        }
        std::string wire;
        std::size_t lines = 0;
        REQUIRE(smtpp::write_xclient(wire, smtpp::xclient_request::of(a), lines) == errc::ok);
        REQUIRE(lines == 1);
        const std::string prefix = std::string(smtpp::to_string(verb)) + " ";
        smtpp::xclient_attributes again;
        REQUIRE(parse(verb,
                      std::string_view(wire).substr(prefix.size(), wire.size() - prefix.size() - 2),
                      again)
                    .ok());
        REQUIRE(again == a);
    }
    CHECK(accepted > 100); // the generator reaches the accepting paths
}
