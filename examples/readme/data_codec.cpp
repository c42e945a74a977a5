// README "Body codecs": the client's DATA encoder and the server's streaming decoder.
#include <smtpp/data.hpp>

#include "expect.hpp"

#include <string>
#include <string_view>

int main() {
    // [readme]
    // Client: stuff leading dots, turn bare LF into CRLF, append the terminator.
    smtpp::data_encoder encoder;
    std::string wire;
    expect(encoder.encode(wire, "Subject: hi\n\n.starts with a dot\n") == smtpp::errc::ok);
    expect(encoder.finish(wire) == smtpp::errc::ok);
    expect(wire == "Subject: hi\r\n\r\n..starts with a dot\r\n.\r\n");

    // Server: feed the bytes after "354" in any pieces; chunks are unstuffed views.
    smtpp::data_decoder decoder{smtpp::limits{}}; // 1000-octet lines, 10 MiB
    std::string body;
    std::string_view in = wire;
    while (!decoder.done()) {
        const smtpp::data_decoder::result r = decoder.decode(in.substr(0, 7)); // 7-octet reads
        body.append(r.chunk.data(), r.chunk.size());
        in.remove_prefix(r.consumed);
    }
    expect(body == "Subject: hi\r\n\r\n.starts with a dot\r\n");
    expect(in.empty() && decoder.size() == body.size());
    // Only CRLF "." CRLF ends the body: "\n.\n" and "\r.\r" are body bytes, reported in
    // decoder.findings() (bare_lf, bare_cr, nul, long_line, too_large) so the server can
    // refuse the message after its real end.
    // [/readme]
}
