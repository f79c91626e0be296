// weir — the actor runtime: runs a physical plan on CAF actors (this header
// is CAF-free; only actors/*.cpp include CAF).
//
// One actor per stage instance. Actors exchange wire batches of up to
// `batch_size` records (never one message per record) and in-band control
// signals (batch end = Spark batch boundary, end of stream) in order. Every
// edge is credit-based (Flink's network stack, DESIGN §3): a receiver grants
// `edge_capacity` credits per input channel and returns one per batch it has
// consumed; a sender without credit holds its output and stops consuming its
// input; a source without credit stops reading. Memory is therefore bounded by
// Σ(edge capacity × batch bytes) + state, whatever the input rate.
//
// Micro-batch mode (Spark semantics, DESIGN §4): sources stamp batch k with
// time (k+1)·B from the common start; multi-input stages align on batch ends.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "weir/actors/graph.hpp"

namespace weir {

/// DESIGN §2: micro-batch (Spark: the records of a batch interval travel
/// together; wire batches flush when full or at the batch end) or
/// record-at-a-time (each record flows on arrival; a wire batch flushes when
/// full or after the linger bound, like Kafka's linger.ms).
enum class execution_mode { micro_batch, record };

/// Configuration of a run. Durations in ms.
struct context_options {
  execution_mode mode = execution_mode::micro_batch;
  std::chrono::milliseconds linger{1};  ///< record mode: max wait before a partly filled wire batch is sent; 0 = at once
  std::chrono::milliseconds batch_interval{1000};  ///< Spark's batch interval B (> 0)
  int parallelism = 0;            ///< instances of keyed operators; 0 = number of cores
  std::size_t batch_size = 1024;  ///< max records per wire batch between actors
  std::size_t edge_capacity = 8;  ///< credits (wire batches in flight) per channel
  int threads = 0;                ///< CAF scheduler threads; 0 = number of cores
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
};

/// Number of cores (std::thread::hardware_concurrency, at least 1).
int default_cores();

namespace actors {

/// A running pipeline.
/// @thread start/wait from one thread; stop() from any thread.
class job {
public:
  /// Plans the graph. @errors pipeline_error for an invalid graph or options.
  job(const plan::logical_graph& g, context_options opts);
  ~job();  ///< stops (kills) a running job and joins its actors
  job(const job&) = delete;
  job& operator=(const job&) = delete;

  /// Opens sources and operators, spawns the actors and starts the sources.
  /// @errors pipeline_error when a source cannot open (e.g. missing file).
  void start();
  /// Blocks until every actor finished (bounded sources) or one failed.
  /// @errors pipeline_error "<stage>: <reason>" on failure; the other actors are stopped.
  run_stats wait();
  /// Asks the sources to end their streams; everything in flight drains.
  void stop();

  const plan::physical_graph& physical() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace actors
}  // namespace weir
