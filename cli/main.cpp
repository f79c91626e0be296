// The `weir` command: run, check or explain a pipeline DSL script.
//
//   weir run FILE.weir [--batch-interval 1s] [--parallelism N] [--batch-size N]
//   weir run -e 'file("in.txt") | flat_map(split(_)) | map((_, 1)) | reduce_by_key(sum) | print()'
//   weir check FILE.weir | -e '...'
//   weir explain FILE.weir | -e '...' [--parallelism N] [--dot]
//
// Exit codes: 0 success (also after SIGINT/SIGTERM, which drain gracefully);
// 1 runtime failure (missing input file, a record an expression cannot
// process, ...); 2 usage or DSL error. This file is the only place that
// decides exit codes; the libraries throw.
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include <pthread.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#ifdef WEIR_USE_MIMALLOC
// Route new/delete through mimalloc. Not in sanitizer builds: ASan and TSan
// must see every allocation.
#include <mimalloc-new-delete.h>
#endif

#include "weir/api/dstream.hpp"
#include "weir/cli/dsl_error.hpp"
#include "weir/cli/lexer.hpp"
#include "weir/cli/pipeline_builder.hpp"
#include "weir/cli/pipeline_spec.hpp"

#ifndef WEIR_VERSION
#define WEIR_VERSION "0.0.0"
#endif

namespace {

constexpr int exit_ok = 0;
constexpr int exit_runtime = 1;
constexpr int exit_usage = 2;

/// Usage errors found after CLI11's parse (bad duration, missing script).
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct command_args {
  std::string file;
  std::optional<std::string> expr;
  std::optional<std::string> batch_interval;
  std::optional<int> parallelism;
  std::optional<std::size_t> batch_size;
  std::optional<std::string> exec_mode;
  std::optional<std::string> linger;
  bool stats = false;
  bool dot = false;  ///< explain: Graphviz DOT instead of text
};

enum class mode { run, check, explain };

void add_common_options(CLI::App* cmd, command_args& a, bool run) {
  auto* file = cmd->add_option("file", a.file, "pipeline script (.weir)");
  auto* expr = cmd->add_option("-e,--expr", a.expr, "pipeline text given on the command line");
  expr->excludes(file);
  cmd->add_option("--batch-interval", a.batch_interval,
                  "batch interval: 500ms, 1s, 5m, 1h (overrides 'set batch_interval')");
  cmd->add_option("--parallelism", a.parallelism,
                  "instances of keyed operators; 0 = number of cores (overrides 'set parallelism')")
      ->check(CLI::Range(0, 1 << 16));
  cmd->add_option("--batch-size", a.batch_size,
                  "max records per batch between actors (overrides 'set batch_size')")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30));
  cmd->add_option("--mode", a.exec_mode,
                  "execution mode: micro-batch (Spark batches) or record (each record on arrival) "
                  "(overrides 'set mode')")
      ->check(CLI::IsMember({"micro-batch", "micro_batch", "record"}));
  cmd->add_option("--linger", a.linger,
                  "record mode: max wait before a partly filled batch is sent: 0ms, 1ms, ... "
                  "(default 1ms; overrides 'set linger')");
  if (run)
    cmd->add_flag("--stats", a.stats,
                  "print run statistics (records, throughput, latency p50/p99/p99.9) to stderr at the end");
}

std::string read_script(const command_args& a, std::string& name) {
  if (a.expr) {
    name = "-e";
    return *a.expr;
  }
  if (a.file.empty()) throw usage_error("give a script file or -e 'PIPELINE' (see weir --help)");
  name = a.file;
  std::error_code ec;
  if (std::filesystem::is_directory(a.file, ec))
    throw usage_error(fmt::format("cannot read script '{}': it is a directory", a.file));
  std::ifstream in(a.file, std::ios::binary);
  if (!in) throw usage_error(fmt::format("cannot open script '{}': {}", a.file, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

weir::dsl::settings overrides_of(const command_args& a) {
  weir::dsl::settings s;
  if (a.batch_interval) {
    std::int64_t ms = 0;
    if (!weir::dsl::parse_duration(*a.batch_interval, ms) || ms <= 0)
      throw usage_error(fmt::format("--batch-interval: expected a positive duration like 500ms, "
                                    "1s, 5m or 1h, got '{}'",
                                    *a.batch_interval));
    s.batch_interval = std::chrono::milliseconds(ms);
  }
  if (a.exec_mode) s.mode = *a.exec_mode == "record" ? weir::execution_mode::record : weir::execution_mode::micro_batch;
  if (a.linger) {
    std::int64_t ms = 0;
    if (!weir::dsl::parse_duration(*a.linger, ms) || ms < 0)
      throw usage_error(fmt::format("--linger: expected a duration >= 0 like 0ms or 1ms, got '{}'", *a.linger));
    s.linger = std::chrono::milliseconds(ms);
  }
  if (a.parallelism) s.parallelism = *a.parallelism;
  if (a.batch_size) s.batch_size = *a.batch_size;
  return s;
}

/// Waits for SIGINT/SIGTERM on its own thread (signals are blocked in every
/// other thread) and asks the context to stop: nothing runs in a signal
/// handler. A second signal ends the process at once.
class signal_waiter {
public:
  explicit signal_waiter(weir::streaming_context& ctx) : ctx_(ctx) {
    thread_ = std::thread([this] { loop(); });
  }
  ~signal_waiter() {
    done_.store(true);
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }
  signal_waiter(const signal_waiter&) = delete;
  signal_waiter& operator=(const signal_waiter&) = delete;

  /// Blocks the signals in the calling thread and in threads it creates later.
  static void block_signals() {
    sigset_t set = signal_set();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
  }

private:
  static sigset_t signal_set() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);  // wake-up at exit
    return set;
  }

  void loop() {
    sigset_t set = signal_set();
    bool stopping = false;
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGUSR1) {
        if (done_.load()) return;
        continue;
      }
      if (stopping) {
        static constexpr char msg[] = "weir: interrupted again, exiting now\n";
        [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg, sizeof(msg) - 1);
        std::_Exit(128 + sig);
      }
      stopping = true;
      ctx_.stop();
    }
  }

  weir::streaming_context& ctx_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

int execute(const command_args& a, mode m) {
  std::string name;
  std::string text = read_script(a, name);
  weir::dsl::settings over = overrides_of(a);
  weir::dsl::pipeline_spec spec = weir::dsl::compile_script(text, name);
  weir::context_options opts = weir::dsl::make_context_options(spec.settings, over);

  signal_waiter::block_signals();  // before any thread exists
  weir::streaming_context ctx(opts);
  weir::dsl::build_pipelines(spec, ctx);
  if (m == mode::check) {
    std::fputs("ok\n", stdout);
    return exit_ok;
  }
  if (m == mode::explain) {
    std::fputs(ctx.explain(a.dot).c_str(), stdout);
    return exit_ok;
  }
  ctx.start();
  weir::run_stats stats;
  {
    signal_waiter waiter(ctx);
    stats = ctx.await_termination();
  }
  std::fflush(stdout);
  if (a.stats)
    fmt::print(stderr,
               "weir: {} source records, {} sink records, {} batches in {:.3f} s "
               "(sources backpressured {:.3f} s); malformed_records = {}, late_records = {}\n",
               stats.source_records, stats.sink_records, stats.batches, stats.elapsed_s,
               stats.source_backpressure_s, stats.malformed_records, stats.late_records);
  if (a.stats) {
    double rate = stats.elapsed_s > 0 ? static_cast<double>(stats.source_records) / stats.elapsed_s : 0;
    fmt::print(stderr, "weir: throughput {:.0f} records/s; end-to-end latency of {} sink records: "
               "p50 {:.1f} µs, p99 {:.1f} µs, p99.9 {:.1f} µs, max {:.1f} µs\n",
               rate, stats.latency_samples, stats.latency_p50_us, stats.latency_p99_us,
               stats.latency_p999_us, stats.latency_max_us);
  }
  return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"weir: a stream processor with Spark Streaming's semantics.\n"
               "Pipelines are written in the weir DSL (docs/DSL.md):\n"
               "  weir run -e 'file(\"in.txt\") | flat_map(split(_)) | map((_, 1)) | "
               "reduce_by_key(sum) | print()'",
               "weir"};
  app.set_version_flag("--version", "weir " WEIR_VERSION);
  app.require_subcommand(1);

  command_args run_args, check_args, explain_args;
  auto* run = app.add_subcommand("run", "run a pipeline script until its sources end (or SIGINT)");
  add_common_options(run, run_args, true);
  auto* check = app.add_subcommand("check", "parse and build a pipeline script without running it");
  add_common_options(check, check_args, false);
  auto* explain = app.add_subcommand(
      "explain", "print the physical plan (stages, chains, parallel instances, edges) without running it");
  add_common_options(explain, explain_args, false);
  explain->add_flag("--dot", explain_args.dot, "print the plan as a Graphviz DOT graph (dot -Tpng renders it)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? exit_ok : exit_usage;
  }

  try {
    if (run->parsed()) return execute(run_args, mode::run);
    if (explain->parsed()) return execute(explain_args, mode::explain);
    return execute(check_args, mode::check);
  } catch (const usage_error& e) {
    fmt::print(stderr, "weir: error: {}\n", e.what());
    return exit_usage;
  } catch (const weir::dsl::dsl_error& e) {
    fmt::print(stderr, "{}\n", e.what());
    return exit_usage;
  } catch (const std::exception& e) {  // pipeline_error, record_error, ...
    fmt::print(stderr, "weir: error: {}\n", e.what());
    return exit_runtime;
  } catch (...) {
    fmt::print(stderr, "weir: error: unknown failure\n");
    return exit_runtime;
  }
}
