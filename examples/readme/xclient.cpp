// README "XCLIENT and XFORWARD": a server reads the attributes, a client writes them.
#include <smtpp/command.hpp>
#include <smtpp/xclient.hpp>

#include "expect.hpp"

#include <string>

int main() {
    // [readme]
    // Server: parse_command does not know the verb; hand the argument to parse_xclient.
    const smtpp::command_result line = smtpp::parse_command(
        "XCLIENT NAME=spike.porcupine.org ADDR=IPV6:2001:db8::1 LOGIN=j+20doe", {});
    smtpp::xclient_verb verb{};
    expect(line.error == smtpp::errc::unknown_command &&
           smtpp::lookup_xclient_verb(line.cmd.verb_text, verb));
    smtpp::xclient_attributes attributes; // 544 octets, the decoded values inside
    const smtpp::xclient_parse_result r = smtpp::parse_xclient(verb, line.cmd.argument, attributes);
    expect(r.ok() && attributes.get(smtpp::xclient_attribute::login).text == "j doe");
    expect(attributes.address().family == smtpp::xclient_address_family::ipv6);
    const smtpp::xclient_parse_result bad = smtpp::parse_xclient(
        smtpp::xclient_verb::xforward, "HELO=a+0D+0AQUIT", attributes); // CRLF in disguise
    expect(bad.error == smtpp::errc::control_in_attribute && bad.reply.code == 501);

    // Client: send what the server's EHLO line announced, split into lines of 512 octets.
    smtpp::xclient_request request(smtpp::xclient_verb::xforward);
    request.set(smtpp::xclient_attribute::name, smtpp::xclient_value::of("spike.porcupine.org"))
        .set(smtpp::xclient_attribute::ident, smtpp::xclient_value::of("3CF6B2AAE8"))
        .set(smtpp::xclient_attribute::addr, smtpp::xclient_value::unavailable());
    const smtpp::xclient_attribute_set offered =
        smtpp::parse_xclient_offer(smtpp::xclient_verb::xforward, "NAME ADDR PROTO HELO");
    std::string wire;
    std::size_t lines = 0;
    expect(smtpp::write_xclient(wire, request.only(offered), lines) == smtpp::errc::ok);
    expect(wire == "XFORWARD NAME=spike.porcupine.org ADDR=[UNAVAILABLE]\r\n" && lines == 1);
    // [/readme]
}
