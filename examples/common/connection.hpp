// smtpp examples: one SMTP/LMTP connection as the servers see it, independent of the event
// loop. The loop moves raw bytes (ciphertext once STARTTLS is done) in and out:
//
//   if (c.wants_input()) read some bytes, then c.input(bytes) (or c.input_eof())
//   write c.output() to the socket, then c.consumed(bytes_written)
//   if (c.finished()) close the socket
//
// input() copies what it keeps (server_session::receive() copies), so the loop's read buffer
// is free again when it returns: one buffer can serve every connection. output() keeps the
// session's pending_output() promise: its bytes stay valid and unchanged until consumed() has
// taken all of them, whatever the connection does meanwhile (input, deadlines, shutdown), so an
// asynchronous write may point straight at them; after consumed(), ask again.
//
// Inside, a smtpp::server_session does the protocol, the policy below answers its decisions
// (accept everything, check AUTH credentials, store messages), and a tls_stream sits between
// the socket and the session after STARTTLS. Memory per connection stays bounded: the session
// stops reading while limits.output_buffer bytes are unsent, input is read in 16 KiB pieces
// only while the session wants more (it holds at most limits.input_buffer octets), ciphertext
// is buffered up to 20 KiB each way, and message bodies stream to disk. A connection waiting
// for a command with nothing to send gives its buffers back, so a drained idle one holds about
// 2 KiB (plus OpenSSL's own state, about 17 KiB, with TLS).
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
        return !tls_wait_ && unread_.empty() && session_.wants_read();
    }

    // Raw bytes from the socket; copied as far as they are kept, so `raw` is free on return.
    void input(std::string_view raw) {
        if (done_) return;
#if SMTPP_EXAMPLES_TLS
        if (tls_) {
            tls_->feed(raw);
            pump();
            return;
        }
#endif
        offer(raw);
        pump();
    }

    // The peer closed its side.
    void input_eof() {
        if (eof_) return;
        eof_ = true;
        feed_plain();
        pump();
    }

    // The oldest raw bytes to send: valid and unchanged until consumed() has taken all of
    // them, however much is queued meanwhile. Possibly not all there is: ask again after
    // consumed().
    std::string_view output() const noexcept {
#if SMTPP_EXAMPLES_TLS
        if (tls_) return net_out_.front();
#endif
        return session_.pending_output();
    }

    // True while bytes wait to be sent. Ask this rather than output().empty(): handing out
    // the session's bytes pins them (what it queues meanwhile goes to a second block).
    bool output_pending() const noexcept {
#if SMTPP_EXAMPLES_TLS
        if (tls_) return net_out_.size() != 0;
#endif
        return session_.pending_output_size() != 0;
    }

    // The loop wrote the first n bytes of output().
    void consumed(std::size_t n) {
#if SMTPP_EXAMPLES_TLS
        if (tls_)
            net_out_.consume(n);
        else
#endif
            session_.consume_output(n);
        output_moved_ = clock::now();
        pump();
    }

    // True when the socket should be closed now.
    bool finished() const noexcept {
        if (done_) return true;
        return closed_ && !output_pending() && session_.pending_output_size() == 0;
    }

    // The server is stopping: 421, then close.
    void shutdown() {
        session_.shutdown();
        pump();
    }

    // The time by which the client must have done what the connection waits for.
    clock::time_point deadline() const noexcept {
        return since_ + ctx_.timeout(waiting_, session_timeout_);
    }

    // The deadline passed: the session's 421 (4.4.2) and a short time to take it. True when
    // the socket should be closed now: that time is over too, or the client is mid-handshake
    // (no 421 can reach it).
    bool expire() {
        if (waiting_ == waiting_for::close) return done_ = true;
        log_line(log_err(), "%s: timeout waiting for %s", peer_.c_str(), to_string(waiting_));
        if (waiting_ == waiting_for::tls_handshake) return done_ = true;
        if (session_.timeout_expired() != smtpp::errc::ok) session_.shutdown();
        pump();
        return false;
    }

    const std::string& peer() const noexcept { return peer_; }

    // Heap memory the connection holds now, roughly (OpenSSL's own state not counted).
    std::size_t memory_bytes() const noexcept {
        std::size_t n =
            sizeof *this + session_.heap_bytes() + unread_.capacity() + writer_.buffered();
#if SMTPP_EXAMPLES_TLS
        if (tls_) n += net_out_.capacity() + tls_->buffered_bytes();
#endif
        return n;
    }

    // Output has waited for a second without the client taking any of it: it stopped reading.
    bool stalled(clock::time_point now) const noexcept {
        return output_pending() && now - output_moved_ >= std::chrono::seconds(1);
    }

private:
    using kind = smtpp::server_event_kind;
    static constexpr std::size_t read_size = 16384;
    // Ciphertext buffered each way before the loop stops reading: one TLS record (at most
    // 16 KiB + 2 KiB) always fits, so decryption can always go on.
    static constexpr std::size_t tls_backlog = 20480;

    bool tls_active() const noexcept {
#if SMTPP_EXAMPLES_TLS
        return tls_ != nullptr;
#else
        return false;
#endif
    }

    // Starts a new deadline when the connection waits for something new: the session began a
    // new wait (its serial changed: a command line read, a decision given, each 64 KiB of
    // message data read) or the connection went on to the TLS handshake or to closing. The
    // wait for the client to take our last reply is final.
    void track_wait() {
        if (waiting_ == waiting_for::close) return;
        const smtpp::wait_state w = session_.waiting();
        waiting_for now =
            w.phase == smtpp::wait_phase::data ? waiting_for::message_data : waiting_for::command;
        if (closed_)
            now = waiting_for::close;
        else if (tls_wait_ || handshaking())
            now = waiting_for::tls_handshake;
        if (now == waiting_ && w.serial == serial_) return;
        waiting_ = now;
        serial_ = w.serial;
        // wait_phase::none (no peer input awaited) only comes with the two waits of our own.
        session_timeout_ =
            w.phase == smtpp::wait_phase::none ? ctx_.config.timeout.command : w.timeout;
        since_ = clock::now();
    }

    bool handshaking() const noexcept {
#if SMTPP_EXAMPLES_TLS
        return tls_ && !tls_->established();
#else
        return false;
#endif
    }

    // Waiting for the next command with nothing left to send.
    bool idle() const noexcept {
        return session_.waiting().phase == smtpp::wait_phase::command && !output_pending() &&
               session_.pending_output_size() == 0;
    }

    // The buffers of the last exchange go back to the heap: a drained idle connection holds
    // its objects and little else, however big its last burst was.
    void release_idle_memory() {
        session_.release_idle_memory();
        if (unread_.empty()) std::string().swap(unread_);
#if SMTPP_EXAMPLES_TLS
        if (tls_) {
            net_out_.release_if_empty();
            tls_->release_buffers();
        }
#endif
    }

    // Plaintext for the session, which copies what it takes: up to limits.input_buffer unread
    // octets. What it does not take waits in unread_ until it wants more (feed_plain()).
    void offer(std::string_view plain) {
        const std::size_t taken = session_.receive(plain);
        if (taken < plain.size()) unread_.append(plain.substr(taken));
    }

    // Plaintext the session did not take before, then (without TLS) the end of the input
    // once all of it is in. True when the session got something.
    bool feed_plain() {
        if (!unread_.empty()) {
            if (!session_.wants_read()) return false;
            const std::size_t taken = session_.receive(unread_);
            unread_.erase(0, taken);
            return taken != 0;
        }
        if (!eof_ || eof_sent_ || tls_active()) return false;
        eof_sent_ = true;
        session_.receive_eof();
        return true;
    }

    // Runs the session until it needs input or output to move, then notes what it waits for.
    void pump() {
        run_session();
        track_wait();
    }

    void run_session() {
        if (!output_pending()) output_moved_ = clock::now();
        while (!done_) {
            const smtpp::server_event ev = session_.next_event();
            switch (ev.kind) {
            case kind::need_data:
                if (feed_plain() || feed_from_tls()) continue;
                flush_output();
                if (idle()) release_idle_memory();
                return;
            case kind::output_full:
                if (flush_output()) continue;
                return;                   // the loop must write first; consumed() comes back here
            case kind::awaiting_decision: // every decision below is answered at once
                flush_output();
                return;
            case kind::tls_handshake: // bytes after STARTTLS are dropped by the session
                if (start_tls()) continue;
                flush_output();
                return;
            case kind::closed:
                closed_ = true;
                flush_output();
#if SMTPP_EXAMPLES_TLS
                if (tls_ && tls_->established() && !notify_sent_ &&
                    session_.pending_output_size() == 0) {
                    notify_sent_ = true;
                    tls_->close_notify();
                    tls_->drain(net_out_.tail());
                }
#endif
                return;
            case kind::body_chunk:
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
        if (!tls_ || !tls_->established() || eof_sent_ || !unread_.empty()) return false;
        if (!session_.wants_read() || (!tls_->readable() && !eof_)) return false;
        char plain[read_size];
        const long n = tls_->readable() ? tls_->read(plain, sizeof plain) : 0;
        if (n > 0) {
            offer(std::string_view(plain, static_cast<std::size_t>(n)));
            return true;
        }
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
            while (session_.pending_output_size() != 0 && net_out_.size() < tls_backlog) {
                const long w = tls_->write(session_.pending_output().substr(0, read_size));
                if (w <= 0) {
                    if (w < 0) done_ = true;
                    break;
                }
                session_.consume_output(static_cast<std::size_t>(w));
                moved = true;
                tls_->drain(net_out_.tail());
            }
        }
        tls_->drain(net_out_.tail());
#endif
        return moved;
    }

    // STARTTLS accepted: once the 220 is out in the clear, run the handshake. True when it is
    // done and the session was told.
    bool start_tls() {
#if SMTPP_EXAMPLES_TLS
        if (!tls_) {
            if (session_.pending_output_size() != 0) {
                tls_wait_ = true; // the loop writes the 220 first, then consumed() brings us back
                return false;
            }
            tls_wait_ = false;
            tls_ = std::make_unique<tls_stream>(ctx_.tls->get());
        }
        const tls_stream::status st = tls_->handshake();
        tls_->drain(net_out_.tail());
        if (st == tls_stream::status::done) {
            tls_info_ = tls_->describe();
            if (session_.tls_established() == smtpp::errc::ok) return true;
            done_ = true; // unreachable: the session asked for this handshake
            return false;
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

    // Every decision is answered at once. The refusals above are valid replies for the
    // decisions they answer, so an error here is a bug; the connection is dropped rather than
    // left waiting for an answer that never comes.
    void decide(const smtpp::server_event& ev) {
        const refusal* no = policy(ev);
        const smtpp::errc e =
            no ? session_.reject(no->code, no->status, no->text) : session_.accept();
        if (e == smtpp::errc::ok) return;
        log_line(log_err(), "%s: cannot answer %s: %s", peer_.c_str(), smtpp::to_string(ev.kind),
                 smtpp::to_string(e));
        done_ = true;
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
    std::uint64_t serial_ = 0;                    // the session's wait the deadline is for
    std::chrono::milliseconds session_timeout_{}; // its timeout (before stress mode)
    clock::time_point since_;                     // when the current wait started
    clock::time_point output_moved_;              // output was last empty or taken by the client
    std::string unread_; // plaintext the session did not take yet (see offer())
#if SMTPP_EXAMPLES_TLS
    std::unique_ptr<tls_stream> tls_;
    send_queue net_out_; // ciphertext to send
    bool notify_sent_ = false;
#endif
    std::string tls_info_;
    bool tls_wait_ = false, eof_ = false, eof_sent_ = false;
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
