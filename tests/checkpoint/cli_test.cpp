// `weir checkpoints list|inspect DIR` through the built executable.
#include <sstream>

#include "checkpoint/checkpoint_test_util.hpp"
#include "support/test_data.hpp"
#include "support/weir_process.hpp"

using namespace weir::test::ck;
using weir::test::run_weir;
using weir::test::temp_dir;

namespace {

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

/// The whitespace-separated fields of a line.
std::vector<std::string> fields(const std::string& l) {
  std::vector<std::string> out;
  std::istringstream in(l);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

TEST_CASE("cli: weir checkpoints list and inspect", "[checkpoint][cli]") {
  temp_dir tmp;
  auto dir = tmp.path / "ck";
  auto out = tmp.path / "out";
  fs::create_directories(out);
  {
    store_options o;
    o.dir = dir.string();
    store s(o);
    for (std::uint64_t id = 1; id <= 3; ++id) s.write(make_checkpoint(id, 3, 1000));
  }
  fs::remove(dir / folder(3) / "MANIFEST");  // 3: a crashed attempt
  std::uint64_t bytes1 = disk_bytes(dir / folder(1)), bytes2 = disk_bytes(dir / folder(2)),
                bytes3 = disk_bytes(dir / folder(3));

  SECTION("list") {
    auto r = run_weir({"checkpoints", "list", dir.string()}, out);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    auto ls = lines_of(r.out);
    REQUIRE(ls.size() == 4);
    CHECK(fields(ls[0]) == std::vector<std::string>{"ID", "TIME", "(UTC)", "BYTES", "TASKS", "STATUS"});
    // timestamps 1700000000123 + id * 1000 ms (python3: 2023-11-14T22:13:21.123Z for id 1)
    CHECK(fields(ls[1]) == std::vector<std::string>{"1", "2023-11-14T22:13:21.123Z", std::to_string(bytes1), "3",
                                                    "valid"});
    CHECK(fields(ls[2]) == std::vector<std::string>{"2", "2023-11-14T22:13:22.123Z", std::to_string(bytes2), "3",
                                                    "valid,", "final"});
    CHECK(fields(ls[3]) == std::vector<std::string>{"3", "-", std::to_string(bytes3), "-", "invalid:", "MANIFEST",
                                                    "missing"});
  }
  SECTION("inspect the newest valid checkpoint") {
    auto r = run_weir({"checkpoints", "inspect", dir.string()}, out);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err == "weir checkpoints: " + dir.string() +
                       ": warning: checkpoint 3 is incomplete (MANIFEST missing); using 2\n");
    auto c = make_checkpoint(2, 3, 1000);
    std::string expected = "checkpoint 2: " + (dir / folder(2)).string() + "\n" +
                           "time:  2023-11-14T22:13:22.123Z\n" + "plan:  " + c.plan + "\n" + "final: yes\n" +
                           "size:  " + std::to_string(bytes2) + " bytes, 3 tasks\n";
    for (auto& t : c.tasks) {
      expected += "task " + std::to_string(t.stage) + "-" + std::to_string(t.instance) + " \"" + t.name +
                  "\": finished " + (t.finished ? "yes" : "no") + ", runtime state 16 bytes\n";
      if (t.stage == 0) expected += "  source position: in.txt: line 102, byte 12347 (15 bytes)\n";
      expected += "  operator map: 0 bytes\n";
      expected += "  operator reduce_by_key: " + std::to_string(t.operators[1].bytes.size()) + " bytes\n";
    }
    CHECK(r.out == expected);
    CHECK_THAT(r.out, Catch::Contains("task 1-1 \"stage1 -> reduce_by_key[1]\": finished no"));
  }
  SECTION("inspect by id") {
    auto r = run_weir({"checkpoints", "inspect", dir.string(), "1"}, out);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK_THAT(r.out, Catch::StartsWith("checkpoint 1: ") && Catch::Contains("final: no\n") &&
                          Catch::Contains("source position: in.txt: line 101, byte 12346"));
  }
  SECTION("errors: invalid, unknown and bad ids, missing directory") {
    auto r = run_weir({"checkpoints", "inspect", dir.string(), "3"}, out);
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err == "weir checkpoints: " + dir.string() + ": checkpoint 3 is invalid: MANIFEST missing\n");
    r = run_weir({"checkpoints", "inspect", dir.string(), "99"}, out);
    CHECK(r.exit_code == 1);
    CHECK(r.err == "weir checkpoints: " + dir.string() + ": no checkpoint 99\n");
    r = run_weir({"checkpoints", "inspect", dir.string(), "seven"}, out);
    CHECK(r.exit_code == 1);
    CHECK(r.err == "weir checkpoints: " + dir.string() + ": bad checkpoint id 'seven' (expected a number, e.g. 7)\n");
    auto missing = (tmp.path / "nope").string();
    r = run_weir({"checkpoints", "list", missing}, out);
    CHECK(r.exit_code == 1);
    CHECK(r.err == "weir checkpoints: " + missing + ": no such directory\n");
    r = run_weir({"checkpoints", "inspect", missing}, out);
    CHECK(r.exit_code == 1);
    CHECK(r.err == "weir checkpoints: " + missing + ": no such directory\n");
  }
  SECTION("no valid checkpoint; an empty directory") {
    fs::remove(dir / folder(1) / "MANIFEST");
    fs::remove(dir / folder(2) / "MANIFEST");
    auto r = run_weir({"checkpoints", "inspect", dir.string()}, out);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::EndsWith("weir checkpoints: " + dir.string() + ": no valid checkpoint\n"));
    auto empty = tmp.path / "empty";
    fs::create_directory(empty);
    r = run_weir({"checkpoints", "list", empty.string()}, out);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "no checkpoints in " + empty.string() + "\n");
  }
  SECTION("usage") {
    auto r = run_weir({"checkpoints"}, out);
    CHECK(r.exit_code == 2);
    r = run_weir({"checkpoints", "list"}, out);
    CHECK(r.exit_code == 2);
    r = run_weir({"--help"}, out);
    CHECK_THAT(r.out, Catch::Contains("checkpoints"));
  }
}

// The test hooks (common/test_hooks.hpp) are installed only by test programs:
// `weir` ignores WEIR_CRASH_AT and WEIR_CHECKPOINT_QUOTA_BYTES, `weir-testing`
// (the same program with tests/support/test_hooks.cpp) acts on them.
TEST_CASE("cli: the weir binary has no test hooks, weir-testing has", "[checkpoint][cli]") {
  temp_dir tmp;
  std::string lines;
  for (int i = 0; i < 200; ++i) lines += "w" + std::to_string(i % 7) + "\n";
  weir::test::write_file(tmp.path / "in.txt", lines);
  auto run = [&](const std::string& tag, const std::string& bin, const std::vector<std::string>& env) {
    auto ck = tmp.path / ("ck-" + tag);
    const std::string pipeline = "file(\"" + (tmp.path / "in.txt").string() +
                                 "\") | map((_, 1)) | reduce_by_key(sum) | write_jsonl(\"" +
                                 (tmp.path / (tag + ".jsonl")).string() + "\")";
    pid_t pid = weir::test::spawn_weir_env({"run", "-e", pipeline, "--checkpoint", ck.string(), "--quiet"},
                                           tmp.path, env, tag, bin);
    const int rc = weir::test::wait_exit(pid);
    INFO(tag << " stderr: " << weir::test::slurp(tmp.path / (tag + ".stderr.txt")));
    store_options o;
    o.dir = ck.string();
    return std::pair{rc, store(o).list()};
  };
  const std::vector<std::string> hooks_env = {"WEIR_CRASH_AT=after_snapshot_write",
                                              "WEIR_CHECKPOINT_QUOTA_BYTES=1"};

  // weir: both variables ignored; the bounded run ends with its final checkpoint
  auto [rc, list] = run("weir", weir::test::weir_binary(), hooks_env);
  CHECK(rc == 0);
  REQUIRE(list.size() == 1);
  CHECK(list[0].valid);
  CHECK(list[0].final);

  // weir-testing: dies at the crash point of the final checkpoint's write
  std::tie(rc, list) = run("crash", weir::test::weir_testing_binary(), {"WEIR_CRASH_AT=after_snapshot_write"});
  CHECK(rc == 77);
  CHECK_THAT(weir::test::slurp(tmp.path / "crash.stderr.txt"), Catch::Contains("crash point reached"));
  REQUIRE(list.size() == 1);
  CHECK_FALSE(list[0].valid);  // task files written, no MANIFEST
  CHECK(list[0].problem == "MANIFEST missing");

  // weir-testing: a 1-byte quota fails the final checkpoint as a full disk would
  std::tie(rc, list) = run("quota", weir::test::weir_testing_binary(), {"WEIR_CHECKPOINT_QUOTA_BYTES=1"});
  CHECK(list.empty());  // the failed attempt's folder is removed
  CHECK_THAT(weir::test::slurp(tmp.path / "quota.stderr.txt"),
             Catch::Contains("No space left on device (quota of 1 bytes, WEIR_CHECKPOINT_QUOTA_BYTES)"));
}
