// weir — the CAF actor that runs a task (actors/task.hpp): the one place
// with the task's message handlers. Included by job.cpp only.
#pragma once

#include <cstdint>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include "weir/actors/caf_protocol.hpp"
#include "weir/actors/task.hpp"

namespace weir::actors {

/// Where a task's messages go, filled by the job before it sends `init`.
struct task_links {
  /// [edge][channel]: the receiving actor and its input channel index.
  std::vector<std::vector<std::pair<caf::actor, std::int32_t>>> out;
  /// [input channel]: the sending actor, its out edge and channel index.
  std::vector<std::tuple<caf::actor, std::int32_t, std::int32_t>> in;
  caf::actor job;          ///< gets done / fail
  caf::actor coordinator;  ///< gets ack / abort / final; none without checkpoints
};

/// A task and its links, shared by the job (building, final commit) and its actor.
struct task_cell {
  template <class... Args>
  explicit task_cell(Args&&... args) : logic(std::forward<Args>(args)...) {}
  task logic;
  task_links links;
};
using task_ptr = std::shared_ptr<task_cell>;

}  // namespace weir::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(weir::actors::task_ptr)

namespace weir::actors {

/// Spawns the actor of `cell`. It handles nothing until `init` (the job
/// wires the links first), and sources read only after `start`.
caf::actor spawn_task(caf::actor_system& sys, task_ptr cell);

}  // namespace weir::actors
