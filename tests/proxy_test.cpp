#include <smtpp/proxy.hpp>

#include "allocation_counter.hpp"
#include "smtpp_catch.hpp"
#include "split_grind.hpp"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Sources: HAProxy's proxy-protocol.txt (versions 1 and 2), cited as "proxy-protocol <section>",
// and the rows S-PROXY-* of conformance.md.

using namespace std::string_literals;
using namespace std::string_view_literals;
using smtpp::errc;
using smtpp::proxy_family;
using smtpp::proxy_tlv_type;
using smtpp::proxy_transport;

namespace {

std::string from_hex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        const auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
        out += static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1]));
    }
    return out;
}

std::string to_hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (const char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        out += digits[u >> 4];
        out += digits[u & 15u];
    }
    return out;
}

// Headers written by HAProxy 2.6.12 (send-proxy, send-proxy-v2 with proxy-v2-options) to a
// server on 127.0.0.1, each followed by the client's first SMTP line, "EHLO x\r\n".
const std::string haproxy_v1 = from_hex(
    "50524f58592054435034203132372e302e302e31203132372e302e302e312034323536382034373130310d0a"
    "45484c4f20780d0a");
// TCP over IPv4 with crc32c and unique-id (unique-id-format abc123).
const std::string haproxy_v2_crc = from_hex(
    "0d0a0d0a000d0a515549540a2111001c7f0000017f0000018e62b7fe030004897adb1705000661626331323345"
    "484c4f20780d0a");
// TCP over IPv6, no TLV.
const std::string haproxy_v2_ipv6 = from_hex(
    "0d0a0d0a000d0a515549540a2121002400000000000000000000000000000001000000000000000000000000000"
    "000019ec4b7ff45484c4f20780d0a");
// A TLS client: crc32c, ALPN "smtp", authority (SNI), SSL with version, key and signature
// algorithms and cipher.
const std::string haproxy_v2_ssl = from_hex(
    "0d0a0d0a000d0a515549540a211100697f0000017f000001d0fcb80003000442d37420010004736d747002000a"
    "6d782e6578616d706c6520003f0100000000210007544c5376312e332500075253413230343824000a5253412d"
    "534841323536230016544c535f4145535f3235365f47434d5f53484133383445484c4f20780d0a");
// A health check: LOCAL, UNSPEC, and a CRC32C TLV right after the fixed part.
const std::string haproxy_v2_local = from_hex("0d0a0d0a000d0a515549540a20000007030004a9b87e8f");

const std::string signature = from_hex("0d0a0d0a000d0a515549540a");

// A v2 header from its 13th octet on: version/command, family, then the block (the length
// field is computed).
std::string v2(std::uint8_t ver_cmd, std::uint8_t fam, std::string_view block) {
    std::string out = signature;
    out += static_cast<char>(ver_cmd);
    out += static_cast<char>(fam);
    out += static_cast<char>(block.size() >> 8);
    out += static_cast<char>(block.size() & 0xFFu);
    out += block;
    return out;
}

std::string tlv(std::uint8_t type, std::string_view value) {
    std::string out;
    out += static_cast<char>(type);
    out += static_cast<char>(value.size() >> 8);
    out += static_cast<char>(value.size() & 0xFFu);
    return out + std::string(value);
}

// 192.0.2.1:56324 -> 198.51.100.7:25
const std::string ipv4_block = from_hex("c0000201c6336407dc040019");
// 2001:db8::1:56324 -> 2001:db8::2:25
const std::string ipv6_block = from_hex("20010db800000000000000000000000120010db8000000000000000000"
                                        "000002dc040019");

std::string unix_block(std::string_view from, std::string_view to) {
    std::string out(from);
    out.resize(108, '\0');
    out += to;
    out.resize(216, '\0');
    return out;
}

std::string ip_text(const smtpp::proxy_header& h, const smtpp::proxy_address& a) {
    return std::string(smtpp::format_proxy_ip(h.family, a).view());
}

// Everything a header says, as one comparable line.
std::string describe(const smtpp::proxy_header& h) {
    std::string out = "v" + std::to_string(static_cast<int>(h.version));
    out += h.command == smtpp::proxy_command::local ? " local" : " proxy";
    out += " f" + std::to_string(static_cast<int>(h.family));
    out += " t" + std::to_string(static_cast<int>(h.transport));
    for (const smtpp::proxy_address* a : {&h.source, &h.destination}) {
        out += " [" + to_hex(std::string_view(reinterpret_cast<const char*>(a->ip), 16)) +
               "]:" + std::to_string(a->port) + " unix=" + to_hex(a->unix_path);
    }
    out += " tlvs=" + to_hex(h.tlvs.encoded());
    return out;
}

std::string describe(const smtpp::proxy_result& r) {
    return std::string(smtpp::to_string(r.error)) + " " + std::to_string(r.consumed) + " " +
           (r.error == errc::ok ? describe(r.header) : std::string());
}

// The reader fed these pieces: its final result, the sum of what it consumed, and the header.
std::string read_pieces(const std::vector<std::string_view>& pieces) {
    smtpp::proxy_reader reader;
    std::size_t consumed = 0;
    smtpp::proxy_result last;
    for (const std::string_view piece : pieces) {
        last = reader.read(piece);
        consumed += last.consumed;
        if (last.error != errc::need_more_data) break;
    }
    const std::string header = last.error == errc::ok ? describe(last.header) : std::string();
    CHECK(header == (reader.done() ? describe(reader.header()) : std::string()));
    return std::string(smtpp::to_string(last.error)) + " " + std::to_string(consumed) + " " +
           std::to_string(reader.bytes().size()) + " " + header;
}

errc error_of(std::string_view input) { return smtpp::parse_proxy_header(input).error; }

// The result for `input` is the same fed whole, split in two anywhere, and byte by byte, and
// the same as parse_proxy_header's.
void check_split_invariant(std::string_view input) {
    INFO(to_hex(input));
    CHECK(smtpp_test::first_divergent_split(input, read_pieces) == -1);
    const smtpp::proxy_result pure = smtpp::parse_proxy_header(input);
    smtpp::proxy_reader reader;
    const smtpp::proxy_result incremental = reader.read(input);
    CHECK(describe(pure) == describe(incremental));
}

// At how many octets the byte-by-byte reader stopped, and with what.
std::pair<errc, std::size_t> stop_point(std::string_view input) {
    smtpp::proxy_reader reader;
    for (std::size_t i = 0; i < input.size(); ++i) {
        const smtpp::proxy_result r = reader.read(input.substr(i, 1));
        if (r.error != errc::need_more_data) return {r.error, i + 1};
    }
    return {errc::need_more_data, input.size()};
}

// An output buffer of fixed size, so that writing can be shown to allocate nothing.
struct fixed_out {
    char data[1024] = {};
    std::size_t size = 0;
    bool overflow = false;
    void append(const char* bytes, std::size_t n) {
        if (size + n > sizeof data) {
            overflow = true;
            return;
        }
        for (std::size_t i = 0; i < n; ++i) data[size + i] = bytes[i];
        size += n;
    }
    std::string_view view() const { return {data, size}; }
};

} // namespace

// ---------------------------------------------------------------------------------------------
// Version 1.

TEST_CASE("S-PROXY-2.1-a: the v1 example of proxy-protocol 2.1 is read and the rest is left",
          "[proxy]") {
    const std::string input = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"
                              "GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n";
    const smtpp::proxy_result r = smtpp::parse_proxy_header(input);
    REQUIRE(r.error == errc::ok);
    CHECK(r.consumed == 47);
    CHECK(input.substr(r.consumed, 5) == "GET /");
    CHECK(r.header.version == smtpp::proxy_version::v1);
    CHECK(r.header.command == smtpp::proxy_command::proxy);
    CHECK(r.header.family == proxy_family::inet);
    CHECK(r.header.transport == proxy_transport::stream);
    CHECK(r.header.has_addresses());
    CHECK(ip_text(r.header, r.header.source) == "192.168.0.1");
    CHECK(ip_text(r.header, r.header.destination) == "192.168.0.11");
    CHECK(r.header.source.port == 56324);
    CHECK(r.header.destination.port == 443);
    CHECK(r.header.tlvs.empty());
    check_split_invariant(input);
}

TEST_CASE("S-PROXY-2.1-a: the longest lines of proxy-protocol 2.1 (56, 104, 15, 107 octets)",
          "[proxy]") {
    const std::string full6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    const std::pair<std::string, std::size_t> lines[] = {
        {"PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n", 56},
        {"PROXY TCP6 " + full6 + " " + full6 + " 65535 65535\r\n", 104},
        {"PROXY UNKNOWN\r\n", 15},
        {"PROXY UNKNOWN " + full6 + " " + full6 + " 65535 65535\r\n", 107},
    };
    for (const auto& [line, size] : lines) {
        INFO(line);
        CHECK(line.size() == size);
        const smtpp::proxy_result r = smtpp::parse_proxy_header(line + "QUIT\r\n");
        CHECK(r.error == errc::ok);
        CHECK(r.consumed == size);
        check_split_invariant(line + "QUIT\r\n");
    }
    const smtpp::proxy_result r = smtpp::parse_proxy_header(lines[1].first);
    CHECK(ip_text(r.header, r.header.source) == full6);
    CHECK(r.header.source.port == 65535);
}

TEST_CASE("S-PROXY-2.1-a: exactly the v1 grammar: upper case, single spaces, known words",
          "[proxy]") {
    const std::string_view refused[] = {
        "PROXY TCP4  192.0.2.1 192.0.2.2 1 2\r\n",  // double space
        "PROXY TCP4 192.0.2.1  192.0.2.2 1 2\r\n",  // double space between addresses
        "PROXY TCP4 192.0.2.1 192.0.2.2 1 2 \r\n",  // trailing space
        "PROXY TCP4 192.0.2.1 192.0.2.2 1\r\n",     // a port missing
        "PROXY TCP4 192.0.2.1 192.0.2.2 1 2 3\r\n", // a field too many
        "PROXY tcp4 192.0.2.1 192.0.2.2 1 2\r\n",   // lower-case protocol
        "PROXY TCP5 192.0.2.1 192.0.2.2 1 2\r\n",   // unknown protocol
        "PROXY UDP4 192.0.2.1 192.0.2.2 1 2\r\n",   // v1 knows TCP only
        "PROXY TCP4\r\n",                           // no addresses
        "PROXY \r\n",                               // no protocol
        "PROXY UNKNOWNX\r\n",                       // not the word UNKNOWN
        "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\n",     // bare LF ends nothing
        "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\rx\n",  // bare CR
        "PROXY TCP4 192.0.2.1\t192.0.2.2 1 2\r\n",  // a tab
    };
    for (const std::string_view line : refused) {
        INFO(line);
        CHECK(error_of(line) == errc::proxy_bad_v1_line);
        check_split_invariant(line);
    }
    for (const std::string_view line :
         {"proxy TCP4 192.0.2.1 192.0.2.2 1 2\r\n"sv, "Proxy TCP4 192.0.2.1 192.0.2.2 1 2\r\n"sv,
          "PROXY\r\n"sv, " PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n"sv}) {
        INFO(line);
        CHECK(error_of(line) == errc::proxy_not_header);
    }
}

TEST_CASE("S-PROXY-2.1-b: v1 addresses: dotted quads without leading zeros, IPv6 of 128 bits, "
          "the family the protocol word names",
          "[proxy]") {
    const auto tcp4 = [](std::string_view a) {
        return error_of("PROXY TCP4 "s + std::string(a) + " 192.0.2.2 1 2\r\n");
    };
    const auto tcp6 = [](std::string_view a) {
        return error_of("PROXY TCP6 "s + std::string(a) + " ::1 1 2\r\n");
    };
    for (const std::string_view good : {"0.0.0.0", "255.255.255.255", "10.0.0.1", "1.2.3.4"})
        CHECK(tcp4(good) == errc::ok);
    for (const std::string_view bad :
         {"192.168.01.1", "00.0.0.0", "256.0.0.1", "1.2.3", "1.2.3.4.5", "1..2.3", "1.2.3.",
          ".1.2.3", "1.2.3.4a", "::1", "::ffff:1.2.3.4", "1.2.3.0255", "a.b.c.d"}) {
        INFO(bad);
        CHECK(tcp4(bad) == errc::proxy_bad_v1_line);
    }
    for (const std::string_view good :
         {"::", "::1", "1::", "2001:db8::1", "2001:DB8:0:0:0:0:0:1", "1:2:3:4:5:6:7:8",
          "0001:0002:0003:0004:0005:0006:0007:0008", "1:2:3:4:5:6::8", "1::8", "::ffff:192.0.2.1",
          "1:2:3:4:5:6:192.0.2.1", "::192.0.2.1", "fe80::1:2"}) {
        INFO(good);
        CHECK(tcp6(good) == errc::ok);
    }
    for (const std::string_view bad :
         {"1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4::5:6:7:8", "1::2::3",
          ":::", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "12345::1", "g::1", "1.2.3.4", "::1.2.3",
          "::ffff:1.2.3.04", "1.2.3.4::", "1:2:3:4:5:6:7:1.2.3.4", "::1:"}) {
        INFO(bad);
        CHECK(tcp6(bad) == errc::proxy_bad_v1_line);
    }
    const smtpp::proxy_result r =
        smtpp::parse_proxy_header("PROXY TCP6 ::ffff:192.0.2.1 2001:DB8::A 1 2\r\n");
    REQUIRE(r.error == errc::ok);
    CHECK(to_hex(std::string_view(reinterpret_cast<const char*>(r.header.source.ip), 16)) ==
          "00000000000000000000ffffc0000201");
    CHECK(ip_text(r.header, r.header.destination) == "2001:db8::a");
}

TEST_CASE("S-PROXY-2.1-c: v1 ports are 0-65535 without leading zeros", "[proxy]") {
    const auto ports = [](std::string_view p) {
        return error_of("PROXY TCP4 192.0.2.1 192.0.2.2 "s + std::string(p) + "\r\n");
    };
    CHECK(ports("0 65535") == errc::ok);
    CHECK(ports("25 587") == errc::ok);
    for (const std::string_view bad : {"65536 25", "25 65536", "025 25", "00 25", "25 99999",
                                       "25 123456", "-1 25", "+25 25", "25 0x19", "2 5 1"}) {
        INFO(bad);
        CHECK(ports(bad) == errc::proxy_bad_v1_line);
    }
}

TEST_CASE("S-PROXY-2.1-d: v1 UNKNOWN: the rest of the line is ignored and no address is given",
          "[proxy]") {
    for (const std::string_view line :
         {"PROXY UNKNOWN\r\n"sv, "PROXY UNKNOWN ::1 ::2 1 2\r\n"sv,
          "PROXY UNKNOWN anything at all, even \x01\x7f\xff\r\n"sv, "PROXY UNKNOWN \r\n"sv}) {
        INFO(line);
        const smtpp::proxy_result r = smtpp::parse_proxy_header(line);
        REQUIRE(r.error == errc::ok);
        CHECK(r.consumed == line.size());
        CHECK(r.header.family == proxy_family::unspec);
        CHECK_FALSE(r.header.has_addresses()); // use the real connection's endpoints
        check_split_invariant(line);
    }
}

TEST_CASE("S-PROXY-2.1-e: the CRLF must come within 107 octets; 108 is too long", "[proxy]") {
    const std::string line107 = "PROXY UNKNOWN " + std::string(91, 'x') + "\r\n";
    REQUIRE(line107.size() == 107);
    CHECK(error_of(line107) == errc::ok);
    const std::string line108 = "PROXY UNKNOWN " + std::string(92, 'x') + "\r\n";
    CHECK(error_of(line108) == errc::proxy_header_too_long);
    // Known at the 107th octet, before the CR or LF that would come too late.
    CHECK(stop_point(line108) == std::pair{errc::proxy_header_too_long, std::size_t{107}});
    CHECK(stop_point("PROXY UNKNOWN " + std::string(500, 'x')) ==
          std::pair{errc::proxy_header_too_long, std::size_t{107}});
    check_split_invariant(line108);
}

TEST_CASE("S-PROXY-2.1-e: no bare CR or LF ends or enters a v1 line", "[proxy]") {
    CHECK(error_of("PROXY UNKNOWN\n") == errc::proxy_bad_v1_line);
    CHECK(error_of("PROXY UNKNOWN\r\r\n") == errc::proxy_bad_v1_line);
    CHECK(error_of("PROXY UNKNOWN x\ny\r\n") == errc::proxy_bad_v1_line);
    CHECK(error_of("PROXY UNKNOWN x\ry\r\n") == errc::proxy_bad_v1_line);
    CHECK(stop_point("PROXY UNKNOWN x\ry") == std::pair{errc::proxy_bad_v1_line, std::size_t{17}});
}

TEST_CASE("S-PROXY-2-a: anything but a header start is refused at its first differing octet",
          "[proxy]") {
    // SMTP commands where the header should be, and other protocols: the first octet says.
    for (const std::string_view input :
         {"EHLO client.example\r\n"sv, "HELO x\r\n"sv, "QUIT\r\n"sv, "GET / HTTP/1.1\r\n"sv,
          "\x16\x03\x01"sv, "\n"sv, "\0"sv, " PROXY"sv}) {
        INFO(to_hex(input));
        CHECK(stop_point(input) == std::pair{errc::proxy_not_header, std::size_t{1}});
        check_split_invariant(input);
    }
    CHECK(stop_point("PROXZ TCP4") == std::pair{errc::proxy_not_header, std::size_t{5}});
    CHECK(stop_point("PROXYTCP4") == std::pair{errc::proxy_not_header, std::size_t{6}});
    CHECK(stop_point("PROXY tcp4") == std::pair{errc::proxy_bad_v1_line, std::size_t{7}});
    CHECK(stop_point("PROXY TCP5 ") == std::pair{errc::proxy_bad_v1_line, std::size_t{10}});
    CHECK(stop_point("PROXY TCP4 EHLO") == std::pair{errc::proxy_bad_v1_line, std::size_t{13}});
    // Every octet of the v2 signature, changed, is refused where it differs.
    const std::string header = v2(0x21, 0x11, ipv4_block);
    for (std::size_t i = 0; i < signature.size(); ++i) {
        std::string bad = header;
        bad[i] = static_cast<char>(bad[i] ^ 0x20);
        INFO(i);
        CHECK(stop_point(bad) == std::pair{errc::proxy_not_header, i + 1});
    }
}

TEST_CASE("S-PROXY-2-a: an empty read changes nothing; results are sticky", "[proxy]") {
    smtpp::proxy_reader reader;
    smtpp::proxy_result r = reader.read({});
    CHECK(r.error == errc::need_more_data);
    CHECK(r.consumed == 0);
    CHECK(reader.bytes().empty());
    CHECK(smtpp::parse_proxy_header({}).error == errc::need_more_data);

    r = reader.read(haproxy_v1);
    REQUIRE(r.error == errc::ok);
    CHECK(r.consumed == 44);
    CHECK(reader.done());
    r = reader.read("more");
    CHECK(r.error == errc::ok);
    CHECK(r.consumed == 0); // the header is over; these octets are the session's
    CHECK(describe(r.header) == describe(reader.header()));

    smtpp::proxy_reader refused;
    CHECK(refused.read("EHLO").error == errc::proxy_not_header);
    r = refused.read("PROXY UNKNOWN\r\n");
    CHECK(r.error == errc::proxy_not_header);
    CHECK(r.consumed == 0);
    CHECK(refused.error() == errc::proxy_not_header);
    CHECK(describe(refused.header()) == describe(smtpp::proxy_header{}));
    refused.reset();
    CHECK(refused.read("PROXY UNKNOWN\r\n").error == errc::ok);
}

TEST_CASE("S-PROXY-2-b: every prefix of a header asks for more, with every octet taken",
          "[proxy]") {
    for (const std::string& input :
         {haproxy_v1, haproxy_v2_crc, haproxy_v2_ipv6, haproxy_v2_ssl, haproxy_v2_local}) {
        const std::size_t size = smtpp::parse_proxy_header(input).consumed;
        REQUIRE(size > 0);
        for (std::size_t cut = 0; cut < size; ++cut) {
            INFO(to_hex(input) << " cut at " << cut);
            const smtpp::proxy_result r = smtpp::parse_proxy_header(input.substr(0, cut));
            CHECK(r.error == errc::need_more_data);
            CHECK(r.consumed == cut);
            smtpp::proxy_reader reader;
            CHECK(reader.read(input.substr(0, cut)).consumed == cut);
            CHECK_FALSE(reader.done());
        }
    }
}

TEST_CASE("S-PROXY-2-b: the same result at every split, byte by byte, and in one buffer",
          "[proxy]") {
    std::vector<std::string> inputs = {haproxy_v1, haproxy_v2_crc, haproxy_v2_ipv6, haproxy_v2_ssl,
                                       haproxy_v2_local};
    inputs.push_back(v2(0x21, 0x31, unix_block("/run/a", "/run/b")) + "EHLO");
    inputs.push_back(v2(0x21, 0x11, ipv4_block + tlv(0x01, "smtp")));
    inputs.push_back(v2(0x21, 0x11, ipv4_block + "\x01\x00"s));            // bad TLV
    inputs.push_back(v2(0x21, 0x11, ipv4_block + tlv(0x03, "\0\0\0\0"s))); // CRC mismatch
    inputs.push_back(v2(0x22, 0x11, ipv4_block));                          // bad command
    inputs.push_back("PROXY TCP6 ::1 ::2 65536 25\r\n");
    for (const std::string& input : inputs) check_split_invariant(input);
}

TEST_CASE("S-PROXY-2-c: a header per UDP datagram, each read on its own", "[proxy]") {
    const std::string first = v2(0x21, 0x12, ipv4_block) + "query one";
    const std::string second = v2(0x21, 0x22, ipv6_block) + "query two";
    for (const std::string& datagram : {first, second}) {
        const smtpp::proxy_result r = smtpp::parse_proxy_header(datagram);
        REQUIRE(r.error == errc::ok);
        CHECK(r.header.transport == proxy_transport::dgram);
        CHECK(datagram.substr(r.consumed, 6) == "query ");
        CHECK(r.header.destination.port == 25);
    }
}

// ---------------------------------------------------------------------------------------------
// Version 2.

TEST_CASE("S-PROXY-2.2-a: HAProxy's v2 headers: TCP over IPv4 and IPv6", "[proxy]") {
    smtpp::proxy_result r = smtpp::parse_proxy_header(haproxy_v2_ipv6);
    REQUIRE(r.error == errc::ok);
    CHECK(r.consumed == 16 + 36);
    CHECK(haproxy_v2_ipv6.substr(r.consumed) == "EHLO x\r\n");
    CHECK(r.header.version == smtpp::proxy_version::v2);
    CHECK(r.header.family == proxy_family::inet6);
    CHECK(r.header.transport == proxy_transport::stream);
    CHECK(ip_text(r.header, r.header.source) == "::1");
    CHECK(r.header.source.port == 40644);
    CHECK(r.header.destination.port == 47103);
    CHECK(r.header.tlvs.empty());

    r = smtpp::parse_proxy_header(haproxy_v1);
    REQUIRE(r.error == errc::ok);
    CHECK(ip_text(r.header, r.header.source) == "127.0.0.1");
    CHECK(r.header.source.port == 42568);
}

TEST_CASE("S-PROXY-2.2-a: the version nibble must be 2 and the command LOCAL or PROXY", "[proxy]") {
    for (const int version : {0x0, 0x1, 0x3, 0xF}) {
        const std::string header =
            v2(static_cast<std::uint8_t>(version << 4 | 1), 0x11, ipv4_block);
        CHECK(stop_point(header) == std::pair{errc::proxy_bad_version, std::size_t{13}});
    }
    for (int command = 2; command <= 0xF; ++command) {
        const std::string header = v2(static_cast<std::uint8_t>(0x20 | command), 0x11, ipv4_block);
        CHECK(stop_point(header) == std::pair{errc::proxy_bad_command, std::size_t{13}});
    }
}

TEST_CASE("S-PROXY-2.2-a: the address layouts of proxy-protocol 2.2, one per family octet",
          "[proxy]") {
    struct layout {
        std::uint8_t fam;
        std::string block;
        proxy_family family;
        proxy_transport transport;
        std::string source;
    };
    const layout layouts[] = {
        {0x11, ipv4_block, proxy_family::inet, proxy_transport::stream, "192.0.2.1"},
        {0x12, ipv4_block, proxy_family::inet, proxy_transport::dgram, "192.0.2.1"},
        {0x21, ipv6_block, proxy_family::inet6, proxy_transport::stream, "2001:db8::1"},
        {0x22, ipv6_block, proxy_family::inet6, proxy_transport::dgram, "2001:db8::1"},
        {0x31, unix_block("/run/src", "/run/dst"), proxy_family::unix_socket,
         proxy_transport::stream, ""},
        {0x32, unix_block("/run/src", "/run/dst"), proxy_family::unix_socket,
         proxy_transport::dgram, ""},
    };
    for (const layout& l : layouts) {
        INFO(static_cast<int>(l.fam));
        const std::string header = v2(0x21, l.fam, l.block);
        const std::string input = header + "EHLO";
        const smtpp::proxy_result r = smtpp::parse_proxy_header(input);
        REQUIRE(r.error == errc::ok);
        CHECK(r.consumed == header.size());
        CHECK(r.header.family == l.family);
        CHECK(r.header.transport == l.transport);
        CHECK(r.header.has_addresses());
        CHECK(ip_text(r.header, r.header.source) == l.source);
        if (l.family == proxy_family::unix_socket) {
            CHECK(r.header.source.unix_path == "/run/src");
            CHECK(r.header.destination.unix_path == "/run/dst");
        } else {
            CHECK(r.header.source.port == 56324);
            CHECK(r.header.destination.port == 25);
        }
    }
}

TEST_CASE("S-PROXY-2.2-a: UNIX paths: 108 octets, NUL-padded, abstract names kept", "[proxy]") {
    const std::string full(108, 'p');
    const std::string abstract = "\0smtpp-abstract"s;
    const std::string header = v2(0x21, 0x31, unix_block(full, abstract));
    const smtpp::proxy_result r = smtpp::parse_proxy_header(header);
    REQUIRE(r.error == errc::ok);
    CHECK(r.header.source.unix_path == full);
    CHECK(r.header.destination.unix_path == abstract);
}

TEST_CASE("S-PROXY-2.2-b: LOCAL is accepted with its block skipped, family and all", "[proxy]") {
    smtpp::proxy_result r = smtpp::parse_proxy_header(haproxy_v2_local + "EHLO");
    REQUIRE(r.error == errc::ok);
    CHECK(r.consumed == haproxy_v2_local.size()); // the length field is honoured, not 0 assumed
    CHECK(r.header.command == smtpp::proxy_command::local);
    CHECK(r.header.family == proxy_family::unspec);
    CHECK_FALSE(r.header.has_addresses());
    CHECK(r.header.tlvs.empty());
    // "the receiver must ... discard the protocol block including the family which is ignored"
    for (const std::string& header :
         {v2(0x20, 0x00, ""), v2(0x20, 0x11, ipv4_block), v2(0x20, 0xFF, "anything"),
          v2(0x20, 0x11, "short"), v2(0x20, 0x21, ipv6_block + "\x03\x00\x04zzzz"s)}) {
        INFO(to_hex(header));
        r = smtpp::parse_proxy_header(header + "QUIT");
        REQUIRE(r.error == errc::ok);
        CHECK(r.consumed == header.size());
        CHECK(describe(r.header) == describe(smtpp::parse_proxy_header(haproxy_v2_local).header));
    }
}

TEST_CASE("S-PROXY-2.2-c: family 0-3 and transport 0-2 only; UNSPEC ignores the addresses",
          "[proxy]") {
    for (const int fam : {0x40, 0x41, 0xF1, 0x13, 0x1F, 0x23, 0x33, 0x03}) {
        INFO(fam);
        const std::string header = v2(0x21, static_cast<std::uint8_t>(fam), ipv4_block);
        CHECK(stop_point(header) == std::pair{errc::proxy_bad_family, std::size_t{14}});
    }
    // Either half UNSPEC: no address, whatever the block holds; its length is still skipped.
    for (const int fam : {0x00, 0x01, 0x02, 0x10, 0x20, 0x30}) {
        INFO(fam);
        const std::string header = v2(0x21, static_cast<std::uint8_t>(fam), "\xff\xffjunk"s);
        const smtpp::proxy_result r = smtpp::parse_proxy_header(header + "EHLO");
        REQUIRE(r.error == errc::ok);
        CHECK(r.consumed == header.size());
        CHECK(r.header.command == smtpp::proxy_command::proxy);
        CHECK(r.header.family == proxy_family::unspec);
        CHECK(r.header.transport == proxy_transport::unspec);
        CHECK_FALSE(r.header.has_addresses());
        CHECK(r.header.tlvs.empty());
    }
}

TEST_CASE("S-PROXY-2.2-d: exactly 16 + length octets are taken; the rest is the session's",
          "[proxy]") {
    const std::string header = v2(0x21, 0x11, ipv4_block + tlv(0x04, "padding"));
    const std::string input = header + "EHLO x\r\n";
    smtpp::proxy_reader reader;
    const smtpp::proxy_result r = reader.read(input);
    REQUIRE(r.error == errc::ok);
    CHECK(r.consumed == header.size());
    CHECK(reader.bytes() == header);
    CHECK(input.substr(r.consumed) == "EHLO x\r\n");
}

TEST_CASE("S-PROXY-2.2-e: an address block shorter than its family is refused from the length "
          "field",
          "[proxy]") {
    const std::pair<std::uint8_t, std::size_t> needs[] = {{0x11, 12}, {0x12, 12},  {0x21, 36},
                                                          {0x22, 36}, {0x31, 216}, {0x32, 216}};
    for (const auto& [fam, size] : needs) {
        INFO(static_cast<int>(fam));
        const std::string header = v2(0x21, fam, std::string(size - 1, '\0'));
        // Known at the 16th octet: the block is never waited for.
        CHECK(stop_point(header) == std::pair{errc::proxy_short_addresses, std::size_t{16}});
        CHECK(error_of(v2(0x21, fam, std::string(size, '\0'))) == errc::ok);
    }
}

TEST_CASE("S-PROXY-2-d: a v2 header over the limit is refused at its 16th octet", "[proxy]") {
    const std::size_t limit = smtpp::proxy_default_max_header;
    const std::string at_limit =
        v2(0x21, 0x11, ipv4_block + tlv(0x04, std::string(limit - 31, 'n')));
    REQUIRE(at_limit.size() == limit);
    CHECK(error_of(at_limit) == errc::ok);
    const std::string over = v2(0x21, 0x11, ipv4_block + tlv(0x04, std::string(limit - 30, 'n')));
    CHECK(error_of(over) == errc::proxy_header_too_long);
    CHECK(stop_point(over) == std::pair{errc::proxy_header_too_long, std::size_t{16}});
    const std::string largest = v2(0x21, 0x11, ipv4_block + tlv(0x04, std::string(65520, 'n')));
    REQUIRE(largest.size() == 16 + 65535);
    CHECK(smtpp::parse_proxy_header(largest, 16 + 65535).error == errc::ok);
    auto big = std::make_unique<smtpp::basic_proxy_reader<16 + 65535>>();
    CHECK(big->read(largest).error == errc::ok);
    CHECK(big->header().tlvs.find(proxy_tlv_type::noop).size() == 65520);
}

TEST_CASE("S-PROXY-2.2-f: TLVs: each within the header, unknown types skipped, iterated raw",
          "[proxy]") {
    const std::string tlvs = tlv(0x01, "smtp") + tlv(0xE0, "custom") + tlv(0x04, "") +
                             tlv(0xF8, "future") + tlv(0x02, "mx.example");
    const std::string header = v2(0x21, 0x11, ipv4_block + tlvs);
    const smtpp::proxy_result r = smtpp::parse_proxy_header(header);
    REQUIRE(r.error == errc::ok);
    CHECK(r.header.tlvs.encoded() == tlvs);
    CHECK(r.header.tlvs.well_formed());
    std::vector<std::pair<int, std::string>> seen;
    for (const smtpp::proxy_tlv& t : r.header.tlvs)
        seen.emplace_back(static_cast<int>(t.type), std::string(t.value));
    CHECK(
        seen ==
        std::vector<std::pair<int, std::string>>{
            {0x01, "smtp"}, {0xE0, "custom"}, {0x04, ""}, {0xF8, "future"}, {0x02, "mx.example"}});
    CHECK(r.header.alpn() == "smtp");
    CHECK(r.header.authority() == "mx.example");
    CHECK(r.header.tlvs.contains(proxy_tlv_type::noop));
    CHECK(r.header.tlvs.find(proxy_tlv_type::noop).empty());
    CHECK_FALSE(r.header.tlvs.contains(proxy_tlv_type::netns));
    CHECK(r.header.unique_id().empty());
    CHECK_FALSE(r.header.ssl().present);

    const std::string_view malformed[] = {"\x01"sv, "\x01\x00"sv, "\x01\x00\x05smtp"sv,
                                          "\x01\x00\x04smtp\x02"sv, "\x01\xff\xffsmtp"sv};
    for (const std::string_view bad : malformed) {
        INFO(to_hex(bad));
        const std::string bad_header = v2(0x21, 0x11, ipv4_block + std::string(bad));
        CHECK(error_of(bad_header) == errc::proxy_bad_tlv);
        CHECK_FALSE(smtpp::proxy_tlv_list(bad).well_formed());
        check_split_invariant(bad_header);
    }
    // Iterating a list that was not checked stops before the TLV that does not fit.
    int count = 0;
    for (const smtpp::proxy_tlv& t : smtpp::proxy_tlv_list("\x01\x00\x01x\x02\x00\x09y"sv)) {
        CHECK(t.value == "x");
        ++count;
    }
    CHECK(count == 1);
}

TEST_CASE("S-PROXY-2.2.3-a: CRC32C as RFC 4960 Appendix B computes it", "[proxy]") {
    CHECK(smtpp::detail::crc32c("123456789") == 0xE3069283u);           // the CRC-32C check value
    CHECK(smtpp::detail::crc32c(std::string(32, '\0')) == 0x8A9136AAu); // RFC 3720 B.4
    CHECK(smtpp::detail::crc32c(std::string(32, '\xff')) == 0x62A8AB43u);
}

TEST_CASE("S-PROXY-2.2.3-a: HAProxy's CRC32C is verified; one changed octet fails it", "[proxy]") {
    smtpp::proxy_result r = smtpp::parse_proxy_header(haproxy_v2_crc);
    REQUIRE(r.error == errc::ok);
    CHECK(r.header.tlvs.contains(proxy_tlv_type::crc32c));
    CHECK(r.header.unique_id() == "abc123");
    const std::size_t size = r.consumed;
    // Any octet changed after the fixed part (address, port, TLV value) breaks the checksum or
    // the TLV layout; none goes unnoticed.
    for (std::size_t i = 16; i < size; ++i) {
        if (i == 28) continue; // the CRC TLV's own type: changed, no checksum is left to check
        std::string bad = haproxy_v2_crc;
        bad[i] = static_cast<char>(bad[i] ^ 0x01);
        INFO(i);
        const errc e = error_of(bad);
        CHECK((e == errc::proxy_bad_checksum || e == errc::proxy_bad_tlv));
    }
    r = smtpp::parse_proxy_header(v2(0x21, 0x11, ipv4_block + tlv(0x03, "\x12\x34\x56\x78"s)));
    CHECK(r.error == errc::proxy_bad_checksum);
    // Not 4 octets, or twice: what would the header mean?
    CHECK(error_of(v2(0x21, 0x11, ipv4_block + tlv(0x03, "abc"))) == errc::proxy_bad_tlv);
    CHECK(error_of(v2(0x21, 0x11, ipv4_block + tlv(0x03, "abcde"))) == errc::proxy_bad_tlv);
    const smtpp::proxy_header h = smtpp::parse_proxy_header(haproxy_v2_crc).header;
    const std::string doubled = std::string(h.tlvs.encoded()) + tlv(0x03, "\0\0\0\0"s);
    CHECK(error_of(v2(0x21, 0x11, ipv4_block + doubled)) == errc::proxy_bad_tlv);
}

TEST_CASE("S-PROXY-2.2.5-a: UNIQUE_ID is at most 128 octets", "[proxy]") {
    CHECK(error_of(v2(0x21, 0x11, ipv4_block + tlv(0x05, std::string(128, 'u')))) == errc::ok);
    CHECK(error_of(v2(0x21, 0x11, ipv4_block + tlv(0x05, std::string(129, 'u')))) ==
          errc::proxy_bad_tlv);
}

TEST_CASE("S-PROXY-2.2.6-a: HAProxy's SSL TLV and its sub-TLVs", "[proxy]") {
    const smtpp::proxy_result r = smtpp::parse_proxy_header(haproxy_v2_ssl);
    REQUIRE(r.error == errc::ok);
    CHECK(haproxy_v2_ssl.substr(r.consumed) == "EHLO x\r\n");
    CHECK(r.header.alpn() == "smtp");
    CHECK(r.header.authority() == "mx.example");
    CHECK(r.header.tlvs.contains(proxy_tlv_type::crc32c));
    const smtpp::proxy_ssl ssl = r.header.ssl();
    REQUIRE(ssl.present);
    CHECK(ssl.client == smtpp::proxy_ssl_client_ssl);
    CHECK(ssl.verify == 0);
    CHECK(ssl.version() == "TLSv1.3");
    CHECK(ssl.cipher() == "TLS_AES_256_GCM_SHA384");
    CHECK(ssl.sig_alg() == "RSA-SHA256");
    CHECK(ssl.key_alg() == "RSA2048");
    CHECK(ssl.cn().empty()); // no client certificate
    CHECK(ssl.sub_tlvs.well_formed());

    // The fixed part must be there and the sub-TLVs must fit the SSL TLV.
    CHECK(error_of(v2(0x21, 0x11, ipv4_block + tlv(0x20, "\x01\0\0\0"s))) == errc::proxy_bad_tlv);
    CHECK(error_of(v2(0x21, 0x11, ipv4_block + tlv(0x20, "\x01\0\0\0\0"s))) == errc::ok);
    CHECK(error_of(v2(0x21, 0x11, ipv4_block + tlv(0x20, "\x01\0\0\0\0\x21\x00\x09TLSv1.3"s))) ==
          errc::proxy_bad_tlv);
}

// ---------------------------------------------------------------------------------------------
// Writers.

TEST_CASE("S-PROXY-2.1-f: the v1 writer: TCP4, TCP6, and UNKNOWN for what v1 cannot say",
          "[proxy]") {
    smtpp::proxy_header h;
    h.family = proxy_family::inet;
    h.transport = proxy_transport::stream;
    REQUIRE(smtpp::parse_proxy_ip("192.168.0.1", proxy_family::inet, h.source) == errc::ok);
    REQUIRE(smtpp::parse_proxy_ip("192.168.0.11", proxy_family::inet, h.destination) == errc::ok);
    h.source.port = 56324;
    h.destination.port = 443;
    std::string out;
    smtpp::append_proxy_v1(out, h);
    CHECK(out == "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");

    h.family = proxy_family::inet6;
    REQUIRE(smtpp::parse_proxy_ip("2001:DB8:0:0:1:0:0:1", proxy_family::inet6, h.source) ==
            errc::ok);
    REQUIRE(smtpp::parse_proxy_ip("::ffff:192.0.2.1", proxy_family::inet6, h.destination) ==
            errc::ok);
    out.clear();
    smtpp::append_proxy_v1(out, h);
    CHECK(out == "PROXY TCP6 2001:db8::1:0:0:1 ::ffff:c000:201 56324 443\r\n");

    smtpp::proxy_header unknown[4] = {h, h, h, h};
    unknown[0].transport = proxy_transport::dgram;
    unknown[1].family = proxy_family::unix_socket;
    unknown[2].command = smtpp::proxy_command::local;
    unknown[3] = smtpp::proxy_header{};
    for (const smtpp::proxy_header& u : unknown) {
        out.clear();
        smtpp::append_proxy_v1(out, u);
        CHECK(out == "PROXY UNKNOWN\r\n");
    }
}

TEST_CASE("S-PROXY-2.1-f: format_proxy_ip writes RFC 5952 text; parse_proxy_ip reads v1 text",
          "[proxy]") {
    const std::pair<std::string_view, std::string_view> canonical[] = {
        {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},    // the first of two equal runs
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, // one zero group stays
        {"0:0:0:0:0:0:0:0", "::"},
        {"0:0:0:0:0:0:0:1", "::1"},
        {"1:0:0:0:0:0:0:0", "1::"},
        {"1:0:0:2:0:0:0:3", "1:0:0:2::3"}, // the longest run
        {"FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    };
    for (const auto& [in, text] : canonical) {
        smtpp::proxy_address a;
        REQUIRE(smtpp::parse_proxy_ip(in, proxy_family::inet6, a) == errc::ok);
        CHECK(smtpp::format_proxy_ip(proxy_family::inet6, a).view() == text);
    }
    smtpp::proxy_address a;
    a.port = 25;
    CHECK(smtpp::parse_proxy_ip("1.2.3.4", proxy_family::inet6, a) == errc::invalid_argument);
    CHECK(smtpp::parse_proxy_ip("1.2.3.4", proxy_family::unix_socket, a) == errc::invalid_argument);
    CHECK(smtpp::parse_proxy_ip("01.2.3.4", proxy_family::inet, a) == errc::invalid_argument);
    CHECK(smtpp::format_proxy_ip(proxy_family::inet, a).view() == "0.0.0.0"); // unchanged
    CHECK(a.port == 25);
    CHECK(smtpp::format_proxy_ip(proxy_family::unspec, a).view().empty());
}

TEST_CASE("S-PROXY-2.2-g: v2 writer round trips for every family, with TLVs and a CRC32C",
          "[proxy]") {
    std::string tlvs, sub;
    REQUIRE(smtpp::append_proxy_tlv(sub, proxy_tlv_type::ssl_version, "TLSv1.3") == errc::ok);
    REQUIRE(smtpp::append_proxy_tlv(sub, proxy_tlv_type::ssl_cn, "client.example") == errc::ok);
    REQUIRE(smtpp::append_proxy_tlv(tlvs, proxy_tlv_type::alpn, "smtp") == errc::ok);
    REQUIRE(smtpp::append_proxy_ssl_tlv(
                tlvs, smtpp::proxy_ssl_client_ssl | smtpp::proxy_ssl_client_cert_conn, 0, sub) ==
            errc::ok);
    REQUIRE(smtpp::append_proxy_tlv(tlvs, proxy_tlv_type::unique_id, "id-1") == errc::ok);

    const std::pair<std::uint8_t, std::string> families[] = {
        {0x11, ipv4_block},
        {0x12, ipv4_block},
        {0x21, ipv6_block},
        {0x22, ipv6_block},
        {0x31, unix_block("/run/a", "")},
        {0x32, unix_block(std::string(108, 'z'), "\0x"s)}};
    for (const auto& [fam, block] : families) {
        for (const bool crc : {false, true}) {
            INFO(static_cast<int>(fam) << " crc " << crc);
            const std::string original = v2(0x21, fam, block);
            smtpp::proxy_header h = smtpp::parse_proxy_header(original).header;
            h.tlvs = smtpp::proxy_tlv_list(tlvs);
            std::string out = "prefix";
            REQUIRE(smtpp::append_proxy_v2(out, h, crc) == errc::ok);
            const smtpp::proxy_result r =
                smtpp::parse_proxy_header(std::string_view(out).substr(6));
            REQUIRE(r.error == errc::ok);
            CHECK(r.consumed == out.size() - 6);
            smtpp::proxy_header expected = h;
            if (crc) {
                CHECK(r.header.tlvs.contains(proxy_tlv_type::crc32c));
                CHECK(r.header.tlvs.encoded().substr(0, tlvs.size()) == tlvs);
                expected.tlvs = r.header.tlvs;
            }
            CHECK(describe(r.header) == describe(expected));
            CHECK(r.header.ssl().cn() == "client.example");
            CHECK(r.header.ssl().client == 3);
            check_split_invariant(std::string_view(out).substr(6));
        }
    }
}

TEST_CASE("S-PROXY-2.2-g: v2 writer: LOCAL and UNSPEC send no address", "[proxy]") {
    const std::string original = v2(0x21, 0x11, ipv4_block);
    smtpp::proxy_header h = smtpp::parse_proxy_header(original).header;
    h.command = smtpp::proxy_command::local;
    std::string out;
    REQUIRE(smtpp::append_proxy_v2(out, h) == errc::ok);
    CHECK(out == v2(0x20, 0x00, ""));
    out.clear();
    REQUIRE(smtpp::append_proxy_v2(out, h, true) == errc::ok);
    CHECK(out.substr(12, 4) == "\x20\x00\x00\x07"s); // HAProxy's health check, CRC and all
    CHECK(error_of(out) == errc::ok);
    h.command = smtpp::proxy_command::proxy;
    h.transport = proxy_transport::unspec;
    out.clear();
    REQUIRE(smtpp::append_proxy_v2(out, h) == errc::ok);
    CHECK(out == v2(0x21, 0x00, ""));
}

TEST_CASE("S-PROXY-2.2-g: HAProxy's headers re-encode to the same octets", "[proxy]") {
    for (const std::string& input : {haproxy_v2_crc, haproxy_v2_ipv6, haproxy_v2_ssl}) {
        const smtpp::proxy_result r = smtpp::parse_proxy_header(input);
        REQUIRE(r.error == errc::ok);
        std::string out;
        REQUIRE(smtpp::append_proxy_v2(out, r.header) == errc::ok);
        CHECK(to_hex(out) == to_hex(std::string_view(input).substr(0, r.consumed)));
    }
    const smtpp::proxy_result r = smtpp::parse_proxy_header(haproxy_v1);
    std::string out;
    smtpp::append_proxy_v1(out, r.header);
    CHECK(out == haproxy_v1.substr(0, r.consumed));
}

TEST_CASE("S-PROXY-2.2.3-a: the v2 writer computes a CRC32C TLV already in the list", "[proxy]") {
    // A relayed header whose addresses changed keeps a valid checksum.
    smtpp::proxy_header h = smtpp::parse_proxy_header(haproxy_v2_crc).header;
    h.source.port = 2525;
    std::string out;
    REQUIRE(smtpp::append_proxy_v2(out, h) == errc::ok);
    const smtpp::proxy_result r = smtpp::parse_proxy_header(out);
    REQUIRE(r.error == errc::ok);
    CHECK(r.header.source.port == 2525);
    CHECK(r.header.tlvs.encoded().size() == h.tlvs.encoded().size()); // not a second CRC TLV
}

TEST_CASE("S-PROXY-2.2-g: the writers refuse what they cannot encode, and append nothing",
          "[proxy]") {
    const std::string original = v2(0x21, 0x31, unix_block("a", "b"));
    smtpp::proxy_header h = smtpp::parse_proxy_header(original).header;
    const std::string long_path(109, 'p');
    const std::string crc = tlv(0x03, "\0\0\0\0"s);
    const std::string bad_tlvs[] = {"\x01\x00"s, tlv(0x03, "abc"), crc + crc};
    std::string out;
    h.source.unix_path = long_path;
    CHECK(smtpp::append_proxy_v2(out, h) == errc::invalid_argument);
    h.source.unix_path = "a";
    for (const std::string& bad : bad_tlvs) {
        h.tlvs = smtpp::proxy_tlv_list(bad);
        CHECK(smtpp::append_proxy_v2(out, h) == errc::invalid_argument);
    }
    const std::string huge = tlv(0x04, std::string(65535 - 216 - 3 + 1, 'n'));
    h.tlvs = smtpp::proxy_tlv_list(huge);
    CHECK(smtpp::append_proxy_v2(out, h) == errc::invalid_argument);
    h.tlvs = {};
    h.family = static_cast<proxy_family>(4);
    CHECK(smtpp::append_proxy_v2(out, h) == errc::invalid_argument);
    CHECK(out.empty());
    CHECK(smtpp::append_proxy_tlv(out, proxy_tlv_type::noop, std::string(65536, 'n')) ==
          errc::invalid_argument);
    CHECK(smtpp::append_proxy_ssl_tlv(out, 0, 0, "\x21\x00\x09TLS"sv) == errc::invalid_argument);
    CHECK(smtpp::append_proxy_ssl_tlv(out, 0, 0, std::string(65531, 'n')) ==
          errc::invalid_argument);
    CHECK(out.empty());
}

// ---------------------------------------------------------------------------------------------
// Memory.

TEST_CASE("proxy_reader: a fixed buffer of 536 octets, sizeof 544, and no allocation",
          "[proxy][alloc]") {
    // The buffer, the octet count and the sticky error; nothing else is kept (the header is
    // decoded again on demand).
    STATIC_REQUIRE(sizeof(smtpp::proxy_reader) == smtpp::proxy_default_max_header + 8);
    STATIC_REQUIRE(smtpp::proxy_reader::max_header == 536);
    const std::string inputs[] = {haproxy_v1,       haproxy_v2_ssl,
                                  haproxy_v2_local, v2(0x21, 0x31, unix_block("/run/a", "/run/b")),
                                  "EHLO x\r\n",     "PROXY UNKNOWN " + std::string(200, 'x')};
    for (const std::string& input : inputs) {
        bool overflow = false;
        const std::size_t allocations = smtpp_test::allocations_during([&] {
            smtpp::proxy_reader reader;
            for (const char c : input) {
                if (reader.read(std::string_view(&c, 1)).error != errc::need_more_data) break;
            }
            const smtpp::proxy_header h = reader.header();
            const smtpp::proxy_result r = smtpp::parse_proxy_header(input);
            fixed_out out;
            if (r.error == errc::ok) {
                (void)smtpp::append_proxy_v2(out, r.header, true);
                smtpp::append_proxy_v1(out, h);
            }
            (void)h.ssl();
            overflow = out.overflow;
        });
        CHECK(allocations == 0);
        CHECK_FALSE(overflow);
    }
}
