// weir — map-side combine: partial aggregation before the exchange
// (docs/architecture.md §4, "Map-side combine"). Spark's `reduceByKey` and
// `combineByKey` combine map-side by default (`mapSideCombine = true`);
// Flink's local-global aggregation is the same idea. The API
// (api/dstream.cpp) chains one of these operators into every upstream
// instance of a per-batch aggregation — reduce_by_key, count_by_value,
// combine_by_key, reduce_by_key_and_window, count, reduce, count_by_window,
// reduce_by_window — and the aggregation after the exchange merges the
// partials (with merge_reducer for reducers).
//
// Per batch, each instance folds its records into a table of at most
// `max_keys` keys (open addressing, xxh3) and emits one partial per key at the
// batch end. A record whose key is not in the table once the table is full
// passes through as a partial of its own, converted as the fold would convert
// it (init(v), create(v), or 1 for a count); the table is never flushed in
// the middle of a batch. So each key's values are folded in record order
// within an instance, and a batch reaches the merge as one partial per key
// per instance or as single-record partials: at parallelism 1 the merged
// result is the uncombined one bit for bit, double sums included; at higher
// parallelism the order across instances is the arrival order, as without
// the combine.
//
// Memory: the table of the current batch (max_keys entries); nothing outlives
// the batch. Thread-safety: one instance per task, as every operator.
#pragma once

#include <cstddef>

#include "weir/operators/basic_operators.hpp"
#include "weir/operators/reducer.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir {

/// Keys a combine table holds per batch and instance before records pass through uncombined.
inline constexpr std::size_t default_combine_keys = 65536;

/// The reducer that merges partials of `r` after the exchange: `r` itself,
/// except `count`, whose partials are counts and add up (`sum`).
reducer merge_reducer(const reducer& r);

/// [chained] (k, v) pairs → per batch (k, r-fold of init(v)) per key.
/// Merge with reduce_by_key(merge_reducer(r)) (or the windowed form).
/// @errors record_error "`op` expects (key, value) pairs, got …" for a record that is not a pair;
///         what r.apply throws (e.g. sum of strings).
operator_ptr make_combine_by_key_reducer(reducer r, const char* op, std::size_t max_keys = default_combine_keys);

/// [chained] records → per batch (record, count) per distinct record.
/// Merge with reduce_by_key(sum) (Spark's countByValue is map((_, 1)).reduceByKey(_ + _)).
operator_ptr make_combine_count_by_value(std::size_t max_keys = default_combine_keys);

/// [chained] (k, v) pairs → per batch (k, combiner): create(v) for a key's
/// first value, merge_value(c, v) after (Spark `combineByKey`'s map side).
/// Merge with reduce_by_key(reducer::custom(merge_combiners)).
/// @errors record_error for a record that is not a pair; what create or merge_value throw.
operator_ptr make_combine_combiners(map_fn create, binary_fn merge_value,
                                    std::size_t max_keys = default_combine_keys);

/// [chained] per batch, [n]: the number of records, when n > 0. Merge with make_merge_counts.
operator_ptr make_combine_count();

/// [chained] per batch, [r-fold of init(v)] over the records, when any came.
/// Merge with reduce(merge_reducer(r)) or reduce_by_window(merge_reducer(r), ...).
operator_ptr make_combine_reduce(reducer r);

/// [global] Spark `count` over the partial counts of make_combine_count: at
/// each batch end [sum of the partials], [0] for a batch without any.
/// @errors record_error for a partial that is not an int.
operator_ptr make_merge_counts();

}  // namespace weir
