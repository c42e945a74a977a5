// smtpp examples: one SMTP/LMTP connection as the servers see it, independent of the event
// loop. The loop moves raw bytes (ciphertext once STARTTLS is done) in and out:
//
//   if (c.wants_input()) read some bytes, then c.input(bytes) (or c.input_eof())
//   write c.output() to the socket, then c.consumed(bytes_written)
//   if (c.finished()) close the socket
//
// Inside, a smtpp::server_session does the protocol, the policy below answers its decisions
// (accept everything, check AUTH credentials, store messages), and a tls_stream sits between
// the socket and the session after STARTTLS. Memory per connection stays bounded: the session
// stops reading while limits.output_buffer bytes are unsent, input is read in 16 KiB pieces
// only when the session has used the previous ones, ciphertext is buffered up to 20 KiB each
// way, and message bodies stream to disk. A connection waiting for a command with nothing to
// send gives its buffers back, so a drained idle one holds about 2 KiB (plus OpenSSL's own
// state, about 17 KiB, with TLS).
//
// The loop also asks deadline() now and then and calls expire() once it has passed (see
// waiting_for in context.hpp).
#ifndef SMTPP_EXAMPLES_CONNECTION_HPP
#define SMTPP_EXAMPLES_CONNECTION_HPP

#include "context.hpp"
#include "log.hpp"
#include "maildir.hpp"
#include "tls.hpp"

#include <smtpp/server_session.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtpp_examples {

// Compares without an early exit: the time taken depends on the lengths, not on the contents.
inline bool same_secret(std::string_view given, std::string_view expected) noexcept {
    unsigned diff = given.size() == expected.size() ? 0u : 1u;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const char g = i < given.size() ? given[i] : '\0';
        diff |= static_cast<unsigned char>(g ^ expected[i]);
    }
    return diff == 0;
}

class mail_connection {
public:
    using clock = std::chrono::steady_clock;

    // `peer` is "address:port" for the log and the envelope; connections are counted per
    // `address`.
    mail_connection(server_context& ctx, std::string peer, std::string address)
        : ctx_(ctx), session_(ctx.config), peer_(std::move(peer)), address_(std::move(address)),
          writer_(ctx.options.maildir), since_(clock::now()) {
        ++ctx_.connections;
        ++ctx_.open;
        ++ctx_.per_client[address_];
        pump();
    }
    ~mail_connection() {
        --ctx_.open;
        const auto it = ctx_.per_client.find(address_);
        if (--it->second == 0) ctx_.per_client.erase(it);
    }
    mail_connection(const mail_connection&) = delete;
    mail_connection& operator=(const mail_connection&) = delete;

    // True when the loop should read from the socket now.
    bool wants_input() const noexcept {
        if (done_ || eof_ || closed_) return false;
#if SMTPP_EXAMPLES_TLS
        if (tls_) return tls_->buffered_input() < tls_backlog && net_out_.size() < tls_backlog;
#endif
        return !tls_wait_ && !in_busy_ && session_.wants_read();
    }

    // Raw bytes from the socket.
    void input(std::string_view raw) {
        if (done_) return;
#if SMTPP_EXAMPLES_TLS
        if (tls_) {
            tls_->feed(raw);
            pump();
            return;
        }
#endif
        // Plain: the session reads these bytes in place until it says need_data. The loop only
        // reads while wants_input(); bytes arriving otherwise are a transport bug: give up on
        // the connection rather than overwrite bytes the session is still reading.
        if (in_busy_ || tls_wait_) {
            done_ = true;
            return;
        }
        in_.assign(raw.data(), raw.size());
        if (session_.receive(in_) == smtpp::errc::ok) in_busy_ = true;
        pump();
    }

    // The peer closed its side.
    void input_eof() {
        if (eof_) return;
        eof_ = true;
        if (!tls_active()) {
            eof_sent_ = true;
            session_.receive_eof();
        }
        pump();
    }

    // Raw bytes to send; valid until the next call on this object.
    std::string_view output() const noexcept {
#if SMTPP_EXAMPLES_TLS
        if (tls_) return net_out_;
#endif
        return session_.pending_output();
    }

    // The loop wrote the first n bytes of output().
    void consumed(std::size_t n) {
#if SMTPP_EXAMPLES_TLS
        if (tls_) {
            net_out_.erase(0, n);
            output_moved_ = clock::now();
            pump();
            return;
        }
#endif
        sent(n);
        output_moved_ = clock::now();
        pump();
    }

    // True when the socket should be closed now.
    bool finished() const noexcept {
        if (done_) return true;
        return closed_ && output().empty() && session_.pending_output().empty();
    }

    // The server is stopping or the client took too long: 421, then close.
    void shutdown() {
        session_.shutdown();
        wait(waiting_for::close);
        pump();
    }

    // The time by which the client must have done what the connection waits for.
    clock::time_point deadline() const noexcept { return since_ + ctx_.timeout(waiting_); }

    // The deadline passed: 421 and a short time to take it. True when the socket should be
    // closed now: that time is over too, or the client is mid-handshake (no 421 can reach it).
    bool expire() {
        if (waiting_ == waiting_for::close) return done_ = true;
        log_line(log_err(), "%s: timeout waiting for %s", peer_.c_str(), to_string(waiting_));
        if (waiting_ == waiting_for::tls_handshake) return done_ = true;
        shutdown();
        return false;
    }

    const std::string& peer() const noexcept { return peer_; }

    // Heap memory the connection holds now, roughly (OpenSSL's own state not counted).
    std::size_t memory_bytes() const noexcept {
        std::size_t n = sizeof *this + session_.heap_bytes() + in_.capacity() + writer_.buffered();
#if SMTPP_EXAMPLES_TLS
        if (tls_) n += net_out_.capacity() + tls_->buffered_bytes();
#endif
        return n;
    }

    // Output has waited for a second without the client taking any of it: it stopped reading.
    bool stalled(clock::time_point now) const noexcept {
        return !output().empty() && now - output_moved_ >= std::chrono::seconds(1);
    }

private:
    using kind = smtpp::server_event_kind;
    static constexpr std::size_t read_size = 16384;
    // Ciphertext buffered each way before the loop stops reading: one TLS record (at most
    // 16 KiB + 2 KiB) always fits, so decryption can always go on.
    static constexpr std::size_t tls_backlog = 20480;
    static constexpr std::size_t data_block = 65536; // message data per --data-timeout

    bool tls_active() const noexcept {
#if SMTPP_EXAMPLES_TLS
        return tls_ != nullptr;
#else
        return false;
#endif
    }

    // Starts waiting for something else, with a new deadline. The wait for the client to take
    // our last reply is final.
    void wait(waiting_for w) {
        if (waiting_ == waiting_for::close) return;
        waiting_ = w;
        since_ = clock::now();
        block_ = 0;
    }

    // The session queued a reply on its own (NOOP, RSET, a refused command, ...): the command
    // it answers was complete, so the next one gets a full deadline.
    void note_replies() {
        const std::size_t n = session_.pending_output().size();
        if (n > replied_ &&
            (waiting_ == waiting_for::command || waiting_ == waiting_for::message_data))
            wait(waiting_for::command);
        replied_ = n;
    }

    // The transport took n bytes of the session's output.
    void sent(std::size_t n) {
        session_.consume_output(n);
        replied_ = session_.pending_output().size();
    }

    // Message data: every data_block octets restart the deadline (a minimum rate of
    // data_block per --data-timeout); a BDAT chunk's first octets start the wait.
    void got_body(std::size_t n) {
        if (waiting_ == waiting_for::command) wait(waiting_for::message_data);
        block_ += n;
        if (block_ >= data_block) wait(waiting_for::message_data);
    }

    // Waiting for the next command with nothing left to send.
    bool idle() const noexcept {
        return waiting_ == waiting_for::command && output().empty() &&
               session_.pending_output().empty();
    }

    // The buffers of the last exchange go back to the heap: a drained idle connection holds
    // its objects and little else, however big its last burst was.
    void release_idle_memory() {
        session_.release_idle_memory();
        std::string().swap(in_);
#if SMTPP_EXAMPLES_TLS
        if (tls_) {
            std::string().swap(net_out_);
            tls_->release_buffers();
        }
#endif
    }

    void pump() {
        if (output().empty()) output_moved_ = clock::now();
        while (!done_) {
            const smtpp::server_event ev = session_.next_event();
            note_replies();
            switch (ev.kind) {
            case kind::need_data:
                in_busy_ = false;
                if (feed_from_tls()) continue;
                flush_output();
                if (idle()) release_idle_memory();
                return;
            case kind::output_full:
                if (flush_output()) continue;
                return;                   // the loop must write first; consumed() comes back here
            case kind::awaiting_decision: // every decision below is answered at once
                flush_output();
                return;
            case kind::start_tls:
                in_busy_ = false; // bytes after STARTTLS are dropped by the session
                if (start_tls()) continue;
                flush_output();
                return;
            case kind::closed:
                closed_ = true;
                wait(waiting_for::close);
                flush_output();
#if SMTPP_EXAMPLES_TLS
                if (tls_ && tls_->established() && !notify_sent_ &&
                    session_.pending_output().empty()) {
                    notify_sent_ = true;
                    tls_->close_notify();
                    tls_->drain(net_out_);
                }
#endif
                return;
            case kind::body_chunk:
                got_body(ev.data.size());
                writer_.append(ev.data);
                continue;
            case kind::transaction_reset:
                writer_.abort();
                continue;
            case kind::protocol_error:
                continue;
            default:
                decide(ev);
                continue;
            }
        }
    }

    // TLS: decrypt the next piece of plaintext for the session. True when the session got
    // something (bytes or EOF).
    bool feed_from_tls() {
#if SMTPP_EXAMPLES_TLS
        if (!tls_ || !tls_->established() || in_busy_ || eof_sent_) return false;
        if (!tls_->readable() && !eof_) return false;
        char plain[read_size];
        const long n = tls_->readable() ? tls_->read(plain, sizeof plain) : 0;
        if (n > 0) {
            in_.assign(plain, static_cast<std::size_t>(n));
            if (session_.receive(in_) == smtpp::errc::ok) in_busy_ = true;
            return in_busy_;
        }
        in_.clear();
        if (n < 0 || eof_) { // close_notify, a TLS error, or TCP EOF with nothing left to decrypt
            eof_sent_ = true;
            session_.receive_eof();
            return true;
        }
#endif
        return false;
    }

    // TLS: moves the session's output through the TLS layer. True when some moved.
    bool flush_output() {
        bool moved = false;
#if SMTPP_EXAMPLES_TLS
        if (!tls_) return false;
        if (tls_->established()) {
            while (!session_.pending_output().empty() && net_out_.size() < tls_backlog) {
                const long w = tls_->write(session_.pending_output().substr(0, read_size));
                if (w <= 0) {
                    if (w < 0) done_ = true;
                    break;
                }
                sent(static_cast<std::size_t>(w));
                moved = true;
                tls_->drain(net_out_);
            }
        }
        tls_->drain(net_out_);
#endif
        return moved;
    }

    // STARTTLS accepted: once the 220 is out in the clear, run the handshake. True when it is
    // done and the session was told.
    bool start_tls() {
#if SMTPP_EXAMPLES_TLS
        if (!tls_) {
            if (!session_.pending_output().empty()) {
                tls_wait_ = true; // the loop writes the 220 first, then consumed() brings us back
                return false;
            }
            tls_wait_ = false;
            tls_ = std::make_unique<tls_stream>(ctx_.tls->get());
        }
        const tls_stream::status st = tls_->handshake();
        tls_->drain(net_out_);
        if (st == tls_stream::status::done) {
            tls_info_ = tls_->describe();
            (void)session_.tls_established();
            wait(waiting_for::command);
            return true;
        }
        if (st == tls_stream::status::failed) {
            log_line(log_err(), "%s: TLS handshake failed: %s", peer_.c_str(),
                     tls_->error().c_str());
            done_ = true;
        } else if (eof_) {
            done_ = true;
        }
        return false;
#else
        done_ = true; // unreachable: STARTTLS is only offered with TLS
        return false;
#endif
    }

    // A negative answer to a decision.
    struct refusal {
        std::uint16_t code;
        smtpp::enhanced_status status;
        const char* text;
    };
    static constexpr refusal no_tls{454, {4, 7, 0}, "TLS not available"};
    static constexpr refusal bad_credentials{535, {5, 7, 8}, "Authentication credentials invalid"};
    static constexpr refusal no_storage{452, {4, 3, 1}, "Insufficient system storage"};
    static constexpr refusal not_stored{451, {4, 3, 0}, "Local error: cannot store the message"};

    void decide(const smtpp::server_event& ev) {
        const refusal* no = policy(ev);
        if (no)
            (void)session_.reject(no->code, no->status, no->text);
        else
            (void)session_.accept();
        replied_ = session_.pending_output().size();
        if (!no && ev.kind == kind::data)
            wait(waiting_for::message_data);
        else if (!no && ev.kind == kind::starttls)
            wait(waiting_for::tls_handshake);
        else
            wait(waiting_for::command);
    }

    // The answer to a decision: nullptr accepts.
    const refusal* policy(const smtpp::server_event& ev) {
        switch (ev.kind) {
        case kind::hello:
            helo_.assign(ev.cmd->domain.data(), ev.cmd->domain.size());
            helo_verb_.assign(ev.cmd->verb_text.data(), ev.cmd->verb_text.size());
            return nullptr;
        case kind::mail:
            mail_from_ = std::string(path_address(ev.cmd->address));
            mail_params_.clear();
            json_parameters(mail_params_, *ev.cmd);
            rcpts_.clear();
            rcpt_params_.clear();
            return nullptr;
        case kind::rcpt: {
            rcpts_.emplace_back(path_address(ev.cmd->address));
            std::string params;
            json_parameters(params, *ev.cmd);
            rcpt_params_.push_back(std::move(params));
            return nullptr;
        }
        // The message file is created before the 354 (BDAT: before the first chunk's reply),
        // so a server out of descriptors or disk says 452 up front.
        case kind::data:
            return writer_.begin() ? nullptr : &no_storage;
        case kind::bdat_chunk:
            if (!writer_.created()) return &no_storage;
            return writer_.healthy() ? nullptr : &not_stored;
        case kind::starttls:
            return ctx_.tls_available() ? nullptr : &no_tls;
        case kind::auth:
            if (!credentials_match(ev)) return &bad_credentials;
            auth_user_.assign(ev.authcid.data(), ev.authcid.size());
            return nullptr;
        case kind::message_end: {
            if (ev.recipient_index == 0) stored_ = store(ev);
            if (ev.recipient_index + 1 >= ev.recipient_count) writer_.abort();
            if (stored_) return nullptr;
            return writer_.created() ? &not_stored : &no_storage;
        }
        default:
            return nullptr;
        }
    }

    // Both names and passwords are compared in full whatever the first difference, so the
    // time a wrong guess takes tells nothing about how much of it was right.
    bool credentials_match(const smtpp::server_event& ev) const noexcept {
        const bool user = same_secret(ev.authcid, ctx_.options.auth_user);
        const bool password = same_secret(ev.password, ctx_.options.auth_pass);
        const bool authzid = ev.authzid.empty() || ev.authzid == ev.authcid;
        return ctx_.options.auth && user && password && authzid;
    }

    bool store(const smtpp::server_event& ev) {
        const bool authed = session_.authenticated() && !auth_user_.empty();
        std::string j;
        j.reserve(512);
        j += "{\"id\":";
        json_string(j, writer_.id());
        j += ",\"client\":";
        json_string(j, peer_);
        j += ",\"helo_verb\":";
        json_string(j, helo_verb_);
        j += ",\"helo\":";
        json_string(j, helo_);
        j += ",\"mail_from\":";
        json_string(j, mail_from_);
        j += ",\"mail_parameters\":";
        j += mail_params_;
        j += ",\"rcpt_to\":[";
        for (std::size_t i = 0; i < rcpts_.size(); ++i) {
            if (i) j.push_back(',');
            json_string(j, rcpts_[i]);
        }
        j += "],\"rcpt_parameters\":[";
        for (std::size_t i = 0; i < rcpt_params_.size(); ++i) {
            if (i) j.push_back(',');
            j += rcpt_params_[i];
        }
        j += "],\"authenticated\":";
        if (authed)
            json_string(j, auth_user_);
        else
            j += "null";
        j += ",\"tls\":";
        j += session_.tls_active() ? "true" : "false";
        j += ",\"tls_cipher\":";
        if (session_.tls_active())
            json_string(j, tls_info_);
        else
            j += "null";
        j += ",\"lmtp\":";
        j += ctx_.options.lmtp ? "true" : "false";
        j += ",\"size\":" + std::to_string(ev.size);
        j += ",\"eight_bit\":";
        j += ev.eight_bit ? "true" : "false";
        j += ",\"chunked\":";
        j += ev.chunked ? "true" : "false";
        j += "}\n";
        const bool ok = writer_.commit(j);
        if (ok) {
            ++ctx_.messages;
            if (ctx_.options.maildir.empty()) {
                j.pop_back(); // the newline
                log_line(log_out(), "message %s from=<%s> to=%zu size=%llu envelope=%s",
                         writer_.id().c_str(), mail_from_.c_str(), rcpts_.size(),
                         static_cast<unsigned long long>(ev.size), j.c_str());
            }
        }
        return ok;
    }

    server_context& ctx_;
    smtpp::server_session session_;
    std::string peer_, address_;
    message_writer writer_;
    waiting_for waiting_ = waiting_for::command;
    clock::time_point since_;        // when the current wait started
    std::size_t block_ = 0;          // message data octets since then
    std::size_t replied_ = 0;        // size of the session's output when last looked at
    clock::time_point output_moved_; // output was last empty or taken by the client
    std::string in_;                 // plaintext the session is reading (kept until need_data)
#if SMTPP_EXAMPLES_TLS
    std::unique_ptr<tls_stream> tls_;
    std::string net_out_; // ciphertext to send
    bool notify_sent_ = false;
#endif
    std::string tls_info_;
    bool in_busy_ = false, tls_wait_ = false, eof_ = false, eof_sent_ = false;
    bool closed_ = false, done_ = false, stored_ = false;

    // The envelope of the current transaction.
    std::string helo_, helo_verb_, mail_from_, mail_params_, auth_user_;
    std::vector<std::string> rcpts_, rcpt_params_;
};

// The connections to close so that the memory all of them hold fits in `budget`: those whose
// client stopped reading our output, largest first (a client that reads frees its buffers by
// reading). Returns indexes into `all`.
inline std::vector<std::size_t> over_budget(const std::vector<const mail_connection*>& all,
                                            std::size_t budget,
                                            mail_connection::clock::time_point now) {
    std::size_t total = 0;
    std::vector<std::pair<std::size_t, std::size_t>> stalled; // (memory, index)
    for (std::size_t i = 0; i < all.size(); ++i) {
        const std::size_t bytes = all[i]->memory_bytes();
        total += bytes;
        if (all[i]->stalled(now)) stalled.emplace_back(bytes, i);
    }
    std::vector<std::size_t> shed;
    if (total <= budget) return shed;
    std::sort(stalled.begin(), stalled.end(), std::greater<>());
    for (const auto& [bytes, i] : stalled) {
        if (total <= budget) break;
        shed.push_back(i);
        total -= bytes;
    }
    return shed;
}

} // namespace smtpp_examples

#endif // SMTPP_EXAMPLES_CONNECTION_HPP
