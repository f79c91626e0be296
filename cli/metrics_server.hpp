// weir — live task metrics in Prometheus' text exposition format (version
// 0.0.4), what `weir run --ui HOST:PORT` (or its alias `--metrics`) serves at
// /metrics (the server is ui_server.hpp).
//
// Metric names follow Prometheus conventions (weir_ prefix, base units:
// seconds, records; counters end in _total); per-task series carry the
// labels stage (the stage's chain, "file -> parse_log") and instance (the
// parallel instance index). The full table is in README.md ("Metrics").
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "weir/actors/runtime.hpp"
#include "weir/io/kafka.hpp"

namespace weir::cli {

/// A Kafka source's progress, as exported (source label "kafka0", "kafka1", ...).
struct kafka_source_metrics {
  std::string name;
  std::shared_ptr<io::kafka_progress> progress;
};

/// Everything one scrape shows.
struct metrics_snapshot {
  std::vector<task_metrics> tasks;          ///< empty before the job started
  std::vector<kafka_source_metrics> kafka;  ///< thread-safe progress objects
  bool started = false;                     ///< the job started
  bool finished = false;                    ///< the job ended (every task done, or failed)
  double uptime_s = 0;                      ///< since the metrics server started, s
  std::int64_t now_ms = 0;                  ///< wall clock, Unix ms (for watermark lag)
  bool checkpointing = false;               ///< the run takes checkpoints (--checkpoint)
  checkpoint_stats checkpoints;             ///< its checkpoint counters
};

/// Renders a snapshot in Prometheus text format (one # HELP and # TYPE per
/// family, then its samples; label values escaped per the format).
std::string render_prometheus(const metrics_snapshot& s);

/// Escapes a Prometheus label value (backslash, double quote, newline).
std::string prometheus_label_escape(const std::string& v);

/// Splits "host:port" / "[v6]:port" (port 0-65535); false if malformed.
bool parse_host_port(const std::string& address, std::string& host, int& port);

}  // namespace weir::cli
