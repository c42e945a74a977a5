// smtpp-send: the messages of an mbox (RFC 4155). Each message starts with a "From " line
// (the separator, not part of the message) at the start of the file or of a line, and is
// followed by an empty line that belongs to the separator. Writers escape a "From " line in
// a message as ">From "; mboxrd escapes ">From " (any number of '>') too, by one more '>',
// so taking one '>' off every such line gives back the message. mboxo escapes only "From ",
// so a line that really began ">From " in an mboxo message loses its '>': the format cannot
// tell the two apart, and reading it as mboxrd is what mutt and Python's mailbox do too.
#ifndef SMTPP_SEND_MBOX_HPP
#define SMTPP_SEND_MBOX_HPP

#include <string>
#include <string_view>
#include <vector>

namespace smtpp_send {

// The message before `next_separator` (the "From " line after it, or the end of the box),
// without the empty line that ends it in the box (LF or CRLF).
inline std::string_view without_separator_line(std::string_view message) {
    for (const std::string_view blank : {std::string_view("\r\n\r\n"), std::string_view("\n\n")}) {
        if (message.size() >= blank.size() &&
            message.substr(message.size() - blank.size()) == blank) {
            return message.substr(0, message.size() - blank.size() / 2);
        }
    }
    if (message == "\n" || message == "\r\n") return {};
    return message;
}

// Splits `box` into its messages, still escaped (views into `box`). False when `box` does
// not start with a "From " line (not an mbox); an empty box has no message.
inline bool split_mbox(std::string_view box, std::vector<std::string_view>& messages) {
    if (box.empty()) return true;
    if (box.substr(0, 5) != "From ") return false;
    std::size_t separator = 0;
    for (;;) {
        const std::size_t line_end = box.find('\n', separator);
        if (line_end == std::string_view::npos) { // a "From " line and nothing else
            messages.emplace_back();
            return true;
        }
        const std::size_t start = line_end + 1;
        const std::size_t next = box.find("\nFrom ", line_end);
        const std::size_t end = next == std::string_view::npos ? box.size() : next + 1;
        messages.push_back(without_separator_line(box.substr(start, end - start)));
        if (next == std::string_view::npos) return true;
        separator = end;
    }
}

// True for a line that starts with one or more '>' and then "From ".
inline bool is_escaped_from_line(std::string_view text, std::size_t line_start) {
    std::size_t i = line_start;
    while (i < text.size() && text[i] == '>') ++i;
    return i > line_start && text.substr(i, 5) == "From ";
}

// The message as it was before it went into the box: one '>' off each escaped "From " line.
inline std::string unescape_mbox_message(std::string_view escaped) {
    std::string out;
    out.reserve(escaped.size());
    std::size_t copied = 0;
    for (std::size_t line = 0; line < escaped.size();) {
        if (is_escaped_from_line(escaped, line)) {
            out.append(escaped.substr(copied, line - copied));
            copied = line + 1; // the first '>'
        }
        const std::size_t nl = escaped.find('\n', line);
        if (nl == std::string_view::npos) break;
        line = nl + 1;
    }
    out.append(escaped.substr(copied));
    return out;
}

} // namespace smtpp_send

#endif // SMTPP_SEND_MBOX_HPP
