// weir — map, flat_map and filter with a bad-record policy (docs/architecture.md §9): a
// record for which the function throws record_error (an expression error:
// wrong type, missing field, overflow, ...) is handled by `on_error = fail |
// skip | dead_letter(path)` instead of always stopping the pipeline.
#pragma once

#include "weir/operators/basic_operators.hpp"
#include "weir/operators/error_policy.hpp"

namespace weir::io {

/// Like make_map / make_flat_map / make_filter (stateless, chained), but a
/// record_error thrown for a record goes to `policy`: the bad record's raw
/// text is the record as JSON, the reason the error message, the provenance
/// the source's (e.g. "input.txt:12") when the operator directly follows a
/// source, else "record N" (1-based count of records this instance has seen).
/// With `fail` the error message is "<provenance>: <reason>". A flat_map that
/// fails for a record emits none of that record's outputs.
operator_ptr make_guarded_map(map_fn f, error_policy policy);
operator_ptr make_guarded_flat_map(flat_map_fn f, error_policy policy);
operator_ptr make_guarded_filter(filter_fn f, error_policy policy);

}  // namespace weir::io
