// weir — the actor runtime: runs a physical plan on CAF actors (this header
// is CAF-free; only actors/*.cpp include CAF).
//
// One actor per stage instance. Actors exchange wire batches of up to
// `batch_size` records (never one message per record) and in-band control
// signals (batch end = Spark batch boundary, end of stream) in order. Every
// edge is credit-based (Flink's network stack, docs/architecture.md §3): a receiver grants
// `edge_capacity` credits per input channel and returns one per batch it has
// consumed; a sender without credit holds its output and stops consuming its
// input; a source without credit stops reading. Memory is therefore bounded by
// Σ(edge capacity × batch bytes) + state, whatever the input rate.
//
// Micro-batch mode (Spark semantics, docs/architecture.md §4): sources stamp batch k with
// time (k+1)·B from the common start; multi-input stages align on batch ends.
//
// The option and result types are in api/options.hpp. The runtime's parts
// (gates, barrier aligner, task, task actor, checkpoint coordinator) are
// actors/*.hpp, internal; docs/architecture.md §1 "Runtime internals" maps them.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "weir/actors/graph.hpp"
#include "weir/api/options.hpp"

namespace weir {

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

  /// Opens sources and operators, spawns the actors and starts the sources;
  /// with checkpoint.dir, starts the checkpoint coordinator's thread, which
  /// triggers checkpoints every checkpoint.interval from now on, whether or
  /// not a thread is in wait().
  /// With checkpoint.dir holding a valid checkpoint, restores every task
  /// from the newest valid one first (a corrupt newer one is skipped with a
  /// warning on the log).
  /// @errors pipeline_error when a source cannot open (e.g. missing file);
  ///         when checkpoint.dir is not empty but holds no valid checkpoint
  ///         (unless checkpoint.fresh); when the checkpoint was taken with
  ///         another plan (stages or parallelism changed) or is corrupt.
  void start();
  /// Blocks until every actor finished (bounded sources) or one failed; then
  /// stops the checkpoint coordinator and, when every task finished, writes
  /// the final checkpoint and commits the sinks' last epoch.
  /// @errors pipeline_error "<stage>: <reason>" on failure; the other actors are stopped.
  run_stats wait();
  /// graceful: asks the sources to end their streams; everything in flight
  /// drains. Not graceful: kills every actor at once (records in flight are
  /// dropped, sinks do not flush); wait() then returns without an error.
  void stop(bool graceful = true);

  const plan::physical_graph& physical() const noexcept;

  /// The live metrics of every task, in stage order; empty before start().
  /// @thread Safe from any thread while the job runs or after it ended.
  std::vector<task_metrics> metrics() const;

  /// Checkpoint counters so far. @thread Safe from any thread.
  checkpoint_stats checkpoints() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace actors
}  // namespace weir
