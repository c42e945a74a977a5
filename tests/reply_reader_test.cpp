#include <smtpp/reply_reader.hpp>

#include "allocation_counter.hpp"
#include "server_transcript.hpp" // escape()
#include "smtpp_catch.hpp"
#include "split_grind.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace {

using smtpp::enhanced_status;
using smtpp::errc;

std::string describe(const smtpp::reply& r) {
    std::string s = std::to_string(r.code);
    if (!r.status.empty()) s += " [" + std::string(smtpp::to_text(r.status).view()) + "]";
    if (!r.standard_code) s += " nonstandard";
    for (std::string_view text : r.lines()) s += " |" + std::string(text);
    return s;
}

// Feeds the pieces in order and returns one entry per reply, then the error that stopped it
// ("need_more_data" when the input simply ended).
std::vector<std::string> transcript(const std::vector<std::string_view>& pieces,
                                    const smtpp::reply_reader_options& options = {}) {
    smtpp::reply_reader reader(options);
    std::vector<std::string> events;
    for (std::string_view in : pieces) {
        for (;;) {
            const smtpp::read_result r = reader.read(in);
            if (r.error != errc::ok) {
                if (r.error != errc::need_more_data) {
                    events.push_back(std::string("error: ") + smtpp::to_string(r.error));
                    return events;
                }
                CHECK(r.consumed == in.size());
                break;
            }
            REQUIRE(r.consumed <= in.size());
            CHECK(r.reply.raw.size() >= r.consumed); // never claims more than the reply
            events.push_back(describe(r.reply));
            in.remove_prefix(r.consumed);
        }
    }
    events.push_back(reader.mid_reply() ? "mid-reply" : "idle");
    return events;
}

std::vector<std::string> transcript(std::string_view wire,
                                    const smtpp::reply_reader_options& options = {}) {
    return transcript(std::vector<std::string_view>{wire}, options);
}

// The reply reader must give the same transcript however the input is cut.
void check_split_grind(std::string_view wire, const smtpp::reply_reader_options& options = {}) {
    INFO(wire);
    CHECK(smtpp_test::first_divergent_split(wire, [&](const std::vector<std::string_view>& pieces) {
              return transcript(pieces, options);
          }) == -1);
}

smtpp::reply only_reply(std::string_view wire) {
    smtpp::reply_reader reader;
    const smtpp::read_result r = reader.read(wire);
    REQUIRE(r.error == errc::ok);
    CHECK(r.consumed == wire.size());
    return r.reply;
}

errc error_of(std::string_view wire, const smtpp::reply_reader_options& options = {}) {
    smtpp::reply_reader reader(options);
    smtpp::read_result r;
    do {
        r = reader.read(wire);
        wire.remove_prefix(r.consumed);
    } while (r.error == errc::ok && !wire.empty());
    return r.error;
}

const std::string_view corpus[] = {
    // Postfix
    "220 mx.example.com ESMTP Postfix (Debian/GNU)\r\n",
    "250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE "
    "10240000\r\n250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n"
    "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n",
    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n",
    "250 2.0.0 Ok: queued as 4VbXyZ1abcz9\r\n221 2.0.0 Bye\r\n",
    // Exim
    "220 mail.example.org ESMTP Exim 4.96 Mon, 20 Nov 2023 10:00:00 +0000\r\n",
    "250-mail.example.org Hello client.example [192.0.2.1]\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n"
    "250-PIPELINING\r\n250-PIPE_CONNECT\r\n250-AUTH PLAIN LOGIN\r\n250-CHUNKING\r\n250-STARTTLS\r\n"
    "250-PRDR\r\n250 HELP\r\n",
    // Sendmail
    "220 host.example.com ESMTP Sendmail 8.17.1/8.17.1; Mon, 20 Nov 2023 10:00:00 GMT\r\n",
    "250-host.example.com Hello client.example [192.0.2.1], pleased to meet you\r\n"
    "250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE\r\n250-DSN\r\n250-"
    "ETRN\r\n"
    "250-AUTH DIGEST-MD5 CRAM-MD5\r\n250-DELIVERBY\r\n250 HELP\r\n",
    // OpenSMTPD
    "220 mx.example.net ESMTP OpenSMTPD\r\n",
    "250-mx.example.net Hello client.example [192.0.2.1], pleased to meet you\r\n250-8BITMIME\r\n"
    "250-ENHANCEDSTATUSCODES\r\n250-SIZE 36700160\r\n250-DSN\r\n250 HELP\r\n",
    // Exchange
    "220 EX01.corp.example Microsoft ESMTP MAIL Service ready at Mon, 20 Nov 2023 10:00:00 "
    "+0000\r\n",
    "250-EX01.corp.example Hello [192.0.2.1]\r\n250-SIZE 37748736\r\n250-PIPELINING\r\n250-DSN\r\n"
    "250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250-X-ANONYMOUSTLS\r\n250-AUTH NTLM\r\n250-X-EXPS "
    "GSSAPI NTLM\r\n"
    "250-8BITMIME\r\n250-BINARYMIME\r\n250-CHUNKING\r\n250 XRDST\r\n",
    // Gmail
    "220 mx.google.com ESMTP a1b2c3d4e5f6g.123 - gsmtp\r\n",
    "250-mx.google.com at your service, [192.0.2.1]\r\n250-SIZE "
    "157286400\r\n250-8BITMIME\r\n250-STARTTLS\r\n"
    "250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n",
    "550-5.7.1 [192.0.2.1] The IP you're using to send mail is not authorized to\r\n"
    "550-5.7.1 send email directly to our servers. Please use the SMTP relay at your\r\n"
    "550-5.7.1 service provider instead. For more information, go to\r\n"
    "550 5.7.1  https://support.google.com/mail/?p=NotAuthorizedError a1si123 - gsmtp\r\n",
    // Multi-line 554, 421 in the middle of a pipelined group, empty texts.
    "554-mx.example\r\n554-Your address is listed at bl.example.\r\n554 5.7.1 No SMTP service "
    "here\r\n",
    "250 2.1.0 Ok\r\n421 4.4.2 mx.example Error: timeout exceeded\r\n",
    "250 \r\n250\r\n250-\r\n250 \r\n",
    "250-mx.example\r\n250-PIPELINING\r\n250 \r\n",
    "220-mx.example ESMTP\r\n220-Unauthorized use prohibited\r\n220 \r\n",
    "334 \r\n334 VXNlcm5hbWU6\r\n235 2.7.0 Authentication successful\r\n",
    // Partial reply at the end.
    "250-mx.example\r\n250-PIPE",
};

} // namespace

TEST_CASE("S-5321-4.2.1-a: one code on every line, '-' continues, SP ends", "[reply_reader]") {
    const smtpp::reply r = only_reply("250-a\r\n250 b\r\n");
    CHECK(r.code == 250);
    CHECK(r.line_count == 2);
    CHECK(describe(r) == "250 |a |b");
    CHECK(error_of("250-a\r\n251 b\r\n") == errc::reply_code_mismatch);
    CHECK(error_of("250-a\r\n550 b\r\n") == errc::reply_code_mismatch);
}

TEST_CASE("RFC 5321 4.2.1: with lenient_mixed_codes a reply of mixed codes takes its last line's "
          "code and status, flagged mixed_codes",
          "[reply_reader]") {
    smtpp::reply_reader_options lenient;
    lenient.lenient_mixed_codes = true;
    const std::string wire = "250-2.1.5 ok\r\n550-5.1.1 no\r\n551 5.1.6 moved\r\n250 next\r\n";
    CHECK(transcript(wire, lenient) ==
          std::vector<std::string>{"551 [5.1.6] |2.1.5 ok |5.1.1 no |5.1.6 moved", "250 |next",
                                   "idle"});
    check_split_grind(wire, lenient);
    smtpp::reply_reader reader(lenient);
    const smtpp::read_result mixed = reader.read("250-a\r\n451 4.3.0 b\r\n");
    REQUIRE(mixed.error == errc::ok);
    CHECK(mixed.reply.mixed_codes);
    CHECK(mixed.reply.status == enhanced_status{4, 3, 0});
    const smtpp::read_result same = reader.read("250-a\r\n250 b\r\n");
    REQUIRE(same.error == errc::ok);
    CHECK_FALSE(same.reply.mixed_codes);
    // A line without text leaves no status behind from an earlier line.
    const smtpp::read_result bare = reader.read("250-2.0.0 a\r\n550\r\n");
    REQUIRE(bare.error == errc::ok);
    CHECK(bare.reply.code == 550);
    CHECK(bare.reply.status.empty());
}

TEST_CASE("S-5321-4.2-c: a code alone, with or without a space, has empty text", "[reply_reader]") {
    for (std::string_view wire : {"250\r\n", "250 \r\n"}) {
        const smtpp::reply r = only_reply(wire);
        CHECK(r.code == 250);
        CHECK(r.line_count == 1);
        CHECK(r.text().empty());
    }
    CHECK(describe(only_reply("250-\r\n250\r\n")) == "250 | |");
}

TEST_CASE("S-5321-4.2-d: only the code decides; any text is acceptable", "[reply_reader]") {
    CHECK(only_reply("250 No way\r\n").kind() == smtpp::reply_class::positive_completion);
    CHECK(only_reply("550 OK\r\n").kind() == smtpp::reply_class::permanent_negative);
    // 8-bit octets are text too (UTF-8 under SMTPUTF8, RFC 6531 3.7.4); controls are not.
    CHECK(only_reply("250 \xff\xc3\xa9 \t any octets\r\n").code == 250);
}

TEST_CASE("S-5321-4.2 textstring: NUL, C0 controls and DEL in reply text stop the reader, "
          "or with lenient_control_characters mark the reply",
          "[reply_reader]") {
    smtpp::reply_reader_options lenient;
    lenient.lenient_control_characters = true;
    for (const std::string& control :
         {std::string(1, '\0'), std::string("\x1b[31m"), std::string("\x7f"), std::string("\x01"),
          std::string("\x08\x08\x08")}) {
        for (const std::string& wire :
             {"250 a" + control + "b\r\n", "250-first\r\n250 " + control + "\r\n",
              "250-" + control + "\r\n250 last\r\n"}) {
            INFO(smtpp_test::escape(wire));
            CHECK(error_of(wire) == errc::bad_reply_text);
            check_split_grind(wire);
            smtpp::reply_reader reader(lenient);
            const smtpp::read_result r = reader.read(wire);
            REQUIRE(r.error == errc::ok);
            CHECK(r.reply.code == 250);
            CHECK(r.reply.controls);
            check_split_grind(wire, lenient);
        }
    }
    // Tabs are text; a clean reply is not marked, nor is the one after a marked one.
    smtpp::reply_reader reader(lenient);
    std::string_view both = "250 a\tb\r\n250 c\x1b\r\n250 d\r\n";
    smtpp::read_result r = reader.read(both);
    CHECK((r.error == errc::ok && !r.reply.controls));
    both.remove_prefix(r.consumed);
    r = reader.read(both);
    CHECK((r.error == errc::ok && r.reply.controls));
    both.remove_prefix(r.consumed);
    r = reader.read(both);
    CHECK((r.error == errc::ok && !r.reply.controls));
    // A CR inside a line stays bare_cr, lenient or not.
    CHECK(error_of("250 a\rb\r\n", lenient) == errc::bare_cr);
}

TEST_CASE("S-5321-4.2-e: unknown codes are read by their first digit", "[reply_reader]") {
    CHECK(only_reply("299 x\r\n").kind() == smtpp::reply_class::positive_completion);
    CHECK(only_reply("471 x\r\n").kind() == smtpp::reply_class::transient_negative);
    CHECK(only_reply("599 x\r\n").kind() == smtpp::reply_class::permanent_negative);
    CHECK(only_reply("399 x\r\n").kind() == smtpp::reply_class::positive_intermediate);
    // Second digit 6-9 breaks the Reply-code ABNF: accepted, flagged.
    CHECK_FALSE(only_reply("299 x\r\n").standard_code);
    CHECK_FALSE(only_reply("261 x\r\n").standard_code);
    CHECK(only_reply("259 x\r\n").standard_code);
}

TEST_CASE("S-5321-4.2-f: a first digit outside 2-5 is a protocol error that stops the reader",
          "[reply_reader]") {
    for (std::string_view wire :
         {"600 x\r\n", "100 x\r\n", "000 x\r\n", "900\r\n", "250-a\r\n650 b\r\n"}) {
        INFO(wire);
        CHECK(error_of(wire) != errc::ok);
    }
    CHECK(error_of("600 x\r\n") == errc::bad_reply_code);
    CHECK(error_of("100 x\r\n") == errc::bad_reply_code);
    // The reader stops for good; the client session closes with this reason.
    CHECK_FALSE(smtpp::is_caller_error(errc::bad_reply_code));
}

TEST_CASE("RFC 5321 4.2: malformed reply lines are bad_reply_code", "[reply_reader]") {
    for (std::string_view wire :
         {"25\r\n", "2\r\n", "\r\n", "250x\r\n", "2500 x\r\n", "25a x\r\n", "abc\r\n", "250\tx\r\n",
          " 250 x\r\n", "HTTP/1.1 400 Bad Request\r\n", "250-a\r\n\r\n"}) {
        INFO(wire);
        CHECK(error_of(wire) == errc::bad_reply_code);
    }
}

TEST_CASE("S-5321-4.2-g: any command may get a multi-line reply", "[reply_reader]") {
    const smtpp::reply r = only_reply("250-a\r\n250-b\r\n250 2.1.5 c\r\n");
    CHECK(r.code == 250);
    CHECK(r.line_count == 3);
}

TEST_CASE("S-5321-4.2-h: a multi-line greeting is one reply", "[reply_reader]") {
    const smtpp::reply r = only_reply("220-mx.example ESMTP\r\n220 ready\r\n");
    CHECK(r.code == 220);
    CHECK(r.line_count == 2);
    CHECK(r.text() == "mx.example ESMTP");
}

TEST_CASE("S-2920-3.1-d: a multi-line reply is one reply, several replies in one read",
          "[reply_reader]") {
    CHECK(
        transcript("250-a\r\n250 b\r\n250 c\r\n550 5.1.1 d\r\n354 go\r\n") ==
        std::vector<std::string>{"250 |a |b", "250 |c", "550 [5.1.1] |5.1.1 d", "354 |go", "idle"});
}

TEST_CASE("S-5321-4.5.3.1.5-a: reply lines of 512 octets are read, longer ones refused",
          "[reply_reader]") {
    const std::string line512 = "250 " + std::string(506, 'x') + "\r\n";
    REQUIRE(line512.size() == 512);
    CHECK(only_reply(line512).text().size() == 506);
    CHECK(only_reply("250-" + std::string(506, 'x') + "\r\n" + line512).line_count == 2);
    const std::string line513 = "250 " + std::string(507, 'x') + "\r\n";
    CHECK(error_of(line513) == errc::reply_line_too_long);
    check_split_grind(line512);
    check_split_grind(line513);
}

TEST_CASE("S-5321-2.3.8-a: only CRLF ends a reply line; bare LF and CR are errors",
          "[reply_reader]") {
    CHECK(error_of("250 ok\n") == errc::bare_lf);
    CHECK(error_of("250-a\n250 b\r\n") == errc::bare_lf);
    CHECK(error_of("\n") == errc::bare_lf);
    CHECK(error_of("250 a\rb\r\n") == errc::bare_cr);
    CHECK(error_of("250 a\r\r\n") == errc::bare_cr);
    check_split_grind("250-a\n250 b\r\n");
    check_split_grind("250 a\rb\r\n");

    smtpp::reply_reader_options lenient;
    lenient.lenient_bare_lf = true;
    CHECK(transcript("250-a\n250 b\r\n250 c\n", lenient) ==
          std::vector<std::string>{"250 |a |b", "250 |c", "idle"});
    CHECK(error_of("250 a\rb\n", lenient) == errc::bare_cr);
    check_split_grind("250-a\n250 b\r\n250 c\n", lenient);
}

TEST_CASE("S-3463-2-a: the reader takes only well-formed enhanced status codes", "[reply_reader]") {
    CHECK(only_reply("550 5.1.10 x\r\n").status == enhanced_status{5, 1, 10});
    CHECK(only_reply("550 5.1.1\r\n").status == enhanced_status{5, 1, 1});
    for (std::string_view wire :
         {"550 5.01.1 x\r\n", "550 5. 1.1 x\r\n", "550 5.1.1000 x\r\n", "550 x 5.1.1\r\n",
          "550  5.1.1 x\r\n", "550\r\n", "550-5.1.1\r\n"}) {
        INFO(wire);
        smtpp::reply_reader reader;
        const smtpp::read_result r = reader.read(wire);
        CHECK(r.reply.status.empty());
    }
}

TEST_CASE("S-3463-2-b: class and subject are reported even for an unknown detail",
          "[reply_reader]") {
    const smtpp::reply r = only_reply("550 5.9.99 x\r\n");
    CHECK(r.status.cls == 5);
    CHECK(r.status.subject == 9);
    CHECK(r.status.detail == 99);
}

TEST_CASE("S-2034-4-b: a status whose class disagrees with the code is not reported",
          "[reply_reader]") {
    CHECK(only_reply("250 5.1.1 odd\r\n").status.empty());
    CHECK(only_reply("354 2.0.0 go ahead\r\n").status.empty());
    CHECK(only_reply("451 4.3.0 x\r\n").status == enhanced_status{4, 3, 0});
}

TEST_CASE("reply texts with and without the status code", "[reply_reader]") {
    CHECK(smtpp::strip_enhanced_status("5.7.1  see https://x.example") == "see https://x.example");
    CHECK(smtpp::strip_enhanced_status("5.01.1 x") == "5.01.1 x");
    CHECK(smtpp::strip_enhanced_status("2.0.0") == "");
    const smtpp::reply r = only_reply("550-5.7.1 first\r\n550 5.7.1 second\r\n");
    std::vector<std::string> texts;
    for (const std::string_view text : r.lines()) {
        texts.emplace_back(smtpp::strip_enhanced_status(text));
    }
    CHECK(texts == std::vector<std::string>{"first", "second"});
    CHECK(r.text() == "first");
    // A status whose class differs from the code's is no status: it stays in the text.
    CHECK(only_reply("250 5.0.0 odd\r\n").text() == "5.0.0 odd");
}

TEST_CASE("split grind: real server replies read the same however the bytes are cut",
          "[reply_reader][grind]") {
    for (std::string_view wire : corpus) check_split_grind(wire);
    std::string all;
    for (std::string_view wire : corpus) {
        if (wire.substr(wire.size() - 2) == "\r\n") all += wire;
    }
    const auto events = transcript(all);
    CHECK(events.back() == "idle");
    CHECK(events.size() > 25);
}

TEST_CASE("split grind: errors are found at the same place however the bytes are cut",
          "[reply_reader][grind]") {
    for (std::string_view wire :
         {"250-a\r\n251 b\r\n", "250 ok\r\n600 x\r\n", "250-a\r\n250-b\r\n2", "250 a\r\n\n",
          "250 a\r\nxyz\r\n250 b\r\n"}) {
        check_split_grind(wire);
    }
}

TEST_CASE("an endless line is cut off at the line limit, memory stays bounded",
          "[reply_reader][limits]") {
    smtpp::reply_reader reader;
    const std::string chunk(100, 'x');
    CHECK(reader.read("250 ").error == errc::need_more_data);
    errc error = errc::need_more_data;
    std::size_t fed = 4;
    while (error == errc::need_more_data && fed < 1000000) {
        error = reader.read(chunk).error;
        fed += chunk.size();
    }
    CHECK(error == errc::reply_line_too_long);
    CHECK(fed <= 512 + chunk.size()); // detected in the chunk that crossed the limit
    CHECK(reader.capacity() <= 512 * 128);
    CHECK(reader.read("250 ok\r\n").error == errc::reply_line_too_long); // sticky
    CHECK(reader.error() == errc::reply_line_too_long);
    reader.reset();
    CHECK(reader.read("250 ok\r\n").error == errc::ok);
}

TEST_CASE("an endless multi-line reply stops at max_lines, memory stays bounded",
          "[reply_reader][limits]") {
    smtpp::reply_reader reader;
    errc error = errc::need_more_data;
    std::size_t lines = 0;
    const std::string line = "250-" + std::string(506, 'y') + "\r\n";
    while (error == errc::need_more_data && lines < 100000) {
        error = reader.read(line).error;
        ++lines;
        CHECK(reader.capacity() <= 512 * 128);
    }
    CHECK(error == errc::too_many_reply_lines);
    CHECK(lines == 128);
    CHECK(reader.capacity() <= 512 * 128);

    // The same in one big read (zero-copy path), and a reply of exactly max_lines lines is fine.
    std::string big;
    for (int i = 0; i < 127; ++i) big += "250-x\r\n";
    CHECK(transcript(big + "250 x\r\n").front().size() > 0);
    CHECK(smtpp::reply_reader().read(big + "250 x\r\n").reply.line_count == 128);
    CHECK(error_of(big + "250-x\r\n250 x\r\n") == errc::too_many_reply_lines);

    smtpp::reply_reader_options small;
    small.max_lines = 3;
    CHECK(error_of("250-a\r\n250-b\r\n250-c\r\n250 d\r\n", small) == errc::too_many_reply_lines);
    CHECK(error_of("250-a\r\n250-b\r\n250 c\r\n", small) == errc::ok);
}

TEST_CASE("lifetime: whole replies are views into the input, split ones into the reader",
          "[reply_reader]") {
    const std::string wire = "250-a\r\n250 b\r\n221 bye\r\n";
    smtpp::reply_reader reader;
    smtpp::read_result r = reader.read(wire);
    REQUIRE(r.error == errc::ok);
    CHECK(r.reply.raw.data() == wire.data());
    CHECK(r.consumed == 14);
    r = reader.read(std::string_view(wire).substr(14));
    CHECK(r.reply.raw.data() == wire.data() + 14);
    CHECK_FALSE(reader.mid_reply());

    CHECK(reader.read("250-a\r\n25").error == errc::need_more_data);
    CHECK(reader.mid_reply());
    std::string rest = "0 b\r\n";
    r = reader.read(rest);
    REQUIRE(r.error == errc::ok);
    rest.assign("XXXXX"); // the reply no longer depends on the caller's bytes
    CHECK(r.reply.raw == "250-a\r\n250 b\r\n");
    CHECK(describe(r.reply) == "250 |a |b");
    CHECK_FALSE(reader.mid_reply());
}

TEST_CASE("the reader allocates nothing for whole replies", "[reply_reader][allocation]") {
    const std::string wire(corpus[1]);
    smtpp::reply_reader reader;
    std::size_t lines = 0;
    const std::size_t allocations = smtpp_test::allocations_during([&] {
        for (int i = 0; i < 100; ++i) {
            const smtpp::read_result r = reader.read(wire);
            for (std::string_view text : r.reply.lines()) lines += text.empty() ? 0 : 1;
        }
    });
    CHECK(allocations == 0);
    CHECK(lines == 1100);
}

TEST_CASE("the buffer for split replies is allocated once and reused",
          "[reply_reader][allocation]") {
    smtpp::reply_reader reader;
    CHECK(reader.read("250-first line\r\n250 se").error == errc::need_more_data);
    CHECK(reader.read("cond\r\n").error == errc::ok);
    const std::size_t allocations = smtpp_test::allocations_during([&] {
        for (int i = 0; i < 100; ++i) {
            CHECK(reader.read("250-first line\r\n250 se").error == errc::need_more_data);
            CHECK(reader.read("cond\r\n").error == errc::ok);
        }
    });
    CHECK(allocations == 0);
}

TEST_CASE("set_options: new limits between replies, refused mid-reply, buffer kept bounded",
          "[reply_reader]") {
    smtpp::reply_reader_options big;
    big.line_limit = 12288; // an AUTH challenge (RFC 4954 4)
    smtpp::reply_reader reader(big);
    const std::string challenge = "334 " + std::string(10000, 'Q') + "\r\n";
    CHECK(reader.read(std::string_view(challenge).substr(0, 5000)).error == errc::need_more_data);
    smtpp::reply_reader_options small;      // 512-octet lines
    CHECK_FALSE(reader.set_options(small)); // half a reply held: refused
    CHECK(reader.options().line_limit == 12288);
    const smtpp::read_result r = reader.read(std::string_view(challenge).substr(5000));
    REQUIRE(r.error == errc::ok);
    CHECK(r.reply.raw == challenge);
    CHECK(reader.set_options(small));
    CHECK(reader.capacity() <= small.line_limit * small.max_lines);
    const std::string long_line = "250 " + std::string(600, 'x') + "\r\n";
    CHECK(reader.read(long_line).error == errc::reply_line_too_long); // the new limit applies
}
