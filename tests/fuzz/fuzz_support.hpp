// smtpp fuzz support: a small deterministic input splitter and a check macro, shared by every
// tests/fuzz/fuzz_<unit>.cpp target.
//
// fuzz_input follows the shape of LLVM's FuzzedDataProvider (decisions are taken from the END
// of the input, payload bytes from the front) but is our own, so the g++ replay build and the
// clang libFuzzer build read a corpus file identically. A seed that is a plain SMTP transcript
// therefore stays meaningful: its last few octets only steer split points and decisions.
#ifndef SMTPP_FUZZ_SUPPORT_HPP
#define SMTPP_FUZZ_SUPPORT_HPP

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

// A violated invariant: print where and what, then abort so libFuzzer (or ctest) reports it.
#define FUZZ_CHECK(condition)                                                              \
    do {                                                                                   \
        if (!(condition)) {                                                                \
            std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, \
                         #condition);                                                      \
            std::abort();                                                                  \
        }                                                                                  \
    } while (false)

namespace smtpp_fuzz {

// True when the environment variable SMTPP_FUZZ_TOLERATE lists `finding` (comma-separated ids
// of files in tests/fuzz/findings/, e.g. "reply_reader-1,client_session-2"). A target checks
// this before a known, reported violation so that a long run can look for new ones; CI never
// sets it, so a finding keeps failing until it is fixed.
inline bool tolerated(const char* finding) {
    const char* list = std::getenv("SMTPP_FUZZ_TOLERATE");
    if (list == nullptr) return false;
    const std::string_view all(list);
    const std::string_view id(finding);
    for (std::size_t start = 0; start <= all.size();) {
        std::size_t comma = all.find(',', start);
        if (comma == std::string_view::npos) comma = all.size();
        if (all.substr(start, comma - start) == id) return true;
        start = comma + 1;
    }
    return false;
}

class fuzz_input {
public:
    fuzz_input(const std::uint8_t* data, std::size_t size) noexcept
        : data_(reinterpret_cast<const char*>(data)), size_(size) {}

    [[nodiscard]] std::size_t remaining() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

    // One decision octet from the end; 0 once the input is exhausted.
    [[nodiscard]] std::uint8_t take_u8() noexcept {
        if (size_ == 0) return 0;
        --size_;
        return static_cast<std::uint8_t>(data_[size_]);
    }
    [[nodiscard]] bool take_bool() noexcept { return (take_u8() & 1u) != 0; }

    // A value in [lo, hi] built from as few trailing octets as the range needs.
    [[nodiscard]] std::size_t take_range(std::size_t lo, std::size_t hi) noexcept {
        if (hi <= lo) return lo;
        const std::size_t span = hi - lo;
        std::size_t value = 0;
        for (std::size_t bits = 0;
             bits < sizeof(std::size_t) * 8 && (span >> bits) != 0 && size_ != 0; bits += 8) {
            value = (value << 8) | take_u8();
        }
        return lo + (span == SIZE_MAX ? value : value % (span + 1));
    }

    // Up to n payload octets from the front.
    [[nodiscard]] std::string_view take_bytes(std::size_t n) noexcept {
        if (n > size_) n = size_;
        const std::string_view out(data_, n);
        data_ += n;
        size_ -= n;
        return out;
    }
    // Payload of a length chosen by a trailing decision, at most `max`.
    [[nodiscard]] std::string_view take_some(std::size_t max) noexcept {
        return take_bytes(take_range(0, max));
    }
    [[nodiscard]] std::string_view take_rest() noexcept { return take_bytes(size_); }

private:
    const char* data_;
    std::size_t size_;
};

// Cuts `bytes` into pieces whose lengths are chosen by `in` (pieces of 1..max_piece octets).
// The pieces cover `bytes` exactly, in order.
template <class Fn>
void for_each_piece(std::string_view bytes, fuzz_input& in, std::size_t max_piece, Fn&& fn) {
    while (!bytes.empty()) {
        std::size_t n = in.take_range(1, max_piece);
        if (in.empty()) n = bytes.size(); // decisions exhausted: hand the rest over whole
        if (n > bytes.size()) n = bytes.size();
        fn(bytes.substr(0, n));
        bytes.remove_prefix(n);
    }
}

// Printable rendering of bytes for failure messages.
inline std::string escaped(std::string_view s) {
    std::string out;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\r')
            out += "\\r";
        else if (c == '\n')
            out += "\\n";
        else if (c == '\\')
            out += "\\\\";
        else if (u < 0x20 || u >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    return out;
}

// The text a caller's body stands for on the wire: every bare CR, bare LF and CRLF as CRLF,
// and a final CRLF when the body does not end with one (what the data encoder sends, and so
// what a decoder must hand back).
inline std::string normalise(std::string_view x) {
    std::string out;
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (x[i] == '\r') {
            out += "\r\n";
            if (i + 1 < x.size() && x[i + 1] == '\n') ++i;
        } else if (x[i] == '\n') {
            out += "\r\n";
        } else {
            out += x[i];
        }
    }
    if (!out.empty() && (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0))
        out += "\r\n";
    return out;
}

} // namespace smtpp_fuzz

#endif // SMTPP_FUZZ_SUPPORT_HPP
