// smtpp: EHLO/LHLO capabilities, written by servers and parsed by clients
// (RFC 5321 4.1.1.1, 2.2.2; RFC 1870, 2034, 2920, 3030, 3207, 3461, 4954, 6152, 6531).
#ifndef SMTPP_CAPABILITIES_HPP
#define SMTPP_CAPABILITIES_HPP

#include <smtpp/config.hpp>
#include <smtpp/detail/ascii.hpp>
#include <smtpp/error.hpp>
#include <smtpp/grammar.hpp>
#include <smtpp/limits.hpp>
#include <smtpp/reply.hpp>
#include <smtpp/reply_reader.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

// ---- Server side ----

// The extensions a server advertises. String views are not copied: what they point to must
// outlive the calls that use this struct.
struct server_extensions {
    bool pipelining = true;            // RFC 2920
    bool size = true;                  // RFC 1870: "SIZE <size_limit>"
    std::uint64_t size_limit = 0;      // fixed maximum message size; 0 = none ("SIZE 0")
    bool eight_bit_mime = true;        // RFC 6152
    bool smtputf8 = false;             // RFC 6531; needs eight_bit_mime
    bool enhanced_status_codes = true; // RFC 2034
    bool chunking = false;             // RFC 3030
    bool binarymime = false;           // RFC 3030; needs chunking
    bool dsn = false;                  // RFC 3461
    bool starttls = false;             // RFC 3207: only while the connection is not yet encrypted
    // RFC 4954: SASL mechanism names (upper case, 1-20 of A-Z 0-9 - _), separated by single
    // spaces, e.g. "PLAIN LOGIN". Empty: no AUTH line.
    std::string_view auth_mechanisms;
    bool expn = false;
    bool help = false;
    // Further lines, written as given after the ones above: "XCLIENT NAME ADDR" (private X
    // keywords) or registered extensions this struct does not model ("DELIVERBY 60").
    // Empty entries are skipped.
    static constexpr std::size_t max_extra = 8;
    std::array<std::string_view, max_extra> extra{};

    // Checks the struct. Returns ok or invalid_config when: smtputf8 without eight_bit_mime
    // (RFC 6531 3.1(8)); binarymime without chunking (RFC 3030 3); a size_limit below 64K
    // (RFC 5321 4.5.3.1.7); auth_mechanisms malformed; an extra line malformed (keyword
    // *(SP param), RFC 5321 4.1.1.1), repeating a keyword modelled above, or with a keyword
    // that neither starts with X nor is registered with IANA (RFC 5321 2.2.2).
    [[nodiscard]] errc validate() const noexcept;
};

namespace detail {

// Registered EHLO keywords (IANA "SMTP Service Extensions") that server_extensions has no
// flag for; the modelled ones are in modelled_keywords.
inline constexpr std::string_view other_registered_keywords[] = {
    "SEND",        "SOML",          "SAML",      "VRFY",     "TURN",          "VERB",
    "ONEX",        "CHECKPOINT",    "DELIVERBY", "ETRN",     "NO-SOLICITING", "MTRK",
    "ATRN",        "FUTURERELEASE", "CONNEG",    "BURL",     "CONPERM",       "RRVS",
    "MT-PRIORITY", "REQUIRETLS",    "LIMITS",    "SUBMITTER"};

inline constexpr std::string_view modelled_keywords[] = {
    "PIPELINING", "SIZE",       "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES",
    "CHUNKING",   "BINARYMIME", "DSN",      "STARTTLS", "AUTH",
    "EXPN",       "HELP"};

template <std::size_t N>
[[nodiscard]] constexpr bool is_one_of(std::string_view keyword,
                                       const std::string_view (&list)[N]) noexcept {
    for (const std::string_view k : list) {
        if (iequals(keyword, k)) return true;
    }
    return false;
}

// SASL mechanism names (RFC 4422 3.1), separated by single spaces.
[[nodiscard]] constexpr bool is_mechanism_names(std::string_view list) noexcept {
    std::size_t length = 0;
    for (const char c : list) {
        if (c == ' ') {
            if (length == 0) return false;
            length = 0;
            continue;
        }
        const bool name_char = (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '_';
        if (!name_char || ++length > 20) return false;
    }
    return length > 0;
}

// ehlo-line = ehlo-keyword *(SP ehlo-param), ehlo-param = 1*(%d33-126)  (RFC 5321 4.1.1.1)
[[nodiscard]] constexpr bool is_ehlo_line(std::string_view line,
                                          std::string_view& keyword) noexcept {
    keyword = line.substr(0, line.find(' '));
    if (!is_esmtp_keyword(keyword)) return false;
    std::size_t param = 0;
    for (std::size_t i = keyword.size(); i < line.size(); ++i) {
        if (line[i] == ' ') {
            if (param == 0 && i != keyword.size()) return false;
            param = 0;
        } else if (!has_class(line[i], cc_print)) {
            return false;
        } else {
            ++param;
        }
    }
    return line.size() == keyword.size() || param > 0;
}

[[nodiscard]] constexpr bool is_valid_extra(std::string_view line) noexcept {
    std::string_view keyword;
    if (!is_ehlo_line(line, keyword)) return false;
    if (is_one_of(keyword, modelled_keywords)) return false;
    return keyword[0] == 'X' || keyword[0] == 'x' || is_one_of(keyword, other_registered_keywords);
}

// Decimal digits of `n` at the end of `buffer` (20 octets hold any uint64).
[[nodiscard]] constexpr std::string_view format_decimal(std::uint64_t n,
                                                        char (&buffer)[20]) noexcept {
    std::size_t i = sizeof buffer;
    do {
        buffer[--i] = static_cast<char>('0' + n % 10);
        n /= 10;
    } while (n != 0);
    return {buffer + i, sizeof buffer - i};
}

} // namespace detail

inline errc server_extensions::validate() const noexcept {
    const bool dependencies = (!smtputf8 || eight_bit_mime) && (!binarymime || chunking);
    const bool size_ok = !size || size_limit == 0 || size_limit >= min_message_size_limit;
    const bool auth_ok = auth_mechanisms.empty() || detail::is_mechanism_names(auth_mechanisms);
    bool extra_ok = true;
    for (const std::string_view line : extra)
        extra_ok = extra_ok && (line.empty() || detail::is_valid_extra(line));
    return dependencies && size_ok && auth_ok && extra_ok ? errc::ok : errc::invalid_config;
}

// Appends the EHLO (or LHLO) reply: "250-<hostname> <greeting>", one keyword per line, the
// last one "250 ..."; a single "250 <hostname> <greeting>" when nothing is advertised. No
// enhanced status codes (RFC 2034 4). `hostname` is the server's domain or address literal
// (ASCII, RFC 6531 3.7.1); `greeting` may be empty. Nothing is written on error:
//   invalid_config    ext.validate() failed
//   bad_reply_text    hostname empty or not printable ASCII without spaces, greeting not
//                     printable ASCII
//   invalid_argument  a line would be longer than line_limit (CRLF included)
template <class Out>
[[nodiscard]] errc write_ehlo_reply(Out& out, std::string_view hostname, std::string_view greeting,
                                    const server_extensions& ext, std::size_t line_limit = 512) {
    if (const errc e = ext.validate(); e != errc::ok) return e;
    const bool hostname_ok = !hostname.empty() &&
                             detail::all_of_class(hostname, detail::cc_print) &&
                             hostname.find(' ') == std::string_view::npos;
    if (!hostname_ok || detail::check_reply_text(greeting, false) != errc::ok)
        return errc::bad_reply_text;

    struct line {
        std::string_view head, text;
    };
    std::array<line, 13 + server_extensions::max_extra> lines{};
    std::size_t n = 0;
    const auto add = [&](bool on, std::string_view head, std::string_view text = {}) {
        if (on && !head.empty()) lines[n++] = {head, text};
    };
    char size_digits[20] = {};
    add(true, hostname, greeting);
    add(ext.pipelining, "PIPELINING");
    add(ext.size, "SIZE", detail::format_decimal(ext.size_limit, size_digits));
    add(ext.eight_bit_mime, "8BITMIME");
    add(ext.binarymime, "BINARYMIME");
    add(ext.chunking, "CHUNKING");
    add(ext.smtputf8, "SMTPUTF8");
    add(ext.enhanced_status_codes, "ENHANCEDSTATUSCODES");
    add(ext.dsn, "DSN");
    add(ext.starttls, "STARTTLS");
    add(!ext.auth_mechanisms.empty(), "AUTH", ext.auth_mechanisms);
    add(ext.expn, "EXPN");
    add(ext.help, "HELP");
    for (const std::string_view extra : ext.extra) add(true, extra);

    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t length =
            4 + lines[i].head.size() + (lines[i].text.empty() ? 0 : 1 + lines[i].text.size()) + 2;
        if (length > line_limit) return errc::invalid_argument;
    }
    detail::reply_line_format format;
    format.code[0] = '2';
    format.code[1] = '5';
    format.code[2] = '0';
    for (std::size_t i = 0; i < n; ++i)
        detail::put_reply_line(out, format, i + 1 == n, lines[i].head, lines[i].text);
    return errc::ok;
}

// ---- Client side ----

// Iterates over space-separated words (EHLO parameters, AUTH mechanisms); runs of spaces
// count as one separator. Views point into the iterated text.
class word_iterator {
public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string_view*;
    using reference = std::string_view;

    constexpr word_iterator() noexcept = default;
    constexpr explicit word_iterator(std::string_view rest) noexcept : rest_(rest) { load(); }

    [[nodiscard]] constexpr std::string_view operator*() const noexcept { return word_; }
    constexpr word_iterator& operator++() noexcept {
        rest_.remove_prefix(word_.size());
        load();
        return *this;
    }
    constexpr word_iterator operator++(int) noexcept {
        word_iterator before = *this;
        ++*this;
        return before;
    }
    [[nodiscard]] friend constexpr bool operator==(const word_iterator& a,
                                                   const word_iterator& b) noexcept {
        return a.rest_.size() == b.rest_.size();
    }
    [[nodiscard]] friend constexpr bool operator!=(const word_iterator& a,
                                                   const word_iterator& b) noexcept {
        return !(a == b);
    }

private:
    constexpr void load() noexcept {
        while (!rest_.empty() && rest_.front() == ' ') rest_.remove_prefix(1);
        word_ = rest_.substr(0, rest_.find(' '));
    }

    std::string_view rest_;
    std::string_view word_;
};

struct word_list {
    std::string_view text;
    [[nodiscard]] constexpr word_iterator begin() const noexcept { return word_iterator(text); }
    [[nodiscard]] constexpr word_iterator end() const noexcept {
        return word_iterator(text.substr(text.size()));
    }
};

// One extension line of an EHLO reply: "SIZE 1000" -> keyword "SIZE", params "1000".
struct ehlo_extension {
    std::string_view keyword; // as written (compare case-insensitively, RFC 5321 4.1.1.1)
    std::string_view params;  // after the keyword, spaces trimmed; may be empty
    [[nodiscard]] word_list param_list() const noexcept { return {params}; }
};

namespace detail {

[[nodiscard]] constexpr std::string_view trim_spaces(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Splits a line's text into keyword and parameters. The legacy "AUTH=PLAIN LOGIN" line
// yields keyword "AUTH=" and params "PLAIN LOGIN".
[[nodiscard]] constexpr ehlo_extension split_extension(std::string_view text) noexcept {
    text = trim_spaces(text);
    if (istarts_with(text, "AUTH=")) return {text.substr(0, 5), trim_spaces(text.substr(5))};
    const std::size_t space = text.find(' ');
    if (space == std::string_view::npos) return {text, {}};
    return {text.substr(0, space), trim_spaces(text.substr(space))};
}

} // namespace detail

// Iterates over the extension lines of an EHLO reply (every line after the first that holds
// a keyword; empty lines such as a final "250 " are skipped).
class ehlo_extension_iterator {
public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = ehlo_extension;
    using difference_type = std::ptrdiff_t;
    using pointer = const ehlo_extension*;
    using reference = ehlo_extension;

    ehlo_extension_iterator() noexcept = default;
    ehlo_extension_iterator(reply_line_iterator at, reply_line_iterator end) noexcept
        : at_(at), end_(end) {
        skip_empty();
    }

    [[nodiscard]] ehlo_extension operator*() const noexcept {
        return detail::split_extension(*at_);
    }
    ehlo_extension_iterator& operator++() noexcept {
        ++at_;
        skip_empty();
        return *this;
    }
    ehlo_extension_iterator operator++(int) noexcept {
        ehlo_extension_iterator before = *this;
        ++*this;
        return before;
    }
    [[nodiscard]] friend bool operator==(const ehlo_extension_iterator& a,
                                         const ehlo_extension_iterator& b) noexcept {
        return a.at_ == b.at_;
    }
    [[nodiscard]] friend bool operator!=(const ehlo_extension_iterator& a,
                                         const ehlo_extension_iterator& b) noexcept {
        return !(a == b);
    }

private:
    void skip_empty() noexcept {
        while (at_ != end_ && detail::trim_spaces(*at_).empty()) ++at_;
    }

    reply_line_iterator at_;
    reply_line_iterator end_;
};

struct ehlo_extension_list {
    std::string_view raw;
    [[nodiscard]] ehlo_extension_iterator begin() const noexcept {
        const reply_lines all{raw};
        auto first = all.begin();
        if (first != all.end()) ++first; // the greeting line
        return {first, all.end()};
    }
    [[nodiscard]] ehlo_extension_iterator end() const noexcept {
        const reply_lines all{raw};
        return {all.end(), all.end()};
    }
};

// What a server's EHLO (or LHLO) reply offers. The views point into the reply text that was
// parsed: keep that text alive and unchanged while using them (a reader's reply lives only
// until the reader's next call; use the parse_ehlo_reply overload with storage to keep them).
struct capabilities {
    std::string_view domain;   // first word of the first line (RFC 5321 4.1.1.1)
    std::string_view greeting; // rest of the first line, may be empty

    bool pipelining = false;            // RFC 2920
    bool eight_bit_mime = false;        // RFC 6152
    bool smtputf8 = false;              // RFC 6531 (parameters, which it must not have, ignored)
    bool enhanced_status_codes = false; // RFC 2034
    bool chunking = false;              // RFC 3030
    bool binarymime = false;            // RFC 3030
    bool dsn = false;                   // RFC 3461
    bool starttls = false;              // RFC 3207
    bool expn = false;
    bool help = false;

    // RFC 1870 3: "SIZE" alone advertises the extension without a limit (size_known false);
    // "SIZE 0" means no fixed maximum (size_known, size_limit 0); "SIZE n" a fixed maximum.
    // A malformed or overflowing number counts as no number.
    bool size = false;
    bool size_known = false;
    std::uint64_t size_limit = 0;

    // RFC 4954 3: mechanisms of the "AUTH" line, and of a legacy "AUTH=" line (not in any
    // RFC; old servers still send it for old clients).
    bool auth = false;
    std::string_view auth_mechanisms;
    std::string_view legacy_auth_mechanisms;

    std::string_view raw; // the whole reply that was parsed

    // Every extension line, known or not, in order.
    [[nodiscard]] ehlo_extension_list extensions() const noexcept { return {raw}; }

    // The first line whose keyword equals `keyword` (any case); false when absent.
    [[nodiscard]] bool find(std::string_view keyword, ehlo_extension& found) const noexcept {
        for (const ehlo_extension e : extensions()) {
            if (detail::iequals(e.keyword, keyword)) {
                found = e;
                return true;
            }
        }
        return false;
    }
    [[nodiscard]] bool has(std::string_view keyword) const noexcept {
        ehlo_extension ignored;
        return find(keyword, ignored);
    }

    // True when the AUTH or AUTH= line lists `mechanism` (any case).
    [[nodiscard]] bool has_auth_mechanism(std::string_view mechanism) const noexcept {
        for (const std::string_view list : {auth_mechanisms, legacy_auth_mechanisms}) {
            for (const std::string_view name : word_list{list}) {
                if (detail::iequals(name, mechanism)) return true;
            }
        }
        return false;
    }

    // False only when the server declared a fixed maximum smaller than `octets`.
    [[nodiscard]] bool size_allows(std::uint64_t octets) const noexcept {
        return !size_known || size_limit == 0 || octets <= size_limit;
    }

    // Calls f(ehlo_extension) for each line whose keyword none of the fields above models.
    template <class F>
    void for_each_unknown_extension(F&& f) const {
        for (const ehlo_extension e : extensions()) {
            if (!detail::is_one_of(e.keyword, detail::modelled_keywords) &&
                !detail::iequals(e.keyword, "AUTH="))
                f(e);
        }
    }
};

namespace detail {

// 1*DIGIT into `value`; false on anything else or on overflow.
[[nodiscard]] constexpr bool parse_uint64(std::string_view digits, std::uint64_t& value) noexcept {
    if (digits.empty()) return false;
    std::uint64_t v = 0;
    for (const char c : digits) {
        if (!is_digit(c)) return false;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    value = v;
    return true;
}

struct flag_keyword {
    std::string_view keyword;
    bool capabilities::*flag;
};

inline constexpr flag_keyword flag_keywords[] = {
    {"PIPELINING", &capabilities::pipelining},
    {"8BITMIME", &capabilities::eight_bit_mime},
    {"SMTPUTF8", &capabilities::smtputf8},
    {"ENHANCEDSTATUSCODES", &capabilities::enhanced_status_codes},
    {"CHUNKING", &capabilities::chunking},
    {"BINARYMIME", &capabilities::binarymime},
    {"DSN", &capabilities::dsn},
    {"STARTTLS", &capabilities::starttls},
    {"EXPN", &capabilities::expn},
    {"HELP", &capabilities::help}};

inline void apply_extension(capabilities& caps, const ehlo_extension& e) noexcept {
    for (const flag_keyword& k : flag_keywords) {
        if (iequals(e.keyword, k.keyword)) caps.*k.flag = true;
    }
    if (iequals(e.keyword, "SIZE")) {
        caps.size = true;
        caps.size_known = parse_uint64(*word_list{e.params}.begin(), caps.size_limit);
        if (!caps.size_known) caps.size_limit = 0;
    } else if (iequals(e.keyword, "AUTH")) {
        caps.auth = true;
        caps.auth_mechanisms = e.params;
    } else if (iequals(e.keyword, "AUTH=")) {
        caps.auth = true;
        caps.legacy_auth_mechanisms = e.params;
    }
}

} // namespace detail

// Reads a 250 reply to EHLO or LHLO (as handed out by reply_reader) into `out`, replacing
// its contents. Keywords match in any case; unknown ones stay reachable through
// out.extensions(). The views in `out` point into r.raw and share its lifetime. Errors:
// invalid_argument when r.code is not 250 (out is then reset to empty).
[[nodiscard]] inline errc parse_ehlo_reply(const reply& r, capabilities& out) noexcept {
    out = {};
    if (r.code != 250) return errc::invalid_argument;
    out.raw = r.raw;
    const std::string_view first = detail::trim_spaces(r.first_text());
    const std::size_t space = first.find(' ');
    out.domain = first.substr(0, space);
    if (space != std::string_view::npos) out.greeting = detail::trim_spaces(first.substr(space));
    for (const ehlo_extension e : out.extensions()) detail::apply_extension(out, e);
    return errc::ok;
}

// As above, but first copies the reply's octets into `storage` (any type with
// assign(const char*, std::size_t), data() and size(), e.g. std::string) and points `out`
// into the copy, so the capabilities outlive the reader's next call. Keep `storage` alive and
// unmodified (do not move a std::string: its short-string buffer moves with it) while `out`
// is used.
template <class Storage>
[[nodiscard]] errc parse_ehlo_reply(const reply& r, capabilities& out, Storage& storage) {
    if (r.code != 250) {
        out = {};
        return errc::invalid_argument;
    }
    storage.assign(r.raw.data(), r.raw.size());
    reply copy = r;
    copy.raw = std::string_view(storage.data(), storage.size());
    return parse_ehlo_reply(copy, out);
}

SMTPP_NAMESPACE_END

#endif // SMTPP_CAPABILITIES_HPP
