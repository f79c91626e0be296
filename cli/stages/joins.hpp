// weir — DSL operators on two streams (Spark `join`, `leftOuterJoin`,
// `rightOuterJoin`, `fullOuterJoin`, `cogroup`): the joins take a `let`
// stream or a static table("file.jsonl") of [key, value] pairs; cogroup a
// stream. (union, which takes any number of streams, is in per_batch.hpp.)
#pragma once

#include <span>

#include "weir/cli/stage_registry.hpp"

namespace weir::dsl {

struct join_stage final : bound_stage {
  stream_or_table other;
};

std::span<const stage_def> join_stages();

}  // namespace weir::dsl
