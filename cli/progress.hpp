// weir — the live one-line status of `weir run` on a terminal (stderr),
// redrawn about twice a second and erased at the end:
//
//   weir: 4.5 s | in 20.0k rec/s (90,012) | out 19.8k rec/s (89,500 to sinks) | backpressure 0% | checkpoint 7, 2.1 s ago
//
// in = records read by the sources, out = records delivered to the sinks,
// rates over the last interval; backpressure = share of the last interval
// the source tasks spent without credit; the last completed checkpoint and
// how long ago it completed, with failed/aborted counts when there are any
// ("checkpoints: off" without --checkpoint, "checkpoints: none yet").
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "weir/actors/runtime.hpp"

namespace weir::cli {

/// Totals a status line is computed from.
struct progress_totals {
  std::uint64_t in = 0;         ///< records read by source tasks
  std::uint64_t out = 0;        ///< records delivered to sinks
  double source_bp_s = 0;       ///< Σ backpressured seconds of source tasks
  int sources = 0;              ///< source tasks
  bool checkpointing = false;   ///< the run takes checkpoints
  checkpoint_stats checkpoints{}; ///< its counters
  std::int64_t now_ms = 0;      ///< wall clock when polled, Unix ms
};

progress_totals totals_of(const std::vector<task_metrics>& tasks);

/// The status line for the interval between `prev` and `cur` (dt seconds),
/// `elapsed_s` since the start.
std::string format_progress(const progress_totals& prev, const progress_totals& cur, double dt,
                            double elapsed_s);

/// Draws the status line with weir::set_status_line() from its own thread
/// every `interval` until destroyed; the destructor erases the line.
class progress_display {
public:
  /// `poll_checkpoints`: the run's checkpoint counters; empty = no checkpoints.
  progress_display(std::function<std::vector<task_metrics>()> poll,
                   std::function<checkpoint_stats()> poll_checkpoints = {},
                   std::chrono::milliseconds interval = std::chrono::milliseconds(500));
  ~progress_display();
  progress_display(const progress_display&) = delete;
  progress_display& operator=(const progress_display&) = delete;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace weir::cli
