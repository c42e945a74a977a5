/// \file
/// smtpp: CHUNKING framing (RFC 3030 2): the server's chunk reader and the client's BDAT
/// command writer.
///
/// A BDAT chunk is exactly the declared number of octets, taken raw: no dot-stuffing, no line
/// rules, no end marker (RFC 3030 2). The reader counts them down and hands them out as views
/// into the caller's input; nothing allocates, copies or throws.
#ifndef SMTPP_BDAT_HPP
#define SMTPP_BDAT_HPP

#include <smtpp/detail/number.hpp>
#include <smtpp/macros.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

/// Server side: reads the octets of one BDAT chunk. A refused chunk must still be read to its
/// end before the error reply (RFC 3030 2), so the reader can also discard: it then consumes
/// the same octets but hands none out.
///
///     bdat_reader reader(cmd.bdat_size, /*discard=*/refused);
///     while (!in.empty() && !reader.done()) {
///         const auto r = reader.read(in);
///         store(r.chunk);
///         in.remove_prefix(r.consumed);
///     }
class bdat_reader {
public:
    /// What one read() took and handed out.
    struct result {
        std::size_t consumed = 0; ///< input octets used: min(input size, octets still due)
        std::string_view chunk;   ///< the chunk octets among them (a view into the input, valid
                                  ///< as long as it is); empty when discarding
        bool done = false;        ///< every declared octet has been read
    };

    bdat_reader() noexcept = default;

    /// Starts reading a chunk of `size` octets (a chunk of 0 octets is done at once).
    explicit bdat_reader(std::uint64_t size, bool discard = false) noexcept
        : remaining_(size), size_(size), discard_(discard) {}

    /// Starts over with a new chunk of `size` octets, as the constructor does.
    void start(std::uint64_t size, bool discard = false) noexcept {
        *this = bdat_reader(size, discard);
    }

    /// From now on, consume the rest of the chunk without handing it out (the chunk was
    /// refused after reading began).
    void discard() noexcept { discard_ = true; }

    /// Takes up to the remaining chunk octets from the start of `in`. Never fails.
    [[nodiscard]] result read(std::string_view in) noexcept {
        const std::size_t take =
            remaining_ < in.size() ? static_cast<std::size_t>(remaining_) : in.size();
        remaining_ -= take;
        return {take, discard_ ? std::string_view() : in.substr(0, take), remaining_ == 0};
    }

    /// True once every declared octet has been read.
    [[nodiscard]] bool done() const noexcept { return remaining_ == 0; }
    /// True when the chunk is consumed without being handed out.
    [[nodiscard]] bool discarding() const noexcept { return discard_; }
    /// Octets of the chunk still to be read.
    [[nodiscard]] std::uint64_t remaining() const noexcept { return remaining_; }
    /// The chunk's declared size.
    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

private:
    std::uint64_t remaining_ = 0;
    std::uint64_t size_ = 0;
    bool discard_ = false;
};

/// The text of one `BDAT <size>[ LAST]\r\n` command, built in place (no allocation).
struct bdat_command {
    static constexpr std::size_t capacity = 32; ///< "BDAT " + 20 digits + " LAST" + CRLF = 32
    char text[capacity] = {}; ///< the command, `length` octets, not NUL-terminated
    std::size_t length = 0;   ///< octets used in `text`

    /// The command as a view into `text`, valid as long as this object.
    [[nodiscard]] constexpr std::string_view view() const noexcept {
        return std::string_view(text, length);
    }
};

/// Client side: the command announcing a chunk of `size` octets, `last` for the final chunk
/// (RFC 3030 2). The chunk octets follow it unchanged.
[[nodiscard]] constexpr bdat_command make_bdat_command(std::uint64_t size, bool last) noexcept {
    bdat_command command;
    const auto put = [&](std::string_view text) {
        for (const char c : text) command.text[command.length++] = c;
    };
    char digits[detail::max_decimal_digits] = {};
    put("BDAT ");
    put(detail::format_decimal(size, digits));
    put(last ? std::string_view(" LAST\r\n") : std::string_view("\r\n"));
    return command;
}

/// Appends `BDAT <size>[ LAST]\r\n` to `out` (anything with append(const char*, std::size_t)).
template <class Out>
void append_bdat_command(Out& out, std::uint64_t size, bool last) {
    const bdat_command command = make_bdat_command(size, last);
    out.append(command.text, command.length);
}

SMTPP_NAMESPACE_END

#endif // SMTPP_BDAT_HPP
