// smtpp internal: assembles server replies for the client session (RFC 5321 4.2).
//
// Private to the client until the shared reply_reader exists. Lines are copied into one
// buffer bounded by reply_line * reply_lines, so a server cannot make the client hold more.
// Only CRLF ends a line (RFC 5321 2.3.8). Reply texts are not judged (RFC 5321 4.2: decide by
// code only); codes must be three digits starting with 2-5 (anything else is fatal, 4.2).
#ifndef SMTPP_DETAIL_CLIENT_REPLY_HPP
#define SMTPP_DETAIL_CLIENT_REPLY_HPP

#include <smtpp/client_event.hpp>
#include <smtpp/config.hpp>
#include <smtpp/detail/ascii.hpp>
#include <smtpp/error.hpp>
#include <smtpp/status.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

SMTPP_NAMESPACE_BEGIN
namespace detail {

// Reads 1-3 digits without a leading zero (RFC 3463 2); returns digits read, 0 on failure.
[[nodiscard]] constexpr std::size_t read_status_number(std::string_view s, std::size_t at,
                                                       std::uint16_t& value) noexcept {
    std::size_t n = 0;
    value = 0;
    while (at + n < s.size() && is_digit(s[at + n]) && n < 4) {
        value = static_cast<std::uint16_t>(value * 10 + (s[at + n] - '0'));
        ++n;
    }
    if (n == 0 || n > 3 || (n > 1 && s[at] == '0')) return 0;
    return n;
}

// Parses "class.subject.detail" at the start of `text` when followed by SP or the end; the
// class must be the reply's first digit. Returns octets to skip (status and one SP), 0 if none.
[[nodiscard]] constexpr std::size_t parse_enhanced_status(std::string_view text, int code,
                                                          enhanced_status& out) noexcept {
    out = enhanced_status{};
    if (text.size() < 5 || text[1] != '.') return 0;
    if (text[0] != '2' && text[0] != '4' && text[0] != '5') return 0;
    if (text[0] - '0' != code / 100) return 0;
    std::uint16_t subject = 0;
    std::uint16_t detail = 0;
    const std::size_t subject_digits = read_status_number(text, 2, subject);
    if (subject_digits == 0 || 2 + subject_digits >= text.size() || text[2 + subject_digits] != '.')
        return 0;
    const std::size_t detail_at = 3 + subject_digits;
    const std::size_t detail_digits = read_status_number(text, detail_at, detail);
    if (detail_digits == 0) return 0;
    const std::size_t end = detail_at + detail_digits;
    if (end < text.size() && text[end] != ' ') return 0;
    out = enhanced_status{static_cast<std::uint8_t>(text[0] - '0'), subject, detail};
    return end < text.size() ? end + 1 : end;
}

enum class reply_step { need_more, complete, failed };

class reply_assembler {
public:
    void set_limits(std::size_t max_line, std::size_t max_lines) noexcept {
        max_line_ = max_line;
        max_lines_ = max_lines;
    }

    // Takes whole lines from the front of `input` until a reply is complete, an error occurs
    // or only a partial line is left; `consumed` says how many octets were used.
    [[nodiscard]] reply_step take(std::string_view input, std::size_t& consumed, errc& error) {
        consumed = 0;
        if (complete_) start_next();
        while (true) {
            const std::string_view rest = input.substr(consumed);
            const std::size_t window = rest.size() < max_line_ ? rest.size() : max_line_;
            const std::size_t crlf = rest.substr(0, window).find("\r\n");
            if (crlf == std::string_view::npos) {
                if (rest.size() < max_line_) return reply_step::need_more;
                error = errc::reply_line_too_long;
                return reply_step::failed;
            }
            const std::string_view line = rest.substr(0, crlf);
            consumed += crlf + 2;
            bool last = false;
            error = add_line(line, last);
            if (error != errc::ok) return reply_step::failed;
            if (last) {
                complete_ = true;
                return reply_step::complete;
            }
        }
    }

    // The reply completed by the last take(); views point into this assembler and stay valid
    // until the next take() or clear().
    [[nodiscard]] reply_info reply() const noexcept {
        reply_info info;
        info.code = code_;
        info.raw = std::string_view(buffer_.data(), buffer_.size());
        info.lines = lines_;
        std::string_view first = info.raw.substr(0, info.raw.find("\r\n"));
        first = first.size() > 4 ? first.substr(4) : std::string_view();
        const bool has_status = class_of(code_) != reply_class::positive_intermediate;
        const std::size_t skip = has_status ? parse_enhanced_status(first, code_, info.status) : 0;
        info.text = first.substr(skip);
        return info;
    }

    // Forgets any partial reply (used when the transport changes under STARTTLS).
    void clear() noexcept {
        start_next();
        complete_ = false;
    }

private:
    void start_next() noexcept {
        buffer_.clear();
        lines_ = 0;
        code_ = 0;
        complete_ = false;
    }

    [[nodiscard]] errc add_line(std::string_view line, bool& last) {
        int code = 0;
        if (const errc e = read_code(line, code, last); e != errc::ok) return e;
        if (lines_ > 0 && code != code_) return errc::reply_code_mismatch;
        if (lines_ == max_lines_) return errc::too_many_reply_lines;
        code_ = code;
        ++lines_;
        buffer_.insert(buffer_.end(), line.begin(), line.end());
        buffer_.push_back('\r');
        buffer_.push_back('\n');
        return errc::ok;
    }

    // RFC 5321 4.2: Reply-code [ ("-" / SP) textstring ]; a bare code is a last line (4.2-c).
    [[nodiscard]] static errc read_code(std::string_view line, int& code, bool& last) noexcept {
        if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2])) {
            return errc::bad_reply_code;
        }
        code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        if (line[0] < '2' || line[0] > '5') return errc::bad_reply_code;
        if (line.size() == 3 || line[3] == ' ') {
            last = true;
            return errc::ok;
        }
        last = false;
        return line[3] == '-' ? errc::ok : errc::bad_reply_code;
    }

    // A vector, not a string: moving the session must not move the bytes (short-string
    // buffers do), because queued events still view them.
    std::vector<char> buffer_;
    std::size_t max_line_ = 512;
    std::size_t max_lines_ = 128;
    std::size_t lines_ = 0;
    int code_ = 0;
    bool complete_ = false;
};

} // namespace detail
SMTPP_NAMESPACE_END

#endif // SMTPP_DETAIL_CLIENT_REPLY_HPP
