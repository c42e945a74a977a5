/// \file
/// smtpp: Postfix's XCLIENT and XFORWARD commands (XCLIENT_README, XFORWARD_README), both sides:
/// reading a command's attributes on the server, writing them on the client, and the EHLO
/// keyword that says which attributes a server takes.
///
/// `XCLIENT NAME=... ADDR=...` lets an authorized client (a proxy, a test tool) override the
/// server's idea of its SMTP client; `XFORWARD NAME=... IDENT=...` hands the up-stream client's
/// attributes through a content filter for logging. Both commands share one grammar,
/// `command 1*(SP attribute-name "=" attribute-value)`, so one set of names serves both:
/// `xclient_verb` says which command, `xclient_attribute` names an attribute of either.
///
/// Values are xtext (RFC 3461 4, which the READMEs cite as RFC 1891): `+XX` with upper-case
/// hex, as ENVID and ORCPT (command.hpp). Each value is decoded, then checked against its
/// attribute's rule:
/// ```unparsed
///   NAME             a hostname as Postfix checks one: labels of letters, digits, '_' and
///                    inner '-', at most 63 octets each, not all digits and dots
///   ADDR, DESTADDR   an IPv4 dotted quad, or "IPV6:" (any case) and an IPv6 address
///                    (RFC 5321 4.1.3 forms), without [brackets]
///   PORT, DESTPORT   1 to 5 decimal digits, at most 65535
///   PROTO            XCLIENT: SMTP or ESMTP, any case; XFORWARD: up to 64 header-safe octets
///   HELO, IDENT      header-safe text: printable ASCII but SP and < > ( ) \ " ; @
///   LOGIN            printable ASCII, SP and well-formed UTF-8 (a SASL name)
///   SOURCE           LOCAL or REMOTE, any case
/// ```
/// `[UNAVAILABLE]` (any case) is allowed for every attribute but XCLIENT's PROTO, and
/// `[TEMPUNAVAIL]` for XCLIENT's NAME only; both are typed (`xclient_value_kind`), never text.
///
/// Decisions where the texts leave room:
///   - No decoded value may hold a control character (C0 or DEL), in any attribute, LOGIN
///     included: the values go into logs, Received: headers and line-based policy protocols,
///     where CR or LF starts a new record, and SASLprep (RFC 4013 2.3) prohibits controls in
///     user names anyway (errc::control_in_attribute).
///   - Every encoded value is at most 255 octets (XFORWARD_README Note 1; XCLIENT_README Note 1
///     for NAME and HELO; Postfix's smtpd applies it to every attribute of both commands).
///   - A command line is at most 512 octets with its CRLF (XCLIENT_README Note 1,
///     XFORWARD_README Note 2), so the argument is at most 502 (XCLIENT) or 501 (XFORWARD).
///   - Strict: exactly one SP between attributes; a repeated attribute is an error (Postfix
///     takes the last); lower-case hex only with `xclient_options::lenient_lower_hex` (Postfix's
///     decoder takes it, its encoder never writes it); values that are not xtext at all (Postfix
///     before 2.3, XCLIENT_README Note 3) are refused.
///   - The writer puts NAME and ADDR in the last command (XCLIENT_README Note 1) and HELO,
///     PROTO and LOGIN there too when they fit, because a Postfix server forgets those three
///     at every XCLIENT that does not carry them ("XCLIENT Server response").
#ifndef SMTPP_XCLIENT_HPP
#define SMTPP_XCLIENT_HPP

#include <smtpp/detail/ascii.hpp>
#include <smtpp/detail/utf8.hpp>
#include <smtpp/ehlo_reader.hpp>
#include <smtpp/error.hpp>
#include <smtpp/grammar.hpp>
#include <smtpp/macros.hpp>
#include <smtpp/reply.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

/// The command: XCLIENT (override the client's attributes) or XFORWARD (forward them for
/// logging).
enum class xclient_verb : std::uint8_t { xclient, xforward };

/// The command's name as written on the wire: "XCLIENT" or "XFORWARD".
[[nodiscard]] constexpr const char* to_string(xclient_verb verb) noexcept {
    return verb == xclient_verb::xclient ? "XCLIENT" : "XFORWARD";
}

/// Finds the command a verb names, in any case (`command::verb_text` of a line parse_command
/// answered with unknown_command). False for any other verb.
[[nodiscard]] constexpr bool lookup_xclient_verb(std::string_view text,
                                                 xclient_verb& verb) noexcept {
    if (detail::iequals(text, "XCLIENT")) {
        verb = xclient_verb::xclient;
        return true;
    }
    if (detail::iequals(text, "XFORWARD")) {
        verb = xclient_verb::xforward;
        return true;
    }
    return false;
}

/// The attributes of both commands. XCLIENT takes NAME to DESTPORT, XFORWARD NAME, ADDR, PORT,
/// PROTO, HELO, IDENT and SOURCE (xclient_attributes_of()).
enum class xclient_attribute : std::uint8_t {
    name,     ///< NAME: the client's hostname
    addr,     ///< ADDR: the client's address
    port,     ///< PORT: the client's TCP port
    proto,    ///< PROTO: SMTP or ESMTP (XCLIENT), the up-stream protocol (XFORWARD)
    helo,     ///< HELO: the HELO/EHLO argument
    login,    ///< LOGIN: the SASL login name (XCLIENT)
    destaddr, ///< DESTADDR: the server's own address (XCLIENT)
    destport, ///< DESTPORT: the server's own TCP port (XCLIENT)
    ident,    ///< IDENT: the up-stream message identifier (XFORWARD)
    source,   ///< SOURCE: LOCAL or REMOTE origin (XFORWARD)
};

/// The number of xclient_attribute values.
inline constexpr std::size_t xclient_attribute_count = 10;

namespace detail {

inline constexpr std::string_view xclient_attribute_names[xclient_attribute_count] = {
    "NAME", "ADDR", "PORT", "PROTO", "HELO", "LOGIN", "DESTADDR", "DESTPORT", "IDENT", "SOURCE"};

[[nodiscard]] constexpr std::size_t index_of(xclient_attribute a) noexcept {
    return static_cast<std::size_t>(a);
}

} // namespace detail

/// The attribute's name as written on the wire, in upper case ("NAME", "DESTPORT", ...).
[[nodiscard]] constexpr const char* to_string(xclient_attribute a) noexcept {
    return detail::xclient_attribute_names[detail::index_of(a)].data();
}

/// A set of attributes: those a command carries, those a server announces.
class xclient_attribute_set {
public:
    /// The empty set.
    constexpr xclient_attribute_set() noexcept = default;

    /// True when `a` is in the set.
    [[nodiscard]] constexpr bool has(xclient_attribute a) const noexcept {
        return (bits_ & bit(a)) != 0;
    }
    /// Adds `a`; returns the set.
    constexpr xclient_attribute_set& add(xclient_attribute a) noexcept {
        bits_ = static_cast<std::uint16_t>(bits_ | bit(a));
        return *this;
    }
    /// Removes `a`; returns the set.
    constexpr xclient_attribute_set& remove(xclient_attribute a) noexcept {
        bits_ = static_cast<std::uint16_t>(bits_ & ~bit(a));
        return *this;
    }
    /// True when no attribute is in the set.
    [[nodiscard]] constexpr bool empty() const noexcept { return bits_ == 0; }
    /// The number of attributes in the set.
    [[nodiscard]] constexpr std::size_t size() const noexcept {
        std::size_t n = 0;
        for (std::uint16_t b = bits_; b != 0; b = static_cast<std::uint16_t>(b & (b - 1))) ++n;
        return n;
    }
    /// The attributes in both sets.
    [[nodiscard]] constexpr xclient_attribute_set
    operator&(xclient_attribute_set other) const noexcept {
        xclient_attribute_set both;
        both.bits_ = static_cast<std::uint16_t>(bits_ & other.bits_);
        return both;
    }
    /// True when both hold the same attributes.
    [[nodiscard]] friend constexpr bool operator==(xclient_attribute_set a,
                                                   xclient_attribute_set b) noexcept {
        return a.bits_ == b.bits_;
    }
    /// True when they differ.
    [[nodiscard]] friend constexpr bool operator!=(xclient_attribute_set a,
                                                   xclient_attribute_set b) noexcept {
        return a.bits_ != b.bits_;
    }

private:
    [[nodiscard]] static constexpr std::uint16_t bit(xclient_attribute a) noexcept {
        return static_cast<std::uint16_t>(1u << detail::index_of(a));
    }

    std::uint16_t bits_ = 0;
};

/// The attributes the README defines for a command (XCLIENT_README, XFORWARD_README: "Command
/// syntax").
[[nodiscard]] constexpr xclient_attribute_set xclient_attributes_of(xclient_verb verb) noexcept {
    using a = xclient_attribute;
    xclient_attribute_set set;
    set.add(a::name).add(a::addr).add(a::port).add(a::proto).add(a::helo);
    if (verb == xclient_verb::xclient)
        set.add(a::login).add(a::destaddr).add(a::destport);
    else
        set.add(a::ident).add(a::source);
    return set;
}

/// Finds the attribute `name` names (any case) among those of `verb`; false when the command
/// has no such attribute.
[[nodiscard]] constexpr bool lookup_xclient_attribute(xclient_verb verb, std::string_view name,
                                                      xclient_attribute& found) noexcept {
    const xclient_attribute_set allowed = xclient_attributes_of(verb);
    for (std::size_t i = 0; i < xclient_attribute_count; ++i) {
        const auto a = static_cast<xclient_attribute>(i);
        if (allowed.has(a) && detail::iequals(name, detail::xclient_attribute_names[i])) {
            found = a;
            return true;
        }
    }
    return false;
}

/// Longest XCLIENT or XFORWARD line, CRLF included: the 512-character SMTP command limit that
/// XCLIENT_README Note 1 and XFORWARD_README Note 2 hold a client to.
inline constexpr std::size_t xclient_line_limit = 512;

/// Longest attribute value as written (xtext-encoded): XFORWARD_README Note 1, XCLIENT_README
/// Note 1 (NAME, HELO); Postfix applies it to every attribute of both commands. A decoded value
/// is never longer than its encoding, so decoded values are at most this long too.
inline constexpr std::size_t xclient_value_limit = 255;

/// Longest XFORWARD PROTO value, decoded (XFORWARD_README: "Command syntax").
inline constexpr std::size_t xforward_proto_limit = 64;

/// What an attribute carries.
enum class xclient_value_kind : std::uint8_t {
    absent,      ///< not given
    text,        ///< a value (xclient_value::text, decoded)
    unavailable, ///< `[UNAVAILABLE]`: the information is unavailable
    tempunavail, ///< `[TEMPUNAVAIL]`: XCLIENT NAME only, the hostname lookup failed for now
};

/// One attribute's value: a special or decoded octets. The view is not owned: it points into
/// an xclient_attributes, or into what the caller gave the writer.
struct xclient_value {
    xclient_value_kind kind = xclient_value_kind::absent; ///< absent, text or a special
    std::string_view text; ///< the decoded value when kind is text; empty otherwise

    /// A text value (decoded: the writer encodes it).
    [[nodiscard]] static constexpr xclient_value of(std::string_view decoded) noexcept {
        return {xclient_value_kind::text, decoded};
    }
    /// `[UNAVAILABLE]`.
    [[nodiscard]] static constexpr xclient_value unavailable() noexcept {
        return {xclient_value_kind::unavailable, {}};
    }
    /// `[TEMPUNAVAIL]` (XCLIENT NAME only).
    [[nodiscard]] static constexpr xclient_value tempunavail() noexcept {
        return {xclient_value_kind::tempunavail, {}};
    }
    /// True unless the value is absent.
    [[nodiscard]] constexpr bool present() const noexcept {
        return kind != xclient_value_kind::absent;
    }
    /// True when both have the same kind and, for text, the same octets.
    [[nodiscard]] friend constexpr bool operator==(const xclient_value& a,
                                                   const xclient_value& b) noexcept {
        return a.kind == b.kind && (a.kind != xclient_value_kind::text || a.text == b.text);
    }
    /// True when they differ.
    [[nodiscard]] friend constexpr bool operator!=(const xclient_value& a,
                                                   const xclient_value& b) noexcept {
        return !(a == b);
    }
};

/// The address family of an ADDR or DESTADDR value.
enum class xclient_address_family : std::uint8_t {
    none, ///< absent, or a special
    ipv4, ///< a dotted quad
    ipv6, ///< written with the `IPV6:` prefix
};

/// An ADDR or DESTADDR value split into its family and the address.
struct xclient_address {
    xclient_address_family family = xclient_address_family::none; ///< none, ipv4 or ipv6
    std::string_view text; ///< the address without its `IPV6:` prefix; empty for none
};

/// Leniencies of parse_xclient, all off by default.
struct xclient_options {
    /// Accepts lower-case hex after "+" (`+2b`), which RFC 3461 4 does not allow; Postfix's
    /// decoder takes it. Risk: low (two spellings of one octet).
    bool lenient_lower_hex = false;
};

namespace detail {
struct xclient_store;
} // namespace detail

/// The attributes of one XCLIENT or XFORWARD command, decoded and checked, in storage of its own
/// (no allocation): views it hands out point into the object and stay valid until it is assigned
/// to, cleared, parsed into again or destroyed. Copying copies the values. The storage holds the
/// decoded values of one command line of at most xclient_line_limit octets, which is all
/// parse_xclient accepts; merging several commands' attributes (XFORWARD sends them incrementally)
/// is the caller's business.
class xclient_attributes {
public:
    /// Octets of decoded values one command can carry: a 512-octet line less its CRLF, the
    /// shorter verb and its SP ("XCLIENT ") and the shortest `NAME=`.
    static constexpr std::size_t capacity = xclient_line_limit - 2 - 8 - 5;

    /// No attributes, for XCLIENT.
    xclient_attributes() noexcept = default;

    /// The command the attributes came with.
    [[nodiscard]] xclient_verb verb() const noexcept { return verb_; }
    /// The attributes given.
    [[nodiscard]] xclient_attribute_set present() const noexcept { return present_; }
    /// True when `a` was given.
    [[nodiscard]] bool has(xclient_attribute a) const noexcept { return present_.has(a); }
    /// The value of `a` (kind absent when not given); a text view points into this object.
    [[nodiscard]] xclient_value get(xclient_attribute a) const noexcept {
        const slot& s = slots_[detail::index_of(a)];
        if (s.kind != xclient_value_kind::text) return {s.kind, {}};
        return xclient_value::of({storage_ + s.offset, s.size});
    }
    /// The number a PORT or DESTPORT text value holds; 0 when `a` has no text value or is
    /// another attribute.
    [[nodiscard]] std::uint16_t port(xclient_attribute a = xclient_attribute::port) const noexcept {
        if (a != xclient_attribute::port && a != xclient_attribute::destport) return 0;
        std::uint16_t n = 0;
        for (const char c : get(a).text) n = static_cast<std::uint16_t>(n * 10 + (c - '0'));
        return n;
    }
    /// An ADDR or DESTADDR text value split into family and address; family none when `a` has
    /// no text value or is another attribute.
    [[nodiscard]] xclient_address
    address(xclient_attribute a = xclient_attribute::addr) const noexcept {
        if (a != xclient_attribute::addr && a != xclient_attribute::destaddr) return {};
        const std::string_view text = get(a).text;
        if (text.empty()) return {};
        if (detail::istarts_with(text, "IPV6:"))
            return {xclient_address_family::ipv6, text.substr(5)};
        return {xclient_address_family::ipv4, text};
    }
    /// Back to no attributes, for `verb`.
    void clear(xclient_verb verb = xclient_verb::xclient) noexcept {
        for (slot& s : slots_) s = slot{};
        present_ = {};
        used_ = 0;
        verb_ = verb;
    }

    /// True when both came with the same command and carry the same values.
    [[nodiscard]] friend bool operator==(const xclient_attributes& a,
                                         const xclient_attributes& b) noexcept {
        if (a.verb_ != b.verb_ || a.present_ != b.present_) return false;
        for (std::size_t i = 0; i < xclient_attribute_count; ++i) {
            const auto attribute = static_cast<xclient_attribute>(i);
            if (a.get(attribute) != b.get(attribute)) return false;
        }
        return true;
    }
    /// True when they differ.
    [[nodiscard]] friend bool operator!=(const xclient_attributes& a,
                                         const xclient_attributes& b) noexcept {
        return !(a == b);
    }

private:
    friend struct detail::xclient_store;

    struct slot {
        std::uint16_t offset = 0; // into storage_
        std::uint8_t size = 0;    // decoded values are at most xclient_value_limit (255) octets
        xclient_value_kind kind = xclient_value_kind::absent;
    };
    static_assert(xclient_value_limit <= UINT8_MAX, "slot::size holds a decoded value's size");
    static_assert(capacity <= UINT16_MAX, "slot::offset reaches the whole storage");

    // Zeroed once, so that copying the object never reads indeterminate octets.
    char storage_[capacity] = {};
    slot slots_[xclient_attribute_count];
    std::uint16_t used_ = 0;
    xclient_attribute_set present_;
    xclient_verb verb_ = xclient_verb::xclient;
};

/// What parse_xclient found: ok, or the error, the reply it calls for and where it is.
struct xclient_parse_result {
    errc error = errc::ok; ///< ok, or why the command was refused
    reply_spec reply;      ///< the reply the failure calls for (static text); code 0 on success
    /// The `attribute=value` the error is about, a view into the argument; empty when the error
    /// is about the whole argument (missing_argument, line_too_long).
    std::string_view token;

    /// True when the command is valid.
    [[nodiscard]] bool ok() const noexcept { return error == errc::ok; }
};

namespace detail {

// Which rule an attribute's decoded text follows.
enum class xclient_rule : std::uint8_t {
    hostname,
    address,
    port,
    smtp_protocol,
    header_text,
    login,
    source,
};

struct xclient_spec {
    xclient_rule rule;
    bool unavailable;     // [UNAVAILABLE] allowed
    bool tempunavail;     // [TEMPUNAVAIL] allowed
    std::size_t max_text; // decoded octets
};

// The rule of `a` in `verb`'s command; `a` must be one of its attributes.
[[nodiscard]] constexpr xclient_spec spec_of(xclient_verb verb, xclient_attribute a) noexcept {
    const bool xclient = verb == xclient_verb::xclient;
    switch (a) {
    case xclient_attribute::name:
        return {xclient_rule::hostname, true, xclient, xclient_value_limit};
    case xclient_attribute::addr:
    case xclient_attribute::destaddr:
        return {xclient_rule::address, true, false, xclient_value_limit};
    case xclient_attribute::port:
    case xclient_attribute::destport:
        return {xclient_rule::port, true, false, xclient_value_limit};
    case xclient_attribute::proto:
        if (xclient) return {xclient_rule::smtp_protocol, false, false, xclient_value_limit};
        return {xclient_rule::header_text, true, false, xforward_proto_limit};
    case xclient_attribute::helo:
    case xclient_attribute::ident:
        return {xclient_rule::header_text, true, false, xclient_value_limit};
    case xclient_attribute::login:
        return {xclient_rule::login, true, false, xclient_value_limit};
    case xclient_attribute::source:
        return {xclient_rule::source, true, false, xclient_value_limit};
    }
    return {xclient_rule::header_text, false, false, 0};
}

inline constexpr std::string_view xclient_unavailable = "[UNAVAILABLE]";
inline constexpr std::string_view xclient_tempunavail = "[TEMPUNAVAIL]";

// Postfix's valid_hostname(): labels of letters, digits and '_' with inner hyphens, at most 63
// octets each, no empty label, no trailing dot, not made of digits and dots only.
[[nodiscard]] constexpr bool is_xclient_hostname(std::string_view s) noexcept {
    if (s.empty() || s.size() > xclient_value_limit) return false;
    std::size_t label = 0;
    bool non_numeric = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool last = i + 1 == s.size();
        if (c == '.') {
            if (label == 0 || last) return false;
            label = 0;
            continue;
        }
        if (c == '-') {
            if (label == 0 || last || s[i + 1] == '.') return false;
        } else if (!is_alnum(c) && c != '_') {
            return false;
        }
        if (++label > 63) return false;
        non_numeric = non_numeric || !is_digit(c);
    }
    return non_numeric;
}

// Printable ASCII but SP and the characters Postfix's smtpd neuters because they are special
// in message headers (XFORWARD_README Note 1).
[[nodiscard]] constexpr bool is_xclient_header_text(std::string_view s) noexcept {
    constexpr std::string_view specials = "<>()\\\";@";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 33 || u > 126 || specials.find(c) != std::string_view::npos) return false;
    }
    return true;
}

[[nodiscard]] constexpr bool is_xclient_port(std::string_view s) noexcept {
    if (s.empty() || s.size() > 5) return false;
    unsigned value = 0;
    for (const char c : s) {
        if (!is_digit(c)) return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value <= 65535;
}

[[nodiscard]] inline bool is_xclient_address(std::string_view s) noexcept {
    if (istarts_with(s, "IPV6:")) return is_ipv6_address(s.substr(5));
    return is_ipv4_literal(s);
}

[[nodiscard]] inline bool follows_rule(xclient_rule rule, std::string_view s) noexcept {
    switch (rule) {
    case xclient_rule::hostname:
        return is_xclient_hostname(s);
    case xclient_rule::address:
        return is_xclient_address(s);
    case xclient_rule::port:
        return is_xclient_port(s);
    case xclient_rule::smtp_protocol:
        return iequals(s, "SMTP") || iequals(s, "ESMTP");
    case xclient_rule::header_text:
        return is_xclient_header_text(s);
    case xclient_rule::login:
        return is_valid_utf8(s); // controls were refused before
    case xclient_rule::source:
        return iequals(s, "LOCAL") || iequals(s, "REMOTE");
    }
    return false;
}

// Reads a decoded value: a special, or text that follows the attribute's rule. A text that
// spells a special is that special (the READMEs compare after decoding).
[[nodiscard]] inline errc read_xclient_value(xclient_verb verb, xclient_attribute a,
                                             std::string_view decoded,
                                             xclient_value_kind& kind) noexcept {
    const xclient_spec spec = spec_of(verb, a);
    if (has_control(decoded)) return errc::control_in_attribute;
    if (iequals(decoded, xclient_unavailable)) {
        kind = xclient_value_kind::unavailable;
        return spec.unavailable ? errc::ok : errc::bad_attribute_value;
    }
    if (iequals(decoded, xclient_tempunavail)) {
        kind = xclient_value_kind::tempunavail;
        return spec.tempunavail ? errc::ok : errc::bad_attribute_value;
    }
    kind = xclient_value_kind::text;
    if (decoded.size() > spec.max_text) return errc::attribute_too_long;
    return follows_rule(spec.rule, decoded) ? errc::ok : errc::bad_attribute_value;
}

// The replies to parse_xclient's failures: 501 5.5.4 as Postfix answers (XCLIENT_README,
// XFORWARD_README: "server reply codes", 501 "bad command parameter syntax").
inline constexpr enhanced_status xclient_status{5, 5, 4};

[[nodiscard]] constexpr reply_spec xclient_error_reply(xclient_verb verb, errc e) noexcept {
    switch (e) {
    case errc::missing_argument:
        return {501, xclient_status,
                verb == xclient_verb::xclient ? "Syntax: XCLIENT attribute=value ..."
                                              : "Syntax: XFORWARD attribute=value ..."};
    case errc::line_too_long:
        return replies::line_too_long;
    case errc::unknown_attribute:
        return {501, xclient_status, "Bad attribute name"};
    case errc::duplicate_attribute:
        return {501, xclient_status, "Duplicate attribute"};
    case errc::bad_xtext:
        return {501, xclient_status, "Malformed xtext in attribute value"};
    case errc::attribute_too_long:
        return {501, xclient_status, "Attribute value too long"};
    case errc::control_in_attribute:
        return {501, xclient_status, "Control character in attribute value"};
    case errc::bad_attribute_value:
        return {501, xclient_status, "Bad attribute value syntax"};
    default:
        return {501, xclient_status, "Error: attribute=value expected"};
    }
}

// The one way into xclient_attributes' storage.
struct xclient_store {
    // Decodes `raw` into the free storage of `out` and reads it as `a`'s value.
    [[nodiscard]] static errc add(xclient_attributes& out, xclient_attribute a,
                                  std::string_view raw, bool lower_hex) noexcept {
        std::size_t size = 0;
        char* const free = out.storage_ + out.used_;
        const errc e =
            xtext_decode(raw, free, xclient_attributes::capacity - out.used_, size, lower_hex);
        SMTPP_ASSERT(e != errc::invalid_argument); // parse_xclient bounded the argument
        if (e != errc::ok) return e == errc::invalid_argument ? errc::line_too_long : e;
        xclient_value_kind kind = xclient_value_kind::absent;
        if (const errc r = read_xclient_value(out.verb_, a, {free, size}, kind); r != errc::ok)
            return r;
        xclient_attributes::slot& s = out.slots_[index_of(a)];
        s.kind = kind;
        if (kind == xclient_value_kind::text) {
            s.offset = out.used_;
            s.size = static_cast<std::uint8_t>(size);
            out.used_ = static_cast<std::uint16_t>(out.used_ + size);
        }
        out.present_.add(a);
        return errc::ok;
    }
};

// One `attribute=value` of the argument into `out`.
[[nodiscard]] inline errc parse_xclient_token(std::string_view token, xclient_attributes& out,
                                              const xclient_options& options) noexcept {
    const std::size_t equals = token.find('=');
    if (equals == 0 || equals == std::string_view::npos) return errc::bad_attribute;
    xclient_attribute a{};
    if (!lookup_xclient_attribute(out.verb(), token.substr(0, equals), a))
        return errc::unknown_attribute;
    if (out.has(a)) return errc::duplicate_attribute;
    const std::string_view raw = token.substr(equals + 1);
    if (raw.empty()) return errc::bad_attribute;
    if (raw.size() > xclient_value_limit) return errc::attribute_too_long;
    return xclient_store::add(out, a, raw, options.lenient_lower_hex);
}

} // namespace detail

/// Parses the argument of an XCLIENT or XFORWARD command: everything after "XCLIENT " or
/// "XFORWARD " without the CRLF (`command::argument` of a line parse_command answered with
/// unknown_command, its verb found by lookup_xclient_verb). Attribute names are
/// case-insensitive; values are decoded and checked as the top of this header lists. `out`
/// receives the attributes, or nothing on error. Errors (result.error, result.reply a 501 5.5.4
/// unless noted, result.token the attribute at fault):
///   missing_argument      no attribute at all
///   line_too_long         the argument makes a line longer than xclient_line_limit (500 5.5.2)
///   bad_attribute         no "=", an empty name or value, a separator other than one SP
///   unknown_attribute     a name the command does not define
///   duplicate_attribute   a name given twice
///   bad_xtext             not xtext (RFC 3461 4)
///   attribute_too_long    a value longer than xclient_value_limit as written, or an XFORWARD
///                         PROTO longer than xforward_proto_limit decoded
///   control_in_attribute  a decoded value holds a control character (CR, LF, NUL, ...)
///   bad_attribute_value   a decoded value the attribute does not take
[[nodiscard]] inline xclient_parse_result
parse_xclient(xclient_verb verb, std::string_view argument, xclient_attributes& out,
              const xclient_options& options = {}) noexcept {
    out.clear(verb);
    xclient_parse_result result;
    const std::size_t verb_size = std::string_view(to_string(verb)).size();
    errc e = errc::ok;
    if (argument.empty()) {
        e = errc::missing_argument;
    } else if (argument.size() > xclient_line_limit - 2 - verb_size - 1) {
        e = errc::line_too_long;
    } else {
        for (std::size_t start = 0; start <= argument.size();) {
            std::size_t end = argument.find(' ', start);
            if (end == std::string_view::npos) end = argument.size();
            const std::string_view token = argument.substr(start, end - start);
            e = detail::parse_xclient_token(token, out, options);
            if (e != errc::ok) {
                result.token = token;
                break;
            }
            start = end + 1;
        }
    }
    if (e != errc::ok) {
        out.clear(verb);
        result.error = e;
        result.reply = detail::xclient_error_reply(verb, e);
    }
    return result;
}

/// What a client asks to send with XCLIENT or XFORWARD: a value per attribute, absent ones
/// left out. The views are not copied: what they point to must outlive the writer's call.
class xclient_request {
public:
    /// Nothing to send, with `verb`.
    constexpr explicit xclient_request(xclient_verb verb = xclient_verb::xclient) noexcept
        : verb_(verb) {}

    /// The request that sends `parsed` again (a filter forwarding what it received); its views
    /// point into `parsed`.
    [[nodiscard]] static xclient_request of(const xclient_attributes& parsed) noexcept {
        xclient_request r(parsed.verb());
        for (std::size_t i = 0; i < xclient_attribute_count; ++i) {
            const auto a = static_cast<xclient_attribute>(i);
            r.values_[i] = parsed.get(a);
        }
        return r;
    }

    /// The command the request is for.
    [[nodiscard]] constexpr xclient_verb verb() const noexcept { return verb_; }
    /// Sets the value of `a` (xclient_value{} to leave it out); returns the request.
    constexpr xclient_request& set(xclient_attribute a, xclient_value value) noexcept {
        values_[detail::index_of(a)] = value;
        return *this;
    }
    /// The value of `a`.
    [[nodiscard]] constexpr xclient_value get(xclient_attribute a) const noexcept {
        return values_[detail::index_of(a)];
    }
    /// The attributes with a value.
    [[nodiscard]] constexpr xclient_attribute_set present() const noexcept {
        xclient_attribute_set set;
        for (std::size_t i = 0; i < xclient_attribute_count; ++i) {
            if (values_[i].present()) set.add(static_cast<xclient_attribute>(i));
        }
        return set;
    }
    /// A copy without the attributes `offered` lacks: what a server announced in its EHLO
    /// reply (find_xclient_offer), so that a client sends only those.
    [[nodiscard]] constexpr xclient_request only(xclient_attribute_set offered) const noexcept {
        xclient_request r = *this;
        for (std::size_t i = 0; i < xclient_attribute_count; ++i) {
            if (!offered.has(static_cast<xclient_attribute>(i))) r.values_[i] = {};
        }
        return r;
    }

private:
    std::array<xclient_value, xclient_attribute_count> values_{};
    xclient_verb verb_;
};

namespace detail {

// Which attributes go on which command line, first line first.
struct xclient_plan {
    std::size_t count = 0;
    xclient_attribute_set lines[xclient_attribute_count];
};

// The order attributes claim room on the LAST line. XCLIENT: NAME and ADDR must be there
// (XCLIENT_README Note 1: "send NAME and ADDR last"), and HELO, PROTO and LOGIN survive only
// there on a Postfix server, which resets them at every XCLIENT that lacks them.
inline constexpr xclient_attribute xclient_priority[] = {
    xclient_attribute::addr,     xclient_attribute::name,     xclient_attribute::helo,
    xclient_attribute::proto,    xclient_attribute::login,    xclient_attribute::port,
    xclient_attribute::destaddr, xclient_attribute::destport, xclient_attribute::ident,
    xclient_attribute::source};
static_assert(sizeof xclient_priority / sizeof xclient_priority[0] == xclient_attribute_count,
              "every attribute has a priority");

[[nodiscard]] inline std::string_view special_text(xclient_value_kind kind) noexcept {
    return kind == xclient_value_kind::tempunavail ? xclient_tempunavail : xclient_unavailable;
}

// Checks a value the caller wants to send, as parse_xclient would check it on the other side;
// `cost` gets the octets " NAME=value" takes on the line.
[[nodiscard]] inline errc check_request_value(xclient_verb verb, xclient_attribute a,
                                              const xclient_value& v, std::size_t& cost) noexcept {
    if (!xclient_attributes_of(verb).has(a)) return errc::unknown_attribute;
    std::size_t encoded = special_text(v.kind).size();
    if (v.kind == xclient_value_kind::text) {
        if (v.text.empty()) return errc::bad_attribute;
        xclient_value_kind read = xclient_value_kind::absent;
        const errc e = read_xclient_value(verb, a, v.text, read);
        if (e != errc::ok) return e;
        // Text that spells a special would be read back as that special.
        if (read != xclient_value_kind::text) return errc::bad_attribute_value;
        encoded = xtext_encoded_size(v.text);
        if (encoded > xclient_value_limit) return errc::attribute_too_long;
    } else {
        const xclient_spec spec = spec_of(verb, a);
        const bool allowed =
            v.kind == xclient_value_kind::tempunavail ? spec.tempunavail : spec.unavailable;
        if (!allowed) return errc::bad_attribute_value;
    }
    cost = 1 + xclient_attribute_names[index_of(a)].size() + 1 + encoded;
    return errc::ok;
}

// Fills the last line first, each line with the attributes of highest priority that fit
// (first fit), then the line before it with what is left.
[[nodiscard]] inline errc plan_xclient(const xclient_request& request, std::size_t line_limit,
                                       xclient_plan& plan) noexcept {
    plan = {};
    if (line_limit > xclient_line_limit) return errc::invalid_argument;
    const xclient_verb verb = request.verb();
    std::size_t cost[xclient_attribute_count] = {};
    xclient_attribute_set left;
    for (std::size_t i = 0; i < xclient_attribute_count; ++i) {
        const auto a = static_cast<xclient_attribute>(i);
        const xclient_value v = request.get(a);
        if (!v.present()) continue;
        if (const errc e = check_request_value(verb, a, v, cost[i]); e != errc::ok) return e;
        left.add(a);
    }
    const std::size_t frame = std::string_view(to_string(verb)).size() + 2; // verb, CRLF
    xclient_attribute_set reversed[xclient_attribute_count];
    while (!left.empty()) {
        std::size_t room = line_limit > frame ? line_limit - frame : 0;
        xclient_attribute_set line;
        for (const xclient_attribute a : xclient_priority) {
            if (!left.has(a) || cost[index_of(a)] > room) continue;
            room -= cost[index_of(a)];
            line.add(a);
            left.remove(a);
        }
        if (line.empty()) return errc::invalid_argument; // one attribute alone does not fit
        reversed[plan.count++] = line;
    }
    for (std::size_t i = 0; i < plan.count; ++i) plan.lines[i] = reversed[plan.count - 1 - i];
    return errc::ok;
}

template <class Out>
void put_xclient_line(Out& out, const xclient_request& request, xclient_attribute_set line) {
    const std::string_view verb = to_string(request.verb());
    out.append(verb.data(), verb.size());
    for (std::size_t i = 0; i < xclient_attribute_count; ++i) {
        const auto a = static_cast<xclient_attribute>(i);
        if (!line.has(a)) continue;
        const std::string_view name = xclient_attribute_names[i];
        out.append(" ", 1);
        out.append(name.data(), name.size());
        out.append("=", 1);
        const xclient_value v = request.get(a);
        if (v.kind == xclient_value_kind::text) {
            xtext_encode(out, v.text);
        } else {
            const std::string_view special = special_text(v.kind);
            out.append(special.data(), special.size());
        }
    }
    out.append("\r\n", 2);
}

} // namespace detail

/// How many command lines write_xclient writes for `request` with lines of at most
/// `line_limit` octets (CRLF included); 0 when nothing is present. Errors as write_xclient.
[[nodiscard]] inline errc
count_xclient_lines(const xclient_request& request, std::size_t& count,
                    std::size_t line_limit = xclient_line_limit) noexcept {
    detail::xclient_plan plan;
    const errc e = detail::plan_xclient(request, line_limit, plan);
    count = plan.count;
    return e;
}

/// Appends the XCLIENT or XFORWARD command lines that carry `request`'s attributes (each ending
/// in CRLF, values xtext-encoded, specials as written), as few lines as first fit gives, each
/// at most `line_limit` octets with its CRLF (XCLIENT_README Note 1, XFORWARD_README Note 2).
/// NAME and ADDR go on the last line, with HELO, PROTO and LOGIN when they fit (see the top of
/// this header). `lines` gets the number written. Every value is checked as parse_xclient
/// checks it; nothing is written on error:
///   unknown_attribute     an attribute the command does not define
///   bad_attribute         an empty text value
///   control_in_attribute, bad_attribute_value   a value parse_xclient would refuse (also text
///                         that spells a special: use the kind)
///   attribute_too_long    a value longer than xclient_value_limit encoded, or an XFORWARD
///                         PROTO longer than xforward_proto_limit
///   invalid_argument      line_limit above xclient_line_limit, or too small for one attribute
template <class Out>
[[nodiscard]] errc write_xclient(Out& out, const xclient_request& request, std::size_t& lines,
                                 std::size_t line_limit = xclient_line_limit) {
    detail::xclient_plan plan;
    lines = 0;
    if (const errc e = detail::plan_xclient(request, line_limit, plan); e != errc::ok) return e;
    for (std::size_t i = 0; i < plan.count; ++i)
        detail::put_xclient_line(out, request, plan.lines[i]);
    lines = plan.count;
    return errc::ok;
}

/// Appends only line `index` (from 0) of what write_xclient would write, for a client that
/// sends one command and waits for its reply before the next (an XCLIENT that carries ADDR
/// usually ends the client's authorization). Errors as write_xclient, and invalid_argument
/// when `index` is not below count_xclient_lines(); nothing is written on error.
template <class Out>
[[nodiscard]] errc write_xclient_line(Out& out, const xclient_request& request, std::size_t index,
                                      std::size_t line_limit = xclient_line_limit) {
    detail::xclient_plan plan;
    if (const errc e = detail::plan_xclient(request, line_limit, plan); e != errc::ok) return e;
    if (index >= plan.count) return errc::invalid_argument;
    detail::put_xclient_line(out, request, plan.lines[index]);
    return errc::ok;
}

/// Reads the parameters of an EHLO `XCLIENT` or `XFORWARD` line ("NAME ADDR PORT ..."): the
/// attributes the server takes. Names match in any case; names the command does not define
/// (Postfix also announces XCLIENT REVERSE_NAME) are skipped.
[[nodiscard]] inline xclient_attribute_set parse_xclient_offer(xclient_verb verb,
                                                               std::string_view params) noexcept {
    xclient_attribute_set offered;
    for (const std::string_view word : word_list{params}) {
        xclient_attribute a{};
        if (lookup_xclient_attribute(verb, word, a)) offered.add(a);
    }
    return offered;
}

/// Looks for the `verb` keyword among a server's EHLO capabilities: true when it is there, with
/// the attributes it lists in `offered` (maybe none); false and an empty set when it is not.
[[nodiscard]] inline bool find_xclient_offer(const capabilities& caps, xclient_verb verb,
                                             xclient_attribute_set& offered) noexcept {
    offered = {};
    ehlo_extension line;
    if (!caps.find(to_string(verb), line)) return false;
    offered = parse_xclient_offer(verb, line.params);
    return true;
}

/// Appends the EHLO line a server announces the command with, without CRLF: the keyword and
/// the names of the attributes of `offered` the command defines ("XCLIENT NAME ADDR PROTO
/// HELO"), e.g. for ehlo_offer::extra.
template <class Out>
void write_xclient_offer(Out& out, xclient_verb verb, xclient_attribute_set offered) {
    const std::string_view keyword = to_string(verb);
    out.append(keyword.data(), keyword.size());
    const xclient_attribute_set defined = xclient_attributes_of(verb);
    for (std::size_t i = 0; i < xclient_attribute_count; ++i) {
        const auto a = static_cast<xclient_attribute>(i);
        if (!offered.has(a) || !defined.has(a)) continue;
        out.append(" ", 1);
        out.append(detail::xclient_attribute_names[i].data(),
                   detail::xclient_attribute_names[i].size());
    }
}

SMTPP_NAMESPACE_END

#endif // SMTPP_XCLIENT_HPP
