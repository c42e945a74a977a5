// smtpp examples: storing accepted messages. Each message becomes DIR/<id>.eml (the exact
// message bytes: DATA after dot-unstuffing, or the BDAT chunks) and DIR/<id>.json (the
// envelope). Both are written to a temporary name and renamed into place, the .json last, so
// a reader that sees <id>.json also sees the complete <id>.eml; a message that could not be
// stored leaves nothing. No fsync: a demo, not an MTA.
// Without a directory, one line per message goes to stdout instead.
#ifndef SMTPP_EXAMPLES_MAILDIR_HPP
#define SMTPP_EXAMPLES_MAILDIR_HPP

#include "log.hpp"

#include <smtpp/command.hpp>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
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

// Writes `content` to a new file. Returns 0, or the errno of the first failure (and the file
// is removed).
inline int write_new_file(const std::string& path, std::string_view content) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return errno;
    int error = write_all(fd, content.data(), content.size()) ? 0 : errno;
    if (::close(fd) != 0 && error == 0) error = errno;
    if (error != 0) ::unlink(path.c_str());
    return error;
}

// The process id in a temporary file name, .tmp-<seconds>.<pid>.<counter>.<ext>; 0 if none.
inline long writer_pid(const std::string& name) {
    const auto dot = name.find('.', 5);
    if (name.rfind(".tmp-", 0) != 0 || dot == std::string::npos) return 0;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + dot + 1, &end, 10);
    return *end == '.' ? pid : 0;
}

// Removes the temporary files of messages that a server which is gone (killed, crashed) was
// receiving. Those of a server still running on the same directory are left alone.
inline void remove_stale_temporaries(const std::string& dir) {
    std::vector<std::string> stale;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (const dirent* e = ::readdir(d)) {
            const long pid = writer_pid(e->d_name);
            if (pid <= 0) continue;
            const bool running =
                pid != ::getpid() && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
            if (!running) stale.emplace_back(e->d_name);
        }
        ::closedir(d);
    }
    std::size_t removed = 0;
    for (const std::string& name : stale) removed += ::unlink((dir + "/" + name).c_str()) == 0;
    if (removed > 0) {
        log_line(log_err(), "removed %zu stale temporary file(s) from %s", removed, dir.c_str());
    }
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
    // False when the message file could not be created (begin() logged why).
    bool created() const noexcept { return created_; }
    // False once writing the message failed.
    bool healthy() const noexcept { return created() && error_ == 0; }
    const std::string& id() const noexcept { return id_; }
    std::uint64_t size() const noexcept { return size_; }
    std::size_t buffered() const noexcept { return buf_.capacity(); }

    // Starts a message: creates its temporary file. False when it cannot be created.
    bool begin() {
        abort();
        started_ = true;
        error_ = 0;
        size_ = 0;
        id_ = new_message_id();
        created_ = dir_.empty();
        if (created_) return true;
        tmp_ = dir_ + "/.tmp-" + id_ + ".eml";
        fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd_ < 0) {
            error_ = errno;
            log_line(log_err(), "cannot create %s: %s", tmp_.c_str(), std::strerror(error_));
            return false;
        }
        created_ = true;
        buf_.reserve(buffer_size);
        return true;
    }

    void append(std::string_view bytes) {
        if (!started_) begin();
        size_ += bytes.size();
        if (fd_ < 0 || error_ != 0) return;
        if (buf_.size() + bytes.size() > buffer_size) flush();
        if (bytes.size() < buffer_size) {
            buf_.append(bytes.data(), bytes.size());
        } else if (!write_all(fd_, bytes.data(), bytes.size())) {
            error_ = errno;
        }
    }

    // Stores the message: the envelope is written to DIR/.tmp-<id>.json, then the body and the
    // envelope are renamed into place, the .json last (a reader that sees <id>.json sees the
    // whole <id>.eml). On any failure nothing of the message is left behind, so a client
    // that retries after the 4xx does not get it stored twice.
    bool commit(std::string_view envelope_json) {
        if (!started_ && !begin()) return false; // BDAT 0 LAST: no body chunk at all
        started_ = false;
        if (dir_.empty()) return true;
        if (fd_ < 0) return false;
        flush();
        if (::close(fd_) != 0 && error_ == 0) error_ = errno;
        fd_ = -1;
        const std::string eml = dir_ + "/" + id_ + ".eml", json = dir_ + "/" + id_ + ".json";
        const std::string json_tmp = dir_ + "/.tmp-" + id_ + ".json";
        if (error_ == 0) error_ = write_new_file(json_tmp, envelope_json);
        const bool body_placed = error_ == 0 && ::rename(tmp_.c_str(), eml.c_str()) == 0;
        if (error_ == 0 && !body_placed) error_ = errno;
        if (error_ == 0 && ::rename(json_tmp.c_str(), json.c_str()) != 0) error_ = errno;
        std::string().swap(buf_);
        if (error_ == 0) return true;
        ::unlink(tmp_.c_str());
        ::unlink(json_tmp.c_str());
        if (body_placed) ::unlink(eml.c_str());
        log_line(log_err(), "cannot store message %s: %s", id_.c_str(), std::strerror(error_));
        return false;
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
        if (fd_ >= 0 && error_ == 0 && !buf_.empty() && !write_all(fd_, buf_.data(), buf_.size()))
            error_ = errno;
        buf_.clear();
    }

    const std::string& dir_;
    std::string id_, tmp_, buf_;
    int fd_ = -1;
    int error_ = 0; // errno of the first failure of this message
    std::uint64_t size_ = 0;
    bool started_ = false, created_ = false;
};

} // namespace smtpp_examples

#endif // SMTPP_EXAMPLES_MAILDIR_HPP
