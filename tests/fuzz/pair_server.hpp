// smtpp fuzz support: a server_session that accepts everything, behind an interface of plain
// std types, for fuzz_session_pair. In its own translation unit because server_session.hpp
// (via command.hpp) and client_session.hpp cannot share one (findings/client_config-1.txt).
#ifndef SMTPP_FUZZ_PAIR_SERVER_HPP
#define SMTPP_FUZZ_PAIR_SERVER_HPP

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace smtpp_fuzz {

// What the server application received for one message.
struct delivered_message {
    std::string sender;                  // mailbox without brackets, "" for <>
    std::vector<std::string> recipients; // accepted, in order
    std::string body;                    // body_chunk bytes, in order
    bool chunked = false;
};

struct pair_server_options {
    bool lmtp = false, chunking = false, binarymime = false, pipelining = true, smtputf8 = false;
    bool dsn = false, starttls = false, auth_plain = false;
};

class pair_server {
public:
    explicit pair_server(const pair_server_options& options);
    ~pair_server();
    pair_server(const pair_server&) = delete;
    pair_server& operator=(const pair_server&) = delete;

    // Bytes from the client (copied); processed by run().
    void receive(std::string_view bytes);
    void receive_eof();
    // Processes events until the session needs input, answering every decision with accept()
    // and every tls_handshake with tls_established(). Returns true while the session is open.
    bool run();
    // Output produced so far and not yet taken.
    [[nodiscard]] std::string take_output();
    [[nodiscard]] const std::vector<delivered_message>& delivered() const;
    [[nodiscard]] bool tls_pending() const; // a tls_handshake is waiting for establish_tls()
    void establish_tls();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace smtpp_fuzz

#endif // SMTPP_FUZZ_PAIR_SERVER_HPP
