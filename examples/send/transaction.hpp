// smtpp-send: one message on its way: its octets, the envelope that declares them, how much
// of it the session has taken, and what the server said.
#ifndef SMTPP_SEND_TRANSACTION_HPP
#define SMTPP_SEND_TRANSACTION_HPP

#include "report.hpp"

#include <smtpp/data.hpp>
#include <smtpp/envelope.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtpp_send {

// The header section: everything before the first empty line.
inline std::string_view header_section(std::string_view message) {
    for (std::size_t start = 0; start < message.size();) {
        const std::size_t end = message.find('\n', start);
        const std::string_view line =
            message.substr(start, end == std::string_view::npos ? end : end - start);
        if (line.empty() || line == "\r") return message.substr(0, start);
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return message;
}

// What the message needs, for the envelope: 8BITMIME for octets >= 0x80, BINARYMIME for NUL
// or lines over 998 octets (RFC 3030), SMTPUTF8 for a UTF-8 header section (RFC 6531), and
// its RFC 1870 size as it goes on the wire. ASCII text declares no BODY.
inline void describe_content(std::string_view message, smtpp::envelope& env) {
    const smtpp::body_traits traits = smtpp::scan_body(message);
    env.body = smtpp::body_for(traits);
    // Text is CRLF-normalised on the way out; a binary body goes out as it is (BDAT).
    env.size = env.body == smtpp::body_type::binary_mime ? message.size() : traits.size;
    const std::string_view headers = header_section(message);
    env.utf8_message = std::any_of(headers.begin(), headers.end(),
                                   [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

struct transaction {
    // Message `index` with these octets, from `sender` to `recipients` (both outlive it).
    transaction(std::size_t index, std::string octets, std::string_view sender,
                const std::vector<smtpp::recipient>& recipients)
        : content(std::move(octets)), env(sender, recipients.data(), recipients.size()),
          report(index, recipients.size()) {
        describe_content(content, env);
    }

    std::string content;
    smtpp::envelope env;
    message_report report;
    std::uint32_t number = 0;     // the session's transaction number (client_event::transaction)
    std::size_t body_sent = 0;    // octets of `content` the session has taken
    bool body_ended = false;      // end_body() called
    bool on_the_wire = false;     // every octet of it written to the connection
    std::uint64_t written_by = 0; // ... once this many octets of output are written
};

} // namespace smtpp_send

#endif // SMTPP_SEND_TRANSACTION_HPP
