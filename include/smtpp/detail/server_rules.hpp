// smtpp internal: what each server decision accepts and does, as one table (not public API).
// The README's decision list is checked against it by a test.
#ifndef SMTPP_DETAIL_SERVER_RULES_HPP
#define SMTPP_DETAIL_SERVER_RULES_HPP

#include <smtpp/macros.hpp>
#include <smtpp/reply.hpp>
#include <smtpp/server_event.hpp>

#include <cstdint>

SMTPP_NAMESPACE_BEGIN
namespace detail {

// What answering a decision changes, beyond writing the reply.
enum class decision_effect : std::uint8_t {
    none,
    greet,            // the greeting went out: commands may come
    refuse_service,   // 5xx greeting: only QUIT from now on; 4xx: close at once
    hello,            // the transaction ends (RFC 5321 4.1.4); greeted, with or without EHLO
    open_transaction, // MAIL accepted
    add_recipient,    // RCPT accepted
    refuse_recipient, // RCPT refused: a later 503 to DATA is expected (RFC 2920 3.1)
    start_data,       // 354 sent: the body follows
    message_replied,  // one final reply sent (LMTP: one per recipient)
    chunk_refused,    // later BDATs of the transaction get 503 until RSET (RFC 3030 2)
    start_tls,        // 220 to STARTTLS: wait for the handshake
    authenticated,    // 235
    auth_refused,     // the AUTH exchange failed; 5xx counts toward the failure limit
};

struct decision_rule {
    server_event_kind kind;
    std::uint16_t positive_code; // the one positive code allowed, or 0 for any 2yz
    reply_spec default_reply;    // accept() (connect and hello build theirs from the config)
    bool multi_line_positive;    // a positive reply may have several lines
    decision_effect on_accept;
    decision_effect on_reject;
};

inline constexpr decision_rule decision_rules[] = {
    {server_event_kind::connect, 220, replies::service_ready, false, decision_effect::greet,
     decision_effect::refuse_service},
    {server_event_kind::hello, 0, replies::ok, false, decision_effect::hello,
     decision_effect::none},
    {server_event_kind::mail, 0, replies::sender_ok, true, decision_effect::open_transaction,
     decision_effect::none},
    {server_event_kind::rcpt, 0, replies::recipient_ok, true, decision_effect::add_recipient,
     decision_effect::refuse_recipient},
    {server_event_kind::data, 354, replies::start_mail_input, false, decision_effect::start_data,
     decision_effect::none},
    {server_event_kind::message_end, 0, replies::message_accepted, true,
     decision_effect::message_replied, decision_effect::message_replied},
    {server_event_kind::bdat_chunk, 0, replies::chunk_accepted, true, decision_effect::none,
     decision_effect::chunk_refused},
    {server_event_kind::vrfy, 0, replies::cannot_vrfy, true, decision_effect::none,
     decision_effect::none},
    {server_event_kind::expn, 0, replies::cannot_expn, true, decision_effect::none,
     decision_effect::none},
    {server_event_kind::help, 0, replies::help, true, decision_effect::none, decision_effect::none},
    {server_event_kind::starttls, 220, replies::ready_to_start_tls, false,
     decision_effect::start_tls, decision_effect::none},
    {server_event_kind::auth, 0, replies::auth_succeeded, false, decision_effect::authenticated,
     decision_effect::auth_refused},
};

[[nodiscard]] constexpr const decision_rule& rule_for(server_event_kind kind) noexcept {
    for (const decision_rule& rule : decision_rules) {
        if (rule.kind == kind) return rule;
    }
    return decision_rules[0]; // unreachable for decision kinds
}

// Whether `code` is a positive answer the decision allows (a 4yz/5yz is always a refusal).
[[nodiscard]] constexpr bool is_allowed_positive(const decision_rule& rule,
                                                 std::uint16_t code) noexcept {
    return rule.positive_code != 0 ? code == rule.positive_code : code / 100 == 2;
}

} // namespace detail
SMTPP_NAMESPACE_END

#endif // SMTPP_DETAIL_SERVER_RULES_HPP
