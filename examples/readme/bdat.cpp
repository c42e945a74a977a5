// README "BDAT": chunk framing for both sides (RFC 3030).
#include <smtpp/bdat.hpp>

#include "expect.hpp"

#include <string>
#include <string_view>

int main() {
    // [readme]
    const std::string_view message = "Subject: hi\r\n\r\nbinary-safe: no stuffing\r\n";
    const smtpp::bdat_command command = smtpp::make_bdat_command(message.size(), true);
    expect(command.view() == "BDAT 41 LAST\r\n"); // built in place, no allocation

    // Server: after parsing "BDAT 41 LAST", read exactly 41 octets, whatever they contain.
    smtpp::bdat_reader reader(41);
    const std::string wire = std::string(message) + "QUIT\r\n";
    const smtpp::bdat_reader::result r = reader.read(wire);
    expect(r.done && r.chunk == message && r.consumed == 41); // "QUIT\r\n" is the next command
    // A refused BDAT still consumes its octets: start(size, /*discard=*/true) reads them
    // without handing them out, so they can never be taken as commands.
    // [/readme]
}
