/// \file
/// smtpp: client-side incremental reply reader (RFC 5321 4.2, RFC 2034, RFC 3463).
///
/// Feed the server's bytes to read(); each call hands out at most one complete reply and says
/// how many input octets it used. Call again with the rest of the input until it reports
/// need_more_data:
///
/// ```
///   std::string_view in = bytes_from_socket;
///   for (;;) {
///       const smtpp::read_result r = reader.read(in);
///       in.remove_prefix(r.consumed);
///       if (r.error == smtpp::errc::need_more_data) break;  // every octet taken; wait for more
///       if (r.error != smtpp::errc::ok) { close_connection(); break; }
///       handle(r.reply);  // r.reply.code, .status, .lines()
///   }
/// ```
///
/// Lifetime: the views in a reply point into the caller's input when the whole reply lay in
/// one read() call (zero copy), otherwise into the reader's buffer. Either way they are valid
/// until the next mutating call on the reader (read, reset), provided the caller keeps that
/// input unchanged.
///
/// Grammar (strict): every line is `code [("-" / SP) text] CRLF` with the same three-digit
/// code; `code-` continues the reply, `code SP` or a bare `code` ends it (RFC 5321 4.2.1,
/// 4.2). The first digit must be 2-5 (bad_reply_code otherwise, RFC 5321 4.2 says such codes
/// are fatal). A second digit of 6-9 breaks the Reply-code ABNF but is accepted and flagged
/// (reply::standard_code false) because RFC 5321 4.2 also requires clients to act on unknown
/// codes by their first digit. Text may hold any octet but CR and LF (RFC 5321 4.2: any text
/// is acceptable). Only CRLF ends a line: a bare LF or a bare CR in a reply is an error
/// (bare_lf, bare_cr), because treating it as text would hang the client while the server
/// waits; reply_reader_options::lenient_bare_lf makes a bare LF end the line instead.
///
/// Memory: a reply split across reads is copied into a buffer bounded by
/// line_limit * max_lines octets, allocated on demand. A line longer than line_limit (CRLF
/// included) fails with reply_line_too_long and a reply of more than max_lines lines with
/// too_many_reply_lines, as soon as the bytes that prove it arrive. Every error is sticky:
/// later read() calls return it again until reset().
#ifndef SMTPP_REPLY_READER_HPP
#define SMTPP_REPLY_READER_HPP

#include <smtpp/detail/ascii.hpp>
#include <smtpp/detail/buffer.hpp>
#include <smtpp/detail/line_scanner.hpp>
#include <smtpp/error.hpp>
#include <smtpp/limits.hpp>
#include <smtpp/macros.hpp>
#include <smtpp/status.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

/// The text of `line_text` after a leading enhanced status code and the spaces that follow
/// it; `line_text` itself when it does not start with one. The view points into `line_text`.
[[nodiscard]] constexpr std::string_view
strip_enhanced_status(std::string_view line_text) noexcept {
    enhanced_status ignored;
    std::size_t n = parse_enhanced_status(line_text, ignored);
    if (n == 0) return line_text;
    while (n < line_text.size() && line_text[n] == ' ') ++n;
    return line_text.substr(n);
}

/// Iterates over the texts of a reply's lines: what follows "250-" or "250 " (empty for a bare
/// "250"), without CRLF, enhanced status code included. The views point into reply::raw.
class reply_line_iterator {
public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string_view*;
    using reference = std::string_view;

    constexpr reply_line_iterator() noexcept = default;
    /// At the first line of `rest`, a reply's raw text; an empty `rest` is the end.
    explicit reply_line_iterator(std::string_view rest) noexcept : rest_(rest) { load(); }

    /// The current line's text.
    [[nodiscard]] std::string_view operator*() const noexcept { return text_; }
    /// Moves to the next line.
    reply_line_iterator& operator++() noexcept {
        rest_.remove_prefix(next_);
        load();
        return *this;
    }
    /// Moves to the next line; returns the iterator as it was.
    reply_line_iterator operator++(int) noexcept {
        reply_line_iterator before = *this;
        ++*this;
        return before;
    }
    /// Iterators compare by position; compare only iterators over the same reply.
    [[nodiscard]] friend bool operator==(const reply_line_iterator& a,
                                         const reply_line_iterator& b) noexcept {
        return a.rest_.size() == b.rest_.size();
    }
    /// True when they are at different lines.
    [[nodiscard]] friend bool operator!=(const reply_line_iterator& a,
                                         const reply_line_iterator& b) noexcept {
        return !(a == b);
    }

private:
    void load() noexcept {
        const std::size_t lf = detail::find_byte(rest_, '\n');
        next_ = lf == detail::no_position ? rest_.size() : lf + 1;
        const std::string_view line = detail::without_cr(rest_.substr(0, lf));
        text_ = line.size() > 4 ? line.substr(4) : std::string_view();
    }

    std::string_view rest_;
    std::string_view text_;
    std::size_t next_ = 0;
};

/// The lines of a reply as a range: `for (std::string_view text : r.lines())`.
struct reply_line_range {
    std::string_view raw; ///< the whole reply, as reply::raw holds it
    /// At the first line.
    [[nodiscard]] reply_line_iterator begin() const noexcept { return reply_line_iterator(raw); }
    /// Past the last line.
    [[nodiscard]] reply_line_iterator end() const noexcept {
        return reply_line_iterator(raw.substr(raw.size()));
    }
};

/// A reply received: what reply_reader hands out and what client_session's events carry.
/// The views are valid until the next mutating call on whatever produced it (the reader, see
/// the top of this header; the client session).
struct reply {
    std::uint16_t code = 0;     ///< the three digits, 200..599
    enhanced_status status{};   ///< of the first line (RFC 2034/3463); empty when absent or when
                                ///< its class differs from the code's first digit
    std::string_view raw;       ///< every octet of the reply, line terminators included
    std::size_t line_count = 0; ///< how many lines the reply has, at least 1
    bool standard_code = true;  ///< false: second digit 6-9, outside the RFC 5321 Reply-code ABNF
    bool mixed_codes = false;   ///< lines carried different codes (only with lenient_mixed_codes);
                                ///< code and status are the last line's
    bool controls = false;      ///< the text holds NUL, C0 controls or DEL (only with
                                ///< lenient_control_characters): print it with append_printable()

    /// How to act on the reply: by its first digit only (RFC 5321 4.2, 4.2.1).
    [[nodiscard]] reply_class kind() const noexcept { return class_of(code); }
    /// The text of each line after the code and its separator, enhanced status code included.
    [[nodiscard]] reply_line_range lines() const noexcept { return {raw}; }
    /// The first line's text without its enhanced status code: "Recipient OK" of
    /// "250 2.1.5 Recipient OK"; empty for a reply of the code alone.
    [[nodiscard]] std::string_view text() const noexcept {
        const std::string_view first = raw.empty() ? std::string_view() : *lines().begin();
        return status.empty() ? first : strip_enhanced_status(first);
    }
};

/// How strictly a reply_reader reads, and how much it takes; strict by default.
struct reply_reader_options {
    std::size_t line_limit = 512; ///< longest reply line, CRLF included (RFC 5321 4.5.3.1.5)
    std::size_t max_lines = 128;  ///< most lines in one reply
    /// Leniency, off by default: a bare LF ends a reply line (what Postfix's and Exim's clients
    /// do). Risk: a reply a strict peer would see as one line is read as two.
    bool lenient_bare_lf = false;
    /// Leniency, off by default: lines of one reply may carry different codes (RFC 5321 4.2.1
    /// says they must not); the reply takes the code and status of its last line and is
    /// flagged reply::mixed_codes. Risk: none for the reply boundaries, which only the SP
    /// after the code decides; the text of the other lines may mean something else.
    bool lenient_mixed_codes = false;
    /// Leniency, off by default: text with NUL, other C0 controls but HT, or DEL (RFC 5321 4.2
    /// textstring leaves them out) is read and the reply marked reply::controls, instead of
    /// stopping the reader with bad_reply_text. Risk: a caller that logs or shows the text
    /// as it is passes terminal escapes and NULs on; use append_printable().
    bool lenient_control_characters = false;
};

/// Options from the client's limits (reply_line, reply_lines).
[[nodiscard]] inline reply_reader_options make_reply_reader_options(const limits& l) noexcept {
    reply_reader_options options;
    options.line_limit = l.reply_line;
    options.max_lines = l.reply_lines;
    return options;
}

/// What one read() call did.
struct read_result {
    /// ok: `reply` holds a complete reply. need_more_data: every octet was taken, feed more.
    /// Anything else is the (sticky) error that stopped the reader.
    errc error = errc::need_more_data;
    /// Input octets used: up to the end of the reply on ok, all of them on need_more_data,
    /// 0 on error.
    std::size_t consumed = 0;
    smtpp::reply reply; ///< ok: the reply read; its views follow the reader's lifetime rule
};

/// Client side: reads a server's replies from the bytes received, one complete reply at a
/// time (RFC 5321 4.2), however the bytes are split; see the top of this header.
class reply_reader {
public:
    reply_reader() = default;
    /// A reader with these options.
    explicit reply_reader(const reply_reader_options& options) noexcept : options_(options) {}
    /// A reader with the line limits of `l` (reply_line, reply_lines) and no leniency.
    explicit reply_reader(const limits& l) noexcept : options_(make_reply_reader_options(l)) {}

    /// Reads from `in` until one reply is complete (ok) or `in` is used up (need_more_data).
    /// Errors: bad_reply_code, reply_code_mismatch, reply_line_too_long, too_many_reply_lines,
    /// bare_lf, bare_cr, bad_reply_text; once one occurred every call returns it (consumed 0).
    /// Allocates only when a reply is split across calls. The returned views follow the lifetime
    /// rule above.
    [[nodiscard]] read_result read(std::string_view in) {
        if (error_ != errc::ok) return fail(error_);
        if (delivered_) {
            buffer_.clear();
            delivered_ = false;
        }
        const bool zero_copy = buffer_.empty();
        std::size_t pos = 0;
        for (;;) {
            const std::size_t held = zero_copy ? 0 : buffer_.size() - line_start_;
            const std::size_t room = options_.line_limit - held; // octets this line may still take
            const std::string_view window = in.substr(pos, room);
            const std::size_t lf = detail::find_byte(window, '\n');
            if (lf == detail::no_position) {
                if (window.size() >= room) return fail(errc::reply_line_too_long);
                stash(in, zero_copy, pos);
                return {errc::need_more_data, in.size(), {}};
            }
            std::string_view line = in.substr(pos, lf + 1);
            if (!zero_copy) {
                append(line);
                line = std::string_view(buffer_).substr(line_start_);
            }
            pos += lf + 1;
            bool last = false;
            if (const errc e = take_line(line, last); e != errc::ok) return fail(e);
            line_start_ = zero_copy ? pos : buffer_.size();
            if (last)
                return finish(zero_copy ? in.substr(0, pos) : std::string_view(buffer_), pos,
                              !zero_copy);
        }
    }

    /// New limits for the replies to come. Refused (false, nothing changes) while a reply is
    /// half read, whose bytes were checked against the old limits. The buffer is kept unless it
    /// is larger than the new limits allow; releasing it ends the views of the last reply, so
    /// this counts as a mutating call.
    bool set_options(const reply_reader_options& options) {
        if (mid_reply()) return false;
        options_ = options;
        if (buffer_.capacity() > bound()) std::string().swap(buffer_);
        delivered_ = false;
        buffer_.clear();
        return true;
    }

    /// The sticky error, or ok.
    [[nodiscard]] errc error() const noexcept { return error_; }
    /// True while octets of an unfinished reply are held (a connection closing now cut a reply).
    [[nodiscard]] bool mid_reply() const noexcept { return !delivered_ && !buffer_.empty(); }
    /// Heap octets the buffer holds; never more than line_limit * max_lines.
    [[nodiscard]] std::size_t capacity() const noexcept { return buffer_.capacity(); }
    /// The options the reader was built with.
    [[nodiscard]] const reply_reader_options& options() const noexcept { return options_; }

    /// Forgets all held octets and the error, keeping the buffer's storage (after STARTTLS
    /// the client must not act on plaintext that followed the 220).
    void reset() noexcept {
        buffer_.clear();
        delivered_ = false;
        error_ = errc::ok;
        start_reply();
    }

private:
    [[nodiscard]] std::size_t bound() const noexcept {
        return options_.line_limit * (options_.max_lines == 0 ? 1 : options_.max_lines);
    }

    void start_reply() noexcept {
        code_ = 0;
        lines_ = 0;
        status_ = {};
        standard_ = true;
        mixed_ = false;
        controls_ = false;
        line_start_ = 0;
    }

    [[nodiscard]] read_result fail(errc e) noexcept {
        error_ = e;
        buffer_.clear();
        return {e, 0, {}};
    }

    [[nodiscard]] read_result finish(std::string_view raw, std::size_t consumed,
                                     bool from_buffer) noexcept {
        read_result r{
            errc::ok, consumed, {code_, status_, raw, lines_, standard_, mixed_, controls_}};
        delivered_ = from_buffer;
        start_reply();
        return r;
    }

    // Keeps the unfinished reply: all of `in` when nothing was held before, else the rest.
    void stash(std::string_view in, bool zero_copy, std::size_t pos) {
        append(zero_copy ? in : in.substr(pos));
    }

    // Grows the buffer geometrically but never past bound(): the line checks guarantee that
    // the held octets fit.
    void append(std::string_view bytes) {
        const std::size_t needed = buffer_.size() + bytes.size();
        SMTPP_ASSERT(needed <= bound());
        if (needed > buffer_.capacity()) {
            std::size_t grown = buffer_.capacity() * 2;
            if (grown < options_.line_limit * 2) grown = options_.line_limit * 2;
            if (grown < needed) grown = needed;
            detail::grow_exactly(buffer_, grown < bound() ? grown : bound());
        }
        buffer_.append(bytes.data(), bytes.size());
    }

    // Checks one complete line (terminator included) and records it in the reply.
    [[nodiscard]] errc take_line(std::string_view line, bool& last) noexcept {
        line.remove_suffix(1); // the LF
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        } else if (!options_.lenient_bare_lf) {
            return errc::bare_lf;
        }
        if (const errc e = check_controls(line); e != errc::ok) return e;
        if (!is_reply_line_start(line)) return errc::bad_reply_code;
        const auto code = static_cast<std::uint16_t>((line[0] - '0') * 100 + (line[1] - '0') * 10 +
                                                     (line[2] - '0'));
        if (lines_ == 0) {
            first_line(code, line);
        } else if (code != code_) {
            if (!options_.lenient_mixed_codes) return errc::reply_code_mismatch;
            first_line(code, line); // judged by the last line (RFC 5321 4.2.1)
            mixed_ = true;
        }
        ++lines_;
        last = line.size() == 3 || line[3] == ' ';
        if (!last && lines_ >= options_.max_lines) return errc::too_many_reply_lines;
        return errc::ok;
    }

    // RFC 5321 4.2: reply text is HT and printable characters (8-bit octets are UTF-8 text
    // under SMTPUTF8, RFC 6531 3.7.4; the reader leaves them to the caller). A CR is bare_cr;
    // NUL, another C0 control or DEL is bad_reply_text, or with lenient_control_characters
    // marks the reply (reply::controls).
    [[nodiscard]] errc check_controls(std::string_view line) noexcept {
        for (std::size_t at = detail::find_text_control(line, 0); at < line.size();
             at = detail::find_text_control(line, at + 1)) {
            if (line[at] == '\r') return errc::bare_cr;
            if (!options_.lenient_control_characters) return errc::bad_reply_text;
            controls_ = true;
        }
        return errc::ok;
    }

    [[nodiscard]] static bool is_reply_line_start(std::string_view line) noexcept {
        const auto digit = [](char c) { return c >= '0' && c <= '9'; };
        if (line.size() < 3 || line[0] < '2' || line[0] > '5' || !digit(line[1]) || !digit(line[2]))
            return false;
        return line.size() == 3 || line[3] == ' ' || line[3] == '-';
    }

    void first_line(std::uint16_t code, std::string_view line) noexcept {
        code_ = code;
        status_ = {};
        standard_ = line[1] <= '5';
        if (line.size() > 4 && parse_enhanced_status(line.substr(4), status_) != 0 &&
            status_.cls != code / 100) {
            status_ = {}; // RFC 2034 4: a status that disagrees with the code is not one
        }
    }

    reply_reader_options options_;
    std::string buffer_;     // the unfinished reply, or the last reply handed out from here
    bool delivered_ = false; // buffer_ holds a reply already handed out
    errc error_ = errc::ok;
    std::uint16_t code_ = 0;
    std::size_t lines_ = 0;
    enhanced_status status_{};
    bool standard_ = true;
    bool mixed_ = false;
    bool controls_ = false;
    std::size_t line_start_ = 0; // where the current line starts in buffer_
};

SMTPP_NAMESPACE_END

#endif // SMTPP_REPLY_READER_HPP
