// server_event: the tagged event struct and its helpers.
#include <smtpp/server_event.hpp>

#include "smtpp_catch.hpp"

#include <string>
#include <type_traits>

using kind = smtpp::server_event_kind;

TEST_CASE("server_event is a plain, trivially copyable struct with a default of need_data",
          "[server][event]") {
    STATIC_REQUIRE(std::is_trivially_copyable<smtpp::server_event>::value);
    const smtpp::server_event ev;
    CHECK(ev.kind == kind::need_data);
    CHECK(ev.error == smtpp::errc::ok);
    CHECK(ev.cmd == nullptr);
    CHECK(ev.data.empty());
}

TEST_CASE("is_decision() marks exactly the kinds that wait for an answer", "[server][event]") {
    const kind decisions[] = {kind::connect, kind::hello,       kind::mail,       kind::rcpt,
                              kind::data,    kind::message_end, kind::bdat_chunk, kind::vrfy,
                              kind::expn,    kind::help,        kind::starttls,   kind::auth};
    const kind others[] = {kind::need_data,         kind::output_full,   kind::awaiting_decision,
                           kind::tls_handshake,     kind::closed,        kind::body_chunk,
                           kind::transaction_reset, kind::protocol_error};
    for (const kind k : decisions) CHECK(smtpp::is_decision(k));
    for (const kind k : others) CHECK_FALSE(smtpp::is_decision(k));
}

TEST_CASE("every event kind has a distinct name", "[server][event]") {
    CHECK(std::string(smtpp::to_string(kind::need_data)) == "need_data");
    CHECK(std::string(smtpp::to_string(kind::protocol_error)) == "protocol_error");
    CHECK(std::string(smtpp::to_string(kind::message_end)) == "message_end");
    CHECK(std::string(smtpp::to_string(static_cast<kind>(200))) == "unknown");
}
