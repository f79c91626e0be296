// weir — the operator interface (CAF-free).
//
// An operator consumes the records of the current batch and control signals
// (batch end, end of stream) and appends its results to an output vector. It
// is driven by the actor runtime (`actors/`) or, in tests, by
// `operator_harness` — the shape of Flink's `OneInputStreamOperator` with
// Spark's micro-batch boundaries as the time signal.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "weir/operators/value.hpp"

namespace weir {

/// The records of (part of) one batch.
using records = std::vector<value>;

/// A record an operator, decoder or expression cannot process (wrong type,
/// missing field, malformed input). Thrown on the record path; the runtime
/// catches it at batch granularity and stops the pipeline with the message.
class record_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A pipeline that cannot be built or run (bad configuration, missing input
/// file, failed operator). `what()` is a one-line message for the user.
class pipeline_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// What an operator instance knows about where it runs.
struct operator_context {
  std::chrono::milliseconds batch_interval{1000};  ///< Spark's batch interval B
  /// Slide of the operator's input stream (Spark `slideDuration`): batch ends
  /// arrive only at its multiples. 0 = the batch interval.
  std::chrono::milliseconds slide{0};
  std::chrono::milliseconds input_slide() const { return slide.count() > 0 ? slide : batch_interval; }
  int instance = 0;                                ///< index of this parallel instance
  int parallelism = 1;                             ///< number of parallel instances
};

/// One operator of a chain. Lifecycle: open → (process* on_batch_end)* →
/// on_end_of_stream. Batch times are Spark's: batch k has time (k+1)·B ms
/// after the start.
/// @thread Called from one actor at a time; never concurrently.
class stream_operator {
public:
  virtual ~stream_operator() = default;

  /// Called once before any record.
  virtual void open(const operator_context&) {}

  /// Processes records of the current batch. `in` may be consumed (moved
  /// from); results are appended to `out`.
  /// @errors throws record_error for a record it cannot process.
  virtual void process(records& in, records& out) = 0;

  /// Records of input `input` (0-based) of a multi-input operator (join,
  /// cogroup, union). Single-input operators need not override it.
  virtual void process_input(int input, records& in, records& out) {
    (void)input;
    process(in, out);
  }

  /// Batch `time_ms` is complete on every input: emit what the batch (or
  /// window ending at it) produces.
  virtual void on_batch_end(std::int64_t /*time_ms*/, records& /*out*/) {}

  /// After end of stream, the runtime keeps ending logical batches (without
  /// waiting for the clock) up to the returned time, so that windows holding
  /// the last data are emitted. `last_ms` is the last batch time seen.
  virtual std::int64_t drain_horizon(std::int64_t last_ms) const { return last_ms; }

  /// All input processed and drained: flush (sinks write out buffered data).
  virtual void on_end_of_stream(records& /*out*/) {}

  /// True for operators without state between records (map, filter, …): the
  /// planner chains them into the actor before them.
  virtual bool stateless() const { return false; }
};

using operator_ptr = std::unique_ptr<stream_operator>;

}  // namespace weir
