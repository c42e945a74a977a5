// Fuzz target: a client_session and a server_session wired back to back in memory (h11
// style). The input generates mail transactions (senders, recipients, bodies with dots, bare
// line endings, 8-bit and NUL octets, split into pieces) and picks both sides' configurations
// (SMTP/LMTP, PIPELINING, CHUNKING/BINARYMIME, SMTPUTF8, DSN, STARTTLS, AUTH PLAIN) and how
// the bytes are cut on their way from one side to the other. The server accepts everything.
// Invariants:
//  - every transaction the client reports as delivered (message_result success) was received
//    by the server application with the same sender, the same recipients in order and the
//    same body: the CRLF-normalised text the caller handed over (raw for binary), and the
//    server delivers nothing the client did not report as delivered;
//  - the conversation ends: the client closes after QUIT with error ok, no endless loop;
//  - the client's whole output passes the same wire check as in fuzz_client_session.
#include <smtpp/client_session.hpp>

#include "client_wire_check.hpp"
#include "fuzz_support.hpp"
#include "pair_server.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <set>
#include <string>
#include <string_view>
#include <vector>

using namespace smtpp;
using smtpp_fuzz::escaped;

namespace {

struct transaction {
    std::string sender;
    std::vector<std::string> recipients;
    std::vector<std::string> pieces;
    body_type content = body_type::unspecified;
};

constexpr std::string_view senders[] = {"alice@example.org", "",
                                        "j\xc3\xb6rg@b\xc3\xbc"
                                        "cher.example",
                                        "a@[192.0.2.1]", "\"quoted name\"@example.org"};
constexpr std::string_view rcpts[] = {"bob@example.net", "carol@example.net",
                                      "\xc3\xa9l\xc3\xa8ve@\xc3\xa9"
                                      "cole.example",
                                      "Postmaster@example.net"};
constexpr std::string_view tricky[] = {
    ".\r\n", "..\r\n", "\r\n.\r\n", "\n.\n", "\r.\r",
    "x\r",   "\n",     ".",         "\r\n",  "MAIL FROM:<evil@example.org>\r\n"};

class pair {
public:
    pair(const std::uint8_t* data, std::size_t size) : in_(data, size) {}

    void run() {
        // Configurations.
        const std::uint8_t a = in_.take_u8();
        const std::uint8_t b = in_.take_u8();
        smtpp_fuzz::pair_server_options so;
        so.lmtp = (a & 1u) != 0;
        so.chunking = (a & 2u) != 0;
        so.binarymime = (a & 4u) != 0;
        so.pipelining = (a & 8u) == 0;
        so.smtputf8 = (a & 16u) != 0;
        so.dsn = (a & 32u) != 0;
        so.starttls = (a & 64u) != 0;
        so.auth_plain = (a & 128u) != 0;
        client_config cc;
        cc.lmtp = so.lmtp;
        cc.use_pipelining = (b & 1u) == 0;
        cc.use_chunking = (b & 2u) != 0;
        cc.tls = (b & 4u) != 0 ? tls_mode::opportunistic : tls_mode::never;
        if (so.auth_plain && (b & 8u) != 0) cc.auth_mechanisms = {"PLAIN"};
        cc.credentials.username = "alice";
        cc.credentials.password = "secret";
        cc.auth_requires_tls = false;
        cc.normalize_line_endings = (b & 16u) == 0;
        max_cut_ = (b & 32u) != 0 ? 7 : 4096;
        // Transactions.
        const std::size_t count = in_.take_range(0, 3);
        for (std::size_t t = 0; t < count; ++t) {
            transaction x;
            x.sender = std::string(senders[in_.take_u8() % 5]);
            const std::size_t n = 1 + in_.take_range(0, 2);
            for (std::size_t i = 0; i < n; ++i) x.recipients.emplace_back(rcpts[in_.take_u8() % 4]);
            const std::size_t pieces = in_.take_range(0, 4);
            for (std::size_t i = 0; i < pieces; ++i) {
                if (in_.take_bool())
                    x.pieces.emplace_back(tricky[in_.take_u8() % 10]);
                else
                    x.pieces.emplace_back(in_.take_some(80));
            }
            static constexpr body_type contents[] = {
                body_type::unspecified, body_type::eight_bit_mime, body_type::binary_mime};
            x.content = contents[in_.take_u8() % 3];
            transactions_.push_back(std::move(x));
        }
        smtpp_fuzz::pair_server server(so);
        client_session client(cc);
        server_ = &server;
        client_ = &client;
        loop();
    }

private:
    void shuttle() {
        // client -> server, possibly cut into small pieces
        std::string copy;
        while (client_->pending_output_size() != 0) {
            const std::string_view out = client_->pending_output();
            copy.append(out.data(), out.size());
            client_->consume_output(out.size());
        }
        wire_ += copy;
        std::string_view rest = copy;
        while (!rest.empty()) {
            const std::size_t n = std::min<std::size_t>(
                rest.size(), in_.empty() ? rest.size() : in_.take_range(1, max_cut_));
            server_->receive(rest.substr(0, n));
            rest.remove_prefix(n);
        }
        server_open_ = server_->run();
        to_client_ += server_->take_output();
        // The client copies what fits (limits.input_buffer); the rest waits for its next
        // need_data, after the events that make room.
        std::size_t given = 0;
        while (given < to_client_.size() && !client_->is_closed()) {
            const std::size_t left = to_client_.size() - given;
            const std::size_t n =
                std::min<std::size_t>(left, in_.empty() ? left : in_.take_range(1, max_cut_));
            const std::size_t taken =
                client_->receive(std::string_view(to_client_).substr(given, n));
            given += taken;
            if (taken < n) break;
        }
        to_client_.erase(0, given);
        if (!server_open_ && !eof_sent_ && to_client_.empty()) {
            eof_sent_ = true;
            client_->receive_eof();
        }
    }

    void start_next() {
        if (next_ >= transactions_.size()) {
            if (!quit_sent_) {
                FUZZ_CHECK(client_->quit() == errc::ok);
                quit_sent_ = true;
            }
            return;
        }
        const transaction& x = transactions_[next_++];
        std::vector<recipient> list;
        for (const std::string& r : x.recipients) list.emplace_back(r);
        envelope e;
        e.sender = x.sender;
        e.recipients = list.data();
        e.recipient_count = list.size();
        e.body = x.content;
        if (client_->send_mail(e) != errc::ok) {
            start_next(); // refused up front (no event, nothing sent): try the next one
            return;
        }
        current_ = &x;
        accepted_body_.clear();
        piece_ = 0;
        ended_ = false;
        need_lf_ = tried_lf_ = false;
    }

    void send_body() {
        while (current_ != nullptr && !ended_) {
            if (piece_ < current_->pieces.size()) {
                const std::string& p = current_->pieces[piece_];
                const errc e = client_->send_body(p);
                if (verbose_)
                    std::fprintf(stderr, "send_body(\"%s\") -> %s\n", escaped(p).c_str(),
                                 to_string(e));
                if (e == errc::output_full) return; // a send_body event follows
                if (e == errc::invalid_state) {
                    ended_ = true;
                    return;
                }
                if (e == errc::ok) accepted_body_ += p;
                ++piece_;
                continue;
            }
            if (need_lf_) { // refused trailing CR: complete the line, then end again
                const errc lf = client_->send_body("\n");
                if (lf == errc::output_full) return;
                if (lf == errc::ok) accepted_body_ += '\n';
                need_lf_ = false;
            }
            const errc e = client_->end_body();
            if (verbose_) std::fprintf(stderr, "end_body() -> %s\n", to_string(e));
            if (e == errc::bare_cr && !tried_lf_) {
                need_lf_ = tried_lf_ = true;
                continue;
            }
            ended_ = true;
            if (e == errc::ok) {
                expected_.push_back({current_->sender, current_->recipients,
                                     current_->content == body_type::binary_mime
                                         ? accepted_body_
                                         : smtpp_fuzz::normalise(accepted_body_)});
            }
        }
    }

    void loop() {
        const std::size_t max_steps = 200000;
        for (std::size_t steps = 0;; ++steps) {
            FUZZ_CHECK(steps < max_steps);
            const client_event ev = client_->next_event();
            if (verbose_ && steps < 60) {
                std::fprintf(stderr, "client event %s (reply %d, error %s), output %zu\n",
                             to_string(ev.kind), ev.reply.code, to_string(ev.error),
                             client_->pending_output().size());
            }
            using k = client_event_kind;
            switch (ev.kind) {
            case k::closed:
                finish(ev);
                return;
            case k::need_data:
                if (server_->tls_pending() && client_->pending_output().empty() &&
                    tls_client_done_) {
                    server_->establish_tls();
                    tls_client_done_ = false;
                }
                shuttle();
                if (!server_open_ && eof_sent_ && ++idle_ > 3) FUZZ_CHECK(false); // client hangs
                break;
            case k::tls_handshake:
                shuttle();
                FUZZ_CHECK(client_->tls_established() == errc::ok);
                tls_client_done_ = true;
                if (server_->tls_pending()) {
                    server_->establish_tls();
                    tls_client_done_ = false;
                }
                break;
            case k::ready:
                start_next();
                break;
            case k::send_body:
                send_body();
                break;
            case k::message_result:
                FUZZ_CHECK(ev.transaction != 0 && ev.transaction <= client_->last_transaction());
                if (ev.result == outcome::success) successful_.insert(ev.transaction);
                break;
            case k::auth_challenge:
                FUZZ_CHECK(client_->auth_cancel() == errc::ok);
                break;
            default:
                break;
            }
        }
    }

    void finish(const client_event& closed) {
        shuttle();
        server_->run();
        std::deque<smtpp_fuzz::sent_body> bodies;
        for (const expected_message& m : expected_)
            bodies.push_back({m.body, smtpp_fuzz::sent_body::any_transaction});
        smtpp_fuzz::check_client_wire(wire_, bodies, closed.error != errc::ok);
        const auto& got = server_->delivered();
        if (std::getenv("SMTPP_FUZZ_VERBOSE") != nullptr) {
            std::fprintf(
                stderr,
                "%zu transaction(s), %zu completed by the client, %zu reported delivered, %zu "
                "received by the server; closed: %s\n%s\n",
                transactions_.size(), expected_.size(), successful_.size(), got.size(),
                to_string(closed.error), wire_.c_str());
        }
        // The server application received exactly the messages whose bodies went out, with
        // their envelopes and bodies intact.
        if (got.size() > expected_.size()) {
            std::fprintf(stderr, "server delivered %zu messages, client completed %zu\n",
                         got.size(), expected_.size());
        }
        FUZZ_CHECK(got.size() <= expected_.size());
        std::size_t j = 0;
        for (const smtpp_fuzz::delivered_message& m : got) {
            // Skip completed bodies the server refused (the server accepts everything, so
            // only transactions whose MAIL/RCPT failed in the client's own checks).
            while (j < expected_.size() &&
                   !(expected_[j].sender == m.sender && expected_[j].body == m.body))
                ++j;
            if (j == expected_.size()) {
                std::fprintf(
                    stderr,
                    "server got sender \"%s\" body \"%s\" that the client never sent like that\n",
                    escaped(m.sender).c_str(), escaped(m.body).c_str());
            }
            FUZZ_CHECK(j < expected_.size());
            FUZZ_CHECK(m.recipients == expected_[j].recipients);
            ++j;
        }
        // Every transaction the client reports as delivered reached the server application.
        if (successful_.size() > got.size()) {
            std::fprintf(stderr, "client reports %zu delivered transactions, server got %zu\n",
                         successful_.size(), got.size());
        }
        FUZZ_CHECK(successful_.size() <= got.size());
        if (closed.error == errc::ok) FUZZ_CHECK(quit_sent_);
    }

    struct expected_message {
        std::string sender;
        std::vector<std::string> recipients;
        std::string body;
    };

    smtpp_fuzz::fuzz_input in_;
    std::vector<transaction> transactions_;
    std::size_t next_ = 0;
    const transaction* current_ = nullptr;
    std::string accepted_body_;
    std::size_t piece_ = 0;
    bool ended_ = false;
    bool need_lf_ = false;
    bool tried_lf_ = false;
    bool quit_sent_ = false;
    bool server_open_ = true;
    bool eof_sent_ = false;
    bool tls_client_done_ = false;
    std::size_t idle_ = 0;
    std::size_t max_cut_ = 4096;
    std::set<std::size_t> successful_; // transactions (by send order) with a success result
    std::deque<expected_message> expected_;
    std::string wire_;
    std::string to_client_; // server output the client has not taken yet
    bool verbose_ = std::getenv("SMTPP_FUZZ_VERBOSE") != nullptr;
    smtpp_fuzz::pair_server* server_ = nullptr;
    client_session* client_ = nullptr;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    pair p(data, size);
    p.run();
    return 0;
}
