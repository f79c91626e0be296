// weir — processing-time windows over micro-batches (Spark DStream windows).
#pragma once

#include <chrono>

#include "weir/operators/reducer.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir {

/// Validates a window against the batch interval (all in ms).
/// @errors pipeline_error "<op>: window 2500ms is not a multiple of the batch interval 1000ms"
///         (same for slide; both must be > 0).
/// @source Spark `DStream.window` requirements.
void check_window(const char* op, std::chrono::milliseconds window,
                  std::chrono::milliseconds slide, std::chrono::milliseconds batch_interval);

/// Spark `reduceByKeyAndWindow(func, windowDuration, slideDuration)` without
/// an inverse: at every batch time t > 0 that is a multiple of `slide`, emits
/// one pair (key, reduction) per key present in the batches with time in
/// (t - window, t]; the first outputs are partial windows (Spark does not wait
/// for a full window). State: one reduced table per batch still in the window.
/// After end of stream it keeps emitting (drain_horizon) until no window holds
/// the last data. Requires window, slide multiples of the batch interval
/// (checked in open(); see check_window).
/// @errors record_error for a record that is not a pair.
operator_ptr make_reduce_by_key_and_window(reducer r, std::chrono::milliseconds window,
                                           std::chrono::milliseconds slide);

}  // namespace weir
