// weir — a task's live counters as other threads see them (job::metrics(),
// the metrics endpoint, the progress line): relaxed atomics written by the
// task, read anywhere. CAF-free.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "weir/operators/stream_operator.hpp"

namespace weir::actors {

inline constexpr auto relaxed = std::memory_order_relaxed;
inline void add(std::atomic<std::uint64_t>& a, std::uint64_t n) { a.fetch_add(n, relaxed); }

/// The counters of one task (see task_metrics for their meaning).
struct live_metrics {
  std::atomic<std::uint64_t> records_in{0}, records_out{0}, sink_records{0}, batches_in{0};
  std::atomic<std::int64_t> backpressured_ns{0};
  std::atomic<std::int64_t> snapshot_ns{0};  ///< time spent taking snapshots
  std::atomic<std::uint64_t> queue_depth{0};
  std::atomic<std::uint64_t> malformed{0}, late{0};
  std::atomic<std::int64_t> watermark{no_watermark};
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> input_done{0}, input_total{0};  ///< a source's io::input_progress
  // fixed at start
  std::string stage;
  int instance = 0, parallelism = 1;
  bool source = false, sink = false;
  std::uint64_t queue_capacity = 0;
};

}  // namespace weir::actors
