#include <smtpp/reply.hpp>

#include "allocation_counter.hpp"
#include "smtpp_catch.hpp"

#include <smtpp/reply_reader.hpp>

#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using smtpp::enhanced_status;
using smtpp::errc;

struct written {
    errc error;
    std::string out;
};

written reply(std::uint16_t code, enhanced_status status, std::string_view text,
              const smtpp::reply_options& options = {}) {
    written w{errc::ok, {}};
    w.error = smtpp::write_reply(w.out, code, status, text, options);
    return w;
}

written reply(const smtpp::reply_spec& spec, const smtpp::reply_options& options = {}) {
    return reply(spec.code, spec.status, spec.text, options);
}

std::vector<std::string> split_lines(std::string_view wire) {
    std::vector<std::string> lines;
    while (!wire.empty()) {
        const std::size_t end = wire.find("\r\n");
        REQUIRE(end != std::string_view::npos);
        lines.emplace_back(wire.substr(0, end));
        wire.remove_prefix(end + 2);
    }
    return lines;
}

// Checks the wire form of a reply: CRLF lines within the limit, no CR/LF inside a line, the
// same code on every line, '-' on all but the last; returns the lines' texts.
std::vector<std::string> check_wire(std::string_view wire, int code, std::size_t limit = 512) {
    std::vector<std::string> texts;
    const auto lines = split_lines(wire);
    REQUIRE_FALSE(lines.empty());
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        INFO(line);
        CHECK(line.size() + 2 <= limit);
        CHECK(line.find_first_of("\r\n") == std::string::npos);
        REQUIRE(line.size() >= 4);
        CHECK(line.substr(0, 3) == std::to_string(code));
        CHECK(line[3] == (i + 1 == lines.size() ? ' ' : '-'));
        texts.push_back(line.substr(4));
    }
    return texts;
}

std::string without_spaces(std::string s) {
    std::string r;
    for (char c : s) {
        if (c != ' ') r += c;
    }
    return r;
}

} // namespace

TEST_CASE("RFC 5321 4.2: a single-line reply is code SP text CRLF", "[reply]") {
    CHECK(reply(250, {2, 1, 0}, "Sender OK").out == "250 2.1.0 Sender OK\r\n");
    CHECK(reply(250, {}, "no status").out == "250 no status\r\n");
    CHECK(reply(smtpp::replies::ok).out == "250 2.0.0 OK\r\n");
    CHECK(reply(250, {}, "tab\tok").out == "250 tab\tok\r\n");
}

TEST_CASE("S-5321-4.2-b: the writer refuses codes outside the Reply-code grammar", "[reply]") {
    for (const int wide : {600, 199, 261, 100, 0, 65535, 1000, 560, 999}) {
        const auto code = static_cast<std::uint16_t>(wide);
        INFO(code);
        const written w = reply(code, {}, "x");
        CHECK(w.error == errc::invalid_reply_code);
        CHECK(w.out.empty());
    }
    CHECK(reply(559, {}, "x").error == errc::ok);
    CHECK(reply(200, {}, "x").error == errc::ok);
}

TEST_CASE("S-5321-4.2-i: reply text with CR, LF, NUL or controls is refused, nothing written",
          "[reply]") {
    for (std::string_view text :
         {std::string_view("ok\r\n250 injected"), std::string_view("ok\n"),
          std::string_view("ok\r"), std::string_view("a\0b", 3), std::string_view("\x1b[0m"),
          std::string_view("del\x7f"), std::string_view("\x01")}) {
        INFO(text);
        std::string out = "kept";
        CHECK(smtpp::write_reply(out, 250, {2, 0, 0}, text) == errc::invalid_reply_text);
        CHECK(out == "kept");
        const std::string_view lines[] = {"fine", text};
        CHECK(smtpp::write_reply_lines(out, 250, {}, lines, 2) == errc::invalid_reply_text);
        CHECK(out == "kept");
    }
}

TEST_CASE("S-2034-4-a: 2xx/4xx/5xx carry the status code, 3xx and greetings none", "[reply]") {
    CHECK(reply(smtpp::replies::ok).out == "250 2.0.0 OK\r\n");
    CHECK(reply(smtpp::replies::start_mail_input).out == "354 End data with <CR><LF>.<CR><LF>\r\n");
    std::string greeting;
    CHECK(smtpp::write_domain_reply(greeting, smtpp::replies::service_ready, "mx.example") ==
          errc::ok);
    CHECK(greeting == "220 mx.example ESMTP Service ready\r\n");

    smtpp::reply_options off;
    off.enhanced_status_codes = false;
    CHECK(reply(smtpp::replies::ok, off).out == "250 OK\r\n");
}

TEST_CASE("S-2034-4-b: the status class must equal the reply's first digit", "[reply]") {
    CHECK(reply(451, {5, 1, 1}, "x").error == errc::invalid_enhanced_status);
    CHECK(reply(250, {4, 0, 0}, "x").error == errc::invalid_enhanced_status);
    CHECK(reply(354, {2, 0, 0}, "x").error == errc::invalid_enhanced_status);
    CHECK(reply(334, {5, 0, 0}, "x").error == errc::invalid_enhanced_status);
    CHECK(reply(550, {5, 1000, 0}, "x").error == errc::invalid_enhanced_status);
    CHECK(reply(550, {5, 1, 1}, "x").error == errc::ok);
    // Checked even when not written: a mismatch is a bug whatever the configuration.
    smtpp::reply_options off;
    off.enhanced_status_codes = false;
    CHECK(reply(451, {5, 1, 1}, "x", off).error == errc::invalid_enhanced_status);
}

TEST_CASE("S-2034-4-c: every line of a multi-line reply starts with the same status code",
          "[reply]") {
    std::string out;
    CHECK(smtpp::write_reply_lines(out, 550, {5, 1, 1}, {"a", "b"}) == errc::ok);
    CHECK(out == "550-5.1.1 a\r\n550 5.1.1 b\r\n");

    out.clear();
    const std::string long_text(1500, 'x');
    CHECK(smtpp::write_reply(out, 550, {5, 1, 1}, long_text) == errc::ok);
    for (const std::string& text : check_wire(out, 550)) CHECK(text.substr(0, 6) == "5.1.1 ");
}

TEST_CASE("S-3463-2-c: unregistered status codes are refused unless allowed", "[reply]") {
    CHECK(reply(550, {5, 9, 99}, "x").error == errc::invalid_enhanced_status);
    smtpp::reply_options lax;
    lax.allow_unregistered_status = true;
    CHECK(reply(550, {5, 9, 99}, "x", lax).out == "550 5.9.99 x\r\n");
}

TEST_CASE("S-4954-4-d: an empty 334 challenge is '334 ' with the space", "[reply]") {
    CHECK(reply(smtpp::replies::auth_continue).out == "334 \r\n");
    CHECK(reply(334, {}, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+").out ==
          "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n");
}

TEST_CASE("S-5321-4.5.3.1.5-a: long text wraps at spaces so no line exceeds the limit", "[reply]") {
    std::string text;
    while (text.size() < 2000) text += "word" + std::to_string(text.size()) + " ";
    text.pop_back();
    const written w = reply(550, {5, 7, 1}, text);
    REQUIRE(w.error == errc::ok);
    const auto texts = check_wire(w.out, 550);
    CHECK(texts.size() >= 4);
    std::string joined;
    for (const std::string& t : texts) {
        REQUIRE(t.substr(0, 6) == "5.7.1 ");
        joined += (joined.empty() ? "" : " ") + t.substr(6);
    }
    CHECK(joined == text); // cut only at spaces, each separating space dropped once

    // A word longer than a line is cut hard.
    const written hard = reply(250, {}, std::string(2000, 'y'));
    REQUIRE(hard.error == errc::ok);
    std::string all;
    for (const std::string& t : check_wire(hard.out, 250)) {
        CHECK(t.size() == std::min<std::size_t>(506, 2000 - all.size()));
        all += t;
    }
    CHECK(all == std::string(2000, 'y'));
}

TEST_CASE("S-5321-4.5.3.1.5-a: a text that just fits stays on one 512-octet line", "[reply]") {
    const written w = reply(250, {2, 0, 0}, std::string(500, 'a')); // 4 + 6 + 500 + 2
    CHECK(w.out.size() == 512);
    CHECK(split_lines(w.out).size() == 1);
    CHECK(split_lines(reply(250, {2, 0, 0}, std::string(501, 'a')).out).size() == 2);

    smtpp::reply_options small;
    small.line_limit = 40;
    const written s =
        reply(250, {}, "the quick brown fox jumps over the lazy dog again and again", small);
    REQUIRE(s.error == errc::ok);
    check_wire(s.out, 250, 40);

    small.line_limit = 19; // "250-2.0.0 " + CRLF leaves 7 octets
    CHECK(reply(250, {2, 0, 0}, "x", small).error == errc::invalid_argument);
}

TEST_CASE("S-6531-3.7.4.2-b: UTF-8 text only where allowed, and only well-formed", "[reply]") {
    const std::string utf8 = "J\xC3\xB8"
                             "ran <j\xC3\xB8"
                             "ran@bl\xC3\xA5"
                             "b\xC3\xA6"
                             "rsyltet\xC3\xB8"
                             "y.example>";
    CHECK(reply(250, {2, 1, 5}, utf8).error == errc::invalid_reply_text);
    smtpp::reply_options allowed;
    allowed.allow_utf8 = true;
    CHECK(reply(250, {2, 1, 5}, utf8, allowed).out == "250 2.1.5 " + utf8 + "\r\n");
    CHECK(reply(250, {}, "\xC0\x80", allowed).error == errc::invalid_utf8);
    CHECK(reply(250, {}, "\xED\xA0\x80", allowed).error == errc::invalid_utf8);
    CHECK(reply(250, {}, "ok\xC3", allowed).error == errc::invalid_utf8);
    CHECK(reply(250, {}, "\xC3\xB8\r\n", allowed).error == errc::invalid_reply_text);

    // A hard cut never splits a UTF-8 sequence.
    std::string long_word;
    while (long_word.size() < 1500) long_word += "\xE4\xBE\x8B"; // U+4F8B
    const written w = reply(250, {}, long_word, allowed);
    REQUIRE(w.error == errc::ok);
    for (const std::string& t : check_wire(w.out, 250)) CHECK(smtpp::is_valid_utf8(t));
}

TEST_CASE("S-5321-4.2-h: the greeting starts with the domain, also when wrapped", "[reply]") {
    std::string out;
    const std::string text(700, 'g');
    const smtpp::reply_spec greeting{220, {}, text};
    CHECK(smtpp::write_domain_reply(out, greeting, "mx.example") == errc::ok);
    const auto texts = check_wire(out, 220);
    CHECK(texts.front().substr(0, 11) == "mx.example ");

    out.clear();
    CHECK(smtpp::write_domain_reply(out, smtpp::replies::closing, "mx.example") == errc::ok);
    CHECK(out == "221 2.0.0 mx.example Bye\r\n");
    CHECK(smtpp::write_domain_reply(out, smtpp::replies::closing, "") == errc::invalid_reply_text);
    CHECK(smtpp::write_domain_reply(out, smtpp::replies::closing, "mx example") ==
          errc::invalid_reply_text);
    CHECK(smtpp::write_domain_reply(out, smtpp::replies::closing, "mx\r\n.example") ==
          errc::invalid_reply_text);
    CHECK(smtpp::write_domain_reply(out, smtpp::replies::closing, std::string(600, 'd')) ==
          errc::invalid_reply_text);
}

TEST_CASE("RFC 5321 4.2.1: multi-line replies", "[reply]") {
    std::string out;
    const std::string_view lines[] = {"first", "", "last"};
    CHECK(smtpp::write_reply_lines(out, 214, {2, 0, 0}, lines, 3) == errc::ok);
    CHECK(out == "214-2.0.0 first\r\n214-2.0.0 \r\n214 2.0.0 last\r\n");
    CHECK(smtpp::write_reply_lines(out, 214, {2, 0, 0}, lines, 0) == errc::invalid_argument);
}

TEST_CASE("RFC 3463, RFC 5248: every canned reply is valid and registered", "[reply]") {
    namespace r = smtpp::replies;
    const smtpp::reply_spec all[] = {r::service_ready,
                                     r::closing,
                                     r::shutting_down,
                                     r::too_many_errors,
                                     r::timeout,
                                     r::does_not_accept_mail,
                                     r::ok,
                                     r::sender_ok,
                                     r::recipient_ok,
                                     r::message_accepted,
                                     r::chunk_accepted,
                                     r::help,
                                     r::cannot_vrfy,
                                     r::ready_to_start_tls,
                                     r::auth_succeeded,
                                     r::start_mail_input,
                                     r::auth_continue,
                                     r::local_error,
                                     r::insufficient_storage,
                                     r::too_many_recipients,
                                     r::tls_not_available,
                                     r::auth_temporary_failure,
                                     r::password_transition_needed,
                                     r::command_unrecognized,
                                     r::line_too_long,
                                     r::auth_line_too_long,
                                     r::syntax_error,
                                     r::bad_arguments,
                                     r::bad_sender_syntax,
                                     r::bad_recipient_syntax,
                                     r::auth_bad_response,
                                     r::auth_cancelled,
                                     r::auth_initial_response_not_allowed,
                                     r::not_implemented,
                                     r::bad_sequence,
                                     r::already_authenticated,
                                     r::parameter_not_implemented,
                                     r::auth_mechanism_unrecognized,
                                     r::parameter_unsupported,
                                     r::must_starttls,
                                     r::auth_required,
                                     r::auth_too_weak,
                                     r::auth_invalid,
                                     r::encryption_required,
                                     r::security_required,
                                     r::relay_denied,
                                     r::mailbox_unavailable,
                                     r::mailbox_name_not_allowed,
                                     r::no_valid_recipients,
                                     r::transaction_failed,
                                     r::message_too_big,
                                     r::bad_line_endings,
                                     r::non_ascii_sender,
                                     r::non_ascii_recipient,
                                     r::utf8_reply_required,
                                     r::utf8_message_refused,
                                     r::recipient_domain_no_mail};
    for (const smtpp::reply_spec& spec : all) {
        INFO(spec.code << " " << spec.text);
        const written w = reply(spec);
        CHECK(w.error == errc::ok);
        CHECK(split_lines(w.out).size() == 1);
        const bool intermediate = spec.code / 100 == 3;
        const bool greeting = spec.code == 220 && spec.status.empty();
        CHECK(spec.status.empty() == (intermediate || greeting));
        if (!spec.status.empty()) CHECK(smtpp::is_registered(spec.status));
    }
    CHECK(r::too_many_recipients.code == 452); // S-5321-4.5.3.1.10-a: 452, not 552
    CHECK(r::auth_mechanism_unrecognized.status == enhanced_status{5, 5, 4}); // S-4954-4-a
    CHECK(r::auth_invalid.status == enhanced_status{5, 7, 8});                // S-4954-6-a
    CHECK(r::must_starttls.status == enhanced_status{5, 7, 0});               // S-3207-4-c
}

TEST_CASE("S-5321-4.2.4-b: unimplemented is 502, unrecognized is 500", "[reply]") {
    CHECK(reply(smtpp::replies::not_implemented).out == "502 5.5.1 Command not implemented\r\n");
    CHECK(reply(smtpp::replies::command_unrecognized).out == "500 5.5.2 Command unrecognized\r\n");
}

TEST_CASE("writer fuzz: random texts never give a long line or a CR/LF inside one", "[reply]") {
    std::mt19937 rng(5321);
    const std::string alphabet = "abcdefghij     \t.,;:<>()[]=+-_/ABCDEFGHIJ0123456789";
    for (int round = 0; round < 400; ++round) {
        std::string text;
        const std::size_t length = rng() % 3000;
        const bool long_words = rng() % 4 == 0;
        for (std::size_t i = 0; i < length; ++i) {
            const char c = alphabet[rng() % alphabet.size()];
            text += long_words && c == ' ' ? 'w' : c;
        }
        smtpp::reply_options options;
        options.line_limit = 30 + rng() % 600;
        const bool with_status = rng() % 2 == 0;
        const written w =
            reply(451, with_status ? enhanced_status{4, 3, 0} : enhanced_status{}, text, options);
        INFO(text);
        REQUIRE(w.error == errc::ok);
        std::string back;
        for (const std::string& t : check_wire(w.out, 451, options.line_limit)) {
            back += with_status ? t.substr(6) : t;
        }
        CHECK(without_spaces(back) == without_spaces(text));
    }
}

TEST_CASE("writer output reads back through the reply reader", "[reply]") {
    std::string text;
    for (int i = 0; i < 300; ++i) text += "lorem ipsum ";
    const written w = reply(554, {5, 5, 1}, text);
    REQUIRE(w.error == errc::ok);
    smtpp::reply_reader reader;
    const smtpp::read_result r = reader.read(w.out);
    REQUIRE(r.error == errc::ok);
    CHECK(r.consumed == w.out.size());
    CHECK(r.reply.code == 554);
    CHECK(r.reply.status == enhanced_status{5, 5, 1});
    CHECK(r.reply.line_count > 1);
}

TEST_CASE("the writer allocates nothing when the output has room", "[reply][allocation]") {
    std::string out;
    out.reserve(8192);
    const std::string long_text(1800, 'z');
    const std::size_t allocations = smtpp_test::allocations_during([&] {
        CHECK(smtpp::write_reply(out, smtpp::replies::bad_sequence) == errc::ok);
        CHECK(smtpp::write_reply(out, 250, {2, 0, 0}, long_text) == errc::ok);
        CHECK(smtpp::write_reply_lines(out, 250, {}, {"a", "b", "c"}) == errc::ok);
        CHECK(smtpp::write_domain_reply(out, smtpp::replies::service_ready, "mx.example") ==
              errc::ok);
    });
    CHECK(allocations == 0);
}
