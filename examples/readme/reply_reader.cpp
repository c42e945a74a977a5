// README "Reply reader": the client's incremental reader.
#include <smtpp/reply_reader.hpp>

#include "expect.hpp"

#include <string_view>

int main() {
    // [readme]
    smtpp::reply_reader reader{smtpp::limits{}}; // 512-octet lines, 128 lines per reply
    int replies = 0;
    // Bytes as they arrive from the socket: any split works, a reply may span reads.
    for (std::string_view in : {"250-mx.example\r\n250-PIPE", "LINING\r\n250 SIZE 1000000\r\n"
                                                              "550 5.1.1 No such user\r\n"}) {
        for (;;) {
            const smtpp::read_result r = reader.read(in);
            in.remove_prefix(r.consumed);
            if (r.error == smtpp::errc::need_more_data) break; // every octet taken: read more
            expect(r.error == smtpp::errc::ok); // else a sticky error: close the connection
            ++replies;
            if (replies == 1) {
                expect(r.reply.code == 250 && r.reply.text() == "mx.example");
                int lines = 0;
                for (const std::string_view text : r.reply.lines()) lines += !text.empty();
                expect(lines == 3);
            } else {
                expect(r.reply.code == 550 && r.reply.status == smtpp::enhanced_status{5, 1, 1});
            }
        }
    }
    expect(replies == 2);
    // [/readme]
}
