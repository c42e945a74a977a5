// smtpp-send: the connection to the server. A non-blocking socket, plain or (after STARTTLS)
// through OpenSSL; connecting, the TLS handshake, reads and writes never block, they say what
// to poll() for instead, so that one loop serves every connection and every wait has a
// deadline.
#ifndef SMTPP_SEND_CONNECTION_HPP
#define SMTPP_SEND_CONNECTION_HPP

#if SMTPP_EXAMPLES_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#endif

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace smtpp_send {

using clock = std::chrono::steady_clock;

// What one read() or write() did.
struct io_result {
    enum class state : std::uint8_t { done, wait, eof, failed };
    state what = state::done;
    std::size_t bytes = 0; // done: octets read or written
    short events = 0;      // wait: what to poll() for before trying again
    std::string error;     // failed: why

    static io_result done(long n) { return {state::done, static_cast<std::size_t>(n), 0, {}}; }
    static io_result wait(short events) { return {state::wait, 0, events, {}}; }
    static io_result eof() { return {state::eof, 0, 0, {}}; }
    static io_result failed(std::string why) { return {state::failed, 0, 0, std::move(why)}; }
};

// "30 s", "0.5 s".
inline std::string seconds_text(std::chrono::milliseconds ms) {
    char text[32];
    if (ms.count() % 1000 == 0)
        std::snprintf(text, sizeof text, "%lld s", static_cast<long long>(ms.count() / 1000));
    else
        std::snprintf(text, sizeof text, "%g s", static_cast<double>(ms.count()) / 1000);
    return text;
}

inline bool is_ip_address(const std::string& name) {
    unsigned char address[sizeof(in6_addr)];
    return ::inet_pton(AF_INET, name.c_str(), address) == 1 ||
           ::inet_pton(AF_INET6, name.c_str(), address) == 1;
}

// One address of the server, resolved once for every connection.
struct server_address {
    sockaddr_storage address{};
    socklen_t length = 0;
    int family = AF_UNSPEC;
    std::string text; // "192.0.2.1 port 25", for messages
};

// The addresses of HOST:PORT, in getaddrinfo()'s order; false and `error` (and `permanent`
// unless the resolver may answer later) when there are none.
inline bool resolve(const std::string& host, const std::string& port,
                    std::vector<server_address>& out, std::string& error, bool& permanent) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int e = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); e != 0) {
        error = "cannot resolve " + host + ": " + ::gai_strerror(e);
        permanent = e != EAI_AGAIN && e != EAI_SYSTEM && e != EAI_MEMORY;
        return false;
    }
    for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        server_address& a = out.emplace_back();
        std::memcpy(&a.address, ai->ai_addr, ai->ai_addrlen);
        a.length = ai->ai_addrlen;
        a.family = ai->ai_family;
        char text[NI_MAXHOST] = "?";
        (void)::getnameinfo(ai->ai_addr, ai->ai_addrlen, text, sizeof text, nullptr, 0,
                            NI_NUMERICHOST);
        a.text = std::string(text) + " port " + port;
    }
    ::freeaddrinfo(found);
    return true;
}

// How to check the server's certificate after STARTTLS.
struct tls_settings {
    std::string name;    // the DNS name (also sent as SNI) or IP address the certificate must carry
    std::string ca_file; // trusted CA certificates (PEM); empty: the system store
    bool verify = true;  // false: --insecure
};

// The socket, plain or through OpenSSL after start_tls().
class connection {
public:
    connection() = default;
    ~connection() {
#if SMTPP_EXAMPLES_TLS
        if (ssl_) {
            if (established_ && !broken_) (void)SSL_shutdown(ssl_); // close_notify, if it fits
            SSL_free(ssl_);
        }
        if (ctx_) SSL_CTX_free(ctx_);
#endif
        if (fd_ >= 0) ::close(fd_);
    }
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    [[nodiscard]] int fd() const noexcept { return fd_; }

    // Starts connecting to `to` (a socket opened before is closed). done: connected already;
    // wait: poll for POLLOUT, then call connected(); failed: why.
    [[nodiscard]] io_result connect(const server_address& to) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = ::socket(to.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd_ < 0) return io_result::failed(std::strerror(errno));
        if (::connect(fd_, reinterpret_cast<const sockaddr*>(&to.address), to.length) == 0)
            return io_result::done(0);
        if (errno == EINPROGRESS || errno == EINTR) return io_result::wait(POLLOUT);
        return io_result::failed(std::strerror(errno));
    }

    // After poll() said the connecting socket is writable (or failed): the outcome.
    [[nodiscard]] io_result connected() const {
        int status = 0;
        socklen_t length = sizeof status;
        if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &status, &length) != 0) status = errno;
        return status == 0 ? io_result::done(0) : io_result::failed(std::strerror(status));
    }

    // Reads what is there, up to n octets.
    [[nodiscard]] io_result read(char* p, std::size_t n) {
#if SMTPP_EXAMPLES_TLS
        if (ssl_) {
            ERR_clear_error();
            errno = 0;
            const int r = SSL_read(ssl_, p, static_cast<int>(std::min<std::size_t>(n, INT_MAX)));
            return r > 0 ? io_result::done(r) : tls_status(r);
        }
#endif
        for (;;) {
            const ssize_t r = ::recv(fd_, p, n, 0);
            if (r > 0) return io_result::done(r);
            if (r == 0) return io_result::eof();
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return io_result::wait(POLLIN);
            return io_result::failed(std::strerror(errno));
        }
    }

    // Writes what fits of `data` (not empty). With TLS, a write that has to wait must be
    // retried with at least the same octets (the session's pending output only grows).
    [[nodiscard]] io_result write(std::string_view data) {
#if SMTPP_EXAMPLES_TLS
        if (ssl_) {
            ERR_clear_error();
            errno = 0;
            const int r = SSL_write(ssl_, data.data(),
                                    static_cast<int>(std::min<std::size_t>(data.size(), 1u << 20)));
            return r > 0 ? io_result::done(r) : tls_status(r);
        }
#endif
        for (;;) {
            const ssize_t r = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (r >= 0) return io_result::done(r);
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return io_result::wait(POLLOUT);
            return io_result::failed(std::strerror(errno));
        }
    }

    // Prepares the TLS handshake (RFC 3207); false and `error` when OpenSSL cannot.
    [[nodiscard]] bool start_tls(const tls_settings& tls, std::string& error) {
#if SMTPP_EXAMPLES_TLS
        return configure(tls, error);
#else
        (void)tls;
        error = "built without OpenSSL";
        return false;
#endif
    }

    // Takes the handshake as far as it goes without waiting. done: `info` describes the
    // connection; wait: poll for `events` and call again; failed (or eof): `info` says why
    // (nothing but the handshake's alert was sent).
    [[nodiscard]] io_result handshake(const tls_settings& tls, std::string& info) {
#if SMTPP_EXAMPLES_TLS
        ERR_clear_error();
        errno = 0;
        const int r = SSL_connect(ssl_);
        if (r == 1) {
            established_ = true;
            info = std::string(SSL_get_version(ssl_)) + " " + SSL_get_cipher_name(ssl_) +
                   (tls.verify ? ", certificate verified for " + tls.name
                               : ", certificate NOT verified (--insecure)");
            return io_result::done(0);
        }
        io_result status = tls_status(r);
        if (status.what == io_result::state::wait) return status;
        const long verified = SSL_get_verify_result(ssl_);
        if (tls.verify && verified != X509_V_OK) {
            info = std::string("certificate verification failed: ") +
                   X509_verify_cert_error_string(verified) + " (checked for " + tls.name + ")";
        } else {
            info = status.what == io_result::state::eof ? "the server closed the connection"
                                                        : status.error;
        }
        return io_result::failed(info);
#else
        (void)tls;
        info = "built without OpenSSL";
        return io_result::failed(info);
#endif
    }

private:
#if SMTPP_EXAMPLES_TLS
    // The context and the connection object: protocol floor, trust anchors, the name to check.
    bool configure(const tls_settings& tls, std::string& error) {
        ctx_ = SSL_CTX_new(TLS_client_method());
        if (!ctx_) return openssl_failed("SSL_CTX_new", error);
        SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
        // write() is handed pending_output(), which may move and grow between attempts.
        SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
        // A close without close_notify is an EOF like any other: SMTP replies frame themselves.
        SSL_CTX_set_options(ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
        if (tls.verify) {
            const bool system = tls.ca_file.empty();
            if ((system ? SSL_CTX_set_default_verify_paths(ctx_)
                        : SSL_CTX_load_verify_locations(ctx_, tls.ca_file.c_str(), nullptr)) != 1) {
                return openssl_failed(system ? "the system's CA certificates" : tls.ca_file.c_str(),
                                      error);
            }
            SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
        }
        ssl_ = SSL_new(ctx_);
        if (!ssl_ || SSL_set_fd(ssl_, fd_) != 1) return openssl_failed("SSL_new", error);
        const bool address = is_ip_address(tls.name);
        // SNI names a host, never an address (RFC 6066 3).
        if (!address && SSL_set_tlsext_host_name(ssl_, tls.name.c_str()) != 1)
            return openssl_failed("SNI", error);
        if (tls.verify) {
            SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            const int named =
                address ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), tls.name.c_str())
                        : SSL_set1_host(ssl_, tls.name.c_str());
            if (named != 1) return openssl_failed(tls.name.c_str(), error);
        }
        return true;
    }

    static bool openssl_failed(const char* what, std::string& error) {
        char text[256] = "unknown error";
        if (const unsigned long e = ERR_get_error(); e != 0)
            ERR_error_string_n(e, text, sizeof text);
        error = std::string(what) + ": " + text;
        return false;
    }

    // What a failed SSL_read, SSL_write or SSL_connect means.
    io_result tls_status(int r) {
        const int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_WANT_READ) return io_result::wait(POLLIN);
        if (e == SSL_ERROR_WANT_WRITE) return io_result::wait(POLLOUT);
        if (e == SSL_ERROR_ZERO_RETURN) return io_result::eof();
        broken_ = true; // no close_notify after a fatal error
        if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
            return errno == 0 ? io_result::eof() : io_result::failed(std::strerror(errno));
        }
        std::string error;
        (void)openssl_failed("TLS", error);
        return io_result::failed(error);
    }

    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
    bool established_ = false;
    bool broken_ = false;
#endif
    int fd_ = -1;
};

} // namespace smtpp_send

#endif // SMTPP_SEND_CONNECTION_HPP
