#include <smtpp/grammar.hpp>

#include "smtpp_catch.hpp"

#include <string>
#include <string_view>

using smtpp::errc;
using smtpp::host_kind;

namespace {

smtpp::address_options ascii() { return {}; }

smtpp::address_options utf8() {
    smtpp::address_options o;
    o.allow_utf8 = true;
    return o;
}

errc forward(std::string_view text, smtpp::address_options o = ascii()) {
    smtpp::path p;
    return smtpp::parse_forward_path(text, p, o);
}

errc reverse(std::string_view text, smtpp::address_options o = ascii()) {
    smtpp::path p;
    return smtpp::parse_reverse_path(text, p, o);
}

errc literal(std::string_view text) {
    host_kind kind = host_kind::domain;
    return smtpp::parse_address_literal(text, kind);
}

host_kind literal_kind(std::string_view text) {
    host_kind kind = host_kind::domain;
    REQUIRE(smtpp::parse_address_literal(text, kind) == errc::ok);
    return kind;
}

std::string quoted(std::string_view raw, bool allow_utf8 = false) {
    std::string out;
    REQUIRE(smtpp::quote_local_part(out, raw, allow_utf8) == errc::ok);
    return out;
}

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

// A valid domain of exactly n octets (labels of at most 63 octets).
std::string domain_of_length(std::size_t n) {
    std::string d;
    while (n - d.size() > 63) d += repeat('d', 62) + ".";
    d += repeat('d', n - d.size());
    return d;
}

} // namespace

TEST_CASE("S-5321-4.1.2-c: dot-string local part rejects empty atoms", "[grammar]") {
    CHECK(forward("<a.b@x.example>") == errc::ok);
    CHECK(forward("<a..b@x.example>") == errc::bad_local_part);
    CHECK(forward("<.a@x.example>") == errc::bad_local_part);
    CHECK(forward("<a.@x.example>") == errc::bad_local_part);
    CHECK(forward("<!#$%&'*+-/=?^_`{|}~@x.example>") == errc::ok);
    CHECK(forward("<a(b)@x.example>") == errc::bad_local_part);
    CHECK(forward("<a b@x.example>") == errc::bad_local_part);
    CHECK(forward("<@x.example>") == errc::bad_path); // read as a source route without ":"
}

TEST_CASE("S-5321-4.1.2-d: quoted-string local part uses qtextSMTP and quoted-pairSMTP",
          "[grammar]") {
    CHECK(forward("<\"john doe\"@x.example>") == errc::ok);
    CHECK(forward("<\"a\\\"b\"@x.example>") == errc::ok);
    CHECK(forward("<\"a\"b\"@x.example>") == errc::bad_local_part);
    CHECK(forward("<\"\"@x.example>") == errc::ok);
    CHECK(forward("<\"a\\\\b\"@x.example>") == errc::ok);
    CHECK(forward("<\"a\tb\"@x.example>") == errc::bad_local_part);   // HTAB is not qtextSMTP
    CHECK(forward("<\"a\\\tb\"@x.example>") == errc::bad_local_part); // nor quotable
    CHECK(forward("<\"unterminated@x.example>") == errc::bad_local_part);
    CHECK(forward("<\"a\"\"b\"@x.example>") == errc::bad_local_part);
    smtpp::mailbox box;
    REQUIRE(smtpp::parse_mailbox("\"Joe\\,Smith\"@x.example", box, ascii()) == errc::ok);
    CHECK(box.quoted);
    CHECK(box.local_part == "\"Joe\\,Smith\"");
}

TEST_CASE("S-5321-4.1.2-e: all quoted forms of a local part compare equal", "[grammar]") {
    CHECK(smtpp::local_part_equal("\"abc\"", "abc"));
    CHECK(smtpp::local_part_equal("\"a\\bc\"", "abc"));
    CHECK(smtpp::local_part_equal("\"a\\\"b\"", "\"a\\\"b\""));
    CHECK_FALSE(smtpp::local_part_equal("\"abc\"", "abcd"));
    CHECK_FALSE(smtpp::local_part_equal("Abc", "abc")); // local parts may be case-sensitive
    CHECK(smtpp::domain_equal("X.Example", "x.example"));
    std::string out;
    smtpp::unquote_local_part(out, "\"a\\\"b c\"");
    CHECK(out == "a\"b c");
}

TEST_CASE("S-5321-4.1.2-e: the generator uses minimal quoting", "[grammar]") {
    CHECK(quoted("abc") == "abc");
    CHECK(quoted("a.b") == "a.b");
    CHECK(quoted("a b") == "\"a b\"");
    CHECK(quoted("a\"b") == "\"a\\\"b\"");
    CHECK(quoted("a\\b") == "\"a\\\\b\"");
    CHECK(quoted("a..b") == "\"a..b\"");
    CHECK(quoted(".a") == "\".a\"");
    CHECK(quoted("a.") == "\"a.\"");
    CHECK(quoted("") == "\"\"");
    CHECK(quoted("j\xC3\xB6", true) == "j\xC3\xB6");
    std::string out;
    CHECK(smtpp::quote_local_part(out, "a\x01") == errc::bad_local_part);
    CHECK(smtpp::quote_local_part(out, "j\xC3\xB6") == errc::non_ascii);
    CHECK(smtpp::quote_local_part(out, "j\xC3", true) == errc::invalid_utf8);
    CHECK(out.empty());
    // Every generated form parses back to a local part naming the same string.
    for (std::string_view raw : {"abc", "a b", "a\"b", "a\\b", "a..b", "", "x@y"}) {
        const std::string wire = quoted(raw);
        CHECK(smtpp::parse_local_part(wire, ascii()) == errc::ok);
        std::string back;
        smtpp::unquote_local_part(back, wire);
        CHECK(back == raw);
    }
}

TEST_CASE("S-5321-4.1.2-e: minimal quoting into a caller buffer", "[grammar]") {
    char buffer[8];
    std::size_t written = 99;
    CHECK(smtpp::quote_local_part("a b", buffer, sizeof buffer, written) == errc::ok);
    CHECK(std::string_view(buffer, written) == "\"a b\"");
    CHECK(smtpp::quote_local_part("a b c d e", buffer, sizeof buffer, written) ==
          errc::invalid_argument);
    CHECK(written == 0);
}

TEST_CASE("S-5321-2.4-b: the local part keeps its case", "[grammar]") {
    smtpp::path p;
    REQUIRE(smtpp::parse_forward_path("<Smith@D.Example>", p, ascii()) == errc::ok);
    CHECK(p.box.local_part == "Smith");
    CHECK(p.box.domain == "D.Example");
    CHECK(p.text == "<Smith@D.Example>");
}

TEST_CASE("S-5321-4.1.2-f: no 8-bit octets or controls in mailboxes without SMTPUTF8",
          "[grammar]") {
    CHECK(forward("<j\xC3\xB6@x.example>") == errc::non_ascii);
    CHECK(forward("<jo@x\xC3\xB6.example>") == errc::non_ascii);
    CHECK(forward("<\"j\xC3\xB6\"@x.example>") == errc::non_ascii);
    CHECK(forward(std::string_view("<a\0b@x.example>", 15)) == errc::bad_local_part);
    CHECK(forward("<a\x7F@x.example>") == errc::bad_local_part);
    CHECK(forward("<\"a\x1F\"@x.example>") == errc::bad_local_part);
}

TEST_CASE("S-5321-4.1.2-g: domain labels are letters, digits and hyphens only", "[grammar]") {
    CHECK(smtpp::parse_domain("ex_ample.com", ascii()) == errc::bad_domain);
    CHECK(forward("<a@ex_ample.com>") == errc::bad_domain);
    CHECK(smtpp::parse_domain("ex ample.com", ascii()) == errc::bad_domain);
    CHECK(smtpp::parse_domain("EXAMPLE.com", ascii()) == errc::ok);
    CHECK(smtpp::parse_domain("1.2.3.4", ascii()) == errc::ok);
    CHECK(smtpp::parse_domain("localhost", ascii()) == errc::ok);
    CHECK(smtpp::parse_domain("a-b--c.example", ascii()) == errc::ok);
}

TEST_CASE("S-5321-4.1.2-h: no leading or trailing hyphen, no empty label, no trailing dot",
          "[grammar]") {
    CHECK(forward("<a@-x.example>") == errc::bad_domain);
    CHECK(forward("<a@x-.example>") == errc::bad_domain);
    CHECK(forward("<a@x..example>") == errc::bad_domain);
    CHECK(forward("<a@x.example.>") == errc::bad_domain);
    CHECK(forward("<a@.x.example>") == errc::bad_domain);
    CHECK(forward("<a@x.example->") == errc::bad_domain);
    CHECK(forward("<a@>") == errc::bad_domain);
    CHECK(forward("<a>") == errc::bad_domain);
    CHECK(smtpp::parse_domain("", ascii()) == errc::bad_domain);
    CHECK(smtpp::parse_domain(".", ascii()) == errc::bad_domain);
    CHECK(smtpp::parse_domain("-", ascii()) == errc::bad_domain);
}

TEST_CASE("RFC 1035 2.3.4: labels of 63 octets pass, 64 fail", "[grammar]") {
    CHECK(smtpp::parse_domain(repeat('a', 63) + ".example", ascii()) == errc::ok);
    CHECK(smtpp::parse_domain(repeat('a', 64) + ".example", ascii()) == errc::bad_domain);
    CHECK(smtpp::parse_domain("x." + repeat('a', 63), ascii()) == errc::ok);
    CHECK(smtpp::parse_domain("x." + repeat('a', 64), ascii()) == errc::bad_domain);
}

TEST_CASE("S-5321-4.1.3-a: IPv4 literal is four Snum of 0-255", "[grammar]") {
    CHECK(forward("<postmaster@[192.0.2.1]>") == errc::ok);
    CHECK(literal_kind("[192.0.2.1]") == host_kind::ipv4);
    CHECK(literal("[0.0.0.0]") == errc::ok);
    CHECK(literal("[255.255.255.255]") == errc::ok);
    CHECK(literal("[010.1.1.1]") == errc::ok); // Snum = 1*3DIGIT
    CHECK(literal("[256.0.0.1]") == errc::bad_address_literal);
    CHECK(literal("[1.2.3]") == errc::bad_address_literal);
    CHECK(literal("[1.2.3.4.5]") == errc::bad_address_literal);
    CHECK(literal("[0001.2.3.4]") == errc::bad_address_literal);
    CHECK(literal("[1..2.3]") == errc::bad_address_literal);
    CHECK(literal("[1.2.3.4.]") == errc::bad_address_literal);
    CHECK(literal("[1.2.3.-4]") == errc::bad_address_literal);
    CHECK(literal("[ 1.2.3.4]") == errc::bad_address_literal);
    CHECK(literal("[]") == errc::bad_address_literal);
    CHECK(literal("1.2.3.4") == errc::bad_address_literal);
    CHECK(literal("[1.2.3.4") == errc::bad_address_literal);
    CHECK(forward("<a@[256.0.0.1]>") == errc::bad_address_literal);
}

TEST_CASE("S-5321-4.1.3-b: IPv6 literal forms", "[grammar]") {
    struct row {
        const char* text;
        bool valid;
    };
    const row rows[] = {
        {"[IPv6:2001:db8::1]", true},
        {"[IPv6:::ffff:192.0.2.1]", true},
        {"[ipv6:2001:DB8::1]", true}, // tag and hex digits in any case
        {"[IPV6:1:2:3:4:5:6:7:8]", true},
        {"[IPv6:0:0:0:0:0:0:0:0]", true},
        {"[IPv6:ffff:FFFF:abcd:0:1:22:333:4444]", true},
        {"[IPv6:::]", true},
        {"[IPv6:::1]", true},
        {"[IPv6:1::]", true},
        {"[IPv6:1:2:3:4:5:6::]", true},
        {"[IPv6:1:2:3::4:5:6]", true},
        {"[IPv6:::1:2:3:4:5:6]", true},
        {"[IPv6:1:2:3:4:5:6:1.2.3.4]", true}, // IPv6v4-full
        {"[IPv6:::1.2.3.4]", true},           // IPv6v4-comp
        {"[IPv6:1:2:3:4::1.2.3.4]", true},
        {"[IPv6:1:2::3:4:1.2.3.4]", true},
        {"[IPv6:::1:2:3:4:1.2.3.4]", true},
        {"[IPv6:1::2::3]", false},           // two "::"
        {"[IPv6:1:2:3:4:5:6:7:8:9]", false}, // nine groups
        {"[IPv6:1:2:3:4:5:6:7]", false},     // seven groups, no "::"
        {"[IPv6:1:2:3:4:5:6:7::]", false},   // "::" must stand for two groups at least
        {"[IPv6:1:2:3:4::5:6:7]", false},
        {"[IPv6:::1:2:3:4:5:6:7]", false},
        {"[IPv6:1:2:3:4:5::1.2.3.4]", false}, // five groups besides v4 and "::"
        {"[IPv6:1:2:3:4:5:1.2.3.4]", false},  // v4-full needs six groups
        {"[IPv6:1:2:3:4:5:6:7:1.2.3.4]", false},
        {"[IPv6:1.2.3.4::]", false}, // IPv4 part only at the end
        {"[IPv6:::256.1.1.1]", false},
        {"[IPv6:::1.2.3]", false},
        {"[IPv6:12345::1]", false}, // five hex digits
        {"[IPv6::1]", false},
        {"[IPv6:1:]", false},
        {"[IPv6:1::2:]", false},
        {"[IPv6::::]", false},
        {"[IPv6:1:::2]", false},
        {"[IPv6:g::1]", false},
        {"[IPv6:]", false},
        {"[IPv6: ::1]", false},
        {"[2001:db8::1]", false}, // no tag
        {"[::1]", false},
        {"[abcd:ef::1]", false},
        {"[fe80:1]", false},
    };
    for (const row& r : rows) {
        INFO(r.text);
        CHECK((literal(r.text) == errc::ok) == r.valid);
        if (r.valid) CHECK(literal_kind(r.text) == host_kind::ipv6);
    }
    CHECK(forward("<a@[IPv6:2001:db8::1]>") == errc::ok);
    CHECK(forward("<a@[2001:db8::1]>") == errc::bad_address_literal);
}

TEST_CASE("S-5321-4.1.3-b: General-address-literal is Standardized-tag \":\" 1*dcontent",
          "[grammar]") {
    CHECK(literal_kind("[X-Foo:bar]") == host_kind::general);
    CHECK(literal("[x400:c=us;a=b]") == errc::ok);
    CHECK(literal("[Tag:!~Z^]") == errc::ok);
    CHECK(literal("[Tag:]") == errc::bad_address_literal);
    CHECK(literal("[:abc]") == errc::bad_address_literal);
    CHECK(literal("[Tag-:abc]") == errc::bad_address_literal);
    CHECK(literal("[Ta_g:abc]") == errc::bad_address_literal);
    CHECK(literal("[Tag:a b]") == errc::bad_address_literal);
    CHECK(literal("[Tag:a[b]") == errc::bad_address_literal);
    CHECK(literal("[Tag:a\\b]") == errc::bad_address_literal);
    CHECK(literal("[Tag:a]b]") == errc::bad_address_literal);
    CHECK(literal("[Tag:\xC3\xB6]") == errc::bad_address_literal);
    CHECK(literal("[1234:abc]") ==
          errc::bad_address_literal); // all-hex tag: an untagged IPv6 address
    CHECK(literal("[noco]") == errc::bad_address_literal);
}

TEST_CASE("S-5321-4.1.2-a: the null reverse-path is for MAIL only", "[grammar]") {
    smtpp::path p;
    REQUIRE(smtpp::parse_reverse_path("<>", p, ascii()) == errc::ok);
    CHECK(p.is_null);
    CHECK(forward("<>") == errc::null_path_not_allowed);
    CHECK(reverse("") == errc::bad_path);
    CHECK(reverse("<") == errc::bad_path);
    CHECK(reverse("a@b.example") == errc::bad_path);
    CHECK(reverse("<a@b.example") == errc::bad_path);
    CHECK(reverse("<<a@b.example>>") == errc::bad_local_part);
}

TEST_CASE("S-5321-4.1.2-b: a source route is accepted, reported and not part of the mailbox",
          "[grammar]") {
    smtpp::path p;
    REQUIRE(smtpp::parse_forward_path("<@h1.example,@h2.example:u@d.example>", p, ascii()) ==
            errc::ok);
    CHECK(p.source_route == "@h1.example,@h2.example");
    CHECK(p.box.local_part == "u");
    CHECK(p.box.domain == "d.example");
    CHECK(reverse("<@h1.example:u@d.example>") == errc::ok);
    CHECK(forward("<@h1.example,h2.example:u@d.example>") == errc::bad_path);
    CHECK(forward("<@h1.example,@:u@d.example>") == errc::bad_path);
    CHECK(forward("<@h1.example u@d.example>") == errc::bad_path);
    CHECK(forward("<@h1.example:>") == errc::bad_local_part);
    CHECK(forward("<@h_1.example:u@d.example>") == errc::bad_domain);
    CHECK(forward("<@h1.example,:u@d.example>") == errc::bad_path);
}

TEST_CASE("S-5321-4.5.1-a: <Postmaster> without a domain, any case, forward paths only",
          "[grammar]") {
    smtpp::path p;
    REQUIRE(smtpp::parse_forward_path("<POSTMASTER>", p, ascii()) == errc::ok);
    CHECK(p.is_postmaster);
    CHECK(p.box.local_part == "POSTMASTER");
    CHECK(forward("<Postmaster>") == errc::ok);
    CHECK(forward("<postmaster>") == errc::ok);
    CHECK(reverse("<Postmaster>") == errc::bad_domain);
    CHECK(forward("<postmasters>") == errc::bad_domain);
    REQUIRE(smtpp::parse_forward_path("<postmaster@x.example>", p, ascii()) == errc::ok);
    CHECK_FALSE(p.is_postmaster);
}

TEST_CASE("S-5321-4.5.3.1-a: local part 64, domain 255 and path 256 octets are accepted",
          "[grammar]") {
    const std::string local64 = repeat('a', 64);
    const std::string domain255 = domain_of_length(255);
    CHECK(smtpp::parse_local_part(local64, ascii()) == errc::ok);
    CHECK(smtpp::parse_local_part(local64 + "a", ascii()) == errc::local_part_too_long);
    CHECK(smtpp::parse_domain(domain255, ascii()) == errc::ok);
    CHECK(smtpp::parse_domain(domain_of_length(256), ascii()) == errc::domain_too_long);
    // Path of exactly 256 octets, brackets included: 64 + 1 + 189 + 2.
    const std::string path256 = "<" + local64 + "@" + domain_of_length(189) + ">";
    REQUIRE(path256.size() == 256);
    CHECK(forward(path256) == errc::ok);
    CHECK(forward("<" + local64 + "@" + domain_of_length(190) + ">") == errc::path_too_long);
    CHECK(forward("<" + local64 + "a@x.example>") == errc::local_part_too_long);
    CHECK(forward("<a@" + domain_of_length(256) + ">") == errc::domain_too_long);
    // The quoted form counts as written.
    CHECK(smtpp::parse_local_part("\"" + repeat('a', 62) + "\"", ascii()) == errc::ok);
    CHECK(smtpp::parse_local_part("\"" + repeat('a', 63) + "\"", ascii()) ==
          errc::local_part_too_long);
}

TEST_CASE("S-5321-4.5.3.1-a: limits come from address_options", "[grammar]") {
    smtpp::limits l;
    l.local_part = 4;
    l.domain = 10;
    l.path = 16;
    const smtpp::address_options o = smtpp::make_address_options(l, true);
    CHECK(o.allow_utf8);
    CHECK(forward("<abcd@x.example>", o) == errc::ok);
    CHECK(forward("<abcde@x.example>", o) == errc::local_part_too_long);
    CHECK(forward("<abc@xy.example>", o) == errc::ok);
    CHECK(forward("<abcd@xy.example>", o) == errc::path_too_long);
    CHECK(forward("<a@xyz.example>", o) == errc::domain_too_long);
    CHECK(forward("<a@[1.2.3.4]>", o) == errc::ok);
    CHECK(forward("<a@[10.20.30.40]>", o) == errc::domain_too_long);
}

TEST_CASE("S-6531-3.2-a: with SMTPUTF8, UTF-8 in atext, qtext and U-labels", "[grammar]") {
    smtpp::path p;
    REQUIRE(smtpp::parse_reverse_path("<j\xC3\xB8ran@b\xC3\xB8.example>", p, utf8()) == errc::ok);
    CHECK(p.box.utf8);
    CHECK(p.box.local_part == "j\xC3\xB8ran");
    // <yonghu@lizi.guanggao> in Chinese characters
    CHECK(forward("<\xE7\x94\xA8\xE6\x88\xB7@\xE4\xBE\x8B\xE5\xAD\x90.\xE5\xB9\xBF\xE5\x91\x8A>",
                  utf8()) == errc::ok);
    CHECK(forward("<\"\xF0\x9F\x98\x80 x\"@x.example>", utf8()) == errc::ok);
    CHECK(forward("<a@x.example>", utf8()) == errc::ok);
    REQUIRE(smtpp::parse_forward_path("<a@x.example>", p, utf8()) == errc::ok);
    CHECK_FALSE(p.box.utf8);
    // UTF-8 does not relax the ASCII rules.
    CHECK(forward("<a@\xC3\xB8-.example>", utf8()) == errc::bad_domain);
    CHECK(forward("<a@\xC3\xB8_.example>", utf8()) == errc::bad_domain);
    CHECK(forward("<\xC3\xB8..a@x.example>", utf8()) == errc::bad_local_part);
    // A U-label is not held to 63 octets (that limit binds its A-label).
    std::string long_label;
    for (int i = 0; i < 40; ++i) long_label += "\xC3\xB8";
    CHECK(smtpp::parse_domain(long_label + ".example", utf8()) == errc::ok);
}

TEST_CASE("S-6531-3.3-a: only well-formed UTF-8 is accepted in addresses", "[grammar]") {
    CHECK(forward("<\xC0\x80@x.example>", utf8()) == errc::invalid_utf8);
    CHECK(forward("<a@x\xED\xA0\x80.example>", utf8()) == errc::invalid_utf8);
    CHECK(forward("<\"\x80\"@x.example>", utf8()) == errc::invalid_utf8);
    CHECK(forward("<a\xC3@x.example>", utf8()) == errc::invalid_utf8);
}

TEST_CASE("RFC 3629: UTF-8 well-formedness table", "[grammar]") {
    struct row {
        std::string_view bytes;
        bool valid;
    };
    const row rows[] = {
        {"", true},
        {"plain ASCII text that is longer than eight octets", true},
        {"\xC2\x80", true},                 // U+0080
        {"\xDF\xBF", true},                 // U+07FF
        {"\xE0\xA0\x80", true},             // U+0800
        {"\xED\x9F\xBF", true},             // U+D7FF
        {"\xEE\x80\x80", true},             // U+E000
        {"\xEF\xBF\xBF", true},             // U+FFFF
        {"\xF0\x90\x80\x80", true},         // U+10000
        {"\xF4\x8F\xBF\xBF", true},         // U+10FFFF
        {"abcdefg\xC3\xB8hijklmnop", true}, // non-ASCII straddling the 8-octet step
        {"\xC0\x80", false},                // overlong NUL
        {"\xC1\xBF", false},                // overlong
        {"\xE0\x80\x80", false},            // overlong
        {"\xE0\x9F\xBF", false},            // overlong
        {"\xF0\x80\x80\x80", false},        // overlong
        {"\xF0\x8F\xBF\xBF", false},        // overlong
        {"\xED\xA0\x80", false},            // surrogate U+D800
        {"\xED\xBF\xBF", false},            // surrogate U+DFFF
        {"\xF4\x90\x80\x80", false},        // U+110000
        {"\xF5\x80\x80\x80", false},
        {"\xFF", false},
        {"\xFE", false},
        {"\x80", false}, // stray continuation
        {"a\xBF", false},
        {"\xC3", false}, // truncated
        {"\xE2\x82", false},
        {"\xF0\x9F\x98", false},
        {"\xC3\x28", false}, // bad continuation
        {"\xE2\x28\xA1", false},
        {"abcdefgh\x80", false},
        {std::string_view("a\0b", 3), true}, // NUL is well-formed UTF-8
    };
    for (const row& r : rows) {
        INFO(std::string(r.bytes));
        CHECK(smtpp::is_valid_utf8(r.bytes) == r.valid);
    }
}

TEST_CASE("S-5321-4.1.2-i: esmtp-keyword and esmtp-value syntax", "[grammar]") {
    CHECK(smtpp::is_esmtp_keyword("X-A"));
    CHECK(smtpp::is_esmtp_keyword("8BITMIME"));
    CHECK(smtpp::is_esmtp_keyword("Y"));
    CHECK_FALSE(smtpp::is_esmtp_keyword("-X"));
    CHECK_FALSE(smtpp::is_esmtp_keyword(""));
    CHECK_FALSE(smtpp::is_esmtp_keyword("X_A"));
    CHECK(smtpp::is_esmtp_value("1", false));
    CHECK(smtpp::is_esmtp_value("!<>~", false));
    CHECK_FALSE(smtpp::is_esmtp_value("", false));
    CHECK_FALSE(smtpp::is_esmtp_value("a=b", false));
    CHECK_FALSE(smtpp::is_esmtp_value("a b", false));
    CHECK_FALSE(smtpp::is_esmtp_value("a\x7F", false));
    CHECK_FALSE(smtpp::is_esmtp_value("\xC3\xB8", false));
    CHECK(smtpp::is_esmtp_value("\xC3\xB8", true));
    CHECK_FALSE(smtpp::is_esmtp_value("\xC0\x80", true));
}

TEST_CASE("S-3461-4-a: xtext is xchar or '+' and two upper-case hex digits", "[grammar]") {
    char out[32];
    std::size_t size = 0;
    REQUIRE(smtpp::xtext_decode("e+3Dmc2", out, sizeof out, size) == errc::ok);
    CHECK(std::string_view(out, size) == "e=mc2");
    CHECK(smtpp::xtext_validate("e+3Dmc2") == errc::ok);
    CHECK(smtpp::xtext_validate("") == errc::ok);
    CHECK(smtpp::xtext_validate("a+2") == errc::bad_xtext);
    CHECK(smtpp::xtext_validate("a+ZZ") == errc::bad_xtext);
    CHECK(smtpp::xtext_validate("a+") == errc::bad_xtext);
    CHECK(smtpp::xtext_validate("a=b") == errc::bad_xtext);
    CHECK(smtpp::xtext_validate("a b") == errc::bad_xtext);
    CHECK(smtpp::xtext_validate("a\xC3\xB8") == errc::bad_xtext);
    CHECK(smtpp::xtext_decode("a+ZZ", out, sizeof out, size) == errc::bad_xtext);
    CHECK(smtpp::xtext_decode("abc", out, 2, size) == errc::invalid_argument);
}

TEST_CASE("S-3461-4-a: lower-case hex in xtext only where RFC 4954 8 allows it", "[grammar]") {
    // conformance.md decision 2: RFC 3461 says upper case; RFC 4954's HEXDIG is case-insensitive.
    CHECK(smtpp::xtext_validate("e+3dmc2") == errc::bad_xtext);
    CHECK(smtpp::xtext_validate("e+3dmc2", true) == errc::ok);
    char out[16];
    std::size_t size = 0;
    REQUIRE(smtpp::xtext_decode("e+3dmc2", out, sizeof out, size, true) == errc::ok);
    CHECK(std::string_view(out, size) == "e=mc2");
}

TEST_CASE("S-3461-4.4-a: decoded ENVID/ORCPT xtext must be printable US-ASCII", "[grammar]") {
    CHECK(smtpp::xtext_validate_printable("QQ314159") == errc::ok);
    CHECK(smtpp::xtext_validate_printable("a+20b") == errc::ok);
    CHECK(smtpp::xtext_validate_printable("a+00b") == errc::bad_parameter_value);
    CHECK(smtpp::xtext_validate_printable("a+C3+B8") == errc::bad_parameter_value);
    CHECK(smtpp::xtext_validate_printable("a+7F") == errc::bad_parameter_value);
    CHECK(smtpp::xtext_validate_printable("a+ZZ") == errc::bad_xtext);
}

TEST_CASE("S-3461-4-b: xtext encoding writes '+XX' in upper case", "[grammar]") {
    std::string out;
    smtpp::xtext_encode(out, "a+b=c d");
    CHECK(out == "a+2Bb+3Dc+20d");
    CHECK(smtpp::xtext_encoded_size("a+b=c d") == out.size());
    out.clear();
    smtpp::xtext_encode(out, std::string_view("\x00\xFF~!", 4));
    CHECK(out == "+00+FF~!");
    // Round trip over every octet.
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    out.clear();
    smtpp::xtext_encode(out, all);
    CHECK(smtpp::xtext_validate(out) == errc::ok);
    std::string back(all.size(), '\0');
    std::size_t size = 0;
    REQUIRE(smtpp::xtext_decode(out, &back[0], back.size(), size) == errc::ok);
    CHECK(back.substr(0, size) == all);
}

// The constexpr parts of the grammar work at compile time.
static_assert(smtpp::is_esmtp_keyword("SIZE"), "");
static_assert(!smtpp::is_esmtp_keyword("-SIZE"), "");
static_assert(smtpp::xtext_validate("a+2B") == errc::ok, "");
static_assert(smtpp::local_part_equal("\"ab\"", "ab"), "");

TEST_CASE("RFC 3461 4: the eight-octet xtext/esmtp-value scan stops at the first bad octet",
          "[grammar]") {
    // Every octet value at every position of a word, against a one-octet-at-a-time reference.
    for (int octet = 0; octet < 256; ++octet) {
        for (std::size_t at = 0; at < 20; ++at) {
            std::string s(24, 'a');
            s[at] = static_cast<char>(octet);
            const bool xchar = octet >= 33 && octet <= 126 && octet != '+' && octet != '=';
            const bool value = octet >= 33 && octet <= 126 && octet != '=';
            using smtpp::detail::cc_esmtp_value;
            using smtpp::detail::cc_xchar;
            CHECK(smtpp::detail::skip_graphic<cc_xchar, '+', '='>(s, 0) == (xchar ? s.size() : at));
            CHECK(smtpp::detail::skip_graphic<cc_esmtp_value, '=', '='>(s, 0) ==
                  (value ? s.size() : at));
        }
    }
}
