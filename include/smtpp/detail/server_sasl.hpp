// smtpp internal: the server's side of one AUTH exchange (RFC 4954 4): the mechanism, the
// decoded responses, and PLAIN (RFC 4616) and LOGIN decoded into their fields. The session
// writes the replies and asks the caller; this holds the state between the lines.
#ifndef SMTPP_DETAIL_SERVER_SASL_HPP
#define SMTPP_DETAIL_SERVER_SASL_HPP

#include <smtpp/base64.hpp>
#include <smtpp/detail/ascii.hpp>
#include <smtpp/detail/buffer.hpp>
#include <smtpp/error.hpp>
#include <smtpp/macros.hpp>
#include <smtpp/sasl.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

SMTPP_NAMESPACE_BEGIN
namespace detail {

class server_sasl {
public:
    enum class mechanism_kind : unsigned char { plain, login, other };

    // What a response (initial or after a challenge) leads to.
    enum class next : unsigned char {
        ask_password, // LOGIN got the user name: send the password prompt
        decide,       // the caller judges: fields() for PLAIN and LOGIN, response() for others
        malformed,    // a PLAIN message that is not one (501)
    };

    // A new exchange for `mechanism` (as the client wrote it: kept upper-cased).
    void start(std::string_view mechanism) noexcept {
        wipe();
        length_ = static_cast<std::uint8_t>(mechanism.size() < sizeof name_ ? mechanism.size()
                                                                            : sizeof name_);
        for (std::size_t i = 0; i < length_; ++i) name_[i] = to_upper(mechanism[i]);
        kind_ = iequals(this->mechanism(), "PLAIN")   ? mechanism_kind::plain
                : iequals(this->mechanism(), "LOGIN") ? mechanism_kind::login
                                                      : mechanism_kind::other;
        step_ = 0;
        have_user_ = false;
    }

    // Decodes one response (strict base64, RFC 4954 4; "=" of an initial response is empty)
    // and says what follows. Errors: bad_base64 (then the exchange is over: wipe()).
    [[nodiscard]] errc take_response(std::string_view base64_text, bool initial, next& what) {
        if (!initial && step_ != UINT32_MAX) ++step_; // counts, saturating
        if (kind_ != mechanism_kind::login || !have_user_) wipe_buffer();
        if (!(initial && base64_text == "=")) {
            if (const errc e = decode_append(base64_text); e != errc::ok) return e;
        }
        what = classify();
        return errc::ok;
    }

    [[nodiscard]] std::string_view mechanism() const noexcept { return {name_, length_}; }
    [[nodiscard]] mechanism_kind kind() const noexcept { return kind_; }
    [[nodiscard]] std::size_t step() const noexcept { return step_; }
    // The last decoded response (LOGIN: user name and password, one after the other).
    [[nodiscard]] std::string_view response() const noexcept { return buffer_; }
    // PLAIN and LOGIN, once next::decide: the credentials (views into this object).
    [[nodiscard]] sasl_plain fields() const noexcept {
        sasl_plain fields;
        if (kind_ == mechanism_kind::plain) {
            (void)sasl_plain_parse(buffer_, fields); // checked by classify()
        } else if (kind_ == mechanism_kind::login) {
            fields.authcid = std::string_view(buffer_).substr(0, user_size_);
            fields.password = std::string_view(buffer_).substr(user_size_);
        }
        return fields;
    }

    // Forgets the credentials and zeroes the memory they were in.
    void wipe() noexcept {
        wipe_buffer();
        user_size_ = 0;
    }

    [[nodiscard]] std::size_t heap_bytes() const noexcept { return heap_bytes_of(buffer_); }
    void release() { std::string().swap(buffer_); }

private:
    next classify() {
        if (kind_ == mechanism_kind::login && !have_user_) {
            have_user_ = true;
            user_size_ = static_cast<std::uint32_t>(buffer_.size());
            return next::ask_password;
        }
        sasl_plain fields;
        if (kind_ == mechanism_kind::plain && sasl_plain_parse(buffer_, fields) != errc::ok)
            return next::malformed;
        return next::decide;
    }

    [[nodiscard]] errc decode_append(std::string_view text) {
        const std::size_t start = buffer_.size();
        buffer_.resize(start + base64_decoded_size_max(text.size()));
        std::string_view decoded;
        const errc e = base64_decode(text, &buffer_[0] + start, buffer_.size() - start, decoded);
        buffer_.resize(e == errc::ok ? start + decoded.size() : start);
        return e;
    }

    void wipe_buffer() noexcept {
        for (char& c : buffer_) c = '\0'; // credentials do not linger in the heap block
        buffer_.clear();
    }

    // Small fields: a session holds one of these whether or not AUTH is used.
    std::string buffer_;
    char name_[20] = {};
    std::uint8_t length_ = 0;
    mechanism_kind kind_ = mechanism_kind::other;
    bool have_user_ = false;
    std::uint32_t step_ = 0;
    std::uint32_t user_size_ = 0; // bounded by limits.auth_line
};

} // namespace detail
SMTPP_NAMESPACE_END

#endif // SMTPP_DETAIL_SERVER_SASL_HPP
