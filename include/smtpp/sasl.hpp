/// \file
/// smtpp: SASL helpers for AUTH (RFC 4954): response framing, PLAIN (RFC 4616) and LOGIN.
///
/// The server decodes what the client sent into a caller buffer and gets views into that
/// buffer; the client appends encoded responses to a caller string. The security decisions
/// (TLS required, credential checks, authzid policy) stay with the application.
#ifndef SMTPP_SASL_HPP
#define SMTPP_SASL_HPP

#include <smtpp/base64.hpp>
#include <smtpp/error.hpp>
#include <smtpp/grammar.hpp>
#include <smtpp/macros.hpp>

#include <cstddef>
#include <initializer_list>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

/// Decodes the initial response of `AUTH mech <ir>` (RFC 4954 4): "=" is a present but empty
/// response; anything else must be strict non-empty base64. `decoded` views `buffer`.
/// Errors: errc::bad_base64 (also for an empty `ir`), errc::invalid_argument (buffer too small;
/// base64_decoded_size_max(ir.size()) suffices).
[[nodiscard]] inline errc sasl_decode_initial_response(std::string_view ir, char* buffer,
                                                       std::size_t capacity,
                                                       std::string_view& decoded) noexcept {
    if (ir == "=") {
        decoded = std::string_view(buffer, 0);
        return errc::ok;
    }
    if (ir.empty()) return errc::bad_base64;
    return base64_decode(ir, buffer, capacity, decoded);
}

/// Decodes one client response line (without CRLF) sent after a 334 challenge (RFC 4954 4):
/// `"*"` cancels (errc::auth_cancelled, answer 501), an empty line is an empty response, anything
/// else must be strict base64 ("=" is not a response here). `decoded` views `buffer`.
/// Errors: errc::auth_cancelled, errc::bad_base64 (answer 501 5.5.2), errc::invalid_argument.
[[nodiscard]] inline errc sasl_decode_response(std::string_view line, char* buffer,
                                               std::size_t capacity,
                                               std::string_view& decoded) noexcept {
    if (line == "*") return errc::auth_cancelled;
    return base64_decode(line, buffer, capacity, decoded);
}

/// The three fields of a PLAIN message; views into the caller's buffer.
struct sasl_plain {
    std::string_view authzid;  ///< empty when the client lets the server derive it
    std::string_view authcid;  ///< never empty
    std::string_view password; ///< never empty
};

/// Splits a decoded PLAIN message `[authzid] NUL authcid NUL passwd` (RFC 4616 2). Exactly two
/// NULs, authcid and passwd non-empty, every field well-formed UTF-8; fields of any length
/// (at least the 255 octets the RFC requires) are accepted. `out` views `message`.
/// Errors: errc::bad_sasl_message (NUL count, empty field), errc::invalid_utf8.
[[nodiscard]] inline errc sasl_plain_parse(std::string_view message, sasl_plain& out) noexcept {
    const std::size_t first = message.find('\0');
    if (first == std::string_view::npos) return errc::bad_sasl_message;
    const std::size_t second = message.find('\0', first + 1);
    if (second == std::string_view::npos) return errc::bad_sasl_message;
    if (message.find('\0', second + 1) != std::string_view::npos) return errc::bad_sasl_message;
    const sasl_plain fields{message.substr(0, first), message.substr(first + 1, second - first - 1),
                            message.substr(second + 1)};
    if (fields.authcid.empty() || fields.password.empty()) return errc::bad_sasl_message;
    if (!is_valid_utf8(message)) return errc::invalid_utf8; // NUL is valid UTF-8: one pass suffices
    out = fields;
    return errc::ok;
}

/// Strict-base64-decodes a PLAIN response (a response line, or an initial response other than
/// "=") into buffer[0, capacity) and splits it; `out` views `buffer`. Errors: errc::bad_base64,
/// errc::invalid_argument (buffer too small), and those of sasl_plain_parse.
[[nodiscard]] inline errc sasl_plain_decode(std::string_view base64_text, char* buffer,
                                            std::size_t capacity, sasl_plain& out) noexcept {
    std::string_view message;
    const errc decoded = base64_decode(base64_text, buffer, capacity, message);
    if (decoded != errc::ok) return decoded;
    return sasl_plain_parse(message, out);
}

/// Appends the base64 PLAIN response for the client (RFC 4616 2) to `out` (anything with
/// append(const char*, std::size_t)). errc::invalid_argument, with nothing appended, when
/// authcid or password is empty or any field holds a NUL; errc::invalid_utf8 when a field is
/// not UTF-8.
template <class Out>
[[nodiscard]] errc sasl_plain_encode(Out& out, std::string_view authzid, std::string_view authcid,
                                     std::string_view password) {
    for (std::string_view field : {authzid, authcid, password}) {
        if (field.find('\0') != std::string_view::npos) return errc::invalid_argument;
        if (!is_valid_utf8(field)) return errc::invalid_utf8;
    }
    if (authcid.empty() || password.empty()) return errc::invalid_argument;
    static constexpr char nul[1] = {'\0'};
    detail::base64_stream<Out> stream(out);
    stream.feed(authzid);
    stream.feed(std::string_view(nul, 1));
    stream.feed(authcid);
    stream.feed(std::string_view(nul, 1));
    stream.feed(password);
    stream.finish();
    return errc::ok;
}

/// LOGIN (draft-murchison-sasl-login, not an RFC; conformance.md "surprised us" 10): the
/// server sends these two challenges, base64 of "Username:" and "Password:", as 334 text.
/// This one asks for the username.
inline constexpr std::string_view sasl_login_username_challenge = "VXNlcm5hbWU6";
/// The second LOGIN challenge, base64 of "Password:", asks for the password.
inline constexpr std::string_view sasl_login_password_challenge = "UGFzc3dvcmQ6";

/// What a LOGIN challenge asks for, as sasl_login_classify() reads it.
enum class sasl_login_prompt { username, password, unknown };

/// Client side: which value a LOGIN challenge (the 334 text) asks for. Servers differ in case
/// and punctuation ("Username:", "username:", "User Name"), so the decoded text is compared
/// case-insensitively, without a trailing ':'.
[[nodiscard]] inline sasl_login_prompt sasl_login_classify(std::string_view challenge) noexcept {
    char buffer[24];
    std::string_view text;
    if (challenge.size() > 32 ||
        base64_decode(challenge, buffer, sizeof buffer, text) != errc::ok) {
        return sasl_login_prompt::unknown;
    }
    if (!text.empty() && text.back() == ':') text.remove_suffix(1);
    if (detail::iequals(text, "username") || detail::iequals(text, "user name")) {
        return sasl_login_prompt::username;
    }
    if (detail::iequals(text, "password")) return sasl_login_prompt::password;
    return sasl_login_prompt::unknown;
}

/// Server side: decodes one LOGIN response (the username or the password; an initial response
/// of `AUTH LOGIN <ir>` is the username) into buffer[0, capacity); `value` views `buffer`.
/// The value may be empty (the credential check then fails), holds no NUL and is UTF-8.
/// Errors: errc::auth_cancelled (`"*"`), errc::bad_base64, errc::invalid_argument (buffer too
/// small), errc::bad_sasl_message (NUL), errc::invalid_utf8.
[[nodiscard]] inline errc sasl_login_decode(std::string_view line, char* buffer,
                                            std::size_t capacity,
                                            std::string_view& value) noexcept {
    std::string_view text;
    const errc decoded = sasl_decode_response(line, buffer, capacity, text);
    if (decoded != errc::ok) return decoded;
    if (text.find('\0') != std::string_view::npos) return errc::bad_sasl_message;
    if (!is_valid_utf8(text)) return errc::invalid_utf8;
    value = text;
    return errc::ok;
}

/// Client side: appends the base64 LOGIN response carrying `value` to `out`.
/// errc::invalid_argument (NUL in value) or errc::invalid_utf8, with nothing appended.
template <class Out>
[[nodiscard]] errc sasl_login_encode(Out& out, std::string_view value) {
    if (value.find('\0') != std::string_view::npos) return errc::invalid_argument;
    if (!is_valid_utf8(value)) return errc::invalid_utf8;
    base64_encode_append(out, value);
    return errc::ok;
}

SMTPP_NAMESPACE_END

#endif // SMTPP_SASL_HPP
