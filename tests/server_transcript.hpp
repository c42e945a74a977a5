// Transcript fixtures for server_session: parse a plain-text fixture, drive a session with it,
// and render what happened, so tests compare plain strings. Shared by the fixture runner and
// the C++ tests.
//
// Fixture format (one directive per line, "#" comments and blank lines ignored):
//   O: words        session config: lmtp chunking binarymime smtputf8 dsn starttls expn
//                   tls_active require_tls require_auth plaintext_auth_ok bare_lf_commands
//                   space_after_colon lenient_bare_line_endings lenient_helo_extensions
//                   no_esc no_pipelining no_size
//                   no_8bitmime auth=PLAIN,LOGIN message_size=N recipients=N errors=N
//                   auth_failures=N output_buffer=N command_line=N auth_line=N
//                   bdat_discard=N
//   C: text         client bytes, CRLF appended;  C~ text  client bytes as written
//   S: text         expected server output, CRLF appended;  S~ text  as written
//   E: text         expected event, as rendered by render() below
//   A: kind action  the caller's answer to the decision event of the E: line just above it
//                   (events without an A: line are accepted): accept | reject CODE X.Y.Z|- text |
//                   reply CODE X.Y.Z|- text | challenge text
//                   (a "\n" in a reply text makes a multi-line reply)
//   A: tls | tls_bad | eof | shutdown | pause
//                   a barrier: the client bytes before it are fed (and split-ground) as one
//                   segment, then the action runs (tls_established, receive_eof, shutdown;
//                   pause does nothing: it shows what the session does with the input so far)
// Escapes in C/S/E/A text: \r \n \t \\ \xNN. Body chunks are merged into one "body ..." event
// (chunk boundaries depend on how the input was split).
#ifndef SMTPP_TESTS_SERVER_TRANSCRIPT_HPP
#define SMTPP_TESTS_SERVER_TRANSCRIPT_HPP

#include <smtpp/server_session.hpp>

#include <cstdint>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace smtpp_test {

inline std::string unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 == s.size()) {
            out.push_back(s[i]);
            continue;
        }
        const char c = s[++i];
        if (c == 'r')
            out.push_back('\r');
        else if (c == 'n')
            out.push_back('\n');
        else if (c == 't')
            out.push_back('\t');
        else if (c == 'x' && i + 2 < s.size() + 0) {
            out.push_back(static_cast<char>(
                std::strtol(std::string(s.substr(i + 1, 2)).c_str(), nullptr, 16)));
            i += 2;
        } else
            out.push_back(c);
    }
    return out;
}

inline std::string escape(std::string_view s) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (ch == '\r')
            out += "\\r";
        else if (ch == '\n')
            out += "\\n";
        else if (ch == '\t')
            out += "\\t";
        else if (ch == '\\')
            out += "\\\\";
        else if (c < 0x20 || c >= 0x7f) {
            out += "\\x";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        } else
            out.push_back(ch);
    }
    return out;
}

struct action {
    std::string kind;            // event kind it answers, or a barrier name
    std::size_t event_index = 0; // the E: line (counted over the file) it answers
    std::string verb;            // accept, reject, reply, challenge
    std::uint16_t code = 0;
    smtpp::enhanced_status status;
    std::string text;
};

struct segment {
    std::string client;
    std::string expected_output;
    std::vector<std::string> expected_events;
    std::string barrier; // tls, tls_bad, eof, shutdown or empty (end of file)
};

struct transcript {
    std::string error; // a malformed fixture: what is wrong (the tests build without exceptions)
    std::string auth_mechanisms;
    smtpp::server_config config;
    std::vector<segment> segments;
    std::deque<action> decisions;
};

inline smtpp::enhanced_status parse_status(const std::string& s) {
    smtpp::enhanced_status st;
    if (s == "-") return st;
    unsigned a = 0, b = 0, c = 0;
    if (std::sscanf(s.c_str(), "%u.%u.%u", &a, &b, &c) == 3) {
        st.cls = static_cast<std::uint8_t>(a);
        st.subject = static_cast<std::uint16_t>(b);
        st.detail = static_cast<std::uint16_t>(c);
    }
    return st;
}

inline void apply_option(transcript& t, const std::string& word) {
    smtpp::server_config& c = t.config;
    const auto eq = word.find('=');
    const std::string key = word.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : word.substr(eq + 1);
    const auto number = [&] {
        return static_cast<std::size_t>(std::strtoull(value.c_str(), nullptr, 10));
    };
    if (key == "lmtp")
        c.lmtp = true;
    else if (key == "chunking")
        c.offer.chunking = true;
    else if (key == "binarymime")
        c.offer.binarymime = true;
    else if (key == "smtputf8")
        c.offer.smtputf8 = true;
    else if (key == "dsn")
        c.offer.dsn = true;
    else if (key == "starttls")
        c.offer.starttls = true;
    else if (key == "expn")
        c.offer.expn = true;
    else if (key == "tls_active")
        c.tls_active = true;
    else if (key == "require_tls")
        c.require_tls = true;
    else if (key == "require_auth")
        c.require_auth = true;
    else if (key == "plaintext_auth_ok")
        c.plaintext_auth_requires_tls = false;
    else if (key == "bare_lf_commands")
        c.lenient_bare_lf_commands = true;
    else if (key == "space_after_colon")
        c.lenient_space_after_colon = true;
    else if (key == "lenient_bare_line_endings")
        c.lenient_bare_line_endings = true;
    else if (key == "lenient_helo_extensions")
        c.lenient_helo_extensions = true;
    else if (key == "no_esc")
        c.offer.enhanced_status_codes = false;
    else if (key == "no_pipelining")
        c.offer.pipelining = false;
    else if (key == "no_size")
        c.offer.size = false;
    else if (key == "no_8bitmime")
        c.offer.eight_bit_mime = false;
    else if (key == "auth") {
        t.auth_mechanisms = value;
        for (char& ch : t.auth_mechanisms) ch = ch == ',' ? ' ' : ch;
    } else if (key == "message_size")
        c.limit.message_size = number();
    else if (key == "recipients")
        c.limit.recipients = number();
    else if (key == "errors")
        c.limit.errors_before_disconnect = number();
    else if (key == "auth_failures")
        c.limit.auth_failures_before_disconnect = number();
    else if (key == "output_buffer")
        c.limit.output_buffer = number();
    else if (key == "command_line")
        c.limit.command_line = number();
    else if (key == "auth_line")
        c.limit.auth_line = number();
    else if (key == "bdat_discard")
        c.limit.bdat_discard_limit = number();
    else
        t.error += "unknown option " + word + "; ";
}

inline action parse_action(const std::string& text) {
    std::istringstream in(text);
    action a;
    in >> a.kind;
    if (a.kind == "tls" || a.kind == "tls_bad" || a.kind == "eof" || a.kind == "shutdown" ||
        a.kind == "pause") {
        return a;
    }
    in >> a.verb;
    if (a.verb == "reject" || a.verb == "reply") {
        std::string status;
        unsigned code = 0;
        in >> code >> status;
        a.code = static_cast<std::uint16_t>(code);
        a.status = parse_status(status);
    }
    std::string rest;
    std::getline(in, rest);
    if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
    a.text = unescape(rest);
    return a;
}

inline transcript parse_transcript(const std::string& text) {
    transcript t;
    t.config.hostname = "mx.example";
    t.config.greeting_text = "ESMTP";
    t.segments.emplace_back();
    std::istringstream in(text);
    std::string line;
    std::size_t event_count = 0;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line[0] == '#') continue;
        if (line.size() < 2) {
            t.error += "bad line: " + line + "; ";
            continue;
        }
        const std::string tag = line.substr(0, 2);
        const std::string body = line.substr(line.size() > 3 ? 3 : line.size());
        segment& seg = t.segments.back();
        if (tag == "O:") {
            std::istringstream words(body);
            std::string w;
            while (words >> w) apply_option(t, w);
        } else if (tag == "C:")
            seg.client += unescape(body) + "\r\n";
        else if (tag == "C~")
            seg.client += unescape(body);
        else if (tag == "S:")
            seg.expected_output += unescape(body) + "\r\n";
        else if (tag == "S~")
            seg.expected_output += unescape(body);
        else if (tag == "E:") {
            seg.expected_events.push_back(body);
            ++event_count;
        } else if (tag == "A:") {
            action a = parse_action(body);
            if (a.verb.empty()) {
                seg.barrier = a.kind;
                t.segments.emplace_back();
            } else {
                if (event_count == 0) t.error += "A: before any E: line; ";
                a.event_index = event_count == 0 ? 0 : event_count - 1;
                t.decisions.push_back(a);
            }
        } else
            t.error += "bad tag: " + line + "; ";
    }
    t.config.auth_mechanisms = t.auth_mechanisms;
    return t;
}

inline std::string render_mail(const smtpp::command& c) {
    std::string s = escape(c.address.text);
    if (c.has_size) s += " size=" + std::to_string(c.size);
    if (c.body == smtpp::body_type::binary_mime) s += " body=binarymime";
    if (c.body == smtpp::body_type::eight_bit_mime) s += " body=8bitmime";
    if (c.smtputf8) s += " smtputf8";
    return s;
}

// One event as a line; empty for the flow-control kinds.
inline std::string render(const smtpp::server_event& ev) {
    using k = smtpp::server_event_kind;
    const std::string name = smtpp::to_string(ev.kind);
    switch (ev.kind) {
    case k::need_data:
    case k::output_full:
    case k::awaiting_decision:
        return {};
    case k::hello:
        return name + " " + std::string(ev.cmd->verb_text) + " " + std::string(ev.cmd->domain);
    case k::mail:
        return name + " " + render_mail(*ev.cmd);
    case k::rcpt:
        return name + " " + escape(ev.cmd->address.text) + " #" +
               std::to_string(ev.recipient_index);
    case k::vrfy:
    case k::expn:
    case k::help:
        return name + " " + escape(ev.cmd->vrfy_argument);
    case k::body_chunk:
        return "body " + escape(ev.data);
    case k::message_end: {
        std::string s = name + " size=" + std::to_string(ev.size) +
                        " rcpt=" + std::to_string(ev.recipient_index) + "/" +
                        std::to_string(ev.recipient_count);
        if (ev.chunked) s += " chunked";
        if (ev.eight_bit) s += " 8bit";
        if (ev.bare_line_ending) s += " bare";
        if (ev.long_line) s += " long_line";
        return s;
    }
    case k::bdat_chunk:
        return name + " size=" + std::to_string(ev.size);
    case k::auth: {
        std::string s =
            name + " " + std::string(ev.mechanism) + " step=" + std::to_string(ev.auth_step);
        if (ev.has_response) s += " response=" + escape(ev.data);
        if (!ev.authcid.empty()) {
            s += " authzid=" + escape(ev.authzid) + " authcid=" + escape(ev.authcid) +
                 " password=" + escape(ev.password);
        }
        return s;
    }
    case k::transaction_reset:
    case k::protocol_error:
        return name + " " + std::to_string(ev.reply_code) + " " + smtpp::to_string(ev.error);
    case k::closed:
        return name + " " + smtpp::to_string(ev.error);
    default:
        return name;
    }
}

// Drives one session through a transcript. `split` chooses how segment i's client bytes are
// cut: 0 whole, 1..n-1 in two at that index, n byte by byte (n = size). `in_place`: the bytes
// go in with receive_in_place() instead of receive(); both must give the same run.
class transcript_run {
public:
    explicit transcript_run(const transcript& t, bool in_place = false)
        : t_(t), session_(t.config), decisions_(t.decisions), in_place_(in_place) {}

    struct result {
        std::vector<std::string> events;  // per segment, "\n"-joined
        std::vector<std::string> outputs; // per segment
        std::string problem;
        bool operator==(const result& o) const {
            return events == o.events && outputs == o.outputs && problem == o.problem;
        }
        bool operator!=(const result& o) const { return !(*this == o); }
    };

    result run(std::size_t split_segment, std::size_t split) {
        result r;
        for (std::size_t i = 0; i < t_.segments.size(); ++i) {
            const segment& seg = t_.segments[i];
            events_.clear();
            output_.clear();
            if (i > 0) barrier(t_.segments[i - 1].barrier);
            pump();
            const std::string& bytes = seg.client;
            const std::size_t mode = i == split_segment ? split : 0;
            if (mode == 0 || mode > bytes.size())
                feed(bytes);
            else if (mode < bytes.size()) {
                feed(std::string_view(bytes).substr(0, mode));
                feed(std::string_view(bytes).substr(mode));
            } else {
                for (const char c : bytes) feed(std::string_view(&c, 1));
            }
            flush_body();
            r.events.push_back(events_);
            r.outputs.push_back(output_);
        }
        r.problem = problem_;
        return r;
    }

    smtpp::server_session& session() { return session_; }

private:
    void feed(std::string_view piece) {
        if (in_place_) {
            if (session_.receive_in_place(piece) == smtpp::errc::invalid_state)
                problem_ += "receive refused; ";
            return pump();
        }
        // Copying: what the session does not take now is offered again once it has read more.
        while (!piece.empty()) {
            const std::size_t taken = session_.receive(piece);
            piece.remove_prefix(taken);
            pump();
            if (taken == 0) {
                if (session_.wants_read()) problem_ += "receive took nothing; ";
                break; // closed (the rest is never read)
            }
        }
    }

    void barrier(const std::string& name) {
        if (name == "tls" || name == "tls_bad") {
            if (session_.tls_established(name == "tls") != smtpp::errc::ok)
                problem_ += "tls refused; ";
            tls_logged_ = false;
        } else if (name == "eof") {
            session_.receive_eof();
        } else if (name == "shutdown") {
            session_.shutdown();
        }
        pump();
    }

    void drain() {
        output_ += std::string(session_.pending_output());
        session_.consume_output(session_.pending_output().size());
    }

    void log(const std::string& line) {
        if (line.empty()) return;
        flush_body();
        events_ += line + "\n";
        ++logged_;
    }

    void flush_body() {
        if (body_.empty()) return;
        events_ += "body " + escape(body_) + "\n";
        ++logged_;
        body_.clear();
    }

    void pump() {
        using k = smtpp::server_event_kind;
        for (int guard = 0; guard < 1000000; ++guard) {
            const smtpp::server_event ev = session_.next_event();
            switch (ev.kind) {
            case k::need_data:
                drain();
                return;
            case k::output_full:
                drain();
                continue;
            case k::awaiting_decision:
                problem_ += "undecided; ";
                return;
            case k::tls_handshake:
                if (!tls_logged_) log("tls_handshake");
                tls_logged_ = true;
                drain();
                return;
            case k::closed:
                if (!closed_logged_) log(render(ev));
                closed_logged_ = true;
                drain();
                return;
            case k::body_chunk:
                body_ += std::string(ev.data);
                continue;
            default:
                break;
            }
            log(render(ev));
            if (smtpp::is_decision(ev.kind)) decide(ev);
            drain();
        }
        problem_ += "event loop did not settle; ";
    }

    void decide(const smtpp::server_event& ev) {
        smtpp::errc e = smtpp::errc::ok;
        if (!decisions_.empty() && decisions_.front().event_index + 1 == logged_) {
            const action a = decisions_.front();
            if (a.kind != smtpp::to_string(ev.kind))
                problem_ += "A: " + a.kind + " answers another event; ";
            decisions_.pop_front();
            std::vector<std::string_view> lines;
            std::string_view rest = a.text;
            for (std::size_t nl; (nl = rest.find('\n')) != std::string_view::npos;
                 rest.remove_prefix(nl + 1)) {
                lines.push_back(rest.substr(0, nl));
            }
            lines.push_back(rest);
            if (a.verb == "reject")
                e = session_.reject(a.code, a.status, a.text);
            else if (a.verb == "reply")
                e = session_.reply(a.code, a.status, lines.data(), lines.size());
            else if (a.verb == "challenge")
                e = session_.challenge(a.text);
            else
                e = session_.accept();
        } else {
            e = session_.accept();
        }
        if (e != smtpp::errc::ok)
            problem_ += std::string("decision failed: ") + smtpp::to_string(e) + "; ";
    }

    const transcript& t_;
    smtpp::server_session session_;
    std::deque<action> decisions_;
    std::string events_, output_, body_, problem_;
    bool in_place_ = false;
    std::size_t logged_ = 0; // events logged so far, over all segments
    bool tls_logged_ = false;
    bool closed_logged_ = false;
};

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace smtpp_test

#endif // SMTPP_TESTS_SERVER_TRANSCRIPT_HPP
