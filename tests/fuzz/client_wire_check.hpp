// smtpp fuzz support: checks a client's whole output stream (commands, DATA bodies, BDAT
// chunks). In its own translation unit so the client-side targets need not include
// command.hpp next to client_session.hpp (see findings/client_config-1.txt).
#ifndef SMTPP_FUZZ_CLIENT_WIRE_CHECK_HPP
#define SMTPP_FUZZ_CLIENT_WIRE_CHECK_HPP

#include <deque>
#include <string>
#include <string_view>

namespace smtpp_fuzz {

// Aborts unless `wire` is CRLF-terminated lines with no other CR/LF, each a command that
// parse_command accepts (every extension offered) or a SASL response (strict base64 or "*");
// a DATA line may be followed by a dot-stuffed body ending at CRLF "." CRLF, BDAT lines by
// exactly their octets; `bodies` (CRLF-normalised text or raw binary, in the order they were
// completed) must all appear, in order: each DATA body decodes to, and each BDAT LAST
// series concatenates to, the next one. `cut_short`: the session closed on an error and dropped
// its unsent output, so the last line may be incomplete (and later bodies missing).
void check_client_wire(std::string_view wire, std::deque<std::string> bodies, bool cut_short);

} // namespace smtpp_fuzz

#endif // SMTPP_FUZZ_CLIENT_WIRE_CHECK_HPP
