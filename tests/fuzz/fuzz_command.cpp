// Fuzz target: parse_command (include/smtpp/command.hpp).
//
// Input: byte 0 chooses the option set (bit 0 lenient_space_after_colon, 1 SIZE, 2 8BITMIME,
// 3 BINARYMIME, 4 SMTPUTF8 (+ UTF-8 RCPT addresses), 5 DSN, 6 AUTH, 7 allow_unknown_params);
// the rest is one command line without its CRLF.
//
// Invariants:
//  - every view in the result is empty or lies inside the line (no view into a temporary);
//  - ok() <=> reply_code 0, empty status, "" text; an error carries a 5yz code from the set
//    the header documents (500/501/502/553/555; 552 for a BDAT size past 2^64-1), a 5.x.x status
//    and a printable one-line text;
//  - the verb agrees with a plain reference lookup of the first token (any case);
//  - an accepted line holds no NUL, and no CR/LF unless it is a NOOP (whose argument is
//    ignored; the session's framer rejects such lines anyway);
//  - accepted MAIL/RCPT carry a path "<...>", RCPT never the null path; BDAT's size and AUTH's
//    initial response agree with reference parsers written here;
//  - monotonicity: a line accepted under tiny address limits is accepted under the defaults,
//    and a line accepted with some extensions offered is accepted, with the same meaning, when
//    every extension and leniency is on (leniencies and offers only ever widen acceptance).
#include <smtpp/command.hpp>

#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

using namespace smtpp;
using smtpp_fuzz::escaped;

namespace {

bool inside(std::string_view view, std::string_view line) {
    if (view.empty()) return true;
    const char* b = line.data();
    return view.data() >= b && view.data() + view.size() <= b + line.size();
}

bool ieq(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

verb reference_verb_token(std::string_view token) {
    static constexpr struct {
        const char* name;
        verb kind;
    } table[] = {
        {"HELO", verb::helo},          {"EHLO", verb::ehlo},          {"LHLO", verb::lhlo},
        {"MAIL", verb::mail},          {"RCPT", verb::rcpt},          {"DATA", verb::data},
        {"BDAT", verb::bdat},          {"RSET", verb::rset},          {"NOOP", verb::noop},
        {"QUIT", verb::quit},          {"VRFY", verb::vrfy},          {"EXPN", verb::expn},
        {"HELP", verb::help},          {"STARTTLS", verb::starttls},  {"AUTH", verb::auth},
        {"TURN", verb::unimplemented}, {"ETRN", verb::unimplemented}, {"ATRN", verb::unimplemented},
        {"SEND", verb::unimplemented}, {"SOML", verb::unimplemented}, {"SAML", verb::unimplemented},
        {"BURL", verb::unimplemented},
    };
    for (const auto& entry : table) {
        if (ieq(token, entry.name)) return entry.kind;
    }
    return verb::unknown;
}

// The verb of a line, and whether it is "glued": a known 4- or 8-letter verb followed by
// neither SP nor a letter/digit ("RSET\tx", "DATA/now"), which the parser answers 501.
verb reference_verb(std::string_view line, bool& glued) {
    std::size_t end = line.size();
    while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
    const std::string_view text = line.substr(0, end);
    const std::string_view token = text.substr(0, text.find(' '));
    glued = false;
    const verb whole = reference_verb_token(token);
    if (whole != verb::unknown) return whole;
    for (std::size_t length : {std::size_t{4}, std::size_t{8}}) {
        if (token.size() <= length) continue;
        const auto next = static_cast<unsigned char>(token[length]);
        const bool alnum =
            (next >= '0' && next <= '9') || ((next | 0x20u) >= 'a' && (next | 0x20u) <= 'z');
        if (alnum || next >= 0x80 || next == 0) continue;
        const verb prefix = reference_verb_token(token.substr(0, length));
        if (prefix != verb::unknown) {
            glued = true;
            return prefix;
        }
    }
    return verb::unknown;
}

bool reference_base64(std::string_view s) {
    if (s.empty() || s.size() % 4 != 0) return false;
    std::size_t pad = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                              (c >= '0' && c <= '9') || c == '+' || c == '/';
        if (c == '=') {
            if (i + 2 < s.size()) return false;
            ++pad;
        } else if (!alphabet || pad != 0) {
            return false;
        }
    }
    return pad <= 2;
}

void check_views(const command_result& r, std::string_view line) {
    const command& c = r.cmd;
    FUZZ_CHECK(c.line.data() == line.data() && c.line.size() == line.size());
    const std::string_view views[] = {
        c.verb_text,
        c.argument,
        c.domain,
        c.address.text,
        c.address.source_route,
        c.address.box.local_part,
        c.address.box.domain,
        c.envid,
        c.auth_param,
        c.orcpt_type,
        c.orcpt_address,
        c.auth_mechanism,
        c.auth_initial_response,
        c.vrfy_argument,
    };
    for (std::string_view v : views) FUZZ_CHECK(inside(v, line));
    FUZZ_CHECK(c.extra_count <= max_extra_params);
    for (std::size_t i = 0; i < c.extra_count; ++i) {
        FUZZ_CHECK(inside(c.extra_param(i).keyword, line));
        FUZZ_CHECK(inside(c.extra_param(i).value, line));
        FUZZ_CHECK(!c.extra_param(i).keyword.empty());
        FUZZ_CHECK(c.extra_param(i).has_value || c.extra_param(i).value.empty());
    }
}

void check_result(const command_result& r, std::string_view line) {
    check_views(r, line);
    const command& c = r.cmd;
    bool glued = false;
    FUZZ_CHECK(c.kind == reference_verb(line, glued));
    if (glued) FUZZ_CHECK(r.error == errc::syntax_error && r.reply.code == 501);
    if (r.ok()) {
        FUZZ_CHECK(r.reply.code == 0 && r.reply.status.empty() && r.reply.text.empty());
        FUZZ_CHECK(c.kind != verb::unknown && c.kind != verb::unimplemented);
        FUZZ_CHECK(line.find('\0') == std::string_view::npos);
        if (c.kind != verb::noop) {
            FUZZ_CHECK(line.find('\r') == std::string_view::npos);
            FUZZ_CHECK(line.find('\n') == std::string_view::npos);
        }
        if (c.kind == verb::mail || c.kind == verb::rcpt) {
            const std::string_view t = c.address.text;
            FUZZ_CHECK(t.size() >= 2 && t.front() == '<' && t.back() == '>');
            FUZZ_CHECK(c.address.is_null == (t == "<>"));
            if (c.kind == verb::rcpt) FUZZ_CHECK(!c.address.is_null);
            if (c.kind == verb::mail) FUZZ_CHECK(!c.address.is_postmaster);
        }
        if (c.kind == verb::helo || c.kind == verb::ehlo || c.kind == verb::lhlo)
            FUZZ_CHECK(!c.domain.empty());
        if (c.kind == verb::bdat) {
            std::uint64_t n = 0;
            std::string_view digits = c.argument.substr(0, c.argument.find(' '));
            FUZZ_CHECK(!digits.empty());
            for (char d : digits) {
                FUZZ_CHECK(d >= '0' && d <= '9');
                FUZZ_CHECK(n <= (UINT64_MAX - static_cast<std::uint64_t>(d - '0')) / 10);
                n = n * 10 + static_cast<std::uint64_t>(d - '0');
            }
            FUZZ_CHECK(n == c.bdat_size);
            FUZZ_CHECK(c.bdat_last == (digits.size() != c.argument.size()));
        }
        if (c.kind == verb::auth) {
            FUZZ_CHECK(!c.auth_mechanism.empty() && c.auth_mechanism.size() <= 20);
            if (c.has_initial_response && !c.auth_initial_response.empty()) {
                FUZZ_CHECK(reference_base64(c.auth_initial_response));
            }
        }
        if (c.has_size) FUZZ_CHECK(c.kind == verb::mail);
    } else {
        const auto code = r.reply.code;
        FUZZ_CHECK(code == 500 || code == 501 || code == 502 || code == 553 || code == 555 ||
                   (code == 552 && r.error == errc::number_overflow && c.kind == verb::bdat));
        FUZZ_CHECK(r.reply.status.cls == 5);
        const std::string_view text = r.reply.text;
        FUZZ_CHECK(!text.empty());
        for (char ch : text) FUZZ_CHECK(ch >= 0x20 && ch < 0x7f);
        if (c.kind == verb::unknown) FUZZ_CHECK(code == 500 && r.error == errc::unknown_command);
        if (c.kind == verb::unimplemented && !glued)
            FUZZ_CHECK(code == 502 && r.error == errc::unimplemented_command);
    }
}

// Fields whose meaning must not change when options only widen acceptance.
void check_same_meaning(const command_result& a, const command_result& b, std::string_view line) {
    const command& x = a.cmd;
    const command& y = b.cmd;
    const bool same = x.kind == y.kind && x.argument == y.argument && x.domain == y.domain &&
                      x.address.text == y.address.text && x.address.is_null == y.address.is_null &&
                      x.address.box.local_part == y.address.box.local_part &&
                      x.address.box.domain == y.address.box.domain && x.has_size == y.has_size &&
                      x.size == y.size && x.body == y.body && x.smtputf8 == y.smtputf8 &&
                      x.ret == y.ret && x.envid == y.envid && x.notify == y.notify &&
                      x.orcpt_address == y.orcpt_address && x.bdat_size == y.bdat_size &&
                      x.bdat_last == y.bdat_last && x.auth_mechanism == y.auth_mechanism &&
                      x.auth_initial_response == y.auth_initial_response &&
                      x.extra_count == y.extra_count;
    if (!same) std::fprintf(stderr, "meaning changed for line \"%s\"\n", escaped(line).c_str());
    FUZZ_CHECK(same);
}

command_options options_from(std::uint8_t bits) {
    command_options o;
    o.lenient_space_after_colon = (bits & 1u) != 0;
    o.offer.size = (bits & 2u) != 0;
    o.offer.eight_bit_mime = (bits & 4u) != 0;
    o.offer.binarymime = (bits & 8u) != 0;
    o.offer.smtputf8 = (bits & 16u) != 0;
    o.address.allow_utf8 = o.offer.smtputf8;
    o.offer.dsn = (bits & 32u) != 0;
    o.auth = (bits & 64u) != 0;
    o.allow_unknown_params = (bits & 128u) != 0;
    return o;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t bits = data[0];
    const std::string_view line(reinterpret_cast<const char*>(data) + 1, size - 1);

    const command_options chosen = options_from(bits);
    command_options tiny = chosen;
    tiny.address.max_local_part = 8;
    tiny.address.max_domain = 16;
    tiny.address.max_path = 24;
    const command_options widest = options_from(0xff);

    const command_result r_chosen = parse_command(line, chosen);
    const command_result r_tiny = parse_command(line, tiny);
    const command_result r_widest = parse_command(line, widest);
    check_result(r_chosen, line);
    check_result(r_tiny, line);
    check_result(r_widest, line);

    if (r_tiny.ok()) {
        if (!r_chosen.ok())
            std::fprintf(stderr, "tiny limits accept, defaults reject: \"%s\"\n",
                         escaped(line).c_str());
        FUZZ_CHECK(r_chosen.ok());
        check_same_meaning(r_tiny, r_chosen, line);
    }
    if (r_chosen.ok()) {
        if (!r_widest.ok()) {
            std::fprintf(stderr, "options 0x%02x accept, widest options reject (%s): \"%s\"\n",
                         bits, to_string(r_widest.error), escaped(line).c_str());
        }
        FUZZ_CHECK(r_widest.ok());
        check_same_meaning(r_chosen, r_widest, line);
    }
    // Pure function: the same input gives the same answer.
    const command_result again = parse_command(line, chosen);
    FUZZ_CHECK(again.error == r_chosen.error && again.reply.code == r_chosen.reply.code);
    return 0;
}
