// Fuzz target: proxy.hpp (the PROXY protocol header, HAProxy's proxy-protocol.txt 2.1, 2.2),
// reader and writers.
//
// Input: the connection's first octets (the whole input); trailing octets also choose the
// split points (fuzz_support.hpp).
// Invariants:
//  - parse_proxy_header never reads past its input (ASan), and `consumed` is the input's size
//    on need_more_data, the header's length on ok, the octet that proved the error otherwise:
//    the octets before that octet are still a valid start (need_more_data), so a header is
//    refused as soon as it can be and never later;
//  - a complete header is self-delimiting: parsing exactly its octets gives the same header;
//  - proxy_reader fed the input in chosen pieces, and byte by byte, gives the same error, the
//    same total consumed and the same header as parse_proxy_header (split invariance), and
//    reader.header() equals the header of the read that completed;
//  - a header that parses re-encodes with the writer of its version to octets that parse to the
//    same fields; a v2 header with addresses re-encodes to exactly its own octets (a CRC32C TLV
//    included, which the writer recomputes); with an added CRC32C it still parses; a TCP header
//    written as v1 keeps its addresses and ports;
//  - the IP text written for an address reads back to the same octets.
#include <smtpp/proxy.hpp>

#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

using namespace smtpp;

namespace {

std::string describe(const proxy_header& h) {
    std::string out;
    out += static_cast<char>(h.version);
    out += static_cast<char>(h.command);
    out += static_cast<char>(h.family);
    out += static_cast<char>(h.transport);
    for (const proxy_address* a : {&h.source, &h.destination}) {
        out.append(reinterpret_cast<const char*>(a->ip), sizeof a->ip);
        out += std::to_string(a->port) + "|" + std::string(a->unix_path) + "|";
    }
    out += std::string(h.tlvs.encoded());
    return out;
}

std::string describe(errc error, std::size_t consumed, const proxy_header& h) {
    return std::to_string(static_cast<int>(error)) + " " + std::to_string(consumed) + " " +
           (error == errc::ok ? describe(h) : std::string());
}

template <class Pieces>
void check_reader(std::string_view input, const proxy_result& expected, Pieces&& for_pieces) {
    proxy_reader reader;
    proxy_result last;
    std::size_t consumed = 0;
    bool stopped = false;
    for_pieces([&](std::string_view piece) {
        if (stopped) return;
        last = reader.read(piece);
        FUZZ_CHECK(last.consumed <= piece.size());
        FUZZ_CHECK(last.error != errc::need_more_data || last.consumed == piece.size());
        consumed += last.consumed;
        stopped = last.error != errc::need_more_data;
    });
    FUZZ_CHECK(describe(last.error, consumed, last.header) ==
               describe(expected.error, expected.consumed, expected.header));
    FUZZ_CHECK(reader.bytes() == input.substr(0, consumed));
    if (reader.done()) FUZZ_CHECK(describe(reader.header()) == describe(last.header));
}

void check_ip_text(const proxy_header& h) {
    if (h.family != proxy_family::inet && h.family != proxy_family::inet6) return;
    for (const proxy_address* a : {&h.source, &h.destination}) {
        const proxy_ip_text text = format_proxy_ip(h.family, *a);
        proxy_address back;
        FUZZ_CHECK(parse_proxy_ip(text.view(), h.family, back) == errc::ok);
        FUZZ_CHECK(std::memcmp(back.ip, a->ip, sizeof back.ip) == 0);
    }
}

void check_reencoding(std::string_view header_octets, const proxy_header& h) {
    std::string out;
    if (h.version == proxy_version::v1) {
        append_proxy_v1(out, h);
        const proxy_result again = parse_proxy_header(out);
        FUZZ_CHECK(again.error == errc::ok && again.consumed == out.size());
        FUZZ_CHECK(describe(again.header) == describe(h));
        return;
    }
    FUZZ_CHECK(append_proxy_v2(out, h) == errc::ok);
    const proxy_result again = parse_proxy_header(out, proxy_v2_fixed_size + 0xFFFF);
    FUZZ_CHECK(again.error == errc::ok && again.consumed == out.size());
    FUZZ_CHECK(describe(again.header) == describe(h));
    if (h.family != proxy_family::unspec) FUZZ_CHECK(out == header_octets);

    std::string with_crc;
    FUZZ_CHECK(append_proxy_v2(with_crc, h, true) == errc::ok);
    const proxy_result crc = parse_proxy_header(with_crc, proxy_v2_fixed_size + 0xFFFF);
    FUZZ_CHECK(crc.error == errc::ok && crc.consumed == with_crc.size());
    FUZZ_CHECK(h.command == proxy_command::local || h.family == proxy_family::unspec ||
               crc.header.tlvs.contains(proxy_tlv_type::crc32c));

    if (h.has_addresses() && h.transport == proxy_transport::stream &&
        h.family != proxy_family::unix_socket) {
        std::string line;
        append_proxy_v1(line, h);
        const proxy_result v1 = parse_proxy_header(line);
        FUZZ_CHECK(v1.error == errc::ok && v1.consumed == line.size());
        proxy_header expected = h;
        expected.version = proxy_version::v1;
        expected.tlvs = {};
        FUZZ_CHECK(describe(v1.header) == describe(expected));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(size == 0 ? "" : reinterpret_cast<const char*>(data), size);
    smtpp_fuzz::fuzz_input in(data, size);

    const proxy_result r = parse_proxy_header(input);
    FUZZ_CHECK(r.consumed <= input.size());
    if (r.error == errc::need_more_data) FUZZ_CHECK(r.consumed == input.size());
    if (r.error != errc::ok && r.error != errc::need_more_data) {
        FUZZ_CHECK(r.consumed >= 1);
        FUZZ_CHECK(parse_proxy_header(input.substr(0, r.consumed - 1)).error ==
                   errc::need_more_data);
    }

    check_reader(input, r, [&](auto&& fn) { smtpp_fuzz::for_each_piece(input, in, 64, fn); });
    check_reader(input, r, [&](auto&& fn) {
        for (std::size_t i = 0; i < input.size(); ++i) fn(input.substr(i, 1));
    });

    if (r.error != errc::ok) return 0;
    const std::string_view header_octets = input.substr(0, r.consumed);
    const proxy_result exact = parse_proxy_header(header_octets);
    FUZZ_CHECK(describe(exact.error, exact.consumed, exact.header) ==
               describe(r.error, r.consumed, r.header));
    check_ip_text(r.header);
    check_reencoding(header_octets, r.header);
    return 0;
}
