// README "SASL": base64 and the PLAIN/LOGIN helpers; the caller verifies credentials.
#include <smtpp/base64.hpp>
#include <smtpp/sasl.hpp>

#include "expect.hpp"

#include <string>
#include <string_view>

int main() {
    // [readme]
    std::string response; // client: AUTH PLAIN <response>
    expect(smtpp::sasl_plain_encode(response, "", "alice", "s3cret") == smtpp::errc::ok);
    expect(response == "AGFsaWNlAHMzY3JldA==");

    char buffer[256]; // server: decode the initial response or a 334 answer line
    smtpp::sasl_plain plain;
    expect(smtpp::sasl_plain_decode(response, buffer, sizeof buffer, plain) == smtpp::errc::ok);
    expect(plain.authcid == "alice" && plain.password == "s3cret" && plain.authzid.empty());

    std::string_view decoded; // "*" cancels the exchange (RFC 4954 4)
    expect(smtpp::sasl_decode_response("*", buffer, sizeof buffer, decoded) ==
           smtpp::errc::auth_cancelled);
    expect(smtpp::base64_decode("AGFsaWNl=", buffer, sizeof buffer, decoded) ==
           smtpp::errc::bad_base64); // strict: whole quanta, canonical padding
    // [/readme]
}
