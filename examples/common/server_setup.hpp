// smtpp examples: what every server does around its event loop, whatever the loop: the command
// line and the session config before it starts, the start-up and stop lines in the log, and
// the connections it closes when they hold too much memory.
#ifndef SMTPP_EXAMPLES_SERVER_SETUP_HPP
#define SMTPP_EXAMPLES_SERVER_SETUP_HPP

#include "connection.hpp"
#include "context.hpp"
#include "log.hpp"
#include "net.hpp"
#include "options.hpp"
#include "signals.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace smtpp_examples {

// Parses the command line into ctx (options, session config, TLS, connection cap). Returns -1
// when the server should start, else the exit status (0 after --help, 2 for a usage error).
inline int configure_server(server_context& ctx, int argc, char** argv, const char* prog) {
    bool help = false;
    if (!parse_server_options(argc, argv, ctx.options, help)) {
        print_server_usage(prog, help ? stdout : stderr);
        return help ? 0 : 2;
    }
    if (!setup_context(ctx, prog)) return 2;
    ignore_harmless_signals();
    ctx.max_connections = connection_cap(ctx.options.max_connections, prog);
    return -1;
}

// The line the tests wait for: "PROG listening on ADDR:PORT (SMTP, STARTTLS, ...)".
inline void log_listening(const server_context& ctx, const char* prog, const std::string& bound) {
    log_line(log_out(), "%s listening on %s (%s%s%s)", prog, bound.c_str(),
             ctx.options.lmtp ? "LMTP" : "SMTP", ctx.config.offer.starttls ? ", STARTTLS" : "",
             ctx.options.auth ? ", AUTH PLAIN LOGIN" : "");
}

inline void log_stopping(const server_context& ctx, const char* prog, int sig) {
    log_line(
        log_err(),
        "%s: stopping on %s, %zu connection(s) open, %llu message(s) stored, %llu log "
        "line(s) dropped",
        prog, signal_text(sig).c_str(), ctx.open, static_cast<unsigned long long>(ctx.messages),
        static_cast<unsigned long long>(log_out().dropped_total() + log_err().dropped_total()));
}

// Over --memory-budget: the connections to close, the largest of those whose client stopped
// reading first, each logged. Returns indexes into `conns`.
inline std::vector<std::size_t> shed_over_budget(const server_context& ctx,
                                                 const std::vector<const mail_connection*>& conns,
                                                 mail_connection::clock::time_point now) {
    const std::vector<std::size_t> shed = over_budget(conns, ctx.options.memory_budget << 20, now);
    for (const std::size_t i : shed) {
        log_line(log_err(), "%s: closed: not reading, %zu KiB held (memory budget)",
                 conns[i]->peer().c_str(), conns[i]->memory_bytes() >> 10);
    }
    return shed;
}

} // namespace smtpp_examples

#endif // SMTPP_EXAMPLES_SERVER_SETUP_HPP
