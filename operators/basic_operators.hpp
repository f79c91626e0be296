// weir — per-batch operators: map, flat_map, filter, count, reduce_by_key, top.
// Spark Streaming DStream semantics (DESIGN §4): each batch is processed on
// its own; `count`, `reduce_by_key` and `top` emit at the batch end, also for
// an empty batch where Spark does (`count` emits [0]).
#pragma once

#include <cstddef>
#include <functional>

#include "weir/operators/reducer.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir {

/// f(record) -> record. @errors f may throw record_error.
using map_fn = std::function<value(const value&)>;
/// f(record, out): appends zero or more records to out.
using flat_map_fn = std::function<void(const value&, records& out)>;
/// f(record) -> keep?
using filter_fn = std::function<bool(const value&)>;

/// Stateless, chained into the actor before them.
operator_ptr make_map(map_fn f);
operator_ptr make_flat_map(flat_map_fn f);
operator_ptr make_filter(filter_fn f);

/// Spark `count`: at each batch end, one record: the number of records in the batch.
operator_ptr make_count();

/// Spark `reduceByKey`: records are pairs (key, value); at each batch end,
/// one pair (key, reduce of the batch's values) per key seen in the batch.
/// State: one accumulator per key of the current batch (open-addressing, xxh3).
/// @errors record_error "reduce_by_key expects (key, value) pairs, got …".
operator_ptr make_reduce_by_key(reducer r);

/// At each batch end, the n records with the largest by(record), descending;
/// ties broken by the smaller record first. Memory: O(n) per batch.
operator_ptr make_top(std::size_t n, map_fn by);

/// Checks that a record is a pair; returns its (key, value).
/// @errors record_error naming `op` and the record's kind.
std::pair<const value*, const value*> as_pair(const value& rec, const char* op);

}  // namespace weir
