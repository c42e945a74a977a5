// Runs the client transcripts in tests/transcripts/client/*.txt: server bytes in the reply
// styles of real servers, the bytes the client must send and the events it must report.
// Every server segment is also fed split at every index and byte by byte (split grind).
//
// Fixture format, one directive per line ('#' starts a comment line):
//   config: key=value ...   tls=never|opportunistic|required|implicit lmtp=0|1 pipelining=0|1
//                           chunking=0|1 auth=MECH,MECH user=U pass=P
//   message: from=A to=B,C content=7bit|8bit|binary size=N   (repeatable; one transaction each)
//   body: text             the body of the preceding message (escapes below)
//   S: text                bytes the server sends (escapes: \r \n \t \\ \xHH)
//   TLS                    the client must have asked for TLS: the handshake "happens" here
//   C: text                bytes the client must have sent, concatenated over all C: lines
//   E: text                one expected event, as the runner describes it (results:
//                          "message_result t<transaction> <recipient> <outcome> <code> ...")
// Set SMTPP_PRINT_TRANSCRIPT=<dir> to write what the client actually did, as C:/E: lines, to
// <dir>/<fixture name> (for reviewing a new fixture).
#include <smtpp/client_session.hpp>

#include "session_helpers.hpp"
#include "smtpp_catch.hpp"
#include "split_grind.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace smtpp;

struct fixture_message {
    std::string from;
    std::vector<std::string> to;
    std::string body;
    body_type content = body_type::unspecified;
    std::uint64_t size = 0;
};

struct fixture {
    client_config config;
    std::vector<fixture_message> messages;
    std::vector<std::string> segments{""}; // server bytes, split at TLS markers
    std::string client_bytes;
    std::string events;
};

// The fixtures live next to this file, wherever the build runs from.
std::string fixture_dir() {
    const std::string here = __FILE__;
    const std::size_t slash = here.find_last_of("/\\");
    return (slash == std::string::npos ? std::string(".") : here.substr(0, slash)) +
           "/transcripts/client/";
}

std::string unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 == s.size()) {
            out += s[i];
            continue;
        }
        const char c = s[++i];
        if (c == 'r')
            out += '\r';
        else if (c == 'n')
            out += '\n';
        else if (c == 't')
            out += '\t';
        else if (c == 'x' && i + 2 < s.size()) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else
            out += c;
    }
    return out;
}

std::vector<std::string> split_list(const std::string& s, char separator) {
    std::vector<std::string> parts;
    std::stringstream in(s);
    for (std::string part; std::getline(in, part, separator);) {
        if (!part.empty()) parts.push_back(part);
    }
    return parts;
}

void apply_config(client_config& c, const std::string& key, const std::string& value) {
    if (key == "tls") {
        c.tls = value == "never"      ? tls_mode::never
                : value == "required" ? tls_mode::required
                : value == "implicit" ? tls_mode::implicit
                                      : tls_mode::opportunistic;
    } else if (key == "lmtp")
        c.lmtp = value == "1";
    else if (key == "pipelining")
        c.use_pipelining = value == "1";
    else if (key == "chunking")
        c.use_chunking = value == "1";
    else if (key == "auth")
        c.auth_mechanisms = split_list(value, ',');
    else if (key == "user")
        c.credentials.username = value;
    else if (key == "pass")
        c.credentials.password = value;
    else if (key == "helo")
        c.helo_name = value;
    else
        FAIL("unknown config key " << key);
}

void apply_message(fixture_message& m, const std::string& key, const std::string& value) {
    if (key == "from")
        m.from = value == "<>" ? "" : value;
    else if (key == "to")
        m.to = split_list(value, ',');
    else if (key == "size")
        m.size = std::stoull(value);
    else if (key == "content") {
        m.content = value == "8bit"     ? body_type::eight_bit_mime
                    : value == "binary" ? body_type::binary_mime
                                        : body_type::unspecified;
    } else
        FAIL("unknown message key " << key);
}

template <class Apply>
void read_pairs(const std::string& text, Apply apply) {
    for (const std::string& pair : split_list(text, ' ')) {
        const std::size_t eq = pair.find('=');
        apply(pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1));
    }
}

fixture load(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    fixture f;
    f.config.helo_name = "client.example";
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        const std::size_t colon = line.find(": ");
        const std::string tag = line.substr(0, colon);
        const std::string rest = colon == std::string::npos ? "" : line.substr(colon + 2);
        if (tag == "config")
            read_pairs(rest, [&](const std::string& k, const std::string& v) {
                apply_config(f.config, k, v);
            });
        else if (tag == "message") {
            f.messages.emplace_back();
            read_pairs(rest, [&](const std::string& k, const std::string& v) {
                apply_message(f.messages.back(), k, v);
            });
        } else if (tag == "body")
            f.messages.back().body = unescape(rest);
        else if (tag == "S")
            f.segments.back() += unescape(rest);
        else if (tag == "TLS")
            f.segments.emplace_back();
        else if (tag == "C")
            f.client_bytes += unescape(rest);
        else if (tag == "E")
            f.events += rest + "\n";
        else
            FAIL("unknown directive: " << line);
    }
    return f;
}

std::string describe(const client_event& e) {
    std::string s = to_string(e.kind);
    if (e.kind == client_event_kind::recipient_result ||
        e.kind == client_event_kind::message_result) {
        s += " t" + std::to_string(e.transaction) + " " + std::to_string(e.recipient) + " " +
             to_string(e.result);
    }
    if (e.reply.code != 0) s += " " + std::to_string(e.reply.code);
    if (!e.reply.status.empty()) {
        s += " " + std::to_string(e.reply.status.cls) + "." +
             std::to_string(e.reply.status.subject) + "." + std::to_string(e.reply.status.detail);
    }
    if (e.error != errc::ok) s += std::string(" [") + to_string(e.error) + "]";
    return s;
}

// Plays the client side like an application: one transaction per message, then QUIT.
class player {
public:
    explicit player(const fixture& f) : fixture_(f), session_(f.config) {}

    // The server's bytes, reply by reply (see reply_splitter), until the session closes.
    void feed(std::string_view bytes) {
        bool fed = false;
        splitter.split(bytes, [&](std::string_view reply) {
            if (session_.is_closed()) return;
            feed_raw(reply);
            fed = true;
        });
        if (!fed) pump();
    }
    // The bytes as one read, even when they hold replies to commands not sent yet. What the
    // client queued is written first, as a transport does before the next read.
    void feed_raw(std::string_view bytes) {
        wire_ += smtpp_test::take_output(session_);
        smtpp_test::give(session_, bytes);
        pump();
    }
    smtpp_test::reply_splitter splitter;

    void pump() {
        for (client_event e = session_.next_event(); e.kind != client_event_kind::need_data;
             e = session_.next_event()) {
            events_ += describe(e) + "\n";
            act(e);
            if (e.kind == client_event_kind::closed) break;
        }
        wire_ += smtpp_test::take_output(session_);
    }

    void handshake() {
        if (session_.tls_established() == errc::ok) pump();
    }

    [[nodiscard]] std::string result() const { return wire_ + "\n--\n" + events_; }
    [[nodiscard]] const std::string& wire() const { return wire_; }
    [[nodiscard]] const std::string& events() const { return events_; }

private:
    void act(const client_event& e) {
        if (e.kind == client_event_kind::ready) return start_next();
        if (e.kind == client_event_kind::send_body) {
            REQUIRE(session_.send_body(fixture_.messages[current_].body) == errc::ok);
            REQUIRE(session_.end_body() == errc::ok);
        }
    }

    void start_next() {
        while (next_ < fixture_.messages.size()) {
            const fixture_message& m = fixture_.messages[next_];
            current_ = next_++;
            recipients_.clear();
            for (const std::string& to : m.to) recipients_.emplace_back(to);
            envelope e(m.from, recipients_.data(), recipients_.size());
            e.body = m.content;
            e.size = m.size;
            const errc refused = session_.send_mail(e);
            if (refused == errc::ok) return;
            events_ += std::string("send_mail refused [") + smtpp::to_string(refused) + "]\n";
        }
        REQUIRE(session_.quit() == errc::ok);
    }

    const fixture& fixture_;
    client_session session_;
    std::vector<recipient> recipients_;
    std::size_t next_ = 0;
    std::size_t current_ = 0;
    std::string wire_;
    std::string events_;
};

// Runs the fixture with segment `ground` fed as `pieces` and the others whole.
std::string run(const fixture& f, std::size_t ground, const std::vector<std::string_view>& pieces) {
    player p(f);
    p.pump();
    for (std::size_t i = 0; i < f.segments.size(); ++i) {
        if (i > 0) p.handshake();
        if (i == ground) {
            for (std::string_view piece : pieces) p.feed(piece);
        } else {
            p.feed(f.segments[i]);
        }
    }
    return p.result();
}

// The run result written as C:/E: lines, for reviewing a new fixture.
std::string as_fixture_lines(const std::string& result) {
    const std::size_t split = result.find("\n--\n");
    std::string out;
    std::string line;
    for (char c : result.substr(0, split)) {
        if (c == '\r')
            line += "\\r";
        else if (c == '\n') {
            out += "C: " + line + "\\n\n";
            line.clear();
        } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) {
            static constexpr char hex[] = "0123456789abcdef";
            line += std::string("\\x") + hex[static_cast<unsigned char>(c) >> 4] + hex[c & 0xF];
        } else
            line += c;
    }
    if (!line.empty()) out += "C: " + line + "\n";
    for (const std::string& e : split_list(result.substr(split + 4), '\n')) out += "E: " + e + "\n";
    return out;
}

void check_fixture(const std::string& name) {
    const fixture f = load(fixture_dir() + name);
    const std::string actual = run(f, f.segments.size(), {});
    if (const char* dir = std::getenv("SMTPP_PRINT_TRANSCRIPT")) {
        std::ofstream(std::string(dir) + "/" + name) << as_fixture_lines(actual);
    }
    CHECK(actual == f.client_bytes + "\n--\n" + f.events);
    for (std::size_t i = 0; i < f.segments.size(); ++i) {
        const long divergent = smtpp_test::first_divergent_split(
            f.segments[i],
            [&](const std::vector<std::string_view>& pieces) { return run(f, i, pieces); });
        INFO(name << " segment " << i);
        CHECK(divergent == -1);
    }
}

} // namespace

TEST_CASE(
    "transcript: Postfix with STARTTLS, pipelining, enhanced codes (S-2920-3.1-b, S-3207-4.2-c)",
    "[client][transcript]") {
    check_fixture("postfix.txt");
}

TEST_CASE("transcript: Exim without enhanced codes, one recipient refused (S-5321-4.2-d)",
          "[client][transcript]") {
    check_fixture("exim.txt");
}

TEST_CASE("transcript: Sendmail, implicit TLS and AUTH LOGIN (S-8314-3.3-a)",
          "[client][transcript]") {
    check_fixture("sendmail.txt");
}

TEST_CASE("transcript: OpenSMTPD without PIPELINING, lockstep (S-5321-4.3.1-a)",
          "[client][transcript]") {
    check_fixture("opensmtpd.txt");
}

TEST_CASE("transcript: Exchange with CHUNKING, BDAT (S-3030-2-a)", "[client][transcript]") {
    check_fixture("exchange.txt");
}

TEST_CASE("transcript: Gmail, TLS required, multi-line 550 (S-5321-4.2-g, S-3207-6-a)",
          "[client][transcript]") {
    check_fixture("gmail.txt");
}

TEST_CASE(
    "transcript: an empty last EHLO line and a multi-line greeting (S-5321-4.2-c, S-5321-4.2-h)",
    "[client][transcript]") {
    check_fixture("empty-last-line.txt");
}

TEST_CASE("transcript: Dovecot LMTP, one reply per recipient (S-2033-4.2-b)",
          "[client][transcript]") {
    check_fixture("dovecot-lmtp.txt");
}

TEST_CASE("transcript: Postfix 421 mid-transaction (S-5321-3.8-c)", "[client][transcript]") {
    check_fixture("postfix-421.txt");
}
