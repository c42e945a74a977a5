// smtpp-send: the command line.
#ifndef SMTPP_SEND_OPTIONS_HPP
#define SMTPP_SEND_OPTIONS_HPP

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace smtpp_send {

// How long smtpp-send waits, by what it waits for. The defaults are RFC 5321 4.5.3.2's; the
// names follow Postfix's smtp_*_timeout settings. A deadline starts when the wait starts and
// is not moved by bytes that trickle in: a reply must be complete, and a data block sent,
// before it passes.
struct timeouts {
    std::chrono::milliseconds connect{30'000};     // TCP connection (each address tried)
    std::chrono::milliseconds command{300'000};    // greeting, EHLO, STARTTLS and the TLS
                                                   // handshake, AUTH, MAIL, RCPT, RSET, QUIT
    std::chrono::milliseconds data_init{120'000};  // the reply to DATA (4.5.3.2.3)
    std::chrono::milliseconds data_block{180'000}; // each 64 KiB of the message written, and
                                                   // each reply to BDAT (4.5.3.2.5)
    std::chrono::milliseconds data_done{600'000};  // the reply to the end of the message
                                                   // (4.5.3.2.6: at least 10 minutes)
};

struct options {
    std::string server, from, helo = "localhost", user, pass, file;
    std::vector<std::string> to;
    bool starttls = false, auth = false, lmtp = false, verbose = false;
    // Certificate verification with --starttls: against --ca-file, else the system store;
    // the name checked is --tls-name, else the --server host.
    std::string ca_file, tls_name;
    bool insecure = false;
    timeouts wait;
};

inline void usage(std::FILE* to) {
    std::fputs(
        "usage: smtpp-send --server HOST:PORT --from ADDR --to ADDR [--to ADDR ...]\n"
        "         [--helo NAME] [--starttls [--ca-file FILE] [--tls-name NAME] | [--insecure]]\n"
        "         [--auth USER:PASS] [--lmtp] [--verbose] [timeouts] FILE|-\n"
        "  --from ''          sends the null reverse path <>\n"
        "  --starttls         require STARTTLS; verify the server's certificate and name\n"
        "  --ca-file FILE     trust the CA certificates in FILE (PEM), not the system's\n"
        "  --tls-name NAME    the name the certificate must carry (default: the --server\n"
        "                     host; an IP address is checked against the IP addresses)\n"
        "  --insecure         no verification (tests only: anyone in the path can read\n"
        "                     and change the conversation, and learn the password)\n"
        "  --auth U:P         AUTH PLAIN or LOGIN, whichever is offered (only over TLS)\n"
        "  --lmtp             speak LMTP (RFC 2033): one final reply per recipient\n"
        "  --verbose          print the conversation to stderr\n"
        "Timeouts, in seconds (fractions allowed; RFC 5321 4.5.3.2 defaults), each for a\n"
        "whole wait, not for the next octet:\n"
        "  --connect-timeout S     the TCP connection, per address (30)\n"
        "  --command-timeout S     the greeting, the replies to EHLO, STARTTLS, AUTH, MAIL,\n"
        "                          RCPT, RSET and QUIT, the TLS handshake (300)\n"
        "  --data-init-timeout S   the reply to DATA (120)\n"
        "  --data-block-timeout S  sending each 64 KiB of the message; a reply to BDAT (180)\n"
        "  --data-done-timeout S   the reply to the end of the message (600)\n"
        "Prints one line per recipient: 'ADDR: <the reply that decided it>', 'ADDR: not\n"
        "delivered: <why>', or 'ADDR: outcome unknown ...' when the connection failed after\n"
        "the whole message was sent. Control octets in replies are shown as \\xHH.\n"
        "Exit status: 0 every recipient and the message accepted, 1 otherwise, 2 usage error.\n",
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
        } else if (a == "--connect-timeout") {
            ok = seconds(o.wait.connect);
        } else if (a == "--command-timeout") {
            ok = seconds(o.wait.command);
        } else if (a == "--data-init-timeout") {
            ok = seconds(o.wait.data_init);
        } else if (a == "--data-block-timeout") {
            ok = seconds(o.wait.data_block);
        } else if (a == "--data-done-timeout") {
            ok = seconds(o.wait.data_done);
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
        } else if ((a.empty() || a[0] != '-' || a == "-") && o.file.empty()) {
            o.file = a;
        } else {
            std::fprintf(stderr, "smtpp-send: unexpected argument '%s'\n", a.c_str());
            return false;
        }
        if (!ok) return false;
    }
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
    return !o.server.empty() && !o.to.empty() && !o.file.empty();
}

} // namespace smtpp_send

#endif // SMTPP_SEND_OPTIONS_HPP
