// smtpp examples: the command line shared by smtpp-server and asio-server.
#ifndef SMTPP_EXAMPLES_OPTIONS_HPP
#define SMTPP_EXAMPLES_OPTIONS_HPP

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <unistd.h>

namespace smtpp_examples {

struct server_options {
    std::string listen = "127.0.0.1:2525"; // ADDR:PORT, [v6]:PORT; port 0 picks a free one
    std::string maildir;                   // empty: log one line per message to stdout
    std::uint64_t max_size = 10485760;     // message size limit (0: none)
    std::string hostname;                  // empty: gethostname()
    std::string auth_user, auth_pass;      // --auth USER:PASS
    bool auth = false;
    bool require_auth = false;
    bool auth_without_tls = false; // offer AUTH before STARTTLS even when TLS is configured
    std::string tls_cert, tls_key;
    bool lmtp = false;
    bool lenient_lf = false;
    // Deadlines, in seconds; arriving bytes do not extend them (see connection.hpp).
    unsigned timeout = 300;       // a whole command (RFC 5321 4.5.3.2.7: at least 5 minutes)
    unsigned data_timeout = 180;  // each 64 KiB of message data (RFC 5321 4.5.3.2.5)
    unsigned tls_timeout = 60;    // the TLS handshake
    unsigned stress_timeout = 10; // any of them while 3/4 of the connection slots are taken
    std::size_t max_connections = 10000;
    std::size_t max_per_client = 50; // connections from one client address (0: no limit)
    std::size_t memory_budget = 256; // MiB all connections may hold before some are closed
};

inline void print_server_usage(const char* prog, std::FILE* to) {
    std::fprintf(
        to,
        "usage: %s [options]\n"
        "  --listen ADDR:PORT     address to listen on (default 127.0.0.1:2525; port 0: any free "
        "port)\n"
        "  --maildir DIR          store each message as DIR/<id>.eml + DIR/<id>.json\n"
        "                         (default: log one line per message to stdout)\n"
        "  --max-size N           message size limit in octets (default 10485760, 0: none)\n"
        "  --hostname NAME        name in the greeting and EHLO reply (default: gethostname)\n"
        "  --auth USER:PASS       offer AUTH PLAIN and LOGIN for this one account\n"
        "  --require-auth         refuse mail before a successful AUTH (530 5.7.0)\n"
        "  --auth-without-tls     offer AUTH before STARTTLS too (passwords in the clear; for\n"
        "                         trusted networks and tests, like Postfix's\n"
        "                         smtpd_tls_auth_only = no)\n"
        "  --tls-cert FILE        PEM certificate (chain) for STARTTLS\n"
        "  --tls-key FILE         PEM private key for STARTTLS\n"
        "  --lmtp                 speak LMTP (RFC 2033) instead of SMTP\n"
        "  --lenient-lf           accept a bare LF as the end of a command line (telnet, nc);\n"
        "                         never for the end of DATA, which needs CRLF.CRLF\n"
        "  --timeout SECONDS      a command must arrive whole within this time after the last\n"
        "                         reply, however it trickles in; else 421 and close (default 300)\n"
        "  --data-timeout SECONDS each 64 KiB of a message (DATA or BDAT) must arrive within\n"
        "                         this time (default 180)\n"
        "  --tls-timeout SECONDS  the STARTTLS handshake must be done within this time (default "
        "60)\n"
        "  --stress-timeout SECONDS  every timeout above is cut to this while 3/4 or more of the\n"
        "                         connection slots are taken (default 10)\n"
        "  --max-connections N    concurrent connections (default 10000; lowered to fit\n"
        "                         RLIMIT_NOFILE, two descriptors per connection)\n"
        "  --max-per-client N     concurrent connections from one client address (default 50;\n"
        "                         0: no limit)\n"
        "  --memory-budget MIB    when the connections hold more memory than this, the largest\n"
        "                         of those whose client stopped reading are closed (default 256)\n",
        prog);
}

inline bool parse_number(const char* text, std::uint64_t& out) {
    if (!text || !*text) return false;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text, &end, 10);
    if (*end != '\0' || text[0] == '-') return false;
    out = v;
    return true;
}

inline bool is_number_option(const std::string& name) {
    for (const char* known :
         {"--max-size", "--timeout", "--data-timeout", "--tls-timeout", "--stress-timeout",
          "--max-connections", "--max-per-client", "--memory-budget"}) {
        if (name == known) return true;
    }
    return false;
}

// Timeouts are 1 second to 1 day; --max-connections and --memory-budget are at least 1.
inline void set_number_option(server_options& o, const std::string& name, std::uint64_t n) {
    const auto seconds = static_cast<unsigned>(n > 86400 ? 86400 : (n == 0 ? 1 : n));
    if (name == "--max-size") o.max_size = n;
    if (name == "--timeout") o.timeout = seconds;
    if (name == "--data-timeout") o.data_timeout = seconds;
    if (name == "--tls-timeout") o.tls_timeout = seconds;
    if (name == "--stress-timeout") o.stress_timeout = seconds;
    if (name == "--max-connections") o.max_connections = static_cast<std::size_t>(n == 0 ? 1 : n);
    if (name == "--max-per-client") o.max_per_client = static_cast<std::size_t>(n);
    if (name == "--memory-budget") o.memory_budget = static_cast<std::size_t>(n == 0 ? 1 : n);
}

// Parses argv; prints a message and returns false on error (or --help: `help` set).
inline bool parse_server_options(int argc, char** argv, server_options& o, bool& help) {
    help = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        std::string value;
        bool has_value = false;
        const auto eq = arg.find('=');
        if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg.resize(eq);
            has_value = true;
        }
        const auto need = [&](const char* name) -> bool {
            if (has_value) return true;
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s: %s needs a value\n", argv[0], name);
                return false;
            }
            value = argv[++i];
            return true;
        };
        std::uint64_t n = 0;
        if (arg == "--help" || arg == "-h") {
            help = true;
            return false;
        } else if (arg == "--lmtp") {
            o.lmtp = true;
        } else if (arg == "--lenient-lf") {
            o.lenient_lf = true;
        } else if (arg == "--require-auth") {
            o.require_auth = true;
        } else if (arg == "--auth-without-tls") {
            o.auth_without_tls = true;
        } else if (arg == "--listen") {
            if (!need("--listen")) return false;
            o.listen = value;
        } else if (arg == "--maildir") {
            if (!need("--maildir")) return false;
            o.maildir = value;
        } else if (arg == "--hostname") {
            if (!need("--hostname")) return false;
            o.hostname = value;
        } else if (arg == "--tls-cert") {
            if (!need("--tls-cert")) return false;
            o.tls_cert = value;
        } else if (arg == "--tls-key") {
            if (!need("--tls-key")) return false;
            o.tls_key = value;
        } else if (arg == "--auth") {
            if (!need("--auth")) return false;
            const auto colon = value.find(':');
            if (colon == std::string::npos || colon == 0) {
                std::fprintf(stderr, "%s: --auth wants USER:PASS\n", argv[0]);
                return false;
            }
            o.auth_user = value.substr(0, colon);
            o.auth_pass = value.substr(colon + 1);
            o.auth = true;
        } else if (is_number_option(arg)) {
            if (!need(arg.c_str())) return false;
            if (!parse_number(value.c_str(), n)) {
                std::fprintf(stderr, "%s: %s wants a number, not '%s'\n", argv[0], arg.c_str(),
                             value.c_str());
                return false;
            }
            set_number_option(o, arg, n);
        } else {
            std::fprintf(stderr, "%s: unknown option '%s' (try --help)\n", argv[0], argv[i]);
            return false;
        }
    }
    if (o.tls_cert.empty() != o.tls_key.empty()) {
        std::fprintf(stderr, "%s: --tls-cert and --tls-key go together\n", argv[0]);
        return false;
    }
    if (o.hostname.empty()) {
        char name[256] = {};
        if (::gethostname(name, sizeof name - 1) == 0 && name[0] != '\0')
            o.hostname = name;
        else
            o.hostname = "localhost";
    }
    return true;
}

// Splits "host:port", "[v6]:port" or ":port". Returns false when malformed.
inline bool split_host_port(const std::string& s, std::string& host, std::string& port) {
    if (!s.empty() && s[0] == '[') {
        const auto close = s.find(']');
        if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':')
            return false;
        host = s.substr(1, close - 1);
        port = s.substr(close + 2);
    } else {
        const auto colon = s.rfind(':');
        if (colon == std::string::npos) return false;
        host = s.substr(0, colon);
        port = s.substr(colon + 1);
    }
    if (host.empty()) host = "0.0.0.0";
    return !port.empty();
}

} // namespace smtpp_examples

#endif // SMTPP_EXAMPLES_OPTIONS_HPP
