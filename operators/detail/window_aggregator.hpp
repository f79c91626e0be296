// weir — internal: the aggregator of the event-time windows
// (operators/event_time.hpp): what a window computes over the values of its
// records (count, sum, min, max, avg, reduce), as an accumulator per window
// and key that records are added to and that merges with another (sessions
// merge when a record bridges them). Header-only: add() is on the record
// path of every window operator. Not part of the public API.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "weir/operators/event_time.hpp"
#include "weir/operators/reducer.hpp"
#include "weir/operators/snapshot.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir::detail {

/// `v` as JSON for a message, cut to 40 characters.
inline std::string shown(const value& v) {
  std::string s = v.to_json();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

/// The running aggregate of one window (and key).
struct accum {
  value v;             ///< count: unused; sum/min/max/reduce: the value; avg: the sum
  std::int64_t n = 0;  ///< records added
};

/// Adds, merges and reports accumulators of one aggregation.
/// @thread As its operator: one thread at a time.
class aggregator {
public:
  explicit aggregator(aggregation a) : a_(std::move(a)) {}

  /// Adds the value `v` of one record (unused by count).
  /// @errors record_error (type_mismatch) for a value sum/avg cannot add;
  ///         what a reduce function or weir::add throws.
  void add(accum& acc, const value& v) const {
    switch (a_.type) {
      case aggregation::kind::count: break;
      case aggregation::kind::sum:
      case aggregation::kind::avg: acc.v = acc.n == 0 ? number(v) : weir::add(acc.v, number(v)); break;
      case aggregation::kind::min: acc.v = acc.n == 0 || v < acc.v ? v : acc.v; break;
      case aggregation::kind::max: acc.v = acc.n == 0 || acc.v < v ? v : acc.v; break;
      case aggregation::kind::reduce: acc.v = acc.n == 0 ? v : a_.fn.apply(acc.v, v); break;
    }
    ++acc.n;
  }

  /// Folds `from` into `into` (two sessions becoming one), `into` first.
  void merge(accum& into, const accum& from) const {
    if (from.n == 0) return;
    if (into.n == 0) {
      into = from;
      return;
    }
    switch (a_.type) {
      case aggregation::kind::count: break;
      case aggregation::kind::sum:
      case aggregation::kind::avg: into.v = weir::add(into.v, from.v); break;
      case aggregation::kind::min: into.v = from.v < into.v ? from.v : into.v; break;
      case aggregation::kind::max: into.v = into.v < from.v ? from.v : into.v; break;
      case aggregation::kind::reduce: into.v = a_.fn.apply(into.v, from.v); break;
    }
    into.n += from.n;
  }

  /// The window's result: the count, the value, or the average (a double).
  value result(const accum& acc) const {
    switch (a_.type) {
      case aggregation::kind::count: return value(acc.n);
      case aggregation::kind::avg: return value(acc.v.as_number() / static_cast<double>(acc.n));
      default: return acc.v;
    }
  }

  /// False for count: the record's value need not be extracted.
  bool needs_value() const { return a_.type != aggregation::kind::count; }

private:
  static const value& number(const value& v) {
    if (!v.is_number())
      throw record_error(error_code::type_mismatch,
                         "expected a number to aggregate, got " + std::string(kind_name(v.type())) + " " + shown(v));
    return v;
  }
  aggregation a_;
};

/// Checkpoint encoding of an accumulator: its value and record count.
inline void write_accum(state_writer& w, const accum& a) {
  w.val(a.v);
  w.i64(a.n);
}
/// @errors pipeline_error (corrupt_state) for a negative count or bad bytes.
inline void read_accum(state_reader& r, accum& a) {
  a.v = r.val();
  a.n = r.i64();
  if (a.n < 0) r.fail("negative record count in a window");
}

}  // namespace weir::detail
