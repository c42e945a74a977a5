// smtpp: command-line framing over caller-owned input (not public API).
//
// The framer reads the caller's bytes in place (zero-copy). Only the incomplete line at the end
// of a feed is copied, into a private tail buffer bounded by the line limit, so the memory a
// peer can make a session hold is one line. Raw readers (DATA, BDAT) take bytes straight from
// the caller's feed with unread()/advance().
//
// Strict framing: only CRLF ends a line (RFC 5321 2.3.8); a bare LF stays inside the line and
// the line is reported with `bare_lf` so the session can reject it. With `lf_ends_line` (the
// telnet/nc leniency) a bare LF ends the line too. A line longer than the limit (CRLF counted)
// is skipped up to its end and reported once as `too_long`; the connection survives.
#ifndef SMTPP_DETAIL_LINE_FRAMER_HPP
#define SMTPP_DETAIL_LINE_FRAMER_HPP

#include <smtpp/config.hpp>
#include <smtpp/detail/output_buffer.hpp>
#include <smtpp/error.hpp>

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

SMTPP_NAMESPACE_BEGIN
namespace detail {

enum class frame_status { need_more, line, too_long };

struct frame {
    frame_status status = frame_status::need_more;
    std::string_view text; // the line without its terminator; valid until the next framer call
    bool bare_lf = false;  // an LF not preceded by CR sits inside `text`
};

class line_framer {
public:
    // Hands the framer new bytes, which it reads in place: they must stay unchanged until
    // drained() is true again. Fails with invalid_state (taking nothing) while earlier bytes
    // are still unread.
    [[nodiscard]] errc feed(std::string_view bytes) noexcept {
        if (!view_drained()) return errc::invalid_state;
        view_ = bytes;
        pos_ = 0;
        return errc::ok;
    }

    // True when every fed byte has been framed, consumed or copied into the tail.
    [[nodiscard]] bool drained() const noexcept { return view_drained(); }

    // The next complete line, at most `max_line` octets with its CRLF. On need_more every
    // remaining byte has been copied or skipped and the caller may feed again.
    [[nodiscard]] frame next(std::size_t max_line, bool lf_ends_line) {
        drop_completed_line();
        while (pos_ < view_.size()) {
            const frame f = step(max_line, lf_ends_line);
            if (f.status != frame_status::need_more) return f;
        }
        return {};
    }

    // Raw access for DATA/BDAT readers: the unread part of the current feed. Valid while no
    // framer call intervenes. Must not be used while an incomplete line sits in the tail.
    [[nodiscard]] std::string_view unread() noexcept {
        drop_completed_line();
        return view_.substr(pos_);
    }
    void advance(std::size_t n) noexcept { pos_ += n; }

    // Forgets every buffered and unread byte (STARTTLS: plaintext after the command line
    // must never be executed).
    void discard_all() noexcept {
        tail_.clear();
        tail_complete_ = false;
        discarding_ = false;
        last_cr_ = false;
        pos_ = view_.size();
    }

    // True while bytes of an unfinished line are held (the tail or a skipped long line).
    [[nodiscard]] bool mid_line() const noexcept {
        return discarding_ || (!tail_.empty() && !tail_complete_);
    }

    // Heap bytes held by the tail buffer.
    [[nodiscard]] std::size_t heap_bytes() const noexcept { return heap_bytes_of(tail_); }
    void release_if_empty() {
        if (tail_.empty()) std::string().swap(tail_);
    }

private:
    [[nodiscard]] bool view_drained() const noexcept { return pos_ >= view_.size(); }

    void drop_completed_line() noexcept {
        if (!tail_complete_) return;
        tail_.clear();
        tail_complete_ = false;
    }

    // Whether the LF at view_[lf] ends the current line (the CR may sit in the tail).
    [[nodiscard]] bool ends_line(std::size_t lf, bool lf_ends_line) const noexcept {
        if (lf_ends_line) return true;
        if (lf > pos_) return view_[lf - 1] == '\r';
        return discarding_ ? last_cr_ : (!tail_.empty() && tail_.back() == '\r');
    }

    // Scans forward from pos_ for the end of the current line; returns a frame when one ends.
    frame step(std::size_t max_line, bool lf_ends_line) {
        std::size_t search = pos_;
        bool bare_lf = false;
        for (;;) {
            const void* hit = std::memchr(view_.data() + search, '\n', view_.size() - search);
            if (hit == nullptr) return hold_rest(max_line);
            const auto lf = static_cast<std::size_t>(static_cast<const char*>(hit) - view_.data());
            if (ends_line(lf, lf_ends_line)) return finish(lf, max_line, bare_lf);
            bare_lf = true;
            search = lf + 1;
        }
    }

    // The current line ends at view_[lf]: report it from the view or from the tail.
    frame finish(std::size_t lf, std::size_t max_line, bool bare_lf) {
        const std::size_t piece = lf + 1 - pos_;
        const std::size_t total = tail_.size() + piece;
        const std::string_view bytes = view_.substr(pos_, piece);
        pos_ = lf + 1;
        if (discarding_ || total > max_line) {
            reset_line();
            return {frame_status::too_long, {}, false};
        }
        std::string_view text;
        if (tail_.empty()) {
            text = bytes;
        } else {
            bare_lf = bare_lf || tail_has_bare_lf();
            tail_.append(bytes.data(), bytes.size());
            tail_complete_ = true;
            text = tail_;
        }
        text.remove_suffix(1);
        if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
        return {frame_status::line, text, bare_lf};
    }

    // No line end in the rest of the feed: keep it (bounded) or skip it.
    frame hold_rest(std::size_t max_line) {
        const std::string_view rest = view_.substr(pos_);
        pos_ = view_.size();
        if (rest.empty()) return {};
        if (!discarding_ && tail_.size() + rest.size() < max_line) {
            tail_.append(rest.data(), rest.size());
            return {};
        }
        tail_.clear();
        discarding_ = true;
        last_cr_ = rest.back() == '\r';
        return {};
    }

    [[nodiscard]] bool tail_has_bare_lf() const noexcept {
        return tail_.find('\n') != std::string::npos;
    }

    void reset_line() noexcept {
        tail_.clear();
        discarding_ = false;
        last_cr_ = false;
    }

    std::string_view view_;
    std::size_t pos_ = 0;
    std::string tail_;
    bool tail_complete_ = false;
    bool discarding_ = false;
    bool last_cr_ = false;
};

} // namespace detail
SMTPP_NAMESPACE_END

#endif // SMTPP_DETAIL_LINE_FRAMER_HPP
