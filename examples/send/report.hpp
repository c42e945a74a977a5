// smtpp-send: what happened to each recipient, and how it is printed.
#ifndef SMTPP_SEND_REPORT_HPP
#define SMTPP_SEND_REPORT_HPP

#include <smtpp/client_event.hpp>
#include <smtpp/reply_reader.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// One line per recipient, with the reply that really decided it.
class report {
public:
    explicit report(std::vector<std::string> to, const char* prog = "smtpp-send")
        : to_(std::move(to)), verdicts_(to_.size()), prog_(prog) {}

    // The reply to RCPT TO. A refusal decides the recipient; an acceptance waits for the
    // message's verdict. Without a reply (the connection ended first) nothing is decided.
    void recipient_result(const smtpp::client_event& ev) {
        if (ev.recipient >= verdicts_.size() || ev.reply.code == 0) return;
        verdict& v = verdicts_[ev.recipient];
        if (v.progress != state::waiting) return;
        if (ev.result == smtpp::outcome::success && ev.reply.code / 100 == 2) {
            v.progress = state::recipient_accepted;
        } else {
            decide(v, ev);
        }
    }

    // The message's verdict: for one recipient (LMTP's replies after the end of data,
    // `one_recipient`) or for every recipient not decided yet (the reply to MAIL, DATA, BDAT
    // or the end of data). Without a reply nothing is decided: the failure that ended the
    // conversation will say why.
    void message_result(const smtpp::client_event& ev, bool one_recipient) {
        if (ev.reply.code == 0) return;
        if (one_recipient) {
            if (ev.recipient < verdicts_.size() &&
                verdicts_[ev.recipient].progress != state::decided)
                decide(verdicts_[ev.recipient], ev);
            return;
        }
        for (verdict& v : verdicts_) {
            if (v.progress != state::decided) decide(v, ev);
        }
    }

    // The whole message has been sent: if the conversation fails from here on, the server
    // may have accepted it.
    void message_sent() { message_sent_ = true; }

    // Something ended or spoiled the conversation: printed to stderr, once. The first such
    // failure is the reason given for recipients the server never gave a verdict on.
    void failure(const std::string& why) {
        for (const std::string& seen : failures_) {
            if (seen == why) return;
        }
        failures_.push_back(why);
        std::fprintf(stderr, "%s: %s\n", prog_, why.c_str());
    }

    // Prints one line per recipient to stdout; returns the exit status (0: every recipient
    // was accepted, and so was the message).
    [[nodiscard]] int print() const {
        bool all = true;
        const std::string why = failures_.empty() ? "the message was not sent" : failures_.front();
        for (std::size_t i = 0; i < verdicts_.size(); ++i) {
            const verdict& v = verdicts_[i];
            std::string line = v.line;
            if (v.progress != state::decided) {
                const bool unknown = message_sent_ && v.progress == state::recipient_accepted;
                line = (unknown ? "outcome unknown (the server may have accepted the message): "
                                : "not delivered: ") +
                       why;
            }
            std::printf("%s: %s\n", printable(to_[i]).c_str(), line.c_str());
            all = all && v.delivered;
        }
        std::fflush(stdout);
        return all ? 0 : 1;
    }

private:
    enum class state : std::uint8_t { waiting, recipient_accepted, decided };
    struct verdict {
        state progress = state::waiting;
        bool delivered = false;
        std::string line;
    };

    // Only a 2yz reply delivers, and only to a recipient whose RCPT was accepted: a 2yz or
    // 3yz the session counts as a failure (250 to DATA) is not shown as if it were a success.
    static void decide(verdict& v, const smtpp::client_event& ev) {
        const bool positive = ev.reply.code / 100 == 2 || ev.reply.code / 100 == 3;
        v.delivered = ev.result == smtpp::outcome::success && ev.reply.code / 100 == 2 &&
                      v.progress == state::recipient_accepted;
        v.line = positive && !v.delivered
                     ? "not delivered: unexpected reply: " + last_line(ev.reply)
                     : last_line(ev.reply);
        v.progress = state::decided;
    }

    std::vector<std::string> to_;
    std::vector<verdict> verdicts_;
    std::vector<std::string> failures_;
    const char* prog_; // names the program in the failure lines
    bool message_sent_ = false;
};

} // namespace smtpp_send

#endif // SMTPP_SEND_REPORT_HPP
