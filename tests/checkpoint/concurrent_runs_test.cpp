// Two weir processes on one checkpoint directory or one output file, junk in
// the checkpoint directory, a read-only checkpoint directory, a sink filling
// its disk: through the built `weir`, as real processes.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "support/test_data.hpp"
#include "support/weir_process.hpp"

namespace fs = std::filesystem;
using namespace weir::test;

namespace {

std::string q(const fs::path& p) { return "\"" + p.string() + "\""; }

/// Sum of the counts of a `map((k, 1)) | reduce_by_key(sum) | write_jsonl`
/// output: the last number of each line.
long long total_of(const fs::path& p) {
  long long n = 0;
  std::istringstream in(slurp(p));
  for (std::string l; std::getline(in, l);) {
    auto end = l.find_last_of("0123456789");
    REQUIRE(end != std::string::npos);
    auto begin = l.find_last_not_of("0123456789", end);
    n += std::stoll(l.substr(begin + 1, end - begin));
  }
  return n;
}

/// Waits until `p` exists (the run has taken its lock, opened its sink).
void wait_for_file(const fs::path& p) {
  for (int i = 0; i < 6000 && !fs::exists(p); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(fs::exists(p));
}

/// A job of ~3 s: 6,000 generated records per status, counted.
std::string job(const fs::path& out) {
  return "generate(\"access_log\", rate = 2000, count = 6000) | map((_.status, 1)) | reduce_by_key(sum) | "
         "write_jsonl(" + q(out) + ")";
}

bool can_mount_privately() { return std::system("unshare -rm true >/dev/null 2>&1") == 0; }

}  // namespace

TEST_CASE("two runs on one checkpoint directory: the second fails at once naming the first - the first's output is whole",
          "[checkpoint][concurrency]") {
  temp_dir tmp;
  const auto ck = tmp.path / "ck", out = tmp.path / "out.jsonl";
  write_file(tmp.path / "job.weir", job(out) + "\n");
  const std::vector<std::string> args = {"run", (tmp.path / "job.weir").string(), "--checkpoint", ck.string(),
                                         "--checkpoint-interval", "500ms"};
  pid_t first = spawn_weir_env(args, tmp.path, {}, "first", weir_binary());
  wait_for_file(ck / "weir.lock");
  wait_for_file(out);  // started: its sink has opened its output
  pid_t second = spawn_weir_env(args, tmp.path, {}, "second", weir_binary());
  CHECK(wait_exit(second, std::chrono::seconds(60)) == 1);
  CHECK(slurp(tmp.path / "second.stderr.txt") == "weir: error: checkpoint directory " + ck.string() +
                                                      " is in use by another weir process (pid " +
                                                      std::to_string(first) + ")\n");
  CHECK(wait_exit(first, std::chrono::seconds(120)) == 0);
  CHECK(total_of(out) == 6000);
  // the lock goes with the process: the next run on the directory starts
  CHECK(run_weir(args, tmp.path).exit_code == 0);
}

TEST_CASE("a run killed with SIGKILL leaves no lock behind", "[checkpoint][concurrency]") {
  temp_dir tmp;
  const auto ck = tmp.path / "ck", out = tmp.path / "out.jsonl";
  write_file(tmp.path / "job.weir", job(out) + "\n");
  const std::vector<std::string> args = {"run", (tmp.path / "job.weir").string(), "--checkpoint", ck.string(),
                                         "--checkpoint-interval", "200ms"};
  pid_t first = spawn_weir_env(args, tmp.path, {}, "first", weir_binary());
  wait_for_file(out);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  kill_weir(first);
  CHECK(fs::exists(ck / "weir.lock"));  // the file stays; the kernel dropped the lock
  auto again = run_weir(args, tmp.path);
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(total_of(out) == 6000);  // recovered: nothing lost, nothing twice
}

TEST_CASE("two runs writing one output file: the second fails at once", "[checkpoint][concurrency]") {
  temp_dir tmp;
  for (bool checkpointed : {false, true}) {
    INFO("checkpointed " << checkpointed);
    const auto out = tmp.path / (checkpointed ? "out-ck.jsonl" : "out.jsonl");
    std::vector<std::string> a = {"run", "-e", job(out)}, b = a;
    if (checkpointed) {
      a.insert(a.end(), {"--checkpoint", (tmp.path / "ck1").string()});
      b.insert(b.end(), {"--checkpoint", (tmp.path / "ck2").string()});
    }
    pid_t first = spawn_weir_env(a, tmp.path, {}, "first", weir_binary());
    wait_for_file(checkpointed ? out : fs::path(out.string() + ".tmp"));
    auto second = run_weir(b, tmp.path);
    CHECK(second.exit_code == 1);
    CHECK_THAT(second.err, Catch::Contains("jsonl(\"" + out.string() + "\"): \"" + out.string() +
                                           "\" is being written by another weir process (pid " +
                                           std::to_string(first) + ")"));
    CHECK(wait_exit(first, std::chrono::seconds(120)) == 0);
    CHECK(total_of(out) == 6000);
  }
}

TEST_CASE("junk checkpoint folders never decide the next id - a chk-999999999999 does not wedge the job",
          "[checkpoint]") {
  temp_dir tmp;
  const auto ck = tmp.path / "ck", out = tmp.path / "out.jsonl";
  fs::create_directories(ck / "chk-999999999999");  // made by hand: no MANIFEST
  const std::vector<std::string> args = {"run", "-e", job(out), "--checkpoint", ck.string(),
                                         "--checkpoint-interval", "300ms", "--stats"};
  auto r = run_weir(args, tmp.path);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("checkpoint directory " + ck.string() +
                                    " holds only checkpoints that never completed"));
  CHECK_THAT(r.err, Catch::Contains(", 0 failed,"));  // "checkpoints: N completed, 0 failed, ..."
  CHECK(total_of(out) == 6000);
  CHECK(fs::exists(ck / "chk-000000000001" / "MANIFEST"));
  // and the next run: the junk is reported and skipped, the checkpoints go on
  auto again = run_weir(args, tmp.path);
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.err, Catch::Contains("checkpoint 999999999999 is incomplete (MANIFEST missing); using "));
  CHECK_THAT(again.err, Catch::Contains(", 0 failed,"));
}

TEST_CASE("a read-only checkpoint directory fails the run at start", "[checkpoint]") {
  if (!can_mount_privately()) {
    WARN("SKIPPED: unshare -rm (a user and mount namespace for a private tmpfs) is not allowed here");
    return;
  }
  temp_dir tmp;
  const auto ck = tmp.path / "ck", out = tmp.path / "out.jsonl";
  fs::create_directories(ck);
  write_file(tmp.path / "run.sh", "set -e\nmount -t tmpfs -o ro,size=1m tmpfs '" + ck.string() + "'\n'" +
                                      weir_binary() + "' run -e '" + job(out) + "' --checkpoint '" + ck.string() +
                                      "'\n");
  const std::string cmd = "unshare -rm bash '" + (tmp.path / "run.sh").string() + "' 2>'" +
                          (tmp.path / "err.txt").string() + "'";
  const int rc = std::system(cmd.c_str());
  const std::string err = slurp(tmp.path / "err.txt");
  INFO(err);
  CHECK(WEXITSTATUS(rc) == 1);
  CHECK(err == "weir: error: checkpoint directory " + ck.string() + " is not writable: Read-only file system\n");
  CHECK_FALSE(fs::exists(out));  // nothing ran
}

TEST_CASE("a sink that fills its disk removes its temporary file", "[io][sinks]") {
  if (!can_mount_privately()) {
    WARN("SKIPPED: unshare -rm (a user and mount namespace for a private tmpfs) is not allowed here");
    return;
  }
  temp_dir tmp;
  const auto dir = tmp.path / "small";
  fs::create_directories(dir);
  // 1 MB of disk, 40 MB of output; what is left on the disk is listed before the mount goes away
  write_file(tmp.path / "run.sh", "mount -t tmpfs -o size=1m tmpfs '" + dir.string() + "'\n'" + weir_binary() +
                                      "' run -e 'generate(\"access_log\", count = 200000) | write_jsonl(\"" +
                                      (dir / "out.jsonl").string() + "\")'\necho \"rc=$?\"\nls -a '" + dir.string() +
                                      "'\ndf -k '" + dir.string() + "' | tail -1\n");
  const std::string cmd = "unshare -rm bash '" + (tmp.path / "run.sh").string() + "' >'" +
                          (tmp.path / "out.txt").string() + "' 2>'" + (tmp.path / "err.txt").string() + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string listing = slurp(tmp.path / "out.txt");
  INFO(listing << slurp(tmp.path / "err.txt"));
  CHECK_THAT(slurp(tmp.path / "err.txt"), Catch::Contains("No space left on device"));
  CHECK_THAT(listing, Catch::StartsWith("rc=1\n"));
  CHECK_THAT(listing, !Catch::Contains("out.jsonl.tmp"));
}
