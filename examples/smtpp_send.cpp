// smtpp-send: sends one message with smtpp::client_session over a blocking socket, using
// whatever the server offers (PIPELINING, CHUNKING/BDAT, 8BITMIME, SMTPUTF8, SIZE; STARTTLS
// and AUTH PLAIN/LOGIN when asked). Prints one line per recipient with the server's reply and
// exits 0 only if every recipient was accepted.
//
//   smtpp-send --server HOST:PORT --from ADDR --to ADDR [--to ADDR ...] [--helo NAME]
//              [--starttls] [--auth USER:PASS] [--lmtp] [--verbose] FILE|-
#include "common/options.hpp"

#include <smtpp/client_session.hpp>
#include <smtpp/data.hpp>

#if SMTPP_EXAMPLES_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

struct send_options {
    std::string server, from, helo = "localhost", user, pass, file;
    std::vector<std::string> to;
    bool starttls = false, auth = false, lmtp = false, verbose = false;
};

void usage(std::FILE* to) {
    std::fprintf(to,
                 "usage: smtpp-send --server HOST:PORT --from ADDR --to ADDR [--to ADDR ...]\n"
                 "                  [--helo NAME] [--starttls] [--auth USER:PASS] [--lmtp] [--verbose] FILE|-\n"
                 "  --from ''       sends the null reverse path <>\n"
                 "  --starttls      require STARTTLS (the certificate is NOT verified: this only\n"
                 "                  protects against passive eavesdropping)\n"
                 "  --auth U:P      AUTH PLAIN or LOGIN, whichever the server offers (only over TLS)\n"
                 "  --verbose       print the conversation to stderr\n"
                 "Exit status: 0 every recipient accepted, 1 otherwise, 2 usage error.\n");
}

bool parse(int argc, char** argv, send_options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&](std::string& out) {
            if (i + 1 >= argc) return false;
            out = argv[++i];
            return true;
        };
        if (a == "--server") {
            if (!value(o.server)) return false;
        } else if (a == "--from") {
            if (!value(o.from)) return false;
        } else if (a == "--to") {
            std::string t;
            if (!value(t)) return false;
            o.to.push_back(t);
        } else if (a == "--helo") {
            if (!value(o.helo)) return false;
        } else if (a == "--auth") {
            std::string up;
            if (!value(up) || up.find(':') == std::string::npos) return false;
            o.user = up.substr(0, up.find(':'));
            o.pass = up.substr(up.find(':') + 1);
            o.auth = true;
        } else if (a == "--starttls") {
            o.starttls = true;
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
    }
    return !o.server.empty() && !o.to.empty() && !o.file.empty();
}

bool read_input(const std::string& file, std::string& out) {
    std::FILE* f = file == "-" ? stdin : std::fopen(file.c_str(), "rb");
    if (!f) return false;
    char buf[65536];
    for (;;) {
        const std::size_t n = std::fread(buf, 1, sizeof buf, f);
        out.append(buf, n);
        if (n < sizeof buf) break;
    }
    const bool ok = !std::ferror(f);
    if (f != stdin) std::fclose(f);
    return ok;
}

int connect_to(const std::string& where) {
    std::string host, port;
    if (!smtpp_examples::split_host_port(where, host, port)) return -1;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0) return -1;
    int fd = -1;
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        ::close(fd);
        fd = -1;
    }
    ::freeaddrinfo(res);
    if (fd >= 0) {
        timeval tv{};
        tv.tv_sec = 300; // RFC 5321 4.5.3.2: the longest wait a client needs (10 min at most)
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    return fd;
}

// The socket, plain or (after STARTTLS) through OpenSSL.
class transport {
public:
    explicit transport(int fd) : fd_(fd) {}
    ~transport() {
#if SMTPP_EXAMPLES_TLS
        if (ssl_) {
            SSL_shutdown(ssl_);
            SSL_free(ssl_);
        }
        if (ctx_) SSL_CTX_free(ctx_);
#endif
        ::close(fd_);
    }
    transport(const transport&) = delete;
    transport& operator=(const transport&) = delete;

    bool write_all(std::string_view data) {
        while (!data.empty()) {
            long n;
#if SMTPP_EXAMPLES_TLS
            if (ssl_) n = SSL_write(ssl_, data.data(), static_cast<int>(data.size() > 1048576 ? 1048576 : data.size()));
            else
#endif
                n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                if (n < 0 && errno == EINTR) continue;
                return false;
            }
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
    // >0 bytes, 0 EOF, <0 error
    long read(char* p, std::size_t n) {
#if SMTPP_EXAMPLES_TLS
        if (ssl_) {
            const int r = SSL_read(ssl_, p, static_cast<int>(n));
            if (r > 0) return r;
            return SSL_get_error(ssl_, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
        }
#endif
        for (;;) {
            const ssize_t r = ::recv(fd_, p, n, 0);
            if (r < 0 && errno == EINTR) continue;
            return r;
        }
    }
    bool start_tls(const std::string& server_name, std::string& info) {
#if SMTPP_EXAMPLES_TLS
        ctx_ = SSL_CTX_new(TLS_client_method());
        if (!ctx_) return false;
        SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
        ssl_ = SSL_new(ctx_);
        SSL_set_fd(ssl_, fd_);
        SSL_set_tlsext_host_name(ssl_, server_name.c_str());
        if (SSL_connect(ssl_) != 1) {
            char buf[256];
            ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
            info = buf;
            return false;
        }
        info = std::string(SSL_get_version(ssl_)) + " " + SSL_get_cipher_name(ssl_) + " (certificate not verified)";
        return true;
#else
        (void)server_name;
        info = "built without OpenSSL";
        return false;
#endif
    }

private:
    int fd_;
#if SMTPP_EXAMPLES_TLS
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
#endif
};

// The header section: everything before the first empty line.
std::string_view header_section(std::string_view message) {
    for (std::size_t start = 0; start < message.size();) {
        const std::size_t end = message.find('\n', start);
        const std::string_view line =
            message.substr(start, end == std::string_view::npos ? end : end - start);
        if (line.empty() || line == "\r") return message.substr(0, start);
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return message;
}

// What the message needs, for the envelope: 8BITMIME for octets >= 0x80, BINARYMIME for NUL
// or lines over 998 octets (RFC 3030), SMTPUTF8 for a UTF-8 header section (RFC 6531), and
// its RFC 1870 size as it goes on the wire.
void describe_content(std::string_view message, smtpp::envelope& env) {
    const smtpp::body_traits traits = smtpp::scan_body(message);
    env.content = traits.has_nul || traits.long_line ? smtpp::body_content::binary
                  : traits.has_8bit                  ? smtpp::body_content::eight_bit
                                                     : smtpp::body_content::seven_bit;
    // Text is CRLF-normalised on the way out; a binary body goes out as it is (BDAT).
    env.size = env.content == smtpp::body_content::binary ? message.size() : traits.size;
    const std::string_view headers = header_section(message);
    env.utf8_message = std::any_of(headers.begin(), headers.end(),
                                   [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// The last line of a reply, as "250 ...": in a multi-line reply it carries the final word
// (Exim: "250- 0 byte chunk, total 69" then "250 OK id=...").
std::string last_line(const smtpp::reply_info& r) {
    std::string_view raw = r.raw;
    if (raw.size() >= 2 && raw.substr(raw.size() - 2) == "\r\n") raw.remove_suffix(2);
    const std::size_t start = raw.rfind("\r\n");
    return std::string(start == std::string_view::npos ? raw : raw.substr(start + 2));
}

void trace(bool on, const char* dir, std::string_view bytes) {
    if (!on) return;
    while (!bytes.empty()) {
        const auto nl = bytes.find('\n');
        std::string_view line = bytes.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        std::fprintf(stderr, "%s %.*s\n", dir, static_cast<int>(line.size() > 200 ? 200 : line.size()), line.data());
        bytes.remove_prefix(nl == std::string_view::npos ? bytes.size() : nl + 1);
    }
}

} // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    send_options o;
    if (!parse(argc, argv, o)) {
        usage(stderr);
        return 2;
    }
    std::string message;
    if (!read_input(o.file, message)) {
        std::fprintf(stderr, "smtpp-send: cannot read %s: %s\n", o.file.c_str(), std::strerror(errno));
        return 2;
    }

    smtpp::client_config cfg;
    cfg.helo_name = o.helo;
    cfg.lmtp = o.lmtp;
    cfg.use_chunking = true; // BDAT whenever the server offers CHUNKING
    cfg.tls = o.starttls ? smtpp::tls_mode::required : smtpp::tls_mode::never;
    if (o.auth) {
        cfg.auth_mechanisms = {"PLAIN", "LOGIN"};
        cfg.credentials.username = o.user;
        cfg.credentials.password = o.pass;
    }
    {
        std::string host, port;
        std::uint64_t p = 0;
        if (smtpp_examples::split_host_port(o.server, host, port) && smtpp_examples::parse_number(port.c_str(), p) &&
            p < 65536) {
            cfg.port = static_cast<std::uint16_t>(p);
        }
    }

    std::vector<smtpp::recipient> rcpts;
    for (const std::string& t : o.to) rcpts.emplace_back(t);
    smtpp::envelope env(o.from, rcpts.data(), rcpts.size());
    describe_content(message, env);

    const int fd = connect_to(o.server);
    if (fd < 0) {
        std::fprintf(stderr, "smtpp-send: cannot connect to %s\n", o.server.c_str());
        return 1;
    }
    transport net(fd);
    smtpp::client_session s(cfg);

    // Per recipient: the reply that decided its fate, and whether that was a success.
    std::vector<std::string> verdict(rcpts.size());
    std::vector<bool> accepted(rcpts.size(), false), rcpt_ok(rcpts.size(), false);
    bool sent_mail = false, body_ended = false, failed = false;
    std::size_t body_pos = 0;
    char buf[16384];

    for (;;) {
        const smtpp::client_event ev = s.next_event();
        using k = smtpp::client_event_kind;
        switch (ev.kind) {
        case k::need_data: break;
        case k::greeting:
        case k::authenticated: break;
        case k::start_tls: {
            std::string info;
            if (!net.write_all(s.pending_output())) return 1;
            s.consume_output(s.pending_output().size());
            std::string host, port;
            (void)smtpp_examples::split_host_port(o.server, host, port);
            if (!net.start_tls(host, info)) {
                std::fprintf(stderr, "smtpp-send: TLS handshake failed: %s\n", info.c_str());
                return 1;
            }
            if (o.verbose) std::fprintf(stderr, "== TLS: %s\n", info.c_str());
            (void)s.tls_established();
            continue;
        }
        case k::auth_challenge: (void)s.auth_cancel(); break; // only PLAIN/LOGIN are configured
        case k::ready:
            if (!sent_mail) {
                sent_mail = true;
                if (s.send_mail(env) != smtpp::errc::ok) (void)s.quit(); // reported as an error event
            } else {
                (void)s.quit();
            }
            break;
        case k::recipient_result:
            if (ev.recipient < rcpts.size()) {
                verdict[ev.recipient] = last_line(ev.reply);
                rcpt_ok[ev.recipient] = ev.result == smtpp::outcome::success;
            }
            break;
        case k::send_body:
            while (body_pos < message.size()) {
                const std::size_t n = std::min<std::size_t>(65536, message.size() - body_pos);
                const smtpp::errc e = s.send_body(std::string_view(message).substr(body_pos, n));
                if (e == smtpp::errc::output_full) break; // a send_body event follows once drained
                if (e != smtpp::errc::ok) {
                    std::fprintf(stderr, "smtpp-send: cannot send the message: %s\n", smtpp::to_string(e));
                    return 1;
                }
                body_pos += n;
            }
            if (body_pos == message.size() && !body_ended) {
                body_ended = true;
                if (s.end_body() != smtpp::errc::ok) return 1;
            }
            break;
        case k::message_result: {
            const bool ok = ev.result == smtpp::outcome::success;
            const std::string text = ev.reply.code ? last_line(ev.reply) : std::string(smtpp::to_string(ev.error));
            if (o.lmtp && body_ended && ev.reply.code && ev.recipient < rcpts.size()) {
                verdict[ev.recipient] = text;
                accepted[ev.recipient] = ok && rcpt_ok[ev.recipient];
            } else {
                for (std::size_t i = 0; i < rcpts.size(); ++i) {
                    if (!rcpt_ok[i] && !verdict[i].empty()) continue; // keeps its RCPT refusal
                    verdict[i] = text;
                    accepted[i] = ok;
                }
            }
            break;
        }
        case k::error:
            failed = true;
            std::fprintf(stderr, "smtpp-send: %s%s%s%s\n", smtpp::to_string(ev.error), ev.reply.code ? ": " : "",
                         ev.reply.code ? last_line(ev.reply).c_str() : "",
                         o.auth && !o.starttls ? " (--auth sends a password only with --starttls)" : "");
            break;
        case k::closed:
            if (ev.error != smtpp::errc::ok) {
                failed = true;
                std::fprintf(stderr, "smtpp-send: connection closed: %s\n", smtpp::to_string(ev.error));
            }
            break;
        }
        if (ev.kind == k::closed) {
            (void)net.write_all(s.pending_output());
            break;
        }
        if (s.wants_write()) {
            trace(o.verbose, "->", s.pending_output().substr(0, 2000));
            if (!net.write_all(s.pending_output())) {
                std::fprintf(stderr, "smtpp-send: write failed: %s\n", std::strerror(errno));
                s.receive_eof();
            }
            s.consume_output(s.pending_output().size());
            continue;
        }
        if (ev.kind != k::need_data) continue;
        const long n = net.read(buf, sizeof buf);
        if (n > 0) {
            trace(o.verbose, "<-", std::string_view(buf, static_cast<std::size_t>(n)));
            s.receive(std::string_view(buf, static_cast<std::size_t>(n)));
        } else {
            s.receive_eof();
        }
    }

    // Exit 0 only when every recipient was accepted (errors after that, e.g. on QUIT, were
    // printed but do not undo a delivery).
    bool all = true;
    for (std::size_t i = 0; i < rcpts.size(); ++i) {
        if (verdict[i].empty()) verdict[i] = failed ? "not delivered (see the error above)" : "not attempted";
        std::printf("%s: %s\n", o.to[i].c_str(), verdict[i].c_str());
        all = all && accepted[i];
    }
    return all ? 0 : 1;
}
