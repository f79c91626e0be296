// weir — the Prometheus /metrics endpoint of `weir run --metrics`
// (metrics_server.hpp); the only file that includes <httplib.h>.
#include "weir/cli/metrics_server.hpp"

#include <algorithm>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <limits>
#include <charconv>
#include <cstring>
#include <thread>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <httplib.h>

namespace weir::cli {

std::string prometheus_label_escape(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

namespace {

std::string fmt_double(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", d);
}

struct family {
  std::string out;
  void begin(const char* name, const char* type, const char* help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void sample(const char* name, const std::string& labels, const std::string& value) {
    out += name;
    if (!labels.empty()) out += "{" + labels + "}";
    out += ' ';
    out += value;
    out += '\n';
  }
};

std::string task_labels(const task_metrics& t) {
  return fmt::format("stage=\"{}\",instance=\"{}\"", prometheus_label_escape(t.stage), t.instance);
}

}  // namespace

std::string render_prometheus(const metrics_snapshot& s) {
  family f;
  using u64 = std::uint64_t;
  auto per_task = [&](const char* name, const char* type, const char* help, auto pred, auto value) {
    bool any = false;
    for (auto& t : s.tasks) any = any || pred(t);
    if (!any) return;
    f.begin(name, type, help);
    for (auto& t : s.tasks)
      if (pred(t)) f.sample(name, task_labels(t), value(t));
  };
  auto all = [](const task_metrics&) { return true; };
  auto num = [](u64 v) { return std::to_string(v); };

  f.begin("weir_up", "gauge", "1 while the weir process serves metrics.");
  f.sample("weir_up", "", "1");
  f.begin("weir_job_started", "gauge", "1 once the pipeline started.");
  f.sample("weir_job_started", "", s.started ? "1" : "0");
  f.begin("weir_job_finished", "gauge", "1 once the pipeline ended (bounded sources drained, stop, or failure).");
  f.sample("weir_job_finished", "", s.finished ? "1" : "0");
  f.begin("weir_uptime_seconds", "gauge", "Seconds since the metrics server started.");
  f.sample("weir_uptime_seconds", "", fmt_double(s.uptime_s));
  f.begin("weir_tasks", "gauge", "Tasks (parallel stage instances, one actor each) of the job.");
  f.sample("weir_tasks", "", std::to_string(s.tasks.size()));

  per_task("weir_task_records_in_total", "counter",
           "Records a task received on its inputs (a source task: records it read).", all,
           [&](auto& t) { return num(t.records_in); });
  per_task("weir_task_records_out_total", "counter", "Records a task sent downstream.", all,
           [&](auto& t) { return num(t.records_out); });
  per_task("weir_task_batches_in_total", "counter",
           "Wire batches a task received (a source task: reads that returned records).", all,
           [&](auto& t) { return num(t.batches_in); });
  per_task("weir_task_backpressured_seconds_total", "counter",
           "Seconds a task spent without credit downstream (holding output, not consuming input).", all,
           [&](auto& t) { return fmt_double(t.backpressured_s); });
  per_task("weir_task_queue_depth", "gauge",
           "Wire batches and control signals waiting in a task's input channels.", all,
           [&](auto& t) { return num(t.queue_depth); });
  per_task("weir_task_queue_capacity", "gauge",
           "Credits of a task's input channels (channels x edge capacity), wire batches.", all,
           [&](auto& t) { return num(t.queue_capacity); });
  per_task("weir_task_done", "gauge", "1 once a task finished.", all,
           [&](auto& t) { return std::string(t.done ? "1" : "0"); });
  per_task("weir_source_records_read_total", "counter", "Records a source task read from its source.",
           [](auto& t) { return t.source; }, [&](auto& t) { return num(t.records_in); });
  per_task("weir_sink_records_total", "counter", "Records delivered to a sink.",
           [](auto& t) { return t.sink; }, [&](auto& t) { return num(t.sink_records); });
  per_task("weir_malformed_records_total", "counter",
           "Bad records skipped or dead-lettered by an on_error policy (and partial lines a source dropped).",
           all, [&](auto& t) { return num(t.malformed_records); });
  per_task("weir_late_records_total", "counter",
           "Event-time records that arrived after their window closed (dropped).", all,
           [&](auto& t) { return num(t.late_records); });
  constexpr std::int64_t none = std::numeric_limits<std::int64_t>::min();
  auto has_wm = [](auto& t) { return t.watermark != none; };
  per_task("weir_watermark_timestamp_seconds", "gauge",
           "Last event-time watermark a task sent downstream, Unix seconds.", has_wm,
           [&](auto& t) { return fmt_double(static_cast<double>(t.watermark) / 1000.0); });
  per_task("weir_watermark_lag_seconds", "gauge",
           "Wall clock minus a task's last watermark, seconds (event-time progress lag).", has_wm,
           [&](auto& t) { return fmt_double(static_cast<double>(s.now_ms - t.watermark) / 1000.0); });

  if (s.checkpointing) {
    const auto& c = s.checkpoints;
    f.begin("weir_checkpoints_total", "counter",
            "Checkpoints by outcome: completed (manifest written), failed (write error, e.g. disk full), "
            "aborted (timed out, declined, or barriers not aligned).");
    f.sample("weir_checkpoints_total", "status=\"completed\"", num(c.completed));
    f.sample("weir_checkpoints_total", "status=\"failed\"", num(c.failed));
    f.sample("weir_checkpoints_total", "status=\"aborted\"", num(c.aborted));
    f.begin("weir_checkpoint_last_id", "gauge", "Id of the last completed checkpoint (0 = none).");
    f.sample("weir_checkpoint_last_id", "", num(c.last_id));
    f.begin("weir_checkpoint_last_duration_seconds", "gauge",
            "Trigger to manifest of the last completed checkpoint, seconds.");
    f.sample("weir_checkpoint_last_duration_seconds", "", fmt_double(c.last_duration_s));
    f.begin("weir_checkpoint_last_size_bytes", "gauge", "Bytes written for the last completed checkpoint.");
    f.sample("weir_checkpoint_last_size_bytes", "", num(c.last_bytes));
    f.begin("weir_checkpoint_last_completed_timestamp_seconds", "gauge",
            "When the last checkpoint completed, Unix seconds (0 = none).");
    f.sample("weir_checkpoint_last_completed_timestamp_seconds", "",
             fmt_double(static_cast<double>(c.last_completed_ms) / 1000.0));
    f.begin("weir_checkpoint_restored_id", "gauge", "Checkpoint the run resumed from (0 = started fresh).");
    f.sample("weir_checkpoint_restored_id", "", num(c.restored_id));
    f.begin("weir_checkpoint_restore_seconds", "gauge", "Time spent loading and restoring that checkpoint, seconds.");
    f.sample("weir_checkpoint_restore_seconds", "", fmt_double(c.restore_s));
  }

  if (!s.kafka.empty()) {
    f.begin("weir_kafka_records_read_total", "counter", "Records a Kafka source read, all partitions.");
    for (auto& k : s.kafka)
      f.sample("weir_kafka_records_read_total", fmt::format("source=\"{}\"", prometheus_label_escape(k.name)),
               num(k.progress->records()));
    f.begin("weir_kafka_partition_next_offset", "gauge",
            "Offset of the next message a Kafka source reads from a partition.");
    for (auto& k : s.kafka)
      for (auto& o : k.progress->offsets())
        f.sample("weir_kafka_partition_next_offset",
                 fmt::format("source=\"{}\",topic=\"{}\",partition=\"{}\"", prometheus_label_escape(k.name),
                             prometheus_label_escape(o.topic), o.partition),
                 std::to_string(o.next_offset));
    f.begin("weir_kafka_partition_lag_records", "gauge",
            "Messages of a partition not read yet: its high watermark (as last fetched) minus the next offset.");
    for (auto& k : s.kafka) {
      auto next = k.progress->offsets();
      for (auto& h : k.progress->high_watermarks()) {
        auto it = std::find_if(next.begin(), next.end(), [&](auto& o) {
          return o.topic == h.topic && o.partition == h.partition;
        });
        if (it == next.end()) continue;
        f.sample("weir_kafka_partition_lag_records",
                 fmt::format("source=\"{}\",topic=\"{}\",partition=\"{}\"", prometheus_label_escape(k.name),
                             prometheus_label_escape(h.topic), h.partition),
                 std::to_string(std::max<std::int64_t>(0, h.next_offset - it->next_offset)));
      }
    }
    f.begin("weir_kafka_partition_committed_offset", "gauge",
            "Offset weir last committed to the consumer group for a partition.");
    for (auto& k : s.kafka)
      for (auto& o : k.progress->committed())
        f.sample("weir_kafka_partition_committed_offset",
                 fmt::format("source=\"{}\",topic=\"{}\",partition=\"{}\"", prometheus_label_escape(k.name),
                             prometheus_label_escape(o.topic), o.partition),
                 std::to_string(o.next_offset));
    f.begin("weir_kafka_commits_total", "counter", "Successful offset commits of a Kafka source.");
    for (auto& k : s.kafka)
      f.sample("weir_kafka_commits_total", fmt::format("source=\"{}\"", prometheus_label_escape(k.name)),
               num(k.progress->commits()));
    f.begin("weir_kafka_pauses_total", "counter",
            "Times a Kafka source paused its partitions for backpressure.");
    for (auto& k : s.kafka)
      f.sample("weir_kafka_pauses_total", fmt::format("source=\"{}\"", prometheus_label_escape(k.name)),
               num(k.progress->pauses()));
  }
  return std::move(f.out);
}

bool parse_host_port(const std::string& address, std::string& host, int& port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  host = address.substr(0, colon);
  std::string port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  return !host.empty() && !port_text.empty() && ec == std::errc{} &&
         end == port_text.data() + port_text.size() && port >= 0 && port <= 65535;
}

struct metrics_server::impl {
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  std::string host;
  int port = 0;
};

namespace {

/// Why `host:port` cannot be bound: a probe bind (httplib does not keep errno).
std::string bind_failure(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) return fmt::format("cannot resolve host '{}': {}", host, ::gai_strerror(rc));
  std::string why = "cannot bind";
  for (addrinfo* p = res; p; p = p->ai_next) {
    int fd = ::socket(p->ai_family, p->ai_socktype, p->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd, p->ai_addr, p->ai_addrlen) != 0) why = std::strerror(errno);
    else if (::listen(fd, 1) != 0) why = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return why;
}

}  // namespace

metrics_server::metrics_server(const std::string& address, std::function<std::string()> render)
    : impl_(std::make_unique<impl>()) {
  std::string host;
  int port = -1;
  if (!parse_host_port(address, host, port))
    throw metrics_error(fmt::format("--metrics: expected HOST:PORT like 127.0.0.1:9464 (port 0-65535), got '{}'",
                                    address));
  impl_->host = host;
  auto& svr = impl_->server;
  svr.new_task_queue = [] { return new httplib::ThreadPool(2); };
  svr.Get("/metrics", [render = std::move(render)](const httplib::Request&, httplib::Response& res) {
    res.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  bool ok = false;
  if (port == 0) {
    int p = svr.bind_to_any_port(host);
    ok = p > 0;
    port = p;
  } else {
    ok = svr.bind_to_port(host, port);
  }
  if (!ok)
    throw metrics_error(fmt::format("cannot serve metrics on {}: {}", address,
                                    bind_failure(host, port < 0 ? 0 : port)));
  impl_->port = port;
  impl_->thread = std::thread([this] {
    impl_->server.listen_after_bind();
    impl_->listen_returned.store(true);
  });
}

metrics_server::~metrics_server() {
  // httplib's stop() is a no-op before listen_after_bind() is running: wait for it.
  while (!impl_->server.is_running() && !impl_->listen_returned.load())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int metrics_server::port() const noexcept { return impl_->port; }
const std::string& metrics_server::host() const noexcept { return impl_->host; }

}  // namespace weir::cli
