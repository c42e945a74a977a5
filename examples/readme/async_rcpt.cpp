// README "Server session": a RCPT decision answered later, as after a policy or DNS lookup.
// The session keeps later pipelined commands waiting; replies leave in order. The envelope
// is mirrored in the caller's own state, cleared on transaction_reset.
#include <smtpp/grammar.hpp>
#include <smtpp/server_session.hpp>

#include "expect.hpp"

#include <string>
#include <string_view>
#include <vector>

int main() {
    // [readme]
    smtpp::server_config config;
    config.hostname = "mx.example";
    smtpp::server_session session(config);
    // One pipelined read from the client (RFC 2920). receive() copies: the buffer is free now.
    const std::string_view from_client = "EHLO client.example\r\nMAIL FROM:<alice@example.org>\r\n"
                                         "RCPT TO:<bob@example.com>\r\n"
                                         "RCPT TO:<carol@NullMX.example>\r\nDATA\r\n";
    expect(session.receive(from_client) == from_client.size());

    struct transaction { // what this server keeps of the envelope
        std::string sender;
        std::vector<std::string> recipients;
    } txn;
    std::string rcpt, domain;              // the recipient whose (pretend) domain lookup is running
    std::string to_send;                   // what the event loop wrote to the socket
    for (int turn = 0; turn < 8; ++turn) { // turns of your event loop
        if (!rcpt.empty()) {               // the lookup finished: answer the RCPT
            if (smtpp::domain_equal(domain, "nullmx.example")) { // RFC 7505: 556 5.1.10
                expect(session.reject(smtpp::replies::recipient_domain_no_mail) == smtpp::errc::ok);
            } else {
                expect(session.accept() == smtpp::errc::ok);
                txn.recipients.push_back(rcpt);
            }
            rcpt.clear();
        }
        for (bool waiting = false; !waiting;) {
            const smtpp::server_event ev = session.next_event();
            switch (ev.kind) {
            case smtpp::server_event_kind::need_data:         // read the socket
            case smtpp::server_event_kind::awaiting_decision: // a decision is still out
                waiting = true;
                break;
            case smtpp::server_event_kind::rcpt: // copy: views die at the next call
                rcpt = std::string(ev.cmd->address.text);
                domain = std::string(ev.cmd->address.box.domain);
                waiting = true; // start the lookup, answer in a later turn
                break;
            case smtpp::server_event_kind::mail:
                txn.sender = std::string(ev.cmd->address.text);
                expect(session.accept() == smtpp::errc::ok);
                break;
            case smtpp::server_event_kind::transaction_reset: // RSET, EHLO, TLS, failure, EOF
                txn = {};
                break;
            default:
                if (smtpp::is_decision(ev.kind)) expect(session.accept() == smtpp::errc::ok);
            }
        }
        while (session.pending_output_size() != 0) { // the socket write
            to_send += session.pending_output();
            session.consume_output(session.pending_output().size());
        }
    }
    // 220 greeting, 250 EHLO, 250 MAIL, 250 RCPT bob, 556 RCPT carol, 354 DATA: in order.
    const std::size_t bob = to_send.find("250 2.1.5"), carol = to_send.find("556 5.1.10");
    expect(bob != std::string::npos && carol != std::string::npos && bob < carol);
    expect(to_send.find("354 ", carol) != std::string::npos);
    expect(txn.sender == "<alice@example.org>" && txn.recipients.size() == 1);
    // [/readme]
}
