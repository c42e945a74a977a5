#include <smtpp/bdat.hpp>

#include "allocation_counter.hpp"
#include "smtpp_catch.hpp"
#include "split_grind.hpp"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using namespace std::string_view_literals;

namespace {

struct chunk_read {
    std::string octets;
    std::size_t consumed = 0;
    bool done = false;
};

chunk_read read_pieces(const std::vector<std::string_view>& pieces, std::uint64_t size,
                       bool discard = false) {
    smtpp::bdat_reader reader(size, discard);
    chunk_read out;
    out.done = reader.done();
    for (std::string_view piece : pieces) {
        if (out.done) break;
        const auto r = reader.read(piece);
        out.octets.append(r.chunk.data(), r.chunk.size());
        out.consumed += r.consumed;
        out.done = r.done;
        if (r.consumed < piece.size()) CHECK(r.done); // input is left over only after the end
    }
    return out;
}

std::string describe(const chunk_read& c) {
    return c.octets + "|" + std::to_string(c.consumed) + "|" + std::to_string(c.done);
}

} // namespace

TEST_CASE("S-3030-2-b: exactly the declared octets are taken raw, no stuffing, no line rules",
          "[bdat]") {
    const std::string_view after_command = ".\r\n.\nQUIT\r\n"sv;
    const auto c = read_pieces({after_command}, 5);
    CHECK(c.done);
    CHECK(c.octets == ".\r\n.\n");
    CHECK(c.consumed == 5);
    const auto divergent = smtpp_test::first_divergent_split(
        after_command,
        [](const std::vector<std::string_view>& p) { return describe(read_pieces(p, 5)); });
    CHECK(divergent == -1);
}

TEST_CASE(
    "S-3030-2-d: a refused chunk is still read to its declared end, then the next command follows",
    "[bdat]") {
    const std::string_view after_command = "helloNOOP\r\n"sv;
    smtpp::bdat_reader reader(5, true);
    CHECK(reader.discarding());
    const auto r = reader.read(after_command);
    CHECK(r.consumed == 5);
    CHECK(r.chunk.empty());
    CHECK(r.done);
    CHECK(after_command.substr(r.consumed) == "NOOP\r\n");

    // Refused after reading began: the rest is consumed, not handed out.
    smtpp::bdat_reader late(6);
    CHECK(late.read("abc").chunk == "abc");
    late.discard();
    const auto rest = late.read("defRSET\r\n");
    CHECK(rest.consumed == 3);
    CHECK(rest.chunk.empty());
    CHECK(rest.done);
}

TEST_CASE("S-3030-2-f: chunks in flight after a failure are consumed by their own counts",
          "[bdat]") {
    // BDAT 3 refused; its octets, then the pipelined `BDAT 2 LAST` line for the command parser.
    const std::string_view stream = "abcBDAT 2 LAST\r\nde"sv;
    smtpp::bdat_reader reader(3, true);
    const auto r = reader.read(stream);
    CHECK(r.consumed == 3);
    CHECK(stream.substr(r.consumed) == "BDAT 2 LAST\r\nde");
    // The command parser takes the line; the second chunk (also refused) is read by its count.
    smtpp::bdat_reader second(2, true);
    const auto r2 = second.read(stream.substr(r.consumed + 13));
    CHECK(r2.consumed == 2);
    CHECK(r2.done);
}

TEST_CASE("S-3030-2-c: BDAT 0 is done at once and takes nothing", "[bdat]") {
    smtpp::bdat_reader reader(0);
    CHECK(reader.done());
    const auto r = reader.read("MAIL");
    CHECK(r.consumed == 0);
    CHECK(r.done);
    smtpp::bdat_reader idle;
    CHECK(idle.done());
}

TEST_CASE("S-3030-3-d: every octet of binary data is preserved, in any pieces", "[bdat]") {
    std::mt19937 rng(3030);
    std::uniform_int_distribution<int> octet(0, 255);
    std::uniform_int_distribution<std::size_t> piece(1, 64);
    for (int round = 0; round < 200; ++round) {
        std::string data;
        for (int i = std::uniform_int_distribution<int>(0, 500)(rng); i > 0; --i) {
            data += static_cast<char>(octet(rng));
        }
        const std::string stream = data + "BDAT 1 LAST\r\n";
        std::vector<std::string_view> pieces;
        for (std::string_view rest = stream; !rest.empty();) {
            const std::size_t n = std::min(piece(rng), rest.size());
            pieces.push_back(rest.substr(0, n));
            rest.remove_prefix(n);
        }
        const auto c = read_pieces(pieces, data.size());
        CHECK(c.done);
        CHECK(c.octets == data);
        CHECK(c.consumed == data.size());
    }
}

TEST_CASE("bdat_reader counts 64-bit sizes", "[bdat]") {
    const std::uint64_t huge = (std::uint64_t{1} << 40) + 3;
    smtpp::bdat_reader reader;
    reader.start(huge);
    CHECK(reader.size() == huge);
    const auto r = reader.read("0123456789");
    CHECK(r.consumed == 10);
    CHECK_FALSE(r.done);
    CHECK(reader.remaining() == huge - 10);
}

TEST_CASE("S-3030-2-a: the client writes BDAT <size>[ LAST] CRLF", "[bdat]") {
    CHECK(smtpp::make_bdat_command(0, true).view() == "BDAT 0 LAST\r\n");
    CHECK(smtpp::make_bdat_command(86, true).view() == "BDAT 86 LAST\r\n");
    CHECK(smtpp::make_bdat_command(100000, false).view() == "BDAT 100000\r\n");
    const auto biggest = smtpp::make_bdat_command(UINT64_MAX, true);
    CHECK(biggest.view() == "BDAT 18446744073709551615 LAST\r\n");
    CHECK(biggest.length == smtpp::bdat_command::capacity);
    static_assert(smtpp::make_bdat_command(7, false).view() == "BDAT 7\r\n", "constexpr");
    std::string out = "x";
    smtpp::append_bdat_command(out, 42, false);
    CHECK(out == "xBDAT 42\r\n");
}

TEST_CASE("bdat codecs never allocate", "[bdat][alloc]") {
    std::size_t consumed = 0;
    std::size_t length = 0;
    const auto count = smtpp_test::allocations_during([&] {
        smtpp::bdat_reader reader(4);
        consumed = reader.read("abcdef").consumed;
        length = smtpp::make_bdat_command(123, true).length;
    });
    CHECK(count == 0);
    CHECK(consumed == 4);
    CHECK(length == 15); // "BDAT 123 LAST\r\n"
}
