/// \file
/// smtpp: the server's EHLO/LHLO reply (RFC 5321 4.1.1.1, 2.2.2; RFC 1870, 2034, 2920, 3030,
/// 3207, 3461, 4954, 6152, 6531). The client's reader of it is ehlo_reader.hpp.
#ifndef SMTPP_EHLO_WRITER_HPP
#define SMTPP_EHLO_WRITER_HPP

#include <smtpp/detail/ascii.hpp>
#include <smtpp/detail/number.hpp>
#include <smtpp/error.hpp>
#include <smtpp/extensions.hpp>
#include <smtpp/grammar.hpp>
#include <smtpp/limits.hpp>
#include <smtpp/macros.hpp>
#include <smtpp/reply.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

/// What an EHLO reply lists: the extensions offered and the values some keywords carry. The
/// string views are not copied: what they point to must outlive the call.
struct ehlo_offer {
    extensions offered;                         ///< the extensions listed, one line each
    std::uint64_t size_limit = 0;               ///< `"SIZE <n>"`; 0: no fixed maximum (RFC 1870 4)
    std::string_view auth_mechanisms;           ///< `"AUTH <list>"` when not empty (RFC 4954 3)
    static constexpr std::size_t max_extra = 8; ///< the number of further lines, at most
    /// Further lines, written as given after the ones above: "XCLIENT NAME ADDR" (private X
    /// keywords) or registered extensions not modelled here ("DELIVERBY 60"). Empty entries are
    /// skipped.
    std::array<std::string_view, max_extra> extra{};

    /// ok, or invalid_config when: offered.validate() fails; size_limit is below 64K (RFC 5321
    /// 4.5.3.1.7); auth_mechanisms is not a mechanism list (is_mechanism_list); an extra line is
    /// malformed (`keyword *(SP param)`, RFC 5321 4.1.1.1), repeats a keyword modelled by
    /// `extensions`, or has a keyword that neither starts with X nor is registered with IANA
    /// (RFC 5321 2.2.2).
    [[nodiscard]] errc validate() const noexcept;
};

namespace detail {

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

} // namespace detail

inline errc ehlo_offer::validate() const noexcept {
    const bool auth_ok = auth_mechanisms.empty() || is_mechanism_list(auth_mechanisms);
    // RFC 5321 4.5.3.1.7: a fixed maximum is at least 64K.
    const bool size_ok = !offered.size || size_limit == 0 || size_limit >= min_message_size_limit;
    bool extra_ok = true;
    for (const std::string_view line : extra)
        extra_ok = extra_ok && (line.empty() || detail::is_valid_extra(line));
    const bool ok = offered.validate() == errc::ok && auth_ok && size_ok && extra_ok;
    return ok ? errc::ok : errc::invalid_config;
}

/// Appends the EHLO (or LHLO) reply: `"250-<hostname> <greeting>"`, one keyword per line, the
/// last one "250 ..."; a single `"250 <hostname> <greeting>"` when nothing is offered. No
/// enhanced status codes (RFC 2034 4). `hostname` is the server's domain or address literal
/// (ASCII, RFC 6531 3.7.1); `greeting` may be empty. Nothing is written on error:
///   invalid_config      offer.validate() failed (also a SIZE limit below 64K, RFC 5321
///                       4.5.3.1.7)
///   invalid_reply_text  hostname empty or not printable ASCII without spaces, greeting not
///                       printable ASCII
///   invalid_argument    a line would be longer than line_limit (CRLF included)
template <class Out>
[[nodiscard]] errc write_ehlo_reply(Out& out, std::string_view hostname, std::string_view greeting,
                                    const ehlo_offer& offer, std::size_t line_limit = 512) {
    if (const errc e = offer.validate(); e != errc::ok) return e;
    const bool hostname_ok = !hostname.empty() &&
                             detail::all_of_class(hostname, detail::cc_print) &&
                             hostname.find(' ') == std::string_view::npos;
    if (!hostname_ok || detail::check_reply_text(greeting, false) != errc::ok)
        return errc::invalid_reply_text;

    struct line {
        std::string_view head, text;
    };
    std::array<line, 13 + ehlo_offer::max_extra> lines{};
    std::size_t n = 0;
    const auto add = [&](bool on, std::string_view head, std::string_view text = {}) {
        if (on && !head.empty()) lines[n++] = {head, text};
    };
    const extensions& ext = offer.offered;
    char size_digits[detail::max_decimal_digits] = {};
    add(true, hostname, greeting);
    add(ext.pipelining, "PIPELINING");
    add(ext.size, "SIZE", detail::format_decimal(offer.size_limit, size_digits));
    add(ext.eight_bit_mime, "8BITMIME");
    add(ext.binarymime, "BINARYMIME");
    add(ext.chunking, "CHUNKING");
    add(ext.smtputf8, "SMTPUTF8");
    add(ext.enhanced_status_codes, "ENHANCEDSTATUSCODES");
    add(ext.dsn, "DSN");
    add(ext.starttls, "STARTTLS");
    add(!offer.auth_mechanisms.empty(), "AUTH", offer.auth_mechanisms);
    add(ext.expn, "EXPN");
    add(ext.help, "HELP");
    for (const std::string_view extra : offer.extra) add(true, extra);

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

SMTPP_NAMESPACE_END

#endif // SMTPP_EHLO_WRITER_HPP
