// SMTP smuggling through the server session: a fake end-of-data inside a message must never end
// it, and the bytes after the fake end must never become commands or a second message.
// Sources: SEC Consult "SMTP Smuggling" (Dec 2023); CVE-2023-51764 (Postfix),
// CVE-2023-51765 (Sendmail), CVE-2023-51766 (Exim). RFC 5321 4.1.1.4: only CRLF.CRLF ends DATA.
#include <smtpp/server_session.hpp>

#include "session_helpers.hpp"
#include "smtpp_catch.hpp"
#include "split_grind.hpp"

#include <string>
#include <string_view>

using smtpp::errc;
using smtpp::server_event;
using kind = smtpp::server_event_kind;

namespace {

struct smuggle_driver {
    explicit smuggle_driver(const smtpp::server_config& c) : s(c) {}
    void pump() {
        for (;;) {
            const server_event ev = s.next_event();
            if (ev.kind == kind::need_data || ev.kind == kind::closed ||
                ev.kind == kind::tls_handshake)
                break;
            if (ev.kind == kind::output_full) {
                drain();
                continue;
            }
            if (ev.kind == kind::body_chunk)
                body.append(ev.data.data(), ev.data.size());
            else {
                events += smtpp::to_string(ev.kind);
                events += ' ';
            }
            if (smtpp::is_decision(ev.kind)) REQUIRE(s.accept() == errc::ok);
        }
        drain();
    }
    void drain() {
        output.append(s.pending_output().data(), s.pending_output().size());
        s.consume_output(s.pending_output().size());
    }
    smtpp::server_session s;
    std::string output, events, body;
};

std::size_t count(const std::string& hay, std::string_view needle) {
    std::size_t n = 0;
    for (std::size_t i = hay.find(needle); i != std::string::npos; i = hay.find(needle, i + 1)) ++n;
    return n;
}

void check_variant(const std::string& fake_end, bool lenient, bool bytewise) {
    smtpp::server_config c;
    c.hostname = "mx.example";
    c.lenient_bare_line_endings = lenient;
    smuggle_driver d(c);
    d.pump();
    const std::string head =
        "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n";
    const std::string trick =
        "Subject: a\r\n\r\nbody" + fake_end +
        "MAIL FROM:<evil@b.example>\r\nRCPT TO:<v@y.example>\r\nDATA\r\nBDAT 5 LAST\r\nevil";
    const std::string input = head + trick + "\r\n.\r\n";
    if (bytewise) {
        for (const char ch : input) {
            smtpp_test::give(d.s, std::string_view(&ch, 1));
            d.pump();
        }
    } else {
        smtpp_test::give(d.s, input);
        d.pump();
    }
    INFO("events: " << d.events);
    INFO("output: " << d.output);
    const std::size_t data_at = d.events.find("data ");
    REQUIRE(data_at != std::string::npos);
    const std::string after = d.events.substr(data_at);
    CHECK(count(after, "mail ") == 0);
    CHECK(count(after, "rcpt ") == 0);
    CHECK(count(d.events, "data ") == 1);
    CHECK(count(d.events, "message_end") <= 1);
    CHECK(count(d.output, "354") == 1);
    std::string stripped = fake_end;
    for (std::size_t i = stripped.find("\r\n"); i != std::string::npos; i = stripped.find("\r\n"))
        stripped.erase(i, 2);
    const bool bare = stripped.find_first_of("\r\n") != std::string::npos;
    // Strict mode: a message with bare CR/LF is rejected at its real end, never accepted.
    if (!lenient && bare) CHECK(d.output.find("250 2.0.0") == std::string::npos);
    if (lenient) {
        CHECK(count(d.events, "message_end") == 1);
        CHECK(d.body.find("MAIL FROM:<evil@b.example>") != std::string::npos);
    }
}

} // namespace

TEST_CASE("SMTP smuggling (CVE-2023-51764/51765/51766): no fake end-of-data ends a message",
          "[smuggling]") {
    const char* const variants[] = {"\n.\n",       "\n.\r\n",    "\r\n.\n",     "\r.\r",
                                    "\r.\n",       "\n.\r",      "\r.\r\n",     "\r\n.\r",
                                    "\r\n.\r\r\n", "\r\n .\r\n", "\r\n.\t\r\n", "\r\n. \r\n"};
    for (const char* v : variants) {
        for (const bool lenient : {false, true}) {
            for (const bool bytewise : {false, true}) {
                INFO("variant index, lenient " << lenient << ", bytewise " << bytewise);
                check_variant(v, lenient, bytewise);
            }
        }
    }
    const std::string nul_variants[] = {std::string("\r\n\0.\r\n", 6),
                                        std::string("\r\n.\0\r\n", 6)};
    for (const auto& v : nul_variants)
        for (const bool bytewise : {false, true}) check_variant(v, false, bytewise);
}
