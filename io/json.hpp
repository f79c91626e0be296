// weir — JSON text to weir::value (simdjson).
#pragma once

#include <string>
#include <string_view>

#include "weir/operators/stream_operator.hpp"

namespace weir::io {

/// Parses one JSON document. Integers that fit int64 become int, other
/// numbers double; objects keep their field order.
/// @errors record_error "<simdjson's reason>" for malformed text.
/// @thread Safe from any thread (a parser per thread).
value parse_json(std::string_view text);

/// Reads a JSON-lines file: one value per non-empty line.
/// @errors pipeline_error "<path>:<line>: <reason>" for a malformed line, or
///         when the file cannot be read.
records read_jsonl(const std::string& path);

}  // namespace weir::io
