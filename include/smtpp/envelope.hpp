/// \file
/// smtpp: one mail transaction as a client describes it, and the MAIL and RCPT command lines
/// written from it (RFC 5321 4.1.1.2-3; parameters of RFC 1870, 6152, 3030, 6531, 3461).
/// client_session uses these; a proxy or a test client can use them on their own.
#ifndef SMTPP_ENVELOPE_HPP
#define SMTPP_ENVELOPE_HPP

#include <smtpp/data.hpp>
#include <smtpp/detail/number.hpp>
#include <smtpp/error.hpp>
#include <smtpp/extensions.hpp>
#include <smtpp/grammar.hpp>
#include <smtpp/limits.hpp>
#include <smtpp/macros.hpp>
#include <smtpp/params.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

/// One recipient of a transaction.
struct recipient {
    constexpr recipient() noexcept = default;
    /// A recipient `mailbox`, with NOTIFY bits and ORCPT when the transaction uses DSN.
    constexpr recipient(std::string_view mailbox, unsigned notify_bits = 0,
                        bool with_orcpt = false) noexcept
        : address(mailbox), notify(notify_bits), orcpt(with_orcpt) {}

    std::string_view address; ///< mailbox without angle brackets, e.g. `"bob@example.com"`
    unsigned notify = 0;      ///< notify_* bits (params.hpp); 0: no NOTIFY; needs DSN
    bool orcpt = false;       ///< send `ORCPT=rfc822;<address>` (RFC 3461 4.2), xtext-encoded
};

/// One mail transaction. Its views are read only during the call it is passed to.
struct envelope {
    constexpr envelope() noexcept = default;
    /// A transaction from `from` to the `to_count` recipients at `to`.
    constexpr envelope(std::string_view from, const recipient* to = nullptr,
                       std::size_t to_count = 0) noexcept
        : sender(from), recipients(to), recipient_count(to_count) {}

    std::string_view sender; ///< mailbox without brackets; empty for the null reverse-path <>
    const recipient* recipients = nullptr; ///< the recipients, recipient_count of them
    std::size_t recipient_count = 0;       ///< how many; a transaction needs at least one

    /// What the content is, declared before the first byte so that what the server cannot take
    /// is refused up front (RFC 6152, RFC 3030): unspecified (ASCII text, no BODY parameter),
    /// seven_bit (ASCII text, BODY=7BIT), eight_bit_mime (text with 8-bit octets),
    /// binary_mime (anything: needs BINARYMIME and CHUNKING). body_for(scan_body(content))
    /// picks it for a message held in memory.
    body_type body = body_type::unspecified;
    std::uint64_t size = 0;    ///< RFC 1870 5 size (scan_body(content).size); 0 = unknown
    bool utf8_message = false; ///< headers need SMTPUTF8 (RFC 6531 3.4) even with ASCII addresses
    dsn_ret ret = dsn_ret::unspecified; ///< RET=FULL or HDRS for DSN reports (RFC 3461 4.3)
    std::string_view envid;             ///< raw ENVID (printable ASCII); xtext-encoded on the wire
};

/// The body type a content needs, from what scan_body() found in it (after bare CR/LF become
/// CRLF): binary_mime for NUL or lines over the limit, eight_bit_mime for 8-bit octets,
/// unspecified for plain ASCII text.
[[nodiscard]] constexpr body_type body_for(const body_traits& traits) noexcept {
    if (traits.has_nul || traits.long_line) return body_type::binary_mime;
    return traits.has_8bit ? body_type::eight_bit_mime : body_type::unspecified;
}

/// Which parameters a MAIL or RCPT line may carry: those of the extensions the server offered
/// and the client wants (RFC 5321 4.1.1.3: never a parameter the server did not advertise).
/// `size_limit`: the server's SIZE value (0: none).
struct mail_parameters {
    extensions usable = extensions::none(); ///< offered by the server and wanted by the client
    std::uint64_t size_limit = 0;           ///< the server's SIZE value; 0: none
};

namespace detail {

[[nodiscard]] constexpr bool has_non_ascii(std::string_view s) noexcept {
    for (const char c : s) {
        if (static_cast<unsigned char>(c) >= 0x80) return true;
    }
    return false;
}

// An address the client may write between angle brackets. Errors: invalid_argument (CR, LF
// or another control octet: command injection), path_too_long, and parse_mailbox's.
[[nodiscard]] inline errc check_address(std::string_view address, const limits& l) noexcept {
    if (has_control(address)) return errc::invalid_argument;
    mailbox box;
    if (const errc e = parse_mailbox(address, box, make_address_options(l, true)); e != errc::ok)
        return e;
    return address.size() + 2 > l.path ? errc::path_too_long : errc::ok;
}

template <class Out>
void append_notify(Out& out, unsigned notify) {
    if (notify == 0) return;
    if (notify & notify_never) {
        out.append(" NOTIFY=NEVER", 13);
        return;
    }
    constexpr struct {
        unsigned bit;
        std::string_view name;
    } names[] = {{notify_success, "SUCCESS"}, {notify_failure, "FAILURE"}, {notify_delay, "DELAY"}};
    std::string_view separator = " NOTIFY=";
    for (const auto& name : names) {
        if ((notify & name.bit) == 0) continue;
        out.append(separator.data(), separator.size());
        out.append(name.name.data(), name.name.size());
        separator = ",";
    }
}

} // namespace detail

/// True when the transaction needs SMTPUTF8 (RFC 6531 3.4): 8-bit addresses or headers.
[[nodiscard]] constexpr bool needs_smtputf8(const envelope& e) noexcept {
    if (e.utf8_message || detail::has_non_ascii(e.sender)) return true;
    for (std::size_t i = 0; i < e.recipient_count; ++i) {
        if (detail::has_non_ascii(e.recipients[i].address)) return true;
    }
    return false;
}

/// Whether the transaction can be sent as the parameters allow, before any byte is written.
/// Errors: invalid_argument (no recipients; a control character such as CR/LF in an address or
/// ENVID; ENVID over 100 octets or not printable ASCII), the address errors of parse_mailbox
/// (bad_local_part, bad_domain, ...), path_too_long, non_ascii (SMTPUTF8 needed but not
/// usable), eight_bit_not_allowed (no 8BITMIME), binary_not_allowed (no BINARYMIME with
/// CHUNKING), message_too_large (over the server's SIZE).
[[nodiscard]] inline errc check_envelope(const envelope& e, const mail_parameters& p,
                                         const limits& l) noexcept {
    if (e.recipient_count == 0 || e.recipients == nullptr) return errc::invalid_argument;
    if (!e.sender.empty()) {
        if (const errc err = detail::check_address(e.sender, l); err != errc::ok) return err;
    }
    for (std::size_t i = 0; i < e.recipient_count; ++i) {
        if (const errc err = detail::check_address(e.recipients[i].address, l); err != errc::ok)
            return err;
    }
    if (needs_smtputf8(e) && !p.usable.smtputf8) return errc::non_ascii;
    if (e.envid.size() > 100 || detail::has_control(e.envid) || detail::has_non_ascii(e.envid))
        return errc::invalid_argument; // RFC 3461 4.4, 5.4
    if (e.body == body_type::eight_bit_mime && !p.usable.eight_bit_mime)
        return errc::eight_bit_not_allowed;
    if (e.body == body_type::binary_mime && !(p.usable.binarymime && p.usable.chunking))
        return errc::binary_not_allowed;
    if (p.usable.size && p.size_limit != 0 && e.size > p.size_limit) return errc::message_too_large;
    return errc::ok;
}

/// Appends `"MAIL FROM:<sender> [parameters]\r\n"`: SIZE when known, BODY, SMTPUTF8 when needed,
/// RET and ENVID; each only when its extension is usable (RFC 5321 4.1.1.3). The envelope must
/// have passed check_envelope() with the same parameters.
template <class Out>
void write_mail_command(Out& out, const envelope& e, const mail_parameters& p) {
    out.append("MAIL FROM:<", 11);
    out.append(e.sender.data(), e.sender.size());
    out.append(">", 1);
    if (p.usable.size && e.size != 0) {
        out.append(" SIZE=", 6);
        detail::append_decimal(out, e.size);
    }
    if (e.body == body_type::seven_bit && p.usable.eight_bit_mime) out.append(" BODY=7BIT", 10);
    if (e.body == body_type::eight_bit_mime) out.append(" BODY=8BITMIME", 14);
    if (e.body == body_type::binary_mime) out.append(" BODY=BINARYMIME", 16);
    if (needs_smtputf8(e)) out.append(" SMTPUTF8", 9); // RFC 6531 3.4
    if (p.usable.dsn) {
        if (e.ret == dsn_ret::full) out.append(" RET=FULL", 9);
        if (e.ret == dsn_ret::headers) out.append(" RET=HDRS", 9);
        if (!e.envid.empty()) {
            out.append(" ENVID=", 7);
            xtext_encode(out, e.envid);
        }
    }
    out.append("\r\n", 2);
}

/// Appends `"RCPT TO:<address> [NOTIFY=...] [ORCPT=rfc822;...]\r\n"`, the DSN parameters only
/// when DSN is usable. The address must have passed check_envelope(). An ORCPT of the rfc822
/// type must decode to ASCII (RFC 3461 4.2; RFC 6533's utf-8 type is not implemented), so a
/// UTF-8 address goes without ORCPT.
template <class Out>
void write_rcpt_command(Out& out, const recipient& r, const mail_parameters& p) {
    out.append("RCPT TO:<", 9);
    out.append(r.address.data(), r.address.size());
    out.append(">", 1);
    if (p.usable.dsn) {
        detail::append_notify(out, r.notify);
        if (r.orcpt && !detail::has_non_ascii(r.address)) {
            out.append(" ORCPT=rfc822;", 14);
            xtext_encode(out, r.address);
        }
    }
    out.append("\r\n", 2);
}

SMTPP_NAMESPACE_END

#endif // SMTPP_ENVELOPE_HPP
