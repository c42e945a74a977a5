// Replay main for smtpp's fuzz targets when they are NOT linked with libFuzzer (g++ builds, or
// clang without SMTPP_FUZZ_ENGINE=libfuzzer): every file named on the command line, and every
// regular file under every directory named, is passed once to LLVMFuzzerTestOneInput, in sorted
// order, plus the empty input. An invariant violation aborts, so ctest sees the failure.
// A path that does not exist is an error (a corpus that silently vanished tests nothing).
//
//   fuzz_command tests/fuzz/corpus/command [more dirs or files ...]
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool read_file(const std::filesystem::path& path, std::vector<std::uint8_t>& bytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

} // namespace

int main(int argc, char** argv) {
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (!arg.empty() && arg[0] == '-') continue; // libFuzzer-style flags: ignored here
        std::error_code ec;
        const fs::path path(arg);
        if (fs::is_directory(path, ec)) {
            for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end;
                 it.increment(ec)) {
                if (it->is_regular_file(ec)) files.push_back(it->path());
            }
            if (ec) {
                std::fprintf(stderr, "replay: cannot list %s: %s\n", arg.c_str(),
                             ec.message().c_str());
                return 2;
            }
        } else if (fs::is_regular_file(path, ec)) {
            files.push_back(path);
        } else {
            std::fprintf(stderr, "replay: no such file or directory: %s\n", arg.c_str());
            return 2;
        }
    }
    std::sort(files.begin(), files.end());

    LLVMFuzzerTestOneInput(nullptr, 0);
    std::vector<std::uint8_t> bytes;
    for (const fs::path& file : files) {
        if (!read_file(file, bytes)) {
            std::fprintf(stderr, "replay: cannot read %s\n", file.string().c_str());
            return 2;
        }
        std::printf("replay: %s\n", file.string().c_str());
        std::fflush(stdout); // named before it runs: an abort below then points at the file
        // Copy into an exactly-sized heap block so ASan catches reads past the end.
        std::vector<std::uint8_t> exact(bytes.begin(), bytes.end());
        LLVMFuzzerTestOneInput(exact.empty() ? nullptr : exact.data(), exact.size());
    }
    std::printf("replay: %zu inputs ran clean\n", files.size() + 1);
    return 0;
}
