// smtpp examples: server-side TLS through OpenSSL memory BIOs. The socket code moves
// ciphertext in and out; the smtpp session above only ever sees plaintext, so STARTTLS needs
// no change to the Sans-IO session (it just says tls_handshake, then gets tls_established()).
// Compiled when SMTPP_EXAMPLES_TLS is 1 (CMake found OpenSSL).
#ifndef SMTPP_EXAMPLES_TLS_HPP
#define SMTPP_EXAMPLES_TLS_HPP

#if SMTPP_EXAMPLES_TLS

#include <openssl/buffer.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <climits>
#include <cstddef>
#include <string>
#include <string_view>

namespace smtpp_examples {

inline std::string openssl_error() {
    const unsigned long e = ERR_get_error();
    if (e == 0) return "unknown TLS error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

// Bytes to send (ciphertext), kept where they are until they are sent, as
// server_session::pending_output() keeps its own: front() hands out the oldest block, which
// stays valid and unchanged until consume() has taken all of it, so an asynchronous write may
// point at it; what is queued meanwhile collects in a second block, appended to via tail().
class send_queue {
public:
    std::string_view front() const noexcept { return std::string_view(front_).substr(sent_); }
    // Where new bytes go: the front block when it is empty (nothing of it is out there),
    // else the second one.
    std::string& tail() noexcept { return front_.empty() ? front_ : back_; }
    // The first n bytes of front() were sent (clamped to its size).
    void consume(std::size_t n) noexcept {
        sent_ += n < front_.size() - sent_ ? n : front_.size() - sent_;
        if (sent_ < front_.size()) return;
        front_.clear();
        sent_ = 0;
        front_.swap(back_); // its storage is reused for the next bytes queued behind
    }
    std::size_t size() const noexcept { return front_.size() - sent_ + back_.size(); }
    std::size_t capacity() const noexcept { return front_.capacity() + back_.capacity(); }
    // Gives the storage back to the heap when nothing is queued (an idle connection).
    void release_if_empty() {
        if (size() != 0) return;
        std::string().swap(front_);
        std::string().swap(back_);
        sent_ = 0;
    }

private:
    std::string front_; // [sent_, size) unsent; never changed while it holds unsent bytes
    std::string back_;  // queued behind it
    std::size_t sent_ = 0;
};

// One SSL_CTX for the whole server: certificate and key loaded once.
class tls_context {
public:
    tls_context() = default;
    tls_context(const tls_context&) = delete;
    tls_context& operator=(const tls_context&) = delete;
    ~tls_context() { SSL_CTX_free(ctx_); }

    bool load(const std::string& cert, const std::string& key, std::string& error) {
        ctx_ = SSL_CTX_new(TLS_server_method());
        if (!ctx_) {
            error = openssl_error();
            return false;
        }
        SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
        SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_RELEASE_BUFFERS);
        if (SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx_) != 1) {
            error = openssl_error();
            return false;
        }
        return true;
    }
    SSL_CTX* get() const noexcept { return ctx_; }

private:
    SSL_CTX* ctx_ = nullptr;
};

// One connection's TLS state: ciphertext in through feed(), out through drain().
class tls_stream {
public:
    enum class status { done, want_more, failed };

    explicit tls_stream(SSL_CTX* ctx) : ssl_(SSL_new(ctx)) {
        rbio_ = new_bio();
        wbio_ = new_bio();
        SSL_set_bio(ssl_, rbio_, wbio_); // the SSL owns both BIOs now
        SSL_set_accept_state(ssl_);
    }
    tls_stream(const tls_stream&) = delete;
    tls_stream& operator=(const tls_stream&) = delete;
    ~tls_stream() { SSL_free(ssl_); }

    bool established() const noexcept { return established_; }

    // Ciphertext from the network.
    void feed(std::string_view cipher) {
        while (!cipher.empty()) {
            const int n = BIO_write(rbio_, cipher.data(), clamp(cipher.size()));
            if (n <= 0) return;
            cipher.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    // True when read() may return something. With nothing to read, read() is not worth
    // calling: OpenSSL would allocate its 16 KiB record buffer first, and keep it while idle.
    bool readable() const noexcept { return SSL_has_pending(ssl_) || BIO_ctrl_pending(rbio_) > 0; }

    // Ciphertext received but not yet decrypted.
    std::size_t buffered_input() const noexcept { return BIO_ctrl_pending(rbio_); }
    // Memory the two BIOs hold (they grow to their largest content and never shrink).
    std::size_t buffered_bytes() const noexcept { return capacity(rbio_) + capacity(wbio_); }

    // A memory BIO keeps the buffer of its largest content: an empty one that grew is swapped
    // for a new one. For idle connections.
    void release_buffers() {
        if (BIO_ctrl_pending(rbio_) == 0 && capacity(rbio_) > small)
            SSL_set0_rbio(ssl_, rbio_ = new_bio());
        if (BIO_ctrl_pending(wbio_) == 0 && capacity(wbio_) > small)
            SSL_set0_wbio(ssl_, wbio_ = new_bio());
    }

    status handshake() {
        if (established_) return status::done;
        const int r = SSL_do_handshake(ssl_);
        if (r == 1) {
            established_ = true;
            return status::done;
        }
        return retry(r) ? status::want_more : status::failed;
    }

    // Plaintext out of the ciphertext fed so far: >0 bytes, 0 needs more input, -1 closed or
    // failed.
    long read(char* p, std::size_t n) {
        const int r = SSL_read(ssl_, p, clamp(n));
        if (r > 0) return r;
        return retry(r) ? 0 : -1;
    }
    // Encrypts plaintext: bytes taken, 0 when blocked, -1 failed.
    long write(std::string_view plain) {
        if (plain.empty()) return 0;
        const int r = SSL_write(ssl_, plain.data(), clamp(plain.size()));
        if (r > 0) return r;
        return retry(r) ? 0 : -1;
    }
    void close_notify() { SSL_shutdown(ssl_); }

    // Appends the ciphertext waiting to be sent to `out`.
    void drain(std::string& out) {
        char buf[16384];
        for (;;) {
            const int n = BIO_read(wbio_, buf, static_cast<int>(sizeof buf));
            if (n <= 0) return;
            out.append(buf, static_cast<std::size_t>(n));
        }
    }

    // Why the last call failed, for the log.
    const std::string& error() const noexcept { return error_; }

    // "TLSv1.3 TLS_AES_256_GCM_SHA384", for logs and the envelope.
    std::string describe() const {
        std::string s = SSL_get_version(ssl_);
        s += ' ';
        s += SSL_get_cipher_name(ssl_);
        return s;
    }

private:
    static constexpr std::size_t small = 4096;

    static BIO* new_bio() {
        BIO* b = BIO_new(BIO_s_mem());
        BIO_set_mem_eof_return(b, -1); // empty input means "want more", not EOF
        return b;
    }
    static std::size_t capacity(BIO* b) noexcept {
        BUF_MEM* m = nullptr;
        BIO_get_mem_ptr(b, &m);
        return m ? m->max : 0;
    }
    static int clamp(std::size_t n) noexcept {
        return n > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(n);
    }
    bool retry(int r) {
        const int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
        error_ = e == SSL_ERROR_SSL ? openssl_error() : "TLS error " + std::to_string(e);
        ERR_clear_error();
        return false;
    }

    SSL* ssl_;
    BIO* rbio_ = nullptr;
    BIO* wbio_ = nullptr;
    bool established_ = false;
    std::string error_;
};

} // namespace smtpp_examples

#endif // SMTPP_EXAMPLES_TLS

#endif // SMTPP_EXAMPLES_TLS_HPP
