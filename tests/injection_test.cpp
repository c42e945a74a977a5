// Command injection across STARTTLS (CVE-2011-0411, Postfix et al.; the 2021 "NO STARTTLS"
// findings): plaintext bytes pipelined after STARTTLS must never be executed after TLS.
#include <smtpp/server_session.hpp>

#include "session_helpers.hpp"
#include "smtpp_catch.hpp"

#include <string>
#include <string_view>

using smtpp::errc;
using kind = smtpp::server_event_kind;

namespace {

struct tls_driver {
    explicit tls_driver(const smtpp::server_config& c) : s(c) {}
    bool pump() { // true when tls_handshake was reached
        for (;;) {
            const smtpp::server_event ev = s.next_event();
            if (ev.kind == kind::tls_handshake) {
                drain();
                return true;
            }
            if (ev.kind == kind::need_data || ev.kind == kind::closed) break;
            if (ev.kind == kind::output_full) {
                drain();
                continue;
            }
            events += smtpp::to_string(ev.kind);
            events += ' ';
            if (smtpp::is_decision(ev.kind)) REQUIRE(s.accept() == errc::ok);
        }
        drain();
        return false;
    }
    void drain() {
        output.append(s.pending_output().data(), s.pending_output().size());
        s.consume_output(s.pending_output().size());
    }
    smtpp::server_session s;
    std::string output, events;
};

void check_injection(const std::string& injected) {
    smtpp::server_config c;
    c.hostname = "mx.example";
    c.offer.starttls = true;
    tls_driver d(c);
    d.pump();
    smtpp_test::give(d.s, "EHLO c.example\r\n");
    d.pump();
    const std::string packet = "STARTTLS\r\n" + injected; // receive() keeps a view: keep it alive
    smtpp_test::give(d.s, packet);
    REQUIRE(d.pump());
    d.output.clear();
    d.events.clear();
    REQUIRE(d.s.tls_established() == errc::ok);
    d.pump();
    INFO("after TLS: events " << d.events << " output " << d.output);
    CHECK(d.output.empty());
    CHECK(d.events.find("mail") == std::string::npos);
}

} // namespace

TEST_CASE("CVE-2011-0411: commands pipelined after STARTTLS are dropped, never answered after TLS",
          "[injection]") {
    check_injection("RSET\r\n");
    check_injection("MAIL FROM:<a@b.example>\r\n");
}
