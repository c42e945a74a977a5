// smtpp-send: what happened to each recipient, and how it is printed.
#ifndef SMTPP_SEND_REPORT_HPP
#define SMTPP_SEND_REPORT_HPP

#include <smtpp/client_event.hpp>
#include <smtpp/error.hpp>

#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtpp_send {

// The last line of a reply, as "250 ...": in a multi-line reply it carries the final word
// (Exim: "250- 0 byte chunk, total 69" then "250 OK id=...").
inline std::string last_line(const smtpp::reply_info& r) {
    std::string_view raw = r.raw;
    if (raw.size() >= 2 && raw.substr(raw.size() - 2) == "\r\n") raw.remove_suffix(2);
    const std::size_t start = raw.rfind("\r\n");
    return std::string(start == std::string_view::npos ? raw : raw.substr(start + 2));
}

// Per recipient: the reply that decided its fate, and whether that was a success.
class report {
public:
    explicit report(std::vector<std::string> to)
        : to_(std::move(to)), verdict_(to_.size()), accepted_(to_.size(), false),
          rcpt_ok_(to_.size(), false) {}

    void recipient_result(const smtpp::client_event& ev) {
        if (ev.recipient >= to_.size()) return;
        verdict_[ev.recipient] = last_line(ev.reply);
        rcpt_ok_[ev.recipient] = ev.result == smtpp::outcome::success;
    }

    // `one_recipient`: LMTP's reply for one recipient after the end of data.
    void message_result(const smtpp::client_event& ev, bool one_recipient) {
        const bool ok = ev.result == smtpp::outcome::success;
        const std::string text =
            ev.reply.code ? last_line(ev.reply) : std::string(smtpp::to_string(ev.error));
        if (one_recipient && ev.reply.code && ev.recipient < to_.size()) {
            verdict_[ev.recipient] = text;
            accepted_[ev.recipient] = ok && rcpt_ok_[ev.recipient];
            return;
        }
        for (std::size_t i = 0; i < to_.size(); ++i) {
            if (!rcpt_ok_[i] && !verdict_[i].empty()) continue; // keeps its RCPT refusal
            verdict_[i] = text;
            accepted_[i] = ok;
        }
    }

    void message_sent() {}

    void failure(const std::string& why) {
        failed_ = true;
        std::fprintf(stderr, "smtpp-send: %s\n", why.c_str());
    }

    // Exit 0 only when every recipient was accepted (errors after that, e.g. on QUIT, were
    // printed but do not undo a delivery).
    [[nodiscard]] int print() {
        bool all = true;
        for (std::size_t i = 0; i < to_.size(); ++i) {
            if (verdict_[i].empty())
                verdict_[i] = failed_ ? "not delivered (see the error above)" : "not attempted";
            std::printf("%s: %s\n", to_[i].c_str(), verdict_[i].c_str());
            all = all && accepted_[i];
        }
        return all ? 0 : 1;
    }

private:
    std::vector<std::string> to_;
    std::vector<std::string> verdict_;
    std::vector<bool> accepted_, rcpt_ok_;
    bool failed_ = false;
};

} // namespace smtpp_send

#endif // SMTPP_SEND_REPORT_HPP
