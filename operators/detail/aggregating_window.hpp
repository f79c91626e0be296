// weir — internal: what the two aggregating window operators share
// (fixed_windows.cpp, session_windows.cpp; count_panes.cpp counts without
// an aggregator): the aggregator member (one aggregation, or many named ones
// with `aggs`), the result record of a window and key, an accumulator read
// back from a checkpoint, their state tags and the factory choosing the
// aggregator. Not part of the public API.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>

#include "weir/operators/detail/event_window_base.hpp"
#include "weir/operators/detail/window_aggregator.hpp"

namespace weir::detail {

/// Base of a window operator `Derived` (see event_window_base) that folds
/// its records with `Agg`: aggregator (one aggregation) or multi_aggregator
/// (`aggs`). `Derived` still befriends event_window_base<Derived>.
/// @thread As event_window_base: one thread at a time.
template <class Derived, class Agg>
class aggregating_window : public event_window_base<Derived> {
protected:
  using base = event_window_base<Derived>;
  using acc_t = typename Agg::acc_type;

  /// The snapshot tag of `name` ("event_window.fixed"): many named
  /// aggregations get one of their own ("event_window.fixed_aggs").
  static constexpr const char* tag_of(const char* name, const char* name_aggs) { return Agg::many ? name_aggs : name; }

  explicit aggregating_window(event_window_options o) : base(std::move(o)), agg_(this->o_) {}

  /// The output record of window (or session) [start, end) and key.
  value emit(std::int64_t start, std::int64_t end, const value& key, const acc_t& a) const {
    if constexpr (Agg::many) return agg_.record(start, end, this->o_.keyed ? &key : nullptr, a);
    else return this->result(start, end, key, agg_.result(a));
  }

  /// An accumulator written by write_accum. @errors pipeline_error (corrupt_state).
  void read_acc(state_reader& s, acc_t& a) const {
    if constexpr (Agg::many) read_accum(s, a, this->o_.aggs.size());
    else read_accum(s, a);
  }

  Agg agg_;
};

/// `Window<multi_aggregator>` for options with `aggs`, else `Window<aggregator>`.
template <template <class> class Window>
operator_ptr make_aggregating_window(event_window_options o) {
  if (!o.aggs.empty()) return std::make_unique<Window<multi_aggregator>>(std::move(o));
  return std::make_unique<Window<aggregator>>(std::move(o));
}

}  // namespace weir::detail
