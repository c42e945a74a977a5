/// \file
/// smtpp: reading a server's EHLO/LHLO reply on the client side (RFC 5321 4.1.1.1, 2.2.2;
/// RFC 1870, 2034, 2920, 3030, 3207, 3461, 4954, 6152, 6531). The server's writer is
/// ehlo_writer.hpp.
#ifndef SMTPP_EHLO_READER_HPP
#define SMTPP_EHLO_READER_HPP

#include <smtpp/detail/ascii.hpp>
#include <smtpp/detail/number.hpp>
#include <smtpp/error.hpp>
#include <smtpp/extensions.hpp>
#include <smtpp/macros.hpp>
#include <smtpp/reply_reader.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

/// Iterates over space-separated words (EHLO parameters, AUTH mechanisms); runs of spaces
/// count as one separator. Views point into the iterated text.
class word_iterator {
public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string_view*;
    using reference = std::string_view;

    constexpr word_iterator() noexcept = default;
    /// At the first word of `rest`; an empty `rest` is the end.
    constexpr explicit word_iterator(std::string_view rest) noexcept : rest_(rest) { load(); }

    /// The current word.
    [[nodiscard]] constexpr std::string_view operator*() const noexcept { return word_; }
    /// Moves to the next word.
    constexpr word_iterator& operator++() noexcept {
        rest_.remove_prefix(word_.size());
        load();
        return *this;
    }
    /// Moves to the next word; returns the iterator as it was.
    constexpr word_iterator operator++(int) noexcept {
        word_iterator before = *this;
        ++*this;
        return before;
    }
    /// True when both are at the same word of the same text.
    [[nodiscard]] friend constexpr bool operator==(const word_iterator& a,
                                                   const word_iterator& b) noexcept {
        return a.rest_.size() == b.rest_.size();
    }
    /// True when they are at different words.
    [[nodiscard]] friend constexpr bool operator!=(const word_iterator& a,
                                                   const word_iterator& b) noexcept {
        return !(a == b);
    }

private:
    constexpr void load() noexcept {
        while (!rest_.empty() && rest_.front() == ' ') rest_.remove_prefix(1);
        word_ = rest_.substr(0, rest_.find(' '));
    }

    std::string_view rest_;
    std::string_view word_;
};

/// The words of a text, for range-for: `for (std::string_view w : word_list{text})`.
struct word_list {
    std::string_view text; ///< the space-separated words
    /// At the first word.
    [[nodiscard]] constexpr word_iterator begin() const noexcept { return word_iterator(text); }
    /// Past the last word.
    [[nodiscard]] constexpr word_iterator end() const noexcept {
        return word_iterator(text.substr(text.size()));
    }
};

/// One extension line of an EHLO reply: "SIZE 1000" -> keyword "SIZE", params "1000".
struct ehlo_extension {
    std::string_view keyword; ///< as written (compare case-insensitively, RFC 5321 4.1.1.1)
    std::string_view params;  ///< after the keyword, spaces trimmed; may be empty
    /// The parameters one word at a time.
    [[nodiscard]] word_list param_list() const noexcept { return {params}; }
};

namespace detail {

[[nodiscard]] constexpr std::string_view trim_spaces(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Splits a line's text into keyword and parameters. The legacy "AUTH=PLAIN LOGIN" line
// yields keyword "AUTH=" and params "PLAIN LOGIN".
[[nodiscard]] constexpr ehlo_extension split_extension(std::string_view text) noexcept {
    text = trim_spaces(text);
    if (istarts_with(text, "AUTH=")) return {text.substr(0, 5), trim_spaces(text.substr(5))};
    const std::size_t space = text.find(' ');
    if (space == std::string_view::npos) return {text, {}};
    return {text.substr(0, space), trim_spaces(text.substr(space))};
}

} // namespace detail

/// Iterates over the extension lines of an EHLO reply (every line after the first that holds
/// a keyword; empty lines such as a final "250 " are skipped).
class ehlo_extension_iterator {
public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = ehlo_extension;
    using difference_type = std::ptrdiff_t;
    using pointer = const ehlo_extension*;
    using reference = ehlo_extension;

    ehlo_extension_iterator() noexcept = default;
    /// At the first line from `at` on that holds a keyword, `end` being past the last line.
    ehlo_extension_iterator(reply_line_iterator at, reply_line_iterator end) noexcept
        : at_(at), end_(end) {
        skip_empty();
    }

    /// The current line, split into keyword and parameters.
    [[nodiscard]] ehlo_extension operator*() const noexcept {
        return detail::split_extension(*at_);
    }
    /// Moves to the next line that holds a keyword.
    ehlo_extension_iterator& operator++() noexcept {
        ++at_;
        skip_empty();
        return *this;
    }
    /// Moves to the next line that holds a keyword; returns the iterator as it was.
    ehlo_extension_iterator operator++(int) noexcept {
        ehlo_extension_iterator before = *this;
        ++*this;
        return before;
    }
    /// True when both are at the same line.
    [[nodiscard]] friend bool operator==(const ehlo_extension_iterator& a,
                                         const ehlo_extension_iterator& b) noexcept {
        return a.at_ == b.at_;
    }
    /// True when they are at different lines.
    [[nodiscard]] friend bool operator!=(const ehlo_extension_iterator& a,
                                         const ehlo_extension_iterator& b) noexcept {
        return !(a == b);
    }

private:
    void skip_empty() noexcept {
        while (at_ != end_ && detail::trim_spaces(*at_).empty()) ++at_;
    }

    reply_line_iterator at_;
    reply_line_iterator end_;
};

/// The extension lines of an EHLO reply, for range-for; the greeting line is left out.
struct ehlo_extension_list {
    std::string_view raw; ///< the whole reply, as reply::raw holds it
    /// At the first extension line.
    [[nodiscard]] ehlo_extension_iterator begin() const noexcept {
        const reply_line_range all{raw};
        auto first = all.begin();
        if (first != all.end()) ++first; // the greeting line
        return {first, all.end()};
    }
    /// Past the last line.
    [[nodiscard]] ehlo_extension_iterator end() const noexcept {
        const reply_line_range all{raw};
        return {all.end(), all.end()};
    }
};

/// What a server's EHLO (or LHLO) reply offers: the extensions flags (all false until an EHLO
/// reply was parsed) and what the lines carry. The views point into the reply text that was
/// parsed: keep that text alive and unchanged while using them (a reader's reply lives only
/// until the reader's next call; use the parse_ehlo_reply overload with storage to keep them).
struct capabilities : extensions {
    capabilities() noexcept : extensions(extensions::none()) {}

    std::string_view domain;   ///< first word of the first line (RFC 5321 4.1.1.1)
    std::string_view greeting; ///< rest of the first line, may be empty

    /// RFC 1870 3: "SIZE" alone advertises the extension without a limit (size_known false);
    /// "SIZE 0" means no fixed maximum (size_known, size_limit 0); "SIZE n" a fixed maximum.
    /// A malformed or overflowing number counts as no number.
    bool size_known = false;
    std::uint64_t size_limit = 0; ///< the SIZE number when size_known; 0: no fixed maximum

    /// RFC 4954 3: mechanisms of the "AUTH" line, and of a legacy "AUTH=" line (not in any
    /// RFC; old servers still send it for old clients).
    bool auth = false;
    std::string_view auth_mechanisms;        ///< the AUTH line's mechanisms, space-separated
    std::string_view legacy_auth_mechanisms; ///< the AUTH= line's mechanisms, space-separated

    std::string_view raw; ///< the whole reply that was parsed

    /// Every extension line, known or not, in order.
    [[nodiscard]] ehlo_extension_list extension_lines() const noexcept { return {raw}; }

    /// The first line whose keyword equals `keyword` (any case); false when absent.
    [[nodiscard]] bool find(std::string_view keyword, ehlo_extension& found) const noexcept {
        for (const ehlo_extension e : extension_lines()) {
            if (detail::iequals(e.keyword, keyword)) {
                found = e;
                return true;
            }
        }
        return false;
    }
    /// True when a line has the keyword `keyword` (any case).
    [[nodiscard]] bool has(std::string_view keyword) const noexcept {
        ehlo_extension ignored;
        return find(keyword, ignored);
    }

    /// True when the AUTH or AUTH= line lists `mechanism` (any case).
    [[nodiscard]] bool has_auth_mechanism(std::string_view mechanism) const noexcept {
        for (const std::string_view list : {auth_mechanisms, legacy_auth_mechanisms}) {
            for (const std::string_view name : word_list{list}) {
                if (detail::iequals(name, mechanism)) return true;
            }
        }
        return false;
    }

    /// False only when the server declared a fixed maximum smaller than `octets`.
    [[nodiscard]] bool size_allows(std::uint64_t octets) const noexcept {
        return !size_known || size_limit == 0 || octets <= size_limit;
    }

    /// Calls f(ehlo_extension) for each line whose keyword none of the fields above models.
    template <class F>
    void for_each_unknown_extension(F&& f) const {
        for (const ehlo_extension e : extension_lines()) {
            if (!detail::is_one_of(e.keyword, detail::modelled_keywords) &&
                !detail::iequals(e.keyword, "AUTH="))
                f(e);
        }
    }
};

namespace detail {

struct flag_keyword {
    std::string_view keyword;
    bool extensions::*flag;
};

inline constexpr flag_keyword flag_keywords[] = {
    {"PIPELINING", &extensions::pipelining},
    {"8BITMIME", &extensions::eight_bit_mime},
    {"SMTPUTF8", &extensions::smtputf8},
    {"ENHANCEDSTATUSCODES", &extensions::enhanced_status_codes},
    {"CHUNKING", &extensions::chunking},
    {"BINARYMIME", &extensions::binarymime},
    {"DSN", &extensions::dsn},
    {"STARTTLS", &extensions::starttls},
    {"EXPN", &extensions::expn},
    {"HELP", &extensions::help}};

inline void apply_extension(capabilities& caps, const ehlo_extension& e) noexcept {
    for (const flag_keyword& k : flag_keywords) {
        if (iequals(e.keyword, k.keyword)) caps.*k.flag = true;
    }
    if (iequals(e.keyword, "SIZE")) {
        caps.size = true;
        caps.size_known = parse_decimal(*word_list{e.params}.begin(), caps.size_limit) == errc::ok;
        if (!caps.size_known) caps.size_limit = 0;
    } else if (iequals(e.keyword, "AUTH")) {
        caps.auth = true;
        caps.auth_mechanisms = e.params;
    } else if (iequals(e.keyword, "AUTH=")) {
        caps.auth = true;
        caps.legacy_auth_mechanisms = e.params;
    }
}

} // namespace detail

/// Reads a 250 reply to EHLO or LHLO (as handed out by reply_reader) into `out`, replacing
/// its contents. Keywords match in any case; unknown ones stay reachable through
/// out.extensions(). The views in `out` point into r.raw and share its lifetime. Errors:
/// invalid_argument when r.code is not 250 (out is then reset to empty).
[[nodiscard]] inline errc parse_ehlo_reply(const reply& r, capabilities& out) noexcept {
    out = {};
    if (r.code != 250) return errc::invalid_argument;
    out.raw = r.raw;
    const std::string_view first = detail::trim_spaces(*r.lines().begin());
    const std::size_t space = first.find(' ');
    out.domain = first.substr(0, space);
    if (space != std::string_view::npos) out.greeting = detail::trim_spaces(first.substr(space));
    for (const ehlo_extension e : out.extension_lines()) detail::apply_extension(out, e);
    return errc::ok;
}

/// As above, but first copies the reply's octets into `storage` (any type with
/// assign(const char*, std::size_t), data() and size(), e.g. std::string) and points `out`
/// into the copy, so the capabilities outlive the reader's next call. Keep `storage` alive and
/// unmodified (do not move a std::string: its short-string buffer moves with it) while `out`
/// is used.
template <class Storage>
[[nodiscard]] errc parse_ehlo_reply(const reply& r, capabilities& out, Storage& storage) {
    if (r.code != 250) {
        out = {};
        return errc::invalid_argument;
    }
    storage.assign(r.raw.data(), r.raw.size());
    reply copy = r;
    copy.raw = std::string_view(storage.data(), storage.size());
    return parse_ehlo_reply(copy, out);
}

SMTPP_NAMESPACE_END

#endif // SMTPP_EHLO_READER_HPP
