/// \file
/// smtpp: one SMTP/LMTP command line (without its CRLF) -> a typed `command`, or the reply the
/// line calls for (RFC 5321 4.1.1-4.1.2, 4.3.2 and the extensions' parameters).
///
/// parse_command is pure: no allocation, no exceptions, views into the caller's line. It judges
/// syntax only; sequencing, policy (504 for an unknown AUTH mechanism, 552 for SIZE above the
/// limit, 530 ...) and line length belong to the session.
///
/// Reply codes and enhanced status codes (RFC 3463) it chooses:
/// ```unparsed
///   500 5.5.2  not a command: unknown verb, empty line, NUL or 8-bit octets in the verb
///   501 5.5.2  a known verb glued to a control or punctuation octet (`"RSET\nRSET"`)
///   502 5.5.1  recognised but not implemented (TURN, ETRN, ATRN, SEND, SOML, SAML, BURL)
///   501 5.5.2  the argument does not match the command's grammar (missing, unexpected,
///              malformed, AUTH base64 per RFC 4954 4, esmtp-param syntax per RFC 5321 4.1.2)
///   501 5.5.4  well-formed parameter with a bad value, duplicated, or too many parameters
///   501 5.1.7 / 5.1.3  MAIL / RCPT address syntax or length (RFC 5321 4.1.2, 4.5.3.1)
///   553 5.6.7  8-bit address without SMTPUTF8 in effect (RFC 6531 3.5)
///   555 5.5.4  parameter of an extension not offered, or unknown (RFC 5321 4.1.1.11)
/// ```
///
/// Decisions where the texts leave room:
///   - unknown MAIL/RCPT parameters are 555 unless command_options::allow_unknown_params, which
///     keeps them in command::extra for the application (conformance S-5321-4.1.1.11-a);
///   - SIZE is `1*20DIGIT`: more digits are 501; a well-formed value above 2^64-1 reads as
///     2^64-1, a size above every limit (552 from the session), never a syntax error;
///   - ENVID/ORCPT xtext wants upper-case hex (RFC 3461 4), AUTH= takes either case (RFC 4954 8);
///   - HELO takes a Domain only (RFC 5321 4.1.1.1), EHLO/LHLO also an address literal; the
///     name must be ASCII (RFC 6531 3.7.1);
///   - VRFY/EXPN/HELP take free text (printable ASCII or UTF-8), NOOP anything but NUL;
///   - within one line, the first error found wins: path, then parameter syntax, then each
///     parameter in order.
#ifndef SMTPP_COMMAND_HPP
#define SMTPP_COMMAND_HPP

#include <smtpp/base64.hpp>
#include <smtpp/detail/ascii.hpp>
#include <smtpp/detail/number.hpp>
#include <smtpp/error.hpp>
#include <smtpp/extensions.hpp>
#include <smtpp/grammar.hpp>
#include <smtpp/limits.hpp>
#include <smtpp/macros.hpp>
#include <smtpp/params.hpp>
#include <smtpp/reply.hpp>
#include <smtpp/status.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

/// The command a line names, case-insensitively; command::kind.
enum class verb {
    helo,
    ehlo,
    lhlo,
    mail,
    rcpt,
    data,
    bdat,
    rset,
    noop,
    quit,
    vrfy,
    expn,
    help,
    starttls,
    auth,
    unimplemented, ///< known verbs smtpp does not do (TURN, ETRN, ...): 502
    unknown,       ///< 500
};

/// Capacity of command::extra; one more unknown parameter is a 501 (too_many_parameters).
inline constexpr std::size_t max_extra_params = 8;

/// One MAIL or RCPT parameter, `keyword[=value]`, as views into the command line.
struct esmtp_param {
    std::string_view keyword; ///< as written (compare with detail::iequals)
    std::string_view value;   ///< empty when has_value is false
    bool has_value = false;   ///< the parameter has an "=" (its value may still be empty)
};

namespace detail {

// One esmtp-param found by the syntax pass. Plain pointers keep an array of these trivially
// constructible, so a parameter list costs nothing to set up.
struct raw_param {
    const char* begin;  // the keyword
    const char* equals; // the '=', or `end` when there is no value
    const char* end;

    [[nodiscard]] esmtp_param view() const noexcept {
        const auto keyword_size = static_cast<std::size_t>(equals - begin);
        if (equals == end) return {{begin, keyword_size}, {}, false};
        return {
            {begin, keyword_size}, {equals + 1, static_cast<std::size_t>(end - equals - 1)}, true};
    }
};

// A raw_param kept in a command: offsets into its line, a third of the size of three
// pointers (a command is part of every server session).
struct kept_param {
    std::uint32_t begin;
    std::uint32_t equals;
    std::uint32_t end;

    [[nodiscard]] static bool fits(const raw_param& p, const char* line) noexcept {
        return static_cast<std::uint64_t>(p.end - line) <= UINT32_MAX;
    }
    [[nodiscard]] static kept_param of(const raw_param& p, const char* line) noexcept {
        return {static_cast<std::uint32_t>(p.begin - line),
                static_cast<std::uint32_t>(p.equals - line),
                static_cast<std::uint32_t>(p.end - line)};
    }
    [[nodiscard]] esmtp_param view(const char* line) const noexcept {
        return raw_param{line + begin, line + equals, line + end}.view();
    }
};

} // namespace detail

/// A parsed command. Every view points into the line given to parse_command and lives as long
/// as those bytes do. Fields not used by `kind` keep their defaults.
struct command {
    verb kind = verb::unknown;  ///< the command; unknown and unimplemented come with an error
    std::string_view line;      ///< the whole input line
    std::string_view verb_text; ///< as written
    std::string_view argument;  ///< everything after "VERB ", trailing white space removed

    std::string_view domain; ///< HELO/EHLO/LHLO argument (address literals keep their brackets)
    host_kind host = host_kind::domain; ///< whether `domain` is a name or an address literal

    path address; ///< MAIL reverse-path / RCPT forward-path

    // MAIL parameters
    bool has_size = false;  ///< SIZE= was given (RFC 1870)
    std::uint64_t size = 0; ///< SIZE= value; a well-formed value above 2^64-1 reads 2^64-1
    body_type body = body_type::unspecified; ///< BODY= (RFC 6152, RFC 3030)
    bool smtputf8 = false;                   ///< SMTPUTF8 was given (RFC 6531 3.4)
    dsn_ret ret = dsn_ret::unspecified;      ///< RET= (RFC 3461 4.3)
    std::string_view envid;                  ///< ENVID= raw xtext; empty when absent
    std::string_view auth_param;             ///< raw xtext of AUTH= (decoded: a mailbox or `"<>"`)
    bool has_auth_param = false;             ///< AUTH= was given (RFC 4954 5)

    // RCPT parameters
    unsigned notify = 0;            ///< notify_* bits; 0 when absent
    std::string_view orcpt_type;    ///< addr-type, e.g. "rfc822"; empty when absent
    std::string_view orcpt_address; ///< raw xtext

    /// Unknown parameters, kept in order (only when command_options::allow_unknown_params):
    /// extra_param(0) ... extra_param(extra_count - 1).
    std::size_t extra_count = 0;
    /// The unknown parameter number `i`, below extra_count; views into `line`.
    [[nodiscard]] esmtp_param extra_param(std::size_t i) const noexcept {
        SMTPP_ASSERT(i < extra_count); // the slots beyond it are uninitialised
        return extra_storage[i].view(line.data());
    }
    /// Set up to extra_count only. Left uninitialised on purpose: zeroing it would cost every
    /// parse_command call as much as parsing a short command.
    detail::kept_param extra_storage[max_extra_params];

    // BDAT
    std::uint64_t bdat_size = 0; ///< BDAT chunk size in octets
    bool bdat_last = false;      ///< BDAT ... LAST: the final chunk of the message

    // AUTH ("=" gives has_initial_response with an empty response; base64 is not decoded)
    std::string_view auth_mechanism;        ///< AUTH mechanism name, as written
    std::string_view auth_initial_response; ///< AUTH initial response, still base64
    bool has_initial_response = false;      ///< AUTH carried an initial response, maybe "="

    /// VRFY/EXPN argument without a trailing " SMTPUTF8" (RFC 6531 3.7.4.2); HELP/NOOP argument
    std::string_view vrfy_argument;
    bool vrfy_smtputf8 = false; ///< VRFY/EXPN ended with " SMTPUTF8" (RFC 6531 3.7.4.2)

    /// Back to a default-constructed command, but for extra_storage (see above).
    // One assignment a statement: chained ones (a = b = {}) make GCC store halves of a view and
    // load them back whole, a store-forwarding stall that cost more than parsing a command.
    void reset() noexcept {
        kind = verb::unknown;
        line = {};
        verb_text = {};
        argument = {};
        domain = {};
        host = host_kind::domain;
        address = {};
        has_size = false;
        size = 0;
        body = body_type::unspecified;
        smtputf8 = false;
        ret = dsn_ret::unspecified;
        envid = {};
        auth_param = {};
        has_auth_param = false;
        notify = 0;
        orcpt_type = {};
        orcpt_address = {};
        extra_count = 0;
        bdat_size = 0;
        bdat_last = false;
        auth_mechanism = {};
        auth_initial_response = {};
        has_initial_response = false;
        vrfy_argument = {};
        vrfy_smtputf8 = false;
    }
};

/// What the server offers, and the leniencies it allows (strict by default).
struct command_options {
    address_options address; ///< limits; allow_utf8 applies to RCPT (the session sets it when
                             ///< the transaction's MAIL carried SMTPUTF8). MAIL ignores it and
                             ///< allows UTF-8 only with its own SMTPUTF8 parameter.
    /// Extensions offered; parameters of the others are answered 555 5.5.4.
    extensions offer;
    bool auth = false; ///< AUTH offered: MAIL takes the AUTH= parameter (RFC 4954 5)
    /// false: an unknown MAIL/RCPT parameter is 555 (RFC 5321 4.1.1.11). true: it is kept in
    /// command::extra for the application to judge.
    bool allow_unknown_params = false;
    /// Leniency, off by default: accepts `"MAIL FROM: <a@b>"`, which RFC 5321 4.1.2 forbids.
    /// Risk: low; a stricter parser elsewhere may disagree on the address.
    bool lenient_space_after_colon = false;
};

/// What parse_command returns: the command, or the error and the reply it calls for.
struct command_result {
    command cmd;           ///< the command, as far as it was parsed
    errc error = errc::ok; ///< ok, or why the line was refused
    reply_spec reply;      ///< the reply the failure calls for (static text); code 0 on success

    /// True when the line is a valid command.
    [[nodiscard]] bool ok() const noexcept { return error == errc::ok; }
};

namespace detail {

inline constexpr enhanced_status status_syntax{5, 5, 2};
inline constexpr enhanced_status status_bad_arguments{5, 5, 4};
inline constexpr enhanced_status status_bad_sender{5, 1, 7};
inline constexpr enhanced_status status_bad_recipient{5, 1, 3};
inline constexpr enhanced_status status_non_ascii_address{5, 6, 7};

inline void fail(command_result& r, errc error, const reply_spec& reply) noexcept {
    r.error = error;
    r.reply = reply;
}

inline void fail(command_result& r, errc error, std::uint16_t code, enhanced_status status,
                 const char* text) noexcept {
    fail(r, error, reply_spec{code, status, text});
}

inline void fail_syntax(command_result& r, errc error, const char* text) noexcept {
    fail(r, error, 501, status_syntax, text);
}

[[nodiscard]] constexpr std::string_view strip_trailing_space(std::string_view s) noexcept {
    while (!s.empty() && has_class(s.back(), cc_space)) s.remove_suffix(1);
    return s;
}

[[nodiscard]] constexpr verb lookup_verb(std::string_view token) noexcept {
    if (token.size() == 4) {
        switch (fold4(token.data())) {
        case fold4("helo"):
            return verb::helo;
        case fold4("ehlo"):
            return verb::ehlo;
        case fold4("lhlo"):
            return verb::lhlo;
        case fold4("mail"):
            return verb::mail;
        case fold4("rcpt"):
            return verb::rcpt;
        case fold4("data"):
            return verb::data;
        case fold4("bdat"):
            return verb::bdat;
        case fold4("rset"):
            return verb::rset;
        case fold4("noop"):
            return verb::noop;
        case fold4("quit"):
            return verb::quit;
        case fold4("vrfy"):
            return verb::vrfy;
        case fold4("expn"):
            return verb::expn;
        case fold4("help"):
            return verb::help;
        case fold4("auth"):
            return verb::auth;
        case fold4("turn"):
        case fold4("etrn"):
        case fold4("atrn"):
        case fold4("send"):
        case fold4("soml"):
        case fold4("saml"):
        case fold4("burl"):
            return verb::unimplemented;
        default:
            return verb::unknown;
        }
    }
    if (token.size() == 8 && fold4(token.data()) == fold4("star") &&
        fold4(token.data() + 4) == fold4("ttls")) {
        return verb::starttls;
    }
    return verb::unknown;
}

// A known verb followed by something other than SP or a letter ("RSET\nRSET", "EHLO\tx"): the
// command is recognisable, its syntax is wrong, so 501 rather than 500.
[[nodiscard]] constexpr bool glued_verb(std::string_view token, verb& kind) noexcept {
    for (const std::size_t length : {std::size_t{4}, std::size_t{8}}) {
        if (token.size() <= length || is_alnum(token[length]) || !is_ascii(token[length]) ||
            token[length] == '\0')
            continue;
        kind = lookup_verb(token.substr(0, length));
        if (kind != verb::unknown) return true;
    }
    kind = verb::unknown;
    return false;
}

// Free text argument (VRFY, EXPN, HELP): printable ASCII or well-formed UTF-8.
[[nodiscard]] inline errc check_text_argument(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        if (has_class(s[i], cc_print)) {
            ++i;
            continue;
        }
        if (s[i] == '\0') return errc::nul_byte;
        std::size_t length = 0;
        if (is_ascii(s[i]) || check_non_ascii(s, i, true, length) != errc::ok) {
            return is_ascii(s[i]) ? errc::syntax_error : errc::invalid_utf8;
        }
        i += length;
    }
    return errc::ok;
}

// ---- HELO / EHLO / LHLO ----

inline void parse_hello(command_result& r, const command_options& o, bool allow_literal,
                        const char* usage) noexcept {
    const std::string_view arg = r.cmd.argument;
    if (arg.empty()) return fail_syntax(r, errc::missing_argument, usage);
    errc e = errc::ok;
    if (allow_literal && arg[0] == '[') {
        e = parse_address_literal(arg, r.cmd.host);
        if (e == errc::ok && arg.size() > o.address.max_domain) e = errc::domain_too_long;
    } else {
        address_options ascii_only = o.address; // RFC 6531 3.7.1: the EHLO name is ASCII
        ascii_only.allow_utf8 = false;
        e = parse_domain(arg, ascii_only);
    }
    if (e != errc::ok) return fail_syntax(r, e, usage);
    r.cmd.domain = arg;
}

// ---- MAIL / RCPT ----

// Case-insensitive match against an upper-case literal of letters and digits: a letter
// matches in either case (`& 0xDF` maps only 'a'-'z' onto 'A'-'Z'), any other octet only
// itself. The literal's length is a constant, so the loop unrolls into a few compares.
template <std::size_t N>
[[nodiscard]] constexpr bool is_word(std::string_view s, const char (&upper)[N]) noexcept {
    if (s.size() != N - 1) return false;
    SMTPP_UNROLL
    for (std::size_t i = 0; i + 1 < N; ++i) {
        const int mask = is_alpha(upper[i]) ? 0xDF : 0xFF;
        if ((static_cast<unsigned char>(s[i]) & mask) != static_cast<unsigned char>(upper[i]))
            return false;
    }
    return true;
}

struct param_list {
    static constexpr std::size_t capacity =
        16;                    // 6 known MAIL parameters + max_extra_params + spare
    raw_param items[capacity]; // set up to `count` only
    std::size_t count = 0;
    bool eight_bit = false; // some value holds 8-bit octets (allowed only under SMTPUTF8)
    bool smtputf8 = false;  // a SMTPUTF8 keyword is present
};

// Syntax pass: esmtp-param *(SP esmtp-param) (RFC 5321 4.1.2). 8-bit octets in values are
// noted, not judged: whether they may appear depends on SMTPUTF8, which may come later.
// Errors: bad_parameter, too_many_parameters.
[[nodiscard]] inline errc split_params(std::string_view text, param_list& list) noexcept {
    const char* p = text.data();
    const char* const end = p + text.size();
    for (;;) {
        if (list.count == param_list::capacity) return errc::too_many_parameters;
        raw_param& item = list.items[list.count];
        item.begin = p;
        if (p == end || !is_alnum(*p)) return errc::bad_parameter; // also two spaces in a row
        while (++p != end && has_class(*p, cc_ldh)) {}
        item.equals = p;
        if (p != end && *p == '=') {
            const char* const value = ++p;
            for (;;) {
                p += skip_graphic<cc_esmtp_value, '=', '='>({p, static_cast<std::size_t>(end - p)},
                                                            0);
                if (p == end || is_ascii(*p)) break;
                list.eight_bit = true;
                ++p;
            }
            if (p == value) return errc::bad_parameter;
        }
        item.end = p;
        ++list.count;
        const std::string_view keyword(item.begin,
                                       static_cast<std::size_t>(item.equals - item.begin));
        if (keyword.size() == 8 && is_word(keyword, "SMTPUTF8")) list.smtputf8 = true;
        if (p == end) return errc::ok;
        if (*p != ' ') return errc::bad_parameter;
        ++p;
    }
}

// esmtp-value may carry UTF-8 only under SMTPUTF8 (RFC 6531 3.3).
[[nodiscard]] inline errc check_eight_bit_values(const param_list& list, bool utf8) noexcept {
    if (!utf8) return errc::non_ascii;
    for (std::size_t i = 0; i < list.count; ++i) {
        if (!is_valid_utf8(list.items[i].view().value)) return errc::invalid_utf8;
    }
    return errc::ok;
}

enum class param_key : unsigned {
    unknown = 0,
    size = 1,
    body = 2,
    smtputf8 = 4,
    ret = 8,
    envid = 16,
    auth = 32,
    notify = 64,
    orcpt = 128
};

[[nodiscard]] constexpr param_key lookup_mail_param(std::string_view k) noexcept {
    switch (k.size()) {
    case 3:
        return is_word(k, "RET") ? param_key::ret : param_key::unknown;
    case 4:
        if (is_word(k, "SIZE")) return param_key::size;
        if (is_word(k, "BODY")) return param_key::body;
        return is_word(k, "AUTH") ? param_key::auth : param_key::unknown;
    case 5:
        return is_word(k, "ENVID") ? param_key::envid : param_key::unknown;
    case 8:
        return is_word(k, "SMTPUTF8") ? param_key::smtputf8 : param_key::unknown;
    default:
        return param_key::unknown;
    }
}

[[nodiscard]] constexpr param_key lookup_rcpt_param(std::string_view k) noexcept {
    if (k.size() == 6 && is_word(k, "NOTIFY")) return param_key::notify;
    if (k.size() == 5 && is_word(k, "ORCPT")) return param_key::orcpt;
    return param_key::unknown;
}

// Whether the server offers the extension a known parameter belongs to.
[[nodiscard]] constexpr bool offered(param_key key, const command_options& o) noexcept {
    switch (key) {
    case param_key::size:
        return o.offer.size;
    case param_key::body:
        return o.offer.eight_bit_mime || o.offer.binarymime;
    case param_key::smtputf8:
        return o.offer.smtputf8;
    case param_key::ret:
    case param_key::envid:
    case param_key::notify:
    case param_key::orcpt:
        return o.offer.dsn;
    case param_key::auth:
        return o.auth;
    case param_key::unknown:
        break;
    }
    return false;
}

// SIZE=1*20DIGIT (RFC 1870 3). Grammar and range are different failures: more than 20 digits
// is malformed (501); a well-formed value above 2^64-1 is a size like any other, only larger
// than every limit, and reads 2^64-1 (the session answers 552 when it exceeds the limit).
[[nodiscard]] inline errc apply_size(command& c, const esmtp_param& p) noexcept {
    if (p.value.size() > 20) return errc::bad_parameter_value;
    const errc e = parse_decimal(p.value, c.size);
    if (e == errc::syntax_error) return errc::bad_parameter_value;
    if (e == errc::number_overflow) c.size = UINT64_MAX;
    c.has_size = true;
    return errc::ok;
}

// BODY=7BIT / 8BITMIME (RFC 6152 3) / BINARYMIME (RFC 3030 3), any case.
[[nodiscard]] inline errc apply_body(command& c, const esmtp_param& p,
                                     const command_options& o) noexcept {
    if (is_word(p.value, "8BITMIME")) {
        if (!o.offer.eight_bit_mime) return errc::unsupported_parameter;
        c.body = body_type::eight_bit_mime;
    } else if (is_word(p.value, "7BIT")) {
        c.body = body_type::seven_bit;
    } else if (is_word(p.value, "BINARYMIME")) {
        if (!o.offer.binarymime) return errc::unsupported_parameter;
        c.body = body_type::binary_mime;
    } else {
        return errc::bad_parameter_value;
    }
    return errc::ok;
}

// RET=FULL / HDRS, any case (RFC 3461 4.3).
[[nodiscard]] inline errc apply_ret(command& c, const esmtp_param& p) noexcept {
    if (is_word(p.value, "FULL")) {
        c.ret = dsn_ret::full;
    } else if (is_word(p.value, "HDRS")) {
        c.ret = dsn_ret::headers;
    } else {
        return errc::bad_parameter_value;
    }
    return errc::ok;
}

// xtext_validate_printable for a value the syntax pass found to be an ASCII esmtp-value
// (%d33-60 / %d62-126): every octet but '+' is an xchar already, so only hexchars need a look.
[[nodiscard]] inline errc check_dsn_xtext(std::string_view value, bool ascii) noexcept {
    if (!ascii) return xtext_validate_printable(value);
    bool printable = true;
    for (std::size_t i = value.find('+'); i != std::string_view::npos; i = value.find('+', i + 3)) {
        if (i + 2 >= value.size() || !is_xtext_hex(value[i + 1], false) ||
            !is_xtext_hex(value[i + 2], false)) {
            return errc::bad_xtext;
        }
        const int octet = hex_value(value[i + 1]) * 16 + hex_value(value[i + 2]);
        printable = printable && octet >= 32 && octet <= 126;
    }
    return printable ? errc::ok : errc::bad_parameter_value;
}

// ENVID=xtext, up to 100 characters, decoding to printable US-ASCII (RFC 3461 4.4).
[[nodiscard]] inline errc apply_envid(command& c, const esmtp_param& p, bool ascii) noexcept {
    if (!p.has_value || p.value.size() > 100) return errc::bad_parameter_value;
    if (const errc e = check_dsn_xtext(p.value, ascii); e != errc::ok) return e;
    c.envid = p.value;
    return errc::ok;
}

// AUTH=xtext whose decoded form is "<>" or a Mailbox (RFC 4954 5, 8; HEXDIG in any case).
[[nodiscard]] inline errc apply_auth(command& c, const esmtp_param& p,
                                     const address_options& address) noexcept {
    char decoded[1024];
    std::size_t size = 0;
    const errc e = xtext_decode(p.value, decoded, sizeof decoded, size, true);
    if (e == errc::bad_xtext) return e;
    if (e != errc::ok) return errc::bad_parameter_value;
    const std::string_view identity(decoded, size);
    mailbox box;
    if (identity != "<>" && parse_mailbox(identity, box, address) != errc::ok) {
        return errc::bad_parameter_value;
    }
    c.auth_param = p.value;
    c.has_auth_param = true;
    return errc::ok;
}

[[nodiscard]] constexpr unsigned notify_bit(std::string_view item) noexcept {
    switch (item.size()) {
    case 5:
        if (is_word(item, "NEVER")) return notify_never;
        return is_word(item, "DELAY") ? notify_delay : 0;
    case 7:
        if (is_word(item, "SUCCESS")) return notify_success;
        return is_word(item, "FAILURE") ? notify_failure : 0;
    default:
        return 0;
    }
}

// NOTIFY=NEVER / 1#(SUCCESS / FAILURE / DELAY), any case (RFC 3461 4.1).
[[nodiscard]] inline errc apply_notify(command& c, const esmtp_param& p) noexcept {
    unsigned bits = 0;
    const char* q = p.value.data();
    const char* const end = q + p.value.size();
    for (;;) {
        const char* const item = q;
        while (q != end && *q != ',') ++q;
        const unsigned bit = notify_bit({item, static_cast<std::size_t>(q - item)});
        if (bit == 0) return errc::bad_parameter_value;
        bits |= bit;
        if (q == end) break;
        ++q;
    }
    if ((bits & notify_never) && bits != notify_never) return errc::bad_parameter_value;
    c.notify = bits;
    return errc::ok;
}

// ORCPT=addr-type ";" xtext, both parts required, up to 500 characters, decoding to printable
// US-ASCII (RFC 3461 4.2).
[[nodiscard]] inline errc apply_orcpt(command& c, const esmtp_param& p, bool ascii) noexcept {
    std::size_t semicolon = 0;
    while (semicolon < p.value.size() && has_class(p.value[semicolon], cc_atext)) ++semicolon;
    if (semicolon == 0 || semicolon + 1 >= p.value.size() || p.value[semicolon] != ';' ||
        p.value.size() > 500) {
        return errc::bad_parameter_value;
    }
    const std::string_view address = p.value.substr(semicolon + 1);
    if (const errc e = check_dsn_xtext(address, ascii); e != errc::ok) return e;
    c.orcpt_type = p.value.substr(0, semicolon);
    c.orcpt_address = address;
    return errc::ok;
}

[[nodiscard]] inline errc keep_unknown(command& c, const raw_param& raw,
                                       const command_options& o) noexcept {
    const esmtp_param p = raw.view();
    if (!o.allow_unknown_params) return errc::unsupported_parameter;
    for (std::size_t i = 0; i < c.extra_count; ++i) {
        if (iequals(c.extra_param(i).keyword, p.keyword)) return errc::duplicate_parameter;
    }
    if (c.extra_count == max_extra_params || !kept_param::fits(raw, c.line.data()))
        return errc::too_many_parameters;
    c.extra_storage[c.extra_count++] = kept_param::of(raw, c.line.data());
    return errc::ok;
}

// Applies one parameter of MAIL (is_mail) or RCPT: not offered -> 555, repeated -> 501.
// `ascii`: no value of the list holds 8-bit octets.
[[nodiscard]] inline errc apply_param(command& c, const raw_param& raw, bool is_mail, bool ascii,
                                      const command_options& o, const address_options& address,
                                      unsigned& seen) noexcept {
    const esmtp_param p = raw.view();
    const param_key key = is_mail ? lookup_mail_param(p.keyword) : lookup_rcpt_param(p.keyword);
    if (key == param_key::unknown) return keep_unknown(c, raw, o);
    if (!offered(key, o)) return errc::unsupported_parameter;
    const auto bit = static_cast<unsigned>(key);
    if (seen & bit) return errc::duplicate_parameter;
    seen |= bit;
    switch (key) {
    case param_key::size:
        return apply_size(c, p);
    case param_key::body:
        return apply_body(c, p, o);
    case param_key::smtputf8:
        if (p.has_value) return errc::bad_parameter_value; // RFC 6531 3.4: no value
        c.smtputf8 = true;
        return errc::ok;
    case param_key::ret:
        return apply_ret(c, p);
    case param_key::envid:
        return apply_envid(c, p, ascii);
    case param_key::auth:
        return apply_auth(c, p, address);
    case param_key::notify:
        return apply_notify(c, p);
    case param_key::orcpt:
        return apply_orcpt(c, p, ascii);
    case param_key::unknown:
        break;
    }
    return errc::ok;
}

// How the parser answers each failure of a parameter, and of an address (RFC 5321 4.2.2,
// 4.1.1.11; RFC 3463 for the enhanced codes). The first row whose error matches applies; the
// last row of each table is the default.
struct error_reply {
    errc error;
    reply_spec reply;
};

inline constexpr error_reply parameter_replies[] = {
    {errc::unsupported_parameter, replies::parameter_unsupported},
    {errc::bad_parameter, {501, status_syntax, "Malformed parameter"}},
    {errc::duplicate_parameter, {501, status_bad_arguments, "Duplicate parameter"}},
    {errc::too_many_parameters, {501, status_bad_arguments, "Too many parameters"}},
    {errc::number_overflow, {501, status_bad_arguments, "Number too large"}},
    {errc::bad_xtext, {501, status_bad_arguments, "Malformed xtext in parameter"}},
    {errc::non_ascii, {501, status_bad_arguments, "8-bit parameter value requires SMTPUTF8"}},
    {errc::invalid_utf8, {501, status_bad_arguments, "Malformed UTF-8 in parameter"}},
    {errc::ok, {501, status_bad_arguments, "Invalid parameter value"}},
};

// Sender and recipient rows differ only in the enhanced code (X.1.7 / X.1.3) and the
// default's text; non-ASCII is X.6.7 for both (RFC 6531 3.5).
inline constexpr error_reply address_replies[] = {
    {errc::non_ascii, {553, status_non_ascii_address, "Non-ASCII address requires SMTPUTF8"}},
    {errc::null_path_not_allowed, {501, {}, "Null recipient not allowed"}},
    {errc::path_too_long, {501, {}, "Path too long"}},
    {errc::local_part_too_long, {501, {}, "Local part too long"}},
    {errc::domain_too_long, {501, {}, "Domain too long"}},
    {errc::invalid_utf8, {501, {}, "Malformed UTF-8 in address"}},
    {errc::ok, {501, {}, ""}}, // replies::bad_sender_syntax / bad_recipient_syntax
};

template <std::size_t N>
[[nodiscard]] constexpr const reply_spec& reply_for(const error_reply (&table)[N],
                                                    errc e) noexcept {
    for (std::size_t i = 0; i + 1 < N; ++i) {
        if (table[i].error == e) return table[i].reply;
    }
    return table[N - 1].reply;
}

inline void fail_param(command_result& r, errc e) noexcept {
    r.error = e;
    r.reply = reply_for(parameter_replies, e);
}

inline void fail_address(command_result& r, errc e, bool is_mail) noexcept {
    r.error = e;
    r.reply = reply_for(address_replies, e);
    if (r.reply.text.empty())
        r.reply = is_mail ? replies::bad_sender_syntax : replies::bad_recipient_syntax;
    else if (r.reply.status.empty())
        r.reply.status = is_mail ? status_bad_sender : status_bad_recipient;
}

// "FROM:" / "TO:" in any case; `| 0x20` folds only letters onto these lower-case letters.
[[nodiscard]] constexpr bool starts_with_from(std::string_view s) noexcept {
    return s.size() >= 5 && fold4(s.data()) == fold4("from") && s[4] == ':';
}

[[nodiscard]] constexpr bool starts_with_to(std::string_view s) noexcept {
    return s.size() >= 3 && (s[0] | 0x20) == 't' && (s[1] | 0x20) == 'o' && s[2] == ':';
}

inline void parse_envelope(command_result& r, const command_options& o, bool is_mail) noexcept {
    command& c = r.cmd;
    const char* const usage = is_mail ? "Syntax: MAIL FROM:<address> [parameters]"
                                      : "Syntax: RCPT TO:<address> [parameters]";
    if (c.argument.empty()) return fail_syntax(r, errc::missing_argument, usage);
    const std::size_t keyword_size = is_mail ? 5 : 3; // "FROM:" or "TO:"
    if (!(is_mail ? starts_with_from(c.argument) : starts_with_to(c.argument))) {
        return fail_syntax(r, errc::syntax_error, usage);
    }
    std::string_view rest = c.argument.substr(keyword_size);
    if (o.lenient_space_after_colon) {
        while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    }
    if (rest.empty() || rest[0] != '<') {
        return rest.empty() || rest[0] != ' ' ? fail_address(r, errc::bad_path, is_mail)
                                              : fail_syntax(r, errc::syntax_error, usage);
    }
    // A MAIL path may hold UTF-8 only with SMTPUTF8 among its own parameters, which come after
    // it: scan with UTF-8 allowed if offered, and settle once the parameters are known.
    address_options address = o.address;
    if (is_mail) address.allow_utf8 = o.offer.smtputf8;
    bool path_utf8 = false;
    const scan_result path = scan_path(
        rest, c.address, address, is_mail ? path_kind::reverse : path_kind::forward, path_utf8);
    if (path.error != errc::ok) return fail_address(r, path.error, is_mail);
    std::string_view params_text = rest.substr(path.end);
    if (!params_text.empty() && params_text[0] != ' ')
        return fail_address(r, errc::bad_path, is_mail);
    if (params_text.empty()) {
        if (is_mail && path_utf8) fail_address(r, errc::non_ascii, is_mail);
        return;
    }
    params_text.remove_prefix(1);
    param_list params;
    if (const errc e = split_params(params_text, params); e != errc::ok) return fail_param(r, e);
    if (is_mail) {
        address.allow_utf8 = o.offer.smtputf8 && params.smtputf8;
        if (path_utf8 && !address.allow_utf8) return fail_address(r, errc::non_ascii, is_mail);
    }
    if (params.eight_bit) {
        if (const errc e = check_eight_bit_values(params, address.allow_utf8); e != errc::ok) {
            return fail_param(r, e);
        }
    }
    unsigned seen = 0;
    for (std::size_t i = 0; i < params.count; ++i) {
        const errc e =
            apply_param(c, params.items[i], is_mail, !params.eight_bit, o, address, seen);
        if (e != errc::ok) return fail_param(r, e);
    }
}

// ---- the others ----

inline void parse_no_argument(command_result& r) noexcept {
    if (!r.cmd.argument.empty()) fail_syntax(r, errc::unexpected_argument, "No parameters allowed");
}

// VRFY/EXPN SP String [SP "SMTPUTF8"] (RFC 5321 4.1.1.6-7, RFC 6531 3.7.4.2). The String is
// taken as free text: servers look the name up however they like.
inline void parse_vrfy(command_result& r, const char* usage) noexcept {
    command& c = r.cmd;
    std::string_view arg = c.argument;
    constexpr std::string_view suffix = " SMTPUTF8";
    if (arg.size() > suffix.size() && iequals(arg.substr(arg.size() - suffix.size()), suffix)) {
        arg = strip_trailing_space(arg.substr(0, arg.size() - suffix.size()));
        c.vrfy_smtputf8 = true;
    }
    if (arg.empty()) return fail_syntax(r, errc::missing_argument, usage);
    if (const errc e = check_text_argument(arg); e != errc::ok) return fail_syntax(r, e, usage);
    c.vrfy_argument = arg;
}

inline void parse_help(command_result& r) noexcept {
    if (const errc e = check_text_argument(r.cmd.argument); e != errc::ok)
        return fail_syntax(r, e, "Syntax: HELP [topic]");
    r.cmd.vrfy_argument = r.cmd.argument;
}

// NOOP [SP String]: the argument is ignored (RFC 5321 4.1.1.9), but a NUL is still refused.
inline void parse_noop(command_result& r) noexcept {
    if (r.cmd.argument.find('\0') != std::string_view::npos)
        return fail_syntax(r, errc::nul_byte, "NUL not allowed");
    r.cmd.vrfy_argument = r.cmd.argument;
}

// BDAT SP chunk-size [SP "LAST"] (RFC 3030 2), chunk-size = 1*DIGIT.
inline void parse_bdat(command_result& r) noexcept {
    constexpr const char* usage = "Syntax: BDAT size [LAST]";
    command& c = r.cmd;
    const std::size_t space = c.argument.find(' ');
    const std::string_view size_text = c.argument.substr(0, space);
    if (space != std::string_view::npos) {
        if (!iequals(c.argument.substr(space + 1), "LAST"))
            return fail_syntax(r, errc::syntax_error, usage);
        c.bdat_last = true;
    }
    const errc e = parse_decimal(size_text, c.bdat_size);
    if (e == errc::number_overflow) // well-formed, only larger than any limit (RFC 1870 6.1)
        return fail(r, e, replies::message_too_big);
    if (e != errc::ok)
        return fail_syntax(r, c.argument.empty() ? errc::missing_argument : e, usage);
}

// AUTH SP sasl-mech [SP initial-response] (RFC 4954 4, 8); mech = 1*20 of letters, digits,
// '-' and '_', compared case-insensitively by the session.
inline void parse_auth(command_result& r) noexcept {
    constexpr const char* usage = "Syntax: AUTH mechanism [initial-response]";
    command& c = r.cmd;
    if (c.argument.empty()) return fail_syntax(r, errc::missing_argument, usage);
    const std::size_t space = c.argument.find(' ');
    const std::string_view mechanism = c.argument.substr(0, space);
    if (mechanism.empty() || mechanism.size() > 20 || !all_of_class(mechanism, cc_sasl)) {
        return fail_syntax(r, errc::syntax_error, usage);
    }
    c.auth_mechanism = mechanism;
    if (space == std::string_view::npos) return;
    const std::string_view response = c.argument.substr(space + 1);
    // RFC 4954 4: "=" is an empty response; anything else strict base64, not empty.
    if (response != "=" && (response.empty() || base64_validate(response) != errc::ok)) {
        return fail_syntax(r, errc::bad_base64, "Malformed base64 initial response");
    }
    c.has_initial_response = true;
    if (response != "=") c.auth_initial_response = response;
}

} // namespace detail

namespace detail {

// parse_command() into a result that holds the defaults (built fresh, or reset).
inline void parse_command_fresh(std::string_view line, const command_options& options,
                                command_result& r) noexcept {
    command& c = r.cmd;
    c.line = line;
    const std::string_view text = detail::strip_trailing_space(line);
    // Nearly every verb has four letters: look there before searching.
    const std::size_t space = text.size() > 4 && text[4] == ' ' ? 4
                              : text.size() == 4                ? std::string_view::npos
                                                                : text.find(' ');
    c.verb_text = text.substr(0, space);
    if (space != std::string_view::npos) c.argument = text.substr(space + 1);
    c.kind = detail::lookup_verb(c.verb_text);
    if (SMTPP_UNLIKELY(c.kind == verb::unknown) && detail::glued_verb(c.verb_text, c.kind)) {
        detail::fail_syntax(r, errc::syntax_error,
                            "Syntax error: expected one space after the command");
        return;
    }
    switch (c.kind) {
    case verb::helo:
        detail::parse_hello(r, options, false, "Syntax: HELO domain");
        break;
    case verb::ehlo:
        detail::parse_hello(r, options, true, "Syntax: EHLO domain-or-address-literal");
        break;
    case verb::lhlo:
        detail::parse_hello(r, options, true, "Syntax: LHLO domain-or-address-literal");
        break;
    case verb::mail:
        detail::parse_envelope(r, options, true);
        break;
    case verb::rcpt:
        detail::parse_envelope(r, options, false);
        break;
    case verb::data:
    case verb::rset:
    case verb::quit:
    case verb::starttls:
        detail::parse_no_argument(r);
        break;
    case verb::noop:
        detail::parse_noop(r);
        break;
    case verb::vrfy:
        detail::parse_vrfy(r, "Syntax: VRFY string");
        break;
    case verb::expn:
        detail::parse_vrfy(r, "Syntax: EXPN string");
        break;
    case verb::help:
        detail::parse_help(r);
        break;
    case verb::bdat:
        detail::parse_bdat(r);
        break;
    case verb::auth:
        detail::parse_auth(r);
        break;
    case verb::unimplemented:
        detail::fail(r, errc::unimplemented_command, replies::not_implemented);
        break;
    case verb::unknown:
        detail::fail(r, errc::unknown_command, replies::command_unrecognized);
        break;
    }
}

} // namespace detail

/// Parses one command line, given without its CRLF. Trailing spaces and tabs are ignored
/// (RFC 5321 4.1.1); the verb and the argument are separated by exactly one SP. Verbs, FROM:/TO:
/// and parameter keywords are case-insensitive. All views in the result point into `line`.
/// Errors (result.error, with result.reply the reply it calls for, as listed at the top of this
/// header): unknown_command, unimplemented_command, syntax_error, missing_argument,
/// unexpected_argument, nul_byte, bad_base64, the address errors of grammar.hpp, non_ascii,
/// invalid_utf8, bad_parameter, bad_parameter_value, duplicate_parameter, too_many_parameters,
/// unsupported_parameter, number_overflow, bad_xtext.
inline void parse_command(std::string_view line, const command_options& options,
                          command_result& r) noexcept {
    r.error = errc::ok;
    r.reply = {};
    r.cmd.reset();
    detail::parse_command_fresh(line, options, r);
}

/// As above, returning the result (about 500 octets; the overload above fills one in place).
[[nodiscard]] inline command_result parse_command(std::string_view line,
                                                  const command_options& options) noexcept {
    command_result r;
    detail::parse_command_fresh(line, options, r);
    return r;
}

/// The longest MAIL/RCPT line (CRLF included) a server offering these extensions must accept:
/// the base limit plus SIZE 26, BINARYMIME 16, SMTPUTF8 10, AUTH 500, and at least 1036 with
/// DSN (RFC 1870 3, RFC 3030 3, RFC 6531 3.1, RFC 4954 3, RFC 3461 5.4). The session applies it.
[[nodiscard]] inline std::size_t mail_rcpt_line_limit(const limits& l,
                                                      const command_options& o) noexcept {
    std::size_t limit = l.command_line;
    if (o.offer.size) limit += line_extra::size;
    if (o.offer.binarymime) limit += line_extra::binarymime;
    if (o.offer.smtputf8) limit += line_extra::smtputf8;
    if (o.auth) limit += line_extra::auth;
    if (o.offer.dsn && limit < line_extra::dsn_min_line) limit = line_extra::dsn_min_line;
    return limit;
}

SMTPP_NAMESPACE_END

#endif // SMTPP_COMMAND_HPP
