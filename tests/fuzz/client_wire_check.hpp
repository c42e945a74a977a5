// smtpp fuzz support: checks a client's whole output stream (commands, DATA bodies, BDAT
// chunks). In its own translation unit so the client-side targets need not include
// command.hpp next to client_session.hpp (see findings/client_config-1.txt).
#ifndef SMTPP_FUZZ_CLIENT_WIRE_CHECK_HPP
#define SMTPP_FUZZ_CLIENT_WIRE_CHECK_HPP

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

namespace smtpp_fuzz {

// A body the caller completed (end_body() returned ok), and the 0-based index of the MAIL
// command of its transaction among the MAIL commands on the wire (any_transaction: unknown).
struct sent_body {
    static constexpr std::size_t any_transaction = static_cast<std::size_t>(-1);
    std::string text;
    std::size_t transaction = any_transaction;
};

// Aborts unless `wire` is CRLF-terminated lines with no other CR/LF, each a command that
// parse_command accepts (every extension offered) or a SASL response (strict base64 or "*");
// a DATA line may be followed by a dot-stuffed body ending at CRLF "." CRLF, BDAT lines by
// exactly their octets; `bodies` (CRLF-normalised text or raw binary, in the order they were
// completed) must all appear, in order: each DATA body decodes to, and each BDAT LAST
// series concatenates to, the next one. The one exception: without PIPELINING a body ended
// while a chunk of it awaited its reply holds its last chunk back (RFC 3030 2); if that chunk
// is refused, the body's transaction ends without BDAT LAST and the body is not on the wire.
// `cut_short`: the session closed on an error and dropped its unsent output, so the last line
// may be incomplete (and later bodies missing).
void check_client_wire(std::string_view wire, std::deque<sent_body> bodies, bool cut_short);

} // namespace smtpp_fuzz

#endif // SMTPP_FUZZ_CLIENT_WIRE_CHECK_HPP
