/// \file
/// smtpp: the address and parameter grammar of RFC 5321 4.1.2-4.1.3, extended by RFC 6531 3.3
/// (SMTPUTF8), plus xtext (RFC 3461 4) and UTF-8 well-formedness.
///
/// Every function is pure: it reads the caller's bytes, allocates nothing, throws nothing.
/// Views returned in `mailbox` and `path` point into the string passed in and live as long as
/// those bytes do. Everything is strict: input outside the grammar is an error.
#ifndef SMTPP_GRAMMAR_HPP
#define SMTPP_GRAMMAR_HPP

#include <smtpp/detail/ascii.hpp>
#include <smtpp/detail/utf8.hpp>
#include <smtpp/error.hpp>
#include <smtpp/limits.hpp>
#include <smtpp/macros.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

/// Length limits (octets, as written on the wire) and whether UTF-8 addresses are allowed.
struct address_options {
    std::size_t max_local_part = 64; ///< RFC 5321 4.5.3.1.1
    std::size_t max_domain = 255;    ///< RFC 5321 4.5.3.1.2, also for address literals
    std::size_t max_path = 256;      ///< RFC 5321 4.5.3.1.3, counting the angle brackets
    bool allow_utf8 = false;         ///< SMTPUTF8 in effect (RFC 6531 3.3)
};

/// The address limits of `l`, with UTF-8 addresses allowed or not.
[[nodiscard]] inline address_options make_address_options(const limits& l,
                                                          bool allow_utf8) noexcept {
    return address_options{l.local_part, l.domain, l.path, allow_utf8};
}

/// What the host part of an address or a HELO/EHLO argument is: a domain name, or an address
/// literal `[1.2.3.4]`, `[IPv6:...]` or `[tag:content]` (RFC 5321 4.1.3).
enum class host_kind { domain, ipv4, ipv6, general };

/// A parsed Mailbox. Views point into the parsed string.
struct mailbox {
    std::string_view local_part;        ///< as written: quotes and backslashes kept, case kept
    std::string_view domain;            ///< as written; address literals keep their [brackets]
    host_kind host = host_kind::domain; ///< whether `domain` is a name or an address literal
    bool quoted = false;                ///< local part is a Quoted-string
    bool utf8 = false; ///< local part or domain contains non-ASCII (SMTPUTF8) octets
};

/// A parsed Reverse-path or Forward-path. Views point into the parsed string.
struct path {
    std::string_view text;         ///< the whole `<...>` as written
    std::string_view source_route; ///< `@a,@b` without the ':' (accepted, reported, to be ignored)
    mailbox box;                   ///< empty for `<>`; local_part only for `<Postmaster>`
    bool is_null = false;          ///< `<>`
    bool is_postmaster = false;    ///< `<Postmaster>`, any case, no domain
};

namespace detail {

// Result of scanning a prefix of the input: an error, or where the construct ended.
struct scan_result {
    errc error = errc::ok;
    std::size_t end = 0;
};

// For an octet >= 0x80 at s[i]: the length of its UTF-8 sequence, or the error to report.
[[nodiscard]] SMTPP_NOINLINE inline errc
check_non_ascii(std::string_view s, std::size_t i, bool allow_utf8, std::size_t& length) noexcept {
    if (!allow_utf8) return errc::non_ascii;
    length = utf8_sequence_length(s.data() + i, s.data() + s.size());
    return length == 0 ? errc::invalid_utf8 : errc::ok;
}

// Consumes octets of class `cls`, and UTF-8 sequences when allowed, from s[i]; stops at the
// first other octet. The tight loop is the ASCII fast path.
template <std::uint16_t Class>
[[nodiscard]] scan_result scan_run(std::string_view s, std::size_t i, bool allow_utf8,
                                   bool& utf8) noexcept {
    for (;;) {
        while (i < s.size() && has_class(s[i], Class)) ++i;
        if (i == s.size() || is_ascii(s[i])) return {errc::ok, i};
        std::size_t length = 0;
        if (const errc e = check_non_ascii(s, i, allow_utf8, length); e != errc::ok) return {e, i};
        utf8 = true;
        i += length;
    }
}

// Dot-string (RFC 5321 4.1.2): atoms of atext (plus UTF8-non-ascii when allowed) joined by
// single dots. Stops at the first octet that can be neither.
[[nodiscard]] inline scan_result scan_dot_string(std::string_view s, bool allow_utf8,
                                                 bool& utf8) noexcept {
    std::size_t i = 0;
    for (;;) {
        const scan_result atom = scan_run<cc_atext>(s, i, allow_utf8, utf8);
        if (atom.error != errc::ok) return atom;
        if (atom.end == i) return {errc::bad_local_part, i}; // empty atom
        i = atom.end;
        if (i == s.size() || s[i] != '.') return {errc::ok, i};
        ++i;
    }
}

// Quoted-string (RFC 5321 4.1.2, RFC 6531 3.3) starting at s[0] == '"'; ends after the
// closing quote.
[[nodiscard]] inline scan_result scan_quoted_string(std::string_view s, bool allow_utf8,
                                                    bool& utf8) noexcept {
    std::size_t i = 1;
    while (i < s.size()) {
        const char c = s[i];
        if (c == '"') return {errc::ok, i + 1};
        if (c == '\\') {
            if (i + 1 >= s.size() || !has_class(s[i + 1], cc_print))
                return {errc::bad_local_part, i};
            i += 2;
        } else if (has_class(c, cc_qtext)) {
            ++i;
        } else if (!is_ascii(c)) {
            std::size_t length = 0;
            if (const errc e = check_non_ascii(s, i, allow_utf8, length); e != errc::ok)
                return {e, i};
            utf8 = true;
            i += length;
        } else {
            return {errc::bad_local_part, i};
        }
    }
    return {errc::bad_local_part, i}; // unterminated
}

[[nodiscard]] inline scan_result scan_local_part(std::string_view s, bool allow_utf8,
                                                 bool& utf8) noexcept {
    if (s.empty()) return {errc::bad_local_part, 0};
    return s[0] == '"' ? scan_quoted_string(s, allow_utf8, utf8)
                       : scan_dot_string(s, allow_utf8, utf8);
}

// Domain (RFC 5321 4.1.2) with U-labels when allowed (RFC 6531 3.3), scanned up to the first
// octet that cannot continue it. ASCII labels are limited to 63 octets; a label holding UTF-8
// is not, because that limit binds its A-label form, which only an IDNA conversion could
// measure. Sets `utf8` when a U-label was seen.
[[nodiscard]] inline scan_result scan_domain(std::string_view s, const address_options& options,
                                             bool& utf8) noexcept {
    std::size_t i = 0;
    for (;;) {
        bool label_utf8 = false;
        const scan_result label = scan_run<cc_ldh>(s, i, options.allow_utf8, label_utf8);
        if (label.error != errc::ok) return label;
        const std::size_t start = i;
        i = label.end;
        utf8 = utf8 || label_utf8;
        if (i > options.max_domain) return {errc::domain_too_long, i};
        // Let-dig [Ldh-str]: not empty, no hyphen at either end.
        if (i == start || s[start] == '-' || s[i - 1] == '-') return {errc::bad_domain, i};
        if (!label_utf8 && i - start > 63) return {errc::bad_domain, i};
        if (i == s.size() || s[i] != '.') return {errc::ok, i};
        ++i;
    }
}

// Snum 3("." Snum), Snum = 1*3DIGIT with a value 0-255.
[[nodiscard]] inline bool is_ipv4_literal(std::string_view s) noexcept {
    std::size_t i = 0;
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (i >= s.size() || s[i] != '.') return false;
            ++i;
        }
        unsigned value = 0;
        std::size_t digits = 0;
        while (i < s.size() && is_digit(s[i]) && digits < 3) {
            value = value * 10 + static_cast<unsigned>(s[i] - '0');
            ++i;
            ++digits;
        }
        if (digits == 0 || value > 255) return false;
    }
    return i == s.size();
}

struct ipv6_groups {
    bool ok = false;
    int hex_groups = 0;
    bool ends_in_ipv4 = false;
};

// "h:h:...:h" (1-4 hex digits each), the last one possibly an IPv4 literal; "" is 0 groups.
[[nodiscard]] inline ipv6_groups scan_ipv6_groups(std::string_view s) noexcept {
    ipv6_groups result;
    if (s.empty()) return {true, 0, false};
    for (std::size_t start = 0;;) {
        const std::size_t colon = s.find(':', start);
        const std::string_view group =
            s.substr(start, colon == std::string_view::npos ? s.npos : colon - start);
        if (colon == std::string_view::npos && group.find('.') != std::string_view::npos) {
            result.ends_in_ipv4 = true;
            result.ok = is_ipv4_literal(group);
            return result;
        }
        if (group.empty() || group.size() > 4 || !all_of_class(group, cc_hex)) return result;
        ++result.hex_groups;
        if (colon == std::string_view::npos) break;
        start = colon + 1;
    }
    result.ok = true;
    return result;
}

// IPv6-addr of RFC 5321 4.1.3: full, comp ("::" standing for at least two groups, at most 6
// groups written), v4-full and v4-comp (at most 4 groups written besides the IPv4 part).
[[nodiscard]] inline bool is_ipv6_address(std::string_view s) noexcept {
    const std::size_t gap = s.find("::");
    if (gap == std::string_view::npos) {
        const ipv6_groups all = scan_ipv6_groups(s);
        return all.ok && all.hex_groups == (all.ends_in_ipv4 ? 6 : 8);
    }
    const std::string_view left_text = s.substr(0, gap);
    const std::string_view right_text = s.substr(gap + 2);
    if (right_text.find("::") != std::string_view::npos) return false;
    const ipv6_groups left = scan_ipv6_groups(left_text);
    const ipv6_groups right = scan_ipv6_groups(right_text);
    if (!left.ok || !right.ok || left.ends_in_ipv4) return false;
    return left.hex_groups + right.hex_groups <= (right.ends_in_ipv4 ? 4 : 6);
}

// General-address-literal: Standardized-tag ":" 1*dcontent. A tag made only of hex digits is
// refused: no registered tag looks like that, and accepting it would let an untagged IPv6
// address such as [2001:db8::1] through (RFC 5321 4.1.3 requires the "IPv6:" tag).
[[nodiscard]] inline bool is_general_literal(std::string_view s) noexcept {
    const std::size_t colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size()) return false;
    const std::string_view tag = s.substr(0, colon);
    if (!all_of_class(tag, cc_ldh) || tag.back() == '-' || all_of_class(tag, cc_hex)) return false;
    return all_of_class(s.substr(colon + 1), cc_dcontent);
}

} // namespace detail

/// Checks a Domain (RFC 5321 4.1.2; U-labels when options.allow_utf8, RFC 6531 3.3): LDH
/// labels, no leading or trailing hyphen, no empty label, no trailing dot, ASCII labels of at
/// most 63 octets, at most options.max_domain octets in all.
/// Errors: bad_domain, domain_too_long, non_ascii (8-bit without allow_utf8), invalid_utf8.
[[nodiscard]] inline errc parse_domain(std::string_view domain,
                                       const address_options& options) noexcept {
    if (domain.size() > options.max_domain) return errc::domain_too_long;
    bool utf8 = false;
    const detail::scan_result scan = detail::scan_domain(domain, options, utf8);
    if (scan.error != errc::ok) return scan.error;
    return scan.end == domain.size() ? errc::ok : errc::bad_domain;
}

/// Checks an address literal including its brackets (RFC 5321 4.1.3) and reports its kind:
/// [IPv4], [IPv6:...] (tag in any case; all four RFC 5321 forms), or [tag:dcontent].
/// The length limit is the caller's (parse_mailbox applies max_domain).
/// Errors: bad_address_literal.
[[nodiscard]] inline errc parse_address_literal(std::string_view literal,
                                                host_kind& kind) noexcept {
    if (literal.size() < 3 || literal.front() != '[' || literal.back() != ']')
        return errc::bad_address_literal;
    const std::string_view inside = literal.substr(1, literal.size() - 2);
    if (detail::istarts_with(inside, "IPv6:")) {
        kind = host_kind::ipv6;
        return detail::is_ipv6_address(inside.substr(5)) ? errc::ok : errc::bad_address_literal;
    }
    if (detail::is_digit(inside.front()) && inside.find(':') == std::string_view::npos) {
        kind = host_kind::ipv4;
        return detail::is_ipv4_literal(inside) ? errc::ok : errc::bad_address_literal;
    }
    kind = host_kind::general;
    return detail::is_general_literal(inside) ? errc::ok : errc::bad_address_literal;
}

/// Checks a Local-part (Dot-string or Quoted-string; UTF-8 when options.allow_utf8), at most
/// options.max_local_part octets as written.
/// Errors: bad_local_part, local_part_too_long, non_ascii, invalid_utf8.
[[nodiscard]] inline errc parse_local_part(std::string_view local_part,
                                           const address_options& options) noexcept {
    bool utf8 = false;
    const detail::scan_result scan = detail::scan_local_part(local_part, options.allow_utf8, utf8);
    if (scan.error != errc::ok) return scan.error;
    if (scan.end != local_part.size()) return errc::bad_local_part;
    return local_part.size() > options.max_local_part ? errc::local_part_too_long : errc::ok;
}

namespace detail {

// Mailbox = Local-part "@" (Domain / address-literal), scanned up to the first octet that
// cannot continue it. `out` views point into `s`.
[[nodiscard]] inline scan_result scan_mailbox(std::string_view s, mailbox& out,
                                              const address_options& options) noexcept {
    bool utf8 = false;
    const scan_result local = scan_local_part(s, options.allow_utf8, utf8);
    if (local.error != errc::ok) return local;
    if (local.end == s.size() || s[local.end] == '>')
        return {errc::bad_domain, local.end}; // no @domain
    if (s[local.end] != '@') return {errc::bad_local_part, local.end};
    if (local.end > options.max_local_part) return {errc::local_part_too_long, local.end};
    out.local_part = s.substr(0, local.end);
    out.quoted = s[0] == '"';
    const std::size_t start = local.end + 1;
    std::size_t end = 0;
    if (start < s.size() && s[start] == '[') {
        const std::size_t close = s.find(']', start);
        if (close == std::string_view::npos) return {errc::bad_address_literal, s.size()};
        end = close + 1;
        out.domain = s.substr(start, end - start);
        if (const errc e = parse_address_literal(out.domain, out.host); e != errc::ok)
            return {e, start};
        if (out.domain.size() > options.max_domain) return {errc::domain_too_long, start};
    } else {
        const scan_result domain = scan_domain(s.substr(start), options, utf8);
        if (domain.error != errc::ok) return {domain.error, start + domain.end};
        end = start + domain.end;
        out.domain = s.substr(start, domain.end);
    }
    out.utf8 = utf8;
    return {errc::ok, end};
}

// The error for octets left over after a mailbox that should have ended the input.
[[nodiscard]] inline errc trailing_after_mailbox(const mailbox& box) noexcept {
    return box.host == host_kind::domain ? errc::bad_domain : errc::bad_address_literal;
}

} // namespace detail

/// Parses a Mailbox: Local-part `"@"` (Domain / address-literal). `out` views point into `text`.
/// Errors: bad_local_part, local_part_too_long, bad_domain (also for a missing `"@domain"`),
/// domain_too_long, bad_address_literal, non_ascii, invalid_utf8. `out` is unspecified on error.
[[nodiscard]] inline errc parse_mailbox(std::string_view text, mailbox& out,
                                        const address_options& options) noexcept {
    out = mailbox{};
    const detail::scan_result scan = detail::scan_mailbox(text, out, options);
    if (scan.error != errc::ok) return scan.error;
    return scan.end == text.size() ? errc::ok : detail::trailing_after_mailbox(out);
}

namespace detail {

enum class path_kind { reverse, forward };

// A-d-l ":" = "@" Domain *("," "@" Domain) ":", starting at s[0] == '@'; ends after the ':'.
[[nodiscard]] inline scan_result
scan_source_route(std::string_view s, const address_options& options, bool& utf8) noexcept {
    std::size_t i = 0;
    for (;;) {
        if (i >= s.size() || s[i] != '@') return {errc::bad_path, i};
        ++i;
        const scan_result domain = scan_domain(s.substr(i), options, utf8);
        const std::size_t stop = i + domain.end;
        // Where the domain stopped tells a broken route ("@,", "@:") from a broken domain.
        const bool at_separator = stop >= s.size() || s[stop] == ',' || s[stop] == ':' ||
                                  s[stop] == '>' || s[stop] == ' ';
        if (domain.error != errc::ok) {
            return {domain.end == 0 && at_separator ? errc::bad_path : domain.error, stop};
        }
        if (!at_separator) return {errc::bad_domain, stop};
        i = stop;
        if (i < s.size() && s[i] == ':') return {errc::ok, i + 1};
        if (i >= s.size() || s[i] != ',') return {errc::bad_path, i};
        ++i;
    }
}

// Path or "<>" or "<Postmaster>", starting at s[0] == '<' and ending after its '>'. `utf8`
// reports 8-bit octets anywhere in the path (mailbox or source route).
[[nodiscard]] inline scan_result scan_path(std::string_view s, path& out,
                                           const address_options& options, path_kind kind,
                                           bool& utf8) noexcept {
    out = path{};
    if (s.size() < 2 || s[0] != '<') return {errc::bad_path, 0};
    if (s[1] == '>') {
        out.text = s.substr(0, 2);
        if (kind == path_kind::forward) return {errc::null_path_not_allowed, 1};
        out.is_null = true;
        return {errc::ok, 2};
    }
    constexpr std::string_view postmaster = "<postmaster>";
    if (kind == path_kind::forward && istarts_with(s, postmaster)) {
        out.text = s.substr(0, postmaster.size());
        out.box.local_part = s.substr(1, postmaster.size() - 2);
        out.is_postmaster = true;
        return {errc::ok, postmaster.size()};
    }
    std::size_t i = 1;
    if (s[1] == '@') {
        const scan_result route = scan_source_route(s.substr(1), options, utf8);
        if (route.error != errc::ok) return {route.error, 1 + route.end};
        out.source_route = s.substr(1, route.end - 1);
        i += route.end;
    }
    const scan_result box = scan_mailbox(s.substr(i), out.box, options);
    if (box.error != errc::ok) return {box.error, i + box.end};
    utf8 = utf8 || out.box.utf8;
    i += box.end;
    if (i >= s.size()) return {errc::bad_path, i};
    if (s[i] != '>') return {trailing_after_mailbox(out.box), i};
    out.text = s.substr(0, i + 1);
    if (out.text.size() > options.max_path) return {errc::path_too_long, i};
    return {errc::ok, i + 1};
}

[[nodiscard]] inline errc parse_path(std::string_view text, path& out,
                                     const address_options& options, path_kind kind) noexcept {
    bool utf8 = false;
    const scan_result scan = scan_path(text, out, options, kind, utf8);
    if (scan.error != errc::ok) return scan.error;
    return scan.end == text.size() ? errc::ok : errc::bad_path;
}

} // namespace detail

/// Parses a Reverse-path: `"<>"` or `Path = "<" [A-d-l ":"] Mailbox ">"` (RFC 5321 4.1.2). The
/// whole text must be the path. A source route is accepted and reported in out.source_route.
/// Views point into `text`. Errors: bad_path, path_too_long (text longer than
/// options.max_path, brackets included) and every parse_mailbox/parse_domain error.
[[nodiscard]] inline errc parse_reverse_path(std::string_view text, path& out,
                                             const address_options& options) noexcept {
    return detail::parse_path(text, out, options, detail::path_kind::reverse);
}

/// Parses a Forward-path: Path or `"<Postmaster>"` in any case (RFC 5321 4.1.1.3). `"<>"` gives
/// null_path_not_allowed; otherwise as parse_reverse_path.
[[nodiscard]] inline errc parse_forward_path(std::string_view text, path& out,
                                             const address_options& options) noexcept {
    return detail::parse_path(text, out, options, detail::path_kind::forward);
}

/// `esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")` (RFC 5321 4.1.2)
[[nodiscard]] constexpr bool is_esmtp_keyword(std::string_view keyword) noexcept {
    return !keyword.empty() && detail::is_alnum(keyword[0]) &&
           detail::all_of_class(keyword, detail::cc_ldh);
}

/// `esmtp-value = 1*(%d33-60 / %d62-126)`, plus well-formed UTF8-non-ascii when `utf8`
/// (RFC 6531 3.3).
[[nodiscard]] inline bool is_esmtp_value(std::string_view value, bool utf8) noexcept {
    if (value.empty()) return false;
    for (std::size_t i = 0; i < value.size();) {
        if (detail::has_class(value[i], detail::cc_esmtp_value)) {
            ++i;
            continue;
        }
        std::size_t length = 0;
        if (detail::is_ascii(value[i]) ||
            detail::check_non_ascii(value, i, utf8, length) != errc::ok)
            return false;
        i += length;
    }
    return true;
}

// ---- xtext (RFC 3461 4) ----
// RFC 3461 wants upper-case hex after "+"; RFC 4954 8 (AUTH=) writes HEXDIG, which ABNF reads
// case-insensitively. Decoders take `allow_lower_hex`: false for DSN's ENVID/ORCPT, true for
// AUTH=. The encoder always writes upper case.

namespace detail {

[[nodiscard]] constexpr bool is_xtext_hex(char c, bool allow_lower_hex) noexcept {
    return is_digit(c) || (c >= 'A' && c <= 'F') || (allow_lower_hex && c >= 'a' && c <= 'f');
}

// Walks an xtext, calling emit(octet) for each decoded octet; false on malformed input.
template <class Emit>
[[nodiscard]] constexpr bool walk_xtext(std::string_view text, bool allow_lower_hex,
                                        Emit&& emit) noexcept {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (has_class(c, cc_xchar)) {
            if (!emit(c)) return false;
            continue;
        }
        if (c != '+' || i + 2 >= text.size()) return false;
        const char hi = text[i + 1];
        const char lo = text[i + 2];
        if (!is_xtext_hex(hi, allow_lower_hex) || !is_xtext_hex(lo, allow_lower_hex)) return false;
        if (!emit(static_cast<char>(hex_value(hi) * 16 + hex_value(lo)))) return false;
        i += 2;
    }
    return true;
}

} // namespace detail

namespace detail {

// xtext syntax; with `printable_only`, decoded octets outside %d32-126 give bad_parameter_value
// (after the whole text was found well-formed).
[[nodiscard]] constexpr errc check_xtext(std::string_view text, bool allow_lower_hex,
                                         bool printable_only) noexcept {
    bool printable = true;
    std::size_t i = skip_graphic<cc_xchar, '+', '='>(text, 0);
    while (i < text.size()) {
        if (text[i] != '+' || i + 2 >= text.size()) return errc::bad_xtext;
        const char hi = text[i + 1];
        const char lo = text[i + 2];
        if (!is_xtext_hex(hi, allow_lower_hex) || !is_xtext_hex(lo, allow_lower_hex)) {
            return errc::bad_xtext;
        }
        const int octet = hex_value(hi) * 16 + hex_value(lo);
        printable = printable && octet >= 32 && octet <= 126;
        i = skip_graphic<cc_xchar, '+', '='>(text, i + 3);
    }
    return printable || !printable_only ? errc::ok : errc::bad_parameter_value;
}

} // namespace detail

/// Checks `xtext = *(xchar / hexchar)`. Errors: bad_xtext.
[[nodiscard]] constexpr errc xtext_validate(std::string_view text,
                                            bool allow_lower_hex = false) noexcept {
    return detail::check_xtext(text, allow_lower_hex, false);
}

/// Checks an xtext whose decoded octets must all be printable US-ASCII (`%d32-126`), as ENVID
/// and ORCPT require (RFC 3461 4.2, 4.4). Errors: bad_xtext, bad_parameter_value.
[[nodiscard]] constexpr errc xtext_validate_printable(std::string_view text,
                                                      bool allow_lower_hex = false) noexcept {
    return detail::check_xtext(text, allow_lower_hex, true);
}

/// Decodes an xtext into out[0..capacity); the decoded size never exceeds text.size().
/// Writes the decoded length to `size`. Errors: bad_xtext, invalid_argument (capacity too
/// small).
[[nodiscard]] inline errc xtext_decode(std::string_view text, char* out, std::size_t capacity,
                                       std::size_t& size, bool allow_lower_hex = false) noexcept {
    size = 0;
    bool full = false;
    const bool ok = detail::walk_xtext(text, allow_lower_hex, [&](char c) {
        if (size == capacity) {
            full = true;
            return false;
        }
        out[size++] = c;
        return true;
    });
    if (full) return errc::invalid_argument;
    return ok ? errc::ok : errc::bad_xtext;
}

/// Octets xtext_encode would append for `raw`.
[[nodiscard]] constexpr std::size_t xtext_encoded_size(std::string_view raw) noexcept {
    std::size_t size = 0;
    for (char c : raw) size += detail::has_class(c, detail::cc_xchar) ? 1 : 3;
    return size;
}

/// Appends the xtext form of `raw` to out (out.append(const char*, std::size_t)): xchars as
/// themselves, every other octet as "+XX" in upper case (RFC 3461 4).
template <class Out>
void xtext_encode(Out& out, std::string_view raw) {
    constexpr char digits[] = "0123456789ABCDEF";
    std::size_t run = 0;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (detail::has_class(raw[i], detail::cc_xchar)) continue;
        if (i > run) out.append(raw.data() + run, i - run);
        const auto octet = static_cast<unsigned char>(raw[i]);
        const char hex[3] = {'+', digits[octet >> 4], digits[octet & 0x0F]};
        out.append(hex, 3);
        run = i + 1;
    }
    if (raw.size() > run) out.append(raw.data() + run, raw.size() - run);
}

// ---- local-part comparison and generation (RFC 5321 4.1.2) ----

namespace detail {

// Yields the octets a local part stands for: quotes dropped, quoted-pairs resolved.
class local_part_reader {
public:
    explicit constexpr local_part_reader(std::string_view written) noexcept : text_(written) {
        if (text_.size() >= 2 && text_.front() == '"' && text_.back() == '"') {
            quoted_ = true;
            text_ = text_.substr(1, text_.size() - 2);
        }
    }
    constexpr bool next(char& c) noexcept {
        if (pos_ >= text_.size()) return false;
        c = text_[pos_++];
        if (quoted_ && c == '\\' && pos_ < text_.size()) c = text_[pos_++];
        return true;
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
    bool quoted_ = false;
};

// A writer over a caller buffer that remembers whether anything did not fit.
struct buffer_writer {
    char* data;
    std::size_t capacity;
    std::size_t size = 0;
    bool overflow = false;
    void append(const char* p, std::size_t n) noexcept {
        if (overflow || capacity - size < n) {
            overflow = true;
            return;
        }
        std::memcpy(data + size, p, n);
        size += n;
    }
};

// Whether `raw` can go on the wire unquoted, or the error that forbids writing it at all.
[[nodiscard]] inline errc classify_raw_local_part(std::string_view raw, bool allow_utf8,
                                                  bool& needs_quotes) noexcept {
    needs_quotes = raw.empty() || raw.front() == '.' || raw.back() == '.';
    for (std::size_t i = 0; i < raw.size();) {
        const char c = raw[i];
        if (!is_ascii(c)) {
            std::size_t length = 0;
            if (const errc e = check_non_ascii(raw, i, allow_utf8, length); e != errc::ok) return e;
            i += length;
            continue;
        }
        if (!has_class(c, cc_print)) return errc::bad_local_part; // controls cannot be quoted
        if (c == '.') {
            if (i + 1 < raw.size() && raw[i + 1] == '.') needs_quotes = true;
        } else if (!has_class(c, cc_atext)) {
            needs_quotes = true;
        }
        ++i;
    }
    return errc::ok;
}

} // namespace detail

/// True when two local parts, each as written (valid Dot-string or Quoted-string), name the
/// same string: `"abc"` equals `abc`, `"a\b"` equals `ab` (RFC 5321 4.1.2 "all quoted forms MUST be
/// treated as equivalent"). Comparison is case-sensitive, as local parts may be.
[[nodiscard]] constexpr bool local_part_equal(std::string_view a, std::string_view b) noexcept {
    detail::local_part_reader ra(a);
    detail::local_part_reader rb(b);
    char ca = 0;
    char cb = 0;
    for (;;) {
        const bool more_a = ra.next(ca);
        const bool more_b = rb.next(cb);
        if (more_a != more_b) return false;
        if (!more_a) return true;
        if (ca != cb) return false;
    }
}

/// ASCII case-insensitive domain comparison (RFC 5321 2.4); non-ASCII octets compare exactly.
[[nodiscard]] constexpr bool domain_equal(std::string_view a, std::string_view b) noexcept {
    return detail::iequals(a, b);
}

/// Appends the local part as written (quotes resolved) without its quoting to `out`
/// (out.append(const char*, std::size_t)). `written` must be a valid local part.
template <class Out>
void unquote_local_part(Out& out, std::string_view written) {
    detail::local_part_reader reader(written);
    char c = 0;
    while (reader.next(c)) out.append(&c, 1);
}

/// Appends `raw` (the intended local-part string) in the minimally quoted wire form
/// (RFC 5321 4.1.2 SHOULD): a valid Dot-string as is, otherwise a Quoted-string escaping only
/// `"` and `\`: `abc` -> `abc`, `a b` -> `"a b"`, `a"b` -> `"a\"b"`. Writes nothing on error.
/// Errors: bad_local_part (a control character), non_ascii (8-bit without allow_utf8),
/// invalid_utf8.
template <class Out>
[[nodiscard]] errc quote_local_part(Out& out, std::string_view raw, bool allow_utf8 = false) {
    bool needs_quotes = false;
    if (const errc e = detail::classify_raw_local_part(raw, allow_utf8, needs_quotes);
        e != errc::ok)
        return e;
    if (!needs_quotes) {
        out.append(raw.data(), raw.size());
        return errc::ok;
    }
    out.append("\"", 1);
    std::size_t run = 0;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '"' && raw[i] != '\\') continue;
        out.append(raw.data() + run, i - run);
        out.append("\\", 1);
        run = i; // the quoted octet starts the next run
    }
    out.append(raw.data() + run, raw.size() - run);
    out.append("\"", 1);
    return errc::ok;
}

/// quote_local_part into buffer[0..capacity); `written` gets the length.
/// Errors: as above, plus invalid_argument (the buffer is too small; nothing usable written).
[[nodiscard]] inline errc quote_local_part(std::string_view raw, char* buffer, std::size_t capacity,
                                           std::size_t& written, bool allow_utf8 = false) noexcept {
    detail::buffer_writer writer{buffer, capacity};
    const errc e = quote_local_part(writer, raw, allow_utf8);
    written = writer.overflow ? 0 : writer.size;
    if (e != errc::ok) return e;
    return writer.overflow ? errc::invalid_argument : errc::ok;
}

SMTPP_NAMESPACE_END

#endif // SMTPP_GRAMMAR_HPP
