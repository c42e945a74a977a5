#include <smtpp/error.hpp>

#include "smtpp_catch.hpp"

#include <system_error>

TEST_CASE("errc converts to std::error_code in the smtpp category") {
    std::error_code code = smtpp::errc::line_too_long;
    CHECK(code.category().name() == std::string("smtpp"));
    CHECK(code.message() == "line too long");
    CHECK(code == smtpp::errc::line_too_long);
    CHECK_FALSE(std::error_code(smtpp::errc::ok));
}

TEST_CASE("every errc value has its own text") {
    for (int v = 0; v <= static_cast<int>(smtpp::errc::invalid_config); ++v) {
        auto code = static_cast<smtpp::errc>(v);
        CHECK(std::string(smtpp::to_string(code)) != "unknown smtpp error");
    }
    CHECK(std::string(smtpp::to_string(static_cast<smtpp::errc>(9999))) == "unknown smtpp error");
}

TEST_CASE("is_fatal marks errors that end a session") {
    CHECK(smtpp::is_fatal(smtpp::errc::too_many_errors));
    CHECK(smtpp::is_fatal(smtpp::errc::connection_closed));
    CHECK_FALSE(smtpp::is_fatal(smtpp::errc::syntax_error));
    CHECK_FALSE(smtpp::is_fatal(smtpp::errc::ok));
}
