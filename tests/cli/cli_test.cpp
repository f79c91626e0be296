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
#include <sys/stat.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "support/cwd_guard.hpp"
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
    weir::test::cwd_guard in_root(WEIR_SOURCE_DIR);  // where the examples' relative table paths resolve
    auto r = run_weir({"check", entry.path().string()}, tmp.path);
    CHECK(r.err.empty());
    CHECK(r.exit_code == 0);
    CHECK(r.out == "ok\n");
    ++checked;
  }
  CHECK(checked >= 2);
}

TEST_CASE("cli: check and explain create no file: no sink output, dead letter or checkpoint directory", "[cli]") {
  weir::test::temp_dir tmp;
  const fs::path logs = tmp.path / "logs", work = tmp.path / "work";
  fs::create_directories(logs);
  fs::create_directories(work);
  write_file(work / "in.jsonl", "{\"a\": 1}\nnot json\n");
  write_file(work / "p.weir",
             "let src = file(\"in.jsonl\") | parse_json(on_error = dead_letter(\"bad.jsonl\"))\n"
             "src | write_jsonl(\"out.jsonl\")\n"
             "src | map({a: _.a}) | write_csv(\"out.csv\")\n"
             "src | map((_.a, 1)) | reduce_by_key(sum) | write_jsonl(\"sub/dir/keyed.jsonl\")\n");
  weir::test::cwd_guard in_work(work);
  auto listing = [&] {
    std::vector<std::string> names;
    for (auto& e : fs::recursive_directory_iterator(work)) names.push_back(fs::relative(e.path(), work).string());
    std::sort(names.begin(), names.end());
    return names;
  };
  const std::vector<std::string> before = {"in.jsonl", "p.weir"};
  REQUIRE(listing() == before);
  const std::vector<std::vector<std::string>> commands = {
      {"check", "p.weir"},
      {"check", "p.weir", "--parallelism", "2"},
      {"explain", "p.weir"},
      {"explain", "p.weir", "--dot", "--parallelism", "2"},
  };
  for (auto& args : commands) {
    INFO(args[0] << " " << args.back());
    auto r = run_weir(args, logs);
    CHECK(r.err.empty());
    CHECK(r.exit_code == 0);
    CHECK(listing() == before);
  }
  // --checkpoint belongs to `weir run`: check and explain refuse it as a usage error, creating nothing
  for (std::string cmd : {"check", "explain"}) {
    INFO(cmd << " --checkpoint");
    auto r = run_weir({cmd, "p.weir", "--checkpoint", "ckpt"}, logs);
    CHECK(r.exit_code == 2);
    CHECK(listing() == before);
  }
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

namespace {

std::string in_dir(std::string script, const fs::path& dir) {
  for (std::size_t p; (p = script.find("{dir}")) != std::string::npos;) script.replace(p, 5, dir.string());
  return script;
}

/// A collect output, one line per batch: "time: record record ..." with the
/// records of a batch sorted (their order within a batch is not guaranteed).
std::vector<std::string> collected(const fs::path& p) {
  std::vector<std::string> out;
  std::istringstream in(slurp(p));
  for (std::string line; std::getline(in, line);) {
    auto t = line.find("\"time\":"), r = line.find(",\"records\":[");
    REQUIRE(t != std::string::npos);
    REQUIRE(r != std::string::npos);
    std::string time = line.substr(t + 7, r - t - 7);
    std::string body = line.substr(r + 12, line.size() - r - 12 - 2);  // without "]}"
    // split the top-level records at commas outside brackets and strings
    std::vector<std::string> recs;
    int depth = 0;
    bool str = false;
    std::string cur;
    for (std::size_t i = 0; i < body.size(); ++i) {
      char c = body[i];
      if (str) {
        if (c == '\\') {
          cur += c;
          cur += body[++i];
          continue;
        }
        if (c == '"') str = false;
      } else if (c == '"') {
        str = true;
      } else if (c == '[' || c == '{') {
        ++depth;
      } else if (c == ']' || c == '}') {
        --depth;
      } else if (c == ',' && depth == 0) {
        recs.push_back(cur);
        cur.clear();
        continue;
      }
      cur += c;
    }
    if (!cur.empty()) recs.push_back(cur);
    std::sort(recs.begin(), recs.end());
    std::string s = time + ":";
    for (auto& x : recs) s += " " + x;
    out.push_back(s);
  }
  return out;
}

}  // namespace

TEST_CASE("cli: the reduce_by_key_and_window example of docs/DSL.md", "[cli]") {
  weir::test::temp_dir tmp;
  write_file(tmp.path / "in.jsonl", "[[\"a\", 1], [\"b\", 1]]\n[[\"a\", 1]]\n[]\n[[\"b\", 2]]\n[]\n");
  for (const char* par : {"1", "2"}) {
    INFO("parallelism " << par);
    auto r = run_weir({"run", "-e",
                       in_dir("batches(\"{dir}/in.jsonl\", total = 8) | reduce_by_key_and_window(sum, 3s, 1s, "
                              "inverse = sub) | collect(\"{dir}/out.jsonl\")",
                              tmp.path),
                       "--batch-interval", "1s", "--parallelism", par},
                      tmp.path);
    CHECK(r.err.empty());
    REQUIRE(r.exit_code == 0);
    CHECK(collected(tmp.path / "out.jsonl") ==
          std::vector<std::string>{R"(1000: ["a",1] ["b",1])", R"(2000: ["a",2] ["b",1])", R"(3000: ["a",2] ["b",1])",
                                   R"(4000: ["a",1] ["b",2])", R"(5000: ["a",0] ["b",2])", R"(6000: ["a",0] ["b",2])",
                                   R"(7000: ["a",0] ["b",0])", R"(8000: ["a",0] ["b",0])"});
  }
}

TEST_CASE("cli: joins with a stream and with a table", "[cli]") {
  weir::test::temp_dir tmp;
  write_file(tmp.path / "clicks.jsonl", "[[\"u1\", \"/a\"], [\"u2\", \"/b\"]]\n[[\"u3\", \"/c\"]]\n");
  write_file(tmp.path / "buys.jsonl", "[[\"u1\", 5], [\"u4\", 7]]\n[]\n");
  write_file(tmp.path / "users.jsonl", "[\"u1\", \"Ann\"]\n[\"u3\", \"Cid\"]\n");
  auto r = run_weir({"run", "-e", in_dir(R"(let clicks = batches("{dir}/clicks.jsonl")
let buys = batches("{dir}/buys.jsonl")
clicks | join(buys) | collect("{dir}/join.jsonl")
clicks | full_outer_join(buys) | collect("{dir}/full.jsonl")
clicks | cogroup(buys) | collect("{dir}/cogroup.jsonl")
clicks | union(buys) | collect("{dir}/union.jsonl")
clicks | left_outer_join(table("{dir}/users.jsonl")) | collect("{dir}/named.jsonl"))",
                                         tmp.path),
                     "--parallelism", "2"},
                    tmp.path);
  CHECK(r.err.empty());
  REQUIRE(r.exit_code == 0);
  CHECK(collected(tmp.path / "join.jsonl") == std::vector<std::string>{R"(1000: ["u1",["/a",5]])", "2000:"});
  CHECK(collected(tmp.path / "full.jsonl") ==
        std::vector<std::string>{R"(1000: ["u1",["/a",5]] ["u2",["/b",null]] ["u4",[null,7]])",
                                 R"(2000: ["u3",["/c",null]])"});
  CHECK(collected(tmp.path / "cogroup.jsonl") ==
        std::vector<std::string>{R"(1000: ["u1",[["/a"],[5]]] ["u2",[["/b"],[]]] ["u4",[[],[7]]])",
                                 R"(2000: ["u3",[["/c"],[]]])"});
  CHECK(collected(tmp.path / "union.jsonl") ==
        std::vector<std::string>{R"(1000: ["u1","/a"] ["u1",5] ["u2","/b"] ["u4",7])", R"(2000: ["u3","/c"])"});
  CHECK(collected(tmp.path / "named.jsonl") ==
        std::vector<std::string>{R"(1000: ["u1",["/a","Ann"]] ["u2",["/b",null]])", R"(2000: ["u3",["/c","Cid"]])"});
}

TEST_CASE("cli: map_with_state with a timeout and its state snapshots", "[cli]") {
  weir::test::temp_dir tmp;
  write_file(tmp.path / "in.jsonl", "[[\"a\", 1], [\"b\", 1], [\"a\", 2]]\n[[\"a\", 5]]\n[]\n[]\n");
  write_file(tmp.path / "state.jsonl", "[\"c\", 100]\n");
  auto r = run_weir({"run", "-e", in_dir(R"(let m = batches("{dir}/in.jsonl", total = 5)
  | map_with_state((key, value, state) =>
      if(state.is_timing_out(), (key, "expired"), (key, state.update(coalesce(state.get(), 0) + value))),
      timeout = 2s, initial = "{dir}/state.jsonl")
m | collect("{dir}/mapped.jsonl")
m | state_snapshots() | collect("{dir}/snap.jsonl"))",
                                         tmp.path)},
                    tmp.path);
  CHECK(r.err.empty());
  REQUIRE(r.exit_code == 0);
  // once per record (a twice in batch 1). Spark: a key last updated at u times
  // out at the first batch t with u < t - 2s: b (u = 1000) and c (initial state,
  // u = the first batch) at 4000, a (u = 2000) at 5000.
  CHECK(collected(tmp.path / "mapped.jsonl") ==
        std::vector<std::string>{R"(1000: ["a",1] ["a",3] ["b",1])", R"(2000: ["a",8])", "3000:",
                                 R"(4000: ["b","expired"] ["c","expired"])", R"(5000: ["a","expired"])"});
  CHECK(collected(tmp.path / "snap.jsonl") ==
        std::vector<std::string>{R"(1000: ["a",3] ["b",1] ["c",100])", R"(2000: ["a",8] ["b",1] ["c",100])",
                                 R"(3000: ["a",8] ["b",1] ["c",100])", R"(4000: ["a",8])", "5000:"});
}

TEST_CASE("cli: DSL errors of the DStream operations exit 2", "[cli]") {
  weir::test::temp_dir tmp;
  auto arity = run_weir({"check", "-e", "batches(\"in.jsonl\") | update_state_by_key(v => v) | collect(\"o.jsonl\")"},
                        tmp.path);
  CHECK(arity.exit_code == 2);
  CHECK(arity.err ==
        "-e:1:43: update_state_by_key expects a function of 2 parameters (values, state) or of 4 parameters "
        "(time, key, values, state), got 1\n");

  auto slides = run_weir({"check", "-e", "let a = batches(\"a.jsonl\") | window(2s, 2s)\n"
                                         "batches(\"b.jsonl\") | join(a) | collect(\"o.jsonl\")"},
                         tmp.path);
  CHECK(slides.exit_code == 2);
  CHECK(slides.err == "-e:2:22: join: the streams have different slides (1000ms and 2000ms); Spark combines only "
                      "streams with equal slides\n");

  auto table = run_weir({"check", "-e", "batches(\"in.jsonl\") | join(table(\"" + (tmp.path / "nope.jsonl").string() +
                                            "\")) | collect(\"o.jsonl\")"},
                        tmp.path);
  CHECK(table.exit_code == 2);
  CHECK_THAT(table.err, Catch::StartsWith("-e:1:28: table: ") && Catch::Contains("nope.jsonl"));
  CHECK(count_lines(table.err) == 1);
}

TEST_CASE("cli: a sink writing to a device or FIFO writes in place and leaves it what it was", "[cli][sink]") {
  weir::test::temp_dir tmp;
  write_file(tmp.path / "in.txt", "1\n2\n3\n");
  const std::string in = (tmp.path / "in.txt").string();

  // /dev/null stays a device (renaming a temp file onto it would replace it)
  auto r = run_weir({"run", "-q", "-e", "file(\"" + in + "\") | write_jsonl(\"/dev/null\")"}, tmp.path);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(fs::is_character_file("/dev/null"));
  CHECK_FALSE(fs::exists("/dev/null.tmp"));

  // a FIFO: the reader sees every line, the FIFO stays a FIFO
  const fs::path fifo = tmp.path / "out.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  std::string got;
  std::thread reader([&] {
    std::ifstream f(fifo);
    std::stringstream ss;
    ss << f.rdbuf();
    got = ss.str();
  });
  r = run_weir({"run", "-q", "-e", "file(\"" + in + "\") | write_jsonl(\"" + fifo.string() + "\")"}, tmp.path);
  reader.join();
  CHECK(r.exit_code == 0);
  CHECK(count_lines(got) == 3);
  CHECK_THAT(got, Catch::Contains("\"record\":\"2\""));
  CHECK(fs::is_fifo(fifo));
  CHECK_FALSE(fs::exists(tmp.path / "out.fifo.tmp"));

  // exactly-once output needs a regular file: refused at start, with the reason
  r = run_weir({"run", "-q", "--checkpoint", (tmp.path / "ck").string(), "-e",
                "file(\"" + in + "\") | write_jsonl(\"/dev/null\")"},
               tmp.path);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("\"/dev/null\" is not a regular file: exactly-once output (--checkpoint)"));
  CHECK(fs::is_character_file("/dev/null"));
}
