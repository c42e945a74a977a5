/// \file
/// smtpp: error codes, plugged into std::error_code.
///
/// The codes come in four ranges, so a program can tell them apart with one comparison:
///   flow control (1-99)       not failures: feed more input, write some output first;
///   protocol (100-199)        a rule of SMTP (or of the PROXY protocol header in front of
///                             it) was broken, by the peer or by what the caller asked to
///                             send; the event or the reply says what follows;
///   session ended (200-299)   the connection is over (is_fatal);
///   caller misuse (300-399)   the call was not allowed now or its arguments were wrong; it
///                             changed nothing (is_caller_error).
#ifndef SMTPP_ERROR_HPP
#define SMTPP_ERROR_HPP

#include <smtpp/macros.hpp>

#include <string>
#include <string_view>
#include <system_error>

SMTPP_NAMESPACE_BEGIN

/// What went wrong, or ok; the value ranges are described above, to_string() gives each code's
/// English text, and a code converts to std::error_code (category "smtpp").
enum class errc : int {
    ok = 0,

    // ---- flow control ----
    need_more_data = 1,
    output_full,

    // ---- protocol ----
    // Line framing (RFC 5321 2.3.8, 4.5.3.1).
    line_too_long = 100,
    bare_cr,
    bare_lf,
    nul_byte,
    invalid_utf8,
    non_ascii,
    // Commands (RFC 5321 4.1, 4.2.4).
    unknown_command,
    unimplemented_command,
    syntax_error,
    missing_argument,
    unexpected_argument,
    // Addresses (RFC 5321 4.1.2, 4.1.3, 4.5.3.1).
    bad_path,
    bad_local_part,
    bad_domain,
    bad_address_literal,
    local_part_too_long,
    domain_too_long,
    path_too_long,
    null_path_not_allowed,
    // ESMTP parameters (RFC 5321 4.1.2, 4.1.1.11 and the extensions).
    bad_parameter,
    duplicate_parameter,
    unsupported_parameter,
    bad_parameter_value,
    number_overflow,
    bad_xtext,
    bad_base64,
    too_many_parameters,
    // Replies received (RFC 5321 4.2, RFC 2034, RFC 3463).
    bad_reply_code,
    reply_code_mismatch,
    reply_line_too_long,
    too_many_reply_lines,
    bad_reply_text,
    unexpected_reply,
    // Message data (RFC 5321 4.1.1.4, 4.5.2, RFC 3030).
    text_line_too_long,
    message_too_large,
    eight_bit_not_allowed,
    binary_not_allowed,
    // Sessions.
    bad_sequence,
    too_many_recipients,
    no_recipients_accepted,
    tls_required,
    auth_required,
    auth_failed,
    auth_cancelled,
    bad_sasl_message,
    extension_not_offered,
    // PROXY protocol headers (HAProxy's proxy-protocol.txt 2.1, 2.2).
    proxy_not_header,
    proxy_bad_v1_line,
    proxy_header_too_long,
    proxy_bad_version,
    proxy_bad_command,
    proxy_bad_family,
    proxy_short_addresses,
    proxy_bad_tlv,
    proxy_bad_checksum,
    // XCLIENT and XFORWARD attributes (Postfix XCLIENT_README, XFORWARD_README).
    bad_attribute,
    unknown_attribute,
    duplicate_attribute,
    bad_attribute_value,
    attribute_too_long,
    control_in_attribute,

    // ---- session ended ----
    connection_closed = 200,
    peer_closed_early,
    service_closing,
    too_many_errors,
    too_many_auth_failures,
    timed_out,

    // ---- caller misuse ----
    invalid_state = 300,
    invalid_argument,
    invalid_config,
    invalid_reply_code,
    invalid_enhanced_status,
    invalid_reply_text,
};

namespace detail {

struct errc_entry {
    errc code;
    const char* text;
};

inline constexpr errc_entry errc_texts[] = {
    {errc::ok, "ok"},
    {errc::need_more_data, "more input is needed"},
    {errc::output_full, "output buffer full"},
    {errc::line_too_long, "line too long"},
    {errc::bare_cr, "bare CR (CR not followed by LF)"},
    {errc::bare_lf, "bare LF (LF not preceded by CR)"},
    {errc::nul_byte, "NUL byte"},
    {errc::invalid_utf8, "malformed UTF-8"},
    {errc::non_ascii, "8-bit byte where only ASCII is allowed"},
    {errc::unknown_command, "unknown command"},
    {errc::unimplemented_command, "command not implemented"},
    {errc::syntax_error, "syntax error"},
    {errc::missing_argument, "missing argument"},
    {errc::unexpected_argument, "command takes no argument"},
    {errc::bad_path, "malformed path"},
    {errc::bad_local_part, "malformed local part"},
    {errc::bad_domain, "malformed domain"},
    {errc::bad_address_literal, "malformed address literal"},
    {errc::local_part_too_long, "local part too long"},
    {errc::domain_too_long, "domain too long"},
    {errc::path_too_long, "path too long"},
    {errc::null_path_not_allowed, "null path not allowed here"},
    {errc::bad_parameter, "malformed parameter"},
    {errc::duplicate_parameter, "duplicate parameter"},
    {errc::unsupported_parameter, "unsupported parameter"},
    {errc::bad_parameter_value, "bad parameter value"},
    {errc::number_overflow, "number too large"},
    {errc::bad_xtext, "malformed xtext"},
    {errc::bad_base64, "malformed base64"},
    {errc::too_many_parameters, "too many parameters"},
    {errc::bad_reply_code, "malformed reply code"},
    {errc::reply_code_mismatch, "reply lines carry different codes"},
    {errc::reply_line_too_long, "reply line too long"},
    {errc::too_many_reply_lines, "too many lines in one reply"},
    {errc::bad_reply_text, "reply text contains forbidden characters"},
    {errc::unexpected_reply, "reply that no command outstanding expects"},
    {errc::text_line_too_long, "message line too long"},
    {errc::message_too_large, "message exceeds the size limit"},
    {errc::eight_bit_not_allowed, "8-bit data not allowed"},
    {errc::binary_not_allowed, "binary data not allowed"},
    {errc::bad_sequence, "bad sequence of commands"},
    {errc::too_many_recipients, "too many recipients"},
    {errc::no_recipients_accepted, "no recipient was accepted"},
    {errc::tls_required, "TLS required"},
    {errc::auth_required, "authentication required"},
    {errc::auth_failed, "authentication failed"},
    {errc::auth_cancelled, "authentication cancelled"},
    {errc::bad_sasl_message, "malformed SASL message"},
    {errc::extension_not_offered, "extension not offered by the peer"},
    {errc::proxy_not_header, "not a PROXY protocol header"},
    {errc::proxy_bad_v1_line, "malformed PROXY protocol v1 line"},
    {errc::proxy_header_too_long, "PROXY protocol header too long"},
    {errc::proxy_bad_version, "PROXY protocol v2 version is not 2"},
    {errc::proxy_bad_command, "PROXY protocol v2 command is neither LOCAL nor PROXY"},
    {errc::proxy_bad_family, "unknown PROXY protocol v2 address family or transport"},
    {errc::proxy_short_addresses, "PROXY protocol v2 address block too short for its family"},
    {errc::proxy_bad_tlv, "malformed PROXY protocol v2 TLV"},
    {errc::proxy_bad_checksum, "PROXY protocol v2 CRC32C checksum mismatch"},
    {errc::bad_attribute, "malformed attribute=value"},
    {errc::unknown_attribute, "unknown attribute"},
    {errc::duplicate_attribute, "duplicate attribute"},
    {errc::bad_attribute_value, "bad attribute value"},
    {errc::attribute_too_long, "attribute value too long"},
    {errc::control_in_attribute, "control character in attribute value"},
    {errc::connection_closed, "connection closed"},
    {errc::peer_closed_early, "peer closed the connection early"},
    {errc::service_closing, "service closing transmission channel"},
    {errc::too_many_errors, "too many errors"},
    {errc::too_many_auth_failures, "too many authentication failures"},
    {errc::timed_out, "timed out"},
    {errc::invalid_state, "operation not allowed in the current state"},
    {errc::invalid_argument, "invalid argument"},
    {errc::invalid_config, "invalid configuration"},
    {errc::invalid_reply_code, "reply code not allowed here"},
    {errc::invalid_enhanced_status, "enhanced status code not allowed here"},
    {errc::invalid_reply_text, "reply text not allowed (control characters, 8-bit)"},
};

} // namespace detail

/// A static English description of the code; never null.
[[nodiscard]] constexpr const char* to_string(errc code) noexcept {
    for (const auto& entry : detail::errc_texts) {
        if (entry.code == code) return entry.text;
    }
    return "unknown smtpp error";
}

/// True for the codes that say the session is over: nothing more can be exchanged on that
/// connection. A `closed` event may also carry another code, the reason it ended.
[[nodiscard]] constexpr bool is_fatal(errc code) noexcept {
    const int value = static_cast<int>(code);
    return value >= 200 && value < 300;
}

/// True for the codes a call returns when it was not allowed now or got a wrong argument; such
/// a call changed nothing.
[[nodiscard]] constexpr bool is_caller_error(errc code) noexcept {
    const int value = static_cast<int>(code);
    return value >= 300 && value < 400;
}

namespace detail {

class error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "smtpp"; }
    std::string message(int value) const override { return to_string(static_cast<errc>(value)); }
};

} // namespace detail

/// The error category of smtpp's codes: one object for the whole program, named "smtpp", whose
/// message() is to_string().
[[nodiscard]] inline const std::error_category& smtpp_category() noexcept {
    static const detail::error_category category;
    return category;
}

/// `code` as a std::error_code in smtpp_category(); found by argument-dependent lookup, so
/// `std::error_code ec = errc::bad_path;` works.
[[nodiscard]] inline std::error_code make_error_code(errc code) noexcept {
    return {static_cast<int>(code), smtpp_category()};
}

SMTPP_NAMESPACE_END

namespace std {
/// Marks smtpp::errc as an error code enum, so it converts to std::error_code implicitly.
template <>
struct is_error_code_enum<smtpp::errc> : true_type {};
} // namespace std

#endif // SMTPP_ERROR_HPP
