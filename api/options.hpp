// weir — the public option and result types of a run: how a pipeline runs
// (context_options, checkpoint_options, execution_mode) and what it reports
// (run_stats, checkpoint_stats, task_metrics). Header-only and free of the
// runtime, so that both the actor runtime (actors/) and the API (api/)
// include it without a dependency cycle.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

namespace weir {

/// docs/architecture.md §2: micro-batch (Spark: the records of a batch interval travel
/// together; wire batches flush when full or at the batch end) or
/// record-at-a-time (each record flows on arrival; a wire batch flushes when
/// full or after the linger bound, like Kafka's linger.ms).
enum class execution_mode { micro_batch, record };

/// Checkpoints (docs/architecture.md §6; Carbone et al. 2015's asynchronous barrier
/// snapshots; recovery is Spark's `StreamingContext.getOrCreate`).
struct checkpoint_options {
  std::string dir;                             ///< checkpoint directory; empty = no checkpoints
  std::chrono::milliseconds interval{10000};   ///< time between checkpoint triggers (> 0)
  std::chrono::milliseconds timeout{60000};    ///< a checkpoint not complete by then is aborted and counted
  int retain = 3;                              ///< complete checkpoints kept (>= 1)
  bool compress = false;                       ///< zstd for task state files
  /// Start from scratch even when `dir` holds checkpoints (otherwise a
  /// non-empty `dir` without a valid checkpoint is an error).
  bool fresh = false;
};

/// Configuration of a run. Durations in ms.
struct context_options {
  execution_mode mode = execution_mode::micro_batch;
  std::chrono::milliseconds linger{1};  ///< record mode: max wait before a partly filled wire batch is sent; 0 = at once
  std::chrono::milliseconds batch_interval{1000};  ///< Spark's batch interval B (> 0)
  int parallelism = 0;            ///< instances of keyed operators; 0 = number of cores
  std::size_t batch_size = 1024;  ///< max records per wire batch between actors
  std::size_t edge_capacity = 8;  ///< credits (wire batches in flight) per channel
  int threads = 0;                ///< CAF scheduler threads; 0 = number of cores
  checkpoint_options checkpoint{};  ///< barrier snapshots; off unless checkpoint.dir is set
  /// Per-batch aggregations combine map-side (docs/architecture.md §4): off
  /// only to compare against the uncombined path; the answers are the same.
  bool map_side_combine = true;
};

/// What checkpointing did so far (cumulative; all zero without checkpoints).
struct checkpoint_stats {
  std::uint64_t completed = 0;  ///< checkpoints whose manifest was written
  std::uint64_t failed = 0;     ///< writes that failed (disk full, I/O error)
  std::uint64_t aborted = 0;    ///< timed out, declined, or barriers not aligned on one batch
  std::uint64_t last_id = 0;    ///< id of the last completed checkpoint (0 = none)
  std::int64_t last_completed_ms = 0;  ///< wall clock (ms since the epoch) when it completed
  double last_duration_s = 0;   ///< trigger to manifest, s
  std::uint64_t last_bytes = 0; ///< bytes written for it
  std::uint64_t restored_id = 0;  ///< checkpoint the run resumed from (0 = started fresh)
  double restore_s = 0;           ///< time spent loading and restoring it, s
  /// Time the tasks spent taking their snapshots (the pipeline's only pause:
  /// the task threads serialize their state), summed over tasks and
  /// checkpoints, the final one included, s.
  double snapshot_s = 0;
  /// CPU time the coordinator's thread spent writing checkpoints (framing,
  /// checksums, write and fsync system calls; CLOCK_THREAD_CPUTIME_ID), s.
  double write_cpu_s = 0;
};

/// What a finished run did.
struct run_stats {
  std::uint64_t source_records = 0;  ///< records produced by all sources
  std::uint64_t sink_records = 0;    ///< records delivered to all sinks
  std::uint64_t batches = 0;         ///< batch ends processed by the sink stages
  double elapsed_s = 0;              ///< wall time of the run, s
  double source_backpressure_s = 0;  ///< time sources spent without credit, s
  std::uint64_t malformed_records = 0;  ///< skipped or dead-lettered (on_error policy)
  std::uint64_t late_records = 0;       ///< event-time records after their window closed
  /// End-to-end latency of the records reaching sinks, µs: from ingestion at
  /// the source (the read that produced the record, or the batch end / window
  /// firing that emitted it) to the sink's processing of it.
  std::uint64_t latency_samples = 0;
  double latency_p50_us = 0, latency_p99_us = 0, latency_p999_us = 0, latency_max_us = 0;
  checkpoint_stats checkpoints;  ///< with --checkpoint: what checkpointing did
};

/// A live view of one task (one parallel instance of a stage) for metrics and
/// progress. Counters are cumulative since start; updated by the task at
/// wire-batch granularity, read with relaxed atomics (values may be a few
/// batches behind each other).
struct task_metrics {
  std::string stage;            ///< the stage's chain, e.g. "file -> parse_log"
  int instance = 0;             ///< parallel instance index
  int parallelism = 1;          ///< instances of the stage
  bool source = false;          ///< the stage starts with a source
  bool sink = false;            ///< the stage ends with a sink
  std::uint64_t records_in = 0;   ///< records read (source) or received on its inputs
  std::uint64_t records_out = 0;  ///< records sent downstream
  std::uint64_t sink_records = 0; ///< records delivered to its sink
  std::uint64_t batches_in = 0;   ///< wire batches received (source: reads that returned records)
  double backpressured_s = 0;     ///< time spent without credit (holding output, not consuming), s
  std::uint64_t queue_depth = 0;  ///< wire batches and signals waiting in its input channels
  std::uint64_t queue_capacity = 0;  ///< credits of its input channels (channels × edge capacity)
  std::uint64_t malformed_records = 0;
  std::uint64_t late_records = 0;
  std::int64_t watermark = std::numeric_limits<std::int64_t>::min();  ///< last watermark sent downstream, ms (min = none)
  bool done = false;              ///< the task finished
  /// A source task's bounded input (io::source_reader::progress): units
  /// (bytes of a file) read of `input_total`; input_total 0 = unknown.
  std::uint64_t input_done = 0;
  std::uint64_t input_total = 0;
};

}  // namespace weir
