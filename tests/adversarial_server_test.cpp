// Hostile input against server_session: the shapes of published SMTP server bugs and the
// edges of every size the protocol declares. Each shape is fed whole, byte by byte and (for
// inputs up to 1000 octets) split in two at every index; every way must give the same events
// and the same replies, and the test asserts those exactly.
// Sources: RFC 3030 2 (BDAT), RFC 5321 4.5.3.1 (limits), RFC 4954 4 (AUTH), RFC 6531 3.3
// (UTF-8), RFC 3461 4 (xtext); CVE-2017-16943, CVE-2019-16928, CVE-2020-7247 and the Exim
// "21Nails" set (CVE-2020-28017, -28019, -28022, -28024, -28026).
#include <smtpp/server_session.hpp>

#include "server_transcript.hpp"
#include "smtpp_catch.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

using smtpp::errc;
using kind = smtpp::server_event_kind;

namespace {

// The text render() shows for an error: tests compare errc values, not prose.
std::string why(errc e) { return smtpp::to_string(e); }

// ---- a driver that records what the caller sees ----

struct accept_all {
    void operator()(smtpp::server_session& s, const smtpp::server_event&) const {
        REQUIRE(s.accept() == errc::ok);
    }
};

// Refuses DATA with 554, accepts everything else.
struct refuse_data {
    void operator()(smtpp::server_session& s, const smtpp::server_event& ev) const {
        if (ev.kind == kind::data)
            REQUIRE(s.reject(554, {5, 5, 0}, "No thanks") == errc::ok);
        else
            REQUIRE(s.accept() == errc::ok);
    }
};

// Refuses every BDAT chunk with 451, accepts everything else.
struct refuse_chunks {
    void operator()(smtpp::server_session& s, const smtpp::server_event& ev) const {
        if (ev.kind == kind::bdat_chunk)
            REQUIRE(s.reject(451, {4, 3, 0}, "Chunk lost") == errc::ok);
        else
            REQUIRE(s.accept() == errc::ok);
    }
};

struct server_run {
    std::string events; // one rendered event a line; body chunks merged into one "body" line
    std::string output; // every octet the session queued
    std::string problem;
    bool operator==(const server_run& o) const {
        return events == o.events && output == o.output && problem == o.problem;
    }
    bool operator!=(const server_run& o) const { return !(*this == o); }
};

template <class Decide>
class server_driver {
public:
    server_driver(const smtpp::server_config& config, Decide decide) : s_(config), decide_(decide) {
        pump();
    }

    // Offers a piece the way a read loop does: whatever the session does not take yet is
    // offered again after the events it unblocks. Read in place, the piece is handed over
    // once and the events run until the session needs more (then nothing of it is unread).
    void feed(std::string_view piece) {
        if (in_place_) {
            const errc e = s_.receive_in_place(piece);
            if (e != errc::ok && e != errc::connection_closed && !ended_)
                run_.problem += std::string("receive_in_place ") + smtpp::to_string(e) + "; ";
            pump();
            return;
        }
        while (!piece.empty() && !s_.is_closed() && !ended_) {
            const std::size_t taken = s_.receive(piece);
            if (taken == 0) {
                run_.problem += "receive took nothing; ";
                break;
            }
            piece.remove_prefix(taken);
            pump();
        }
        pump();
    }
    void eof() {
        s_.receive_eof();
        pump();
    }
    server_run finish() {
        flush_body();
        return run_;
    }
    smtpp::server_session& session() { return s_; }
    void read_in_place() { in_place_ = true; }

private:
    void pump() {
        for (int guard = 0; guard < 1000000; ++guard) {
            const smtpp::server_event ev = s_.next_event();
            switch (ev.kind) {
            case kind::need_data:
                drain();
                return;
            case kind::output_full:
                drain();
                continue;
            case kind::awaiting_decision:
                run_.problem += "undecided; ";
                return;
            case kind::tls_handshake:
            case kind::closed:
                if (!ended_) log(smtpp_test::render(ev));
                ended_ = true;
                drain();
                return;
            case kind::body_chunk:
                body_.append(ev.data.data(), ev.data.size());
                continue;
            default:
                break;
            }
            log(smtpp_test::render(ev));
            if (smtpp::is_decision(ev.kind)) decide_(s_, ev);
            drain();
        }
        run_.problem += "event loop did not settle; ";
    }
    void drain() {
        run_.output.append(s_.pending_output().data(), s_.pending_output().size());
        s_.consume_output(s_.pending_output().size());
    }
    void log(const std::string& line) {
        flush_body();
        run_.events += line + "\n";
    }
    void flush_body() {
        if (body_.empty()) return;
        run_.events += "body " + smtpp_test::escape(body_) + "\n";
        body_.clear();
    }

    smtpp::server_session s_;
    Decide decide_;
    server_run run_;
    std::string body_;
    bool ended_ = false;
    bool in_place_ = false;
};

constexpr std::size_t whole = 0;

// `cut` 0: one receive(); 1..n-1: two pieces; n: byte by byte.
template <class Decide>
server_run run_cut(const smtpp::server_config& config, std::string_view input, std::size_t cut,
                   bool eof, Decide decide) {
    server_driver<Decide> d(config, decide);
    if (cut == whole || cut > input.size()) {
        d.feed(input);
    } else if (cut < input.size()) {
        d.feed(input.substr(0, cut));
        d.feed(input.substr(cut));
    } else {
        for (std::size_t i = 0; i < input.size(); ++i) d.feed(input.substr(i, 1));
    }
    if (eof) d.eof();
    return d.finish();
}

// Runs `input` whole, byte by byte and split at every index (or at a few for long inputs);
// every way must agree. Returns the whole-input run.
template <class Decide = accept_all>
server_run run_every_way(const smtpp::server_config& config, std::string_view input,
                         bool eof = false, Decide decide = {}) {
    const server_run first = run_cut(config, input, whole, eof, decide);
    CHECK(first.problem == "");
    std::vector<std::size_t> cuts;
    if (input.size() <= 1000) {
        for (std::size_t i = 1; i <= input.size(); ++i) cuts.push_back(i);
    } else {
        for (std::size_t i = 1; i < 8; ++i) cuts.push_back(input.size() * i / 8);
        cuts.push_back(input.size() - 1);
        cuts.push_back(input.size()); // byte by byte
    }
    for (const std::size_t cut : cuts) {
        const server_run other = run_cut(config, input, cut, eof, decide);
        if (other != first) {
            FAIL_CHECK("feeding split at " << cut << " of " << input.size() << " differs:\n"
                                           << other.events << other.output << other.problem
                                           << "\nwhole:\n"
                                           << first.events << first.output);
            break;
        }
    }
    return first;
}

// What the session did with `shape` once `prefix` was read: replies and events after the
// prefix's own.
struct answer {
    std::string output;
    std::string events;
};

template <class Decide = accept_all>
answer answer_to(const smtpp::server_config& config, const std::string& prefix,
                 const std::string& shape, bool eof = false, Decide decide = {}) {
    const server_run before = run_cut(config, prefix, whole, false, decide);
    const server_run all = run_every_way(config, prefix + shape, eof, decide);
    REQUIRE(all.output.compare(0, before.output.size(), before.output) == 0);
    REQUIRE(all.events.compare(0, before.events.size(), before.events) == 0);
    return {all.output.substr(before.output.size()), all.events.substr(before.events.size())};
}

smtpp::server_config base_config() {
    smtpp::server_config c;
    c.hostname = "mx.example";
    c.offer.chunking = true;
    c.limit.errors_before_disconnect = 0; // each shape stands alone; tested separately below
    return c;
}

const std::string hello = "EHLO c.example\r\n";
const std::string envelope = hello + "MAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\n";

std::string bdat(std::string_view chunk, bool last) {
    return "BDAT " + std::to_string(chunk.size()) + (last ? " LAST" : "") + "\r\n" +
           std::string(chunk);
}

struct shape {
    std::string input;
    std::string reply; // the whole output after the prefix
};

void check_shapes(const smtpp::server_config& config, const std::string& prefix,
                  const std::vector<shape>& shapes) {
    for (const shape& s : shapes) {
        INFO("shape: " << smtpp_test::escape(s.input.substr(0, 160)));
        const answer a = answer_to(config, prefix, s.input);
        CHECK(smtpp_test::escape(a.output) == smtpp_test::escape(s.reply));
    }
}

const std::string ok = "250 2.0.0 OK\r\n";
// RFC 3030 2: a BDAT whose size cannot be read leaves no way to tell its chunk octets from
// commands; the session answers and closes, so the NOOP after it is never run.
const std::string bdat_unframed = "521 5.5.4 Syntax: BDAT size [LAST], closing connection\r\n";

} // namespace

// ---- BDAT sizes (RFC 3030 2: chunk-size = 1*DIGIT) ----

TEST_CASE("RFC 3030 2: BDAT size shapes; a size that cannot be read closes the session, the "
          "NOOP after it never runs",
          "[adversarial][server][bdat]") {
    const std::string too_large =
        "552 5.3.4 Message size exceeds fixed maximum message size, closing connection\r\n";
    check_shapes(base_config(), envelope,
                 {
                     {"BDAT 0\r\nNOOP\r\n", "250 2.0.0 Chunk received\r\n" + ok},
                     {"BDAT 0 LAST\r\nNOOP\r\n", "250 2.0.0 Message accepted\r\n" + ok},
                     {"BDAT 18446744073709551616\r\nNOOP\r\n", too_large},
                     {"BDAT 99999999999999999999999999\r\nNOOP\r\n", too_large},
                     {"BDAT -1\r\nNOOP\r\n", bdat_unframed},
                     {"BDAT 0x10\r\nNOOP\r\n", bdat_unframed},
                     {"BDAT +5\r\nNOOP\r\n", bdat_unframed},
                     {"BDAT abc\r\nNOOP\r\n", bdat_unframed},
                     {"BDAT\r\nNOOP\r\n", bdat_unframed},
                     {"BDAT  5\r\nNOOP\r\n", bdat_unframed},
                     {"BDAT 5 LASTX\r\nNOOP\r\n", bdat_unframed},
                     {"BDAT 5 LAST LAST\r\nNOOP\r\n", bdat_unframed},
                     // Leading zeros are still 1*DIGIT: 5 octets.
                     {"BDAT 000000000000000000000000005 LAST\r\nabcdeNOOP\r\n",
                      "250 2.0.0 Message accepted\r\n" + ok},
                 });
}

TEST_CASE("RFC 3030 2: an unreadable BDAT closes whatever the state (before MAIL, refused "
          "service, require_tls); the octets after it are never run",
          "[adversarial][server][bdat]") {
    smtpp::server_config tls = base_config();
    tls.require_tls = true;
    for (const auto& c : {base_config(), tls}) {
        const answer a = answer_to(c, hello, "BDAT 1x\r\nQUIT\r\n");
        CHECK(a.output == bdat_unframed);
        CHECK(a.events == "closed " + why(errc::syntax_error) + "\n");
    }
    const answer in_txn = answer_to(base_config(), envelope, bdat("ab", false) + "BDAT x\r\n");
    CHECK(in_txn.output == "250 2.0.0 Chunk received\r\n" + bdat_unframed);
    CHECK(in_txn.events == "body ab\nbdat_chunk size=2\ntransaction_reset 0 " +
                               why(errc::syntax_error) + "\nclosed " + why(errc::syntax_error) +
                               "\n");
}

TEST_CASE("RFC 3030 2, RFC 1870: BDAT 2^64-1 over the size limit is answered 552 at once and "
          "the session closes; read to its end when bdat_discard_limit is off; without a size "
          "limit it streams as body",
          "[adversarial][server][bdat]") {
    // Larger than limits.bdat_discard_limit: not read at all; the NOOP is never run.
    const answer limited =
        answer_to(base_config(), envelope, "BDAT 18446744073709551615\r\nNOOP\r\n");
    CHECK(limited.output == "552 5.3.4 Message size exceeds fixed maximum message size\r\n");
    CHECK(limited.events == "transaction_reset 552 " + why(errc::message_too_large) + "\nclosed " +
                                why(errc::message_too_large) + "\n");

    // Told to read every refused octet: 552 comes only after 2^64-1 octets; the NOOP is chunk
    // data, nothing is answered.
    smtpp::server_config read_all = base_config();
    read_all.limit.bdat_discard_limit = 0;
    const answer discarded = answer_to(read_all, envelope, "BDAT 18446744073709551615\r\nNOOP\r\n");
    CHECK(discarded.output == "");
    CHECK(discarded.events == "");

    smtpp::server_config unlimited = base_config();
    unlimited.limit.message_size = 0;
    const answer streamed =
        answer_to(unlimited, envelope, "BDAT 18446744073709551615\r\nNOOP\r\nQUIT\r\n");
    CHECK(streamed.output == "");
    CHECK(streamed.events == "body NOOP\\r\\nQUIT\\r\\n\n");
}

TEST_CASE("limits.bdat_discard_limit: a refused chunk up to the limit is read and the session "
          "goes on; one octet more is answered at once and closes",
          "[adversarial][server][bdat]") {
    smtpp::server_config c = base_config();
    c.limit.bdat_discard_limit = 8;
    // Refused for sequence (no MAIL): 8 octets are read, the NOOP after them runs.
    const answer small = answer_to(c, hello, bdat("12345678", false) + "NOOP\r\n");
    CHECK(small.output == "503 5.5.1 Need MAIL command\r\n" + ok);
    const answer large = answer_to(c, hello, bdat("123456789", false) + "NOOP\r\n");
    CHECK(large.output == "503 5.5.1 Need MAIL command\r\n");
    CHECK(large.events == "closed " + why(errc::bad_sequence) + "\n");
}

// ---- a refused BDAT still consumes exactly its chunk (RFC 3030 2) ----

TEST_CASE("RFC 3030 2: refused BDATs consume exactly their declared octets, never run them",
          "[adversarial][server][bdat]") {
    const std::string evil_mail = "MAIL FROM:<evil@x.example>\r\n";
    const std::string evil_rcpt = "RCPT TO:<evil@x.example>\r\n";
    SECTION("BDAT before MAIL") {
        const answer a = answer_to(base_config(), hello, bdat(evil_mail, true) + "NOOP\r\n");
        CHECK(a.output == "503 5.5.1 Need MAIL command\r\n" + ok);
        CHECK(a.events == "protocol_error 503 " + why(errc::bad_sequence) + "\n");
    }
    SECTION("BDAT with no recipient") {
        const answer a = answer_to(base_config(), hello + "MAIL FROM:<a@b.example>\r\n",
                                   bdat(evil_rcpt, false) + "NOOP\r\n");
        CHECK(a.output == "503 5.5.1 No valid recipients\r\n" + ok);
        CHECK(a.events == "protocol_error 503 " + why(errc::bad_sequence) + "\n");
    }
    SECTION("BDAT when CHUNKING is not offered") {
        smtpp::server_config c = base_config();
        c.offer.chunking = false;
        const answer a = answer_to(c, envelope, bdat(evil_mail + evil_rcpt, true) + "NOOP\r\n");
        CHECK(a.output == "502 5.5.1 BDAT not available\r\n" + ok);
        CHECK(a.events == "protocol_error 502 " + why(errc::unimplemented_command) + "\n");
    }
    SECTION("a chunk over the message size ends the transaction after its octets") {
        smtpp::server_config c = base_config();
        c.limit.message_size = 65536;
        const std::string big(65537, 'x');
        const answer a = answer_to(c, envelope, bdat(big, false) + "NOOP\r\n");
        CHECK(a.output == "552 5.3.4 Message size exceeds fixed maximum message size\r\n" + ok);
        CHECK(a.events == "transaction_reset 552 " + why(errc::message_too_large) + "\n");
    }
    SECTION("later chunks of a failed transaction: 503 until RSET, each consumed") {
        const answer a =
            answer_to(base_config(), envelope,
                      bdat("part one", false) + bdat(evil_mail, false) + bdat(evil_rcpt, true) +
                          "RSET\r\nMAIL FROM:<c@d.example>\r\n",
                      false, refuse_chunks{});
        CHECK(a.output == "451 4.3.0 Chunk lost\r\n"
                          "503 5.5.1 Earlier BDAT failed, send RSET\r\n"
                          "503 5.5.1 Earlier BDAT failed, send RSET\r\n" +
                              ok + "250 2.1.0 Sender OK\r\n");
        CHECK(a.events == "body part one\nbdat_chunk size=8\n"
                          "protocol_error 503 " +
                              why(errc::bad_sequence) +
                              "\n"
                              "protocol_error 503 " +
                              why(errc::bad_sequence) +
                              "\n"
                              "transaction_reset 250 " +
                              why(errc::ok) + "\nmail <c@d.example>\n");
    }
    SECTION("BDAT after DATA was refused: the chunk is message content, never commands") {
        const answer a =
            answer_to(base_config(), envelope, "DATA\r\n" + bdat(evil_mail, true) + "NOOP\r\n",
                      false, refuse_data{});
        CHECK(a.output == "554 5.5.0 No thanks\r\n250 2.0.0 Message accepted\r\n" + ok);
        CHECK(a.events == "data\nbody MAIL FROM:<evil@x.example>\\r\\n\n"
                          "message_end size=28 rcpt=0/1 chunked\n");
    }
}

// ---- CVE-2017-16943 (Exim BDAT use-after-free) ----

TEST_CASE("CVE-2017-16943: dot lines inside a BDAT chunk are raw octets, not an end of data",
          "[adversarial][server][bdat][cve]") {
    const answer a =
        answer_to(base_config(), envelope, bdat(".\r\nRSET\r\n.\r\n", false) + bdat("", true));
    CHECK(a.output == "250 2.0.0 Chunk received\r\n250 2.0.0 Message accepted\r\n");
    CHECK(a.events == "body .\\r\\nRSET\\r\\n.\\r\\n\nbdat_chunk size=12\n"
                      "message_end size=12 rcpt=0/1 chunked\n");
}

TEST_CASE("CVE-2017-16943: negative and signed BDAT sizes lose the framing: 521, then close",
          "[adversarial][server][bdat][cve]") {
    check_shapes(base_config(), envelope,
                 {
                     {"BDAT -5\r\nNOOP\r\n", bdat_unframed},
                     {"BDAT -0 LAST\r\nNOOP\r\n", bdat_unframed},
                     {"BDAT 5-\r\nNOOP\r\n", bdat_unframed},
                     {"BDAT -18446744073709551615\r\nNOOP\r\n", bdat_unframed},
                 });
}

TEST_CASE("CVE-2017-16943: BDAT interleaved with DATA; DATA is refused, its body lines are "
          "commands, the chunks stay exact",
          "[adversarial][server][bdat][cve]") {
    const answer a = answer_to(base_config(), envelope,
                               bdat("abc", false) + "DATA\r\nhello\r\n.\r\n" + bdat("xy", true));
    CHECK(a.output == "250 2.0.0 Chunk received\r\n503 5.5.1 DATA after BDAT\r\n"
                      "500 5.5.2 Command unrecognized\r\n500 5.5.2 Command unrecognized\r\n"
                      "250 2.0.0 Message accepted\r\n");
    CHECK(a.events == "body abc\nbdat_chunk size=3\nprotocol_error 503 " + why(errc::bad_sequence) +
                          "\n"
                          "protocol_error 500 " +
                          why(errc::unknown_command) + "\nprotocol_error 500 " +
                          why(errc::unknown_command) +
                          "\n"
                          "body xy\nmessage_end size=5 rcpt=0/1 chunked\n");
}

TEST_CASE("CVE-2017-16943: BDAT right after a DATA message needs a new MAIL; consumed",
          "[adversarial][server][bdat][cve]") {
    const answer a = answer_to(base_config(), envelope,
                               "DATA\r\nx\r\n.\r\n" + bdat("QUIT\r\n", true) + "NOOP\r\n");
    CHECK(a.output == "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Message accepted\r\n"
                      "503 5.5.1 Need MAIL command\r\n" +
                          ok);
    CHECK(a.events == "data\nbody x\\r\\n\nmessage_end size=3 rcpt=0/1\n"
                      "protocol_error 503 " +
                          why(errc::bad_sequence) + "\n");
}

// ---- 21Nails (Qualys, 2021) ----

TEST_CASE("CVE-2020-28024: a chunk that ends right after a command, or cuts one in half",
          "[adversarial][server][bdat][cve]") {
    SECTION("the chunk holds a whole command line; the next one runs") {
        const answer a = answer_to(base_config(), envelope,
                                   bdat("NOOP\r\n", false) + bdat("NOOP\r\n", true) + "NOOP\r\n");
        CHECK(a.output == "250 2.0.0 Chunk received\r\n250 2.0.0 Message accepted\r\n" + ok);
        CHECK(a.events == "body NOOP\\r\\n\nbdat_chunk size=6\nbody NOOP\\r\\n\n"
                          "message_end size=12 rcpt=0/1 chunked\n");
    }
    SECTION("the chunk ends inside a line: the rest is a line of its own (bare LF refused)") {
        // The text body ends in a bare CR, refused as DATA would be (RFC 3030 2).
        const answer a = answer_to(base_config(), envelope, "BDAT 5 LAST\r\nNOOP\r\nNOOP\r\n");
        CHECK(a.output == "550 5.6.0 Message contains bare CR, bare LF or NUL\r\n"
                          "500 5.5.2 Bare LF in command line\r\n");
        CHECK(a.events == "body NOOP\\r\ntransaction_reset 550 " + why(errc::bare_cr) +
                              "\nprotocol_error 500 " + why(errc::bare_lf) + "\n");
    }
    SECTION("EOF right after a chunk, and inside one") {
        const answer done = answer_to(base_config(), envelope, bdat("ab", false), true);
        CHECK(done.events == "body ab\nbdat_chunk size=2\ntransaction_reset 0 " +
                                 why(errc::peer_closed_early) +
                                 "\n"
                                 "closed " +
                                 why(errc::peer_closed_early) + "\n");
        const answer cut = answer_to(base_config(), envelope, "BDAT 9 LAST\r\nabc", true);
        CHECK(cut.output == "");
        CHECK(cut.events == "body abc\ntransaction_reset 0 " + why(errc::peer_closed_early) +
                                "\n"
                                "closed " +
                                why(errc::peer_closed_early) + "\n");
    }
}

TEST_CASE("CVE-2020-28019: after a failed BDAT the session reads commands and a new "
          "transaction works",
          "[adversarial][server][bdat][cve]") {
    smtpp::server_config c = base_config();
    c.limit.message_size = 65536;
    const answer a = answer_to(c, envelope,
                               bdat(std::string(70000, 'z'), true) +
                                   "MAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\n" +
                                   bdat("hi\r\n", true) + "DATA\r\n");
    CHECK(a.output ==
          "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
          "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n250 2.0.0 Message accepted\r\n"
          "503 5.5.1 Need MAIL command\r\n");
    CHECK(a.events ==
          "transaction_reset 552 " + why(errc::message_too_large) +
              "\nmail <a@b.example>\n"
              "rcpt <x@y.example> #0\nbody hi\\r\\n\nmessage_end size=4 rcpt=0/1 chunked\n"
              "protocol_error 503 " +
              why(errc::bad_sequence) + "\n");
}

TEST_CASE("CVE-2020-28017, S-5321-4.5.3.1.8-a: past 100 recipients each RCPT gets 452 4.5.3; "
          "the accepted ones are kept",
          "[adversarial][server][cve]") {
    for (const std::size_t extra : {std::size_t{1}, std::size_t{3}, std::size_t{5000}}) {
        std::string input = hello + "MAIL FROM:<a@b.example>\r\n";
        for (std::size_t i = 0; i < 100 + extra; ++i)
            input += "RCPT TO:<r" + std::to_string(i) + "@y.example>\r\n";
        input += "DATA\r\nx\r\n.\r\n";
        const server_run r = extra > 3 ? run_cut(base_config(), input, whole, false, accept_all{})
                                       : run_every_way(base_config(), input);
        std::string expected;
        for (std::size_t i = 0; i < 100; ++i) expected += "250 2.1.5 Recipient OK\r\n";
        for (std::size_t i = 0; i < extra; ++i) expected += "452 4.5.3 Too many recipients\r\n";
        expected += "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Message accepted\r\n";
        INFO("extra recipients " << extra);
        REQUIRE(r.output.size() >= expected.size());
        CHECK(r.output.substr(r.output.size() - expected.size()) == expected);
        CHECK(r.events.find("rcpt <r99@y.example> #99\n") != std::string::npos);
        CHECK(r.events.find("rcpt <r100@y.example>") == std::string::npos);
        CHECK(r.events.find("message_end size=3 rcpt=0/100\n") != std::string::npos);
    }
}

TEST_CASE("CVE-2020-28017: 452 does not count towards errors_before_disconnect",
          "[adversarial][server][cve]") {
    smtpp::server_config c = base_config();
    c.limit.errors_before_disconnect = 10;
    c.limit.recipients = 1;
    std::string input = envelope;
    for (int i = 0; i < 50; ++i) input += "RCPT TO:<more@y.example>\r\n";
    const server_run r = run_cut(c, input + "NOOP\r\n", whole, false, accept_all{});
    CHECK(r.output.find("421") == std::string::npos);
    CHECK(r.output.substr(r.output.size() - ok.size()) == ok);
}

TEST_CASE("CVE-2020-28026: a NUL never truncates a command line", "[adversarial][server][cve]") {
    using namespace std::string_literals;
    check_shapes(
        base_config(), hello,
        {
            {"MAIL FROM:<a@b.example>\0RCPT TO:<x@y.example>\r\n"s,
             "501 5.1.7 Bad sender address syntax\r\n"},
            {"MAIL FROM:<a\0@b.example>\r\n"s, "501 5.1.7 Bad sender address syntax\r\n"},
            {"NOOP a\0b\r\n"s, "501 5.5.2 NUL not allowed\r\n"},
            {"NOOP\0\r\n"s, "500 5.5.2 Command unrecognized\r\n"},
            {"MA\0IL FROM:<a@b.example>\r\n"s, "500 5.5.2 Command unrecognized\r\n"},
            {"\0\r\n"s, "500 5.5.2 Command unrecognized\r\n"},
            {"HELP \0\r\n"s, "501 5.5.2 Syntax: HELP [topic]\r\n"},
            {"VRFY a\0\r\n"s, "501 5.5.2 Syntax: VRFY string\r\n"},
            {"EHLO a\0.example\r\n"s, "501 5.5.2 Syntax: EHLO domain-or-address-literal\r\n"},
        });
    check_shapes(base_config(), hello + "MAIL FROM:<a@b.example>\r\n",
                 {{"RCPT TO:<x@y.example>\0 NOTIFY=NEVER\r\n"s,
                   "501 5.1.3 Bad recipient address syntax\r\n"}});
}

TEST_CASE("RFC 5321 4.1.1.4, CVE-2020-28026: NUL in DATA is read to the real end, then 550 "
          "5.6.0; lenient mode passes it unchanged",
          "[adversarial][server]") {
    using namespace std::string_literals;
    const std::string body = "a\0b\r\n\0.\r\n.\0\r\n"s;
    const answer strict = answer_to(base_config(), envelope, "DATA\r\n" + body + ".\r\nNOOP\r\n");
    CHECK(strict.output == "354 End data with <CR><LF>.<CR><LF>\r\n"
                           "550 5.6.0 Message contains bare CR, bare LF or NUL\r\n" +
                               ok);
    CHECK(strict.events ==
          "data\nbody a\\x00b\\r\\n\\x00.\\r\\n\\x00\\r\\n\ntransaction_reset 550 " +
              why(errc::nul_byte) + "\n");

    smtpp::server_config lenient = base_config();
    lenient.lenient_bare_line_endings = true;
    const answer passed = answer_to(lenient, envelope, "DATA\r\n" + body + ".\r\nNOOP\r\n");
    CHECK(passed.output ==
          "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Message accepted\r\n" + ok);
    CHECK(passed.events == "data\nbody a\\x00b\\r\\n\\x00.\\r\\n\\x00\\r\\n\n"
                           "message_end size=12 rcpt=0/1 bare\n");
}

TEST_CASE("CVE-2020-28022: MAIL FROM with many or long KEY=VALUE parameters",
          "[adversarial][server][cve]") {
    smtpp::server_config c = base_config();
    c.offer.dsn = true; // MAIL/RCPT lines up to 1036 octets (RFC 3461 5.4)
    std::string many = "MAIL FROM:<a@b.example>";
    for (int i = 0; i < 40; ++i) many += " X" + std::to_string(i) + "=vvvvvvvvvv";
    std::string encoded_envid;
    for (int i = 0; i < 40; ++i) encoded_envid += "+41";
    check_shapes(
        c, hello,
        {
            {many + "\r\n", "501 5.5.4 Too many parameters\r\n"},
            {"MAIL FROM:<a@b.example> X=1 Y=2\r\n",
             "555 5.5.4 Parameter not recognized or not implemented\r\n"},
            {"MAIL FROM:<a@b.example> SIZE=1 SIZE=2\r\n", "501 5.5.4 Duplicate parameter\r\n"},
            {"MAIL FROM:<a@b.example> SIZE=99999999999999999999999\r\n",
             "501 5.5.4 Invalid parameter value\r\n"},
            {"MAIL FROM:<a@b.example> X=" + std::string(2000, 'v') + "\r\n",
             "500 5.5.2 Line too long\r\n"},
            {"MAIL FROM:<a@b.example> ENVID=" + std::string(2000, 'A') + "\r\n",
             "500 5.5.2 Line too long\r\n"},
            {"MAIL FROM:<a@b.example> ENVID=" + std::string(101, 'A') + "\r\n",
             "501 5.5.4 Invalid parameter value\r\n"},
            {"MAIL FROM:<a@b.example> ENVID=" + encoded_envid + "\r\n",
             "501 5.5.4 Invalid parameter value\r\n"},
            {"MAIL FROM:<a@b.example> ENVID=+4\r\n", "501 5.5.4 Malformed xtext in parameter\r\n"},
            {"MAIL FROM:<a@b.example> ENVID=+zz\r\n", "501 5.5.4 Malformed xtext in parameter\r\n"},
            {"MAIL FROM:<a@b.example> ENVID=+00\r\n", "501 5.5.4 Invalid parameter value\r\n"},
            {"MAIL FROM:<a@b.example> =x\r\n", "501 5.5.2 Malformed parameter\r\n"},
            {"MAIL FROM:<a@b.example> ENVID=\r\n", "501 5.5.2 Malformed parameter\r\n"},
        });
    check_shapes(
        c, hello + "MAIL FROM:<a@b.example>\r\n",
        {
            {"RCPT TO:<c@d.example> ORCPT=rfc822;" + std::string(900, 'B') + "\r\n",
             "501 5.5.4 Invalid parameter value\r\n"},
            {"RCPT TO:<c@d.example> ORCPT=rfc822;+00\r\n", "501 5.5.4 Invalid parameter value\r\n"},
            {"RCPT TO:<c@d.example> NOTIFY=SUCCESS,NEVER\r\n",
             "501 5.5.4 Invalid parameter value\r\n"},
        });
    // The longest valid ENVID (100 octets of xtext) arrives unaltered.
    const std::string envid(100, 'E');
    const answer a = answer_to(c, hello, "MAIL FROM:<a@b.example> ENVID=" + envid + "\r\n");
    CHECK(a.output == "250 2.1.0 Sender OK\r\n");
}

// ---- line lengths (RFC 5321 4.5.3.1.4, RFC 4954 4) ----

TEST_CASE("S-5321-4.5.3.1.4: a 5000-octet command line gets one 500 5.5.2 and the session "
          "resynchronises at its CRLF",
          "[adversarial][server]") {
    check_shapes(
        base_config(), hello,
        {
            {"NOOP " + std::string(4993, 'A') + "\r\nNOOP\r\n", "500 5.5.2 Line too long\r\n" + ok},
            {"MAIL FROM:<" + std::string(4980, 'a') + "@b.example>\r\nNOOP\r\n",
             "500 5.5.2 Line too long\r\n" + ok},
            {std::string(5000, '\r') + "\r\nNOOP\r\n", "500 5.5.2 Line too long\r\n" + ok},
            // Past the framing limit (538 with SIZE) but short enough for every split:
            // the skipped line's CR and LF may arrive in different reads.
            {"NOOP " + std::string(600, 'A') + "\r\nNOOP\r\n", "500 5.5.2 Line too long\r\n" + ok},
            {"NOOP " + std::string(600, 'A') + "\nNOOP\r\nNOOP\r\n",
             "500 5.5.2 Line too long\r\n" + ok},
            {std::string(600, '\r') + "\nNOOP\r\n", "500 5.5.2 Line too long\r\n" + ok},
            {std::string(600, '\n') + "\r\nNOOP\r\n", "500 5.5.2 Line too long\r\n" + ok},
            {"NOOP " + std::string(505, 'A') + "\r\n", ok},                            // 512 octets
            {"NOOP " + std::string(506, 'A') + "\r\n", "500 5.5.2 Line too long\r\n"}, // 513
        });
}

TEST_CASE("S-5321-4.5.3.1.4: an endless line without CRLF stays bounded; its end gives one 500",
          "[adversarial][server]") {
    smtpp::server_config c = base_config();
    const std::string piece(1000, 'Z');
    for (const bool in_place : {true, false}) {
        INFO((in_place ? "read in place" : "copied"));
        server_driver<accept_all> d(c, accept_all{});
        if (in_place) d.read_in_place();
        d.feed(hello);
        std::size_t peak = 0;
        for (int i = 0; i < 1000; ++i) { // 1 MB
            d.feed(piece);
            if (d.session().heap_bytes() > peak) peak = d.session().heap_bytes();
        }
        d.feed("\r\nNOOP\r\n");
        const server_run r = d.finish();
        // In place only the unfinished line is copied, up to the line limit; a copied piece
        // sits whole in the input block until it is skipped.
        const std::size_t held = in_place ? c.limit.command_line : piece.size();
        CHECK(peak <= 2 * held + 128);
        const std::string tail = "500 5.5.2 Line too long\r\n" + ok;
        REQUIRE(r.output.size() > tail.size());
        CHECK(r.output.substr(r.output.size() - tail.size()) == tail);
        CHECK(r.events == "connect\nhello EHLO c.example\nprotocol_error 500 " +
                              why(errc::line_too_long) + "\n");
    }
}

TEST_CASE("RFC 4954 4: AUTH response lines up to auth_line (12288) are read, longer ones get "
          "500 5.5.6 and end the exchange",
          "[adversarial][server][auth]") {
    smtpp::server_config c = base_config();
    c.auth_mechanisms = "PLAIN";
    c.plaintext_auth_requires_tls = false;
    const std::string prefix = hello + "AUTH PLAIN\r\n";
    // 9213 octets encode to 12284 characters: 12286 with CRLF, inside the limit.
    const std::string password(9213 - 6, 'p');
    std::string raw = std::string("\0user\0", 6) + password;
    std::string b64;
    smtpp::base64_encode_append(b64, raw);
    REQUIRE(b64.size() == 12284);
    const answer fits = answer_to(c, prefix, b64 + "\r\n");
    CHECK(fits.output == "235 2.7.0 Authentication successful\r\n");
    CHECK(fits.events.find("auth PLAIN step=1") == 0);
    CHECK(fits.events.find("authcid=user password=ppp") != std::string::npos);

    // 9216 octets encode to 12288 characters: 12290 with CRLF, over the limit.
    raw += "ppp";
    b64.clear();
    smtpp::base64_encode_append(b64, raw);
    REQUIRE(b64.size() == 12288);
    const answer too_long = answer_to(c, prefix, b64 + "\r\nNOOP\r\n");
    CHECK(too_long.output == "500 5.5.6 Authentication Exchange line is too long\r\n" + ok);
    CHECK(too_long.events == "protocol_error 500 " + why(errc::line_too_long) + "\n");
}

// ---- AUTH base64 (RFC 4954 4) ----

TEST_CASE("RFC 4954 4: malformed base64 responses and '*' get 501; the session goes on",
          "[adversarial][server][auth]") {
    smtpp::server_config c = base_config();
    c.auth_mechanisms = "PLAIN LOGIN";
    c.plaintext_auth_requires_tls = false;
    const std::string bad = "334 \r\n501 5.5.2 Cannot Base64-decode client response\r\n" + ok;
    check_shapes(
        c, hello,
        {
            {"AUTH PLAIN\r\nAG!AYg==\r\nNOOP\r\n", bad},  // not in the alphabet
            {"AUTH PLAIN\r\nAGEAYg-_\r\nNOOP\r\n", bad},  // base64url alphabet
            {"AUTH PLAIN\r\nAGEAYg=\r\nNOOP\r\n", bad},   // length not a multiple of 4
            {"AUTH PLAIN\r\nAGE=AGE=\r\nNOOP\r\n", bad},  // padding inside
            {"AUTH PLAIN\r\nAGEAYh==\r\nNOOP\r\n", bad},  // non-zero padding bits
            {"AUTH PLAIN\r\nAGEA Yg==\r\nNOOP\r\n", bad}, // embedded space
            {"AUTH PLAIN\r\n\tAGEAYg=\r\nNOOP\r\n", bad}, // leading tab
            {"AUTH PLAIN\r\nAGEAYg==\r\n\r\n", "334 \r\n235 2.7.0 Authentication successful\r\n"
                                               "500 5.5.2 Command unrecognized\r\n"},
            {"AUTH PLAIN\r\n*\r\nNOOP\r\n", "334 \r\n501 5.7.0 Authentication cancelled\r\n" + ok},
            {"AUTH LOGIN\r\ndXNlcg==\r\n*\r\nNOOP\r\n",
             "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n501 5.7.0 Authentication cancelled\r\n" + ok},
            {"AUTH PLAIN AGEAYg=\r\nNOOP\r\n",
             "501 5.5.2 Malformed base64 initial response\r\n" + ok},
            {"AUTH PLAIN AGEA\tYg==\r\nNOOP\r\n",
             "501 5.5.2 Malformed base64 initial response\r\n" + ok},
            {"AUTH PLAIN *\r\nNOOP\r\n", "501 5.5.2 Malformed base64 initial response\r\n" + ok},
            {"AUTH PLAIN =\r\nNOOP\r\n", "501 5.5.2 Malformed PLAIN response\r\n" + ok},
        });
}

// ---- addresses ----

TEST_CASE("CVE-2020-7247: shell metacharacters in addresses are refused, or kept verbatim "
          "inside a quoted local part",
          "[adversarial][server][cve]") {
    const std::string bad_sender = "501 5.1.7 Bad sender address syntax\r\n";
    check_shapes(
        base_config(), hello,
        {
            {"MAIL FROM:<;sleep 66;>\r\n", bad_sender},
            {"MAIL FROM:<;sleep 66;@x.example>\r\n", bad_sender},
            {"MAIL FROM:<$(id)@x.example>\r\n", bad_sender},
            {"MAIL FROM:<a@b.example;sleep 66;>\r\n", "501 5.1.7 Bad sender address syntax\r\n"},
            {"MAIL FROM:<root+;sleep$IFS66;@x.example>\r\n", bad_sender},
            {"MAIL FROM:<`id`@x.example>\r\n", "250 2.1.0 Sender OK\r\n"}, // atext, harmless here
        });
    const std::string quoted = "\"; sleep 66; \"@x.example";
    const answer a =
        answer_to(base_config(), hello,
                  "MAIL FROM:<" + quoted + ">\r\nRCPT TO:<\"`id`|$(id)&&;\"@y.example>\r\n");
    CHECK(a.output == "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n");
    CHECK(a.events == "mail <\"; sleep 66; \"@x.example>\nrcpt <\"`id`|$(id)&&;\"@y.example> #0\n");
}

TEST_CASE("CVE-2019-16928: very long EHLO names with backslashes are refused, memory bounded",
          "[adversarial][server][cve]") {
    const std::string syntax = "501 5.5.2 Syntax: EHLO domain-or-address-literal\r\n";
    check_shapes(base_config(), "",
                 {
                     {"EHLO " + std::string(3000, '\\') + "\r\nNOOP\r\n",
                      "500 5.5.2 Line too long\r\n" + ok},
                     {"EHLO " + std::string(20000, '\\') + "\r\nNOOP\r\n",
                      "500 5.5.2 Line too long\r\n" + ok},
                     {"EHLO a" + std::string(300, '\\') + "b\r\nNOOP\r\n", syntax + ok},
                     {"EHLO [" + std::string(400, '\\') + "]\r\nNOOP\r\n", syntax + ok},
                     {"HELO " + std::string(250, 'a') + "\\\r\nNOOP\r\n",
                      "501 5.5.2 Syntax: HELO domain\r\n" + ok},
                 });
    const std::string slashes(4096, '\\');
    for (const bool in_place : {true, false}) {
        INFO((in_place ? "read in place" : "copied"));
        server_driver<accept_all> d(base_config(), accept_all{});
        if (in_place) d.read_in_place();
        d.feed("EHLO ");
        std::size_t peak = 0;
        for (int i = 0; i < 64; ++i) {
            d.feed(slashes);
            if (d.session().heap_bytes() > peak) peak = d.session().heap_bytes();
        }
        const std::size_t held = in_place ? base_config().limit.command_line : slashes.size();
        CHECK(peak <= 2 * held + 128);
    }
}

TEST_CASE("RFC 6531 3.3, RFC 3629: malformed UTF-8 in MAIL/RCPT addresses under SMTPUTF8 is 501",
          "[adversarial][server][utf8]") {
    smtpp::server_config c = base_config();
    c.offer.smtputf8 = true;
    const char* const malformed[] = {
        "\xC0\xAF",             // overlong '/'
        "\xC1\xBF",             // overlong
        "\xE0\x80\x80",         // overlong NUL, 3 octets
        "\xF0\x80\x80\x80",     // overlong, 4 octets
        "\xED\xA0\x80",         // surrogate U+D800
        "\xED\xBF\xBF",         // surrogate U+DFFF
        "\xF4\x90\x80\x80",     // U+110000
        "\xF5\x80\x80\x80",     // above U+10FFFF
        "\xF8\x88\x80\x80\x80", // 5-octet form
        "\xFF",
        "\xE2\x82",     // truncated
        "\xF0\x9F\x98", // truncated
        "\x80",         // stray continuation
        "\xC3",         // truncated before '@'
    };
    const std::string bad_sender = "501 5.1.7 Malformed UTF-8 in address\r\n";
    const std::string bad_recipient = "501 5.1.3 Malformed UTF-8 in address\r\n";
    std::vector<shape> senders, recipients;
    for (const char* m : malformed) {
        const std::string s(m);
        senders.push_back({"MAIL FROM:<" + s + "@x.example> SMTPUTF8\r\n", bad_sender});
        senders.push_back({"MAIL FROM:<a@" + s + ".example> SMTPUTF8\r\n", bad_sender});
        recipients.push_back({"RCPT TO:<a" + s + "@y.example>\r\n", bad_recipient});
        recipients.push_back({"RCPT TO:<a@y" + s + ">\r\n", bad_recipient});
    }
    senders.push_back({"MAIL FROM:<\xC3\xA9@x.example> SMTPUTF8\r\n", "250 2.1.0 Sender OK\r\n"});
    senders.push_back({"MAIL FROM:<\xC3\xA9@x.example>\r\n",
                       "550 5.6.7 Non-ASCII address requires SMTPUTF8\r\n"});
    recipients.push_back(
        {"RCPT TO:<\xF0\x9F\x98\x80@y.example>\r\n", "250 2.1.5 Recipient OK\r\n"});
    check_shapes(c, hello, senders);
    check_shapes(c, hello + "MAIL FROM:<a@b.example> SMTPUTF8\r\n", recipients);
}

TEST_CASE("RFC 5321 4.5.3.1.9: errors_before_disconnect closes with 421; later bytes are "
          "never read",
          "[adversarial][server]") {
    smtpp::server_config c = base_config();
    c.limit.errors_before_disconnect = 3;
    std::string input = hello;
    for (int i = 0; i < 3; ++i) input += "BOGUS\r\n";
    input += "MAIL FROM:<a@b.example>\r\n";
    const answer a = answer_to(c, hello, input.substr(hello.size()));
    CHECK(a.output ==
          "500 5.5.2 Command unrecognized\r\n500 5.5.2 Command unrecognized\r\n"
          "500 5.5.2 Command unrecognized\r\n421 4.7.0 Too many errors, closing connection\r\n");
    CHECK(a.events == "protocol_error 500 " + why(errc::unknown_command) + "\nprotocol_error 500 " +
                          why(errc::unknown_command) +
                          "\n"
                          "protocol_error 500 " +
                          why(errc::unknown_command) + "\nclosed " + why(errc::too_many_errors) +
                          "\n");
}
