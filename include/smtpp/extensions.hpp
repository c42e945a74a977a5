/// \file
/// smtpp: the service extensions an EHLO reply advertises (RFC 5321 4.1.1.1, 2.2). One struct
/// for what a server offers (server_config::offer), what the command parser accepts parameters
/// for (command_options::offer), what the EHLO writer lists (ehlo_offer) and what a client found
/// offered (capabilities, which extends it).
#ifndef SMTPP_EXTENSIONS_HPP
#define SMTPP_EXTENSIONS_HPP

#include <smtpp/detail/ascii.hpp>
#include <smtpp/error.hpp>
#include <smtpp/macros.hpp>

#include <cstddef>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

/// The service extensions, one flag each, defaults as a server offers them. AUTH is not among
/// these flags: it is offered by listing mechanisms (server_config::auth_mechanisms), and a
/// client reads the list (capabilities::auth_mechanisms).
struct extensions {
    bool pipelining = true;            ///< RFC 2920
    bool size = true;                  ///< RFC 1870
    bool eight_bit_mime = true;        ///< RFC 6152
    bool smtputf8 = false;             ///< RFC 6531; needs eight_bit_mime
    bool enhanced_status_codes = true; ///< RFC 2034 (a server also writes the x.y.z codes)
    bool chunking = false;             ///< RFC 3030 BDAT
    bool binarymime = false;           ///< RFC 3030; needs chunking
    bool dsn = false;                  ///< RFC 3461
    bool starttls = false;             ///< RFC 3207 (never listed once TLS is up)
    bool expn = false;                 ///< RFC 5321 4.1.1.7 (EXPN is answered 502 without it)
    bool help = true;                  ///< RFC 5321 4.1.1.8

    /// Nothing offered: what a client knows before EHLO, or after HELO.
    [[nodiscard]] static constexpr extensions none() noexcept {
        extensions e;
        e.pipelining = e.size = e.eight_bit_mime = e.enhanced_status_codes = e.help = false;
        return e;
    }

    /// invalid_config for smtputf8 without eight_bit_mime (RFC 6531 3.1) and binarymime
    /// without chunking (RFC 3030 3).
    [[nodiscard]] constexpr errc validate() const noexcept {
        const bool ok = (!smtputf8 || eight_bit_mime) && (!binarymime || chunking);
        return ok ? errc::ok : errc::invalid_config;
    }
};

/// SASL mechanism names (RFC 4422 3.1: 1-20 of A-Z, 0-9, '-', '_'), upper case, separated by
/// single spaces, not empty: what an AUTH line may list.
[[nodiscard]] constexpr bool is_mechanism_list(std::string_view list) noexcept {
    std::size_t length = 0;
    for (const char c : list) {
        if (c == ' ') {
            if (length == 0) return false;
            length = 0;
            continue;
        }
        const bool name_char =
            (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!name_char || ++length > 20) return false;
    }
    return length > 0;
}

namespace detail {

// Registered EHLO keywords (IANA "SMTP Service Extensions") that `extensions` has no flag for;
// the modelled ones are in modelled_keywords.
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

} // namespace detail

SMTPP_NAMESPACE_END

#endif // SMTPP_EXTENSIONS_HPP
