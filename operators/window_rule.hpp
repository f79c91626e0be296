// weir — the rule every processing-time window obeys, in one place.
//
// Spark DStream windows (`DStream.window`, `WindowedDStream`,
// `ReducedWindowedDStream`; docs/architecture.md §4): a window's length and
// its slide are positive multiples of the batch interval and of the slide of
// the stream the window reads (a windowed stream emits only at multiples of
// its slide). A slide of 0 means "the input stream's slide" (Spark's default).
//
// The public API (api/dstream.cpp, when a window is added to a graph), the
// window operators (operators/window_operators.cpp, re-checked in open()) and
// the DSL (cli/stages/windows.cpp, reported at the argument with
// file:line:column) all call these functions; only the wording of their
// messages differs.
#pragma once

#include <chrono>

namespace weir {

/// Which part of the window rule a window or slide length breaks.
enum class window_fault {
  none,
  not_positive,               ///< the length is <= 0
  not_batch_multiple,         ///< not a multiple of the batch interval
  not_input_slide_multiple,   ///< not a multiple of the input stream's slide
};

/// Checks one length `d` (a window or a slide, in ms) against the rule, in
/// the order: positive, multiple of `batch_interval`, multiple of
/// `input_slide`. A divisor <= 0 means "not known yet" and is not checked
/// (the DSL checks positivity while compiling, before any interval is known).
/// @thread Pure function.
window_fault check_window_length(std::chrono::milliseconds d, std::chrono::milliseconds batch_interval,
                                 std::chrono::milliseconds input_slide) noexcept;

/// The slide a window uses: `slide`, or `input_slide` when `slide` is 0.
/// @source Spark `DStream.window(windowDuration)` slides by the parent's slide.
constexpr std::chrono::milliseconds resolve_window_slide(std::chrono::milliseconds slide,
                                                         std::chrono::milliseconds input_slide) noexcept {
  return slide.count() == 0 ? input_slide : slide;
}

/// Validates the window of operator `op` (all lengths in ms; `slide` already
/// resolved). `input_slide` 0 = unknown (not checked).
/// @errors pipeline_error (error_code::invalid_argument), for the first broken
///         part in the order window, slide:
///         "<op>: window must be positive, got 0ms",
///         "<op>: window 2500ms is not a multiple of the batch interval 1000ms"
///         (the same for slide), then
///         "<op>: window 3000ms and slide 2000ms must be multiples of the input stream's slide 2000ms".
/// @thread Pure function.
void check_window(const char* op, std::chrono::milliseconds window, std::chrono::milliseconds slide,
                  std::chrono::milliseconds batch_interval,
                  std::chrono::milliseconds input_slide = std::chrono::milliseconds{0});

}  // namespace weir
