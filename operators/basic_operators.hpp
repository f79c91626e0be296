// weir — the per-record and per-batch operators of Spark's DStream API
// (docs/architecture.md §4): each batch is processed on its own; the
// aggregations emit at the batch end, also for an empty batch where Spark
// does (`count` emits [0]). Implemented by family: stateless_operators.cpp
// (map, flat_map, filter, map_values, flat_map_values, union),
// batch_aggregates.cpp (count, reduce, count_by_value, distinct),
// keyed_batch_operators.cpp (reduce_by_key, group_by_key, combine_by_key),
// batch_collect_operators.cpp (glom, sort_by, top), sample_operator.cpp.
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
/// f(a, b) -> c
using binary_fn = std::function<value(const value&, const value&)>;

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

// --- Spark DStream per-batch operations -----------------------------
// Routing, as the API declares it: [chained] runs where its input runs;
// [keyed] pairs routed by hash of the key; [by record] routed by hash of the
// whole record; [global] one instance sees the whole stream; [2 inputs] two
// keyed inputs (process_input 0 and 1). Outputs within a batch are in no
// particular order unless stated.

/// [chained] Spark `mapValues`: (k, v) -> (k, f(v)).
operator_ptr make_map_values(map_fn f);
/// [chained] Spark `flatMapValues`: (k, v) -> (k, x) for each x that f(v, out) appends.
operator_ptr make_flat_map_values(flat_map_fn f);
/// [chained] Spark `glom`: at each batch end, one array of the records this
/// instance (partition) saw in the batch, in arrival order; [] if none.
operator_ptr make_glom();
/// [by record] Spark `transform(_.distinct())`: each distinct record once per batch.
operator_ptr make_distinct();
/// [chained] Spark `sample(withReplacement = false, fraction, seed)`: keeps
/// each record with probability `fraction` (0..1), decided by a PRNG seeded
/// with `seed`, the batch time and the record's position in the batch: a
/// run is reproducible for a seed.
operator_ptr make_sample(double fraction, std::uint64_t seed);
/// [2+ inputs, chained] Spark `union`: every record of every input. In
/// micro-batch mode a batch is Spark's UnionRDD, the first input's records
/// then the second's, ... (records of inputs after the first are held until
/// the batch end or the next watermark); in record mode, arrival order.
operator_ptr make_union();
/// [by record] Spark `countByValue`: (record, count) per distinct record of the batch.
operator_ptr make_count_by_value();
/// [global] Spark `reduce`: [f over the batch's records], or [] for an empty batch.
operator_ptr make_reduce(reducer r);
/// [keyed] Spark `groupByKey`: (k, [v, ...]) per key of the batch, values in arrival order.
operator_ptr make_group_by_key();
/// [keyed] Spark `combineByKey(createCombiner, mergeValue, mergeCombiners)`:
/// per key of the batch, (k, combiner).
operator_ptr make_combine_by_key(map_fn create, binary_fn merge_value, binary_fn merge_combiners);
/// [global] Spark `transform(_.sortBy(f, ascending))`: the batch sorted by
/// key(record) (value order); ties keep arrival order.
operator_ptr make_sort_by(map_fn key, bool ascending);

/// Checks that a record is a pair; returns its (key, value).
/// @errors record_error naming `op` and the record's kind.
std::pair<const value*, const value*> as_pair(const value& rec, const char* op);

}  // namespace weir
