// weir-bench-checkpoint: the cost of checkpoints.
//
// A keyed-state pipeline holding ~100 MB of state, run through the `weir`
// binary with and without `--checkpoint DIR --checkpoint-interval 10s`:
//
//   set batch_interval = 2s                     # --batch-interval
//   file("in/pass-*.txt")                       # P passes over K keys
//     | map((substr(_, 0, 8), _))               # key: 8 digits, value: the line
//     | map_with_state((key, value, state) => len(state.update(value)))
//     | count() | stdout()
//
// Every line is "%08d" (the key) + '|' + a payload, `--value-bytes` long in
// all; the state keeps the last line per key: K keys x ~(8 + value) bytes.
// The input is one file of K lines and P symlinks to it (the `file` source
// reads a glob one file after the other), so the disk holds one pass only.
//
// Reports, for each variant, the throughput `weir --stats` prints (source
// records / s, median of the runs; the runs in pairs, ABBA order) and CPU time
// (user + system, steadier on a shared machine), the loss with
// checkpoints in % (of the medians, and the median of the pairs' losses: the
// robust figure on a machine whose speed drifts), the checkpoints taken and their size and duration (from
// the checkpoint directory: files and `weir checkpoints list`; from stderr
// when weir reports them), and the recovery time: a checkpointed run is
// SIGKILLed once a checkpoint holding every key is complete, then restarted
// on the directory; the time from the restart to the first batch count on
// stdout, against the same for a fresh start (no checkpoint), is the time
// to restore the state (+ at most one batch interval).
//
//   build/perf/weir-bench-checkpoint [--keys 1200000] [--value-bytes 64]
//        [--passes 40] [--runs 8] [--interval 10s] [--batch-interval 2s] [--dir DIR] [--weir PATH]
//        [--keep] [--compress]
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "weir/common/errno_text.hpp"
#include "weir/io/regex.hpp"

extern char** environ;

namespace {

/// The groups (0 = the whole match) of the first match of `pattern` in `text`.
std::optional<std::vector<std::string>> find(std::string_view text, const std::string& pattern) {
  const weir::io::regex re(pattern, "bench_checkpoint");
  std::vector<std::string_view> spans(re.groups() + 1);
  if (!re.search(text, spans)) return std::nullopt;
  return std::vector<std::string>(spans.begin(), spans.end());
}

namespace fs = std::filesystem;
using clk = std::chrono::steady_clock;

struct options {
  long keys = 1'200'000;
  int value_bytes = 64;
  int passes = 40;
  std::string batch_interval = "2s";
  int runs = 8;
  std::string interval = "10s";
  fs::path dir;
  std::string weir;
  bool keep = false;
  bool compress = false;
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "weir-bench-checkpoint: %s\n", msg.c_str());
  std::exit(1);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double seconds_since(clk::time_point t0) { return std::chrono::duration<double>(clk::now() - t0).count(); }

/// A started weir process; stdout to a pipe (read by first_line) or a file.
struct process {
  pid_t pid = -1;
  int out_fd = -1;  ///< read end of stdout, or -1
};

process spawn(const std::string& bin, const std::vector<std::string>& args, const fs::path& err_file,
              const std::optional<fs::path>& out_file) {
  std::vector<std::string> argv_s = {bin};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  int p[2] = {-1, -1};
  if (out_file) {
    posix_spawn_file_actions_addopen(&fa, 1, out_file->c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  } else {
    if (pipe(p) != 0) die("pipe failed");
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, p[0]);
  }
  posix_spawn_file_actions_addopen(&fa, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  process pr;
  int rc = posix_spawn(&pr.pid, bin.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) die("cannot start " + bin + ": " + weir::errno_text(rc));
  if (!out_file) {
    ::close(p[1]);
    pr.out_fd = p[0];
  }
  return pr;
}

/// Waits for `pid`; `cpu_s`, when given, receives its user + system CPU seconds.
int wait_exit(pid_t pid, double* cpu_s = nullptr) {
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  if (cpu_s)
    *cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
             static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

/// Seconds until the first complete stdout line, or a negative value when the
/// process closed stdout first or `timeout_s` passed.
double first_line(const process& pr, clk::time_point t0, double timeout_s) {
  char buf[4096];
  while (seconds_since(t0) < timeout_s) {
    pollfd p{pr.out_fd, POLLIN, 0};
    if (::poll(&p, 1, 5) <= 0) continue;
    ssize_t n = ::read(pr.out_fd, buf, sizeof buf);
    if (n <= 0) return -1;
    if (std::memchr(buf, '\n', static_cast<std::size_t>(n))) return seconds_since(t0);
  }
  return -1;
}

/// Reads (and drops) stdout until the process closes it.
void drain(const process& pr) {
  char buf[4096];
  while (::read(pr.out_fd, buf, sizeof buf) > 0) {
  }
}

struct run_figures {
  double seconds = 0;      ///< wall time of the process
  double throughput = 0;   ///< records/s from --stats
  std::uint64_t records = 0;
  std::string stderr_text;
};

/// `weir --stats` line: "weir: throughput N records/s"; "weir: R source records, ...".
run_figures parse_stats(const std::string& err) {
  run_figures f;
  f.stderr_text = err;
  if (auto m = find(err, "throughput ([0-9.]+) records/s")) f.throughput = std::stod((*m)[1]);
  if (auto m = find(err, "weir: ([0-9]+) source records")) f.records = std::stoull((*m)[1]);
  return f;
}

struct checkpoint_folder {
  std::string name;
  bool complete = false;  ///< has a MANIFEST
  std::uint64_t bytes = 0;
  double write_s = 0;  ///< MANIFEST mtime - oldest file mtime (the asynchronous write)
};

std::vector<checkpoint_folder> list_checkpoints(const fs::path& dir) {
  std::vector<checkpoint_folder> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_directory() || e.path().filename().string().rfind("chk-", 0) != 0) continue;
    checkpoint_folder c;
    c.name = e.path().filename().string();
    fs::file_time_type oldest = fs::file_time_type::max(), manifest{};
    for (auto& f : fs::directory_iterator(e.path(), ec)) {
      if (!f.is_regular_file()) continue;
      c.bytes += f.file_size();
      auto t = f.last_write_time();
      if (f.path().filename() == "MANIFEST") {
        c.complete = true;
        manifest = t;
      } else {
        oldest = std::min(oldest, t);
      }
    }
    if (c.complete && oldest != fs::file_time_type::max())
      c.write_s = std::chrono::duration<double>(manifest - oldest).count();
    out.push_back(c);
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string default_weir() {
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto p = self.parent_path().parent_path() / "cli" / "weir";
    if (fs::exists(p)) return p.string();
  }
  return "weir";
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--keys") o.keys = std::atol(next().c_str());
    else if (a == "--value-bytes") o.value_bytes = std::atoi(next().c_str());
    else if (a == "--passes") o.passes = std::atoi(next().c_str());
    else if (a == "--runs") o.runs = std::atoi(next().c_str());
    else if (a == "--interval") o.interval = next();
    else if (a == "--batch-interval") o.batch_interval = next();
    else if (a == "--dir") o.dir = next();
    else if (a == "--weir") o.weir = next();
    else if (a == "--keep") o.keep = true;
    else if (a == "--compress") o.compress = true;
    else if (a == "--help" || a == "-h") {
      std::puts("weir-bench-checkpoint [--keys 1200000] [--value-bytes 64] [--passes 40] [--runs 8] "
                "[--interval 10s] [--batch-interval 2s] [--dir DIR] [--weir PATH] [--keep] [--compress]");
      return 0;
    } else die("unknown argument '" + a + "'");
  }
  if (o.keys < 1 || o.value_bytes < 12 || o.passes < 1 || o.runs < 1) die("bad arguments");
  if (o.weir.empty()) o.weir = default_weir();
  bool own_dir = o.dir.empty();
  if (own_dir) o.dir = fs::temp_directory_path() / ("weir-bench-checkpoint-" + std::to_string(::getpid()));
  fs::create_directories(o.dir / "in");

  // ---- input: K lines "%08d|payload", P symlinks to it
  const fs::path data = o.dir / "keys.txt";
  {
    std::ofstream out(data, std::ios::binary);
    std::string line;
    char key[32];
    for (long k = 0; k < o.keys; ++k) {
      std::snprintf(key, sizeof key, "%08ld|", k);
      line.assign(key);
      while (line.size() < static_cast<std::size_t>(o.value_bytes)) line += static_cast<char>('a' + (k + line.size()) % 26);
      line += '\n';
      out << line;
    }
    if (!out) die("cannot write " + data.string());
  }
  for (int p = 0; p < o.passes; ++p) {
    char name[32];
    std::snprintf(name, sizeof name, "pass-%03d.txt", p);
    std::error_code ec;
    fs::remove(o.dir / "in" / name, ec);
    fs::create_symlink(data, o.dir / "in" / name);
  }
  const fs::path script = o.dir / "state.weir";
  {
    std::ofstream s(script);
    s << "set batch_interval = " << o.batch_interval
      << "\n"
         "file(\""
      << (o.dir / "in" / "pass-*.txt").string()
      << "\")\n"
         "  | map((substr(_, 0, 8), _))\n"
         "  | map_with_state((key, value, state) => len(state.update(value)))\n"
         "  | count() | stdout()\n";
  }
  const std::uint64_t total = static_cast<std::uint64_t>(o.keys) * static_cast<std::uint64_t>(o.passes);
  std::printf("weir-bench-checkpoint: %ld keys x %d bytes, %d passes = %llu records; weir %s; dir %s\n", o.keys,
              o.value_bytes, o.passes, static_cast<unsigned long long>(total), o.weir.c_str(), o.dir.c_str());
  std::fflush(stdout);

  auto base_args = [&] { return std::vector<std::string>{"run", script.string(), "--stats", "--quiet"}; };
  auto ckpt_args = [&](const fs::path& ck) {
    auto a = base_args();
    a.insert(a.end(), {"--checkpoint", ck.string(), "--checkpoint-interval", o.interval});
    if (o.compress) a.push_back("--checkpoint-compress");
    return a;
  };

  // ---- throughput, variants alternating
  std::vector<double> plain_rates, ckpt_rates, plain_cpu, ckpt_cpu, ckpt_work;
  std::vector<checkpoint_folder> last_folders;
  std::string last_ckpt_stderr;
  // Pairs in ABBA order (without, with; with, without; ...): a machine that
  // slows down or speeds up during the series weighs on both variants alike.
  for (int r = 0; r < o.runs; ++r) {
    for (int k = 0; k < 2; ++k) {
      const int variant = r % 2 ? 1 - k : k;
      const fs::path ck = o.dir / ("ckpt-run-" + std::to_string(r));
      std::error_code ec;
      fs::remove_all(ck, ec);
      auto t0 = clk::now();
      auto pr = spawn(o.weir, variant ? ckpt_args(ck) : base_args(), o.dir / "stderr.txt", o.dir / "stdout.txt");
      double cpu = 0;
      int rc = wait_exit(pr.pid, &cpu);
      double wall = seconds_since(t0);
      auto f = parse_stats(slurp(o.dir / "stderr.txt"));
      if (rc != 0) die("weir exited with " + std::to_string(rc) + ":\n" + f.stderr_text);
      if (f.records != total)
        die("weir read " + std::to_string(f.records) + " records, expected " + std::to_string(total) + ":\n" +
            f.stderr_text);
      (variant ? ckpt_rates : plain_rates).push_back(f.throughput);
      (variant ? ckpt_cpu : plain_cpu).push_back(cpu);
      std::printf("  run %d %-18s %6.2f s wall, %6.2f s CPU, %.3f M records/s", r + 1,
                  variant ? "with checkpoints" : "without", wall, cpu, f.throughput / 1e6);
      if (variant) {
        last_folders = list_checkpoints(ck);
        last_ckpt_stderr = f.stderr_text;
        int complete = 0;
        for (auto& c : last_folders) complete += c.complete;
        std::printf(", %d checkpoint folders kept (%d complete)", static_cast<int>(last_folders.size()), complete);
        // weir's own account of the checkpoint work: the tasks' snapshot
        // time plus the coordinator's write CPU, against the run's CPU time
        if (auto found = find(f.stderr_text, "([0-9]+) completed.*snapshots ([0-9.]+) s in the tasks, "
                                             "writing ([0-9.]+) s CPU")) {
          const auto& m = *found;
          const double work = std::stod(m[2]) + std::stod(m[3]);
          ckpt_work.push_back(cpu > 0 ? work / cpu * 100 : 0);
          std::printf("; checkpoint work %.2f s (snapshots %s s + write %s s) = %.1f %% of its CPU", work,
                      m[2].c_str(), m[3].c_str(), ckpt_work.back());
        }
        if (!o.keep) fs::remove_all(ck, ec);
      }
      std::printf("\n");
      std::fflush(stdout);
    }
  }
  // the loss of each pair (its two runs back to back), and the median of those
  std::vector<double> pair_loss, pair_cpu;
  std::printf("loss per pair (throughput; CPU time):");
  for (int r = 0; r < o.runs; ++r) {
    pair_loss.push_back((plain_rates[r] - ckpt_rates[r]) / plain_rates[r] * 100);
    pair_cpu.push_back((ckpt_cpu[r] - plain_cpu[r]) / plain_cpu[r] * 100);
    std::printf(" %+.1f %%;%+.1f %%", pair_loss.back(), pair_cpu.back());
  }
  std::printf("\n");
  const double plain = median(plain_rates), with = median(ckpt_rates);
  std::printf("throughput without checkpoints: %.3f M records/s (median of %d)\n", plain / 1e6, o.runs);
  std::printf("throughput with checkpoints every %s: %.3f M records/s (median of %d)\n", o.interval.c_str(),
              with / 1e6, o.runs);
  std::printf("throughput loss: %.1f %% (medians); %.1f %% (median of the %d pairs' losses)\n",
              plain > 0 ? (plain - with) / plain * 100 : 0.0, median(pair_loss), o.runs);
  std::printf("CPU time per pair: +%.1f %% (median of the pairs)\n", median(pair_cpu));
  // CPU time (user + system) is steadier than throughput on a shared machine
  const double cpu0 = median(plain_cpu), cpu1 = median(ckpt_cpu);
  std::printf("CPU time: %.2f s without, %.2f s with checkpoints (median): +%.1f %%\n", cpu0, cpu1,
              cpu0 > 0 ? (cpu1 - cpu0) / cpu0 * 100 : 0.0);
  // the best run of each variant: the one least disturbed by the rest of the machine
  const double best0 = *std::max_element(plain_rates.begin(), plain_rates.end()),
               best1 = *std::max_element(ckpt_rates.begin(), ckpt_rates.end());
  const double min0 = *std::min_element(plain_cpu.begin(), plain_cpu.end()),
               min1 = *std::min_element(ckpt_cpu.begin(), ckpt_cpu.end());
  if (!ckpt_work.empty())
    std::printf("checkpoint work (snapshots in the tasks + write CPU) / run CPU: %.1f %% (median of %d)\n",
                median(ckpt_work), static_cast<int>(ckpt_work.size()));
  std::printf("best runs: %.3f vs %.3f M records/s (loss %.1f %%); least CPU %.2f vs %.2f s (+%.1f %%)\n", best0 / 1e6,
              best1 / 1e6, best0 > 0 ? (best0 - best1) / best0 * 100 : 0.0, min0, min1,
              min0 > 0 ? (min1 - min0) / min0 * 100 : 0.0);
  for (auto& c : last_folders)
    std::printf("  %s: %.1f MB%s, write %.2f s (first file to MANIFEST)\n", c.name.c_str(), c.bytes / 1e6,
                c.complete ? "" : " (no MANIFEST)", c.write_s);
  // weir's own checkpoint lines, if it prints any with --stats
  {
    std::istringstream ss(last_ckpt_stderr);
    std::string line;
    while (std::getline(ss, line))
      if (line.find("checkpoint") != std::string::npos) std::printf("  weir: %s\n", line.c_str());
    if (auto m = find(last_ckpt_stderr, "checkpoints: ([0-9]+) completed, ([0-9]+) failed, ([0-9]+) aborted; last "
                                        "([0-9]+) \\(([0-9]+) bytes, ([0-9.]+) s\\)"))
      std::printf("checkpoints: %s completed, %s failed, %s aborted; the last: %.1f MB in %s s\n", (*m)[1].c_str(),
                  (*m)[2].c_str(), (*m)[3].c_str(), std::stod((*m)[5]) / 1e6, (*m)[6].c_str());
  }

  // ---- recovery: kill a checkpointed run once a complete checkpoint holds
  // every key (one pass done), then time the restart to its first output line
  {
    const fs::path ck = o.dir / "ckpt-recovery";
    std::error_code ec;
    fs::remove_all(ck, ec);
    auto t0 = clk::now();
    auto pr = spawn(o.weir, ckpt_args(ck), o.dir / "recovery-1.stderr.txt", std::nullopt);
    // the first stdout line marks the first batch; a checkpoint completed
    // after one pass holds every key (a pass takes less than the interval)
    std::string got;
    for (;;) {
      auto folders = list_checkpoints(ck);
      int complete = 0;
      for (auto& c : folders) complete += c.complete;
      if (complete >= 1) break;
      char buf[65536];
      pollfd p{pr.out_fd, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0 && ::read(pr.out_fd, buf, sizeof buf) <= 0) {
        die("the recovery run ended before a checkpoint completed (use more --passes):\n" +
            slurp(o.dir / "recovery-1.stderr.txt"));
      }
      if (seconds_since(t0) > 600) die("no complete checkpoint within 600 s");
    }
    ::kill(pr.pid, SIGKILL);
    if (wait_exit(pr.pid) == 0)  // its only checkpoint is the final one: nothing to resume
      die("the recovery run ended before a periodic checkpoint completed (use more --passes)");
    ::close(pr.out_fd);
    auto folders = list_checkpoints(ck);
    std::uint64_t bytes = 0;
    for (auto& c : folders)
      if (c.complete) bytes = c.bytes;  // the newest complete one
    // seconds from a start on `ck` to the first output line; then SIGTERM:
    // weir drains and prints its --stats lines (with the restore time)
    auto time_to_first_output = [&](const fs::path& err) {
      auto t = clk::now();
      auto pr = spawn(o.weir, ckpt_args(ck), err, std::nullopt);
      double s = first_line(pr, t, 600);
      ::kill(pr.pid, SIGTERM);
      drain(pr);
      wait_exit(pr.pid);
      ::close(pr.out_fd);
      return s;
    };
    double restored = time_to_first_output(o.dir / "recovery-2.stderr.txt");  // restart on the checkpoint
    fs::remove_all(ck, ec);
    double fresh = time_to_first_output(o.dir / "recovery-3.stderr.txt");  // startup + first batch end
    if (restored < 0) die("the restarted run printed nothing:\n" + slurp(o.dir / "recovery-2.stderr.txt"));
    // The difference is the restore time only when both first outputs come
    // at a batch end measured from the start; a restarted run may also end
    // its first batch sooner (it resumes the checkpoint's batch clock), then
    // weir's own restore phase below is the figure.
    std::printf("recovery from a %.1f MB checkpoint: first output %.3f s after the restart (a fresh start: %.3f s)",
                bytes / 1e6, restored, fresh);
    if (restored >= fresh) std::printf("; restore time ~ %.3f s", restored - fresh);
    std::printf("\n");
    const std::string err2 = slurp(o.dir / "recovery-2.stderr.txt");
    if (auto m = find(err2, "resumed from ([0-9]+) \\(restore ([0-9.]+) s\\)"))
      std::printf("restore phase reported by weir: %s s (checkpoint %s)\n", (*m)[2].c_str(), (*m)[1].c_str());
    std::istringstream ss(err2);
    std::string line;
    while (std::getline(ss, line))
      if (line.find("restor") != std::string::npos || line.find("checkpoint") != std::string::npos)
        std::printf("  weir: %s\n", line.c_str());
  }
  if (own_dir && !o.keep) {
    std::error_code ec;
    fs::remove_all(o.dir, ec);
  }
  return 0;
}
