// smtpp-send: sends messages with smtpp::client_session over non-blocking sockets, using
// whatever the server offers (PIPELINING, CHUNKING/BDAT, 8BITMIME, SMTPUTF8, SIZE; STARTTLS
// with certificate verification and AUTH PLAIN/LOGIN when asked). Files, directories and
// mboxes go over one connection, or N in parallel (one poll() loop), any number of messages
// per connection. Every wait has a deadline (RFC 5321 4.5.3.2). Prints one line per recipient
// with the reply that decided it (or JSON lines, --report) and exits 0 only if every message
// was delivered to every recipient (sysexits otherwise: see --help).
//
//   smtpp-send --server HOST:PORT --from ADDR --to ADDR [--to ADDR ...] [--helo NAME]
//              [--starttls [--ca-file FILE] [--tls-name NAME] | [--insecure]]
//              [--auth USER:PASS] [--lmtp] [--connections N] [--report FILE]
//              [--progress | --no-progress] [--verbose] [timeouts]
//              FILE|DIR|- ... | --mbox FILE ...
//
// The parts, in send/: options.hpp (the command line, the exit statuses), messages.hpp and
// mbox.hpp (what to send), transaction.hpp (one message on its way), conversation.hpp (one
// connection and its session), run.hpp (the loop over the connections), connection.hpp (the
// socket and TLS, never blocking), report.hpp and results.hpp (the verdicts, and where they
// are printed), progress.hpp, text.hpp. Here: the steps, in order.
#include "common/options.hpp"
#include "send/options.hpp"
#include "send/results.hpp"
#include "send/run.hpp"

#include <smtpp/client_session.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

using smtpp_send::options;

// The options, and the --server address split; false on a usage error (already explained).
bool parse_command_line(int argc, char** argv, options& o, std::string& host, std::string& port) {
    if (!smtpp_send::parse(argc, argv, o) ||
        !smtpp_examples::split_host_port(o.server, host, port)) {
        smtpp_send::usage(stderr);
        return false;
    }
    if (o.starttls && !SMTPP_EXAMPLES_TLS) {
        std::fprintf(stderr, "smtpp-send: --starttls needs OpenSSL, and this build has none\n");
        return false;
    }
    return true;
}

// Every message the inputs hold, listed (files are read when their turn comes).
bool load_messages(const options& o, smtpp_send::message_list& messages) {
    for (const smtpp_send::input& in : o.inputs) {
        std::string error;
        if (!messages.add(in, error)) {
            std::fprintf(stderr, "smtpp-send: %s\n", smtpp_send::printable(error).c_str());
            return false;
        }
    }
    if (messages.size() == 0) std::fprintf(stderr, "smtpp-send: no message to send\n");
    return true;
}

// The --report file (null without one); false when it cannot be created.
bool open_report(const options& o, std::FILE*& json) {
    json = nullptr;
    if (o.report.empty()) return true;
    json = o.report == "-" ? stdout : std::fopen(o.report.c_str(), "w");
    if (json != nullptr) return true;
    std::fprintf(stderr, "smtpp-send: cannot create %s: %s\n", o.report.c_str(),
                 std::strerror(errno));
    return false;
}

bool show_progress(const options& o) {
    if (o.progress == options::progress_mode::automatic) return ::isatty(STDERR_FILENO) == 1;
    return o.progress == options::progress_mode::always;
}

smtpp::client_config make_config(const options& o, const std::string& port) {
    smtpp::client_config cfg;
    cfg.helo_name = o.helo;
    cfg.lmtp = o.lmtp;
    cfg.use_chunking = true; // BDAT whenever the server offers CHUNKING
    cfg.tls = o.starttls ? smtpp::tls_mode::required : smtpp::tls_mode::never;
    cfg.timeout = o.timeout;
    if (o.auth) {
        cfg.auth_mechanisms = {"PLAIN", "LOGIN"};
        cfg.credentials.username = o.user;
        cfg.credentials.password = o.pass;
    }
    std::uint64_t p = 0;
    if (smtpp_examples::parse_number(port.c_str(), p) && p < 65536)
        cfg.port = static_cast<std::uint16_t>(p);
    return cfg;
}

smtpp_send::tls_settings make_tls_settings(const options& o, const std::string& host) {
    smtpp_send::tls_settings tls;
    tls.name = o.tls_name.empty() ? host : o.tls_name;
    tls.ca_file = o.ca_file;
    tls.verify = !o.insecure;
    if (o.insecure) {
        std::fprintf(
            stderr,
            "smtpp-send: warning: --insecure: the server's certificate is NOT verified; anyone in "
            "the path can read and change the conversation%s\n",
            o.auth ? " and learn the password" : "");
    }
    return tls;
}

// Sends every message over the connections; each outcome goes to `out` as it is known.
void send_all(const options& o, const std::string& host, const std::string& port,
              const smtpp_send::message_list& messages, smtpp_send::results& out) {
    if (messages.size() == 0) return;
    smtpp_send::message_queue queue(messages.size());
    smtpp_send::run_context ctx{
        o, make_config(o, port), make_tls_settings(o, host), {}, {}, messages, queue, out};
    for (const std::string& to : o.to) ctx.recipients.emplace_back(to);
    std::string error;
    bool permanent = false;
    if (!smtpp_send::resolve(host, port, ctx.addresses, error, permanent)) {
        out.failure(error);
        return smtpp_send::settle_untaken(
            ctx, error, permanent ? smtpp::outcome::permanent : smtpp::outcome::temporary);
    }
    smtpp_send::runner(ctx).run(o.connections);
}

} // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    options o;
    std::string host, port;
    if (!parse_command_line(argc, argv, o, host, port)) return smtpp_send::usage_error;
    smtpp_send::message_list messages;
    if (!load_messages(o, messages)) return smtpp_send::no_input;
    std::FILE* json = nullptr;
    if (!open_report(o, json)) return smtpp_send::cannot_create;

    smtpp_send::results out(messages, o.to, o.report != "-", json, show_progress(o));
    send_all(o, host, port, messages, out);
    const int status = out.finish();
    if (json != nullptr && json != stdout) std::fclose(json);
    return status;
}
