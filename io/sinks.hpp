// weir — built-in sinks. A sink is a stream_operator that writes and emits nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "weir/operators/stream_operator.hpp"

namespace weir::io {

/// Spark's `DStream.print(num)` layout, per batch (also for empty batches):
///   -------------------------------------------
///   Time: 1000 ms
///   -------------------------------------------
///   <first n records, Spark toString layout (value::to_text)>
///   ...            (only if the batch has more than n records)
///   <empty line>
/// Writes to `out` (default std::cout). At-least-once.
operator_ptr make_print_sink(std::size_t n = 10, std::ostream* out = nullptr);

/// One JSON object per record: {"time": <batch time ms>, "record": <value>}\n.
/// The file is written as <path>.tmp and renamed to <path> at end of stream.
/// @errors pipeline_error when the file cannot be created or written.
operator_ptr make_jsonl_sink(std::string path);

/// One JSON line per batch, also for empty batches:
/// {"time": <batch time ms>, "records": [<value>, ...]}. Holds one batch's
/// JSON text in memory. Written as <path>.tmp, renamed at end of stream.
/// @errors pipeline_error when the file cannot be created or written.
operator_ptr make_collect_sink(std::string path);

/// Calls `fn(batch_time_ms, records)` once per batch (also for empty batches).
/// Spark `foreachRDD`.
operator_ptr make_batch_sink(std::function<void(std::int64_t, records&)> fn);

}  // namespace weir::io
