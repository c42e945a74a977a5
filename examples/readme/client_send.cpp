// README "Client session": one message with pipelining. The server's bytes are scripted
// here; in a program they come from the socket, and `wire` goes to it.
#include <smtpp/client_session.hpp>

#include "expect.hpp"

#include <string>
#include <string_view>

int main() {
    // [readme]
    smtpp::client_config config;
    config.helo_name = "client.example";
    // The default, tls_mode::opportunistic, sends STARTTLS whenever the server offers it and
    // then asks for the handshake (a tls_handshake event); this scripted server offers none.
    config.tls = smtpp::tls_mode::never;
    smtpp::client_session client(config);

    const std::string_view body = "Subject: hello\n\nHi Bob!\n";
    const smtpp::recipient to[] = {smtpp::recipient("bob@example.com"),
                                   smtpp::recipient("carol@example.com")};
    smtpp::envelope envelope("alice@example.org", to, 2);
    const smtpp::body_traits traits = smtpp::scan_body(body);
    envelope.size = traits.size;             // SIZE= as RFC 1870 counts it (CRLF lines)
    envelope.body = smtpp::body_for(traits); // BODY=8BITMIME when the body needs it

    std::string wire; // what the client wrote to the socket
    bool sent = false, delivered = false;
    // Pull events until need_data after every receive(), consume_output() and call.
    const auto run = [&] {
        for (;;) {
            const smtpp::client_event ev = client.next_event();
            switch (ev.kind) {
            case smtpp::client_event_kind::ready: // idle: start a transaction, or leave
                if (!sent)
                    expect(client.send_mail(envelope) == smtpp::errc::ok);
                else
                    expect(client.quit() == smtpp::errc::ok);
                sent = true;
                break;
            case smtpp::client_event_kind::send_body: // stream the body, in any pieces
                expect(client.send_body(body) == smtpp::errc::ok);
                expect(client.end_body() == smtpp::errc::ok);
                break;
            case smtpp::client_event_kind::recipient_result: // ev.recipient, ev.result, ev.reply
                expect((ev.recipient == 0) == (ev.result == smtpp::outcome::success));
                break;
            case smtpp::client_event_kind::message_result:
                delivered = ev.result == smtpp::outcome::success;
                break;
            case smtpp::client_event_kind::need_data: // read the socket
            case smtpp::client_event_kind::closed:    // closed repeats: stop asking
                return;
            default:
                break;
            }
            while (client.pending_output_size() != 0) { // the socket write
                wire += client.pending_output();
                client.consume_output(client.pending_output().size());
            }
        }
    };
    for (const std::string_view from_server :
         {"220 mx.example ESMTP\r\n", "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n",
          "250 2.1.0 OK\r\n250 2.1.5 OK\r\n550 5.1.1 No such user\r\n354 Go ahead\r\n",
          "250 2.0.0 Queued\r\n", "221 2.0.0 Bye\r\n"}) {
        expect(client.receive(from_server) == from_server.size()); // copied
        run();
    }
    expect(wire == "EHLO client.example\r\n"
                   "MAIL FROM:<alice@example.org> SIZE=27\r\nRCPT TO:<bob@example.com>\r\n"
                   "RCPT TO:<carol@example.com>\r\nDATA\r\n" // one pipelined group
                   "Subject: hello\r\n\r\nHi Bob!\r\n.\r\nQUIT\r\n");
    expect(delivered && client.is_closed());
    // [/readme]
}
