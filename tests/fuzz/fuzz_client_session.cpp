// Fuzz target: client_session (include/smtpp/client_session.hpp) against arbitrary server
// bytes, driven like an event loop.
//
// Input: byte 0 and byte 1 choose the client_config (see config_from); the rest is what the
// server sends. The input's trailing octets are read a second time, from the end, as the
// caller's choices: copying receive() or receive_in_place(), piece sizes, envelopes (sender,
// recipients, DSN, content kind), message bodies (fixed tricky bodies and slices of the input),
// auth answers, TLS/EOF, how much output is written. Invariants:
//  - the session terminates: after receive_eof() it reaches `closed` without waiting for
//    server data, and no loop of events runs forever;
//  - everything it sends is well-formed: CRLF-terminated lines with no other CR/LF that
//    parse_command accepts (or SASL responses: strict base64 or "*"); after a DATA line
//    either commands follow or the body, dot-stuffed, ending at CRLF "." CRLF and decoding
//    (reference decoder) to exactly the CRLF-normalised body the caller handed over; BDAT
//    chunks carry exactly their declared octets and concatenate to that body; bodies appear
//    in the order they were sent, none missing;
//  - results are consistent: recipient_result/message_result success only with a 2yz reply
//    (the class RFC 5321 4.3.2 lets complete RCPT, the final dot and BDAT LAST: never a 3yz),
//    temporary/permanent with 4xx/5xx (or no reply), views inside reply.raw; each names a
//    transaction already started (send_body the one in progress);
//  - with auth_requires_tls, no AUTH command leaves before TLS (every configured mechanism
//    carries a credential);
//  - no reply answers a command not handed out yet (RFC 5321 4.2): each RCPT reply has a
//    RCPT line in what pending_output() handed out, each successful message an end of data.
#include <smtpp/client_session.hpp>

#include "client_wire_check.hpp"
#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

using namespace smtpp;
using smtpp_fuzz::escaped;

namespace {

client_config config_from(std::uint8_t a, std::uint8_t b) {
    client_config c;
    c.helo_name = (a & 1u) != 0 ? "[192.0.2.1]" : "client.example.com";
    c.lmtp = (a & 2u) != 0;
    c.use_pipelining = (a & 4u) == 0;
    c.use_chunking = (a & 8u) != 0;
    c.use_8bitmime = (a & 16u) == 0;
    c.use_smtputf8 = (a & 32u) == 0;
    c.use_dsn = (a & 64u) == 0;
    c.use_size = (a & 128u) == 0;
    static constexpr tls_mode modes[] = {tls_mode::never, tls_mode::opportunistic,
                                         tls_mode::required, tls_mode::implicit};
    c.tls = modes[b & 3u];
    switch ((b >> 2) & 3u) {
    case 1:
        c.auth_mechanisms = {"PLAIN"};
        break;
    case 2:
        c.auth_mechanisms = {"LOGIN"};
        break;
    case 3:
        c.auth_mechanisms = {"XFUZZ", "PLAIN"};
        break;
    default:
        break;
    }
    c.credentials.username = "alice";
    c.credentials.password = "secret";
    c.auth_requires_tls = (b & 16u) != 0;
    c.normalize_line_endings = (b & 32u) == 0;
    if ((b & 64u) != 0) c.limit.output_buffer = 512;
    return c;
}

constexpr std::string_view fixed_bodies[] = {
    "Subject: hi\r\n\r\nHello.\r\n",
    ".\r\n",
    "..\r\n.\r\n.x\r\n",
    "line\n.\nMAIL FROM:<evil@example.org>\n",
    "no final newline",
    "a\r\n.\r\nRSET\r\n",
    "bare\rcr\r",
    "",
    "caf\xc3\xa9\r\n",
    "nul\0byte",
};

class driver {
public:
    driver(const client_config& config, std::string_view input, smtpp_fuzz::fuzz_input& choices)
        : session_(config), input_(input), in_(choices),
          requires_tls_for_auth_(config.auth_requires_tls && !config.auth_mechanisms.empty()) {}

    void run() {
        copy_ = (in_.take_u8() & 1u) != 0;
        transactions_left_ = in_.take_range(0, 3);
        const std::size_t max_steps = 20000 + 64 * input_.size();
        std::size_t steps = 0;
        std::size_t idle_after_eof = 0;
        for (;;) {
            FUZZ_CHECK(++steps < max_steps);
            const client_event ev = session_.next_event();
            if (verbose_)
                std::fprintf(stderr, "event %s (code %d, error %s)\n", to_string(ev.kind),
                             ev.reply.code, to_string(ev.error));
            if (ev.kind == client_event_kind::closed) {
                closed_error_ = ev.error;
                break;
            }
            if (ev.kind == client_event_kind::need_data) {
                if (act_when_idle()) continue;
                if (eof_) {
                    // Nothing left for the caller to do and no more input: the session must
                    // not wait forever.
                    FUZZ_CHECK(++idle_after_eof < 3);
                }
            } else {
                idle_after_eof = 0;
            }
            handle(ev);
            maybe_consume();
        }
        consume_all();
        if (std::getenv("SMTPP_FUZZ_VERBOSE") != nullptr) {
            std::printf("%zu body/bodies sent; client said:\n%s\n", bodies_.size(), wire_.c_str());
        }
        smtpp_fuzz::check_client_wire(wire_, bodies_, closed_error_ != errc::ok);
        FUZZ_CHECK(session_.is_closed());
        FUZZ_CHECK(session_.next_event().kind == client_event_kind::closed);
    }

private:
    // Writes every queued octet, one pending_output() block after the other.
    void consume_all() {
        while (session_.pending_output_size() != 0) consume(hand_out().size());
    }

    // pending_output(), noting what was handed out: a reply may only answer a command in it.
    std::string_view hand_out() {
        const std::string_view pending = session_.pending_output();
        handed_.assign(wire_).append(pending.data(), pending.size());
        return pending;
    }

    // Line starts of `text` that begin with `prefix`.
    static std::size_t lines_starting(std::string_view text, std::string_view prefix) {
        std::size_t n = 0;
        for (std::size_t at = 0; at < text.size();) {
            if (text.compare(at, prefix.size(), prefix) == 0) ++n;
            const std::size_t lf = text.find('\n', at);
            if (lf == std::string_view::npos) break;
            at = lf + 1;
        }
        return n;
    }

    // RFC 5321 4.2: a reply follows the command it answers. Every accepted RCPT needs a RCPT
    // line handed out for it, every delivered message an end of data ("." or BDAT LAST). Body
    // octets can only add to these counts, never hide a missing command.
    void check_reply_was_asked_for(const client_event& ev) {
        if (ev.reply.code == 0 || ev.result != outcome::success)
            return; // failures may carry
                    // the reply that ended it
        if (ev.kind == client_event_kind::recipient_result) {
            ++rcpt_replies_;
            FUZZ_CHECK(lines_starting(handed_, "RCPT TO:") >= rcpt_replies_);
        }
        if (ev.kind == client_event_kind::message_result &&
            ev.transaction != last_final_transaction_) {
            last_final_transaction_ = ev.transaction;
            ++final_replies_;
            std::size_t ends = lines_starting(handed_, ".\r\n");
            for (std::size_t at = handed_.find(" LAST\r\n"); at != std::string::npos;
                 at = handed_.find(" LAST\r\n", at + 1))
                ++ends;
            FUZZ_CHECK(ends >= final_replies_);
        }
    }

    void consume(std::size_t n) {
        const std::string_view pending = hand_out();
        if (n > pending.size()) n = pending.size();
        if (requires_tls_for_auth_ && !session_.tls_active()) {
            const std::string_view sent = pending.substr(0, n);
            FUZZ_CHECK(sent.find("AUTH ") == std::string_view::npos);
        }
        wire_.append(pending.data(), n);
        session_.consume_output(n);
    }

    void maybe_consume() {
        const std::size_t pending = hand_out().size();
        if (pending == 0) return;
        const std::uint8_t how = in_.take_u8();
        if (how < 192)
            consume(pending);
        else
            consume(in_.take_range(0, pending));
    }

    // Caller-side work the session waits for (body pieces, a new transaction, QUIT).
    bool act_when_idle() {
        if (in_body_ && !body_blocked_) {
            send_some_body();
            return true;
        }
        if (session_.is_ready() && !quit_sent_) {
            start_transaction_or_quit();
            return true;
        }
        if (session_.pending_output_size() != 0) {
            consume_all();
            return true;
        }
        return false;
    }

    void start_transaction_or_quit() {
        if (transactions_left_ == 0) {
            FUZZ_CHECK(session_.quit() == errc::ok);
            quit_sent_ = true;
            return;
        }
        --transactions_left_;
        static constexpr std::string_view senders[] = {"alice@example.org",
                                                       "",
                                                       "j\xc3\xb6rg@b\xc3\xbc"
                                                       "cher.example",
                                                       "a@[192.0.2.1]",
                                                       "\"quoted name\"@example.org",
                                                       "bad address"};
        static constexpr std::string_view rcpts[] = {"bob@example.net", "carol@example.net",
                                                     "\xc3\xa9l\xc3\xa8ve@\xc3\xa9"
                                                     "cole.example",
                                                     "x@y"};
        recipient list[3];
        const std::size_t count = 1 + in_.take_range(0, 2);
        for (std::size_t i = 0; i < count; ++i) {
            list[i].address = rcpts[in_.take_u8() % 4];
            list[i].notify = in_.take_u8() & 15u;
            list[i].orcpt = in_.take_bool();
        }
        envelope e;
        e.sender = senders[in_.take_u8() % 6];
        e.recipients = list;
        e.recipient_count = count;
        static constexpr body_type contents[] = {body_type::unspecified, body_type::eight_bit_mime,
                                                 body_type::binary_mime};
        e.body = contents[in_.take_u8() % 3];
        e.size = in_.take_bool() ? in_.take_range(0, 100000) : 0;
        e.utf8_message = (in_.take_u8() & 7u) == 0;
        e.envid = in_.take_bool() ? "QQ314159" : "";
        content_ = e.body;
        errc r = session_.send_mail(e);
        if (r != errc::ok && r != errc::invalid_state) {
            // Refused before anything was queued (the session stays ready): send a plain one.
            static const recipient plain_rcpt{"bob@example.net"};
            envelope plain;
            plain.sender = "alice@example.org";
            plain.recipients = &plain_rcpt;
            plain.recipient_count = 1;
            content_ = plain.body;
            r = session_.send_mail(plain);
        }
        if (r != errc::ok) {
            FUZZ_CHECK(session_.quit() == errc::ok);
            quit_sent_ = true;
            return;
        }
        ++mails_sent_;
        {
            body_pieces_ = 1 + in_.take_range(0, 3);
            body_.clear();
            sent_any_ = false;
            fixed_trailing_cr_ = false;
        }
    }

    void send_some_body() {
        if (body_pieces_ == 0) {
            const errc e = session_.end_body();
            if (verbose_) std::fprintf(stderr, "end_body() -> %s\n", to_string(e));
            if (e == errc::ok) {
                bodies_.push_back(
                    {content_ == body_type::binary_mime ? body_ : smtpp_fuzz::normalise(body_),
                     mails_sent_ - 1});
                in_body_ = false;
            } else if (e == errc::bare_cr && !fixed_trailing_cr_) {
                // Bare line endings refused and the body ends in CR: complete the CRLF.
                fixed_trailing_cr_ = true;
                if (session_.send_body("\n") == errc::ok) body_ += '\n';
            } else {
                in_body_ = false;
            }
            return;
        }
        std::string_view piece;
        const std::uint8_t pick = in_.take_u8();
        if (pick < 160)
            piece = fixed_bodies[pick % 10];
        else
            piece = input_.substr(in_.take_range(0, input_.size()), in_.take_range(0, 64));
        const errc e = session_.send_body(piece);
        if (verbose_)
            std::fprintf(stderr, "send_body(%zu octets) -> %s\n", piece.size(), to_string(e));
        if (e == errc::output_full) {
            consume(hand_out().size());
            output_full_ = true;
            body_blocked_ = true; // wait for the next send_body event
            return;
        }
        if (e == errc::invalid_state) { // the server refused the message already
            in_body_ = false;
            return;
        }
        --body_pieces_;
        if (e == errc::ok) body_.append(piece.data(), piece.size());
    }

    void handle(const client_event& ev) {
        using k = client_event_kind;
        if (ev.reply.code != 0) {
            FUZZ_CHECK(ev.reply.code >= 200 && ev.reply.code <= 599);
            FUZZ_CHECK(!ev.reply.raw.empty());
            const std::string_view text = ev.reply.text();
            FUZZ_CHECK(text.empty() ||
                       (text.data() >= ev.reply.raw.data() &&
                        text.data() + text.size() <= ev.reply.raw.data() + ev.reply.raw.size()));
        }
        switch (ev.kind) {
        case k::need_data:
            if (pos_ < input_.size()) {
                std::size_t n = in_.take_range(1, 128);
                if (in_.empty() || n > input_.size() - pos_) n = input_.size() - pos_;
                const std::string_view piece = input_.substr(pos_, n);
                if (copy_) {
                    const std::size_t taken = session_.receive(piece);
                    FUZZ_CHECK(taken > 0 || session_.is_closed()); // need_data: there is room
                    pos_ += taken == 0 ? n : taken;
                } else {
                    const errc e = session_.receive_in_place(piece);
                    FUZZ_CHECK(e == errc::ok || e == errc::connection_closed);
                    pos_ += n;
                }
            } else if (!eof_) {
                session_.receive_eof();
                eof_ = true;
            }
            break;
        case k::tls_handshake:
            consume_all();
            if ((in_.take_u8() & 15u) == 0) {
                session_.receive_eof();
                eof_ = true;
            } else {
                FUZZ_CHECK(session_.tls_established() == errc::ok);
            }
            break;
        case k::auth_challenge:
            if (in_.take_bool())
                FUZZ_CHECK(session_.auth_respond(std::string_view("fuzz\0response", 13)) ==
                           errc::ok);
            else
                FUZZ_CHECK(session_.auth_cancel() == errc::ok);
            break;
        case k::recipient_result:
        case k::message_result:
            // Results name a transaction that was started, never one still to come.
            FUZZ_CHECK(ev.transaction != 0 && ev.transaction <= session_.last_transaction());
            check_reply_was_asked_for(ev);
            // Never a success without a positive reply; a 4xx/5xx reply is never a success; a
            // failure next to a positive reply (250 to DATA) says why (findings/client_session-1).
            if (ev.result == outcome::success)
                FUZZ_CHECK(ev.reply.code >= 200 && ev.reply.code < 300);
            if (ev.reply.code >= 400) FUZZ_CHECK(ev.result != outcome::success);
            if (ev.result != outcome::success && ev.reply.code >= 200 && ev.reply.code < 400)
                FUZZ_CHECK(ev.error != errc::ok);
            break;
        case k::send_body:
            FUZZ_CHECK(ev.transaction == session_.last_transaction());
            body_blocked_ = false;
            if (!in_body_ && !sent_any_) {
                in_body_ = true;
                sent_any_ = true;
            }
            // Write body pieces until the body ends or the session asks to drain output.
            while (in_body_ && !output_full_) send_some_body();
            output_full_ = false;
            break;
        case k::ready:
            if (!quit_sent_ && session_.is_ready()) start_transaction_or_quit();
            break;
        default:
            break;
        }
    }

    client_session session_;
    std::string_view input_;
    smtpp_fuzz::fuzz_input& in_;
    std::size_t pos_ = 0;
    bool eof_ = false;
    bool quit_sent_ = false;
    bool in_body_ = false;
    bool sent_any_ = false;
    bool fixed_trailing_cr_ = false;
    bool output_full_ = false;
    bool body_blocked_ = false;
    errc closed_error_ = errc::ok;
    std::size_t transactions_left_ = 0;
    std::size_t body_pieces_ = 0;
    body_type content_ = body_type::unspecified;
    bool copy_ = false; // receive() copies; otherwise receive_in_place()
    std::string body_;
    std::deque<smtpp_fuzz::sent_body> bodies_;
    std::size_t mails_sent_ = 0; // successful send_mail() calls: MAIL commands queued
    std::string wire_;
    std::string handed_;           // wire_ and the pending_output() last handed out
    std::size_t rcpt_replies_ = 0; // RCPTs accepted
    std::size_t final_replies_ = 0;
    std::uint32_t last_final_transaction_ = 0; // LMTP: several results, one end of data
    bool verbose_ = std::getenv("SMTPP_FUZZ_VERBOSE") != nullptr;
    bool requires_tls_for_auth_ = false;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const client_config config = config_from(data[0], data[1]);
    if (config.validate() != errc::ok) return 0;
    const std::string_view server(reinterpret_cast<const char*>(data) + 2, size - 2);
    smtpp_fuzz::fuzz_input choices(data + 2, size - 2);
    driver d(config, server, choices);
    d.run();
    return 0;
}
