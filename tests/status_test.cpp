#include <smtpp/status.hpp>

#include "smtpp_catch.hpp"

#include <string>
#include <string_view>

namespace {

using smtpp::enhanced_status;

enhanced_status parsed(std::string_view text, std::size_t* length = nullptr) {
    enhanced_status s{9, 9, 9};
    const std::size_t n = smtpp::parse_enhanced_status(text, s);
    if (length != nullptr) *length = n;
    return s;
}

std::string text_of(enhanced_status s) { return std::string(smtpp::to_text(s).view()); }

} // namespace

TEST_CASE("S-5321-4.2-b: valid reply codes are 2-5, 0-5, 0-9", "[status]") {
    CHECK(smtpp::is_valid_reply_code(200));
    CHECK(smtpp::is_valid_reply_code(250));
    CHECK(smtpp::is_valid_reply_code(559));
    CHECK_FALSE(smtpp::is_valid_reply_code(199));
    CHECK_FALSE(smtpp::is_valid_reply_code(600));
    CHECK_FALSE(smtpp::is_valid_reply_code(261));
    CHECK_FALSE(smtpp::is_valid_reply_code(-250));
}

TEST_CASE("S-3463-2-a: enhanced status codes parse with 1-3 digit parts and no leading zeros",
          "[status]") {
    std::size_t n = 0;
    CHECK(parsed("5.1.10", &n) == enhanced_status{5, 1, 10});
    CHECK(n == 6);
    CHECK(parsed("2.0.0 Ok", &n) == enhanced_status{2, 0, 0});
    CHECK(n == 5);
    CHECK(parsed("4.999.999 x") == enhanced_status{4, 999, 999});
    CHECK(parsed("5.7.0") == enhanced_status{5, 7, 0});

    for (std::string_view bad :
         {"5.01.1", "5. 1.1", "5.1.1000", "5.1.01", "5.1000.1", "5.1", "5.1.", "5..1", "3.1.1",
          "1.0.0", "6.0.0", "05.1.1", "5.1.1x", "5.1.1.", "5.1.1\t", " 5.1.1", "5-1-1", "", "5"}) {
        INFO(bad);
        CHECK(parsed(bad, &n).empty());
        CHECK(n == 0);
    }
}

TEST_CASE("S-3463-2-b: class and subject are reported even when the detail is unknown",
          "[status]") {
    const enhanced_status s = parsed("5.9.99 unknown detail");
    CHECK(s.cls == 5);
    CHECK(s.subject == 9);
    CHECK(s.detail == 99);
    CHECK(smtpp::class_of(s.cls * 100) == smtpp::reply_class::permanent_negative);
}

TEST_CASE("RFC 3463 2: enhanced status codes format without leading zeros", "[status]") {
    CHECK(text_of({2, 0, 0}) == "2.0.0");
    CHECK(text_of({5, 7, 14}) == "5.7.14");
    CHECK(text_of({4, 999, 100}) == "4.999.100");
    CHECK(text_of({3, 0, 0}).empty());
    CHECK(text_of({5, 1000, 0}).empty());
    CHECK(text_of({}).empty());

    char small[5];
    CHECK(smtpp::format_enhanced_status({5, 1, 1}, small, sizeof small) == 5);
    CHECK(std::string_view(small, 5) == "5.1.1");
    CHECK(smtpp::format_enhanced_status({5, 1, 10}, small, sizeof small) == 0);

    static_assert(smtpp::to_text({5, 5, 1}).view() == "5.5.1", "usable at compile time");
}

TEST_CASE("RFC 3463 2: parse and format round-trip every valid code", "[status]") {
    for (int cls : {2, 4, 5}) {
        for (int subject : {0, 1, 9, 10, 99, 100, 999}) {
            for (int detail : {0, 7, 10, 120, 999}) {
                const enhanced_status s{static_cast<std::uint8_t>(cls),
                                        static_cast<std::uint16_t>(subject),
                                        static_cast<std::uint16_t>(detail)};
                std::size_t n = 0;
                CHECK(parsed(text_of(s), &n) == s);
                CHECK(n == text_of(s).size());
            }
        }
    }
}

TEST_CASE("S-3463-2-c: the RFC 5248 registry check", "[status]") {
    for (enhanced_status s : {enhanced_status{2, 0, 0},
                              {5, 1, 1},
                              {2, 1, 5},
                              {5, 1, 10},
                              {4, 2, 4},
                              {4, 3, 2},
                              {5, 3, 6},
                              {4, 4, 7},
                              {5, 5, 6},
                              {5, 6, 7},
                              {5, 6, 10},
                              {5, 7, 8},
                              {4, 7, 12},
                              {5, 7, 14},
                              {5, 7, 27},
                              {5, 7, 30}}) {
        INFO(text_of(s));
        CHECK(smtpp::is_registered(s));
    }
    for (enhanced_status s : {enhanced_status{5, 9, 99},
                              {5, 0, 1},
                              {5, 1, 11},
                              {5, 2, 5},
                              {4, 3, 7},
                              {4, 4, 8},
                              {5, 5, 7},
                              {5, 6, 11},
                              {5, 7, 31},
                              {3, 0, 0},
                              {}}) {
        INFO(text_of(s));
        CHECK_FALSE(smtpp::is_registered(s));
    }
}
