// smtpp demo: a client_session and a server_session wired back to back in memory. The client
// sends one message to two recipients; with PIPELINING, MAIL, both RCPTs and DATA leave in one
// write (see the transcript). Nothing here touches a socket: the bytes one session wants to
// send are handed straight to the other.
#include <smtpp/client_session.hpp>
#include <smtpp/server_session.hpp>

#include <cstdio>
#include <string>
#include <string_view>

namespace {

// Prints bytes as transcript lines "C: ..." / "S: ...".
void show(const char* who, std::string_view bytes) {
    while (!bytes.empty()) {
        const std::size_t end = bytes.find("\r\n");
        const std::string_view line = bytes.substr(0, end);
        std::printf("%s %.*s\n", who, static_cast<int>(line.size()), line.data());
        bytes.remove_prefix(end == std::string_view::npos ? bytes.size() : end + 2);
    }
}

// Hands what `from` has queued to `to` (whose receive() copies it) and prints it as sent.
// Both sessions keep their output until it is consumed, in one or more pieces.
template <class From, class To>
void transfer(const char* who, From& from, To& to) {
    while (from.pending_output_size() != 0) {
        const std::string_view out = from.pending_output();
        const std::size_t taken = to.receive(out);
        show(who, out.substr(0, taken));
        from.consume_output(taken);
        if (taken < out.size()) return; // the peer's input is full (or closed): later
    }
}

} // namespace

int main() {
    smtpp::server_config scfg;
    scfg.hostname = "mx.example";
    smtpp::server_session server(scfg);

    smtpp::client_config ccfg;
    ccfg.helo_name = "client.example";
    ccfg.tls = smtpp::tls_mode::never;
    smtpp::client_session client(ccfg);

    const smtpp::recipient to[] = {smtpp::recipient("bob@example.com"),
                                   smtpp::recipient("carol@example.com")};
    smtpp::envelope env("alice@example.org", to, 2);
    const std::string_view message =
        "Subject: demo\r\n\r\n.this line starts with a dot\r\nBye.\r\n";

    std::string body; // what the server received as the message
    bool sent = false;
    int accepted = 0;

    for (int round = 0; round < 100 && !(client.is_closed() && server.is_closed()); ++round) {
        // Server: events until it needs bytes; every decision is accepted.
        for (;;) {
            const smtpp::server_event ev = server.next_event();
            if (ev.kind == smtpp::server_event_kind::need_data) break;
            if (ev.kind == smtpp::server_event_kind::closed) break;
            if (ev.kind == smtpp::server_event_kind::body_chunk)
                body.append(ev.data.data(), ev.data.size());
            if (smtpp::is_decision(ev.kind)) (void)server.accept();
        }
        transfer("S:", server, client);

        // Client: events until it needs bytes.
        for (smtpp::client_event ev = client.next_event();
             ev.kind != smtpp::client_event_kind::need_data; ev = client.next_event()) {
            using k = smtpp::client_event_kind;
            if (ev.kind == k::closed) break;
            if (ev.kind == k::ready && !sent) {
                sent = true;
                if (client.send_mail(env) != smtpp::errc::ok) return 1;
            } else if (ev.kind == k::ready) {
                (void)client.quit();
            } else if (ev.kind == k::send_body) {
                if (client.send_body(message) != smtpp::errc::ok ||
                    client.end_body() != smtpp::errc::ok)
                    return 1;
            } else if (ev.kind == k::recipient_result) {
                std::printf("   (client: recipient %zu %s)\n", ev.recipient,
                            smtpp::to_string(ev.result));
            } else if (ev.kind == k::message_result) {
                std::printf("   (client: message %s)\n", smtpp::to_string(ev.result));
                accepted += ev.result == smtpp::outcome::success;
            } else if (ev.kind == k::error) {
                std::printf("   (client: error %s)\n", smtpp::to_string(ev.error));
            }
        }
        // Client bytes to the server, all at once: the pipelined group shows as one write.
        if (client.wants_write()) {
            transfer("C:", client, server);
        } else if (client.is_closed() && !server.is_closed()) {
            server.receive_eof();
        }
    }
    const bool same = body == message;
    std::printf("server received %zu octets, dot-unstuffed: %s\n", body.size(),
                same ? "as sent" : "DIFFERENT");
    return accepted == 1 && same ? 0 : 1;
}
