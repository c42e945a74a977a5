// smtpp fuzz support: see client_wire_check.hpp.
#include "client_wire_check.hpp"

#include <smtpp/command.hpp>

#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdio>

using namespace smtpp;
using smtpp_fuzz::escaped;

namespace smtpp_fuzz {
namespace {

bool is_base64_line(std::string_view s) {
    if (s.size() % 4 != 0) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '+' || c == '/' ||
                        (c == '=' && i + 2 >= s.size());
        if (!ok) return false;
    }
    return true;
}

} // namespace

void check_client_wire(std::string_view wire, std::deque<sent_body> bodies, bool cut_short) {
    std::size_t mail_commands = 0;
    command_options permissive;
    permissive.offer.size = permissive.offer.eight_bit_mime = permissive.offer.binarymime = true;
    permissive.offer.smtputf8 = permissive.offer.dsn = permissive.auth =
        permissive.allow_unknown_params = true;
    permissive.address.allow_utf8 = true;
    std::size_t pos = 0;
    std::string bdat_payload;
    while (pos < wire.size()) {
        const std::size_t crlf = wire.find("\r\n", pos);
        if (crlf == std::string_view::npos && cut_short) return; // a line half written, then closed
        if (crlf == std::string_view::npos) {
            std::fprintf(stderr, "client output ends without CRLF: \"%s\"\n",
                         escaped(wire.substr(pos)).c_str());
        }
        FUZZ_CHECK(crlf != std::string_view::npos);
        const std::string_view line = wire.substr(pos, crlf - pos);
        const bool clean = line.find('\r') == line.npos && line.find('\n') == line.npos;
        if (!clean)
            std::fprintf(stderr, "bare CR/LF in client line \"%s\"\n", escaped(line).c_str());
        FUZZ_CHECK(clean);
        pos = crlf + 2;
        const command_result r = parse_command(line, permissive);
        if (!r.ok()) {
            // findings/client_session-3.txt: HELO fallback with an address literal.
            if (r.cmd.kind == verb::helo && tolerated("client_session-3")) continue;
            const bool sasl = is_base64_line(line) || line == "*";
            if (!sasl) {
                std::fprintf(stderr, "client sent a bad command line \"%s\" (%s)\n",
                             escaped(line).c_str(), to_string(r.error));
            }
            FUZZ_CHECK(sasl);
            continue;
        }
        FUZZ_CHECK(line.size() + 2 <= 12288);
        if (r.cmd.kind == verb::data) {
            // The body follows only if it is the next one the caller sent in DATA mode and
            // the output holds it (the client sends it only after 354).
            std::string decoded;
            std::size_t p = pos;
            bool ended = false;
            while (true) {
                const std::size_t e = wire.find("\r\n", p);
                if (e == std::string_view::npos) break;
                std::string_view body_line = wire.substr(p, e - p);
                p = e + 2;
                if (body_line == ".") {
                    ended = true;
                    break;
                }
                if (!body_line.empty() && body_line[0] == '.') body_line.remove_prefix(1);
                decoded.append(body_line.data(), body_line.size());
                decoded += "\r\n";
            }
            if (!ended && cut_short) return; // the body was cut off by a close on error
            if (ended && !bodies.empty() && decoded == bodies.front().text) {
                // Stuffing check: no line of the wire body starts with a single dot.
                for (std::size_t q = pos; q < p - 3;) {
                    const std::size_t e = wire.find("\r\n", q);
                    if (wire[q] == '.') FUZZ_CHECK(e > q + 1 && wire[q + 1] == '.');
                    q = e + 2;
                }
                bodies.pop_front();
                pos = p;
            } else if (wire.substr(pos, 3) == ".\r\n") {
                pos += 3; // 354 after every RCPT failed: an empty message ends it (RFC 2920 3.1)
            }
            continue;
        }
        if (r.cmd.kind == verb::mail || r.cmd.kind == verb::rset || r.cmd.kind == verb::quit) {
            // Chunks without BDAT LAST: a refused chunk ended the message. Without PIPELINING
            // the caller may have ended this transaction's body already, its last chunk (at
            // most the closing CRLF) waiting for that reply (RFC 3030 2): it never completed.
            const bool held_back =
                !bdat_payload.empty() && !bodies.empty() &&
                bodies.front().transaction + 1 == mail_commands &&
                bodies.front().text.compare(0, bdat_payload.size(), bdat_payload) == 0 &&
                bodies.front().text.size() - bdat_payload.size() <= 2;
            if (held_back) bodies.pop_front();
            bdat_payload.clear();
        }
        if (r.cmd.kind == verb::mail) ++mail_commands;
        if (r.cmd.kind == verb::bdat) {
            if (pos + r.cmd.bdat_size > wire.size()) { // chunk cut off by a close on error
                FUZZ_CHECK(cut_short);
                return;
            }
            bdat_payload.append(wire.substr(pos, static_cast<std::size_t>(r.cmd.bdat_size)));
            pos += static_cast<std::size_t>(r.cmd.bdat_size);
            if (r.cmd.bdat_last) {
                if (bodies.empty() || bodies.front().text != bdat_payload) {
                    std::fprintf(stderr, "BDAT payload \"%s\" is not the next body sent \"%s\"\n",
                                 escaped(bdat_payload).c_str(),
                                 bodies.empty() ? "(none)" : escaped(bodies.front().text).c_str());
                }
                FUZZ_CHECK(!bodies.empty() && bodies.front().text == bdat_payload);
                bodies.pop_front();
                bdat_payload.clear();
            }
        }
    }
    if (!bodies.empty() && !cut_short) {
        std::fprintf(stderr, "%zu body/bodies never reached the wire, next: \"%s\"\n",
                     bodies.size(), escaped(bodies.front().text).c_str());
    }
    FUZZ_CHECK(bodies.empty() || cut_short);
}

} // namespace smtpp_fuzz
