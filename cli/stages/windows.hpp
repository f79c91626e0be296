// weir — DSL processing-time windows over micro-batches (Spark DStream
// windows, docs/architecture.md §4): window, count_by_window,
// reduce_by_window, reduce_by_key_and_window, group_by_key_and_window,
// count_by_value_and_window. Window and slide obey the window rule
// (operators/window_rule.hpp), reported at the argument.
#pragma once

#include <chrono>
#include <optional>
#include <span>

#include "weir/cli/stage_registry.hpp"

namespace weir::dsl {

struct window_stage final : bound_stage {
  std::chrono::milliseconds window{0}, slide{0};  ///< slide 0 = the input stream's slide
  source_location window_loc, slide_loc;
  reducer reduce;                  ///< reduce_by_window, reduce_by_key_and_window
  std::optional<reducer> inverse;  ///< reduce_by_window, reduce_by_key_and_window
  element_function filter;         ///< reduce_by_key_and_window: `filter = pred` on (k, v)
  bool has_filter = false;
};

std::span<const stage_def> window_stages();

}  // namespace weir::dsl
