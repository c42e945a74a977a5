// smtpp-send: where outcomes go. Each message is reported once its outcome is known (so in
// the order they finish): as text lines on stdout, one per recipient, and/or as one JSON
// object per line (--report); problems go to stderr, each text once; the progress line
// follows the count; the exit status is the worst outcome.
#ifndef SMTPP_SEND_RESULTS_HPP
#define SMTPP_SEND_RESULTS_HPP

#include "messages.hpp"
#include "options.hpp"
#include "progress.hpp"
#include "report.hpp"
#include "text.hpp"

#include <smtpp/status.hpp>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

namespace smtpp_send {

class results {
public:
    // `json`: where the JSON lines go (null: none); `text`: print the text lines on stdout.
    results(const message_list& messages, const std::vector<std::string>& to, bool text,
            std::FILE* json, bool show_progress)
        : messages_(messages), to_(to), text_(text), json_(json),
          progress_(show_progress, messages.size()) {}

    // Something failed (a connection, a TLS handshake, a message that cannot be sent):
    // printed to stderr, once per text however many messages it hit.
    void failure(const std::string& why) {
        if (!printed_.insert(why).second) return;
        progress_.clear();
        std::fprintf(stderr, "smtpp-send: %s\n", why.c_str());
    }

    // What a message failure is called on stderr: with the message's name when there are
    // several.
    [[nodiscard]] std::string about(std::size_t index, const std::string& why) const {
        if (messages_.size() == 1) return why;
        return printable(messages_.name(index)) + ": " + why;
    }

    // The outcome of one message, final.
    void done(const message_report& r) {
        const verdict v = r.overall();
        worst_ = worse(worst_, v);
        ++done_;
        if (v != verdict::delivered) ++failed_;
        if (text_) print_text(r);
        if (json_ != nullptr) print_json(r);
        progress_.update(done_, failed_);
    }

    // The last progress figures; the exit status (options.hpp).
    [[nodiscard]] int finish() {
        progress_.finish();
        if (json_ != nullptr) std::fflush(json_);
        switch (worst_) {
        case verdict::delivered:
            return all_delivered;
        case verdict::permanent:
            return some_failed;
        case verdict::temporary:
        case verdict::unknown:
            break;
        }
        return temporary_only;
    }

private:
    void print_text(const message_report& r) {
        const std::string prefix =
            messages_.size() == 1 ? std::string() : printable(messages_.name(r.index())) + ": ";
        if (isatty_stdout_) progress_.clear();
        for (std::size_t i = 0; i < r.recipients().size(); ++i) {
            std::printf("%s%s: %s\n", prefix.c_str(), printable(to_[i]).c_str(),
                        r.recipients()[i].line().c_str());
        }
        std::fflush(stdout);
    }

    void print_json(const message_report& r) {
        std::string line = "{\"message\":" + json_string(printable(messages_.name(r.index()))) +
                           ",\"index\":" + std::to_string(r.index()) +
                           ",\"outcome\":" + json_string(to_string(r.overall())) +
                           reply_fields(r.code(), r.status(), r.reply(), r.error()) +
                           ",\"recipients\":[";
        for (std::size_t i = 0; i < r.recipients().size(); ++i) {
            const recipient_report& rcpt = r.recipients()[i];
            line += i == 0 ? "{" : ",{";
            line += "\"recipient\":" + json_string(printable(to_[i])) +
                    ",\"outcome\":" + json_string(to_string(rcpt.result)) +
                    reply_fields(rcpt.code, rcpt.status, rcpt.reply, rcpt.error) + "}";
        }
        line += "]}\n";
        std::fputs(line.c_str(), json_);
        std::fflush(json_);
    }

    // ,"code":..,"status":..,"reply":..,"error":.. with null for what is absent.
    static std::string reply_fields(std::uint16_t code, smtpp::enhanced_status status,
                                    const std::string& reply, const std::string& error) {
        const auto text_or_null = [](const std::string& s) {
            return s.empty() ? std::string("null") : json_string(s);
        };
        const std::string status_text(smtpp::to_text(status).view());
        return ",\"code\":" + (code == 0 ? std::string("null") : std::to_string(code)) +
               ",\"status\":" + text_or_null(status_text) +
               ",\"reply\":" + text_or_null(code == 0 ? std::string() : reply) +
               ",\"error\":" + text_or_null(error);
    }

    const message_list& messages_;
    const std::vector<std::string>& to_;
    bool text_;
    std::FILE* json_;
    progress progress_;
    bool isatty_stdout_ = ::isatty(STDOUT_FILENO) == 1;
    std::set<std::string> printed_;
    std::size_t done_ = 0;
    std::size_t failed_ = 0;
    verdict worst_ = verdict::delivered;
};

} // namespace smtpp_send

#endif // SMTPP_SEND_RESULTS_HPP
