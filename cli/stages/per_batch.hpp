// weir — DSL operators applied to each micro-batch on its own (Spark DStream
// transformations, docs/architecture.md §4): map, flat_map, filter,
// map_values, flat_map_values, glom, distinct, sample, union, count,
// count_by_value, reduce, reduce_by_key, group_by_key, combine_by_key,
// sort_by, top.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "weir/cli/stage_registry.hpp"

namespace weir::dsl {

/// map, flat_map, filter, map_values, flat_map_values: one function of the element.
struct element_stage final : bound_stage {
  element_function fn;
};

/// sample(fraction, seed = 0).
struct sample_stage final : bound_stage {
  double fraction = 1.0;
  std::uint64_t seed = 0;
};

/// union(stream, ...): the other `let` streams.
struct union_stage final : bound_stage {
  std::vector<stream_arg> others;
};

/// reduce(func), reduce_by_key(func).
struct reduce_stage final : bound_stage {
  reducer reduce;
};

/// combine_by_key(create, merge_value, merge_combiners).
struct combine_stage final : bound_stage {
  element_function create;
  binary_fn merge_value, merge_combiners;
};

/// sort_by(key, ascending = true).
struct sort_stage final : bound_stage {
  element_function key;
  bool ascending = true;
};

/// top(n, by = expr); without `by` the records are compared as they are.
struct top_stage final : bound_stage {
  std::size_t n = 10;
  element_function by;
  bool has_by = false;
};

std::span<const stage_def> per_batch_stages();

}  // namespace weir::dsl
