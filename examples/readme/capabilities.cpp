// README "EHLO capabilities": the server writes its keyword list, the client reads it.
#include <smtpp/ehlo_reader.hpp>
#include <smtpp/ehlo_writer.hpp>
#include <smtpp/reply_reader.hpp>

#include "expect.hpp"

#include <string>

int main() {
    // [readme]
    smtpp::ehlo_offer offer; // offer.offered: PIPELINING, SIZE, 8BITMIME... on by default
    offer.offered.chunking = true;
    offer.size_limit = 35882577;
    offer.auth_mechanisms = "PLAIN LOGIN";
    std::string wire;
    expect(smtpp::write_ehlo_reply(wire, "mx.example", "at your service", offer) ==
           smtpp::errc::ok);
    // 250-mx.example at your service / 250-PIPELINING / 250-SIZE 35882577 / ... / 250 AUTH PLAIN
    // LOGIN

    smtpp::reply_reader reader{smtpp::limits{}};
    const smtpp::read_result r = reader.read(wire);
    smtpp::capabilities caps;
    expect(r.error == smtpp::errc::ok && smtpp::parse_ehlo_reply(r.reply, caps) == smtpp::errc::ok);
    expect(caps.pipelining && caps.chunking && caps.size_known && caps.size_limit == 35882577);
    expect(caps.has_auth_mechanism("login") && !caps.size_allows(35882578));
    for (const smtpp::ehlo_extension& ext : caps.extension_lines()) { // known or not
        expect(!ext.keyword.empty());
    }
    // [/readme]
}
