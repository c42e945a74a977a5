// Prints the protocol rule tables the sessions run on (include/smtpp/detail/sequence.hpp,
// server_rules.hpp, client_pipeline.hpp) as the Markdown tables of the README's "Protocol
// rules" section. hygiene.readme_rules_match_tables fails when the README shows anything else,
// so the documentation is generated from the code and cannot drift from it.
#include <smtpp/detail/client_pipeline.hpp>
#include <smtpp/detail/sequence.hpp>
#include <smtpp/detail/server_rules.hpp>
#include <smtpp/timeouts.hpp>

#include <chrono>
#include <cstdio>
#include <string>

namespace {

using namespace smtpp;
using namespace smtpp::detail;

const char* verb_name(verb v) {
    switch (v) {
    case verb::helo:
        return "HELO";
    case verb::ehlo:
        return "EHLO";
    case verb::lhlo:
        return "LHLO";
    case verb::mail:
        return "MAIL";
    case verb::rcpt:
        return "RCPT";
    case verb::data:
        return "DATA";
    case verb::bdat:
        return "BDAT";
    case verb::rset:
        return "RSET";
    case verb::noop:
        return "NOOP";
    case verb::quit:
        return "QUIT";
    case verb::vrfy:
        return "VRFY";
    case verb::expn:
        return "EXPN";
    case verb::help:
        return "HELP";
    case verb::starttls:
        return "STARTTLS";
    case verb::auth:
        return "AUTH";
    case verb::unimplemented:
        return "(unimplemented)";
    case verb::unknown:
        return "(unknown)";
    }
    return "?";
}

const char* greeting_needed(hello_state h) {
    switch (h) {
    case hello_state::none:
        return "nothing";
    case hello_state::helo:
        return "HELO or EHLO";
    case hello_state::ehlo:
        return "EHLO (LHLO)";
    }
    return "?";
}

std::string refusal_cell(const char* text) {
    return text == nullptr ? "allowed" : std::string("`503 5.5.1 ") + text + "`";
}

void print_sequence() {
    std::printf(
        "| Command | needs | no transaction | after MAIL | after a RCPT | after a BDAT chunk |\n");
    std::printf("| --- | --- | --- | --- | --- | --- |\n");
    for (const sequence_rule& rule : sequence_rules) {
        std::printf("| %s | %s", verb_name(rule.command), greeting_needed(rule.needs));
        for (const char* text : rule.refused) std::printf(" | %s", refusal_cell(text).c_str());
        std::printf(" |\n");
    }
}

const char* effect(decision_effect e) {
    switch (e) {
    case decision_effect::none:
        return "-";
    case decision_effect::greet:
        return "commands may come";
    case decision_effect::refuse_service:
        return "5yz: only QUIT is served; 4yz: closed";
    case decision_effect::hello:
        return "greeted; the transaction ends";
    case decision_effect::open_transaction:
        return "transaction opened";
    case decision_effect::add_recipient:
        return "recipient added";
    case decision_effect::refuse_recipient:
        return "the 503 a pipelined DATA then gets is not counted as an error";
    case decision_effect::start_data:
        return "the body follows";
    case decision_effect::message_replied:
        return "message answered (LMTP: one per recipient)";
    case decision_effect::chunk_refused:
        return "later BDATs get 503 until RSET";
    case decision_effect::start_tls:
        return "tls_handshake event; input dropped until done";
    case decision_effect::authenticated:
        return "authenticated";
    case decision_effect::auth_refused:
        return "5yz counts toward auth_failures_before_disconnect";
    }
    return "?";
}

std::string reply_text(const reply_spec& r) {
    std::string s = std::to_string(r.code);
    if (!r.status.empty()) {
        s += ' ';
        s += std::to_string(r.status.cls) + '.' + std::to_string(r.status.subject) + '.' +
             std::to_string(r.status.detail);
    }
    if (!r.text.empty()) s += ' ' + std::string(r.text);
    return s;
}

void print_decisions() {
    std::printf("| Decision | accept() sends | positive replies allowed | accepted | refused |\n");
    std::printf("| --- | --- | --- | --- | --- |\n");
    for (const decision_rule& rule : decision_rules) {
        std::string accept_reply = "`" + reply_text(rule.default_reply) + "`";
        if (rule.kind == server_event_kind::connect)
            accept_reply = "`220 <hostname> <greeting_text>`";
        if (rule.kind == server_event_kind::hello) accept_reply = "250 with the offered extensions";
        std::string positive =
            rule.positive_code != 0 ? std::to_string(rule.positive_code) : "any 2yz";
        positive += rule.multi_line_positive ? ", multi-line" : ", one line";
        std::printf("| `%s` | %s | %s | %s | %s |\n", to_string(rule.kind), accept_reply.c_str(),
                    positive.c_str(), effect(rule.on_accept), effect(rule.on_reject));
    }
}

const char* client_command_name(client_command c) {
    switch (c) {
    case client_command::greeting:
        return "(greeting)";
    case client_command::ehlo:
        return "EHLO / LHLO";
    case client_command::helo:
        return "HELO";
    case client_command::starttls:
        return "STARTTLS";
    case client_command::auth:
        return "AUTH";
    case client_command::auth_step:
        return "(SASL response)";
    case client_command::mail:
        return "MAIL";
    case client_command::rcpt:
        return "RCPT";
    case client_command::data:
        return "DATA";
    case client_command::bdat:
        return "BDAT";
    case client_command::end_of_data:
        return "(final dot, BDAT LAST)";
    case client_command::rset:
        return "RSET";
    case client_command::quit:
        return "QUIT";
    }
    return "?";
}

void print_client() {
    const timeouts defaults;
    std::printf(
        "| Command | 2yz | 3yz | more may be pipelined after it | reply wait (default) |\n");
    std::printf("| --- | --- | --- | --- | --- |\n");
    for (const client_command_rule& rule : client_command_rules) {
        const long long seconds = static_cast<long long>(
            std::chrono::duration_cast<std::chrono::seconds>(defaults.of(rule.waits)).count());
        std::printf("| %s | %s | %s | %s | `%s` (%lld s) |\n", client_command_name(rule.command),
                    rule.completes_on_2yz ? "completes" : "unexpected",
                    rule.continues_on_3yz ? "continues" : "unexpected",
                    rule.may_be_followed ? "yes" : "no", to_string(rule.waits), seconds);
    }
}

// ---- state diagrams (Mermaid), the edges taken from the tables above ----

const char* state_name(transaction_state t) {
    switch (t) {
    case transaction_state::none:
        return "no_transaction";
    case transaction_state::mail:
        return "mail";
    case transaction_state::recipients:
        return "recipients";
    case transaction_state::chunks:
        return "chunks";
    }
    return "?";
}

// Where an accepted command leads from `from` (the table says where it is allowed).
transaction_state after(verb v, transaction_state from) {
    switch (v) {
    case verb::mail:
        return transaction_state::mail;
    case verb::rcpt:
        return transaction_state::recipients;
    case verb::bdat:
        return transaction_state::chunks;
    default:
        return from == transaction_state::none ? from : transaction_state::none;
    }
}

const char* edge_label(verb v) {
    switch (v) {
    case verb::data:
        return "DATA, body, message_end";
    case verb::starttls:
        return "STARTTLS, handshake";
    default:
        return verb_name(v);
    }
}

void print_server_diagram() {
    std::printf("```mermaid\nstateDiagram-v2\n");
    std::printf("    [*] --> no_transaction: 220, then HELO or EHLO\n");
    for (const sequence_rule& rule : sequence_rules) {
        for (int from = 0; from < 4; ++from) {
            if (rule.refused[from] != nullptr) continue;
            const auto state = static_cast<transaction_state>(from);
            std::printf("    %s --> %s: %s\n", state_name(state),
                        state_name(after(rule.command, state)), edge_label(rule.command));
            if (rule.command == verb::bdat)
                std::printf("    %s --> no_transaction: BDAT LAST, message_end\n",
                            state_name(state));
        }
    }
    std::printf("    no_transaction --> [*]: QUIT\n");
    std::printf("    note right of no_transaction: RSET, HELO/EHLO, the TLS handshake and a failed "
                "message lead back here (transaction_reset)\n");
    std::printf("```\n");
}

const char* diagram_id(client_command c) {
    switch (c) {
    case client_command::greeting:
        return "greeting";
    case client_command::ehlo:
        return "EHLO";
    case client_command::helo:
        return "HELO";
    case client_command::starttls:
        return "STARTTLS";
    case client_command::auth:
        return "AUTH";
    case client_command::auth_step:
        return "SASL_response";
    case client_command::mail:
        return "MAIL";
    case client_command::rcpt:
        return "RCPT";
    case client_command::data:
        return "DATA";
    case client_command::bdat:
        return "BDAT";
    case client_command::end_of_data:
        return "final_dot";
    case client_command::rset:
        return "RSET";
    case client_command::quit:
        return "QUIT";
    }
    return "?";
}

// One edge: the reply class that moves the client on from `from`, as the table allows it
// (a class the table does not allow for `from` is a bug in this list: nothing is printed).
void edge(client_command from, client_command to, int reply_class, const char* when = "") {
    const client_command_rule& rule = rule_for(from);
    const bool allowed = reply_class == 2 ? rule.completes_on_2yz : rule.continues_on_3yz;
    if (!allowed) return;
    std::printf("    %s --> %s: %dyz%s%s\n", diagram_id(from), diagram_id(to), reply_class,
                *when != 0 ? ", " : "", when);
}

void print_client_diagram() {
    using c = client_command;
    std::printf("```mermaid\nstateDiagram-v2\n    [*] --> greeting: connect\n");
    edge(c::greeting, c::ehlo, 2);
    std::printf("    EHLO --> HELO: 5yz\n");
    edge(c::ehlo, c::starttls, 2, "STARTTLS offered");
    edge(c::starttls, c::ehlo, 2, "TLS handshake");
    edge(c::ehlo, c::auth, 2, "mechanism configured");
    edge(c::auth, c::auth_step, 3);
    edge(c::auth_step, c::auth_step, 3);
    edge(c::auth, c::mail, 2, "ready");
    edge(c::auth_step, c::mail, 2, "ready");
    edge(c::ehlo, c::mail, 2, "ready");
    edge(c::helo, c::mail, 2, "ready");
    edge(c::mail, c::rcpt, 2);
    edge(c::rcpt, c::rcpt, 2);
    edge(c::rcpt, c::data, 2);
    edge(c::data, c::end_of_data, 3, "the body");
    edge(c::rcpt, c::bdat, 2, "CHUNKING");
    edge(c::bdat, c::bdat, 2);
    edge(c::bdat, c::end_of_data, 2, "BDAT LAST");
    edge(c::end_of_data, c::mail, 2, "ready, the next message");
    edge(c::end_of_data, c::quit, 2, "quit()");
    std::printf("    RCPT --> RSET: every RCPT refused\n");
    edge(c::rset, c::mail, 2, "ready");
    std::printf("    QUIT --> [*]: 221, closed\n");
    std::printf("```\n");
}

} // namespace

int main() {
    std::printf("Server, which command may come when (RFC 5321 4.1.4, RFC 3030 2, RFC 3207 4.2, "
                "RFC 4954 4; `detail/sequence.hpp`):\n\n");
    print_sequence();
    std::printf("\n");
    print_server_diagram();
    std::printf("\nServer decisions (`detail/server_rules.hpp`):\n\n");
    print_decisions();
    std::printf("\nClient, what each reply class does to the command it answers (RFC 5321 4.2.1, "
                "4.3.2, 4.5.3.2; `detail/client_pipeline.hpp`). 4yz and 5yz fail the command (a "
                "failed RSET ends the session); an unexpected class fails everything pending as "
                "temporary, and the client sends QUIT and closes:\n\n");
    print_client();
    std::printf("\nThe commands in the order the client sends them, with the replies that move it "
                "on (optional steps are skipped when not offered or not configured):\n\n");
    print_client_diagram();
}
