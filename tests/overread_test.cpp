// Over-read trap: every input is copied so that it ends exactly where a PROT_NONE page
// begins, then handed to every parser and to both sessions. Reading one octet past the end
// of the input is a SIGSEGV, i.e. a failed test run. The inputs: every single octet, every
// prefix of a set of valid commands and replies (the truncation points where parsers look
// ahead), and every prefix of each file of the fuzz seed corpus.
#include "session_helpers.hpp"
#include "smtpp_catch.hpp"

#if defined(__unix__)

#include <smtpp/base64.hpp>
#include <smtpp/bdat.hpp>
#include <smtpp/client_session.hpp>
#include <smtpp/command.hpp>
#include <smtpp/data.hpp>
#include <smtpp/ehlo_reader.hpp>
#include <smtpp/grammar.hpp>
#include <smtpp/reply_reader.hpp>
#include <smtpp/sasl.hpp>
#include <smtpp/server_session.hpp>
#include <smtpp/status.hpp>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

using smtpp::errc;

namespace {

// Two pages: the first readable and writable, the second PROT_NONE.
class guarded_buffer {
public:
    guarded_buffer() {
        page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        void* p =
            mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ok_ = p != MAP_FAILED;
        if (!ok_) return;
        base_ = static_cast<char*>(p);
        ok_ = mprotect(base_ + page_, page_, PROT_NONE) == 0;
    }
    ~guarded_buffer() {
        if (base_ != nullptr) munmap(base_, 2 * page_);
    }
    guarded_buffer(const guarded_buffer&) = delete;
    guarded_buffer& operator=(const guarded_buffer&) = delete;

    [[nodiscard]] bool ok() const { return ok_; }
    [[nodiscard]] std::size_t capacity() const { return page_; }

    // Copies `bytes` to end exactly at the protected page; the view is valid until the next call.
    [[nodiscard]] std::string_view place(std::string_view bytes) {
        const std::size_t n = std::min(bytes.size(), page_);
        char* const dst = base_ + page_ - n;
        if (n != 0) std::memcpy(dst, bytes.data(), n);
        return std::string_view(dst, n);
    }

private:
    char* base_ = nullptr;
    std::size_t page_ = 0;
    bool ok_ = false;
};

// ---- the parsers ----

void run_command_parser(std::string_view in) {
    smtpp::command_options plain;
    smtpp::command_options everything;
    everything.offer.binarymime = everything.offer.smtputf8 = everything.offer.dsn =
        everything.auth = true;
    everything.allow_unknown_params = everything.lenient_space_after_colon = true;
    everything.address.allow_utf8 = true;
    for (const smtpp::command_options& o : {plain, everything}) {
        const smtpp::command_result r = smtpp::parse_command(in, o);
        (void)r.cmd.address.box.local_part.size();
    }
}

void run_reply_reader(std::string_view in) {
    for (const bool lenient : {false, true}) {
        smtpp::reply_reader_options options;
        options.lenient_bare_lf = lenient;
        smtpp::reply_reader reader(options);
        std::string_view rest = in;
        for (int guard = 0; guard < 10000; ++guard) {
            const smtpp::read_result r = reader.read(rest);
            rest.remove_prefix(r.consumed);
            if (r.error != errc::ok) break;
            std::size_t total = 0;
            for (const std::string_view text : r.reply.lines()) {
                total += smtpp::strip_enhanced_status(text).size();
            }
            smtpp::capabilities caps;
            if (smtpp::parse_ehlo_reply(r.reply, caps) == errc::ok) {
                for (const smtpp::ehlo_extension e : caps.extension_lines())
                    total += e.keyword.size();
                (void)caps.has("SIZE");
                (void)caps.has_auth_mechanism("PLAIN");
                caps.for_each_unknown_extension(
                    [&](const smtpp::ehlo_extension& e) { total += e.params.size(); });
            }
            (void)total;
        }
    }
}

void run_data_decoder(std::string_view in) {
    smtpp::data_decoder decoder(1000, 64 * 1024);
    std::string_view rest = in;
    for (int guard = 0; guard < 100000 && !rest.empty(); ++guard) {
        const smtpp::data_decoder::result r = decoder.decode(rest);
        rest.remove_prefix(r.consumed);
        if (r.done) break;
    }
}

void run_data_encoder(std::string_view in) {
    for (const bool reject : {false, true}) {
        smtpp::data_encoder encoder(smtpp::data_encoder_options{!reject, 1000});
        std::string_view rest = in;
        for (int guard = 0; guard < 100000 && !rest.empty(); ++guard) {
            const smtpp::data_encoder::result r = encoder.next(rest);
            if (r.error != errc::ok) break;
            rest.remove_prefix(r.consumed);
        }
        (void)encoder.finish();
    }
    (void)smtpp::scan_body(in);
}

void run_bdat_reader(std::string_view in) {
    smtpp::bdat_reader reader(in.size() / 2 + 1);
    std::string_view rest = in;
    while (!rest.empty() && !reader.done()) rest.remove_prefix(reader.read(rest).consumed);
}

void run_base64_and_sasl(std::string_view in) {
    std::vector<char> buffer(smtpp::base64_decoded_size_max(in.size()) + 4);
    std::string_view out;
    (void)smtpp::base64_validate(in);
    (void)smtpp::base64_decode(in, buffer.data(), buffer.size(), out);
    (void)smtpp::sasl_decode_response(in, buffer.data(), buffer.size(), out);
    (void)smtpp::sasl_decode_initial_response(in, buffer.data(), buffer.size(), out);
    smtpp::sasl_plain plain;
    (void)smtpp::sasl_plain_decode(in, buffer.data(), buffer.size(), plain);
    (void)smtpp::sasl_plain_parse(in, plain);
    (void)smtpp::sasl_login_decode(in, buffer.data(), buffer.size(), out);
    (void)smtpp::sasl_login_classify(in);
}

void run_grammar(std::string_view in) {
    for (const bool utf8 : {false, true}) {
        smtpp::address_options o;
        o.allow_utf8 = utf8;
        smtpp::host_kind host{};
        smtpp::mailbox box;
        smtpp::path path;
        (void)smtpp::parse_domain(in, o);
        (void)smtpp::parse_address_literal(in, host);
        (void)smtpp::parse_local_part(in, o);
        (void)smtpp::parse_mailbox(in, box, o);
        (void)smtpp::parse_reverse_path(in, path, o);
        (void)smtpp::parse_forward_path(in, path, o);
        (void)smtpp::is_esmtp_value(in, utf8);
        (void)smtpp::xtext_validate(in, utf8);
        (void)smtpp::xtext_validate_printable(in, utf8);
        char buffer[4096];
        std::size_t size = 0;
        (void)smtpp::xtext_decode(in, buffer, sizeof buffer, size, utf8);
        (void)smtpp::quote_local_part(in, buffer, sizeof buffer, size, utf8);
    }
    (void)smtpp::is_valid_utf8(in);
    (void)smtpp::is_esmtp_keyword(in);
    (void)smtpp::local_part_equal(in, in);
    (void)smtpp::domain_equal(in, in);
    smtpp::enhanced_status status;
    (void)smtpp::parse_enhanced_status(in, status);
    (void)smtpp::strip_enhanced_status(in);
    (void)smtpp::is_valid_helo_name(in);
}

// ---- the sessions ----

// What the server has been told before the input arrives, so that the input lands in each
// reading mode: command lines, AUTH response lines, DATA body, BDAT chunk.
enum class server_mode { command, auth, data, bdat, lenient };

smtpp::server_config server_config_for(server_mode mode) {
    smtpp::server_config c;
    c.hostname = "mx.example";
    c.offer.chunking = c.offer.binarymime = c.offer.dsn = c.offer.smtputf8 = true;
    c.auth_mechanisms = "PLAIN LOGIN X-OTHER";
    c.plaintext_auth_requires_tls = false;
    c.offer.starttls = true;
    c.limit.errors_before_disconnect = 0;
    if (mode == server_mode::lenient) {
        c.lenient_bare_lf_commands = c.lenient_space_after_colon = c.lenient_bare_line_endings =
            true;
    }
    return c;
}

const char* server_prefix(server_mode mode) {
    switch (mode) {
    case server_mode::auth:
        return "EHLO c.example\r\nAUTH LOGIN\r\n";
    case server_mode::data:
        return "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n";
    case server_mode::bdat:
        return "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nBDAT 100\r\n";
    default:
        return "EHLO c.example\r\n";
    }
}

void pump(smtpp::server_session& s) {
    for (int guard = 0; guard < 100000; ++guard) {
        const smtpp::server_event ev = s.next_event();
        if (ev.kind == smtpp::server_event_kind::need_data ||
            ev.kind == smtpp::server_event_kind::closed ||
            ev.kind == smtpp::server_event_kind::tls_handshake)
            break;
        if (ev.kind == smtpp::server_event_kind::body_chunk && !ev.data.empty()) {
            (void)ev.data.back(); // touch the view's last octet
        }
        if (smtpp::is_decision(ev.kind)) (void)s.accept();
        s.consume_output(s.pending_output().size());
    }
    s.consume_output(s.pending_output().size());
}

// The input, then EOF: each mode reads all of it, then reacts to the connection ending.
void run_server_session(std::string_view in) {
    for (const server_mode mode : {server_mode::command, server_mode::auth, server_mode::data,
                                   server_mode::bdat, server_mode::lenient}) {
        smtpp::server_session s(server_config_for(mode));
        pump(s);
        (void)s.receive(server_prefix(mode));
        pump(s);
        (void)s.receive(in);
        pump(s);
        s.receive_eof();
        pump(s);
    }
}

void run_client_session(std::string_view in) {
    smtpp::client_config c;
    c.helo_name = "client.example";
    c.tls = smtpp::tls_mode::never;
    smtpp::client_session s(c);
    smtpp_test::give(s, in);
    for (int guard = 0; guard < 10000; ++guard) {
        const smtpp::client_event e = s.next_event();
        if (e.kind == smtpp::client_event_kind::need_data ||
            e.kind == smtpp::client_event_kind::closed)
            break;
    }
}

// Every parser and both sessions on one input that ends at the guard page.
void run_everything(guarded_buffer& guard, std::string_view input) {
    const std::string_view in = guard.place(input);
    run_command_parser(in);
    run_reply_reader(in);
    run_data_decoder(in);
    run_data_encoder(in);
    run_bdat_reader(in);
    run_base64_and_sasl(in);
    run_grammar(in);
    run_client_session(in);
    run_server_session(in);
}

constexpr int segv_exit_code = 77;
void exit_on_segv(int) { _exit(segv_exit_code); }

// Valid shapes whose every truncation is an input.
const char* const seeds[] = {
    "EHLO client.example\r\n",
    "EHLO [IPv6:2001:db8::1]\r\n",
    "HELO [192.0.2.1]\r\n",
    "MAIL FROM:<a@b.example> SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x+2By AUTH=<>\r\n",
    "MAIL FROM:<\"quoted \\\" local\"@[IPv6:::1]> BODY=BINARYMIME\r\n",
    "MAIL FROM:<@route.example,@r2.example:a@b.example>\r\n",
    "MAIL FROM:<\xC3\xA9@\xC3\xA9.example> SMTPUTF8\r\n",
    "RCPT TO:<Postmaster>\r\n",
    "RCPT TO:<x@y.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+40y.example\r\n",
    "BDAT 18446744073709551615 LAST\r\n",
    "AUTH PLAIN AHVzZXIAcGFzcw==\r\n",
    "AUTH X-OTHER =\r\n",
    "VRFY postmaster SMTPUTF8\r\n",
    "DATA\r\n",
    "RSET\r\nNOOP hello\r\nQUIT\r\n",
    "Subject: x\r\n\r\n..dot\r\n.\r\n",
    "line\r\n.\r",
    "220-mx.example ESMTP\r\n220 hi\r\n",
    ("250-mx.example greets you\r\n250-SIZE 35882577\r\n250-AUTH PLAIN LOGIN\r\n250-AUTH=LOGIN\r\n"
     "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250 STARTTLS\r\n"),
    "550-5.1.1 The email account\r\n550 5.1.1 does not exist\r\n",
    "334 VXNlcm5hbWU6\r\n",
    "2.1.10 ",
    "x+2B+2b+",
};

std::vector<std::string> corpus_files() {
    std::vector<std::string> files;
    const std::filesystem::path root =
        std::filesystem::path(__FILE__).parent_path() / "fuzz" / "corpus";
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file()) continue;
        std::ifstream f(it->path(), std::ios::binary);
        files.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    std::sort(files.begin(), files.end());
    return files;
}

} // namespace

TEST_CASE("over-read trap: the octet after a placed input is not readable", "[overread]") {
    guarded_buffer guard;
    REQUIRE(guard.ok());
    const std::string_view in = guard.place("abc");
    REQUIRE(in.back() == 'c');
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        struct sigaction on_segv {};
        on_segv.sa_handler = exit_on_segv;
        sigaction(SIGSEGV, &on_segv, nullptr);
        const volatile char* past = in.data() + in.size();
        _exit(*past == 0 ? 0 : 1); // reached only if the octet was readable
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    const bool trapped = (WIFEXITED(status) && WEXITSTATUS(status) == segv_exit_code) ||
                         (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    CHECK(trapped);
}

TEST_CASE("over-read trap: every single octet, and the empty input, at a guard page",
          "[overread]") {
    guarded_buffer guard;
    REQUIRE(guard.ok());
    run_everything(guard, {});
    for (int c = 0; c < 256; ++c) {
        const char octet = static_cast<char>(c);
        run_everything(guard, std::string_view(&octet, 1));
    }
    SUCCEED("no read past the end of any input");
}

TEST_CASE("over-read trap: every truncation of valid commands and replies", "[overread]") {
    guarded_buffer guard;
    REQUIRE(guard.ok());
    std::size_t inputs = 0;
    for (const char* const seed : seeds) {
        const std::string_view s(seed);
        for (std::size_t n = 0; n <= s.size(); ++n) {
            run_everything(guard, s.substr(0, n));
            // The same truncation without a CRLF at all: parsers take lines without it.
            const std::string_view line = s.substr(0, std::min(n, s.find('\r')));
            run_everything(guard, line);
            inputs += 2;
        }
    }
    CHECK(inputs > 1000);
}

TEST_CASE("over-read trap: every prefix of the fuzz seed corpus", "[overread]") {
    guarded_buffer guard;
    REQUIRE(guard.ok());
    const std::vector<std::string> files = corpus_files();
    CHECK(files.size() >= 100);
    std::size_t inputs = 0;
    for (const std::string& file : files) {
        const std::size_t size = std::min(file.size(), guard.capacity());
        for (std::size_t n = 0; n <= size; ++n) {
            run_everything(guard, std::string_view(file).substr(0, n));
            ++inputs;
        }
    }
    CHECK(inputs >= files.size());
}

#endif // __unix__
