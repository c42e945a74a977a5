// smtpp internal: the client's side of one AUTH exchange (RFC 4954 4): choosing the mechanism,
// PLAIN's initial response (RFC 4616), LOGIN's answers, and the bound on round trips. Other
// mechanisms are the caller's, through auth_challenge events.
#ifndef SMTPP_DETAIL_CLIENT_SASL_HPP
#define SMTPP_DETAIL_CLIENT_SASL_HPP

#include <smtpp/base64.hpp>
#include <smtpp/client_config.hpp>
#include <smtpp/detail/ascii.hpp>
#include <smtpp/ehlo_reader.hpp>
#include <smtpp/error.hpp>
#include <smtpp/macros.hpp>
#include <smtpp/sasl.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

SMTPP_NAMESPACE_BEGIN
namespace detail {

// Every SASL mechanism sends something an eavesdropper must not see (a password, a bearer
// token, a hash to attack offline), except EXTERNAL (the credential is the TLS client
// certificate or the connection itself, RFC 4422 A) and ANONYMOUS (RFC 4505).
[[nodiscard]] constexpr bool carries_credentials(std::string_view mechanism) noexcept {
    return !iequals(mechanism, "EXTERNAL") && !iequals(mechanism, "ANONYMOUS");
}

class client_sasl {
public:
    enum class mechanism_kind : unsigned char { plain, login, caller };

    // The first of `wanted` the server offers; false when none is.
    [[nodiscard]] bool choose(const std::vector<std::string>& wanted,
                              const capabilities& offered) noexcept {
        for (std::size_t i = 0; i < wanted.size(); ++i) {
            if (!offered.has_auth_mechanism(wanted[i])) continue;
            name_ = wanted[i];
            kind_ = iequals(name_, "PLAIN")   ? mechanism_kind::plain
                    : iequals(name_, "LOGIN") ? mechanism_kind::login
                                              : mechanism_kind::caller;
            steps_ = challenges_ = 0;
            return true;
        }
        return false;
    }

    [[nodiscard]] std::string_view mechanism() const noexcept { return name_; }
    [[nodiscard]] mechanism_kind kind() const noexcept { return kind_; }

    // PLAIN's response (RFC 4616 2), base64, into `out`. Errors: invalid_argument (empty user
    // name or password, a NUL), invalid_utf8.
    [[nodiscard]] errc plain_response(const client_credentials& c, std::string& out) const {
        out.clear();
        return sasl_plain_encode(out, c.authzid, c.username, c.password);
    }

    // Counts a 334 challenge; false once more than `max` came in one exchange.
    [[nodiscard]] bool another_challenge(std::size_t max) noexcept { return ++challenges_ <= max; }

    // The built-in mechanisms' answer to a challenge whose text (base64, as the server wrote
    // it) is `prompt`, base64-encoded into `out`; "*" (cancel) when there is none.
    void answer(std::string_view prompt, const client_credentials& c, std::string& out) {
        const std::size_t step = steps_++;
        out.clear();
        const std::string* login =
            kind_ == mechanism_kind::login ? login_answer(prompt, step, c) : nullptr;
        if (kind_ == mechanism_kind::plain && step == 0) {
            if (plain_response(c, out) != errc::ok) out.assign("*");
        } else if (login != nullptr) {
            base64_encode_append(out, *login);
        } else {
            out.assign("*");
        }
    }

    // The initial response went with the AUTH command: the next challenge is a second step.
    void initial_response_sent() noexcept { ++steps_; }

private:
    // LOGIN answers the prompt it is given ("Username:" / "Password:", in the spellings
    // servers use), so a server cannot have the password sent where it asked for the user
    // name. A prompt it does not recognise is answered by position (user name first), as
    // every LOGIN client does; nothing after the second step.
    [[nodiscard]] static const std::string* login_answer(std::string_view prompt, std::size_t step,
                                                         const client_credentials& c) noexcept {
        switch (sasl_login_classify(prompt)) {
        case sasl_login_prompt::username:
            return &c.username;
        case sasl_login_prompt::password:
            return &c.password;
        case sasl_login_prompt::unknown:
            break;
        }
        if (step == 0) return &c.username;
        if (step == 1) return &c.password;
        return nullptr;
    }

    std::string_view name_;
    mechanism_kind kind_ = mechanism_kind::plain;
    std::size_t steps_ = 0;
    std::size_t challenges_ = 0;
};

} // namespace detail
SMTPP_NAMESPACE_END

#endif // SMTPP_DETAIL_CLIENT_SASL_HPP
