/// \file
/// smtpp: text from the peer made safe to log or show. Reply texts, command lines and
/// addresses are the peer's bytes: a NUL, a terminal escape (ESC, the C1 controls) or a stray
/// CR in a log line is the peer writing to your terminal or your log parser. append_printable()
/// writes printable ASCII as it is and every other octet as `\xNN` (a backslash as `\\`), so the
/// output is one line of printable ASCII that reads back unambiguously.
#ifndef SMTPP_PRINTABLE_HPP
#define SMTPP_PRINTABLE_HPP

#include <smtpp/macros.hpp>

#include <cstddef>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

/// Appends `text` to `out` (any type with append(const char*, std::size_t)) with every octet
/// outside `%d32-126` and every backslash escaped. Tabs are escaped too (`\x09`): a log field
/// stays one field. Allocates only what `out` needs to grow.
template <class Out>
void append_printable(Out& out, std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::size_t clean = 0; // start of the run of octets copied as they are
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7f && c != '\\') continue;
        out.append(text.data() + clean, i - clean);
        if (c == '\\') {
            out.append("\\\\", 2);
        } else {
            const char escaped[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            out.append(escaped, 4);
        }
        clean = i + 1;
    }
    out.append(text.data() + clean, text.size() - clean);
}

SMTPP_NAMESPACE_END

#endif // SMTPP_PRINTABLE_HPP
