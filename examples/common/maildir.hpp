// smtpp examples: storing accepted messages. Each message becomes DIR/<id>.eml (the exact
// message bytes: DATA after dot-unstuffing, or the BDAT chunks) and DIR/<id>.json (the
// envelope). Both are written to a temporary name and renamed into place, the .json last, so
// a reader that sees <id>.json also sees the complete <id>.eml. No fsync: a demo, not an MTA.
// Without a directory, one line per message goes to stdout instead.
#ifndef SMTPP_EXAMPLES_MAILDIR_HPP
#define SMTPP_EXAMPLES_MAILDIR_HPP

#include "log.hpp"

#include <smtpp/command.hpp>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace smtpp_examples {

// JSON string literal of `s` (UTF-8 passes through; controls, 8-bit bytes that are not valid
// UTF-8 are not checked here: the session only hands out UTF-8 addresses under SMTPUTF8).
inline void json_string(std::string& out, std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    out.push_back('"');
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out.push_back('\\');
            out.push_back(ch);
        } else if (c < 0x20 || c == 0x7f) {
            out += "\\u00";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        } else {
            out.push_back(ch);
        }
    }
    out.push_back('"');
}

// The address inside a path, without angle brackets and source route; "" for <>.
inline std::string_view path_address(const smtpp::path& p) {
    if (p.is_null || p.text.size() < 2) return {};
    std::string_view inner = p.text.substr(1, p.text.size() - 2);
    if (!p.source_route.empty()) {
        const auto colon = inner.find(':');
        if (colon != std::string_view::npos) inner.remove_prefix(colon + 1);
    }
    return inner;
}

// The ESMTP parameters of a MAIL or RCPT line as written, as a JSON object: KEY=VALUE gives
// "KEY":"VALUE", a bare KEY gives "KEY":true. Keywords are upper-cased.
inline void json_parameters(std::string& out, const smtpp::command& c) {
    std::string_view rest;
    const std::string_view line = c.line;
    const char* end_of_path = c.address.text.data() + c.address.text.size();
    if (c.address.text.data() >= line.data() && end_of_path <= line.data() + line.size()) {
        rest = line.substr(static_cast<std::size_t>(end_of_path - line.data()));
    }
    out.push_back('{');
    bool first = true;
    while (!rest.empty()) {
        const auto start = rest.find_first_not_of(' ');
        if (start == std::string_view::npos) break;
        rest.remove_prefix(start);
        const auto space = rest.find(' ');
        const std::string_view word = rest.substr(0, space);
        rest.remove_prefix(space == std::string_view::npos ? rest.size() : space);
        const auto eq = word.find('=');
        std::string key(word.substr(0, eq));
        for (char& ch : key) {
            if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
        }
        if (!first) out.push_back(',');
        first = false;
        json_string(out, key);
        out.push_back(':');
        if (eq == std::string_view::npos)
            out += "true";
        else
            json_string(out, word.substr(eq + 1));
    }
    out.push_back('}');
}

// A process-wide unique message id: <unix seconds>.<pid>.<counter>.
inline std::string new_message_id() {
    static std::uint64_t counter = 0;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%lld.%ld.%llu", static_cast<long long>(std::time(nullptr)),
                  static_cast<long>(::getpid()), static_cast<unsigned long long>(++counter));
    return buf;
}

inline bool write_all(int fd, const char* p, std::size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

// Writes `content` to dir/name through dir/.tmp-name and rename(2).
inline bool write_file_atomic(const std::string& dir, const std::string& name,
                              std::string_view content) {
    const std::string tmp = dir + "/.tmp-" + name;
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    const bool ok = write_all(fd, content.data(), content.size());
    if (::close(fd) != 0 || !ok || ::rename(tmp.c_str(), (dir + "/" + name).c_str()) != 0) {
        ::unlink(tmp.c_str());
        return false;
    }
    return true;
}

// One message on its way to the disk: body bytes are streamed to DIR/.tmp-<id>.eml through a
// small buffer, so a connection holds a few KiB however large the message is.
class message_writer {
public:
    explicit message_writer(const std::string& dir) : dir_(dir) {}
    message_writer(const message_writer&) = delete;
    message_writer& operator=(const message_writer&) = delete;
    ~message_writer() { abort(); }

    bool started() const noexcept { return started_; }
    const std::string& id() const noexcept { return id_; }
    std::uint64_t size() const noexcept { return size_; }

    void begin() {
        abort();
        started_ = true;
        failed_ = false;
        size_ = 0;
        id_ = new_message_id();
        if (dir_.empty()) return;
        tmp_ = dir_ + "/.tmp-" + id_ + ".eml";
        fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd_ < 0) {
            log_line(log_err(), "cannot create %s: %s", tmp_.c_str(), std::strerror(errno));
            failed_ = true;
        }
        buf_.reserve(buffer_size);
    }

    void append(std::string_view bytes) {
        if (!started_) begin();
        size_ += bytes.size();
        if (fd_ < 0) return;
        if (buf_.size() + bytes.size() > buffer_size) flush();
        if (bytes.size() >= buffer_size) {
            if (!failed_ && !write_all(fd_, bytes.data(), bytes.size())) failed_ = true;
        } else {
            buf_.append(bytes.data(), bytes.size());
        }
    }

    // Moves the body into place and writes the envelope. False on any I/O error.
    bool commit(std::string_view envelope_json) {
        if (!started_) begin();
        if (dir_.empty()) {
            started_ = false;
            return true;
        }
        flush();
        bool ok = !failed_ && fd_ >= 0;
        if (fd_ >= 0 && ::close(fd_) != 0) ok = false;
        fd_ = -1;
        ok = ok && ::rename(tmp_.c_str(), (dir_ + "/" + id_ + ".eml").c_str()) == 0;
        if (!ok) ::unlink(tmp_.c_str());
        ok = ok && write_file_atomic(dir_, id_ + ".json", envelope_json);
        if (!ok)
            log_line(log_err(), "cannot store message %s: %s", id_.c_str(), std::strerror(errno));
        started_ = false;
        std::string().swap(buf_);
        return ok;
    }

    // Drops a message in progress (transaction reset, connection lost).
    void abort() {
        if (fd_ >= 0) {
            ::close(fd_);
            ::unlink(tmp_.c_str());
            fd_ = -1;
        }
        started_ = false;
        std::string().swap(buf_);
    }

private:
    static constexpr std::size_t buffer_size = 8192;

    void flush() {
        if (fd_ >= 0 && !failed_ && !buf_.empty() && !write_all(fd_, buf_.data(), buf_.size()))
            failed_ = true;
        buf_.clear();
    }

    const std::string& dir_;
    std::string id_, tmp_, buf_;
    int fd_ = -1;
    bool started_ = false, failed_ = false;
    std::uint64_t size_ = 0;
};

} // namespace smtpp_examples

#endif // SMTPP_EXAMPLES_MAILDIR_HPP
