// Runs every fixture in tests/transcripts/server/ (format: tests/server_transcript.hpp) as its
// own test case named after the file. Each fixture must give the expected events and output
// with the client bytes fed whole, split in two at every index of every segment, and byte by
// byte (the split grind).
#include <smtpp/server_session.hpp>

#include "server_transcript.hpp"
#include "smtpp_catch.hpp"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <string>
#include <vector>

namespace {

std::string fixture_dir() {
    const std::filesystem::path here(__FILE__);
    return (here.parent_path() / "transcripts" / "server").string();
}

std::vector<std::string> fixture_files() {
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(fixture_dir(), ec)) {
        if (entry.path().extension() == ".txt") files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    return s;
}

void run_fixture(const std::string& path) {
    const smtpp_test::transcript t = smtpp_test::parse_transcript(smtpp_test::read_file(path));
    REQUIRE(t.error == "");
    REQUIRE(t.config.validate() == smtpp::errc::ok);
    const auto whole = smtpp_test::transcript_run(t).run(0, 0);
    CHECK(whole.problem == "");
    // receive() copies, receive_in_place() reads in place: the same run either way.
    CHECK(smtpp_test::transcript_run(t, true).run(0, 0) == whole);
    for (std::size_t i = 0; i < t.segments.size(); ++i) {
        INFO("segment " << i);
        CHECK(whole.events[i] == joined(t.segments[i].expected_events));
        CHECK(smtpp_test::escape(whole.outputs[i]) ==
              smtpp_test::escape(t.segments[i].expected_output));
    }
    // The split grind: every cut of every segment, then each segment byte by byte.
    for (std::size_t seg = 0; seg < t.segments.size(); ++seg) {
        const std::size_t n = t.segments[seg].client.size();
        for (std::size_t cut = 1; cut <= n; ++cut) {
            const auto split = smtpp_test::transcript_run(t, cut % 2 == 0).run(seg, cut);
            if (split != whole) {
                FAIL_CHECK("segment " << seg << " split at " << cut << " (" << n
                                      << " = byte by byte) differs:\n"
                                      << joined(split.events) << joined(split.outputs)
                                      << split.problem);
                return;
            }
        }
    }
}

#if SMTPP_CATCH_VERSION == 2
struct fixture_invoker final : Catch::ITestInvoker {
    explicit fixture_invoker(std::string p) : path(std::move(p)) {}
    void invoke() const override { run_fixture(path); }
    std::string path;
};

// Registers one test case per fixture file before main() runs.
struct fixture_registrar {
    fixture_registrar() {
        for (const std::string& file : fixture_files()) {
            names.push_back("transcript " + std::filesystem::path(file).stem().string());
            auto* invoker = new fixture_invoker(file); // owned by Catch's registry for the run
            Catch::AutoReg(
                invoker, Catch::SourceLineInfo(__FILE__, __LINE__), Catch::StringRef(),
                Catch::NameAndTags(Catch::StringRef(names.back()), "[server][transcript]"));
        }
    }
    std::deque<std::string> names;
};
const fixture_registrar registrar;
#else
TEST_CASE("server transcripts", "[server][transcript]") {
    for (const std::string& file : fixture_files()) {
        DYNAMIC_SECTION(std::filesystem::path(file).stem().string()) { run_fixture(file); }
    }
}
#endif

TEST_CASE("the transcript directory holds fixtures", "[server][transcript]") {
    CHECK(fixture_files().size() >= 40);
}

} // namespace
