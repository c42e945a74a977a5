// smtpp internal: which command may come when (RFC 5321 4.1.4, 3.3; RFC 3030 2, 3; RFC 3207 4;
// RFC 4954 4), as one table both sides are judged by: the server refuses with it, the client
// asserts in debug builds that it never sends what the table would refuse.
#ifndef SMTPP_DETAIL_SEQUENCE_HPP
#define SMTPP_DETAIL_SEQUENCE_HPP

#include <smtpp/command.hpp>
#include <smtpp/macros.hpp>

#include <cstdint>

SMTPP_NAMESPACE_BEGIN
namespace detail {

// What greeting the client gave: none yet, HELO (no service extension negotiated, RFC 5321
// 2.2.1), or EHLO/LHLO.
enum class hello_state : std::uint8_t { none, helo, ehlo };

// Where the mail transaction is: none; MAIL accepted; a recipient accepted; BDAT chunks
// accepted (RFC 3030 2: then no RCPT and no DATA).
enum class transaction_state : std::uint8_t { none, mail, recipients, chunks };

struct sequence_rule {
    verb command;
    hello_state needs;      // the least greeting the command needs
    const char* refused[4]; // per transaction_state: nullptr allowed, else the 503 text
};

inline constexpr sequence_rule sequence_rules[] = {
    {verb::mail,
     hello_state::helo,
     {nullptr, "Nested MAIL command", "Nested MAIL command", "Nested MAIL command"}},
    {verb::rcpt, hello_state::helo, {"Need MAIL command", nullptr, nullptr, "RCPT after BDAT"}},
    {verb::data,
     hello_state::helo,
     {"Need MAIL command", "No valid recipients", nullptr, "DATA after BDAT"}},
    {verb::bdat, hello_state::ehlo, {"Need MAIL command", "No valid recipients", nullptr, nullptr}},
    {verb::starttls,
     hello_state::ehlo,
     {nullptr, "STARTTLS not allowed in a mail transaction",
      "STARTTLS not allowed in a mail transaction", "STARTTLS not allowed in a mail transaction"}},
    {verb::auth,
     hello_state::ehlo,
     {nullptr, "AUTH not allowed in a mail transaction", "AUTH not allowed in a mail transaction",
      "AUTH not allowed in a mail transaction"}},
};

struct sequence_check {
    bool allowed = true;
    bool needs_hello = false; // refused for want of a (EHLO) greeting
    const char* text = nullptr;
};

// Whether `command` may come now. Commands the table does not list may always come (as far
// as sequencing goes).
[[nodiscard]] constexpr sequence_check check_sequence(verb command, hello_state hello,
                                                      transaction_state transaction) noexcept {
    for (const sequence_rule& rule : sequence_rules) {
        if (rule.command != command) continue;
        if (static_cast<int>(hello) < static_cast<int>(rule.needs)) return {false, true, nullptr};
        const char* text = rule.refused[static_cast<int>(transaction)];
        return {text == nullptr, false, text};
    }
    return {};
}

} // namespace detail
SMTPP_NAMESPACE_END

#endif // SMTPP_DETAIL_SEQUENCE_HPP
