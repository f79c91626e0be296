// weir — event time (docs/architecture.md §5): timestamp/watermark assignment and
// event-time windows (tumbling, sliding, session) with watermarks, allowed
// lateness, late-record side output and the append/update output modes.
//
// Semantics follow Flink's WindowOperator (Carbone et al. 2015; Akidau et al.
// 2015, "The Dataflow Model") with Structured Streaming's vocabulary:
// - watermark = max event time seen − delay (bounded out-of-orderness), per
//   input partition, combined downstream as the minimum over inputs;
// - a window [start, end) closes (fires) when the watermark reaches its end
//   (watermark >= end); its state is kept until watermark >= end + allowed
//   lateness, and a record arriving before that updates the result again;
// - a record is late when every window it belongs to has end + allowed
//   lateness <= the watermark on its arrival: it is counted in
//   `late_records` and dropped, or handed to the late-record side output.
// Event times are ms since the epoch (int64).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "weir/operators/error_policy.hpp"
#include "weir/operators/reducer.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir {

/// Extracts a value from a record (a DSL expression such as `_.time`).
using extract_fn = std::function<value(const value&)>;

/// Event time of a record from the value an extract_fn returned: an int (ms
/// since the epoch) or a number (truncated). `what` names the expression in
/// errors. @errors record_error "expected the event time in ms (an int), got …".
std::int64_t event_time_of(const value& v, const std::string& what);

/// Options of a timestamp/watermark assigner (`time = expr, watermark = d`).
struct watermark_options {
  extract_fn time;                          ///< record → event time (ms)
  std::string time_text = "time";           ///< the expression as written, for errors
  std::chrono::milliseconds delay{0};       ///< allowed out-of-orderness (>= 0)
  std::chrono::milliseconds idle_timeout{0};  ///< processing time without records before the input is idle; 0 = never
  error_policy on_error;                    ///< for records whose time is missing or unparsable
};

/// The assigner: records pass through unchanged; the watermark (max event
/// time seen − delay) goes downstream in-band. It is emitted once per input
/// run of records and, exactly, before every record that is behind it (so a
/// downstream window judges lateness with the watermark of "every record seen
/// before this one"). Upstream watermarks are replaced (only the final
/// end-of-input watermark passes). Stateless for chaining (its watermark is
/// per instance = per source partition).
/// @errors pipeline_error for a negative delay or idle timeout; record_error
///         (on_error = fail) "record N: time = EXPR: expected …".
operator_ptr make_watermark_assigner(watermark_options opts);

/// Window shapes on event time (or processing time).
struct window_spec {
  enum class kind { tumbling, sliding, session } type = kind::tumbling;
  std::int64_t size_ms = 0;   ///< tumbling, sliding: window length
  std::int64_t slide_ms = 0;  ///< sliding: distance between window starts
  std::int64_t gap_ms = 0;    ///< session: inactivity gap that ends a session
  static window_spec tumbling(std::chrono::milliseconds size);
  static window_spec sliding(std::chrono::milliseconds size, std::chrono::milliseconds slide);
  static window_spec session(std::chrono::milliseconds gap);
  std::string describe() const;  ///< "tumbling(1m)"
};

/// What a window computes over the values of its records.
struct aggregation {
  enum class kind { count, sum, min, max, avg, reduce } type = kind::count;
  reducer fn;  ///< kind::reduce: a user function (a, b) → c
  static aggregation count() { return {kind::count, {}}; }
  static aggregation sum() { return {kind::sum, {}}; }
  static aggregation min() { return {kind::min, {}}; }
  static aggregation max() { return {kind::max, {}}; }
  static aggregation avg() { return {kind::avg, {}}; }
  static aggregation reduce(reducer r) { return {kind::reduce, std::move(r)}; }
};

/// One of several named aggregations computed per window (and key):
/// `aggregate(window, aggs = {open: first(.price), high: max(.price), ...})`,
/// Spark's `groupBy(window(...), key).agg(first("price").as("open"), ...)`
/// and Flink SQL's window aggregates. As in SQL, `sum`, `min`, `max`, `avg`,
/// `stddev`, `count_distinct`, `collect_list` and `count` of a value skip
/// null values; `first` and `last` take the value of the first / last record
/// in arrival order (null too, as Spark's `first(e)`).
struct named_aggregation {
  enum class kind {
    count,           ///< records (value empty) or non-null values
    sum,             ///< of numbers; null if none
    min,             ///< smallest value (value order); null if none
    max,             ///< largest value; null if none
    avg,             ///< mean of numbers, a double; null if none
    stddev,          ///< sample standard deviation of numbers (n − 1), a double; null for fewer than 2
    count_distinct,  ///< distinct non-null values (exact; equal in value order is one value)
    first,           ///< the value of the first record to arrive
    last,            ///< the value of the last record to arrive
    collect_list,    ///< the non-null values in arrival order
  } type = kind::count;
  std::string name;  ///< its field in the result record (not "start", "end" or "key")
  extract_fn value;  ///< record → the value aggregated; empty for `count` of records
};

/// Structured Streaming output modes.
enum class output_mode {
  append,  ///< one final result per window (and key) when it closes (+ updates from allowed-late records)
  update,  ///< the updated result of its window (and key) after every record
};

struct event_window_options {
  window_spec window;
  aggregation agg;
  /// Keyed: records arrive as pairs (key, record) (the API puts the key
  /// there); unkeyed: records are the input records.
  bool keyed = false;
  extract_fn value_of;       ///< record → the value aggregated; empty = the record
  extract_fn time;           ///< record → event time; empty = processing time (wall clock at arrival)
  std::string time_text = "time";
  std::chrono::milliseconds allowed_lateness{0};
  std::function<void(const value&)> late;  ///< side output for late records; empty = drop
  output_mode output = output_mode::append;
  error_policy on_error;     ///< for records whose time is missing or unparsable
  /// Non-empty: many aggregations per window, each under its name in the
  /// result (`agg` and `value_of` are then not used).
  std::vector<named_aggregation> aggs;
};

/// An event-time window aggregation. Output records are objects
/// `{"start": ms, "end": ms, "key": k, "value": v}` ("key" only when keyed);
/// avg gives a double. With `aggs`, `{"start", "end", "key", <name>: value,
/// ...}` in the order of `aggs` (tumbling, sliding and session windows, both
/// output modes; never on panes). Processing-time windows (no `time`) fire by
/// processing-time timers, also in record mode.
/// Counts in append mode (tumbling or sliding) keep one count per key per
/// pane of gcd(size, slide) ms and sum a window's panes when it fires
/// (Li et al. 2005, "No pane, no gain"): each record is counted once, not
/// size/slide times; the results are the same as per window. The order of
/// keys within a fired window is unspecified (but the same after a restore).
/// @errors pipeline_error for sizes <= 0 or a slide > size, for `aggs` with
///         an empty, repeated or reserved name or a missing value
///         expression; record_error for values the aggregation cannot combine.
/// @thread One instance per parallel partition; not thread-safe itself.
operator_ptr make_event_window(event_window_options opts);

}  // namespace weir
