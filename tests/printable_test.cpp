// append_printable: peer text made safe to log (RFC 5321 4.2 textstring for what stays as it is).
#include <smtpp/printable.hpp>

#include "allocation_counter.hpp"
#include "smtpp_catch.hpp"

#include <random>
#include <string>
#include <string_view>

namespace {

std::string printable(std::string_view text) {
    std::string out;
    smtpp::append_printable(out, text);
    return out;
}

// The inverse, to show that nothing is lost or confused.
std::string unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\') {
            out += s[i];
        } else if (s[i + 1] == '\\') {
            out += '\\';
            ++i;
        } else {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 2, 2)), nullptr, 16));
            i += 3;
        }
    }
    return out;
}

} // namespace

TEST_CASE("append_printable: printable ASCII stays, everything else is \\xNN", "[printable]") {
    CHECK(printable("250 2.0.0 Ok: queued as 1234") == "250 2.0.0 Ok: queued as 1234");
    CHECK(printable(std::string_view("a\0b", 3)) == "a\\x00b");
    CHECK(printable("\x1b[2J\r\n\t\x7f") == "\\x1B[2J\\x0D\\x0A\\x09\\x7F");
    CHECK(printable("j\xC3\xB6rg \xC2\x9B") == "j\\xC3\\xB6rg \\xC2\\x9B"); // C1 CSI too
    CHECK(printable("C:\\temp") == "C:\\\\temp");
    CHECK(printable("") == "");
    std::string appended = "log: ";
    smtpp::append_printable(appended, "x\n");
    CHECK(appended == "log: x\\x0A");
}

TEST_CASE("append_printable: one printable line that reads back exactly, for any octets",
          "[printable]") {
    std::mt19937 random(5321);
    for (int round = 0; round < 2000; ++round) {
        std::string text(random() % 64, '\0');
        for (char& c : text) c = static_cast<char>(random() & 0xff);
        const std::string out = printable(text);
        for (const char c : out) CHECK((c >= 0x20 && c < 0x7f));
        CHECK(unescape(out) == text);
    }
}

TEST_CASE("append_printable allocates nothing when the output has room", "[printable]") {
    std::string out;
    out.reserve(256);
    CHECK(smtpp_test::allocations_during([&] { smtpp::append_printable(out, "a\x01\x02z"); }) == 0);
    CHECK(out == "a\\x01\\x02z");
}
