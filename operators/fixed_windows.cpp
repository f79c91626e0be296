// weir — tumbling and sliding event-time windows, any aggregation, append or
// update output (make_event_window, operators/event_time.hpp; counts in
// append mode go to count_panes.cpp instead). Flink's WindowOperator with
// TumblingEventTimeWindows / SlidingEventTimeWindows and allowed lateness:
// a record adds to every window [start, start + size) holding its time that
// is not closed for good; a window fires when the watermark reaches its end
// and is kept until end + allowed lateness. docs/architecture.md §5.
//
// State: the windows by start, each a table key → accumulator and a fired
// flag; snapshot tag "event_window.fixed", or "event_window.fixed_aggs" for
// many named aggregations (`aggs`), whose state starts with their names.
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

#include "weir/common/time.hpp"
#include "weir/operators/detail/aggregating_window.hpp"
#include "weir/operators/detail/value_table.hpp"

namespace weir::detail {

namespace {

/// `Agg`: aggregator (one aggregation) or multi_aggregator (`aggs`), each
/// with its own state tag.
template <class Agg>
class fixed_windows final : public aggregating_window<fixed_windows<Agg>, Agg> {
  using agg_base = aggregating_window<fixed_windows<Agg>, Agg>;
  using base = typename agg_base::base;
  using typename agg_base::acc_t;
  using agg_base::agg_;
  using agg_base::emit;
  using agg_base::read_acc;
  using base::late;
  using base::o_;
  using base::seen_;
  using base::slide_ms;
  using base::wm_;

public:
  static constexpr const char* tag = agg_base::tag_of("event_window.fixed", "event_window.fixed_aggs");

  explicit fixed_windows(event_window_options o) : agg_base(std::move(o)) {}

private:
  friend base;

  struct fixed_window {
    value_table<acc_t> table{4};
    bool fired = false;
  };

  void add(const value& key, std::int64_t ts, const value& body, records& out) {
    const auto& v = agg_.input_of(body);
    const std::int64_t size = o_.window.size_ms, slide = slide_ms();
    const std::int64_t last_start = floor_div(ts, slide) * slide;
    const std::int64_t lateness = o_.allowed_lateness.count();
    bool any = false;
    const std::uint64_t h = this->key_hash(key);
    for (std::int64_t start = last_start; start > ts - size; start -= slide) {
      const std::int64_t end = start + size;
      if (end + lateness <= wm_) continue;  // this window is closed for good
      any = true;
      fixed_window& fw = window_at(start);
      // a window already due when its first record arrives (late, within the
      // allowed lateness) fires at once, for this record (Flink's
      // EventTimeTrigger.onElement: FIRE when the watermark is past the end)
      if (end <= wm_) fw.fired = true;
      auto [acc, fresh] = fw.table.try_emplace(key, h);
      (void)fresh;
      agg_.add(*acc, v, seen_);
      if (o_.output == output_mode::update || fw.fired) out.push_back(emit(start, end, key, *acc));
    }
    if (!any) late(body);
  }

  fixed_window& window_at(std::int64_t start) {
    if (last_ != windows_.end() && last_->first == start) return last_->second;
    last_ = windows_.try_emplace(start).first;
    return last_->second;
  }

  void fire(std::int64_t wm, records& out) {
    const std::int64_t size = o_.window.size_ms, lateness = o_.allowed_lateness.count();
    for (auto it = windows_.begin(); it != windows_.end() && it->first + size <= wm;) {
      const std::int64_t start = it->first, end = start + size;
      fixed_window& fw = it->second;
      if (!fw.fired) {
        fw.fired = true;
        if (o_.output == output_mode::append)
          fw.table.for_each([&](const value& k, acc_t& a) { out.push_back(emit(start, end, k, a)); });
      }
      if (end + lateness <= wm) {
        if (last_ == it) last_ = windows_.end();
        it = windows_.erase(it);
      } else {
        ++it;
      }
    }
  }

  std::optional<std::int64_t> first_due() const {
    if (windows_.empty()) return std::nullopt;
    return windows_.begin()->first + o_.window.size_ms;
  }

  // Checkpoints: every window with its fired flag (allowed-lateness windows
  // kept after firing) and its table, written in probe order with its
  // capacity, so a restored operator emits in the same order as one never
  // interrupted.
  void save(state_writer& s) const {
    agg_.save_header(s);
    s.varint(windows_.size());
    for (auto& [start, fw] : windows_) {
      s.i64(start);
      s.boolean(fw.fired);
      s.varint(fw.table.capacity());
      s.varint(fw.table.size());
      fw.table.for_each_replayable([&](const value& key, const acc_t& a) {
        s.val(key);
        write_accum(s, a);
      });
    }
  }

  void load(state_reader& s) {
    agg_.load_header(s);
    windows_.clear();
    last_ = windows_.end();
    const std::uint64_t n = s.varint();
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::int64_t start = s.i64();
      auto [it, fresh] = windows_.try_emplace(start);
      if (!fresh) s.fail("duplicate window start " + std::to_string(start));
      fixed_window& fw = it->second;
      fw.fired = s.boolean();
      std::size_t cap = 0;
      const std::uint64_t m = read_table_size(s, cap);
      fw.table = value_table<acc_t>(cap);
      for (std::uint64_t j = 0; j < m; ++j) {
        value key = s.val();
        auto [acc, new_key] = fw.table.try_emplace(key, key.hash());
        if (!new_key) s.fail("duplicate key " + shown(key) + " in window " + std::to_string(start));
        read_acc(s, *acc);
      }
    }
  }

  std::map<std::int64_t, fixed_window> windows_;  ///< window start → window
  typename std::map<std::int64_t, fixed_window>::iterator last_ = windows_.end();  ///< the window of the last record (a cache)
};

}  // namespace

operator_ptr make_fixed_windows(event_window_options o) {
  return make_aggregating_window<fixed_windows>(std::move(o));
}

}  // namespace weir::detail
