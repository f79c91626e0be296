// The dashboard of `weir run --ui` (cli/dashboard.hpp, cli/ui_server.hpp):
// /api/job from metrics snapshots (stages, instances, edges, rates,
// backpressure, watermark lag, progress, checkpoints), and a running job
// served at /, /api/job and /metrics, rendered by headless Chromium (from
// Debian's chromium package; that part is skipped with a message when it is
// not installed) whose DOM must show the stages, live figures, the input's
// progress, the watermark, and answers of /api/job polled after the page
// loaded; the test saves the screenshot as dashboard-screenshot.png in its
// working directory.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support/test_data.hpp"
#include "support/weir_process.hpp"
#include "weir/cli/dashboard.hpp"
#include "weir/cli/ui_server.hpp"
#include "weir/io/json.hpp"
#include "weir/io/regex.hpp"

namespace {

using weir::value;
namespace fs = std::filesystem;

struct http_reply {
  std::string head, body;
};

std::optional<http_reply> http_get(int port, const std::string& path) {
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
  auto end = resp.find("\r\n\r\n");
  if (end == std::string::npos) return std::nullopt;
  return http_reply{resp.substr(0, end), resp.substr(end + 4)};
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

const value& field(const value& obj, std::string_view name) {
  for (auto& f : obj.as_object())
    if (f.name.as_string() == name) return f.val;
  FAIL("no field " << name << " in " << obj.to_json());
  static value none;
  return none;
}

weir::task_metrics task(const std::string& stage, int instance, int parallelism, std::uint64_t in, std::uint64_t out) {
  weir::task_metrics t;
  t.stage = stage;
  t.instance = instance;
  t.parallelism = parallelism;
  t.records_in = in;
  t.records_out = out;
  return t;
}

/// The Chromium binary of Debian's package, if installed.
std::optional<std::string> chromium() {
  for (const char* c : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (::access(c, X_OK) == 0) return std::string(c);
  return std::nullopt;
}

/// Runs headless Chromium on `url` with `mode` (--dump-dom or
/// --screenshot=FILE); its stdout.
std::string run_chromium(const std::string& bin, const std::string& url, const std::string& mode,
                         const fs::path& dir) {
  fs::create_directories(dir / "profile");
  std::string cmd = bin +
                    " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                    " --disable-background-networking --disable-component-update --disable-sync"
                    " --disable-dev-shm-usage --hide-scrollbars --user-data-dir=" +
                    (dir / "profile").string() + " --window-size=1400,1400 --virtual-time-budget=3000 " + mode + " " +
                    url + " > " + (dir / "chromium.out").string() + " 2> " + (dir / "chromium.err").string();
  int rc = std::system(cmd.c_str());
  INFO("chromium stderr: " << weir::test::slurp(dir / "chromium.err"));
  REQUIRE(rc == 0);
  return weir::test::slurp(dir / "chromium.out");
}

}  // namespace

TEST_CASE("dashboard: /api/job groups the tasks by stage with rates, backpressure, lag, progress and checkpoints",
          "[cli][dashboard]") {
  weir::plan::physical_graph p;
  p.stages.resize(2);
  p.stages[0] = {0, 1, 0, {0, 1}, {}, {0}, "file -> map"};
  p.stages[1] = {1, 2, -1, {2, 3}, {0}, {}, "reduce_by_key -> write_jsonl"};
  p.edges.push_back({0, 0, 1, weir::plan::edge_kind::hash, 0});
  weir::cli::dashboard board(weir::cli::plan_view_of(p, "wc.weir", 500));

  weir::cli::metrics_snapshot s;
  s.started = true;
  s.now_ms = 1'000'000;
  s.checkpointing = true;
  s.tasks = {task("file -> map", 0, 1, 1000, 1000), task("reduce_by_key -> write_jsonl", 0, 2, 400, 0),
             task("reduce_by_key -> write_jsonl", 1, 2, 600, 0)};
  s.tasks[0].source = true;
  s.tasks[0].input_done = 250;
  s.tasks[0].input_total = 1000;
  s.tasks[1].sink = s.tasks[2].sink = true;
  board.render_json(s, 10.0);
  // two seconds later
  s.tasks[0].records_in = s.tasks[0].records_out = 5000;
  s.tasks[0].backpressured_s = 1.0;  // half of the interval without credit
  s.tasks[0].input_done = 1000;
  s.tasks[1].records_in = 2400;
  s.tasks[2].records_in = 2600;
  s.tasks[1].sink_records = 300;
  s.tasks[2].sink_records = 500;
  s.tasks[1].queue_depth = 3;
  s.tasks[1].queue_capacity = s.tasks[2].queue_capacity = 8;
  s.tasks[1].watermark = 997'000;
  s.tasks[2].watermark = 998'000;
  s.tasks[2].done = true;
  s.checkpoints.completed = 4;
  s.checkpoints.last_id = 4;
  s.checkpoints.last_bytes = 2048;
  value j = weir::io::parse_json(board.render_json(s, 12.0));
  INFO(j.to_json());
  CHECK(field(j, "job").as_string() == "wc.weir");
  CHECK(field(j, "state").as_string() == "running");
  CHECK(field(j, "batch_interval_ms").as_int() == 500);
  auto stages = field(j, "stages").as_array();
  REQUIRE(stages.size() == 2);
  const value& src = stages[0];
  CHECK(field(src, "name").as_string() == "file -> map");
  CHECK(field(src, "operators").to_json() == R"(["file","map"])");
  CHECK(field(src, "source").as_bool());
  CHECK_FALSE(field(src, "sink").as_bool());
  CHECK(field(src, "in_rate").as_number() == Approx(2000.0));
  CHECK(field(src, "backpressure").as_number() == Approx(0.5));
  CHECK(field(field(src, "progress"), "ratio").as_number() == Approx(1.0));
  CHECK(field(src, "watermark_ms").is_null());
  const value& red = stages[1];
  CHECK(field(red, "parallelism").as_int() == 2);
  CHECK(field(red, "sink").as_bool());
  CHECK(field(red, "records_in").as_int() == 5000);
  CHECK(field(red, "in_rate").as_number() == Approx(2000.0));
  CHECK(field(red, "sink_records").as_int() == 800);
  CHECK(field(red, "sink_rate").as_number() == Approx(400.0));
  CHECK(field(red, "queue_depth").as_int() == 3);
  CHECK(field(red, "queue_capacity").as_int() == 16);
  CHECK(field(red, "watermark_ms").as_int() == 997'000);
  CHECK(field(red, "watermark_lag_s").as_number() == Approx(3.0));
  CHECK(field(red, "done_instances").as_int() == 1);
  CHECK(field(red, "progress").is_null());
  auto inst = field(red, "instances").as_array();
  REQUIRE(inst.size() == 2);
  CHECK(field(inst[1], "in_rate").as_number() == Approx(1000.0));
  CHECK(field(inst[1], "done").as_bool());
  auto edges = field(j, "edges").as_array();
  REQUIRE(edges.size() == 1);
  CHECK(edges[0].to_json() == R"({"from":0,"to":1,"kind":"hash","channels":2})");
  const value& totals = field(j, "totals");
  CHECK(field(totals, "records_in").as_int() == 5000);
  CHECK(field(totals, "records_out").as_int() == 800);
  CHECK(field(totals, "out_rate").as_number() == Approx(400.0));
  const value& cp = field(j, "checkpoints");
  CHECK(field(cp, "enabled").as_bool());
  CHECK(field(cp, "last_id").as_int() == 4);
  CHECK(field(cp, "last_bytes").as_int() == 2048);

  // the page inlines the job; "</" in a name cannot end its script
  std::string page = weir::cli::render_page(R"({"job":"a</script>b"})");
  CHECK(page.find(R"(const initial = {"job":"a<\/script>b"};)") != std::string::npos);
  // nothing from the network: no external script, style sheet, image or font
  for (auto* ref : {"src=\"http", "href=\"http", "<link", "@import", "url(http", "https://"}) {
    INFO(ref);
    CHECK(page.find(ref) == std::string::npos);
  }
}

TEST_CASE("dashboard: weir run --ui serves the page, /api/job and /metrics during a run and Chromium renders the "
          "stages with live figures",
          "[cli][dashboard][slow]") {
  weir::test::temp_dir tmp;
  const int port = free_port();
  const auto out = tmp.path / "out.jsonl";
  const std::string script =
      "let logs = generate(\"access_log\", rate = 4000, duration = 12s, seed = 7)\n"
      "logs | filter(.status >= 200) | map((.status, 1)) | reduce_by_key_and_window(sum, 2s, 1s)\n"
      "  | write_jsonl(\"" + out.string() + "\")\n"
      "logs | aggregate(tumbling(2s), count, key = _.status, time = _.time, watermark = 1s)\n"
      "  | write_jsonl(\"" + (tmp.path / "per_status.jsonl").string() + "\")\n"
      "logs | map(.path) | count_by_value() | filter(_[1] > 1000000) | print()\n";
  weir::test::write_file(tmp.path / "traffic.weir", script);
  pid_t pid = weir::test::spawn_weir({"run", (tmp.path / "traffic.weir").string(), "--batch-interval", "250ms",
                                      "--parallelism", "2", "--ui", "127.0.0.1:" + std::to_string(port),
                                      "--checkpoint", (tmp.path / "ckpt").string(), "--checkpoint-interval", "1s"},
                                     tmp.path);
  struct reaper {
    pid_t pid;
    ~reaper() { weir::test::kill_weir(pid); }
  } reap{pid};

  // /api/job while the job runs, with records flowing
  std::optional<value> job;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = http_get(port, "/api/job");
    if (r) {
      CHECK_THAT(r->head, Catch::Contains("application/json"));
      value j = weir::io::parse_json(r->body);
      auto st = field(j, "stages").as_array();
      if (field(j, "state").as_string() == "running" && field(field(j, "totals"), "in_rate").as_number() > 0 &&
          field(field(j, "checkpoints"), "completed").as_int() > 0 && st.size() > 5 &&
          !field(st[5], "watermark_ms").is_null()) {
        job = j;
        break;
      }
      REQUIRE(field(j, "state").as_string() != "finished");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  REQUIRE(job);
  INFO(job->to_json());
  auto stages = field(*job, "stages").as_array();
  std::string names;
  for (auto& s : stages) names += std::string(field(s, "name").as_string()) + ";";
  // the stages feeding a keyed aggregation pre-aggregate (map-side combine)
  CHECK(names == "generate;filter -> map -> reduce_by_key_and_window.combine;reduce_by_key_and_window;write_jsonl;"
                 "with_watermark -> key_by;aggregate(tumbling(2s));write_jsonl;map -> count_by_value.combine;"
                 "count_by_value -> filter;print;");
  CHECK(field(*job, "edges").as_array().size() == 9);
  CHECK(field(field(*job, "totals"), "records_in").as_int() > 0);
  CHECK(field(stages[2], "parallelism").as_int() == 2);
  CHECK(field(stages[2], "instances").as_array().size() == 2);
  // the generator's duration is its progress; event time from the with_watermark stage on
  const value& progress = field(stages[0], "progress");
  REQUIRE_FALSE(progress.is_null());
  CHECK(field(progress, "total").as_int() == 12000);
  CHECK(field(progress, "ratio").as_number() > 0);
  CHECK(field(progress, "ratio").as_number() < 1);
  CHECK(field(stages[4], "watermark_ms").as_int() >= 1'700'000'000'000);  // the generator's event times
  CHECK(field(stages[1], "watermark_ms").is_null());

  auto page = http_get(port, "/");
  REQUIRE(page);
  CHECK_THAT(page->head, Catch::Contains("text/html"));
  CHECK_THAT(page->body, Catch::Contains("reduce_by_key_and_window") && Catch::Contains("/api/job"));
  auto metrics = http_get(port, "/metrics");
  REQUIRE(metrics);
  CHECK_THAT(metrics->head, Catch::Contains("text/plain; version=0.0.4"));
  CHECK_THAT(metrics->body, Catch::Contains("weir_task_records_in_total{stage=\"generate\",instance=\"0\"}"));
  CHECK(http_get(port, "/nope")->head.rfind("HTTP/1.1 404", 0) == 0);

  auto browser = chromium();
  if (!browser) {
    WARN("SKIPPED: chromium is not installed (scripts/setup.sh --browser installs it): the page was not rendered");
    return;
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  std::string dom = run_chromium(*browser, url, "--dump-dom", tmp.path / "dom");
  INFO(dom.substr(0, 4000));
  // the graph and the table show every stage, the figures are live
  CHECK_THAT(dom, Catch::Contains("<svg") && Catch::Contains("id=\"state\">running<"));
  for (auto* name : {">generate<", ">reduce_by_key_and_window<", ">write_jsonl<", ">count_by_value -&gt; filter<", ">print<"})
    CHECK_THAT(dom, Catch::Contains(name));
  std::string_view m[3];
  REQUIRE(weir::io::regex(R"(id="in-rate">([0-9.]+)(k?)<)", "test").search(dom, m));
  CHECK(std::stod(std::string(m[1])) * (m[2] == "k" ? 1000 : 1) > 100);  // about 4,000 records/s
  CHECK(weir::io::regex(R"(in [0-9.]+k?/s · out [0-9.]+k?/s)", "test").contains(dom));
  CHECK_THAT(dom, Catch::Contains("last checkpoint"));
  CHECK(weir::io::regex(R"(>input [0-9.]+%<)", "test").contains(dom));              // progress of the generator
  CHECK(weir::io::regex(R"(>2023-11-\d\d \d\d:\d\d:\d\d<)", "test").contains(dom));  // in the table
  CHECK(weir::io::regex(R"(>watermark 11-\d\d \d\d:\d\d:\d\d · lag )", "test").contains(dom));
  // live: the page polled /api/job and rendered the answers (3 s of virtual time, a poll a second)
  REQUIRE(weir::io::regex(R"re(<body data-updates="(\d+)")re", "test").search(dom, m));
  CHECK(std::stoi(std::string(m[1])) >= 2);

  const fs::path shot = fs::current_path() / "dashboard-screenshot.png";
  fs::remove(shot);
  run_chromium(*browser, url, "--screenshot=" + shot.string(), tmp.path / "shot");
  REQUIRE(fs::exists(shot));
  CHECK(fs::file_size(shot) > 20000);  // a rendered page, not a blank one
  std::printf("dashboard test: screenshot saved to %s\n", shot.c_str());
}
