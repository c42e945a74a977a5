// smtpp-send: the messages to send, and where their octets are. Files are listed when the
// program starts and read when their turn comes, so memory holds the messages in flight, not
// the whole batch; an mbox is mapped into memory and split once; standard input is read at
// the start.
#ifndef SMTPP_SEND_MESSAGES_HPP
#define SMTPP_SEND_MESSAGES_HPP

#include "mbox.hpp"
#include "options.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace smtpp_send {

// A file mapped read-only, unmapped with the object.
class mapped_file {
public:
    mapped_file() = default;
    mapped_file(const mapped_file&) = delete;
    mapped_file& operator=(const mapped_file&) = delete;
    ~mapped_file() {
        if (data_ != nullptr) ::munmap(data_, size_);
    }

    // False, with errno set, when the file cannot be read.
    bool map(const std::string& path) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return false;
        struct stat st {};
        bool ok = ::fstat(fd, &st) == 0;
        if (ok && !S_ISREG(st.st_mode)) {
            errno = EINVAL;
            ok = false;
        }
        if (ok && st.st_size > 0) {
            size_ = static_cast<std::size_t>(st.st_size);
            void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
            ok = p != MAP_FAILED;
            data_ = ok ? p : nullptr;
        }
        const int saved = errno;
        ::close(fd);
        errno = saved;
        return ok;
    }

    [[nodiscard]] std::string_view text() const {
        return data_ == nullptr ? std::string_view()
                                : std::string_view(static_cast<char*>(data_), size_);
    }

private:
    void* data_ = nullptr;
    std::size_t size_ = 0;
};

// Reads all of `f`; false on a read error.
inline bool read_all(std::FILE* f, std::string& out) {
    char buf[65536];
    for (;;) {
        const std::size_t n = std::fread(buf, 1, sizeof buf, f);
        out.append(buf, n);
        if (n < sizeof buf) break;
    }
    return !std::ferror(f);
}

// A regular file (symbolic links followed)?
inline bool is_regular_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Every message given on the command line, in order.
class message_list {
public:
    struct message {
        std::string name;      // for the report: the path, "-", or "FILE#N" (an mbox's Nth)
        std::string path;      // a file read when the message is sent; empty: `held` is the message
        std::string_view held; // standard input, or an mbox's message (still escaped)
        bool mbox = false;
    };

    // Adds what `in` names; false and `error` when it cannot be read.
    bool add(const input& in, std::string& error) {
        if (in.what == input::kind::mbox) return add_mbox(in.name, error);
        if (in.name == "-") return add_stdin(error);
        struct stat st {};
        if (::stat(in.name.c_str(), &st) != 0) return failed(in.name, error);
        if (S_ISDIR(st.st_mode)) return add_directory(in.name, error);
        if (!S_ISREG(st.st_mode)) {
            error = "cannot read " + in.name + ": not a regular file or directory";
            return false;
        }
        messages_.push_back({in.name, in.name, {}, false});
        return true;
    }

    [[nodiscard]] std::size_t size() const noexcept { return messages_.size(); }
    [[nodiscard]] const std::string& name(std::size_t i) const { return messages_[i].name; }

    // The octets of message `i` as they are to be sent; false and `error` when its file can
    // no longer be read.
    bool load(std::size_t i, std::string& content, std::string& error) const {
        const message& m = messages_[i];
        content.clear();
        if (m.path.empty()) {
            content = m.mbox ? unescape_mbox_message(m.held) : std::string(m.held);
            return true;
        }
        std::FILE* f = std::fopen(m.path.c_str(), "rb");
        const bool ok = f != nullptr && read_all(f, content);
        if (!ok) error = "cannot read " + m.path + ": " + std::strerror(errno);
        if (f != nullptr) std::fclose(f);
        return ok;
    }

private:
    bool add_stdin(std::string& error) {
        stdin_ = std::make_unique<std::string>();
        if (!read_all(stdin, *stdin_)) return failed("standard input", error);
        messages_.push_back({"-", {}, *stdin_, false});
        return true;
    }

    // Every regular file in `dir` whose name does not start with a dot (an editor's
    // backup, a server's temporary file), by name.
    bool add_directory(const std::string& dir, std::string& error) {
        DIR* d = ::opendir(dir.c_str());
        if (d == nullptr) return failed(dir, error);
        std::vector<std::string> names;
        errno = 0;
        while (const dirent* e = ::readdir(d)) {
            if (e->d_name[0] != '.') names.emplace_back(e->d_name);
        }
        const int read_error = errno;
        ::closedir(d);
        if (read_error != 0) {
            errno = read_error;
            return failed(dir, error);
        }
        std::sort(names.begin(), names.end());
        const std::string prefix = dir.back() == '/' ? dir : dir + "/";
        for (const std::string& name : names) {
            const std::string path = prefix + name;
            if (is_regular_file(path)) messages_.push_back({path, path, {}, false});
        }
        return true;
    }

    bool add_mbox(const std::string& path, std::string& error) {
        std::string_view box;
        if (path == "-") {
            stdin_ = std::make_unique<std::string>();
            if (!read_all(stdin, *stdin_)) return failed("standard input", error);
            box = *stdin_;
        } else {
            auto& map = maps_.emplace_back(std::make_unique<mapped_file>());
            if (!map->map(path)) return failed(path, error);
            box = map->text();
        }
        std::vector<std::string_view> split;
        if (!split_mbox(box, split)) {
            error = "cannot read " + path + ": not an mbox (it does not start with a 'From ' line)";
            return false;
        }
        for (std::size_t k = 0; k < split.size(); ++k) {
            messages_.push_back({path + "#" + std::to_string(k + 1), {}, split[k], true});
        }
        return true;
    }

    static bool failed(const std::string& what, std::string& error) {
        error = "cannot read " + what + ": " + std::strerror(errno);
        return false;
    }

    std::vector<message> messages_;
    std::vector<std::unique_ptr<mapped_file>> maps_;
    std::unique_ptr<std::string> stdin_; // read once (options::check)
};

// The messages not handed to a connection yet, in order.
class message_queue {
public:
    explicit message_queue(std::size_t total) : total_(total) {}

    // The next message's index; false when none is left.
    bool take(std::size_t& index) {
        if (next_ == total_) return false;
        index = next_++;
        return true;
    }
    [[nodiscard]] bool empty() const noexcept { return next_ == total_; }

private:
    std::size_t next_ = 0;
    std::size_t total_;
};

} // namespace smtpp_send

#endif // SMTPP_SEND_MESSAGES_HPP
