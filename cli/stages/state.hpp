// weir — DSL state across batches (Spark `updateStateByKey`, `mapWithState`,
// docs/architecture.md §4): update_state_by_key, map_with_state,
// state_snapshots.
#pragma once

#include <chrono>
#include <span>
#include <string>

#include "weir/cli/stage_registry.hpp"

namespace weir::dsl {

/// update_state_by_key((values, state) => expr, initial = path), or with
/// (time, key, values, state) => expr.
struct update_state_stage final : bound_stage {
  state_update_function update;
  std::string initial_path;  ///< initial state file ("" = none), read when built
  source_location initial_loc;
};

/// map_with_state((key, value, state) => expr, timeout = D, initial = path).
struct map_with_state_stage final : bound_stage {
  map_with_state_fn fn;
  std::chrono::milliseconds timeout{0};  ///< 0 = none
  std::string initial_path;              ///< initial state file ("" = none), read when built
  source_location initial_loc;
};

std::span<const stage_def> state_stages();

}  // namespace weir::dsl
