// weir — internal: the whole-batch totals shared by the per-batch
// aggregations (batch_aggregates.cpp: count, reduce) and the map-side
// combine (combine_operators.cpp: its partial count and reduce, and the
// merge of partial counts). One class each; the callers differ only in the
// checkpoint state tag and, for counts, in what is counted and whether an
// empty batch emits 0. Not public API.
#pragma once

#include "weir/operators/reducer.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir::detail {

/// What a batch count adds up.
enum class count_input {
  records,         ///< one per record (count, the combine's partial count)
  partial_counts,  ///< the int records themselves (merging partial counts); another record is a record_error
};

/// [n] at the end of each batch: the count of its records (or the sum of
/// its partial counts); nothing for n == 0 when `emit_zero` is false.
/// State: the count of the current batch so far, under `tag` (a string
/// literal: it names the state in checkpoints and must not change).
operator_ptr make_batch_count(const char* tag, count_input in, bool emit_zero);

/// [r(v1, ..., vn)] at the end of each batch with records; nothing for an
/// empty batch. State: the accumulator, under `tag` (a string literal).
operator_ptr make_batch_reduce(reducer r, const char* tag);

}  // namespace weir::detail
