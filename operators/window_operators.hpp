// weir — processing-time windows over micro-batches (Spark DStream windows).
//
// Common rules (Spark, docs/architecture.md §4): a windowed stream emits at every batch
// time t > 0 that is a multiple of its slide, over the batches with time in
// (t - window, t]; the first outputs are partial windows. window and slide
// are multiples of the batch interval and of the input stream's slide
// (window_rule.hpp: check_window; open() re-checks). After
// end of stream an operator keeps emitting (drain_horizon) until no window
// holds the last data, unless the run ends on a logical clock. The inverse
// forms (and count_by_window) stop there too: no trailing [0] / (k, 0)
// windows once every batch with data has left.
//
// Deliberate differences from Spark, each tested: a key that exists only in
// batches leaving the window (possible after `filter` removed it) is skipped
// where Spark throws "Neither previous window has value for key"; with a
// window shorter than the slide, the inverse form starts a new key from the
// batches inside the window only.
#pragma once

#include <chrono>
#include <optional>

#include "weir/operators/basic_operators.hpp"
#include "weir/operators/reducer.hpp"
#include "weir/operators/stream_operator.hpp"
#include "weir/operators/window_rule.hpp"

namespace weir {

/// [chained] Spark `window(w, s)`: the records of the batches in the window.
operator_ptr make_window(std::chrono::milliseconds window, std::chrono::milliseconds slide);

/// [global] Spark `countByWindow(w, s)` = map(_ => 1).reduceByWindow(_ + _, _ - _, w, s):
/// [] until the first element has been seen, then [count] (also [0]) forever after.
operator_ptr make_count_by_window(std::chrono::milliseconds window, std::chrono::milliseconds slide);

/// [global] Spark `reduceByWindow(f, w, s)`: [f over the window] or [] for an
/// empty window. With an inverse (Spark `reduceByWindow(f, inv, w, s)`, i.e.
/// reduceByKeyAndWindow on a single key): the previous result minus the
/// batches that left plus those that entered; [] until the first element, then
/// always one value (e.g. [0]).
operator_ptr make_reduce_by_window(reducer r, std::chrono::milliseconds window,
                                   std::chrono::milliseconds slide,
                                   std::optional<reducer> inverse = std::nullopt);

/// [keyed] Spark `reduceByKeyAndWindow(func, [invFunc,] w, s [, filterFunc])`.
/// Without an inverse: (key, reduction) per key present in the window; a key
/// absent from the window is absent from the output. With an inverse: starts
/// from the previous window's result, applies the inverse for the batches that
/// left and the function for those that entered; without `filter` a key whose
/// value falls to the zero stays in the output; `filter(pair)` false drops it
/// from the state and the output. @source Spark `ReducedWindowedDStream`.
/// @errors record_error for a record that is not a pair.
operator_ptr make_reduce_by_key_and_window(reducer r, std::chrono::milliseconds window,
                                           std::chrono::milliseconds slide,
                                           std::optional<reducer> inverse = std::nullopt,
                                           filter_fn filter = {});

/// [keyed] Spark `groupByKeyAndWindow(w, s)`: (k, [v, ...]) over the window,
/// values in batch order then arrival order.
operator_ptr make_group_by_key_and_window(std::chrono::milliseconds window,
                                          std::chrono::milliseconds slide);

/// [by record] Spark `countByValueAndWindow(w, s)` = map((_, 1)).reduceByKeyAndWindow(
/// _ + _, _ - _, w, s, filter = count != 0): (record, count) with zero counts filtered out.
operator_ptr make_count_by_value_and_window(std::chrono::milliseconds window,
                                            std::chrono::milliseconds slide);

}  // namespace weir
