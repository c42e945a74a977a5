// smtpp internal: the client's commands in flight (not public API): which reply each waits
// for, the reply classes that answer them, and RFC 2920's grouping of what may be sent before
// the replies to earlier commands are in.
#ifndef SMTPP_DETAIL_CLIENT_PIPELINE_HPP
#define SMTPP_DETAIL_CLIENT_PIPELINE_HPP

#include <smtpp/detail/output_queue.hpp>
#include <smtpp/macros.hpp>
#include <smtpp/timeouts.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

SMTPP_NAMESPACE_BEGIN
namespace detail {

// The commands whose replies the client waits for, in the order they were sent.
enum class client_command : std::uint8_t {
    greeting,
    ehlo,
    helo,
    starttls,
    auth,
    auth_step,
    mail,
    rcpt,
    data,
    bdat,
    end_of_data, // the final dot, or BDAT LAST
    rset,
    quit,
};

// What each command waits for and what answers it (RFC 5321 4.3.2, read by the first digit as
// RFC 5321 4.2 requires for codes it does not list): a 2yz completes every command but DATA,
// which a 3yz (354) lets go on; AUTH also goes on with a 3yz (334). A 4yz or 5yz is a failure
// the command's handler judges. A positive reply of the other kind (a 3yz after the final
// dot, a 2yz to DATA) answers nothing: the replies no longer match the commands, so the
// session ends and nothing outstanding counts as done. RFC 2920 3.1: only MAIL, RCPT, RSET
// (and BDAT, RFC 3030 4.2) may be followed by more commands before their reply, and the
// message content "is explicitly allowed to be the first command in a group": the next MAIL
// (or QUIT) may follow the end of data.
struct client_command_rule {
    client_command command;
    bool completes_on_2yz;
    bool continues_on_3yz;
    bool may_be_followed; // pipelining goes on after it
    wait_phase waits;     // RFC 5321 4.5.3.2 timeout for its reply
};

inline constexpr client_command_rule client_command_rules[] = {
    {client_command::greeting, true, false, false, wait_phase::greeting},
    {client_command::ehlo, true, false, false, wait_phase::reply},
    {client_command::helo, true, false, false, wait_phase::reply},
    {client_command::starttls, true, false, false, wait_phase::reply},
    {client_command::auth, true, true, false, wait_phase::reply},
    {client_command::auth_step, true, true, false, wait_phase::reply},
    {client_command::mail, true, false, true, wait_phase::mail_reply},
    {client_command::rcpt, true, false, true, wait_phase::rcpt_reply},
    {client_command::data, false, true, false, wait_phase::data_reply},
    {client_command::bdat, true, false, true, wait_phase::data_block},
    {client_command::end_of_data, true, false, true, wait_phase::data_termination},
    {client_command::rset, true, false, true, wait_phase::reply},
    {client_command::quit, true, false, false, wait_phase::reply},
};

// The table is indexed by the enum: row i must describe command i.
[[nodiscard]] constexpr bool rules_in_enum_order() noexcept {
    for (std::size_t i = 0; i < sizeof client_command_rules / sizeof client_command_rules[0]; ++i) {
        if (static_cast<std::size_t>(client_command_rules[i].command) != i) return false;
    }
    return true;
}
static_assert(rules_in_enum_order(), "client_command_rules must follow client_command's order");

[[nodiscard]] constexpr const client_command_rule& rule_for(client_command command) noexcept {
    return client_command_rules[static_cast<std::size_t>(command)];
}

// True when `code` answers `command` at all. RSET must succeed: after a failed RSET the
// server's state is unknown, so it is not a failure to go on from.
[[nodiscard]] constexpr bool answers(client_command command, int code) noexcept {
    const client_command_rule& rule = rule_for(command);
    switch (code / 100) {
    case 2:
        return rule.completes_on_2yz;
    case 3:
        return rule.continues_on_3yz;
    default:
        return command != client_command::rset;
    }
}

// A FIFO over a vector that keeps its storage once empty, so steady state allocates nothing.
template <class T>
class reusable_queue {
public:
    void push(const T& value) { items_.push_back(value); }
    [[nodiscard]] bool empty() const noexcept { return head_ == items_.size(); }
    [[nodiscard]] std::size_t size() const noexcept { return items_.size() - head_; }
    [[nodiscard]] const T& front() const noexcept { return items_[head_]; }
    [[nodiscard]] const T& back() const noexcept { return items_.back(); }
    T pop() noexcept {
        T value = items_[head_++];
        if (empty()) clear();
        return value;
    }
    void clear() noexcept {
        items_.clear();
        head_ = 0;
    }

private:
    std::vector<T> items_;
    std::size_t head_ = 0;
};

struct command_in_flight {
    client_command command;
    std::uint32_t recipient;   // rcpt, LMTP end_of_data: envelope index
    std::uint32_t transaction; // MAIL ... end of data: the transaction's number (0: none)
    // Where the command's octets end in everything the session ever queued (0: nothing was
    // sent, the greeting). A reply can answer it only once these octets were handed out.
    std::uint64_t ends_at = 0;
};

// Commands written but held back (staged), and those sent whose replies are due (expected).
class command_pipeline {
public:
    // Stages one command: `write(text)` appends its line, CRLF included, to `text`.
    template <class Write>
    void stage(client_command command, std::size_t recipient, Write&& write) {
        const std::size_t start = text_.size();
        write(text_);
        staged_.push({{command, static_cast<std::uint32_t>(recipient), transaction_, 0},
                      text_.size() - start});
    }

    // Moves staged commands to `out` as far as the rules allow: lockstep without PIPELINING
    // (RFC 5321 4.3.1), nothing after a group-ending command until every reply of the group is
    // in (RFC 2920 3.1), and nothing while `out` holds `output_limit` octets or more.
    // `written`: the octets consumed from `out` so far.
    void release(output_queue& out, bool pipelining, std::size_t output_limit,
                 std::uint64_t written) {
        while (!staged_.empty()) {
            if (out.size() >= output_limit) return;
            if (!expected_.empty() &&
                (!pipelining || !rule_for(expected_.back().command).may_be_followed))
                return;
            staged next = staged_.pop();
            out.append(text_.data() + head_, next.length);
            head_ += next.length;
            next.what.ends_at = written + out.size();
            expected_.push(next.what);
        }
        text_.clear();
        head_ = 0;
    }

    // A reply is due for something written straight to the output (message data, BDAT),
    // which ends at `ends_at`.
    void expect(client_command command, std::size_t recipient, std::uint64_t ends_at) {
        expected_.push({command, static_cast<std::uint32_t>(recipient), transaction_, ends_at});
    }

    // The transaction the commands staged or expected from now on belong to (0: none).
    void set_transaction(std::uint32_t transaction) noexcept { transaction_ = transaction; }

    [[nodiscard]] bool awaiting() const noexcept { return !expected_.empty(); }
    [[nodiscard]] const command_in_flight& front() const noexcept { return expected_.front(); }
    [[nodiscard]] const command_in_flight& back() const noexcept { return expected_.back(); }
    command_in_flight pop() noexcept { return expected_.pop(); }
    [[nodiscard]] std::size_t staged_count() const noexcept { return staged_.size(); }

    void drop_staged() noexcept {
        staged_.clear();
        text_.clear();
        head_ = 0;
    }

    // Calls f(command_in_flight) for everything outstanding, replies due first, then staged
    // commands, and forgets them all.
    template <class F>
    void drain(F&& f) {
        while (!expected_.empty()) f(expected_.pop());
        while (!staged_.empty()) f(staged_.pop().what);
        drop_staged();
    }

private:
    struct staged {
        command_in_flight what;
        std::size_t length; // octets in text_, CRLF included
    };

    reusable_queue<command_in_flight> expected_;
    reusable_queue<staged> staged_;
    std::string text_;
    std::size_t head_ = 0;
    std::uint32_t transaction_ = 0;
};

} // namespace detail
SMTPP_NAMESPACE_END

#endif // SMTPP_DETAIL_CLIENT_PIPELINE_HPP
