// smtpp-send: what happened to one message, recipient by recipient, with the reply that
// really decided each.
#ifndef SMTPP_SEND_REPORT_HPP
#define SMTPP_SEND_REPORT_HPP

#include "text.hpp"

#include <smtpp/client_event.hpp>
#include <smtpp/status.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace smtpp_send {

// How a recipient (or a whole message: its worst recipient) came out.
enum class verdict : std::uint8_t {
    delivered, // the server took responsibility (2yz to the end of the message)
    unknown,   // the whole message went out, the answer never came: it may have been accepted
    temporary, // not delivered; trying again later may work (4yz, timeout, connection lost)
    permanent, // refused for good (5yz), or the server cannot take this message
};

[[nodiscard]] inline const char* to_string(verdict v) noexcept {
    constexpr const char* names[] = {"delivered", "unknown", "temporary", "permanent"};
    return names[static_cast<std::size_t>(v)];
}

// The worse of two verdicts (permanent > temporary > unknown > delivered).
[[nodiscard]] inline verdict worse(verdict a, verdict b) noexcept { return a < b ? b : a; }

// What the server said to a recipient, or why it said nothing.
struct recipient_report {
    enum class state : std::uint8_t { waiting, accepted, decided };
    state progress = state::waiting;
    verdict result = verdict::temporary;
    std::uint16_t code = 0;          // of the deciding reply; 0: none
    smtpp::enhanced_status status{}; // of the deciding reply
    std::string reply;               // its last line, printable
    std::string error;               // why it is not delivered when no reply says so

    // The text line: the reply, or why there is none that counts.
    [[nodiscard]] std::string line() const {
        if (result == verdict::unknown)
            return "outcome unknown (the server may have accepted the message): " + error;
        if (code == 0) return "not delivered: " + error;
        if (!error.empty()) return "not delivered: " + error + ": " + reply;
        return reply;
    }
};

class message_report {
public:
    message_report(std::size_t index, std::size_t recipients)
        : index_(index), recipients_(recipients) {}

    // The reply to RCPT TO. A refusal decides the recipient; an acceptance waits for the
    // message's verdict. Without a reply (the connection ended first) nothing is decided.
    void recipient_result(const smtpp::client_event& ev) {
        if (ev.recipient >= recipients_.size() || ev.reply.code == 0) return;
        recipient_report& r = recipients_[ev.recipient];
        if (r.progress != recipient_report::state::waiting) return;
        if (ev.result == smtpp::outcome::success && ev.reply.code / 100 == 2) {
            r.progress = recipient_report::state::accepted;
        } else {
            decide(r, ev);
        }
    }

    // The message's verdict: for one recipient (LMTP's replies after the end of data,
    // ev.for_recipient) or for every recipient not decided yet (the reply to MAIL, DATA,
    // BDAT or the end of data). Without a reply nothing is decided: settle() says why.
    void message_result(const smtpp::client_event& ev) {
        answered_ = true;
        if (ev.reply.code == 0) return;
        if (ev.for_recipient) {
            if (ev.recipient < recipients_.size() &&
                recipients_[ev.recipient].progress != recipient_report::state::decided)
                decide(recipients_[ev.recipient], ev);
            return;
        }
        code_ = ev.reply.code;
        status_ = ev.reply.status;
        reply_ = last_line(ev.reply);
        for (recipient_report& r : recipients_) {
            if (r.progress != recipient_report::state::decided) decide(r, ev);
        }
    }

    // The whole message has been sent: if the conversation fails from here on, the server
    // may have accepted it.
    void message_sent() { sent_ = true; }

    // A message_result came (the session is done with the transaction or, in LMTP, with a
    // recipient) and every recipient is decided.
    [[nodiscard]] bool complete() const {
        if (!answered_) return false;
        for (const recipient_report& r : recipients_) {
            if (r.progress != recipient_report::state::decided) return false;
        }
        return true;
    }

    // Decides every recipient the server gave no verdict on: the message was not sent, or
    // the conversation failed, for `why`. A recipient whose RCPT was accepted and whose
    // message went out in full may have been delivered: its outcome is unknown.
    void settle(const std::string& why, smtpp::outcome cause) {
        if (error_.empty()) error_ = why;
        for (recipient_report& r : recipients_) {
            if (r.progress == recipient_report::state::decided) continue;
            const bool maybe = sent_ && r.progress == recipient_report::state::accepted;
            r.result = maybe                                ? verdict::unknown
                       : cause == smtpp::outcome::permanent ? verdict::permanent
                                                            : verdict::temporary;
            r.error = why;
            r.progress = recipient_report::state::decided;
        }
    }

    [[nodiscard]] verdict overall() const {
        verdict v = verdict::delivered;
        for (const recipient_report& r : recipients_) v = worse(v, r.result);
        return v;
    }

    [[nodiscard]] std::size_t index() const noexcept { return index_; }
    [[nodiscard]] const std::vector<recipient_report>& recipients() const { return recipients_; }
    // The reply that ended the transaction for every recipient (code 0: none, as in LMTP),
    // and why the message failed without one.
    [[nodiscard]] std::uint16_t code() const noexcept { return code_; }
    [[nodiscard]] smtpp::enhanced_status status() const noexcept { return status_; }
    [[nodiscard]] const std::string& reply() const noexcept { return reply_; }
    [[nodiscard]] const std::string& error() const noexcept { return error_; }

private:
    // Only a 2yz reply delivers, and only to a recipient whose RCPT was accepted: a 2yz or
    // 3yz the session counts as a failure (250 to DATA) is not shown as if it were a success.
    static void decide(recipient_report& r, const smtpp::client_event& ev) {
        const bool positive = ev.reply.code / 100 == 2 || ev.reply.code / 100 == 3;
        const bool delivered = ev.result == smtpp::outcome::success && ev.reply.code / 100 == 2 &&
                               r.progress == recipient_report::state::accepted;
        r.result = delivered                                ? verdict::delivered
                   : ev.result == smtpp::outcome::permanent ? verdict::permanent
                                                            : verdict::temporary;
        r.code = ev.reply.code;
        r.status = ev.reply.status;
        r.reply = last_line(ev.reply);
        if (positive && !delivered) r.error = "unexpected reply";
        r.progress = recipient_report::state::decided;
    }

    std::size_t index_;
    std::vector<recipient_report> recipients_;
    bool answered_ = false;
    bool sent_ = false;
    std::uint16_t code_ = 0;
    smtpp::enhanced_status status_{};
    std::string reply_;
    std::string error_;
};

} // namespace smtpp_send

#endif // SMTPP_SEND_REPORT_HPP
