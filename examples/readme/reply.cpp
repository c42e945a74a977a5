// README "Replies": the server's reply writer and the standard replies.
#include <smtpp/reply.hpp>

#include "expect.hpp"

#include <string>

int main() {
    // [readme]
    std::string out;                    // any type with append(const char*, std::size_t)
    const smtpp::reply_options options; // 512-octet lines, enhanced status codes on
    expect(smtpp::write_reply(out, smtpp::replies::sender_ok, options) == smtpp::errc::ok);
    expect(smtpp::write_reply_lines(out, 250, {2, 0, 0}, {"first", "last"}, options) ==
           smtpp::errc::ok);
    expect(out == "250 2.1.0 Sender OK\r\n250-2.0.0 first\r\n250 2.0.0 last\r\n");

    // Caller text that would inject a second reply is refused; nothing is written.
    expect(smtpp::write_reply(out, 550, {5, 1, 1}, "no\r\n250 ok", options) ==
           smtpp::errc::invalid_reply_text);
    expect(smtpp::write_domain_reply(out, smtpp::replies::service_ready, "mx.example") ==
           smtpp::errc::ok); // "220 mx.example ESMTP Service ready\r\n"
    // [/readme]
    expect(out.size() > 60 &&
           out.substr(out.size() - 36) == "220 mx.example ESMTP Service ready\r\n");
}
