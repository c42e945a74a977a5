/// \file
/// smtpp: configuration of a server_session, as one plain struct.
#ifndef SMTPP_SERVER_CONFIG_HPP
#define SMTPP_SERVER_CONFIG_HPP

#include <smtpp/error.hpp>
#include <smtpp/extensions.hpp>
#include <smtpp/limits.hpp>
#include <smtpp/macros.hpp>
#include <smtpp/timeouts.hpp>

#include <cstddef>
#include <string>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

/// Everything a server session needs to know up front. The session copies the config when it
/// is built: change or drop yours at will afterwards. Check a config once with validate()
/// before building sessions from it (an invalid one gives sessions that only close).
struct server_config {
    /// Our name: first word of the greeting, of the EHLO reply and of the 221 reply. ASCII
    /// domain or address literal (RFC 6531 3.7.1).
    std::string hostname = "localhost";
    /// Rest of the 220 greeting line, after the hostname.
    std::string greeting_text = "ESMTP";

    /// LMTP (RFC 2033): LHLO instead of HELO/EHLO (which get 500), one reply per accepted
    /// recipient after the message. RFC 2033 5 forbids LMTP on TCP port 25; the session never
    /// sees ports, so that rule is the caller's.
    bool lmtp = false;

    /// The extensions advertised in the EHLO/LHLO reply (PIPELINING, SIZE, 8BITMIME,
    /// ENHANCEDSTATUSCODES and HELP unless changed). offer.starttls: set when the caller can
    /// run a TLS handshake; offer.expn: EXPN is answered 502 and not advertised unless set.
    /// SIZE advertises limit.message_size.
    extensions offer;
    /// SASL mechanisms for AUTH (RFC 4954), upper case, separated by single spaces, e.g.
    /// "PLAIN LOGIN". Empty: AUTH is neither advertised nor accepted. PLAIN and LOGIN are
    /// decoded by the session; other mechanisms hand the decoded responses to the caller.
    std::string auth_mechanisms;

    /// The connection is already encrypted (implicit TLS, RFC 8314 3.3): STARTTLS is never
    /// advertised and TLS policies are met.
    bool tls_active = false;

    limits limit;     ///< size limits, the RFC minimums unless raised
    timeouts timeout; ///< how long the session waits for the peer in each phase

    /// \name Policies
    //@{
    /// RFC 3207 4: before STARTTLS everything but NOOP, EHLO/HELO/LHLO, STARTTLS and QUIT gets
    /// 530 5.7.0.
    bool require_tls = false;
    /// RFC 4954 6: before a successful AUTH everything but AUTH, EHLO/HELO/LHLO, NOOP, RSET,
    /// STARTTLS and QUIT gets 530 5.7.0.
    bool require_auth = false;
    /// RFC 4954 4: PLAIN and LOGIN are neither advertised nor accepted (538 5.7.11) before TLS.
    /// Off is Postfix's smtpd_tls_auth_only = no: for trusted networks and tests only.
    bool plaintext_auth_requires_tls = true;
    //@}

    /// \name Leniencies
    /// Each is off by default; none changes where a DATA body ends.
    //@{
    /// A bare LF ends a command line (people typing into telnet or nc). Risk: a proxy in front
    /// that frames lines strictly sees a different command stream than this server (command
    /// smuggling); keep it off on any port another MTA talks to.
    bool lenient_bare_lf_commands = false;
    /// Accept `"MAIL FROM: <a@b>"` with a space after the colon (RFC 5321 forbids it; old
    /// clients send it). Risk: low; a stricter parser elsewhere may disagree on the address.
    bool lenient_space_after_colon = false;
    /// Accept message bodies (DATA, and BDAT without BODY=BINARYMIME) holding bare CR, bare LF
    /// or NUL; message_end still reports them. Off: such a message is refused after its real
    /// end with 550 5.6.0 (the SMTP smuggling defence of Postfix's smtpd_forbid_bare_newline).
    /// Risk: a downstream hop that treats LF.LF as the end of data may see a second, forged
    /// message.
    bool lenient_bare_line_endings = false;
    /// A client that greeted with HELO may use the extensions EHLO would have offered (MAIL and
    /// RCPT parameters, BDAT, AUTH, STARTTLS), as Postfix allows. Off: a HELO session
    /// negotiated none (RFC 5321 2.2.1, 4.1.1.1): their parameters get 555, those commands 503.
    /// Risk: low; clients that say HELO and then use extensions are broken or very old.
    bool lenient_helo_extensions = false;
    //@}

    /// ok, or invalid_config when: hostname is empty, holds a byte outside printable ASCII or a
    /// space, or is longer than a domain may be; greeting_text is not printable ASCII;
    /// offer.validate() fails (smtputf8 without eight_bit_mime, binarymime without chunking);
    /// limit.message_size is set below 64K (RFC 5321 4.5.3.1.7); a line or recipient limit is
    /// below the RFC minimum; output_buffer is 0; input_buffer is smaller than the longest
    /// line the session accepts; auth_mechanisms is not a mechanism list (is_mechanism_list)
    /// or longer than 399 octets.
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

} // namespace detail

inline errc server_config::validate() const noexcept {
    const bool texts_ok = !hostname.empty() && detail::is_printable_ascii(hostname, false) &&
                          detail::is_printable_ascii(greeting_text, true) &&
                          hostname.size() <= limit.domain + 2;
    const bool size_ok = limit.message_size == 0 || limit.message_size >= min_message_size_limit;
    const bool limits_ok = limit.command_line >= 512 && limit.text_line >= 1000 &&
                           limit.recipients >= 1 && limit.auth_line >= 512 &&
                           limit.output_buffer > 0 && limit.reply_line >= 512 &&
                           limit.input_buffer >= longest_command_line(limit);
    const bool auth_ok =
        auth_mechanisms.empty() ||
        (auth_mechanisms.size() < detail::max_mechanism_list && is_mechanism_list(auth_mechanisms));
    const bool ok = texts_ok && size_ok && limits_ok && auth_ok && offer.validate() == errc::ok;
    return ok ? errc::ok : errc::invalid_config;
}

SMTPP_NAMESPACE_END

#endif // SMTPP_SERVER_CONFIG_HPP
