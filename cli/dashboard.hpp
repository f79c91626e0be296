// weir — the live dashboard of `weir run --ui HOST:PORT`: the job as JSON
// (/api/job) and the page that shows it (/), HTML, CSS and JS embedded in the
// binary (cli/dashboard.html, compiled in; no CDN, no network). The page polls
// /api/job every second and draws the job graph in SVG.
//
// /api/job (all counters cumulative since start; rates in records/s over the
// last second or more of the dashboard's own samples; times in ms since the
// epoch, durations in s):
//   {"job": "<script>", "state": "starting"|"running"|"finished",
//    "uptime_s", "now_ms", "batch_interval_ms",
//    "totals": {"records_in" (read by sources), "records_out" (delivered to
//               sinks), "in_rate", "out_rate"},
//    "stages": [{"id", "name" ("file -> map"), "operators": [...], "parallelism",
//                "source", "sink", "records_in", "records_out", "sink_records",
//                "in_rate", "out_rate", "sink_rate", "backpressure" (share of the last
//                interval without credit, 0..1, mean of the instances),
//                "queue_depth", "queue_capacity", "watermark_ms" (null
//                without event time), "watermark_lag_s", "malformed_records",
//                "late_records", "done_instances",
//                "progress": {"done", "total", "ratio"} or null,
//                "instances": [{"instance", "records_in", "records_out",
//                               "in_rate", "out_rate", "backpressure",
//                               "queue_depth", "done"}]}],
//    "edges": [{"from", "to", "kind" ("forward"|"hash"|"hash_record"|"gather"),
//               "channels"}],
//    "checkpoints": {"enabled", "completed", "failed", "aborted", "last_id",
//                    "last_duration_s", "last_bytes", "last_completed_ms",
//                    "restored_id"}}
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "weir/actors/graph.hpp"
#include "weir/cli/metrics_server.hpp"

namespace weir::cli {

/// What the dashboard knows of the job before it runs: its plan.
struct job_plan_view {
  struct stage {
    std::string name;  ///< the chain, "file -> parse_log"
    int parallelism = 1;
    bool source = false, sink = false;
  };
  struct edge {
    int from = 0, to = 0;  ///< stage ids (indexes in `stages`)
    std::string kind;      ///< "forward", "hash", "hash_record", "gather"
    int channels = 1;
  };
  std::string job;  ///< the script's name
  std::int64_t batch_interval_ms = 1000;
  std::vector<stage> stages;  ///< in the order the tasks' metrics list them
  std::vector<edge> edges;
};

/// The view of a physical plan (streaming_context::physical_plan()).
job_plan_view plan_view_of(const plan::physical_graph& p, std::string job, std::int64_t batch_interval_ms);

/// Renders /api/job from metrics snapshots, keeping the recent ones to
/// compute rates. @thread render_json may be called from several threads.
class dashboard {
public:
  explicit dashboard(job_plan_view plan);
  ~dashboard();
  dashboard(const dashboard&) = delete;
  dashboard& operator=(const dashboard&) = delete;

  /// The JSON of /api/job for `snap`, taken at steady time `t_s` (seconds,
  /// any origin: only differences count).
  std::string render_json(const metrics_snapshot& snap, double t_s);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The page at /: the embedded HTML with `initial_json` (an /api/job answer)
/// inlined, so that the first view needs no request.
std::string render_page(const std::string& initial_json);

}  // namespace weir::cli
