// weir — the DSL's event-time aggregation (Flink windows with
// `EventTimeTrigger`, docs/architecture.md §5): aggregate(window, func, ...)
// or aggregate(window, aggs = {name: agg, ...}, ...)
// over tumbling, sliding or session windows of event time, with its own
// `time =` and watermark or those of its input stream.
#pragma once

#include <chrono>
#include <span>

#include "weir/cli/stage_registry.hpp"
#include "weir/operators/event_time.hpp"

namespace weir::dsl {

struct aggregate_stage final : bound_stage {
  window_spec window;
  aggregation agg;
  std::vector<named_aggregation> aggs;  ///< aggs = {...}; empty: `agg`
  element_function key_fn, value_fn;
  bool has_key = false, has_value = false;
  event_time_spec event_time;  ///< aggregate(time = ..., watermark = ..., idle_timeout = ...)
  std::chrono::milliseconds allowed_lateness{0};
  side_output late;            ///< late = write_jsonl(path); empty path = drop
  output_mode output = output_mode::append;
};

std::span<const stage_def> aggregate_stages();

}  // namespace weir::dsl
