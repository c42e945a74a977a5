// smtpp fuzz support: see pair_server.hpp.
#include "pair_server.hpp"

#include <smtpp/server_session.hpp>

#include "fuzz_support.hpp"

#include <deque>

namespace smtpp_fuzz {

struct pair_server::impl {
    explicit impl(const pair_server_options& o) : config(make(o)), session(config) {}

    static smtpp::server_config make(const pair_server_options& o) {
        smtpp::server_config c;
        c.hostname = "mx.example.org";
        c.lmtp = o.lmtp;
        c.offer.chunking = o.chunking;
        c.offer.binarymime = o.chunking && o.binarymime;
        c.offer.pipelining = o.pipelining;
        c.offer.smtputf8 = o.smtputf8;
        c.offer.dsn = o.dsn;
        c.offer.starttls = o.starttls;
        if (o.auth_plain) c.auth_mechanisms = "PLAIN";
        c.plaintext_auth_requires_tls = false;
        return c;
    }

    smtpp::server_config config;
    smtpp::server_session session;
    std::deque<std::string> inbox; // received, not yet given to the session
    std::string feeding;           // what the session currently reads in place
    bool eof_pending = false;
    bool eof_given = false;
    bool tls_wait = false;
    bool closed = false;
    std::string output;
    delivered_message current;
    std::vector<delivered_message> delivered;
};

pair_server::pair_server(const pair_server_options& options) : impl_(new impl(options)) {
    FUZZ_CHECK(impl_->config.validate() == smtpp::errc::ok);
}
pair_server::~pair_server() = default;

void pair_server::receive(std::string_view bytes) {
    if (!bytes.empty()) impl_->inbox.emplace_back(bytes);
}
void pair_server::receive_eof() { impl_->eof_pending = true; }

namespace {

template <class Impl>
void move_output(Impl& s) {
    while (s.session.pending_output_size() != 0) {
        const std::string_view out = s.session.pending_output();
        s.output.append(out.data(), out.size());
        s.session.consume_output(out.size());
    }
}

} // namespace

bool pair_server::run() {
    using k = smtpp::server_event_kind;
    impl& s = *impl_;
    for (int guard = 0;; ++guard) {
        FUZZ_CHECK(guard < 1000000);
        if (s.closed || s.tls_wait) break;
        const smtpp::server_event ev = s.session.next_event();
        switch (ev.kind) {
        case k::need_data:
            if (!s.inbox.empty()) {
                s.feeding = std::move(s.inbox.front());
                s.inbox.pop_front();
                FUZZ_CHECK(s.session.receive_in_place(s.feeding) == smtpp::errc::ok);
                continue;
            }
            if (s.eof_pending && !s.eof_given) {
                s.eof_given = true;
                s.session.receive_eof();
                continue;
            }
            break;
        case k::output_full:
            break;
        case k::tls_handshake:
            s.tls_wait = true;
            break;
        case k::closed:
            s.closed = true;
            break;
        case k::body_chunk:
            s.current.body.append(ev.data.data(), ev.data.size());
            continue;
        case k::transaction_reset:
            s.current = delivered_message{};
            continue;
        case k::protocol_error:
        case k::awaiting_decision:
            continue;
        case k::mail: {
            s.current = delivered_message{};
            const std::string_view t = ev.cmd->address.text;
            s.current.sender.assign(t.substr(1, t.size() - 2));
            FUZZ_CHECK(s.session.accept() == smtpp::errc::ok);
            continue;
        }
        case k::rcpt: {
            const std::string_view t = ev.cmd->address.text;
            s.current.recipients.emplace_back(t.substr(1, t.size() - 2));
            FUZZ_CHECK(s.session.accept() == smtpp::errc::ok);
            continue;
        }
        case k::message_end:
            if (ev.recipient_index == 0) {
                s.current.chunked = ev.chunked;
                s.delivered.push_back(s.current);
            }
            FUZZ_CHECK(s.session.accept() == smtpp::errc::ok);
            continue;
        default:
            FUZZ_CHECK(smtpp::is_decision(ev.kind));
            FUZZ_CHECK(s.session.accept() == smtpp::errc::ok);
            continue;
        }
        // need_data with nothing to give, output_full, tls_handshake, closed: move output out.
        move_output(s);
        if (ev.kind == k::output_full) continue;
        break;
    }
    move_output(s);
    return !s.closed;
}

std::string pair_server::take_output() {
    std::string out;
    out.swap(impl_->output);
    return out;
}

const std::vector<delivered_message>& pair_server::delivered() const { return impl_->delivered; }
bool pair_server::tls_pending() const { return impl_->tls_wait; }
void pair_server::establish_tls() {
    FUZZ_CHECK(impl_->session.tls_established(true) == smtpp::errc::ok);
    impl_->tls_wait = false;
    // The client must send nothing between STARTTLS and the handshake (RFC 3207 4.2 / 5).
    FUZZ_CHECK(impl_->inbox.empty());
}

} // namespace smtpp_fuzz
