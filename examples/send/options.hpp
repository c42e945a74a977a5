// smtpp-send: the command line.
#ifndef SMTPP_SEND_OPTIONS_HPP
#define SMTPP_SEND_OPTIONS_HPP

#include <smtpp/timeouts.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <sysexits.h>

namespace smtpp_send {

// The exit statuses, after sysexits(3): the worst of the messages' outcomes, or why nothing
// was tried.
enum exit_status : int {
    all_delivered = 0,
    some_failed = 1,              // a message or a recipient refused for good (5yz)
    usage_error = EX_USAGE,       // 64
    no_input = EX_NOINPUT,        // 66: a message file, directory or mbox cannot be read
    cannot_create = EX_CANTCREAT, // 73: the --report file
    temporary_only = EX_TEMPFAIL, // 75: failures, none of them permanent: try again later
};

// What to read messages from, in command-line order.
struct input {
    enum class kind : std::uint8_t { path, mbox }; // path: a file, a directory or "-"
    kind what = kind::path;
    std::string name;
};

struct options {
    std::string server, from, helo = "localhost", user, pass;
    std::vector<std::string> to;
    std::vector<input> inputs;
    bool starttls = false, auth = false, lmtp = false, verbose = false;
    // Certificate verification with --starttls: against --ca-file, else the system store;
    // the name checked is --tls-name, else the --server host.
    std::string ca_file, tls_name;
    bool insecure = false;
    std::size_t connections = 1;
    std::string report; // JSON lines to this file; "-": to stdout, instead of the text lines
    enum class progress_mode : std::uint8_t { automatic, always, never };
    progress_mode progress = progress_mode::automatic;
    // The TCP connection to each address; every other wait is the session's
    // (client_config::timeout, RFC 5321 4.5.3.2), the TLS handshake bounded by `reply`.
    std::chrono::milliseconds connect_timeout{30'000};
    smtpp::timeouts timeout{};
};

inline constexpr std::size_t max_connections = 100;

inline void usage(std::FILE* to) {
    std::fputs(
        "usage: smtpp-send --server HOST:PORT --from ADDR --to ADDR [--to ADDR ...]\n"
        "         [--helo NAME] [--starttls [--ca-file FILE] [--tls-name NAME] | [--insecure]]\n"
        "         [--auth USER:PASS] [--lmtp] [--connections N] [--report FILE]\n"
        "         [--progress | --no-progress] [--verbose] [timeouts]\n"
        "         FILE|DIR|- ... | --mbox FILE ...\n"
        "Sends every message given, each to the --to recipients, over one connection (or\n"
        "--connections N): a FILE is one message, a DIR every regular file in it whose name\n"
        "does not start with a dot (by name, not recursing), - is standard input, and --mbox\n"
        "FILE every message of an mbox (split at 'From ' lines; '>From ' lines, with any\n"
        "number of '>', lose one '>' as in mboxrd, which also reads mboxo). LF line ends\n"
        "become CRLF.\n"
        "  --from ''          sends the null reverse path <>\n"
        "  --starttls         require STARTTLS; verify the server's certificate and name\n"
        "  --ca-file FILE     trust the CA certificates in FILE (PEM), not the system's\n"
        "  --tls-name NAME    the name the certificate must carry (default: the --server\n"
        "                     host; an IP address is checked against the IP addresses)\n"
        "  --insecure         no verification (tests only: anyone in the path can read\n"
        "                     and change the conversation, and learn the password)\n"
        "  --auth U:P         AUTH PLAIN or LOGIN, whichever is offered (only over TLS)\n"
        "  --lmtp             speak LMTP (RFC 2033): one final reply per recipient\n"
        "  --connections N    N connections at once, sharing the messages (1 to 100;\n"
        "                     default 1). A connection the server ends after delivering\n"
        "                     something is opened again while messages are left\n"
        "  --report FILE      one JSON object per message to FILE (- : stdout, instead of\n"
        "                     the text lines): message, index, outcome, code, status,\n"
        "                     reply, error, recipients [{recipient, outcome, code, status,\n"
        "                     reply, error}]; outcome is delivered, permanent, temporary\n"
        "                     or unknown (the server may have accepted the message)\n"
        "  --progress         messages done, failed and per second on stderr (default:\n"
        "                     only when stderr is a terminal); --no-progress: never\n"
        "  --verbose          print the conversation to stderr\n"
        "Timeouts, in seconds (fractions allowed; RFC 5321 4.5.3.2 defaults), each for a\n"
        "whole wait, not for the next octet:\n"
        "  --connect-timeout S     the TCP connection, per address (30)\n"
        "  --command-timeout S     the greeting, the replies to EHLO, STARTTLS, AUTH, MAIL,\n"
        "                          RCPT, RSET and QUIT, the TLS handshake (300)\n"
        "  --data-init-timeout S   the reply to DATA (120)\n"
        "  --data-block-timeout S  sending each 64 KiB of the message; a reply to BDAT (180)\n"
        "  --data-done-timeout S   the reply to the end of the message (600)\n"
        "Prints one line per recipient: '[MESSAGE: ]ADDR: <the reply that decided it>',\n"
        "'... not delivered: <why>', or '... outcome unknown ...' when the connection failed\n"
        "after the whole message was sent (MESSAGE, the file or FILE#N for the Nth message\n"
        "of an mbox, when there are several). Control octets in replies are shown as \\xHH.\n"
        "Exit status (sysexits):\n"
        "  0   every message delivered to every recipient (or nothing to send)\n"
        "  1   a message or a recipient refused for good (5yz), whatever else happened\n"
        "  64  usage error          66  an input cannot be read (nothing sent)\n"
        "  73  --report FILE cannot be created (nothing sent)\n"
        "  75  some not delivered, none for good: 4yz, timeouts, connections lost or\n"
        "      refused, outcomes unknown (EX_TEMPFAIL: try those again later)\n",
        to);
}

// Seconds, fractions allowed ("0.5"), more than 0 and at most a day.
inline bool parse_seconds(const std::string& text, std::chrono::milliseconds& out) {
    if (text.empty() || text[0] < '0' || text[0] > '9') return false;
    char* end = nullptr;
    const double seconds = std::strtod(text.c_str(), &end);
    if (*end != '\0' || !(seconds > 0) || seconds > 86400) return false;
    const auto ms = static_cast<long long>(seconds * 1000 + 0.5);
    out = std::chrono::milliseconds(ms < 1 ? 1 : ms);
    return true;
}

// The replies RFC 5321 4.5.3.2.1-2 give the same five minutes: the greeting, MAIL, RCPT and
// the rest (EHLO, STARTTLS, AUTH, RSET, QUIT).
inline void set_command_timeout(smtpp::timeouts& t, std::chrono::milliseconds value) {
    t.greeting = t.reply = t.mail_reply = t.rcpt_reply = value;
}

// What no single option can tell.
inline bool check(const options& o) {
    if (!o.starttls && (o.insecure || !o.ca_file.empty() || !o.tls_name.empty())) {
        std::fprintf(stderr,
                     "smtpp-send: --ca-file, --tls-name and --insecure go with --starttls\n");
        return false;
    }
    if (o.insecure && !o.ca_file.empty()) {
        std::fprintf(stderr,
                     "smtpp-send: --insecure verifies nothing, --ca-file would be ignored\n");
        return false;
    }
    int stdin_uses = 0;
    for (const input& in : o.inputs) stdin_uses += in.name == "-" ? 1 : 0;
    if (stdin_uses > 1) {
        std::fprintf(stderr, "smtpp-send: standard input (-) can be read only once\n");
        return false;
    }
    return !o.server.empty() && !o.to.empty() && !o.inputs.empty();
}

// Parses argv; prints what is wrong and returns false on a usage error.
inline bool parse(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        std::string value;
        const auto next = [&] {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "smtpp-send: %s needs a value\n", a.c_str());
                return false;
            }
            value = argv[++i];
            return true;
        };
        const auto take = [&](std::string& out) {
            if (!next()) return false;
            out = value;
            return true;
        };
        const auto seconds = [&](std::chrono::milliseconds& out) {
            if (!next()) return false;
            if (parse_seconds(value, out)) return true;
            std::fprintf(stderr, "smtpp-send: %s wants seconds (0 < S <= 86400), not '%s'\n",
                         a.c_str(), value.c_str());
            return false;
        };
        std::chrono::milliseconds command{};
        bool ok = true;
        if (a == "--server") {
            ok = take(o.server);
        } else if (a == "--from") {
            ok = take(o.from);
        } else if (a == "--to") {
            ok = take(o.to.emplace_back());
        } else if (a == "--helo") {
            ok = take(o.helo);
        } else if (a == "--auth") {
            ok = next() && value.find(':') != std::string::npos;
            if (ok) {
                o.user = value.substr(0, value.find(':'));
                o.pass = value.substr(value.find(':') + 1);
                o.auth = true;
            }
        } else if (a == "--ca-file") {
            ok = take(o.ca_file);
        } else if (a == "--tls-name") {
            ok = take(o.tls_name) && !o.tls_name.empty();
        } else if (a == "--mbox") {
            ok = next() && !value.empty();
            if (ok) o.inputs.push_back({input::kind::mbox, value});
        } else if (a == "--connections") {
            const long n = next() ? std::strtol(value.c_str(), nullptr, 10) : 0;
            ok = n >= 1 && n <= static_cast<long>(max_connections) &&
                 value.find_first_not_of("0123456789") == std::string::npos;
            if (ok) o.connections = static_cast<std::size_t>(n);
            if (!ok) std::fprintf(stderr, "smtpp-send: --connections wants 1 to 100\n");
        } else if (a == "--report") {
            ok = take(o.report) && !o.report.empty();
        } else if (a == "--progress") {
            o.progress = options::progress_mode::always;
        } else if (a == "--no-progress") {
            o.progress = options::progress_mode::never;
        } else if (a == "--connect-timeout") {
            ok = seconds(o.connect_timeout);
        } else if (a == "--command-timeout") {
            ok = seconds(command);
            if (ok) set_command_timeout(o.timeout, command);
        } else if (a == "--data-init-timeout") {
            ok = seconds(o.timeout.data_reply);
        } else if (a == "--data-block-timeout") {
            ok = seconds(o.timeout.data_block);
        } else if (a == "--data-done-timeout") {
            ok = seconds(o.timeout.data_termination);
        } else if (a == "--starttls") {
            o.starttls = true;
        } else if (a == "--insecure") {
            o.insecure = true;
        } else if (a == "--lmtp") {
            o.lmtp = true;
        } else if (a == "--verbose" || a == "-v") {
            o.verbose = true;
        } else if (a == "--help" || a == "-h") {
            usage(stdout);
            std::exit(0);
        } else if (a.empty() || a[0] != '-' || a == "-") {
            o.inputs.push_back({input::kind::path, a});
        } else {
            std::fprintf(stderr, "smtpp-send: unexpected argument '%s'\n", a.c_str());
            return false;
        }
        if (!ok) return false;
    }
    return check(o);
}

} // namespace smtpp_send

#endif // SMTPP_SEND_OPTIONS_HPP
