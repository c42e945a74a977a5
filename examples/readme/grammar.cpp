// README "Grammar": addresses, domains and xtext (RFC 5321 4.1.2, RFC 3461 4).
#include <smtpp/grammar.hpp>

#include "expect.hpp"

#include <cstddef>

int main() {
    // [readme]
    const smtpp::address_options options; // RFC limits (64/255/256); allow_utf8 for SMTPUTF8
    smtpp::path p;
    expect(smtpp::parse_forward_path("<@relay.example:\"J. Smith\"@[IPv6:2001:db8::1]>", p,
                                     options) == smtpp::errc::ok);
    expect(p.source_route == "@relay.example"); // accepted and reported, to be ignored
    expect(p.box.local_part == "\"J. Smith\""); // as written: quotes and case kept
    expect(p.box.host == smtpp::host_kind::ipv6);
    expect(smtpp::parse_domain("mx-.example", options) == smtpp::errc::bad_domain);
    expect(smtpp::parse_reverse_path("<>", p, options) == smtpp::errc::ok && p.is_null);

    char decoded[64];
    std::size_t size = 0; // ORCPT and ENVID values are xtext: "+2B" is '+'
    expect(smtpp::xtext_decode("bob+2Blists@example.org", decoded, sizeof decoded, size) ==
           smtpp::errc::ok);
    expect(std::string_view(decoded, size) == "bob+lists@example.org");
    // [/readme]
}
