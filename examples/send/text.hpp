// smtpp-send: text from the server (and from the command line) made fit for a terminal, a
// log line or a JSON string.
#ifndef SMTPP_SEND_TEXT_HPP
#define SMTPP_SEND_TEXT_HPP

#include <smtpp/reply_reader.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace smtpp_send {

// Length of the UTF-8 sequence at text[i] (a lead octet >= 0x80), 0 when it is not one
// (RFC 3629: no overlongs, surrogates or code points above U+10FFFF).
inline std::size_t utf8_length(std::string_view text, std::size_t i) {
    const auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned lead = at(i);
    const std::size_t n = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if (lead < 0xC2 || lead > 0xF4 || i + n > text.size()) return 0;
    const unsigned second_min = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
    const unsigned second_max = lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
    if (at(i + 1) < second_min || at(i + 1) > second_max) return 0;
    for (std::size_t k = 2; k < n; ++k) {
        if (at(i + k) < 0x80 || at(i + k) > 0xBF) return 0;
    }
    return n;
}

// Text from the server as it may go to a terminal: control octets (C0, DEL, and the C1
// controls U+0080-U+009F, which terminals obey too), octets that are not UTF-8, and the
// backslash become \xHH. A reply can then neither move the cursor, rewrite a line nor set
// the window title, and what is printed tells what was received.
inline std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    const auto escape = [&](unsigned char c) {
        static constexpr char hex[] = "0123456789abcdef";
        out += "\\x";
        out += hex[c >> 4];
        out += hex[c & 15];
    };
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7F || c == '\\')
                escape(c);
            else
                out += static_cast<char>(c);
            ++i;
            continue;
        }
        const std::size_t n = utf8_length(text, i);
        const bool c1 = n == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
        if (n == 0 || c1) {
            escape(c);
            ++i;
            continue;
        }
        out.append(text.substr(i, n));
        i += n;
    }
    return out;
}

// The last line of a reply, printable ("250 2.0.0 Ok"): in a multi-line reply it carries the
// final word (Exim: "250- 0 byte chunk, total 69" then "250 OK id=...").
inline std::string last_line(const smtpp::reply& r) {
    std::string_view raw = r.raw;
    if (raw.size() >= 2 && raw.substr(raw.size() - 2) == "\r\n") raw.remove_suffix(2);
    const std::size_t start = raw.rfind("\r\n");
    return printable(start == std::string_view::npos ? raw : raw.substr(start + 2));
}

// `text` as a JSON string, quotes included. Give it printable() text (valid UTF-8, no
// controls); a control octet that slips through is escaped all the same.
inline std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\u00";
            out += hex[(c >> 4) & 15];
            out += hex[c & 15];
        } else {
            out += c;
        }
    }
    return out + '"';
}

} // namespace smtpp_send

#endif // SMTPP_SEND_TEXT_HPP
