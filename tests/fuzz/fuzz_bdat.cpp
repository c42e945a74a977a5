// Fuzz target: bdat.hpp (RFC 3030 chunk reader and BDAT command writer), together with
// parse_command reading back what the writer wrote.
//
// Input: a stream of chunks. For each chunk a trailing octet pair gives its declared size
// (0..1023) and flags (LAST, refused/discarding, discard() midway); the chunk octets are
// taken from the front and fed to bdat_reader in pieces chosen by further trailing octets.
// Invariants:
//  - the reader consumes exactly min(declared, available) octets, never more, across any
//    split; done() exactly when all declared octets were read; remaining() + consumed ==
//    declared; the chunks handed out concatenate to exactly the consumed input when not
//    discarding, and are empty when discarding;
//  - make_bdat_command / append_bdat_command write "BDAT <n>[ LAST]\r\n" (at most
//    bdat_command::capacity octets), and parse_command of that line without its CRLF gives
//    verb::bdat with the same size and LAST flag, for any 64-bit size.
#include <smtpp/bdat.hpp>
#include <smtpp/command.hpp>

#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

using namespace smtpp;

namespace {

void check_command(std::uint64_t size, bool last) {
    const bdat_command c = make_bdat_command(size, last);
    FUZZ_CHECK(c.length <= bdat_command::capacity);
    const std::string_view text = c.view();
    std::string appended;
    append_bdat_command(appended, size, last);
    FUZZ_CHECK(appended == text);
    FUZZ_CHECK(text.size() >= 2 && text.substr(text.size() - 2) == "\r\n");
    FUZZ_CHECK(text.find('\r') == text.size() - 2 && text.find('\n') == text.size() - 1);
    const command_result r = parse_command(text.substr(0, text.size() - 2), command_options{});
    FUZZ_CHECK(r.ok() && r.cmd.kind == verb::bdat);
    FUZZ_CHECK(r.cmd.bdat_size == size && r.cmd.bdat_last == last);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    smtpp_fuzz::fuzz_input in(data, size);
    // The writer over the whole 64-bit range: a size built from up to 8 trailing octets.
    std::uint64_t big = 0;
    const std::size_t width = in.take_range(0, 8);
    for (std::size_t i = 0; i < width; ++i) big = big << 8 | in.take_u8();
    check_command(big, (width & 1u) != 0);
    check_command(UINT64_MAX, true);

    while (!in.empty()) {
        const std::uint64_t declared = in.take_range(0, 1023);
        const std::uint8_t flags = in.take_u8();
        check_command(declared, (flags & 1u) != 0);
        const bool discard_from_start = (flags & 2u) != 0;
        const bool discard_midway = (flags & 4u) != 0;
        bdat_reader reader(declared, discard_from_start);
        FUZZ_CHECK(reader.size() == declared && reader.remaining() == declared);
        FUZZ_CHECK(reader.done() == (declared == 0));
        const std::string_view stream = in.take_some(1100);
        std::string chunks;
        std::size_t consumed = 0;
        bool discarding = discard_from_start;
        smtpp_fuzz::for_each_piece(stream, in, 64, [&](std::string_view piece) {
            if (reader.done()) return;
            if (discard_midway && !discarding && consumed * 2 >= declared) {
                reader.discard();
                discarding = true;
            }
            const std::uint64_t before = reader.remaining();
            const bdat_reader::result r = reader.read(piece);
            FUZZ_CHECK(r.consumed == (before < piece.size() ? before : piece.size()));
            FUZZ_CHECK(reader.remaining() == before - r.consumed);
            FUZZ_CHECK(r.done == reader.done() && r.done == (reader.remaining() == 0));
            FUZZ_CHECK(reader.discarding() == discarding);
            if (discarding) {
                FUZZ_CHECK(r.chunk.empty());
            } else {
                FUZZ_CHECK(r.chunk.data() == piece.data() && r.chunk.size() == r.consumed);
                chunks.append(r.chunk.data(), r.chunk.size());
            }
            consumed += r.consumed;
        });
        const std::size_t expected =
            declared < stream.size() ? static_cast<std::size_t>(declared) : stream.size();
        FUZZ_CHECK(consumed == expected);
        FUZZ_CHECK(reader.remaining() == declared - consumed);
        if (!discard_from_start && !discard_midway)
            FUZZ_CHECK(chunks == stream.substr(0, expected));
        else
            FUZZ_CHECK(stream.substr(0, chunks.size()) == chunks);
    }
    return 0;
}
