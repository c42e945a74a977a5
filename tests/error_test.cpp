#include <smtpp/error.hpp>

#include "smtpp_catch.hpp"

#include <set>
#include <string>
#include <system_error>

namespace {

// Every value of every range: the first value of a range, then on until the texts stop.
std::set<int> every_value() {
    std::set<int> values;
    for (const int first : {0, 1, 100, 200, 300}) {
        for (int v = first;
             std::string(smtpp::to_string(static_cast<smtpp::errc>(v))) != "unknown smtpp error";
             ++v)
            values.insert(v);
    }
    return values;
}

} // namespace

TEST_CASE("errc converts to std::error_code in the smtpp category", "[error]") {
    std::error_code code = smtpp::errc::line_too_long;
    CHECK(code.category().name() == std::string("smtpp"));
    CHECK(code.message() == "line too long");
    CHECK(code == smtpp::errc::line_too_long);
    CHECK_FALSE(std::error_code(smtpp::errc::ok));
}

TEST_CASE("every errc value has its own text, and no text is shared", "[error]") {
    const std::set<int> values = every_value();
    // The last enumerator of each range has a text: nothing was left out at the end.
    for (const smtpp::errc last : {smtpp::errc::output_full, smtpp::errc::control_in_attribute,
                                   smtpp::errc::timed_out, smtpp::errc::invalid_reply_text}) {
        CHECK(values.count(static_cast<int>(last)) == 1);
    }
    std::set<std::string> texts;
    for (const int v : values) texts.insert(smtpp::to_string(static_cast<smtpp::errc>(v)));
    CHECK(texts.size() == values.size());
    CHECK(values.size() == 76);
    CHECK(std::string(smtpp::to_string(static_cast<smtpp::errc>(9999))) == "unknown smtpp error");
}

TEST_CASE("the ranges: flow, protocol, session ended, caller misuse", "[error]") {
    for (const int v : every_value()) {
        const auto code = static_cast<smtpp::errc>(v);
        INFO(smtpp::to_string(code));
        CHECK(smtpp::is_fatal(code) == (v >= 200 && v < 300));
        CHECK(smtpp::is_caller_error(code) == (v >= 300 && v < 400));
    }
    CHECK(smtpp::is_fatal(smtpp::errc::too_many_errors));
    CHECK(smtpp::is_fatal(smtpp::errc::connection_closed));
    CHECK(smtpp::is_fatal(smtpp::errc::timed_out));
    CHECK_FALSE(smtpp::is_fatal(smtpp::errc::syntax_error));
    CHECK_FALSE(smtpp::is_fatal(smtpp::errc::ok));
    CHECK(smtpp::is_caller_error(smtpp::errc::invalid_state));
    CHECK_FALSE(smtpp::is_caller_error(smtpp::errc::output_full));
}
