/// \file
/// smtpp: DATA transparency (RFC 5321 4.1.1.4, 4.5.2): the server's streaming decoder and the
/// client's streaming encoder, plus a pre-scan so a client can choose DATA, BDAT, 8BITMIME or
/// BINARYMIME before it sends anything.
///
/// End of data is CRLF "." CRLF and nothing else, the CRLF of the DATA command counting as the
/// first CRLF (so "." CRLF as the very first line ends an empty body). A bare CR or bare LF is
/// never a line end, so no "LF.LF", "CR.CR", "LF.CRLF" or "CRLF.LF" variant ends a message:
/// two MTAs that disagree about where a message ends let a sender smuggle a second message
/// through the first (CVE-2023-51764, -51765, -51766). The decoder records such bytes so the
/// server can reject the message, but they never move the end.
///
/// Neither class allocates, copies body bytes or throws. Chunks and segments are views into
/// the caller's input, or into static constants for the few bytes held across a feed boundary.
#ifndef SMTPP_DATA_HPP
#define SMTPP_DATA_HPP

#include <smtpp/error.hpp>
#include <smtpp/limits.hpp>
#include <smtpp/macros.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#define SMTPP_DETAIL_DATA_SSE2 1
#include <emmintrin.h>
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#endif
#endif

SMTPP_NAMESPACE_BEGIN
namespace detail {

#if defined(SMTPP_DETAIL_DATA_SSE2)
[[nodiscard]] inline unsigned lowest_set_bit(unsigned mask) noexcept {
#if defined(_MSC_VER) && !defined(__clang__)
    unsigned long index = 0;
    _BitScanForward(&index, mask);
    return static_cast<unsigned>(index);
#else
    return static_cast<unsigned>(__builtin_ctz(mask));
#endif
}
#endif

[[nodiscard]] constexpr bool is_line_byte(char c) noexcept {
    return c == '\r' || c == '\n' || c == '\0';
}

#if defined(SMTPP_DETAIL_DATA_SSE2)
// Mask of the CR, LF and NUL octets of `v`.
[[nodiscard]] inline unsigned line_byte_mask(__m128i v) noexcept {
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')),
                                                  _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))),
                                     _mm_cmpeq_epi8(v, _mm_setzero_si128()));
    return static_cast<unsigned>(_mm_movemask_epi8(hit));
}

[[nodiscard]] inline __m128i load16(const char* p) noexcept {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// Position of the first CR/LF/NUL in the 16 octets at p, or 16; folds the octets before it
// into `seen` (whose top bits record octets >= 0x80).
[[nodiscard]] inline unsigned find_in_16(const char* p, __m128i& seen) noexcept {
    const __m128i v = load16(p);
    const unsigned mask = line_byte_mask(v);
    if (mask == 0) {
        seen = _mm_or_si128(seen, v);
        return 16;
    }
    const unsigned at = lowest_set_bit(mask);
    // Octets >= 0x80 before the hit count; the hit and what follows it are not scanned yet.
    if ((static_cast<unsigned>(_mm_movemask_epi8(v)) & ((1u << at) - 1u)) != 0) {
        seen = _mm_set1_epi8(-128);
    }
    return at;
}
#endif

// The first CR, LF or NUL in [p, end), or end. Sets `high` when an octet >= 0x80 lies before
// the returned position. This is the hot loop of both codecs: text lines are long runs of
// ordinary octets. With SSE2 one unsigned minimum over 64 octets rules out all three targets
// (none is above 13) and the exact test runs only where that coarse test fires (CR, LF, NUL
// or some other control such as TAB); without it, 8 octets at a time.
[[nodiscard]] inline const char* find_line_byte(const char* p, const char* end,
                                                bool& high) noexcept {
#if defined(SMTPP_DETAIL_DATA_SSE2)
    const __m128i thirteen = _mm_set1_epi8(13);
    __m128i seen = _mm_setzero_si128();
    for (; end - p >= 64; p += 64) {
        const __m128i v0 = load16(p), v1 = load16(p + 16), v2 = load16(p + 32), v3 = load16(p + 48);
        const __m128i low = _mm_min_epu8(_mm_min_epu8(v0, v1), _mm_min_epu8(v2, v3));
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(low, thirteen), thirteen)) != 0) {
            for (unsigned k = 0; k < 64; k += 16) {
                const unsigned at = find_in_16(p + k, seen);
                if (at < 16) {
                    high = high || _mm_movemask_epi8(seen) != 0;
                    return p + k + at;
                }
            }
            continue;
        }
        seen = _mm_or_si128(seen, _mm_or_si128(_mm_or_si128(v0, v1), _mm_or_si128(v2, v3)));
    }
    for (; end - p >= 16; p += 16) {
        const unsigned at = find_in_16(p, seen);
        if (at < 16) {
            high = high || _mm_movemask_epi8(seen) != 0;
            return p + at;
        }
    }
    if (_mm_movemask_epi8(seen) != 0) high = true;
#else
    constexpr std::uint64_t ones = 0x0101010101010101u;
    constexpr std::uint64_t tops = 0x8080808080808080u;
    std::uint64_t seen = 0;
    for (; end - p >= 8; p += 8) {
        std::uint64_t word;
        std::memcpy(&word, p, 8);
        const std::uint64_t cr = word ^ (ones * '\r');
        const std::uint64_t lf = word ^ (ones * '\n');
        // Non-zero exactly when some octet of the word is zero.
        const std::uint64_t zeros =
            ((word - ones) & ~word) | ((cr - ones) & ~cr) | ((lf - ones) & ~lf);
        if ((zeros & tops) != 0) break;
        seen |= word;
    }
    if ((seen & tops) != 0) high = true;
#endif
    unsigned tail = 0;
    for (; p < end && !is_line_byte(*p); ++p) tail |= static_cast<unsigned char>(*p);
    if (tail >= 0x80) high = true;
    return p;
}

// "\r\n.\r\n": every constant the codecs hand out is a piece of it.
inline constexpr char data_terminator[] = "\r\n.\r\n";

[[nodiscard]] constexpr std::string_view data_constant(std::size_t offset,
                                                       std::size_t length) noexcept {
    return std::string_view(data_terminator + offset, length);
}

} // namespace detail

/// What the decoder saw in the current message; sticky until reset(). Offsets count octets of
/// the decoded (unstuffed) body from 0; `none` when the flag is not set.
struct data_findings {
    static constexpr std::uint64_t none = ~std::uint64_t{0}; ///< the offset of a flag not set

    bool bare_cr = false;   ///< CR not followed by LF (RFC 5321 2.3.8)
    bool bare_lf = false;   ///< LF not preceded by CR
    bool nul = false;       ///< an octet 0
    bool eight_bit = false; ///< an octet >= 0x80 (fine with 8BITMIME, RFC 6152)
    bool long_line = false; ///< a line over limits::text_line octets, CRLF included, stuffing not
    bool too_large = false; ///< the body outgrew the size limit (RFC 1870 4: answer 552 at the end)

    std::uint64_t bare_cr_at = none;   ///< where the first bare CR is
    std::uint64_t bare_lf_at = none;   ///< where the first bare LF is
    std::uint64_t nul_at = none;       ///< where the first NUL is
    std::uint64_t long_line_at = none; ///< where the first over-long line starts

    /// The one error a server should answer the message with, most important first:
    /// message_too_large (552), bare_lf, bare_cr, nul_byte, text_line_too_long; errc::ok when
    /// the body is clean. eight_bit is not an error here: it depends on the BODY= parameter.
    [[nodiscard]] constexpr errc error() const noexcept {
        if (too_large) return errc::message_too_large;
        if (bare_lf) return errc::bare_lf;
        if (bare_cr) return errc::bare_cr;
        if (nul) return errc::nul_byte;
        if (long_line) return errc::text_line_too_long;
        return errc::ok;
    }
};

/// Server side: decodes the byte stream that follows a 354 reply. Feed it any pieces of the
/// stream; each call hands out at most one chunk of unstuffed body and says how much input it
/// used. After `done`, the rest of the input (pipelined commands) belongs to the caller.
///
///     while (!in.empty()) {
///         const auto r = decoder.decode(in);
///         store(r.chunk);
///         in.remove_prefix(r.consumed);
///         if (r.done) break;
///     }
///
/// A call may hand out a chunk and consume nothing (a CR held back from the previous piece),
/// or consume input and hand out nothing (a stuffing dot); every call makes progress.
class data_decoder {
public:
    /// What one decode() used and handed out.
    struct result {
        std::size_t consumed = 0; ///< input octets used, the terminator included when done
        std::string_view chunk;   ///< unstuffed body octets: a view into this call's input, or
                                  ///< into a static constant; valid as long as the input is
        bool done = false;        ///< CRLF.CRLF was consumed: the body is complete
    };

    data_decoder() noexcept = default;

    /// `text_line`: the longest line, CRLF included, before findings().long_line is set.
    /// `max_size`: the body size above which findings().too_large is set; 0 = no limit.
    explicit data_decoder(std::size_t text_line, std::uint64_t max_size = 0) noexcept
        : text_line_(text_line), max_size_(max_size) {}

    /// The limits' text_line and message_size.
    explicit data_decoder(const limits& config) noexcept
        : data_decoder(config.text_line, config.message_size) {}

    /// Starts a new message with the same limits.
    void reset() noexcept { *this = data_decoder(text_line_, max_size_); }

    /// Changes the size limit (0 = none), e.g. to a smaller per-message policy; takes effect on
    /// the following octets.
    void set_max_size(std::uint64_t max_size) noexcept {
        max_size_ = max_size;
        check_size();
    }

    /// Decodes from the start of `in`. Never fails: findings() collects what was wrong. Once
    /// done, further calls return {0, {}, true} until reset().
    [[nodiscard]] result decode(std::string_view in) noexcept {
        if (in.empty() || state_ == state::done) return {0, {}, state_ == state::done};
        switch (state_) {
        case state::line_start:
            return scan(in, 0, true);
        case state::cr:
            if (in[0] == '\n') {
                end_line(size_ + 1);
                return scan(in, 1, true);
            }
            note(found_.bare_cr, found_.bare_cr_at, size_ - 1);
            return scan(in, 0, false);
        case state::dot:
            if (in[0] == '\r') {
                if (in.size() == 1) return step({}, 1, state::dot_cr, false);
                if (in[1] == '\n') return step({}, 2, state::done, false);
            }
            return scan(in, 0, false); // the dot was stuffing
        case state::dot_cr:
            if (in[0] == '\n') return step({}, 1, state::done, false);
            // ".\r" then not LF: the dot was stuffing and the held CR is a bare CR of the body.
            note(found_.bare_cr, found_.bare_cr_at, size_);
            return step(detail::data_constant(0, 1), 0, state::mid, false);
        default:
            return scan(in, 0, false);
        }
    }

    /// True once CRLF.CRLF was consumed, until reset().
    [[nodiscard]] bool done() const noexcept { return state_ == state::done; }

    /// Octets of unstuffed body handed out so far: the RFC 1870 5 message size (CRLFs counted,
    /// stuffing dots and the terminator not).
    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

    /// What was wrong with the body so far (see data_findings).
    [[nodiscard]] const data_findings& findings() const noexcept { return found_; }

private:
    enum class state : std::uint8_t { line_start, mid, cr, dot, dot_cr, done };

    // From in[p] on; `line_start` when in[p] begins a line. Ends at the end of the input, at a
    // line-start dot (a chunk cannot skip it) or at the terminator.
    result scan(std::string_view in, std::size_t p, bool line_start) noexcept {
        const char* const b = in.data();
        const std::size_t n = in.size();
        bool high = false;
        for (;;) {
            if (line_start) {
                if (p == n) return step(in, n, state::line_start, high);
                if (b[p] == '.') return line_start_dot(in, p, high);
            }
            line_start = false;
            p = static_cast<std::size_t>(detail::find_line_byte(b + p, b + n, high) - b);
            if (p == n) return step(in, n, state::mid, high);
            if (b[p] == '\r') {
                if (p + 1 == n) return step(in, n, state::cr, high);
                if (b[p + 1] == '\n') {
                    p += 2;
                    end_line(size_ + p);
                    line_start = true;
                    continue;
                }
                note(found_.bare_cr, found_.bare_cr_at, size_ + p);
            } else if (b[p] == '\n') {
                note(found_.bare_lf, found_.bare_lf_at, size_ + p);
            } else {
                note(found_.nul, found_.nul_at, size_ + p);
            }
            ++p;
        }
    }

    // in[j] is a dot at the start of a line: the terminator if ".\r\n" follows, else stuffing.
    result line_start_dot(std::string_view in, std::size_t j, bool high) noexcept {
        const std::size_t n = in.size();
        const std::string_view before = in.substr(0, j);
        if (j + 1 == n) return step(before, n, state::dot, high);
        if (in[j + 1] != '\r') return step(before, j + 1, state::mid, high);
        if (j + 2 == n) return step(before, n, state::dot_cr, high);
        if (in[j + 2] == '\n') return step(before, j + 3, state::done, high);
        return step(before, j + 1, state::mid, high);
    }

    // Hands out `chunk` (its octets are body), moves to `next` and updates the findings.
    result step(std::string_view chunk, std::size_t consumed, state next, bool high) noexcept {
        size_ += chunk.size();
        state_ = next;
        if (high) found_.eight_bit = true;
        // A line still open is at least this long once its CRLF arrives.
        if ((next == state::mid || next == state::cr) && !found_.long_line &&
            size_ - line_start_ + (next == state::cr ? 1u : 2u) > text_line_) {
            note(found_.long_line, found_.long_line_at, line_start_);
        }
        check_size();
        return {consumed, chunk, next == state::done};
    }

    // A CRLF ends the current line at body offset `after` (just past the LF).
    void end_line(std::uint64_t after) noexcept {
        if (after - line_start_ > text_line_)
            note(found_.long_line, found_.long_line_at, line_start_);
        line_start_ = after;
    }

    void check_size() noexcept {
        if (max_size_ != 0 && size_ > max_size_) found_.too_large = true;
    }

    static void note(bool& flag, std::uint64_t& at, std::uint64_t offset) noexcept {
        if (!flag) at = offset;
        flag = true;
    }

    std::size_t text_line_ = 1000;
    std::uint64_t max_size_ = 0;
    std::uint64_t size_ = 0;
    std::uint64_t line_start_ = 0; // body offset where the current line starts
    data_findings found_;
    state state_ = state::line_start;
};

/// Server side: checks a body that arrives raw, as BDAT chunks do (RFC 3030 2: no stuffing, no
/// end marker), for what data_decoder finds in a DATA body: bare CR, bare LF, NUL, 8-bit
/// octets and over-long lines. A CRLF split between two pieces is one line end; a CR at the
/// very end of a piece is judged when the next piece (or finish()) comes. Without
/// BODY=BINARYMIME such a body must be CRLF-canonical text (RFC 3030 2, RFC 5322 2.3), so a
/// server refuses what DATA would refuse. Offsets in findings() count body octets from 0.
class body_scanner {
public:
    body_scanner() noexcept = default;
    /// `text_line`: the longest line, CRLF included, before findings().long_line is set.
    explicit body_scanner(std::size_t text_line) noexcept : text_line_(text_line) {}

    /// Starts a new body with the same limit.
    void reset() noexcept { *this = body_scanner(text_line_); }

    /// Scans the next piece of the body. Never fails; copies nothing.
    void scan(std::string_view in) noexcept {
        if (in.empty()) return;
        const char* const b = in.data();
        const std::size_t n = in.size();
        std::size_t p = 0;
        if (cr_held_) {
            cr_held_ = false;
            if (b[0] == '\n') {
                end_line(size_ + 1);
                p = 1;
            } else {
                note(found_.bare_cr, found_.bare_cr_at, size_ - 1);
            }
        }
        bool high = false;
        while (p < n) {
            p = static_cast<std::size_t>(detail::find_line_byte(b + p, b + n, high) - b);
            if (p == n) break;
            if (b[p] == '\r' && p + 1 == n) {
                cr_held_ = true;
                break;
            }
            if (b[p] == '\r' && b[p + 1] == '\n') {
                end_line(size_ + p + 2);
                p += 2;
                continue;
            }
            if (b[p] == '\r')
                note(found_.bare_cr, found_.bare_cr_at, size_ + p);
            else if (b[p] == '\n')
                note(found_.bare_lf, found_.bare_lf_at, size_ + p);
            else
                note(found_.nul, found_.nul_at, size_ + p);
            ++p;
        }
        if (high) found_.eight_bit = true;
        size_ += n;
        // A line still open is at least this long once its CRLF arrives.
        if (!found_.long_line && size_ - line_start_ + (cr_held_ ? 1u : 2u) > text_line_)
            note(found_.long_line, found_.long_line_at, line_start_);
    }

    /// The body is complete: a CR still held is a bare CR.
    void finish() noexcept {
        if (!cr_held_) return;
        cr_held_ = false;
        note(found_.bare_cr, found_.bare_cr_at, size_ - 1);
    }

    /// What was wrong with the body so far (see data_findings).
    [[nodiscard]] const data_findings& findings() const noexcept { return found_; }
    /// Octets scanned so far.
    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

private:
    void end_line(std::uint64_t after) noexcept {
        if (after - line_start_ > text_line_)
            note(found_.long_line, found_.long_line_at, line_start_);
        line_start_ = after;
    }

    static void note(bool& flag, std::uint64_t& at, std::uint64_t offset) noexcept {
        if (!flag) at = offset;
        flag = true;
    }

    std::size_t text_line_ = 1000;
    std::uint64_t size_ = 0;
    std::uint64_t line_start_ = 0;
    data_findings found_;
    bool cr_held_ = false;
};

/// What a body holds, as the encoder sees it (after bare CR/LF became CRLF): lets a client pick
/// DATA or BDAT and 7BIT, 8BITMIME or BINARYMIME before sending anything.
struct body_traits {
    bool has_8bit = false;          ///< needs 8BITMIME (or BINARYMIME), RFC 6152
    bool has_nul = false;           ///< not valid 8BITMIME content: needs BINARYMIME
    bool has_bare_cr = false;       ///< converted to CRLF, or refused, by the encoder
    bool has_bare_lf = false;       ///< converted to CRLF, or refused, by the encoder
    bool long_line = false;         ///< some line over text_line octets incl CRLF: needs BINARYMIME
    std::uint64_t longest_line = 0; ///< octets, CRLF included, stuffing dot not
    std::uint64_t size = 0;         ///< RFC 1870 size of what goes on the wire (CRLF-normalised,
                                    ///< the final CRLF included, stuffing dots not); complete
                                    ///< after finish()

    /// True when the body has a bare CR or a bare LF.
    [[nodiscard]] constexpr bool has_bare_cr_or_lf() const noexcept {
        return has_bare_cr || has_bare_lf;
    }
};

/// How data_encoder treats line endings and which lines it reports as long.
struct data_encoder_options {
    /// true: a bare CR or bare LF becomes CRLF (RFC 5321 2.3.8). false: it is an error
    /// (errc::bare_cr / errc::bare_lf) and nothing of it reaches the output.
    bool normalize_line_endings = true;
    std::size_t text_line = 1000; ///< body_traits::long_line threshold, CRLF included
};

/// Client side: turns a message body into DATA wire form, streaming. Stuffs a dot before every
/// line that starts with one (also across piece boundaries), turns bare CR/LF into CRLF (or
/// refuses them), and finish() closes with CRLF if the body lacks one, then `".\r\n"`. It cannot
/// fix lines over 1000 octets; traits().long_line reports them.
///
/// Two ways to use it:
///  - next()/finish() hand out one segment per call, a view into the input or into a static
///    constant, for writev-style output that copies nothing;
///  - encode(out, in)/finish(out) append to a string-like `out` (append(const char*, size_t)).
/// After an error the encoder is stuck in that error until reset(); the output so far then
/// holds no bare CR or LF, but the message is incomplete and the connection must be dropped.
class data_encoder {
public:
    /// What one next() or finish() used and handed out.
    struct result {
        std::size_t consumed = 0; ///< input octets used
        std::string_view segment; ///< wire octets: a view into this call's input or a static
                                  ///< constant; valid as long as the input is
        errc error = errc::ok;    ///< ok, or the error that stopped the encoder
    };

    data_encoder() noexcept = default;
    /// An encoder with these options (the default: bare line endings become CRLF).
    explicit data_encoder(const data_encoder_options& options) noexcept : options_(options) {}

    /// Starts a new body with the same options.
    void reset() noexcept { *this = data_encoder(options_); }

    /// Encodes from the start of `in`; call again with the rest until it is empty. A call may
    /// consume nothing while handing out a constant ("." stuffing, CRLF for a bare CR).
    /// Errors: errc::bare_cr, errc::bare_lf (normalize_line_endings off), errc::invalid_state
    /// (after finish()).
    [[nodiscard]] result next(std::string_view in) noexcept {
        if (error_ != errc::ok) return {0, {}, error_};
        if (state_ == state::finished) return {0, {}, errc::invalid_state};
        if (in.empty()) return {};
        switch (state_) {
        case state::pending_cr:
            if (in[0] == '\n') return line_break(1);
            return bare_cr(0);
        case state::line_start:
            if (in[0] == '.') {
                state_ = state::mid;
                return {0, detail::data_constant(2, 1), errc::ok};
            }
            return scan(in);
        default:
            return scan(in);
        }
    }

    /// The closing segment: CRLF if the body did not end with one, then `".\r\n"` (never an
    /// extra empty line, RFC 5321 4.1.1.4). Errors: errc::bare_cr (normalize_line_endings off, the
    /// body ended in CR), errc::invalid_state (finished already), or the sticky error.
    [[nodiscard]] result finish() noexcept {
        if (error_ != errc::ok) return {0, {}, error_};
        if (state_ == state::finished) return {0, {}, errc::invalid_state};
        if (state_ == state::pending_cr) note_bare(traits_.has_bare_cr, errc::bare_cr);
        if (error_ != errc::ok) return {0, {}, error_};
        const bool open_line = state_ != state::line_start;
        if (open_line) end_line(traits_.size += 2);
        state_ = state::finished;
        return {0, open_line ? detail::data_constant(0, 5) : detail::data_constant(2, 3), errc::ok};
    }

    /// Appends the wire form of `in` to `out`. Errors as next().
    template <class Out>
    [[nodiscard]] errc encode(Out& out, std::string_view in) {
        while (!in.empty()) {
            const result r = next(in);
            if (r.error != errc::ok) return r.error;
            if (!r.segment.empty()) out.append(r.segment.data(), r.segment.size());
            in.remove_prefix(r.consumed);
        }
        return error_;
    }

    /// Appends the closing segment to `out`. Errors as finish().
    template <class Out>
    [[nodiscard]] errc finish(Out& out) {
        const result r = finish();
        if (r.error == errc::ok) out.append(r.segment.data(), r.segment.size());
        return r.error;
    }

    /// What the body encoded so far holds.
    [[nodiscard]] const body_traits& traits() const noexcept { return traits_; }
    /// Wire octets handed out so far; traits().size.
    [[nodiscard]] std::uint64_t size() const noexcept { return traits_.size; }
    /// The sticky error, or errc::ok.
    [[nodiscard]] errc error() const noexcept { return error_; }
    /// True once finish() has handed out the closing segment.
    [[nodiscard]] bool finished() const noexcept { return state_ == state::finished; }

private:
    enum class state : std::uint8_t { line_start, mid, pending_cr, finished };

    // Copies nothing: the segment is the longest run of input that needs no change.
    result scan(std::string_view in) noexcept {
        const char* const b = in.data();
        const std::size_t n = in.size();
        bool high = false;
        std::size_t p = 0;
        for (;;) {
            p = static_cast<std::size_t>(detail::find_line_byte(b + p, b + n, high) - b);
            if (p == n) return run(in, n, state::mid, high);
            if (b[p] == '\0') {
                traits_.has_nul = true;
                ++p;
                continue;
            }
            if (b[p] == '\r' && p + 1 < n && b[p + 1] == '\n') {
                p += 2;
                end_line(traits_.size + p);
                if (p == n || b[p] == '.') return run(in, p, state::line_start, high);
                continue;
            }
            // A bare CR or LF, or a CR whose LF may come in the next piece: the run stops
            // before it so that it only ever leaves as part of a CRLF constant.
            if (p > 0) return run(in, p, state::mid, high);
            if (b[0] == '\n') return bare_lf();
            if (n == 1) {
                state_ = state::pending_cr;
                return {1, {}, errc::ok};
            }
            return bare_cr(1);
        }
    }

    result run(std::string_view in, std::size_t length, state next, bool high) noexcept {
        traits_.size += length;
        if (high) traits_.has_8bit = true;
        state_ = next;
        return {length, in.substr(0, length), errc::ok};
    }

    result bare_cr(std::size_t consumed) noexcept {
        note_bare(traits_.has_bare_cr, errc::bare_cr);
        return error_ != errc::ok ? result{0, {}, error_} : line_break(consumed);
    }

    result bare_lf() noexcept {
        note_bare(traits_.has_bare_lf, errc::bare_lf);
        return error_ != errc::ok ? result{0, {}, error_} : line_break(1);
    }

    void note_bare(bool& flag, errc code) noexcept {
        flag = true;
        if (!options_.normalize_line_endings) error_ = code;
    }

    result line_break(std::size_t consumed) noexcept {
        end_line(traits_.size += 2);
        state_ = state::line_start;
        return {consumed, detail::data_constant(0, 2), errc::ok};
    }

    // A line ends at wire-size offset `after` (just past its CRLF).
    void end_line(std::uint64_t after) noexcept {
        const std::uint64_t length = after - line_start_;
        if (length > traits_.longest_line) traits_.longest_line = length;
        if (length > options_.text_line) traits_.long_line = true;
        line_start_ = after;
    }

    data_encoder_options options_;
    body_traits traits_;
    std::uint64_t line_start_ = 0;
    errc error_ = errc::ok;
    state state_ = state::line_start;
};

/// Pre-scans a whole body the way data_encoder would encode it (bare CR/LF counted as CRLF,
/// a final CRLF added if missing), without producing output.
[[nodiscard]] inline body_traits scan_body(std::string_view body,
                                           std::size_t text_line = 1000) noexcept {
    data_encoder encoder(data_encoder_options{true, text_line});
    while (!body.empty()) body.remove_prefix(encoder.next(body).consumed);
    (void)encoder.finish();
    return encoder.traits();
}

SMTPP_NAMESPACE_END

#endif // SMTPP_DATA_HPP
