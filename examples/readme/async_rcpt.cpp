// README "Server session": a RCPT decision answered later, as after a policy or DNS lookup.
// The session keeps later pipelined commands waiting; replies leave in order.
#include <smtpp/server_session.hpp>

#include "expect.hpp"

#include <string>
#include <string_view>

int main() {
    // [readme]
    smtpp::server_config config;
    config.hostname = "mx.example";
    smtpp::server_session session(config);
    // One pipelined write from the client (RFC 2920); these bytes must outlive their use.
    const std::string_view from_client = "EHLO client.example\r\nMAIL FROM:<alice@example.org>\r\n"
                                         "RCPT TO:<bob@example.com>\r\n"
                                         "RCPT TO:<carol@nullmx.example>\r\nDATA\r\n";
    expect(session.receive(from_client) == smtpp::errc::ok);

    std::string lookup;  // the domain our (pretend) asynchronous lookup is resolving
    std::string to_send; // what the event loop wrote to the socket
    for (int turn = 0; turn < 8; ++turn) { // turns of your event loop
        if (!lookup.empty()) {             // the lookup finished: answer the pending RCPT
            if (lookup == "nullmx.example") {
                expect(session.reject(556, {5, 1, 10}, "Recipient address has null MX") ==
                       smtpp::errc::ok); // RFC 7505
            } else {
                expect(session.accept() == smtpp::errc::ok);
            }
            lookup.clear();
        }
        for (;;) {
            const smtpp::server_event ev = session.next_event();
            if (ev.kind == smtpp::server_event_kind::need_data ||
                ev.kind == smtpp::server_event_kind::awaiting_decision) {
                break; // back to the event loop
            }
            if (ev.kind == smtpp::server_event_kind::rcpt) {
                lookup = std::string(ev.cmd->address.box.domain); // copy: views die soon
                break;                                            // start it, answer later
            }
            if (smtpp::is_decision(ev.kind)) expect(session.accept() == smtpp::errc::ok);
        }
        to_send += session.pending_output();
        session.consume_output(session.pending_output().size());
    }
    // 220 greeting, 250 EHLO, 250 MAIL, 250 RCPT bob, 556 RCPT carol, 354 DATA: in order.
    const std::size_t bob = to_send.find("250 2.1.5"), carol = to_send.find("556 5.1.10");
    expect(bob != std::string::npos && carol != std::string::npos && bob < carol);
    expect(to_send.find("354 ", carol) != std::string::npos);
    // [/readme]
}
