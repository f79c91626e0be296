// weir — joins of two keyed streams, batch by batch (same batch time only).
#pragma once

#include "weir/operators/stream_operator.hpp"

namespace weir {

enum class join_kind { inner, left_outer, right_outer, full_outer };

/// [2 inputs, keyed] Spark `join` / `leftOuterJoin` / `rightOuterJoin` /
/// `fullOuterJoin` of the batches with the same time: input 0 has pairs
/// (k, v), input 1 pairs (k, w); at the batch end emits (k, (v, w)) for every
/// combination; a missing side is null (Spark's None).
/// @errors record_error for a record that is not a pair.
operator_ptr make_join(join_kind kind);

/// [2 inputs, keyed] Spark `cogroup`: (k, ([v, ...], [w, ...])) per key in either batch.
operator_ptr make_cogroup();

/// [keyed] Spark `transform(rdd => rdd.join(table))` with a static table of
/// (k, w) pairs: per batch, (k, (v, w)) as `make_join` with the table as
/// input 1 in every batch. For right/full outer joins, each instance emits
/// only the table keys routed to it (partition_of), so every key appears once.
operator_ptr make_table_join(records table, join_kind kind);

}  // namespace weir
