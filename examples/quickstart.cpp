// smtpp quickstart: a server session fed a scripted client conversation in memory. No sockets:
// bytes go in with receive(), events come out of next_event(), replies out of pending_output().
#include <smtpp/server_session.hpp>

#include <cstdio>
#include <string_view>

int main() {
    smtpp::server_config config;
    config.hostname = "mx.example";
    smtpp::server_session session(config); // one session per connection

    std::string_view client = "EHLO client.example\r\nMAIL FROM:<alice@example.org>\r\n"
                              "RCPT TO:<bob@example.com>\r\nDATA\r\n"
                              "Subject: hi\r\n\r\n..a line that starts with a dot\r\n.\r\nQUIT\r\n";
    for (;;) {
        const smtpp::server_event ev = session.next_event();
        if (ev.kind == smtpp::server_event_kind::need_data) {
            if (client.empty()) break;
            client.remove_prefix(session.receive(client)); // copies what it takes
            continue;
        }
        std::printf("event %s", smtpp::to_string(ev.kind));
        if (ev.cmd)
            std::printf(": %.*s", static_cast<int>(ev.cmd->line.size()), ev.cmd->line.data());
        if (!ev.data.empty())
            std::printf(": %.*s", static_cast<int>(ev.data.size()), ev.data.data());
        std::printf("\n");
        // Your policy: accept(), or reject(550, {5, 7, 1}, "..."); it may also come later.
        if (smtpp::is_decision(ev.kind) && session.accept() != smtpp::errc::ok) return 1;
        while (session.pending_output_size() != 0) { // write these bytes to the socket
            const std::string_view out = session.pending_output();
            std::printf("%.*s", static_cast<int>(out.size()), out.data());
            session.consume_output(out.size());
        }
        if (ev.kind == smtpp::server_event_kind::closed) break;
    }
}
