// weir — the checkpoint coordinator (docs/architecture.md §6; Flink's
// CheckpointCoordinator over the asynchronous barrier snapshots of Carbone
// et al. 2015): triggers checkpoint n on the source tasks every interval,
// collects each task's acknowledged snapshot (or its final state once it has
// finished), aborts a checkpoint a task declines or that is not complete
// within the timeout, writes a complete one through the store (retention and
// pruning are the store's), announces it complete, and hands the snapshot
// buffers back to the tasks. At most one checkpoint in flight.
//
// This class is the bookkeeping, CAF-free and clock-injected: it is told
// the time and the tasks' messages, and it acts through a
// coordinator_transport. actors/coordinator_thread.cpp runs it on its own
// thread for a job, independent of job::wait().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "weir/actors/live_metrics.hpp"
#include "weir/actors/protocol.hpp"
#include "weir/api/options.hpp"

namespace weir::checkpoint {
struct checkpoint_data;
}

namespace weir::actors {

/// How the coordinator reaches the tasks (CAF messages in a job).
class coordinator_transport {
public:
  virtual ~coordinator_transport() = default;
  /// Checkpoint `id`: every source task puts its barrier after the batch end at `at` ms.
  virtual void trigger(std::uint64_t id, std::int64_t at) = 0;
  /// Checkpoint `id` is aborted for `why`: every task drops its barriers.
  virtual void abort(std::uint64_t id, abort_reason why) = 0;
  /// Checkpoint `id` is written: every task commits (notify_checkpoint_complete).
  virtual void complete(std::uint64_t id) = 0;
  /// The operator buffers of task `task`'s last snapshot, for its next one.
  virtual void recycle(std::size_t task, snapshot_ptr buffers) = 0;
};

/// The clocks the coordinator reads (steady for intervals and timeouts,
/// wall for checkpoint timestamps).
class coordinator_clock {
public:
  virtual ~coordinator_clock() = default;
  virtual steady::time_point now() = 0;
  virtual std::int64_t wall_ms() = 0;
};
/// The real clocks.
coordinator_clock& system_coordinator_clock();

/// The checkpoint counters, shared by the job (restore, reads from any
/// thread) and the coordinator (its thread).
/// @thread Safe from any thread.
class checkpoint_counters {
public:
  checkpoint_stats get() const {
    std::lock_guard<std::mutex> lock(m_);
    return s_;
  }
  template <class F>
  void update(F&& f) {
    std::lock_guard<std::mutex> lock(m_);
    f(s_);
  }

private:
  mutable std::mutex m_;
  checkpoint_stats s_;
};

/// What the coordinator is set up with.
struct coordinator_setup {
  std::chrono::milliseconds interval{10000};  ///< between triggers (> 0)
  std::chrono::milliseconds timeout{60000};   ///< a checkpoint not complete by then is aborted
  std::int64_t batch_interval_ms = 1000;       ///< the batch clock's B
  steady::time_point clock_origin{};           ///< time 0 of the batch clock
  std::string plan;                            ///< checkpoint_data::plan
  std::uint64_t first_id = 1;                  ///< the store's next_id()
  /// Every task, in the job's order: (stage, instance) and whether it has a source.
  std::vector<std::pair<int, int>> tasks;
  std::vector<bool> sources;
  /// Every task's live counters (their snapshot time goes to snapshot_s).
  std::vector<std::shared_ptr<live_metrics>> live;
};

/// Writes a checkpoint; returns the bytes written.
/// @errors what checkpoint::store::write throws.
using checkpoint_writer = std::function<std::uint64_t(const checkpoint::checkpoint_data&)>;

/// The coordinator of one job.
/// @thread Single-threaded (the coordinator thread; the job's once that has stopped).
class checkpoint_coordinator {
public:
  checkpoint_coordinator(coordinator_setup setup, checkpoint_writer write, coordinator_transport& transport,
                         coordinator_clock& clock, checkpoint_counters& counters);

  /// Starts the interval: the first trigger is due one interval from now.
  void start();
  /// Acts on the time: aborts the checkpoint in flight once timed out;
  /// triggers the next one when due (unless one is in flight, every source
  /// finished, or halted). Returns when to poll next.
  steady::time_point poll();
  /// No more triggers (the job failed or is ending).
  void halt() noexcept { halted_ = true; }

  /// Task (stage, instance) acknowledged checkpoint `id` with `snap`.
  void on_ack(std::uint64_t id, snapshot_ptr snap);
  /// A task declined checkpoint `id` for `why`.
  void on_decline(std::uint64_t id, abort_reason why);
  /// A task finished with final state `snap` (stage, instance in it).
  void on_final(snapshot_ptr snap);

  /// The checkpoint in flight (0 = none).
  std::uint64_t in_flight() const noexcept { return in_flight_; }
  /// Why the last aborted checkpoint was aborted.
  abort_reason last_abort() const noexcept { return last_abort_; }

  /// The final checkpoint of a bounded run (every task finished), from the
  /// tasks' final states in task order. Returns false when the write failed.
  bool write_final(const std::vector<snapshot_ptr>& finals);
  /// Sums the tasks' snapshot time into the counters.
  void sum_snapshot_time();

private:
  void trigger();
  void abort_in_flight(abort_reason why);
  void maybe_complete();
  bool write(std::uint64_t id, std::int64_t wall_ms, bool final, const std::vector<snapshot_ptr>& parts,
             bool recycle);
  std::size_t index_of(const snapshot_ptr& snap) const;

  coordinator_setup setup_;
  checkpoint_writer write_;
  coordinator_transport& transport_;
  coordinator_clock& clock_;
  checkpoint_counters& counters_;
  bool halted_ = false;
  std::uint64_t next_id_ = 1;
  std::uint64_t in_flight_ = 0;
  steady::time_point in_flight_since_{}, next_trigger_{};
  std::int64_t in_flight_wall_ms_ = 0;
  std::vector<snapshot_ptr> acks_;    ///< by task index, for in_flight_
  std::vector<snapshot_ptr> finals_;  ///< by task index: final states of finished tasks
  abort_reason last_abort_ = abort_reason::timed_out;
};

}  // namespace weir::actors
