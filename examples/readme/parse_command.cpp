// README "Command parser": one command line in, a typed command out.
#include <smtpp/command.hpp>

#include "expect.hpp"

int main() {
    // [readme]
    smtpp::command_options options; // options.offer: PIPELINING, SIZE, 8BITMIME... by default
    options.offer.dsn = true;
    const smtpp::command_result r = smtpp::parse_command(
        "mail FROM:<Alice@example.org> SIZE=2048 BODY=8BITMIME RET=HDRS", options); // no CRLF
    expect(r.ok() && r.cmd.kind == smtpp::verb::mail);
    expect(r.cmd.address.box.local_part == "Alice"); // a view into the line
    expect(r.cmd.has_size && r.cmd.size == 2048);
    expect(r.cmd.body == smtpp::body_type::eight_bit_mime && r.cmd.ret == smtpp::dsn_ret::headers);

    // Every failure comes with the reply it calls for.
    const smtpp::command_result bad =
        smtpp::parse_command("RCPT TO:<bob@example.com> X=1", options);
    expect(bad.error == smtpp::errc::unsupported_parameter);
    expect(bad.reply.code == 555 && bad.reply.status == smtpp::enhanced_status{5, 5, 4});
    expect(bad.reply.text == "Parameter not recognized or not implemented");
    const smtpp::command_result huge =
        smtpp::parse_command("BDAT 18446744073709551616 LAST", options);
    expect(huge.error == smtpp::errc::number_overflow && huge.reply.code == 552); // never wrapped
    // [/readme]
}
