// smtpp benchmarks: realistic fixed inputs, generated deterministically (same bytes on every
// run and every machine: a fixed-seed generator, no clock, no files).
#ifndef SMTPP_BENCH_INPUTS_HPP
#define SMTPP_BENCH_INPUTS_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace smtpp_bench {

// A small xorshift generator: deterministic, no <random> distribution differences between
// standard libraries.
class rng {
public:
    explicit rng(std::uint64_t seed) noexcept : state_(seed | 1u) {}
    std::uint64_t next() noexcept {
        state_ ^= state_ << 13;
        state_ ^= state_ >> 7;
        state_ ^= state_ << 17;
        return state_;
    }
    // Uniform enough in [0, n) for choosing test text.
    std::size_t below(std::size_t n) noexcept { return static_cast<std::size_t>(next() % n); }

private:
    std::uint64_t state_;
};

// ---- Pipelined command stream ----------------------------------------------------------

struct command_stream {
    std::string bytes;        // CRLF-terminated command lines, back to back
    std::size_t commands = 0; // lines in `bytes`
    std::size_t transactions = 0;
};

// `transactions` blocks of EHLO / MAIL FROM with SIZE and BODY / 3-5 RCPT TO with NOTIFY
// (some with ORCPT) / DATA / RSET / QUIT, as a pipelining client sends them (RFC 2920).
// Parse with command_options{dsn = true} (SIZE and 8BITMIME are on by default).
inline command_stream make_command_stream(std::size_t transactions = 64) {
    static constexpr std::string_view users[] = {
        "alice", "bob.smith",    "carol_w", "dave+lists",  "eve.o-neill",
        "frank", "grace.hopper", "heidi",   "ivan.petrov", "judy"};
    static constexpr std::string_view domains[] = {
        "example.org", "mail.example.net", "lists.example.com", "mx1.university.example.edu",
        "corp.example.co.uk"};
    static constexpr std::string_view notify[] = {"SUCCESS,FAILURE", "FAILURE", "FAILURE,DELAY",
                                                  "NEVER"};
    rng r(0x5eed5eedu);
    command_stream s;
    for (std::size_t t = 0; t < transactions; ++t) {
        s.bytes += "EHLO client";
        s.bytes += std::to_string(t % 7);
        s.bytes += ".relay.example.org\r\n";
        s.bytes += "MAIL FROM:<";
        s.bytes += users[r.below(10)];
        s.bytes += '@';
        s.bytes += domains[r.below(5)];
        s.bytes += "> SIZE=";
        s.bytes += std::to_string(1000 + r.below(5000000));
        s.bytes += " BODY=8BITMIME\r\n";
        const std::size_t rcpts = 3 + r.below(3);
        for (std::size_t i = 0; i < rcpts; ++i) {
            const std::string_view user = users[r.below(10)];
            const std::string_view domain = domains[r.below(5)];
            s.bytes += "RCPT TO:<";
            s.bytes += user;
            s.bytes += '@';
            s.bytes += domain;
            s.bytes += "> NOTIFY=";
            s.bytes += notify[r.below(4)];
            if (i % 2 == 0) {
                s.bytes += " ORCPT=rfc822;";
                for (const char c : user) {
                    if (c == '+') {
                        s.bytes += "+2B"; // xtext (RFC 3461 4)
                    } else {
                        s.bytes += c;
                    }
                }
                s.bytes += '@';
                s.bytes += domain;
            }
            s.bytes += "\r\n";
        }
        s.bytes += "DATA\r\nRSET\r\nQUIT\r\n";
        s.commands += 5 + rcpts;
        ++s.transactions;
    }
    return s;
}

inline const command_stream& commands() {
    static const command_stream s = make_command_stream();
    return s;
}

// ---- Message bodies ---------------------------------------------------------------------

enum class body_kind { plain, dots, eight_bit };

inline const char* body_kind_name(body_kind k) noexcept {
    switch (k) {
    case body_kind::plain:
        return "plain";
    case body_kind::dots:
        return "dots";
    case body_kind::eight_bit:
        return "8bit";
    }
    return "?";
}

struct body {
    std::string text; // the message as the application sees it: CRLF lines, no stuffing
    std::string wire; // DATA form: dot-stuffed, terminated by CRLF "." CRLF
    std::size_t lines = 0;
    std::size_t stuffed = 0; // lines that needed a dot added
};

// A body of at least `size` octets of ~72-octet CRLF lines (cut to exactly `size` on a line
// end when possible). plain: ASCII prose. dots: one line in four starts with '.', some lines
// are just "." or "..". eight_bit: UTF-8 prose (Latin-1 accents, Cyrillic, CJK).
inline body make_body(std::size_t size, body_kind kind) {
    static constexpr std::string_view ascii_words[] = {
        "the",       "message", "server", "client",   "relay", "delivery", "status", "notification",
        "of",        "and",     "queue",  "transfer", "mail",  "envelope", "header", "Subject:",
        "Received:", "from",    "by",     "with",     "ESMTP", "id",       "for",    "2024",
        "(UTC)",     "+0000",   "a",      "to",       "is",    "in"};
    static constexpr std::string_view utf8_words[] = {
        "caf\xc3\xa9",
        "na\xc3\xafve",
        "\xc3\xbc"
        "ber",
        "stra\xc3\x9f"
        "e",
        "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
        "mail",
        "server",
        "\xc3\xa5r",
        "se\xc3\xb1or",
        "the",
        "and"};
    static constexpr std::string_view dot_starts[] = {".", "..", ".hidden line",
                                                      ". a dot then space", "...and more dots"};
    rng r(0xb0d1u + static_cast<std::uint64_t>(kind) * 7919u + size);
    body b;
    b.text.reserve(size + 128);
    while (b.text.size() < size) {
        std::string line;
        if (kind == body_kind::dots && r.below(4) == 0) line = dot_starts[r.below(5)];
        while (line.size() < 66) {
            if (!line.empty()) line += ' ';
            if (kind == body_kind::eight_bit) {
                line += utf8_words[r.below(sizeof utf8_words / sizeof utf8_words[0])];
            } else {
                line += ascii_words[r.below(sizeof ascii_words / sizeof ascii_words[0])];
            }
        }
        b.text += line;
        b.text += "\r\n";
        ++b.lines;
    }
    b.wire.reserve(b.text.size() + b.text.size() / 16 + 8);
    std::size_t pos = 0;
    while (pos < b.text.size()) {
        const std::size_t eol = b.text.find("\r\n", pos) + 2;
        if (b.text[pos] == '.') {
            b.wire += '.';
            ++b.stuffed;
        }
        b.wire.append(b.text, pos, eol - pos);
        pos = eol;
    }
    b.wire += ".\r\n";
    return b;
}

inline constexpr std::size_t body_sizes[] = {1024, 64 * 1024, 1024 * 1024};
inline constexpr body_kind body_kinds[] = {body_kind::plain, body_kind::dots, body_kind::eight_bit};

inline const char* size_name(std::size_t size) noexcept {
    switch (size) {
    case 1024:
        return "1KiB";
    case 64 * 1024:
        return "64KiB";
    case 1024 * 1024:
        return "1MiB";
    }
    return "?";
}

// Cached bodies (index by position in body_sizes x body_kinds).
inline const body& get_body(std::size_t size, body_kind kind) {
    static std::vector<body> cache = [] {
        std::vector<body> v;
        for (const std::size_t s : body_sizes) {
            for (const body_kind k : body_kinds) v.push_back(make_body(s, k));
        }
        return v;
    }();
    std::size_t i = 0;
    for (const std::size_t s : body_sizes) {
        for (const body_kind k : body_kinds) {
            if (s == size && k == kind) return cache[i];
            ++i;
        }
    }
    return cache.front();
}

// ---- Replies ----------------------------------------------------------------------------

// The capability lines of a typical EHLO reply (after the greeting line with the domain).
inline constexpr std::string_view ehlo_lines[] = {
    "mx.example.org Hello client.relay.example.org [192.0.2.7]",
    "PIPELINING",
    "SIZE 52428800",
    "8BITMIME",
    "BINARYMIME",
    "CHUNKING",
    "SMTPUTF8",
    "ENHANCEDSTATUSCODES",
    "DSN",
    "STARTTLS",
    "AUTH PLAIN LOGIN"};
inline constexpr std::size_t ehlo_line_count = sizeof ehlo_lines / sizeof ehlo_lines[0];

// The bytes of that EHLO reply followed by the replies to a pipelined MAIL, 3 RCPT, DATA
// (354), end of data (250) and QUIT (221): what a client reads in one transaction.
inline std::string make_reply_stream(std::size_t transactions, std::size_t& replies) {
    std::string s;
    replies = 0;
    for (std::size_t t = 0; t < transactions; ++t) {
        for (std::size_t i = 0; i < ehlo_line_count; ++i) {
            s += i + 1 == ehlo_line_count ? "250 " : "250-";
            s += ehlo_lines[i];
            s += "\r\n";
        }
        s += "250 2.1.0 Sender OK\r\n";
        s += "250 2.1.5 Recipient OK\r\n250 2.1.5 Recipient OK\r\n";
        s += "550 5.1.1 Mailbox unavailable\r\n";
        s += "354 End data with <CR><LF>.<CR><LF>\r\n";
        s += "250 2.0.0 Message accepted for delivery\r\n";
        s += "221 2.0.0 Service closing transmission channel\r\n";
        replies += 8;
    }
    return s;
}

// Feeding sizes for the incremental pieces: 0 means "the whole input at once".
inline constexpr long piece_sizes[] = {0, 1, 16, 4096};

} // namespace smtpp_bench

#endif // SMTPP_BENCH_INPUTS_HPP
