// Fuzz target: server_session (include/smtpp/server_session.hpp) driven like an event loop.
//
// Input: byte 0 and byte 1 choose the server_config (see config_from); everything after them
// is what the client sends. The input's trailing octets are read a second time, from the end,
// as the caller's choices: copying receive() or receive_in_place(), piece sizes,
// accept/reject/reply/challenge/deferral of
// each decision, partial consume_output() sizes, tls_established(true/false) or EOF at a
// tls_handshake, an optional shutdown().
// Invariants:
//  - the session terminates: after receive_eof() it reaches `closed` without asking for data,
//    and no loop of events runs forever;
//  - every octet it ever outputs forms well-formed replies: CRLF-terminated lines, no other
//    CR/LF, a 2xx-5xx code (second digit 0-5) then SP, '-' or end of line, one code per
//    multi-line reply, at most limits.reply_line octets per line, printable ASCII/HT text;
//  - no message is delivered that the reference decoder would not deliver: the body of each
//    DATA message_end equals, octet for octet, the plain reference unstuffing of the input
//    from right after some "DATA" line, ending at the first CRLF "." CRLF (never LF.LF, CR.CR,
//    ...), later in the input than the previous message; a BDAT message_end's body is the
//    concatenation of the payloads of BDAT commands found in the input, in order; sizes and the
//    8-bit / bare-line-ending flags match the body; a text body (DATA, or BDAT without
//    BODY=BINARYMIME) holds no bare CR, bare LF or NUL unless the leniency is on;
//  - a stored message holds exactly the chunks of its own transaction: the driver buffers
//    body_chunk events as the documentation tells an embedder to, dropping them only on
//    transaction_reset and after the final message_end, so any end of a transaction the
//    session does not report shows up as a body (and size) that does not match;
//  - API misuse is refused without effect: receive_in_place() while bytes are unread ->
//    invalid_state; accept() with no decision pending -> invalid_state; receive_in_place()
//    after closed -> connection_closed, receive() -> 0;
//  - a copying receive() at need_data takes at least one octet (the session has room);
//  - heap_bytes() stays within a bound set by the limits, never growing with the input;
//  - after limits.auth_failures_before_disconnect refused (5xx) AUTH exchanges no AUTH
//    decision is asked again: the session has closed.
#include <smtpp/server_session.hpp>

#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace smtpp;
using smtpp_fuzz::escaped;

namespace {

server_config config_from(std::uint8_t a, std::uint8_t b) {
    server_config c;
    c.hostname = "mx.example.org";
    c.greeting_text = "ESMTP smtpp fuzz";
    c.lmtp = (a & 1u) != 0;
    c.offer.chunking = (a & 2u) != 0;
    c.offer.binarymime = c.offer.chunking && (a & 4u) != 0;
    c.offer.smtputf8 = (a & 8u) != 0;
    c.offer.dsn = (a & 16u) != 0;
    c.offer.starttls = (a & 32u) != 0;
    if ((a & 64u) != 0) c.auth_mechanisms = "PLAIN LOGIN CRAM-MD5";
    c.offer.pipelining = (a & 128u) == 0;
    c.require_tls = (b & 1u) != 0;
    c.require_auth = (b & 2u) != 0;
    c.plaintext_auth_requires_tls = (b & 4u) == 0;
    c.lenient_bare_lf_commands = (b & 8u) != 0;
    c.lenient_space_after_colon = (b & 16u) != 0;
    c.lenient_bare_line_endings = (b & 32u) != 0;
    if ((b & 64u) != 0) { // small limits: every limit reachable with a small input
        c.limit.recipients = 2;
        c.limit.errors_before_disconnect = 3;
        c.limit.message_size = min_message_size_limit;
        c.limit.output_buffer = 256;
        c.limit.auth_line = 512;
    }
    c.offer.enhanced_status_codes = (b & 128u) == 0;
    c.tls_active = (b & 128u) != 0 && (a & 32u) == 0;
    return c;
}

bool ieq_prefix(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char x = s[i];
        if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
        if (x != prefix[i]) return false;
    }
    return true;
}

// ---- the reference DATA decoder: lines split at CRLF only, "." CRLF ends, a leading dot
// is removed. Returns false when the input holds no end of data after `start`.
bool reference_unstuff(std::string_view in, std::size_t start, std::string& body,
                       std::size_t& end) {
    body.clear();
    std::size_t pos = start;
    for (;;) {
        const std::size_t crlf = in.find("\r\n", pos);
        if (crlf == std::string_view::npos) return false;
        std::string_view line = in.substr(pos, crlf - pos);
        if (line == ".") {
            end = crlf + 2;
            return true;
        }
        if (!line.empty() && line[0] == '.') line.remove_prefix(1);
        body.append(line.data(), line.size());
        body += "\r\n";
        pos = crlf + 2;
    }
}

// Positions right after a "DATA" command line (any case, trailing SP/HT, CRLF or, when bare
// LF ends commands, LF). Not anchored at line starts: a superset keeps the check sound.
std::vector<std::size_t> data_starts(std::string_view in, bool lf_ends) {
    std::vector<std::size_t> out;
    for (std::size_t p = 0; p + 4 < in.size(); ++p) {
        if (!ieq_prefix(in.substr(p), "DATA")) continue;
        std::size_t q = p + 4;
        while (q < in.size() && (in[q] == ' ' || in[q] == '\t')) ++q;
        if (q + 1 < in.size() + 0 && in[q] == '\r' && in[q + 1] == '\n')
            out.push_back(q + 2);
        else if (lf_ends && q < in.size() && in[q] == '\n')
            out.push_back(q + 1);
    }
    return out;
}

// "BDAT" SP 1*DIGIT [SP "LAST"] *(SP/HT) CRLF (or LF) at `p`: payload offset and size.
bool parse_bdat_at(std::string_view in, std::size_t p, bool lf_ends, std::size_t& payload,
                   std::uint64_t& n) {
    if (!ieq_prefix(in.substr(p), "BDAT ")) return false;
    std::size_t q = p + 5;
    n = 0;
    const std::size_t digits = q;
    while (q < in.size() && in[q] >= '0' && in[q] <= '9') {
        if (n > 1000000) return false;
        n = n * 10 + static_cast<std::uint64_t>(in[q] - '0');
        ++q;
    }
    if (q == digits) return false;
    if (ieq_prefix(in.substr(q), " LAST")) q += 5;
    while (q < in.size() && (in[q] == ' ' || in[q] == '\t')) ++q;
    if (q + 1 < in.size() && in[q] == '\r' && in[q + 1] == '\n')
        payload = q + 2;
    else if (lf_ends && q < in.size() && in[q] == '\n')
        payload = q + 1;
    else
        return false;
    return true;
}

// Is `body` the concatenation of BDAT payloads found in the input at or after `from`, each
// BDAT command starting at a line start, right after an earlier payload, or at `from`?
// A search over (input position, body offset) states, bounded in work.
bool reference_bdat(std::string_view in, std::size_t from, std::string_view body, bool lf_ends,
                    std::size_t& end) {
    std::set<std::pair<std::size_t, std::size_t>> seen;
    std::vector<std::pair<std::size_t, std::size_t>> todo;
    auto push = [&](std::size_t p, std::size_t o) {
        if (p <= in.size() && seen.insert({p, o}).second) todo.push_back({p, o});
    };
    push(from, 0);
    for (std::size_t p = from; p < in.size(); ++p) {
        if (in[p] == '\n') push(p + 1, 0);
    }
    std::size_t work = 0;
    while (!todo.empty()) {
        if (++work > 200000) return true; // too expensive to decide: do not flag
        const auto [p, o] = todo.back();
        todo.pop_back();
        std::size_t payload = 0;
        std::uint64_t n = 0;
        if (parse_bdat_at(in, p, lf_ends, payload, n)) {
            if (payload + n <= in.size()) {
                const std::string_view chunk = in.substr(payload, static_cast<std::size_t>(n));
                push(payload + chunk.size(), o); // a refused chunk: consumed, not delivered
                if (body.substr(o, chunk.size()) == chunk && o + chunk.size() <= body.size()) {
                    if (o + chunk.size() == body.size()) {
                        end = payload + chunk.size();
                        return true;
                    }
                    push(payload + chunk.size(), o + chunk.size());
                }
            }
        }
        const std::size_t lf = in.find('\n', p);
        if (lf != std::string_view::npos) push(lf + 1, o); // some other command line
    }
    return body.empty();
}

bool has_8bit(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) >= 0x80) return true;
    return false;
}

bool has_bare_ending_or_nul(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\0') return true;
        if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) return true;
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return true;
    }
    return false;
}

// The whole output: well-formed replies only.
void check_output(std::string_view out, std::size_t reply_line) {
    int code = -1; // code of the reply in progress (after a '-' line), else -1
    std::size_t pos = 0;
    while (pos < out.size()) {
        const std::size_t crlf = out.find("\r\n", pos);
        if (crlf == std::string_view::npos) {
            std::fprintf(stderr, "output ends without CRLF: \"%s\"\n",
                         escaped(out.substr(pos)).c_str());
        }
        FUZZ_CHECK(crlf != std::string_view::npos);
        const std::string_view line = out.substr(pos, crlf - pos);
        bool ok = line.size() >= 3 && line.size() + 2 <= reply_line && line[0] >= '2' &&
                  line[0] <= '5' && line[1] >= '0' && line[1] <= '5' && line[2] >= '0' &&
                  line[2] <= '9' && (line.size() == 3 || line[3] == ' ' || line[3] == '-');
        for (std::size_t i = 3; ok && i < line.size(); ++i) {
            const auto c = static_cast<unsigned char>(line[i]);
            ok = (c >= 0x20 && c < 0x7f) || c == '\t';
        }
        if (ok) {
            const int c = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
            ok = code < 0 || c == code;
            code = line.size() > 3 && line[3] == '-' ? c : -1;
        }
        if (!ok) std::fprintf(stderr, "bad reply line: \"%s\"\n", escaped(line).c_str());
        FUZZ_CHECK(ok);
        pos = crlf + 2;
    }
    if (code >= 0) std::fprintf(stderr, "output ends inside a multi-line reply\n");
    FUZZ_CHECK(code < 0);
}

class driver {
public:
    driver(const server_config& config, std::string_view input, smtpp_fuzz::fuzz_input& choices)
        : cfg_(config), session_(config), input_(input), in_(choices),
          data_starts_(data_starts(input, config.lenient_bare_lf_commands)) {}

    void run() {
        copy_ = (in_.take_u8() & 1u) != 0;
        const std::uint8_t shutdown_choice = in_.take_u8();
        // Octets >= 0xf0 are rare in transcripts: only they ask for a shutdown() mid-session.
        const std::size_t shutdown_at =
            shutdown_choice >= 0xf0 ? 2u + 3u * (shutdown_choice - 0xf0u) : SIZE_MAX;
        const std::size_t max_steps = 20000 + 64 * input_.size();
        std::size_t steps = 0;
        for (;;) {
            FUZZ_CHECK(++steps < max_steps); // no endless event loop
            if (steps == shutdown_at) session_.shutdown();
            check_memory();
            const server_event ev = session_.next_event();
            if (!handle(ev)) break;
            maybe_consume();
        }
        consume_all();
        check_output(wire_, cfg_.limit.reply_line);
        // Closed for good.
        FUZZ_CHECK(session_.is_closed());
        FUZZ_CHECK(session_.next_event().kind == server_event_kind::closed);
        FUZZ_CHECK(session_.receive_in_place("NOOP\r\n") == errc::connection_closed);
        FUZZ_CHECK(session_.receive("NOOP\r\n") == 0);
        if (std::getenv("SMTPP_FUZZ_VERBOSE") != nullptr) {
            std::printf("delivered %zu message(s); server said:\n%s\n", delivered_, wire_.c_str());
        }
    }

private:
    void check_memory() {
        const limits& l = cfg_.limit;
        // Two output blocks of up to output_buffer each, the copied input, line tails.
        const std::size_t input = copy_ ? l.input_buffer : 0;
        const std::size_t bound = 4 * l.output_buffer + input + 2 * l.auth_line + 8 * 2048 + 16384;
        if (session_.heap_bytes() > bound) {
            std::fprintf(stderr, "heap_bytes %zu > %zu\n", session_.heap_bytes(), bound);
        }
        FUZZ_CHECK(session_.heap_bytes() <= bound);
    }

    // Writes every queued octet, one pending_output() block after the other.
    void consume_all() {
        while (session_.pending_output_size() != 0) consume(session_.pending_output().size());
    }

    void consume(std::size_t n) {
        const std::string_view pending = session_.pending_output();
        if (n > pending.size()) n = pending.size();
        wire_.append(pending.data(), n);
        session_.consume_output(n);
    }

    void maybe_consume() {
        const std::size_t pending = session_.pending_output().size();
        if (pending == 0) return;
        const std::uint8_t how = in_.take_u8();
        if (how < 160)
            consume(pending);
        else if (how < 224)
            consume(in_.take_range(0, pending));
        // else: leave it for later (a slow reader)
    }

    // `check_refusal`: false between STARTTLS's 220 and tls_established(), where the session
    // takes (and drops) whatever it is given.
    bool feed_next_piece(bool check_refusal = true) {
        if (pos_ >= input_.size()) return false;
        std::size_t n = in_.take_range(1, 128);
        if (in_.empty()) n = input_.size() - pos_;
        if (n > input_.size() - pos_) n = input_.size() - pos_;
        const std::string_view piece = input_.substr(pos_, n);
        if (copy_) {
            const std::size_t taken = session_.receive(piece);
            FUZZ_CHECK(taken > 0);
            pos_ += taken;
            return true;
        }
        const errc e = session_.receive_in_place(piece);
        FUZZ_CHECK(e == errc::ok);
        pos_ += n;
        // Feeding again before the session read anything is refused and changes nothing.
        if (check_refusal && (in_.take_u8() & 15u) == 0)
            FUZZ_CHECK(session_.receive_in_place("RSET\r\n") == errc::invalid_state);
        return true;
    }

    // Returns false once the session is closed.
    bool handle(const server_event& ev) {
        using k = server_event_kind;
        switch (ev.kind) {
        case k::need_data:
            FUZZ_CHECK(!eof_); // after EOF the session must finish on its own
            if ((in_.take_u8() & 31u) == 0) FUZZ_CHECK(session_.accept() == errc::invalid_state);
            if (!feed_next_piece()) {
                session_.receive_eof();
                eof_ = true;
            }
            return true;
        case k::output_full:
            consume(in_.take_range(1, session_.pending_output().size()));
            return true;
        case k::awaiting_decision:
            FUZZ_CHECK(deferred_);
            deferred_ = false;
            answer(deferred_kind_, true);
            return true;
        case k::tls_handshake: {
            consume_all();
            const std::uint8_t how = in_.take_u8();
            if (how < 16 && !eof_) {
                // Plaintext sent after STARTTLS's 220 must be dropped, never executed.
                if (!feed_next_piece(false)) {
                    session_.receive_eof();
                    eof_ = true;
                }
            } else if (how < 24) {
                session_.receive_eof();
                eof_ = true;
            } else {
                FUZZ_CHECK(session_.tls_established(how >= 40) == errc::ok);
            }
            return true;
        }
        case k::closed:
            return false;
        case k::body_chunk:
            FUZZ_CHECK(!ev.data.empty());
            body_.append(ev.data.data(), ev.data.size());
            return true;
        case k::transaction_reset:
            body_.clear();
            return true;
        case k::protocol_error:
            FUZZ_CHECK(ev.error != errc::ok);
            FUZZ_CHECK(ev.reply_code == 0 || (ev.reply_code >= 400 && ev.reply_code <= 559));
            return true;
        case k::mail:
            mail_binary_ = ev.cmd->body == body_type::binary_mime;
            break;
        case k::auth:
            FUZZ_CHECK(cfg_.limit.auth_failures_before_disconnect == 0 ||
                       auth_refused_ < cfg_.limit.auth_failures_before_disconnect);
            break;
        case k::message_end:
            check_message(ev);
            // The transaction ends with the one reply (SMTP) or the last recipient's (LMTP).
            if (!cfg_.lmtp || ev.recipient_index + 1 >= ev.recipient_count) body_.clear();
            break;
        default:
            break;
        }
        FUZZ_CHECK(is_decision(ev.kind));
        if (ev.kind == k::hello || ev.kind == k::mail || ev.kind == k::rcpt || ev.kind == k::vrfy ||
            ev.kind == k::expn || ev.kind == k::help) {
            FUZZ_CHECK(ev.cmd != nullptr && ev.cmd->line.size() <= 12288);
        }
        const std::uint8_t how = in_.take_u8();
        if (how >= 248) {
            deferred_ = true;
            deferred_kind_ = ev.kind;
            return true;
        }
        answer(ev.kind, false);
        return true;
    }

    void answer(server_event_kind kind, bool after_defer) {
        using k = server_event_kind;
        const std::uint8_t how = in_.take_u8();
        errc e = errc::ok;
        if (how < 176 || after_defer) {
            e = session_.accept();
        } else if (how < 208) {
            static constexpr std::uint16_t codes[] = {450, 451, 452, 550, 551,
                                                      552, 553, 554, 421, 521};
            const std::uint16_t code = codes[how % 10];
            const enhanced_status status{static_cast<std::uint8_t>(code / 100), 7, 1};
            e = session_.reject(code, (how & 1u) ? status : enhanced_status{},
                                "Refused by the fuzz policy");
            if (e == errc::invalid_argument)
                e = session_.accept();
            else if (kind == k::auth && code >= 500)
                ++auth_refused_;
        } else if (how < 232) {
            std::uint16_t code = 250;
            if (kind == k::connect || kind == k::starttls)
                code = 220;
            else if (kind == k::data)
                code = 354;
            else if (kind == k::auth)
                code = 235;
            else if (kind == k::vrfy || kind == k::expn)
                code = 252;
            else if (kind == k::help)
                code = 214;
            const std::string_view lines[] = {"mx.example.org first line", "second line",
                                              "third line"};
            if ((how & 1u) != 0)
                e = session_.reply(code, {}, lines, 1 + how % 3);
            else
                e = session_.reply(code, {}, "mx.example.org custom reply");
            if (e == errc::invalid_argument) e = session_.accept();
        } else if (kind == k::auth) {
            e = session_.challenge((how & 1u) ? std::string_view("challenge\0x", 11)
                                              : std::string_view());
        } else {
            e = session_.accept();
        }
        FUZZ_CHECK(e == errc::ok);
    }

    void check_message(const server_event& ev) {
        if (ev.recipient_index != 0) return; // LMTP: the same body again
        FUZZ_CHECK(ev.size == body_.size());
        FUZZ_CHECK(ev.eight_bit == has_8bit(body_));
        if (!ev.chunked) {
            if (!cfg_.lenient_bare_line_endings) FUZZ_CHECK(!has_bare_ending_or_nul(body_));
            FUZZ_CHECK(ev.bare_line_ending == has_bare_ending_or_nul(body_));
            std::string reference;
            bool matched = false;
            for (std::size_t start : data_starts_) {
                if (start < min_start_) continue;
                std::size_t end = 0;
                if (reference_unstuff(input_, start, reference, end) && reference == body_) {
                    matched = true;
                    min_start_ = end;
                    break;
                }
            }
            if (!matched) {
                std::fprintf(stderr, "delivered DATA body \"%s\" matches no reference decoding\n",
                             escaped(body_).c_str());
            }
            FUZZ_CHECK(matched);
        } else {
            if (mail_binary_) {
                FUZZ_CHECK(!ev.bare_line_ending);
            } else {
                if (!cfg_.lenient_bare_line_endings) FUZZ_CHECK(!has_bare_ending_or_nul(body_));
                FUZZ_CHECK(ev.bare_line_ending == has_bare_ending_or_nul(body_));
            }
            std::size_t end = 0;
            const bool matched =
                reference_bdat(input_, min_start_, body_, cfg_.lenient_bare_lf_commands, end);
            if (!matched) {
                std::fprintf(stderr, "delivered BDAT body \"%s\" matches no BDAT payloads\n",
                             escaped(body_).c_str());
            }
            FUZZ_CHECK(matched);
        }
        delivered_ += 1;
    }

    server_config cfg_;
    server_session session_;
    std::string_view input_;
    smtpp_fuzz::fuzz_input& in_;
    std::vector<std::size_t> data_starts_;
    std::size_t pos_ = 0;
    std::size_t min_start_ = 0;
    std::size_t delivered_ = 0;
    bool eof_ = false;
    bool copy_ = false; // receive() copies; otherwise receive_in_place()
    bool deferred_ = false;
    bool mail_binary_ = false; // the transaction's MAIL had BODY=BINARYMIME
    std::size_t auth_refused_ = 0;
    server_event_kind deferred_kind_ = server_event_kind::need_data;
    std::string body_;
    std::string wire_;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const server_config config = config_from(data[0], data[1]);
    if (config.validate() != errc::ok) return 0;
    const std::string_view client(reinterpret_cast<const char*>(data) + 2, size - 2);
    smtpp_fuzz::fuzz_input choices(data + 2, size - 2);
    driver d(config, client, choices);
    d.run();
    return 0;
}
