// README "Client session": one message with pipelining. The server's bytes are scripted
// here; in a program they come from the socket, and `writes` go to it.
#include <smtpp/client_session.hpp>

#include "expect.hpp"

#include <string>
#include <string_view>
#include <vector>

int main() {
    // [readme]
    smtpp::client_config config;
    config.helo_name = "client.example";
    config.tls = smtpp::tls_mode::never; // the default requires STARTTLS
    smtpp::client_session client(config);
    const smtpp::recipient to[] = {smtpp::recipient("bob@example.com"),
                                   smtpp::recipient("carol@example.com")};
    const smtpp::envelope envelope("alice@example.org", to, 2);

    const std::string_view from_server[] = {
        "220 mx.example ESMTP\r\n", "250-mx.example\r\n250 PIPELINING\r\n",
        "250 2.1.0 OK\r\n250 2.1.5 OK\r\n550 5.1.1 No such user\r\n354 Go ahead\r\n",
        "250 2.0.0 Queued\r\n", "221 2.0.0 Bye\r\n"};
    std::vector<std::string> writes; // one socket write per server reply
    bool sent = false, delivered = false;
    for (const std::string_view bytes : from_server) {
        client.receive(bytes);
        for (smtpp::client_event ev = client.next_event();
             ev.kind != smtpp::client_event_kind::need_data &&
             ev.kind != smtpp::client_event_kind::closed; // closed repeats: stop asking
             ev = client.next_event()) {
            switch (ev.kind) {
            case smtpp::client_event_kind::ready: // idle: start a transaction, or leave
                if (!sent) expect(client.send_mail(envelope) == smtpp::errc::ok);
                else expect(client.quit() == smtpp::errc::ok);
                sent = true;
                break;
            case smtpp::client_event_kind::send_body: // stream the body, in any pieces
                expect(client.send_body("Subject: hello\n\nHi Bob!\n") == smtpp::errc::ok);
                expect(client.end_body() == smtpp::errc::ok);
                break;
            case smtpp::client_event_kind::recipient_result: // ev.recipient, ev.result, ev.reply
                expect((ev.recipient == 0) == (ev.result == smtpp::outcome::success));
                break;
            case smtpp::client_event_kind::message_result:
                delivered = ev.result == smtpp::outcome::success;
                break;
            default:
                break;
            }
        }
        writes.emplace_back(client.pending_output());
        client.consume_output(writes.back().size());
    }
    expect(writes[1] == "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.com>\r\n"
                        "RCPT TO:<carol@example.com>\r\nDATA\r\n"); // one pipelined group
    expect(writes[2] == "Subject: hello\r\n\r\nHi Bob!\r\n.\r\n" && delivered);
    expect(writes[3] == "QUIT\r\n" && client.is_closed());
    // [/readme]
}
