// smtpp internal: a session's input, and the command-line framing over it (not public API).
//
// Bytes come in two ways. copy_in() copies them into the session's own storage, bounded by the
// caller's limit: the caller's buffer is free again as soon as the call returns, whatever the
// session does next (asynchronous decisions, a read buffer shared by every connection).
// place() reads the caller's bytes in place, zero-copy, for fuzzers and benchmarks: they must
// stay valid and unchanged until drained() is true again; only an incomplete line at their end
// is copied, bounded by the line limit.
//
// Readers see one stream: the held bytes first, then the in-place ones. next_line() frames
// command lines; unread()/advance() give DATA and BDAT readers the raw bytes.
//
// Strict framing: only CRLF ends a line (RFC 5321 2.3.8); a bare LF stays inside the line and
// is reported (`bare_lf`) so the session can refuse it. With `lf_ends_line` (the telnet/nc
// leniency) a bare LF ends the line too. A line longer than the limit (CRLF counted) is
// skipped to its end and reported once as `too_long`; the session goes on.
#ifndef SMTPP_DETAIL_INPUT_BUFFER_HPP
#define SMTPP_DETAIL_INPUT_BUFFER_HPP

#include <smtpp/detail/buffer.hpp>
#include <smtpp/error.hpp>
#include <smtpp/macros.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

SMTPP_NAMESPACE_BEGIN
namespace detail {

enum class frame_status : unsigned char { need_more, line, too_long };

struct frame {
    frame_status status = frame_status::need_more;
    std::string_view text; // the line without its terminator; valid until the next call
    bool bare_lf = false;  // an LF not preceded by CR sits inside `text`
};

class input_buffer {
public:
    // Copies up to `limit` minus the octets already held; returns how many were taken (fewer
    // than offered when the limit is reached, 0 while in-place bytes are unread).
    std::size_t copy_in(std::string_view bytes, std::size_t limit) {
        if (!view_drained() || held_unread() >= limit) return 0;
        const std::size_t take =
            bytes.size() < limit - held_unread() ? bytes.size() : limit - held_unread();
        compact();
        append_bounded(held_, bytes.data(), take, limit);
        return take;
    }

    // Reads `bytes` in place. invalid_state (nothing taken) while earlier in-place bytes are
    // unread.
    [[nodiscard]] errc place(std::string_view bytes) noexcept {
        if (!view_drained()) return errc::invalid_state;
        view_ = bytes;
        view_pos_ = 0;
        return errc::ok;
    }

    // Every in-place byte has been read or copied; the caller may reuse its buffer.
    [[nodiscard]] bool drained() const noexcept { return view_drained(); }
    // Octets held in the session's own storage, not yet read.
    [[nodiscard]] std::size_t held_unread() const noexcept { return held_.size() - held_pos_; }
    // Nothing at all left to read.
    [[nodiscard]] bool empty() const noexcept { return held_unread() == 0 && view_drained(); }

    // The next complete command line, at most `max_line` octets with its CRLF.
    [[nodiscard]] frame next_line(std::size_t max_line, bool lf_ends_line) {
        for (;;) {
            if (discarding_) {
                if (!skip_long_line(lf_ends_line)) return {};
                return {frame_status::too_long, {}, false};
            }
            if (held_unread() != 0) {
                frame f;
                if (held_line(max_line, lf_ends_line, f)) return f;
                // What is held is one partial line: already too long, or waiting for more.
                if (held_unread() >= max_line)
                    start_skipping({}, 0);
                else if (view_drained() || !pull_from_view(max_line))
                    return {};
                continue;
            }
            if (view_drained()) return {};
            frame f;
            bool bare_lf = false;
            if (line_at(view_, view_pos_, 0, bare_lf, max_line, lf_ends_line, f)) return f;
            hold_view_rest(max_line, bare_lf);
        }
    }

    // Raw access for DATA/BDAT readers: the next contiguous unread bytes (held ones first).
    // Valid while no other call intervenes.
    [[nodiscard]] std::string_view unread() noexcept {
        if (held_unread() != 0) return std::string_view(held_).substr(held_pos_);
        return view_.substr(view_pos_);
    }
    void advance(std::size_t n) noexcept {
        if (held_unread() != 0) {
            held_pos_ += n;
            forget_scan();
            return;
        }
        view_pos_ += n;
    }

    // Forgets every held and unread byte (STARTTLS: plaintext after the command line must
    // never be executed).
    void discard_all() noexcept {
        held_.clear();
        held_pos_ = 0;
        forget_scan();
        view_pos_ = view_.size();
        discarding_ = last_cr_ = false;
    }

    // True while bytes of an unfinished line are held (or an over-long line is being skipped).
    [[nodiscard]] bool mid_line() const noexcept { return discarding_ || held_unread() != 0; }

    [[nodiscard]] std::size_t heap_bytes() const noexcept { return heap_bytes_of(held_); }
    void release_if_empty() {
        if (held_unread() != 0) return;
        std::string().swap(held_);
        held_pos_ = 0;
        forget_scan();
    }

private:
    [[nodiscard]] bool view_drained() const noexcept { return view_pos_ >= view_.size(); }

    // Drops the read part of the held bytes (views handed out earlier die here: only at a
    // mutating call). The scan state counts from held_pos_, so it stays right.
    void compact() {
        if (held_pos_ == 0) return;
        if (held_pos_ == held_.size()) {
            held_.clear(); // all read: nothing to move
        } else {
            held_.erase(0, held_pos_);
        }
        held_pos_ = 0;
    }

    void forget_scan() noexcept {
        held_scanned_ = 0;
        held_bare_lf_ = false;
    }

    // Whether the LF at s[lf] ends a line; `start` is where the line began in `s`.
    [[nodiscard]] static bool ends_line(std::string_view s, std::size_t start, std::size_t lf,
                                        bool lf_ends_line) noexcept {
        return lf_ends_line || (lf > start && s[lf - 1] == '\r');
    }

    // Finds the end of the line that starts at s[start], looking from s[search] on (what lies
    // between was searched before): the position of its LF, or npos.
    [[nodiscard]] static std::size_t find_end(std::string_view s, std::size_t start,
                                              std::size_t search, bool lf_ends_line,
                                              bool& bare_lf) noexcept {
        for (;;) {
            if (search >= s.size()) return std::string_view::npos;
            const void* hit = std::memchr(s.data() + search, '\n', s.size() - search);
            if (hit == nullptr) return std::string_view::npos;
            const auto lf = static_cast<std::size_t>(static_cast<const char*>(hit) - s.data());
            if (ends_line(s, start, lf, lf_ends_line)) return lf;
            bare_lf = true;
            search = lf + 1;
        }
    }

    [[nodiscard]] static frame make_line(std::string_view line, bool bare_lf) noexcept {
        line.remove_suffix(1); // LF
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        return {frame_status::line, line, bare_lf};
    }

    // A whole line of `text` from `pos` on, handed out as a view into `text` (the held bytes, or
    // the in-place ones: zero-copy); `pos` moves past it. The first `scanned` octets are known
    // to hold no line end (and bare_lf says whether they hold a bare LF).
    [[nodiscard]] static bool line_at(std::string_view text, std::size_t& pos, std::size_t scanned,
                                      bool& bare_lf, std::size_t max_line, bool lf_ends_line,
                                      frame& f) noexcept {
        const std::size_t lf = find_end(text, pos, pos + scanned, lf_ends_line, bare_lf);
        if (lf == std::string_view::npos) return false;
        const std::string_view line = text.substr(pos, lf + 1 - pos);
        pos = lf + 1;
        f = line.size() > max_line ? frame{frame_status::too_long, {}, false}
                                   : make_line(line, bare_lf);
        return true;
    }

    // A whole line in the held bytes. A partial line is searched once: as more octets arrive,
    // only they are (a 12 KiB AUTH line sent octet by octet costs linear time, not quadratic).
    bool held_line(std::size_t max_line, bool lf_ends_line, frame& f) {
        if (held_scanned_ == held_unread()) return false; // nothing came since the last search
        bool bare_lf = held_bare_lf_;
        if (line_at(held_, held_pos_, held_scanned_, bare_lf, max_line, lf_ends_line, f)) {
            forget_scan();
            return true;
        }
        held_bare_lf_ = bare_lf;
        mark_scanned();
        return false;
    }

    // Every unread held octet was searched for a line end (kept as 32 bits: a longer line is
    // searched again in part, never wrongly).
    void mark_scanned() noexcept {
        const std::size_t unread = held_unread();
        held_scanned_ = static_cast<std::uint32_t>(unread < UINT32_MAX ? unread : UINT32_MAX);
    }

    // The held bytes are a partial line: copy in-place bytes after it, up to and including the
    // next LF, unless the line would grow past the limit (then skip it, copying nothing).
    // False when that took every in-place byte without finding a line end: nothing more to do.
    bool pull_from_view(std::size_t max_line) {
        const std::string_view rest = view_.substr(view_pos_);
        const void* hit = std::memchr(rest.data(), '\n', rest.size());
        const std::size_t take =
            hit == nullptr
                ? rest.size()
                : static_cast<std::size_t>(static_cast<const char*>(hit) - rest.data()) + 1;
        if (held_unread() + take > max_line) {
            start_skipping(rest, 0);
            return true;
        }
        compact();
        held_.append(rest.data(), take);
        view_pos_ += take;
        if (hit != nullptr) return true;
        mark_scanned(); // no LF came with them: no later search looks at them again
        return false;
    }

    // No line end in the rest of the in-place bytes (searched: `bare_lf` says whether they
    // hold a bare LF): keep them (bounded), or skip them.
    void hold_view_rest(std::size_t max_line, bool bare_lf) {
        const std::string_view rest = view_.substr(view_pos_);
        if (rest.size() < max_line) {
            compact();
            held_.append(rest.data(), rest.size());
            view_pos_ = view_.size();
            held_bare_lf_ = bare_lf; // nothing was held before: these are the line's start
            mark_scanned();
            return;
        }
        start_skipping(rest, rest.size());
    }

    // The line in progress is too long: forget what is held of it (all of it: the held bytes
    // are that line) and skip `n` octets of `rest`, the in-place bytes, too.
    void start_skipping(std::string_view rest, std::size_t n) noexcept {
        last_cr_ = n != 0 ? rest[n - 1] == '\r' : (held_unread() != 0 && held_.back() == '\r');
        held_.clear();
        held_pos_ = 0;
        forget_scan();
        view_pos_ += n;
        discarding_ = true;
    }

    // Skips the over-long line to its end; true once its end was read.
    bool skip_long_line(bool lf_ends_line) noexcept {
        for (;;) {
            const bool from_held = held_unread() != 0;
            const std::string_view s =
                from_held ? std::string_view(held_).substr(held_pos_) : view_.substr(view_pos_);
            if (s.empty()) return false;
            // Never true; tells GCC 12 at -O2 the size is bounded (else -Wstringop-overread).
            if (s.size() > s.max_size()) return false;
            const void* hit = std::memchr(s.data(), '\n', s.size());
            if (hit == nullptr) {
                last_cr_ = s.back() == '\r';
                advance(s.size());
                continue;
            }
            const auto lf = static_cast<std::size_t>(static_cast<const char*>(hit) - s.data());
            const bool ends = lf_ends_line || (lf > 0 ? s[lf - 1] == '\r' : last_cr_);
            last_cr_ = false;
            advance(lf + 1);
            if (ends) {
                discarding_ = false;
                return true;
            }
        }
    }

    std::string held_;
    std::size_t held_pos_ = 0;
    std::string_view view_;
    std::size_t view_pos_ = 0;
    bool discarding_ = false;
    bool last_cr_ = false;           // the last octet skipped of an over-long line was a CR
    bool held_bare_lf_ = false;      // the held partial line has a bare LF in its scanned part
    std::uint32_t held_scanned_ = 0; // unread held octets searched for a line end in vain
};

} // namespace detail
SMTPP_NAMESPACE_END

#endif // SMTPP_DETAIL_INPUT_BUFFER_HPP
