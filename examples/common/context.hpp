// smtpp examples: what every connection of one server shares (options, the session config,
// the TLS context, counters), and how the options become a session config.
#ifndef SMTPP_EXAMPLES_CONTEXT_HPP
#define SMTPP_EXAMPLES_CONTEXT_HPP

#include "log.hpp"
#include "maildir.hpp"
#include "options.hpp"
#include "tls.hpp"

#include <smtpp/server_config.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <unordered_map>

#include <unistd.h>

namespace smtpp_examples {

// What a connection waits for. Each wait has a deadline set when it starts; bytes arriving
// do not move it, so a client cannot hold a connection by trickling them. The session says
// when its waits (command, message_data) start and how long they are (server_session::
// waiting(), from server_config::timeout); the other two are the connection's own.
enum class waiting_for : std::uint8_t {
    command,       // the next command line, whole (each line read starts the wait for the next)
    message_data,  // the next 64 KiB of a message (DATA or a BDAT chunk), or its end
    tls_handshake, // the STARTTLS handshake, from the 220 on
    close,         // the client to take our 421 (or 221) before we close
};

inline const char* to_string(waiting_for w) noexcept {
    switch (w) {
    case waiting_for::command:
        return "a command";
    case waiting_for::message_data:
        return "message data";
    case waiting_for::tls_handshake:
        return "the TLS handshake";
    default:
        return "the client to close";
    }
}

// What every connection of one server shares.
struct server_context {
    server_options options;
    smtpp::server_config config;
#if SMTPP_EXAMPLES_TLS
    std::unique_ptr<tls_context> tls;
#endif
    std::uint64_t messages = 0;      // stored (or logged) messages
    std::uint64_t connections = 0;   // accepted connections
    std::size_t open = 0;            // connections open now
    std::size_t max_connections = 0; // --max-connections, lowered to fit RLIMIT_NOFILE
    std::unordered_map<std::string, std::size_t> per_client; // open connections by address
    bool stress = false;                                     // see update_stress()

    // Why a new client from `address` is turned away (the whole 421 reply), or nullptr to let
    // it in.
    const char* refusal(const std::string& address) const {
        if (open >= max_connections) return "421 4.3.2 Too many connections, try again later\r\n";
        const std::size_t cap = options.max_per_client;
        const auto it = per_client.find(address);
        if (cap != 0 && it != per_client.end() && it->second >= cap)
            return "421 4.7.0 Too many connections from your address, try again later\r\n";
        return nullptr;
    }

    // How long a wait of `w` may last: the session's own timeout for a command or message
    // data (`session_timeout`, set from --timeout and --data-timeout in setup_context), the
    // options for the others; cut to --stress-timeout in stress mode.
    std::chrono::milliseconds timeout(waiting_for w,
                                      std::chrono::milliseconds session_timeout) const {
        std::chrono::milliseconds s = session_timeout;
        if (w == waiting_for::tls_handshake) s = std::chrono::seconds(options.tls_timeout);
        if (w == waiting_for::close) s = std::chrono::seconds(std::min(10u, options.timeout));
        if (stress)
            s = std::min(s,
                         std::chrono::milliseconds(std::chrono::seconds(options.stress_timeout)));
        return s;
    }

    // Stress mode while 3/4 or more of the connection slots are taken: every deadline shrinks
    // to --stress-timeout, so idle and slow clients make room sooner (Postfix's stress mode).
    // The loops call this before they look at the deadlines.
    void update_stress(const char* prog) {
        const bool now = open * 4 >= max_connections * 3;
        if (now == stress) return;
        stress = now;
        log_line(log_err(), "%s: %s stress mode: %zu of %zu connection slots taken", prog,
                 stress ? "entering" : "leaving", open, max_connections);
    }

    bool tls_available() const noexcept {
#if SMTPP_EXAMPLES_TLS
        return tls != nullptr;
#else
        return false;
#endif
    }
};

// Fills ctx.config from ctx.options; prints why and returns false when it cannot.
inline bool setup_context(server_context& ctx, const char* prog) {
    const server_options& o = ctx.options;
    smtpp::server_config& c = ctx.config;
    c.hostname = o.hostname;
    c.greeting_text = o.lmtp ? "LMTP smtpp example server" : "ESMTP smtpp example server";
    c.lmtp = o.lmtp;
    c.offer.pipelining = true;
    c.offer.size = true;
    c.offer.eight_bit_mime = true;
    c.offer.smtputf8 = true;
    c.offer.enhanced_status_codes = true;
    c.offer.chunking = true;
    c.offer.binarymime = true;
    c.limit.message_size = o.max_size;
    c.timeout.command = std::chrono::seconds(o.timeout);
    c.timeout.data = std::chrono::seconds(o.data_timeout); // per data_block_size (64 KiB)
    c.lenient_bare_lf_commands = o.lenient_lf;
    c.require_auth = o.require_auth;
    if (!o.tls_cert.empty()) {
#if SMTPP_EXAMPLES_TLS
        ctx.tls = std::make_unique<tls_context>();
        std::string error;
        if (!ctx.tls->load(o.tls_cert, o.tls_key, error)) {
            std::fprintf(stderr, "%s: TLS: %s\n", prog, error.c_str());
            return false;
        }
        c.offer.starttls = true;
#else
        std::fprintf(stderr, "%s: built without OpenSSL, --tls-cert is not available\n", prog);
        return false;
#endif
    }
    if (o.auth) {
        c.auth_mechanisms = "PLAIN LOGIN";
        // Passwords in the clear only over TLS, unless the server has no TLS at all (a local
        // test server) or --auth-without-tls asks for it: then AUTH PLAIN/LOGIN is offered in
        // the clear too, with a warning.
        c.plaintext_auth_requires_tls = ctx.tls_available() && !o.auth_without_tls;
        if (!c.plaintext_auth_requires_tls) {
            std::fprintf(stderr, "%s: warning: AUTH without TLS sends passwords in the clear\n",
                         prog);
        }
    }
    if (c.validate() != smtpp::errc::ok) {
        std::fprintf(stderr,
                     "%s: invalid settings (hostname '%s', --max-size at least 65536 or 0)\n", prog,
                     o.hostname.c_str());
        return false;
    }
    if (!o.maildir.empty() && ::access(o.maildir.c_str(), W_OK) != 0) {
        std::fprintf(stderr, "%s: --maildir %s is not a writable directory\n", prog,
                     o.maildir.c_str());
        return false;
    }
    if (!o.maildir.empty()) remove_stale_temporaries(o.maildir);
    return true;
}

} // namespace smtpp_examples

#endif // SMTPP_EXAMPLES_CONTEXT_HPP
