// weir — the source driver of a source task: reads the source a batch of
// records at a time (one read per tick, re-scheduled while there is more),
// fires the batch ends of the batch clock (Spark: batch k ends at (k+1)·B
// from the common start, or where a logical-clock source ends it), pauses
// without credit, ends the stream, and places the checkpoint barrier the
// coordinator triggered after the agreed batch end. CAF-free: it drives the
// task it belongs to.
#pragma once

#include <chrono>
#include <cstdint>

#include "weir/actors/protocol.hpp"
#include "weir/io/source.hpp"

namespace weir::actors {

class task;

/// The source side of one task (inactive in tasks without a source).
/// @thread Single-threaded (the task's).
class source_driver {
public:
  void set_source(io::source_ptr s) { source_ = std::move(s); }
  io::source_reader* source() const noexcept { return source_.get(); }
  explicit operator bool() const noexcept { return source_ != nullptr; }

  /// Time 0 of the batch clock (earlier than the start when resumed).
  void set_clock_origin(steady::time_point t) noexcept { origin_ = t; }
  steady::time_point clock_origin() const noexcept { return origin_; }
  /// The next batch end to fire, ms (restored from a checkpoint).
  std::int64_t next_mark() const noexcept { return next_mark_; }
  void set_next_mark(std::int64_t t) noexcept { next_mark_ = t; }

  /// Starts reading: the first tick.
  void start(task& t) { schedule(t); }
  /// One tick: fires the batch ends that are due, reads once, schedules the
  /// next tick (at once, after the source's retry delay, or at the next batch end).
  void step(task& t);
  /// A graceful stop: the stream ends at the next tick.
  void stop(task& t);
  /// Credit returned after a pause: reading resumes.
  void resume(task& t);

  /// Checkpoint `id` triggered: its barrier follows the batch end at `at`
  /// ms (0 = the next one). Returns false when the source is already past
  /// `at` (the checkpoint must be aborted).
  bool trigger(std::int64_t last_mark, std::uint64_t id, std::int64_t at);
  /// The checkpoint whose barrier follows the batch end at `t` (0 = none);
  /// clears it. `at_output_slide`: t is a batch end of the stage's output.
  std::uint64_t barrier_after(std::int64_t t, bool at_output_slide);
  /// Checkpoint `id` (and older) was aborted: no barrier for it.
  void cancel(std::uint64_t id) noexcept {
    if (cp_pending_ != 0 && cp_pending_ <= id) cp_pending_ = 0;
  }
  /// Closes the source (errors ignored when `quiet`).
  void close(bool quiet);

  /// Time spent waiting for credit so far, s.
  double backpressure_s() const noexcept { return backpressure_s_; }

private:
  void schedule(task& t);
  void end(task& t);
  std::int64_t elapsed_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - origin_).count();
  }

  io::source_ptr source_;
  steady::time_point origin_{};
  std::int64_t next_mark_ = 0;
  bool scheduled_ = false;       ///< a tick is pending
  bool waiting_credit_ = false;  ///< paused for credit
  bool stop_requested_ = false;
  bool read_any_ = false;        ///< the source returned a record in this run
  steady::time_point blocked_since_{};
  double backpressure_s_ = 0;
  std::uint64_t cp_pending_ = 0;  ///< checkpoint to inject after the batch end at cp_at_
  std::int64_t cp_at_ = 0;        ///< batch time the barrier follows (0 = the next one)
};

}  // namespace weir::actors
