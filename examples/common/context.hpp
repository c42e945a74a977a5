// smtpp examples: what every connection of one server shares (options, the session config,
// the TLS context, counters), and how the options become a session config.
#ifndef SMTPP_EXAMPLES_CONTEXT_HPP
#define SMTPP_EXAMPLES_CONTEXT_HPP

#include "maildir.hpp"
#include "options.hpp"
#include "tls.hpp"

#include <smtpp/server_config.hpp>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include <unistd.h>

namespace smtpp_examples {

// What every connection of one server shares. The config's views point into `options`.
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

    // Why a new client is turned away (the whole 421 reply), or nullptr to let it in.
    const char* refusal() const noexcept {
        if (open >= max_connections) return "421 4.3.2 Too many connections, try again later\r\n";
        return nullptr;
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
    c.pipelining = true;
    c.size = true;
    c.eight_bit_mime = true;
    c.smtputf8 = true;
    c.enhanced_status_codes = true;
    c.chunking = true;
    c.binarymime = true;
    c.limit.message_size = o.max_size;
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
        c.starttls = true;
#else
        std::fprintf(stderr, "%s: built without OpenSSL, --tls-cert is not available\n", prog);
        return false;
#endif
    }
    if (o.auth) {
        c.auth_mechanisms = "PLAIN LOGIN";
        // Passwords in the clear only over TLS, unless the server has no TLS at all (a local
        // test server): then AUTH PLAIN/LOGIN is offered in the clear, with a warning.
        c.plaintext_auth_requires_tls = ctx.tls_available();
        if (!ctx.tls_available()) {
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
