// weir — runs a job's checkpoint_coordinator on its own thread: a detached
// CAF blocking actor that receives the tasks' acks, declines and final
// states, polls the coordinator for its trigger and timeout deadlines, and
// sends its triggers, aborts and completions to the tasks. Checkpoints are
// thus taken whether or not a thread sits in job::wait(). Included by
// job.cpp only.
#pragma once

#include <vector>

#include "weir/actors/caf_protocol.hpp"
#include "weir/actors/checkpoint_coordinator.hpp"

namespace weir::actors {

/// The coordinator's thread and its CAF handle.
/// @thread start/stop from the job's thread.
class coordinator_thread final : public coordinator_transport {
public:
  /// Spawns the actor (idle until start()).
  explicit coordinator_thread(caf::actor_system& sys);
  ~coordinator_thread() override;  ///< stop()
  coordinator_thread(const coordinator_thread&) = delete;
  coordinator_thread& operator=(const coordinator_thread&) = delete;

  /// What the tasks send their acks, declines and final states to.
  const caf::actor& handle() const noexcept { return actor_; }
  /// Starts `co`'s interval on the thread; `tasks` in the coordinator's
  /// task order, `sources` the source tasks. `co` must outlive stop().
  void start(checkpoint_coordinator& co, std::vector<caf::actor> tasks, std::vector<caf::actor> sources);
  /// No more triggers; returns at once (the job failed).
  void halt();
  /// Ends the thread and waits for it (a write in progress completes first).
  void stop();

  // coordinator_transport (on the coordinator's thread)
  void trigger(std::uint64_t id, std::int64_t at) override;
  void abort(std::uint64_t id, abort_reason why) override;
  void complete(std::uint64_t id) override;
  void recycle(std::size_t task, snapshot_ptr buffers) override;

private:
  void run(caf::blocking_actor* self);

  caf::actor_system& sys_;
  checkpoint_coordinator* co_ = nullptr;  ///< set before start's message
  caf::actor actor_;
  caf::blocking_actor* self_ = nullptr;  ///< set on the coordinator's thread
  std::vector<caf::actor> tasks_, sources_;  ///< fixed before start's message
  bool stopped_ = false;
};

}  // namespace weir::actors
