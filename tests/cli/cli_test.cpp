// End-to-end tests of the `weir` executable: exit codes, messages, signals.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "support/test_data.hpp"
#include "support/weir_process.hpp"

namespace fs = std::filesystem;
using namespace weir::test;

namespace {

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("cli: --version and --help", "[cli]") {
  weir::test::temp_dir tmp;
  auto v = run_weir({"--version"}, tmp.path);
  CHECK(v.exit_code == 0);
  CHECK(v.out.rfind("weir ", 0) == 0);
  auto h = run_weir({"--help"}, tmp.path);
  CHECK(h.exit_code == 0);
  CHECK_THAT(h.out, Catch::Contains("run") && Catch::Contains("check"));
  auto rh = run_weir({"run", "--help"}, tmp.path);
  CHECK(rh.exit_code == 0);
  CHECK_THAT(rh.out, Catch::Contains("--batch-interval") && Catch::Contains("--parallelism") &&
                         Catch::Contains("--batch-size"));
}

TEST_CASE("cli: usage errors exit 2", "[cli]") {
  weir::test::temp_dir tmp;
  CHECK(run_weir({}, tmp.path).exit_code == 2);
  CHECK(run_weir({"frobnicate"}, tmp.path).exit_code == 2);
  CHECK(run_weir({"run", "--bogus"}, tmp.path).exit_code == 2);
  auto none = run_weir({"run"}, tmp.path);
  CHECK(none.exit_code == 2);
  CHECK(none.err == "weir: error: give a script file or -e 'PIPELINE' (see weir --help)\n");
  write_file(tmp.path / "p.weir", "stdin() | print()\n");
  CHECK(run_weir({"run", (tmp.path / "p.weir").string(), "-e", "stdin() | print()"}, tmp.path).exit_code == 2);
  auto missing = run_weir({"check", (tmp.path / "nope.weir").string()}, tmp.path);
  CHECK(missing.exit_code == 2);
  CHECK(missing.err == "weir: error: cannot open script '" + (tmp.path / "nope.weir").string() +
                           "': No such file or directory\n");
  auto bad = run_weir({"run", "-e", "stdin() | print()", "--batch-interval", "10"}, tmp.path);
  CHECK(bad.exit_code == 2);
  CHECK(bad.err == "weir: error: --batch-interval: expected a positive duration like 500ms, 1s, "
                   "5m or 1h, got '10'\n");
  CHECK(run_weir({"run", "-e", "stdin() | print()", "--parallelism", "x"}, tmp.path).exit_code == 2);
}

TEST_CASE("cli: a DSL error exits 2 with FILE:LINE:COLUMN", "[cli]") {
  weir::test::temp_dir tmp;
  auto r = run_weir({"run", "-e", "file(\"x\") | map((_, 1)) | reduce_by_kye(sum) | print()"}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "-e:1:27: unknown operator 'reduce_by_kye' (did you mean 'reduce_by_key'?)\n");
  CHECK(r.out.empty());

  auto script = tmp.path / "pipeline.weir";
  write_file(script, "# word count\nfile(\"in.txt\")\n  | flat_map(split(_, \" \"))\n  | map((_, 1))\n"
                     "  | reduce_by_kye(sum)\n  | print()\n");
  auto c = run_weir({"check", script.string()}, tmp.path);
  CHECK(c.exit_code == 2);
  CHECK(c.err == script.string() + ":5:5: unknown operator 'reduce_by_kye' (did you mean 'reduce_by_key'?)\n");

  auto s = run_weir({"check", "-e", "file(\"a\") | map(_ foo)"}, tmp.path);
  CHECK(s.exit_code == 2);
  CHECK(s.err == "-e:1:19: expected ')' after arguments, found 'foo'\n");

  auto w = run_weir({"check", "-e", "stdin() | map((_, 1)) | reduce_by_key_and_window(sum, 3s) | print()",
                     "--batch-interval", "2s"},
                    tmp.path);
  CHECK(w.exit_code == 2);
  CHECK(w.err == "-e:1:55: window 3s is not a multiple of the batch interval 2s\n");
}

TEST_CASE("cli: check prints ok for every shipped example", "[cli]") {
  weir::test::temp_dir tmp;
  int checked = 0;
  for (auto& entry : fs::directory_iterator(fs::path(WEIR_SOURCE_DIR) / "examples")) {
    if (entry.path().extension() != ".weir") continue;
    INFO(entry.path());
    auto r = run_weir({"check", entry.path().string()}, tmp.path);
    CHECK(r.err.empty());
    CHECK(r.exit_code == 0);
    CHECK(r.out == "ok\n");
    ++checked;
  }
  CHECK(checked >= 2);
}

TEST_CASE("cli: a missing input file exits 1 with one line", "[cli]") {
  weir::test::temp_dir tmp;
  auto r = run_weir({"run", "-e", "file(\"" + (tmp.path / "nope.txt").string() + "\") | print()"}, tmp.path);
  CHECK(r.exit_code == 1);
  CHECK(r.err == "weir: error: file(\"" + (tmp.path / "nope.txt").string() +
                     "\"): cannot open: No such file or directory\n");
}

TEST_CASE("cli: a runtime type error exits 1 with the expression's position", "[cli]") {
  weir::test::temp_dir tmp;
  write_file(tmp.path / "in.txt", "1\n2\n");
  auto r = run_weir({"run", "-e", "file(\"" + (tmp.path / "in.txt").string() + "\") | map(lower(int(_))) | print()"},
                    tmp.path);
  CHECK(r.exit_code == 1);
  CHECK(r.err.rfind("weir: error: ", 0) == 0);
  CHECK_THAT(r.err, Catch::Contains("lower() expects a string, got int"));
  CHECK_THAT(r.err, Catch::Contains("-e:1:"));
  CHECK(count_lines(r.err) == 1);
}

TEST_CASE("cli: word count with run -e", "[cli]") {
  weir::test::temp_dir tmp;
  write_file(tmp.path / "in.txt", "a b a\nc a b\n");
  std::string prog = "file(\"" + (tmp.path / "in.txt").string() +
                     "\") | flat_map(split(_, \" \")) | map((_,1)) | reduce_by_key(sum) | write_jsonl(\"" +
                     (tmp.path / "out.jsonl").string() + "\")";
  auto r = run_weir({"run", "-e", prog, "--parallelism", "2"}, tmp.path);
  CHECK(r.err.empty());
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> lines;
  std::istringstream in(slurp(tmp.path / "out.jsonl"));
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::sort(lines.begin(), lines.end());
  CHECK(lines == std::vector<std::string>{R"({"time":1000,"record":["a",3]})",
                                          R"({"time":1000,"record":["b",2]})",
                                          R"({"time":1000,"record":["c",1]})"});
}

TEST_CASE("cli: command-line options override set statements", "[cli]") {
  weir::test::temp_dir tmp;
  write_file(tmp.path / "in.txt", "x\n");
  write_file(tmp.path / "p.weir", "set batch_interval = 1s\nfile(\"" + (tmp.path / "in.txt").string() +
                                      "\") | write_jsonl(\"" + (tmp.path / "o.jsonl").string() + "\")\n");
  auto r = run_weir({"run", (tmp.path / "p.weir").string(), "--batch-interval", "250ms"}, tmp.path);
  REQUIRE(r.exit_code == 0);
  CHECK(slurp(tmp.path / "o.jsonl") == "{\"time\":250,\"record\":\"x\"}\n");
}

TEST_CASE("cli: stdin() and print()", "[cli]") {
  weir::test::temp_dir tmp;
  write_file(tmp.path / "in.txt", "one\ntwo\nthree\n");
  auto r = run_weir({"run", "-e", "stdin() | map(upper(_)) | print(2)"}, tmp.path, tmp.path / "in.txt");
  CHECK(r.exit_code == 0);
  CHECK(r.out == "-------------------------------------------\nTime: 1000 ms\n"
                 "-------------------------------------------\nONE\nTWO\n...\n\n");
}

TEST_CASE("cli: SIGINT and SIGTERM stop gracefully with exit 0", "[cli]") {
  for (int sig : {SIGINT, SIGTERM}) {
    weir::test::temp_dir tmp;
    auto out = tmp.path / "count.jsonl";
    pid_t pid = spawn_weir({"run", "-e",
                            "set batch_interval = 100ms\ngenerate(\"access_log\", rate = 2000) | count() | "
                            "write_jsonl(\"" + out.string() + "\")"},
                           tmp.path);
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    kill(pid, sig);
    int rc = wait_exit(pid, std::chrono::seconds(20));
    CHECK(rc == 0);
    CHECK(slurp(tmp.path / "stderr.txt").empty());
    // the sink was drained and closed: the output file exists and has batches
    CHECK(fs::exists(out));
    CHECK_FALSE(slurp(out).empty());
  }
}
