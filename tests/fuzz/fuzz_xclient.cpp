// Fuzz target: XCLIENT and XFORWARD (include/smtpp/xclient.hpp).
//
// Input: byte 0 chooses the command (bit 0: XFORWARD) and the leniency (bit 1:
// lenient_lower_hex); the rest is the argument of one command line, and the same octets also
// steer a request for the writer (fuzz_input: values from the front, decisions from the end).
//
// Invariants, parser:
//  - the input is read where it lies (ASan: never past its end); the result is the same twice;
//  - an error leaves no attribute, comes with a 500/501 reply whose text is printable, and its
//    token is empty or a view into the argument;
//  - an accepted command holds only attributes of its verb; no decoded value is empty, longer
//    than 255 octets or holds a control (CR, LF, NUL, ...); text views point into the result;
//  - the same argument behind the verb through parse_command (unknown verb) parses the same;
//  - accepted attributes re-encode to ONE line of at most 512 octets (re-encoding never
//    lengthens a value) that parses to the same attributes.
// Invariants, writer (request of arbitrary octets, line limit 0-600):
//  - on error nothing is written; on success every line is at most the limit with its CRLF,
//    CR and LF appear only as its end and NUL nowhere, each line parses, the lines together
//    carry exactly the request, write_xclient_line(i) gives line i and count_xclient_lines
//    the count.
#include <smtpp/xclient.hpp>

#include <smtpp/command.hpp>

#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace smtpp;
using smtpp_fuzz::escaped;

namespace {

bool inside(std::string_view view, const void* begin, std::size_t size) {
    if (view.empty()) return true;
    const auto* b = static_cast<const char*>(begin);
    return view.data() >= b && view.data() + view.size() <= b + size;
}

bool has_control(std::string_view s) {
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) return true;
    }
    return false;
}

void check_parsed(const xclient_parse_result& r, const xclient_attributes& a, xclient_verb verb,
                  std::string_view argument) {
    FUZZ_CHECK(inside(r.token, argument.data(), argument.size()));
    FUZZ_CHECK(a.verb() == verb);
    if (!r.ok()) {
        FUZZ_CHECK(a.present().empty());
        FUZZ_CHECK(r.reply.code == 500 || r.reply.code == 501);
        FUZZ_CHECK(r.reply.status.cls == 5);
        FUZZ_CHECK(!r.reply.text.empty());
        for (const char c : r.reply.text) FUZZ_CHECK(c >= 0x20 && c < 0x7f);
        return;
    }
    FUZZ_CHECK(r.reply.code == 0);
    FUZZ_CHECK(!a.present().empty());
    FUZZ_CHECK((a.present() & xclient_attributes_of(verb)) == a.present());
    for (std::size_t i = 0; i < xclient_attribute_count; ++i) {
        const auto which = static_cast<xclient_attribute>(i);
        const xclient_value v = a.get(which);
        FUZZ_CHECK(v.present() == a.has(which));
        if (v.kind != xclient_value_kind::text) {
            FUZZ_CHECK(v.text.empty());
            continue;
        }
        FUZZ_CHECK(!v.text.empty() && v.text.size() <= xclient_value_limit);
        FUZZ_CHECK(!has_control(v.text));
        FUZZ_CHECK(inside(v.text, &a, sizeof a));
    }
    if (a.has(xclient_attribute::port) &&
        a.get(xclient_attribute::port).kind == xclient_value_kind::text) {
        std::uint32_t n = 0;
        for (const char c : a.get(xclient_attribute::port).text)
            n = n * 10 + static_cast<std::uint32_t>(c - '0');
        FUZZ_CHECK(n == a.port());
    }
}

// The argument of a written line, checked for framing; empty when the line is malformed.
std::string_view argument_of(std::string_view line, xclient_verb verb) {
    const std::string_view name = to_string(verb);
    FUZZ_CHECK(line.size() > name.size() + 2);
    FUZZ_CHECK(line.substr(0, name.size()) == name && line[name.size()] == ' ');
    return line.substr(name.size() + 1);
}

void check_reencoded(const xclient_attributes& a, xclient_verb verb) {
    std::string wire;
    std::size_t lines = 0;
    const errc e = write_xclient(wire, xclient_request::of(a), lines);
    if (e != errc::ok) std::fprintf(stderr, "re-encoding refused: %s\n", to_string(e));
    FUZZ_CHECK(e == errc::ok && lines == 1);
    FUZZ_CHECK(wire.size() <= xclient_line_limit);
    FUZZ_CHECK(wire.size() >= 2 && wire.compare(wire.size() - 2, 2, "\r\n") == 0);
    const std::string_view line(wire.data(), wire.size() - 2);
    xclient_attributes again;
    const xclient_parse_result r = parse_xclient(verb, argument_of(line, verb), again);
    if (!r.ok() || again != a)
        std::fprintf(stderr, "re-encoded \"%s\" reads back differently (%s)\n",
                     escaped(line).c_str(), to_string(r.error));
    FUZZ_CHECK(r.ok() && again == a);
}

void check_through_command_parser(std::string_view argument, xclient_verb verb,
                                  const xclient_parse_result& direct, const xclient_attributes& a) {
    if (!argument.empty() && (argument.back() == ' ' || argument.back() == '\t'))
        return; // parse_command strips trailing white space
    const std::string line = std::string(to_string(verb)) + " " + std::string(argument);
    const command_result c = parse_command(line, command_options{});
    FUZZ_CHECK(c.error == errc::unknown_command);
    xclient_verb found = xclient_verb::xclient;
    FUZZ_CHECK(lookup_xclient_verb(c.cmd.verb_text, found) && found == verb);
    FUZZ_CHECK(c.cmd.argument == argument);
    xclient_attributes b;
    const xclient_parse_result r = parse_xclient(verb, c.cmd.argument, b);
    FUZZ_CHECK(r.error == direct.error);
    if (r.ok()) FUZZ_CHECK(a == b);
}

// A request from the fuzzer's octets: per attribute absent, a special or raw octets.
xclient_request request_from(smtpp_fuzz::fuzz_input& in, xclient_verb verb) {
    xclient_request request(in.take_bool() ? xclient_verb::xforward : verb);
    for (std::size_t i = 0; i < xclient_attribute_count; ++i) {
        const auto which = static_cast<xclient_attribute>(i);
        switch (in.take_u8() % 5) {
        case 0:
        case 1:
            break;
        case 2:
            request.set(which, xclient_value::unavailable());
            break;
        case 3:
            request.set(which, xclient_value::tempunavail());
            break;
        default:
            request.set(which, xclient_value::of(in.take_some(300)));
            break;
        }
    }
    return request;
}

void check_writer(const xclient_request& request, std::size_t limit) {
    std::string wire;
    std::size_t lines = 99;
    const errc e = write_xclient(wire, request, lines, limit);
    std::size_t counted = 0;
    FUZZ_CHECK(count_xclient_lines(request, counted, limit) == e);
    if (e != errc::ok) {
        FUZZ_CHECK(wire.empty() && lines == 0);
        std::string one;
        FUZZ_CHECK(write_xclient_line(one, request, 0, limit) == e && one.empty());
        return;
    }
    FUZZ_CHECK(lines == counted);
    FUZZ_CHECK(lines <= request.present().size());
    FUZZ_CHECK(wire.find('\0') == std::string::npos);
    xclient_request seen(request.verb());
    std::string_view rest = wire;
    for (std::size_t i = 0; i < lines; ++i) {
        const std::size_t end = rest.find("\r\n");
        FUZZ_CHECK(end != std::string_view::npos && end + 2 <= limit);
        const std::string_view line = rest.substr(0, end);
        FUZZ_CHECK(line.find_first_of("\r\n") == std::string_view::npos);
        std::string single;
        FUZZ_CHECK(write_xclient_line(single, request, i, limit) == errc::ok);
        FUZZ_CHECK(single == rest.substr(0, end + 2));
        xclient_attributes parsed;
        const xclient_parse_result r =
            parse_xclient(request.verb(), argument_of(line, request.verb()), parsed);
        if (!r.ok())
            std::fprintf(stderr, "written line \"%s\" refused: %s\n", escaped(line).c_str(),
                         to_string(r.error));
        FUZZ_CHECK(r.ok());
        for (std::size_t j = 0; j < xclient_attribute_count; ++j) {
            const auto which = static_cast<xclient_attribute>(j);
            if (!parsed.has(which)) continue;
            FUZZ_CHECK(!seen.get(which).present()); // each attribute on one line only
            FUZZ_CHECK(parsed.get(which) == request.get(which));
            seen.set(which, request.get(which));
        }
        rest.remove_prefix(end + 2);
    }
    FUZZ_CHECK(rest.empty());
    FUZZ_CHECK(seen.present() == request.present());
    std::string past;
    FUZZ_CHECK(write_xclient_line(past, request, lines, limit) == errc::invalid_argument);
    FUZZ_CHECK(past.empty());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const xclient_verb verb = (data[0] & 1u) ? xclient_verb::xforward : xclient_verb::xclient;
    xclient_options options;
    options.lenient_lower_hex = (data[0] & 2u) != 0;
    const std::string_view argument(reinterpret_cast<const char*>(data) + 1, size - 1);

    xclient_attributes a;
    const xclient_parse_result r = parse_xclient(verb, argument, a, options);
    check_parsed(r, a, verb, argument);
    xclient_attributes twice;
    const xclient_parse_result r2 = parse_xclient(verb, argument, twice, options);
    FUZZ_CHECK(r2.error == r.error && r2.token == r.token && twice == a);
    if (!options.lenient_lower_hex) check_through_command_parser(argument, verb, r, a);
    if (r.ok()) check_reencoded(a, verb);

    smtpp_fuzz::fuzz_input in(data + 1, size - 1);
    const xclient_request request = request_from(in, verb);
    check_writer(request, in.take_range(0, 600));
    return 0;
}
