/// \file
/// smtpp: what a client session is told before it connects.
#ifndef SMTPP_CLIENT_CONFIG_HPP
#define SMTPP_CLIENT_CONFIG_HPP

#include <smtpp/detail/ascii.hpp>
#include <smtpp/error.hpp>
#include <smtpp/grammar.hpp>
#include <smtpp/limits.hpp>
#include <smtpp/macros.hpp>
#include <smtpp/timeouts.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

SMTPP_NAMESPACE_BEGIN

/// How the client treats TLS (RFC 3207, RFC 8314).
enum class tls_mode : std::uint8_t {
    never,         ///< never send STARTTLS
    opportunistic, ///< STARTTLS when offered; carry on in plaintext when it is not (or gets 454):
                   ///< a `tls_handshake` event comes whenever the server offers STARTTLS
    required,      ///< STARTTLS or nothing: QUIT and an error event otherwise (RFC 3207 6)
    implicit,      ///< the transport is already TLS (port 465, RFC 8314 3.3): never send STARTTLS
};

/// Credentials for the built-in PLAIN (RFC 4616) and LOGIN mechanisms.
struct client_credentials {
    std::string authzid;  ///< PLAIN authorization identity; usually empty
    std::string username; ///< PLAIN authcid / LOGIN user name
    /// PLAIN and LOGIN password.
    std::string password;
};

/// Everything a client session needs to know before the greeting arrives. The session copies
/// the config when it is built: change or drop yours at will afterwards.
struct client_config {
    /// The EHLO/HELO/LHLO argument: an ASCII domain (A-labels, RFC 6531 3.7.1) or an address
    /// literal such as "[192.0.2.1]".
    std::string helo_name = "localhost";

    bool lmtp = false; ///< RFC 2033: LHLO instead of EHLO, one final reply per accepted recipient

    /// The TCP port, used only to refuse LMTP on port 25 (RFC 2033 5); 0 when unknown.
    std::uint16_t port = 0;

    /// \name Extensions
    /// Extensions the client uses when the server offers them. A parameter is sent only when
    /// its extension was advertised (RFC 5321 4.1.1.3) whatever these say.
    //@{
    bool use_pipelining = true; ///< RFC 2920
    /// With PIPELINING, `ready` comes as soon as a message's content is out, before its result:
    /// the next MAIL and RCPTs follow the end of data in one group (RFC 2920 3.1), saving a
    /// round trip per message, and each result names its transaction (client_event::
    /// transaction). Off: `ready` only after the result (and any RSET) is in.
    bool pipeline_transactions = true;
    bool use_chunking = false; ///< RFC 3030: BDAT also for text bodies (binary ones need it)
    bool use_8bitmime = true;  ///< RFC 6152
    bool use_smtputf8 = true;  ///< RFC 6531
    bool use_dsn = true;  ///< RFC 3461: NOTIFY/ORCPT/RET/ENVID dropped when false or not offered
    bool use_size = true; ///< RFC 1870: declare SIZE= and check the server's limit
    //@}

    /// When to use TLS: STARTTLS whenever the server offers it, unless changed.
    tls_mode tls = tls_mode::opportunistic;

    /// SASL mechanisms to try, in order of preference; the first one the server offers is used.
    /// Empty means "do not authenticate". "PLAIN" and "LOGIN" (any case) use `credentials`;
    /// any other name is driven by the caller through auth_challenge events.
    std::vector<std::string> auth_mechanisms;
    /// What PLAIN and LOGIN send.
    client_credentials credentials;
    /// Refuse to authenticate over a connection that is not TLS-protected with any mechanism
    /// that sends a credential: PLAIN and LOGIN, and every caller-driven one (XOAUTH2 and
    /// OAUTHBEARER send bearer tokens, RFC 7628 3.2; RFC 4954 4). Only EXTERNAL and ANONYMOUS
    /// are exempt. The session then sends QUIT and reports tls_required.
    bool auth_requires_tls = true;
    /// 334 challenges answered in one AUTH exchange; at the next one the client cancels (`"*"`).
    std::size_t max_auth_challenges = 10;

    /// Bare CR or LF in message bodies become CRLF (RFC 5321 2.3.8); off: send_body() refuses
    /// them (bare_cr, bare_lf).
    bool normalize_line_endings = true;

    /// \name Reading replies
    /// Liberal where it is safe.
    //@{
    /// Servers' reply lines can be longer than the 512 octets RFC 5321 4.5.3.1.5 asks them to
    /// keep to (a long 550 text); Postfix's client reads 2048. A line beyond this limit ends
    /// the session.
    std::size_t reply_line_limit = 2048;
    /// A multi-line reply whose lines carry different codes (RFC 5321 4.2.1 forbids it) is
    /// judged by its last line instead of ending the session, so a permanent 5yz with a
    /// broken continuation is still permanent, not retried forever.
    bool lenient_mixed_reply_codes = true;
    //@}

    /// limit.reply_lines bounds the lines of one reply; limit.output_buffer is the queue size
    /// past which send_body() asks the caller to drain first; limit.input_buffer the received
    /// octets held.
    limits limit{};
    /// How long the session waits for each reply (RFC 5321 4.5.3.2 by default).
    timeouts timeout{};

    /// ok, or invalid_config when: helo_name is neither an ASCII Domain nor an address literal;
    /// LMTP on port 25 (RFC 2033 5); a mechanism name is not 1-20 of A-Z, 0-9, '-', '_' in
    /// either case (RFC 4422 3.1); the reply limits are too small to read a reply.
    [[nodiscard]] errc validate() const noexcept;
};

/// True for what EHLO may carry: an ASCII Domain or an address literal (RFC 5321 4.1.1.1;
/// RFC 6531 3.7.1 keeps the EHLO argument ASCII, so U-labels must arrive as A-labels).
[[nodiscard]] inline bool is_valid_helo_name(std::string_view name) noexcept {
    if (!name.empty() && name.front() == '[') {
        host_kind kind{};
        return parse_address_literal(name, kind) == errc::ok;
    }
    return parse_domain(name, address_options{}) == errc::ok;
}

inline errc client_config::validate() const noexcept {
    if (!is_valid_helo_name(helo_name)) return errc::invalid_config;
    if (lmtp && port == 25) return errc::invalid_config;
    for (const std::string& mechanism : auth_mechanisms) {
        if (mechanism.empty() || mechanism.size() > 20 ||
            !detail::all_of_class(mechanism, detail::cc_sasl)) {
            return errc::invalid_config;
        }
    }
    if (reply_line_limit < 8 || limit.reply_lines == 0 || limit.input_buffer < reply_line_limit)
        return errc::invalid_config;
    return errc::ok;
}

SMTPP_NAMESPACE_END

#endif // SMTPP_CLIENT_CONFIG_HPP
