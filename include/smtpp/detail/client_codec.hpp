// smtpp internal: the client's content and SASL codecs.
//
// A streaming body encoder for the client: CRLF normalisation, dot-stuffing, and content
// checks that run before any byte is written (so send_body() can refuse a piece whole).
#ifndef SMTPP_DETAIL_CLIENT_CODEC_HPP
#define SMTPP_DETAIL_CLIENT_CODEC_HPP

#include <smtpp/client_config.hpp>
#include <smtpp/config.hpp>
#include <smtpp/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

SMTPP_NAMESPACE_BEGIN
namespace detail {

// Where the encoder is between two pieces of a body.
struct body_state {
    bool at_line_start = true;
    bool pending_cr = false;     // the last octet was a CR whose LF has not been seen yet
    std::size_t line_length = 0; // octets in the current line, CRLF and stuffed dot not counted
};

struct body_rules {
    body_content content = body_content::seven_bit;
    bool refuse_bare_line_endings = false;
    bool stuff_dots = true; // DATA; false for BDAT
};

inline constexpr std::size_t max_text_line = 998; // RFC 5321 4.5.3.1.6, without the CRLF

// Checks one octet that is not part of a line ending against the declared content.
[[nodiscard]] constexpr errc check_octet(char c, const body_state& state,
                                         const body_rules& rules) noexcept {
    if (c == '\0') return errc::binary_not_allowed;
    if (static_cast<unsigned char>(c) >= 0x80 && rules.content == body_content::seven_bit) {
        return errc::eight_bit_not_allowed;
    }
    return state.line_length >= max_text_line ? errc::text_line_too_long : errc::ok;
}

// Walks `piece` as text: every line ending becomes CRLF, leading dots are doubled when
// rules.stuff_dots, and emit(std::string_view) receives the wire bytes. Stops at the first
// octet the rules forbid and returns its errc; `state` is then unspecified.
template <class Emit>
[[nodiscard]] errc walk_text(std::string_view piece, body_state& state, const body_rules& rules,
                             Emit&& emit) {
    const auto end_line = [&] {
        emit(std::string_view("\r\n", 2));
        state.at_line_start = true;
        state.line_length = 0;
    };
    for (const char c : piece) {
        if (state.pending_cr) {
            state.pending_cr = false;
            if (c != '\n' && rules.refuse_bare_line_endings) return errc::bare_cr;
            end_line();
            if (c == '\n') continue;
        }
        if (c == '\r') {
            state.pending_cr = true;
            continue;
        }
        if (c == '\n') {
            if (rules.refuse_bare_line_endings) return errc::bare_lf;
            end_line();
            continue;
        }
        if (const errc e = check_octet(c, state, rules); e != errc::ok) return e;
        if (state.at_line_start && c == '.' && rules.stuff_dots) emit(std::string_view(".", 1));
        emit(std::string_view(&c, 1));
        state.at_line_start = false;
        ++state.line_length;
    }
    return errc::ok;
}

// The bytes that close a text body: a held-back CR becomes CRLF, and a last line without
// CRLF gets one (RFC 5321 4.1.1.4), never an extra empty line.
template <class Emit>
[[nodiscard]] errc finish_text(body_state& state, const body_rules& rules, Emit&& emit) {
    if (state.pending_cr && rules.refuse_bare_line_endings) return errc::bare_cr;
    if (state.pending_cr || !state.at_line_start) emit(std::string_view("\r\n", 2));
    state = body_state{};
    return errc::ok;
}

// Accumulates emitted bytes in a string, coalescing single octets.
struct string_sink {
    std::string* out;
    void operator()(std::string_view bytes) const { out->append(bytes.data(), bytes.size()); }
};

struct null_sink {
    void operator()(std::string_view) const noexcept {}
};

} // namespace detail
SMTPP_NAMESPACE_END

#endif // SMTPP_DETAIL_CLIENT_CODEC_HPP
