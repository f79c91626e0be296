// `weir run --metrics`: the Prometheus endpoint (format, counters against an
// independent count of the output), a busy port, and the operator-facing
// stderr: --log-format json and the progress line.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support/test_data.hpp"
#include "support/weir_process.hpp"
#include "weir/cli/metrics_server.hpp"
#include "weir/cli/progress.hpp"
#include "weir/io/regex.hpp"
#include "weir/operators/log.hpp"

namespace fs = std::filesystem;
using namespace weir::test;

namespace {

/// A listening socket on 127.0.0.1 with a kernel-chosen port.
struct listener {
  int fd = -1;
  int port = 0;
  listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 4) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  ~listener() { ::close(fd); }
};

/// A port that was free a moment ago (bound to 0, then closed).
int free_port() {
  listener l;
  return l.port;
}

/// GET /metrics over a raw socket; the body, or nullopt when nothing listens.
std::optional<std::string> scrape(int port, std::string path = "/metrics") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
  std::string resp;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    resp.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  auto head_end = resp.find("\r\n\r\n");
  if (head_end == std::string::npos) return std::nullopt;
  std::string head = resp.substr(0, head_end);
  if (head.rfind("HTTP/1.1 200", 0) != 0) return "STATUS " + head.substr(0, head.find("\r\n"));
  REQUIRE_THAT(head, Catch::Contains("text/plain; version=0.0.4"));
  return resp.substr(head_end + 4);
}

/// Sum of the samples of one metric family (any labels).
double sum_of(const std::string& body, const std::string& name) {
  double total = 0;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0) continue;
    auto rest = line.substr(name.size());
    if (!rest.empty() && rest[0] != '{' && rest[0] != ' ') continue;  // a longer name
    total += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

/// Every line is a comment (# HELP/# TYPE) or `name{labels} value` with a
/// weir_ name; every family has HELP and TYPE before its samples.
void check_format(const std::string& body) {
  static const weir::io::regex sample(
      R"((weir_[a-z_]+)(\{([a-z_]+="[^"\\]*(\\.[^"\\]*)*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf))", "sample");
  static const weir::io::regex type(R"(# TYPE (weir_[a-z_]+) (counter|gauge))", "type");
  std::map<std::string, std::string> types;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    INFO(line);
    std::string_view m[3];
    if (line.rfind("# HELP weir_", 0) == 0) continue;
    if (type.full_match(line, m)) {
      types[std::string(m[1])] = std::string(m[2]);
      if (m[2] == "counter") CHECK(m[1].ends_with("_total"));
      continue;
    }
    REQUIRE(sample.full_match(line, m));
    CHECK(types.count(std::string(m[1])) == 1);
  }
}

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("metrics: render_prometheus names, labels, watermark lag", "[cli][metrics]") {
  weir::cli::metrics_snapshot s;
  s.started = true;
  weir::task_metrics src;
  src.stage = "generate -> with_watermark";
  src.source = true;
  src.records_in = 100;
  src.records_out = 100;
  src.backpressured_s = 0.25;
  src.watermark = 1'700'000'000'000;
  weir::task_metrics snk;
  snk.stage = "say \"hi\"\\";
  snk.instance = 1;
  snk.sink = true;
  snk.records_in = 7;
  snk.sink_records = 7;
  snk.queue_depth = 2;
  snk.queue_capacity = 8;
  s.tasks = {src, snk};
  s.now_ms = 1'700'000'002'500;
  std::string body = weir::cli::render_prometheus(s);
  check_format(body);
  CHECK_THAT(body, Catch::Contains("weir_task_records_in_total{stage=\"generate -> with_watermark\",instance=\"0\"} 100\n"));
  CHECK_THAT(body, Catch::Contains("weir_sink_records_total{stage=\"say \\\"hi\\\"\\\\\",instance=\"1\"} 7\n"));
  CHECK_THAT(body, Catch::Contains("weir_task_backpressured_seconds_total{stage=\"generate -> with_watermark\",instance=\"0\"} 0.25\n"));
  CHECK_THAT(body, Catch::Contains("weir_watermark_lag_seconds{stage=\"generate -> with_watermark\",instance=\"0\"} 2.5\n"));
  CHECK_THAT(body, Catch::Contains("weir_task_queue_capacity{stage=\"say \\\"hi\\\"\\\\\",instance=\"1\"} 8\n"));
  // only the source task has a watermark; only the sink task is a sink
  CHECK(sum_of(body, "weir_watermark_lag_seconds") == 2.5);
  CHECK(body.find("weir_watermark_lag_seconds{stage=\"say") == std::string::npos);
  CHECK(sum_of(body, "weir_source_records_read_total") == 100);
  CHECK(sum_of(body, "weir_job_started") == 1);
  CHECK(sum_of(body, "weir_job_finished") == 0);
}

TEST_CASE("metrics: progress line figures", "[cli][metrics]") {
  weir::cli::progress_totals a{1000, 900, 0.5, 2}, b{3000, 2900, 1.5, 2};
  // 2000 records in 0.5 s = 4.0k rec/s; backpressure 1 s over 2 sources x 0.5 s = 100 %
  CHECK(weir::cli::format_progress(a, b, 0.5, 12.34) ==
        "weir: 12.3 s | in 4.0k rec/s (3,000) | out 4.0k rec/s (2,900 to sinks) | backpressure 100% | "
        "checkpoints: off");
  b.checkpointing = true;
  CHECK_THAT(weir::cli::format_progress(a, b, 0.5, 12.34), Catch::EndsWith("| checkpoints: none yet"));
  b.checkpoints.last_id = 7;
  b.checkpoints.last_completed_ms = 1000;
  b.checkpoints.failed = 2;
  b.now_ms = 3500;
  CHECK_THAT(weir::cli::format_progress(a, b, 0.5, 12.34),
             Catch::EndsWith("| checkpoint 7, 2.5 s ago, 2 failed"));
}

TEST_CASE("metrics: json_escape", "[cli][metrics]") {
  CHECK(weir::json_escape("a\"b\\c\nd\te\x01") == "a\\\"b\\\\c\\nd\\te\\u0001");
}

TEST_CASE("metrics: scrape during a bounded run and the final counters equal the output", "[cli][metrics][slow]") {
  temp_dir tmp;
  int port = free_port();
  auto out = tmp.path / "out.jsonl";
  // 2 s of generated events, so the run is observable while it runs.
  std::string pipeline = "generate(\"access_log\", rate = 3000, duration = 2s, seed = 7) | filter(.status >= 200) | "
                         "write_jsonl(\"" + out.string() + "\")";
  pid_t pid = spawn_weir({"run", "-e", pipeline, "--batch-interval", "200ms", "--metrics",
                          "127.0.0.1:" + std::to_string(port), "--metrics-linger", "120s", "--stats"},
                         tmp.path);
  bool seen_running = false;
  std::string last;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    auto body = scrape(port);
    if (body) {
      REQUIRE(body->rfind("STATUS", 0) != 0);
      check_format(*body);
      if (sum_of(*body, "weir_job_started") == 1 && sum_of(*body, "weir_job_finished") == 0) {
        seen_running = true;
        CHECK_THAT(*body, Catch::Contains("# TYPE weir_task_records_in_total counter") &&
                              Catch::Contains("# TYPE weir_task_queue_depth gauge") &&
                              Catch::Contains("# TYPE weir_task_backpressured_seconds_total counter") &&
                              Catch::Contains("weir_source_records_read_total{stage=\"generate"));
      }
      if (sum_of(*body, "weir_job_finished") == 1) {
        last = *body;
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(!last.empty());
  CHECK(seen_running);
  auto unknown = scrape(port, "/nope");
  REQUIRE(unknown);
  CHECK(unknown->rfind("STATUS HTTP/1.1 404", 0) == 0);
  // linger ends on SIGTERM, exit 0
  ::kill(pid, SIGTERM);
  int rc = wait_exit(pid);
  std::string err = slurp(tmp.path / "stderr.txt");
  INFO(err);
  CHECK(rc == 0);
  // independent count: the lines the sink wrote
  auto lines = count_lines(slurp(out));
  CHECK(lines > 3000);
  CHECK(sum_of(last, "weir_sink_records_total") == static_cast<double>(lines));
  CHECK(sum_of(last, "weir_source_records_read_total") == static_cast<double>(lines));  // every status >= 200
  CHECK(sum_of(last, "weir_task_done") == sum_of(last, "weir_tasks"));
  CHECK(sum_of(last, "weir_malformed_records_total") == 0);
  CHECK_THAT(err, Catch::Contains("weir: serving metrics on http://127.0.0.1:" + std::to_string(port) + "/metrics"));
  CHECK_THAT(err, Catch::Contains("weir: " + std::to_string(lines) + " source records, " + std::to_string(lines) +
                                  " sink records"));
}

TEST_CASE("metrics: a port in use is one clear line at start with exit 1 and nothing runs", "[cli][metrics]") {
  temp_dir tmp;
  listener busy;
  write_file(tmp.path / "in.txt", "a b\n");
  std::string addr = "127.0.0.1:" + std::to_string(busy.port);
  auto r = run_weir({"run", "-e", "file(\"" + (tmp.path / "in.txt").string() + "\") | print()", "--metrics", addr},
                    tmp.path);
  CHECK(r.exit_code == 1);
  CHECK(r.err == "weir: error: cannot serve metrics on " + addr + ": Address already in use\n");
  CHECK(r.out.empty());
  auto bad = run_weir({"run", "-e", "stdin() | print()", "--metrics", "localhost"}, tmp.path);
  CHECK(bad.exit_code == 2);
  CHECK(bad.err == "weir: error: --metrics: expected HOST:PORT like 127.0.0.1:9464 (port 0-65535), got 'localhost'\n");
  auto linger = run_weir({"run", "-e", "stdin() | print()", "--metrics-linger", "1s"}, tmp.path);
  CHECK(linger.exit_code == 2);
  CHECK(linger.err == "weir: error: --metrics-linger needs --metrics HOST:PORT\n");
}

TEST_CASE("logs: --log-format json writes one JSON object per line", "[cli][metrics]") {
  temp_dir tmp;
  auto missing = (tmp.path / "nope.txt").string();
  auto r = run_weir({"run", "--log-format", "json", "-e", "file(\"" + missing + "\") | print()"}, tmp.path);
  CHECK(r.exit_code == 1);
  REQUIRE(count_lines(r.err) == 1);
  CHECK(r.err.rfind("{\"level\":\"error\",\"msg\":\"", 0) == 0);
  CHECK_THAT(r.err, Catch::Contains(missing) && Catch::Contains("\"time_ms\":") && Catch::EndsWith("}\n"));
  // a DSL error (multi-line text in text mode) is one JSON line too
  auto d = run_weir({"run", "--log-format", "json", "-e", "stdin() | prnt()"}, tmp.path);
  CHECK(d.exit_code == 2);
  CHECK(count_lines(d.err) == 1);
  CHECK(d.err.rfind("{\"level\":\"error\",\"msg\":\"", 0) == 0);
  // --stats lines are info lines
  write_file(tmp.path / "in.txt", "a\nb\n");
  auto s = run_weir({"run", "--log-format", "json", "--stats", "-e",
                     "file(\"" + (tmp.path / "in.txt").string() + "\") | print()"},
                    tmp.path);
  CHECK(s.exit_code == 0);
  CHECK(count_lines(s.err) == 2);
  CHECK(s.err.rfind("{\"level\":\"info\",\"msg\":\"2 source records, 2 sink records", 0) == 0);
}

TEST_CASE("progress: --progress always draws and erases the status line and --quiet or a non-TTY stay silent",
          "[cli][metrics][slow]") {
  temp_dir tmp;
  std::string pipeline = "generate(\"access_log\", rate = 2000, duration = 1500ms) | count() | print()";
  auto r = run_weir({"run", "-e", pipeline, "--progress", "always"}, tmp.path);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::StartsWith("\rweir: ") && Catch::Contains(" rec/s (") &&
                        Catch::Contains("to sinks) | backpressure ") && Catch::EndsWith("\r\x1b[K"));
  CHECK(r.err.find('\n') == std::string::npos);
  auto q = run_weir({"run", "-e", pipeline, "--progress", "always", "--quiet"}, tmp.path);
  CHECK(q.exit_code == 0);
  CHECK(q.err.empty());
  auto auto_mode = run_weir({"run", "-e", pipeline}, tmp.path);  // stderr is a file: no progress
  CHECK(auto_mode.exit_code == 0);
  CHECK(auto_mode.err.empty());
}

TEST_CASE("metrics: checkpoint counters by status, last duration and size", "[cli][metrics][checkpoint]") {
  weir::cli::metrics_snapshot s;
  s.started = true;
  s.checkpointing = true;
  s.checkpoints.completed = 5;
  s.checkpoints.failed = 1;
  s.checkpoints.aborted = 2;
  s.checkpoints.last_id = 8;
  s.checkpoints.last_duration_s = 0.25;
  s.checkpoints.last_bytes = 4096;
  s.checkpoints.restored_id = 3;
  std::string body = weir::cli::render_prometheus(s);
  CHECK_THAT(body, Catch::Contains("# TYPE weir_checkpoints_total counter\n"));
  CHECK_THAT(body, Catch::Contains("weir_checkpoints_total{status=\"completed\"} 5\n"));
  CHECK_THAT(body, Catch::Contains("weir_checkpoints_total{status=\"failed\"} 1\n"));
  CHECK_THAT(body, Catch::Contains("weir_checkpoints_total{status=\"aborted\"} 2\n"));
  CHECK_THAT(body, Catch::Contains("weir_checkpoint_last_id 8\n"));
  CHECK_THAT(body, Catch::Contains("weir_checkpoint_last_duration_seconds 0.25\n"));
  CHECK_THAT(body, Catch::Contains("weir_checkpoint_last_size_bytes 4096\n"));
  CHECK_THAT(body, Catch::Contains("weir_checkpoint_restored_id 3\n"));
  s.checkpointing = false;
  CHECK(weir::cli::render_prometheus(s).find("weir_checkpoint") == std::string::npos);
}
