// smtpp: configuration of a server_session, as one plain struct.
#ifndef SMTPP_SERVER_CONFIG_HPP
#define SMTPP_SERVER_CONFIG_HPP

#include <smtpp/config.hpp>
#include <smtpp/error.hpp>
#include <smtpp/limits.hpp>

#include <cstddef>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

// Everything a server session needs to know up front. The string views are not copied: the
// strings they point to must outlive every session built from this config (a static or a
// long-lived settings object). Check a config once with validate() before using it.
struct server_config {
    // Our name: first word of the greeting, of the EHLO reply and of the 221 reply. ASCII
    // domain or address literal (RFC 6531 3.7.1).
    std::string_view hostname = "localhost";
    // Rest of the 220 greeting line, after the hostname.
    std::string_view greeting_text = "ESMTP";

    // LMTP (RFC 2033): LHLO instead of HELO/EHLO (which get 500), one reply per accepted
    // recipient after the message. RFC 2033 5 forbids LMTP on TCP port 25; the session never
    // sees ports, so that rule is the caller's.
    bool lmtp = false;

    // Extensions advertised in the EHLO/LHLO reply.
    bool pipelining = true;            // RFC 2920
    bool size = true;                  // RFC 1870: "SIZE <limits.message_size>"
    bool eight_bit_mime = true;        // RFC 6152
    bool smtputf8 = false;             // RFC 6531; needs eight_bit_mime
    bool enhanced_status_codes = true; // RFC 2034: also switches the x.y.z prefixes on
    bool chunking = false;             // RFC 3030 BDAT
    bool binarymime = false;           // RFC 3030; needs chunking
    bool dsn = false;                  // RFC 3461
    bool starttls = false;             // RFC 3207: set when the caller can do TLS
    bool expn = false;                 // EXPN is answered 502 and not advertised unless set
    // SASL mechanisms for AUTH (RFC 4954), upper case, separated by single spaces, e.g.
    // "PLAIN LOGIN". Empty: AUTH is neither advertised nor accepted. PLAIN and LOGIN are
    // decoded by the session; other mechanisms hand the decoded responses to the caller.
    std::string_view auth_mechanisms;

    // The connection is already encrypted (implicit TLS, RFC 8314 3.3): STARTTLS is never
    // advertised and TLS policies are met.
    bool tls_active = false;

    limits limit;

    // Policies.
    // RFC 3207 4: before STARTTLS everything but NOOP, EHLO/HELO/LHLO, STARTTLS and QUIT gets
    // 530 5.7.0.
    bool require_tls = false;
    // RFC 4954 6: before a successful AUTH everything but AUTH, EHLO/HELO/LHLO, NOOP, RSET,
    // STARTTLS and QUIT gets 530 5.7.0.
    bool require_auth = false;
    // RFC 4954 4: PLAIN and LOGIN are neither advertised nor accepted (538 5.7.11) before TLS.
    bool plaintext_auth_requires_tls = true;

    // Leniencies. Each is off by default; none changes where a DATA body ends.
    //
    // A bare LF ends a command line (people typing into telnet or nc). Risk: a proxy in front
    // that frames lines strictly sees a different command stream than this server (command
    // smuggling); keep it off on any port another MTA talks to.
    bool lenient_bare_lf_commands = false;
    // Accept "MAIL FROM: <a@b>" with a space after the colon (RFC 5321 forbids it; old
    // clients send it). Risk: low; a stricter parser elsewhere may disagree on the address.
    bool lenient_space_after_colon = false;
    // Accept DATA bodies containing bare CR, bare LF or NUL (the message_end event still
    // reports them). Off: such a message is refused after its real end with
    // 550 5.6.0 (the SMTP smuggling defence of Postfix's smtpd_forbid_bare_newline). Risk: a
    // downstream hop that treats LF.LF as the end of data may see a second, forged message.
    bool lenient_bare_line_endings = false;

    // Checks the config. Returns ok, or invalid_config when: hostname is empty, hostname or
    // greeting_text holds a byte outside printable ASCII (hostname also no space); a message size limit
    // is set below 64K (RFC 5321 4.5.3.1.7); smtputf8 without eight_bit_mime (RFC 6531 3.1);
    // binarymime without chunking (RFC 3030 3); a line or recipient limit is below the RFC
    // minimum; auth_mechanisms is malformed or longer than 399 octets; output_buffer is 0.
    [[nodiscard]] errc validate() const noexcept;
};

namespace detail {

// Room for the AUTH mechanism list on an EHLO line.
inline constexpr std::size_t max_mechanism_list = 400;

[[nodiscard]] constexpr bool is_printable_ascii(std::string_view s, bool allow_space) noexcept {
    for (const char c : s) {
        if (c < 0x21 || c > 0x7e) {
            if (!(allow_space && c == ' ')) return false;
        }
    }
    return true;
}

// SASL mechanism names: 1-20 of A-Z, 0-9, '-', '_' (RFC 4422 3.1), single-space separated.
[[nodiscard]] constexpr bool is_mechanism_list(std::string_view list) noexcept {
    std::size_t len = 0;
    for (const char c : list) {
        if (c == ' ') {
            if (len == 0) return false;
            len = 0;
            continue;
        }
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok || ++len > 20) return false;
    }
    return list.empty() || len > 0;
}

} // namespace detail

inline errc server_config::validate() const noexcept {
    const bool texts_ok = !hostname.empty() && detail::is_printable_ascii(hostname, false) &&
                          detail::is_printable_ascii(greeting_text, true) &&
                          hostname.size() <= limit.domain + 2;
    const bool size_ok = limit.message_size == 0 || limit.message_size >= min_message_size_limit;
    const bool deps_ok = (!smtputf8 || eight_bit_mime) && (!binarymime || chunking);
    const bool limits_ok = limit.command_line >= 512 && limit.text_line >= 1000 &&
                           limit.recipients >= 1 && limit.auth_line >= 512 &&
                           limit.output_buffer > 0 && limit.reply_line >= 512;
    const bool ok = texts_ok && size_ok && deps_ok && limits_ok &&
                    auth_mechanisms.size() < detail::max_mechanism_list &&
                    detail::is_mechanism_list(auth_mechanisms);
    return ok ? errc::ok : errc::invalid_config;
}

SMTPP_NAMESPACE_END

#endif // SMTPP_SERVER_CONFIG_HPP
