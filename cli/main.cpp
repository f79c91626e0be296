// The `weir` command: run, check or explain a pipeline DSL script.
//
//   weir run FILE.weir [--batch-interval 1s] [--parallelism N] [--batch-size N]
//   weir run -e 'file("in.txt") | flat_map(split(_)) | map((_, 1)) | reduce_by_key(sum) | print()'
//   weir check FILE.weir | -e '...'
//   weir explain FILE.weir | -e '...' [--parallelism N] [--dot]
//   weir run ... --metrics 127.0.0.1:9464 [--metrics-linger 30s]   Prometheus /metrics
//   weir run ... --quiet | --progress auto|always|never | --log-format text|json
//   weir checkpoints list DIR | inspect DIR [ID]
//
// Exit codes: 0 success (also after SIGINT/SIGTERM, which drain gracefully);
// 1 runtime failure (missing input file, a record an expression cannot
// process, ...; a --metrics address that cannot be bound, e.g. a port in
// use, before the pipeline starts); 2 usage or DSL error. This file is the only place that
// decides exit codes; the libraries throw.
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
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
#include "weir/cli/checkpoints_cmd.hpp"
#include "weir/cli/dsl_error.hpp"
#include "weir/cli/lexer.hpp"
#include "weir/cli/metrics_server.hpp"
#include "weir/cli/progress.hpp"
#include "weir/cli/pipeline_builder.hpp"
#include "weir/cli/pipeline_spec.hpp"
#include "weir/operators/log.hpp"

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
  std::optional<std::string> metrics;         ///< run: HOST:PORT of the Prometheus endpoint
  std::optional<std::string> metrics_linger;  ///< run: keep serving after the end
  bool quiet = false;                         ///< run: no progress line, no info lines
  std::string progress = "auto";              ///< run: auto | always | never
  std::string log_format = "text";            ///< text | json (weir::log_message)
  std::optional<std::string> checkpoint;      ///< run: checkpoint directory
  std::string checkpoint_interval = "10s";
  std::string checkpoint_timeout = "60s";
  int checkpoint_retain = 3;
  bool checkpoint_compress = false;
  bool fresh = false;
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
  cmd->add_option("--log-format", a.log_format,
                  "diagnostics on stderr: text (weir: warning: ...) or json (one {\"level\",\"msg\",...} "
                  "object per line)")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--linger", a.linger,
                  "record mode: max wait before a partly filled batch is sent: 0ms, 1ms, ... "
                  "(default 1ms; overrides 'set linger')");
  if (run) {
    cmd->add_flag("--stats", a.stats,
                  "print run statistics (records, throughput, latency p50/p99/p99.9) to stderr at the end");
    cmd->add_option("--metrics", a.metrics,
                    "serve Prometheus metrics at http://HOST:PORT/metrics during the run, e.g. "
                    "127.0.0.1:9464 (port 0: any free port, printed at start)");
    cmd->add_option("--metrics-linger", a.metrics_linger,
                    "after the run ends, keep serving the final metrics for this long (e.g. 30s), "
                    "or until SIGINT/SIGTERM");
    cmd->add_flag("-q,--quiet", a.quiet, "no progress line and no informational messages on stderr");
    cmd->add_option("--progress", a.progress,
                    "live status line on stderr: auto (when stderr is a terminal), always, never")
        ->check(CLI::IsMember({"auto", "always", "never"}));
    cmd->add_option("--checkpoint", a.checkpoint,
                    "take barrier snapshots into DIR and resume from its newest valid checkpoint "
                    "(exactly-once file sinks; see README 'Checkpoints and recovery')");
    cmd->add_option("--checkpoint-interval", a.checkpoint_interval,
                    "time between checkpoints (default 10s)");
    cmd->add_option("--checkpoint-timeout", a.checkpoint_timeout,
                    "abort (and count) a checkpoint not complete within this time (default 60s)");
    cmd->add_option("--checkpoint-retain", a.checkpoint_retain, "complete checkpoints to keep (default 3)")
        ->check(CLI::Range(1, 1 << 20));
    cmd->add_flag("--checkpoint-compress", a.checkpoint_compress, "compress checkpoint state with zstd");
    cmd->add_flag("--fresh", a.fresh,
                  "with --checkpoint: start from scratch even if DIR holds checkpoints");
  }
}

/// The checkpoint options of `weir run` (docs/architecture.md §6).
weir::checkpoint_options checkpoint_options_of(const command_args& a) {
  weir::checkpoint_options c;
  if (!a.checkpoint) {
    if (a.fresh) throw usage_error("--fresh needs --checkpoint DIR");
    return c;
  }
  if (a.checkpoint->empty()) throw usage_error("--checkpoint: expected a directory, got ''");
  c.dir = *a.checkpoint;
  auto duration = [](const std::string& flag, const std::string& v) {
    std::int64_t ms = 0;
    if (!weir::dsl::parse_duration(v, ms) || ms <= 0)
      throw usage_error(fmt::format("{}: expected a positive duration like 500ms or 10s, got '{}'", flag, v));
    return std::chrono::milliseconds(ms);
  };
  c.interval = duration("--checkpoint-interval", a.checkpoint_interval);
  c.timeout = duration("--checkpoint-timeout", a.checkpoint_timeout);
  c.retain = a.checkpoint_retain;
  c.compress = a.checkpoint_compress;
  c.fresh = a.fresh;
  return c;
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
/// handler. While the run drains, another SIGTERM is the same request
/// (GNU `timeout` and service managers send SIGTERM to the process and then
/// to its whole group, so one stop arrives twice); a second SIGINT (Ctrl-C
/// pressed again) or any third signal ends the process at once.
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

  /// Waits up to `d` or until SIGINT/SIGTERM arrived; true if a signal came.
  bool wait_for(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mtx_);
    return cv_.wait_for(lock, d, [this] { return signalled_; });
  }

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
    int signals = 0;  // SIGINT and SIGTERM received
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGUSR1) {
        if (done_.load()) return;
        continue;
      }
      if (++signals > 1) {
        if (sig == SIGINT || signals > 2) {
          static constexpr char msg[] = "weir: interrupted again, exiting now\n";
          [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg, sizeof(msg) - 1);
          std::_Exit(128 + sig);
        }
        continue;  // a repeated SIGTERM: already stopping
      }
      ctx_.stop();
      {
        std::lock_guard<std::mutex> lock(mtx_);
        signalled_ = true;
      }
      cv_.notify_all();
    }
  }

  weir::streaming_context& ctx_;
  std::atomic<bool> done_{false};
  std::mutex mtx_;
  std::condition_variable cv_;
  bool signalled_ = false;
  std::thread thread_;
};

int execute(const command_args& a, mode m) {
  weir::set_log_format(a.log_format == "json" ? weir::log_format::json : weir::log_format::text);
  std::string name;
  std::string text = read_script(a, name);
  weir::dsl::settings over = overrides_of(a);
  weir::dsl::pipeline_spec spec = weir::dsl::compile_script(text, name);
  weir::context_options opts = weir::dsl::make_context_options(spec.settings, over);
  if (m == mode::run) opts.checkpoint = checkpoint_options_of(a);

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
  if (a.metrics) {
    std::string host;
    int port = 0;
    if (!weir::cli::parse_host_port(*a.metrics, host, port))
      throw usage_error(fmt::format("--metrics: expected HOST:PORT like 127.0.0.1:9464 (port 0-65535), got '{}'",
                                    *a.metrics));
  }
  std::optional<std::chrono::milliseconds> linger;
  if (a.metrics_linger) {
    if (!a.metrics) throw usage_error("--metrics-linger needs --metrics HOST:PORT");
    std::int64_t ms = 0;
    if (!weir::dsl::parse_duration(*a.metrics_linger, ms) || ms < 0)
      throw usage_error(fmt::format("--metrics-linger: expected a duration >= 0 like 30s, got '{}'",
                                    *a.metrics_linger));
    linger = std::chrono::milliseconds(ms);
  }
  // The metrics endpoint binds before anything starts: a busy port fails here.
  std::atomic<bool> started{false}, finished{false};
  std::unique_ptr<weir::cli::metrics_server> server;
  if (a.metrics) {
    std::vector<weir::cli::kafka_source_metrics> kafka;
    for (auto& p : ctx.kafka_sources()) kafka.push_back({fmt::format("kafka{}", kafka.size()), p});
    auto t0 = std::chrono::steady_clock::now();
    const bool checkpointing = a.checkpoint.has_value();
    server = std::make_unique<weir::cli::metrics_server>(*a.metrics, [&ctx, &started, &finished, kafka, t0,
                                                                      checkpointing] {
      weir::cli::metrics_snapshot snap;
      snap.started = started.load(std::memory_order_acquire);
      snap.finished = finished.load(std::memory_order_acquire);
      if (snap.started) snap.tasks = ctx.metrics();  // thread-safe once start() returned
      snap.kafka = kafka;
      snap.checkpointing = checkpointing;
      if (snap.started && checkpointing) snap.checkpoints = ctx.checkpoints();
      snap.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      snap.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
      return weir::cli::render_prometheus(snap);
    });
    if (!a.quiet)
      weir::log_message(weir::log_level::info,
                        fmt::format("serving metrics on http://{}:{}/metrics", server->host(), server->port()));
  }
  bool show_progress = !a.quiet && (a.progress == "always" ||
                                    (a.progress == "auto" && ::isatty(STDERR_FILENO) &&
                                     weir::current_log_format() == weir::log_format::text));
  ctx.start();
  started.store(true, std::memory_order_release);
  weir::run_stats stats;
  {
    signal_waiter waiter(ctx);
    {
      std::optional<weir::cli::progress_display> progress;
      std::function<weir::checkpoint_stats()> poll_cp;
      if (a.checkpoint) poll_cp = [&ctx] { return ctx.checkpoints(); };
      if (show_progress) progress.emplace([&ctx] { return ctx.metrics(); }, poll_cp);
      try {
        stats = ctx.await_termination();
      } catch (...) {
        finished.store(true, std::memory_order_release);
        throw;
      }
      finished.store(true, std::memory_order_release);
    }
    if (linger && linger->count() > 0) waiter.wait_for(*linger);
  }
  server.reset();
  std::fflush(stdout);
  if (a.stats)
    weir::log_message(weir::log_level::info, fmt::format(
               "{} source records, {} sink records, {} batches in {:.3f} s "
               "(sources backpressured {:.3f} s); malformed_records = {}, late_records = {}",
               stats.source_records, stats.sink_records, stats.batches, stats.elapsed_s,
               stats.source_backpressure_s, stats.malformed_records, stats.late_records));
  if (a.stats) {
    double rate = stats.elapsed_s > 0 ? static_cast<double>(stats.source_records) / stats.elapsed_s : 0;
    weir::log_message(weir::log_level::info, fmt::format("throughput {:.0f} records/s; end-to-end latency of {} sink records: "
               "p50 {:.1f} µs, p99 {:.1f} µs, p99.9 {:.1f} µs, max {:.1f} µs",
               rate, stats.latency_samples, stats.latency_p50_us, stats.latency_p99_us,
               stats.latency_p999_us, stats.latency_max_us));
  }
  if (a.stats && a.checkpoint) {
    const auto& c = stats.checkpoints;
    weir::log_message(weir::log_level::info,
                      fmt::format("checkpoints: {} completed, {} failed, {} aborted; last {} ({} bytes, {:.3f} s); "
                                  "resumed from {} (restore {:.3f} s); snapshots {:.3f} s in the tasks, "
                                  "writing {:.3f} s CPU",
                                  c.completed, c.failed, c.aborted, c.last_id, c.last_bytes, c.last_duration_s,
                                  c.restored_id, c.restore_s, c.snapshot_s, c.write_cpu_s));
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
  weir::cli::checkpoints_args checkpoints_args;
  weir::cli::add_checkpoints_command(app, checkpoints_args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? exit_ok : exit_usage;
  }

  try {
    if (!checkpoints_args.action.empty()) return weir::cli::run_checkpoints(checkpoints_args);
    if (run->parsed()) return execute(run_args, mode::run);
    if (explain->parsed()) return execute(explain_args, mode::explain);
    return execute(check_args, mode::check);
  } catch (const usage_error& e) {
    weir::log_message(weir::log_level::error, e.what());
    return exit_usage;
  } catch (const weir::dsl::dsl_error& e) {
    weir::log_raw_error(e.what());
    return exit_usage;
  } catch (const std::exception& e) {  // pipeline_error, record_error, metrics_error, ...
    weir::log_message(weir::log_level::error, e.what());
    return exit_runtime;
  } catch (...) {
    weir::log_message(weir::log_level::error, "unknown failure");
    return exit_runtime;
  }
}
