// weir — tumbling and sliding event-time counts in append mode, on panes
// (make_event_window, operators/event_time.hpp; the other aggregations and
// update mode go to fixed_windows.cpp). Li et al. 2005, "No pane, no gain":
// counts are exact whatever the grouping, so each record is counted once, in
// its pane of gcd(size, slide) ms, and a window sums its panes when it fires
// (not size/slide counts per record); the results are those of the
// per-window operator. docs/architecture.md §5.
//
// State: the windows with their fired flags and the panes, each a table key
// → (count, first record); snapshot tag "event_window.count_panes".
#include <cstdint>
#include <iterator>
#include <map>
#include <numeric>
#include <optional>
#include <utility>
#include <vector>

#include "weir/common/time.hpp"
#include "weir/operators/detail/event_window_base.hpp"
#include "weir/operators/detail/value_table.hpp"
#include "weir/operators/detail/window_aggregator.hpp"

namespace weir::detail {

namespace {

class count_panes final : public event_window_base<count_panes> {
public:
  static constexpr const char* tag = "event_window.count_panes";

  explicit count_panes(event_window_options o)
      : event_window_base(std::move(o)), pane_ms_(std::gcd(o_.window.size_ms, slide_ms())) {}

private:
  friend class event_window_base<count_panes>;

  // A pane is [ps, ps + pane_ms_) with ps a multiple of pane_ms_ =
  // gcd(size, slide), so every window is a whole number of panes. A pane
  // holds key → (count, number of the key's first record in the pane); a
  // window reports the key value of its earliest record (keys equal as
  // values may differ in kind, 1 and 1.0), as the per-window operator does.
  // wins_ holds exactly the windows the per-window operator would hold
  // (those that got a record while not closed for good), with their fired
  // flags.
  struct pane_count {
    std::int64_t n = 0;
    std::uint64_t first = 0;  // seen_ at the key's first record in the pane
  };
  struct pane {
    value_table<pane_count> table{4};
  };
  /// One key of a window being combined from its panes.
  struct combined {
    const value* key;
    std::uint64_t hash;
    std::uint64_t first;
    std::int64_t n;
  };

  /// Start of the last window holding time (or pane start) t: the one that closes for good last.
  std::int64_t last_window_of(std::int64_t t) const {
    const std::int64_t slide = slide_ms();
    return floor_div(t, slide) * slide;
  }

  void add(const value& key, std::int64_t ts, const value& body, records& out) {
    const std::int64_t size = o_.window.size_ms, lateness = o_.allowed_lateness.count();
    if (!cur_ || ts < cur_ps_ || ts - cur_ps_ >= pane_ms_) {  // not the pane of the last record
      const std::int64_t last_start = last_window_of(ts);
      if (last_start + size + lateness <= wm_) {  // every window of the record is closed for good
        late(body);
        return;
      }
      select_pane(floor_div(ts, pane_ms_) * pane_ms_, last_start);
    } else if (cur_last_ + size + lateness <= wm_) {
      late(body);
      return;
    }
    const std::uint64_t h = key_hash(key);
    auto [pc, fresh] = cur_->table.try_emplace(key, h);
    if (fresh) pc->first = seen_;
    ++pc->n;
    // windows that fired already (kept for allowed lateness) emit their new
    // result, latest window first (as the per-window operator does)
    if (cur_first_end_ > wm_) return;  // none of the record's windows has fired
    for (std::int64_t start = cur_last_; start > cur_ps_ - size; start -= slide_ms()) {
      if (start + size + lateness <= wm_) continue;
      auto it = wins_.find(start);
      if (it != wins_.end() && it->second) out.push_back(pane_key_result(start, key, h));
    }
  }

  /// Makes the pane at `ps` (whose last window starts at `last_start`) the
  /// current one; a new pane registers its windows not closed for good.
  void select_pane(std::int64_t ps, std::int64_t last_start) {
    const std::int64_t size = o_.window.size_ms, slide = slide_ms(), lateness = o_.allowed_lateness.count();
    auto [it, fresh] = panes_.try_emplace(ps);
    if (fresh)
      for (std::int64_t start = last_start; start > ps - size; start -= slide)
        // a window already due (a late record within the allowed lateness)
        // counts as fired: the record emits its result at once (Flink's
        // EventTimeTrigger.onElement)
        if (start + size + lateness > wm_) wins_.try_emplace(start, start + size <= wm_);
    cur_ = &it->second;
    cur_ps_ = ps;
    cur_last_ = last_start;
    // the pane's windows start at last_start - j × slide for j = 0..k
    const std::int64_t k = (last_start - ps + size - 1) / slide;
    cur_first_end_ = lateness == 0 ? end_watermark : last_start - k * slide + size;  // no lateness: fired = gone
  }

  /// The result of one key in window [start, start + size): its panes
  /// summed, reported with the key value of the record that changed it (as
  /// the per-window operator does for updates).
  value pane_key_result(std::int64_t start, const value& key, std::uint64_t h) {
    const std::int64_t end = start + o_.window.size_ms;
    std::int64_t n = 0;
    for (auto it = panes_.lower_bound(start); it != panes_.end() && it->first < end; ++it)
      if (const pane_count* c = it->second.table.find(key, h)) n += c->n;
    return result(start, end, key, value(n));
  }

  /// Emits every key of window [start, start + size): a lone pane's entries
  /// in slot order, or else the panes' keys in order of first appearance
  /// (panes by start, each in slot order) — an order that depends on the
  /// panes only, so a restored operator emits in the same order.
  void fire_window(std::int64_t start, records& out) {
    const std::int64_t end = start + o_.window.size_ms;
    auto lo = panes_.lower_bound(start), hi = panes_.lower_bound(end);
    if (lo == hi) return;
    if (std::next(lo) == hi) {
      out.reserve(out.size() + lo->second.table.size());
      lo->second.table.for_each(
          [&](const value& k, const pane_count& c) { out.push_back(result(start, end, k, value(c.n))); });
      return;
    }
    std::size_t total = 0;
    for (auto it = lo; it != hi; ++it) total += it->second.table.size();
    std::size_t cap = 16;
    while (cap < 2 * total) cap <<= 1;
    const std::size_t mask = cap - 1;
    comb_idx_.assign(cap, 0);
    comb_.clear();
    comb_.reserve(total);
    for (auto it = lo; it != hi; ++it)
      it->second.table.for_each_hashed([&](const value& k, std::uint64_t h, const pane_count& c) {
        for (std::size_t i = h & mask;; i = (i + 1) & mask) {
          const std::uint32_t j = comb_idx_[i];
          if (j == 0) {
            comb_.push_back({&k, h, c.first, c.n});
            comb_idx_[i] = static_cast<std::uint32_t>(comb_.size());
            return;
          }
          combined& e = comb_[j - 1];
          if (e.hash == h && *e.key == k) {
            e.n += c.n;
            if (c.first < e.first) {
              e.first = c.first;
              e.key = &k;
            }
            return;
          }
        }
      });
    out.reserve(out.size() + comb_.size());
    for (const combined& e : comb_) out.push_back(result(start, end, *e.key, value(e.n)));
    comb_.clear();
  }

  void fire(std::int64_t wm, records& out) {
    const std::int64_t size = o_.window.size_ms, lateness = o_.allowed_lateness.count();
    for (auto it = wins_.begin(); it != wins_.end() && it->first + size <= wm;) {
      const std::int64_t start = it->first, end = start + size;
      if (!it->second) {
        it->second = true;
        fire_window(start, out);
      }
      if (end + lateness <= wm)
        it = wins_.erase(it);
      else
        ++it;
    }
    // a pane goes when its last window has closed for good
    while (!panes_.empty() && last_window_of(panes_.begin()->first) + size + lateness <= wm) {
      if (cur_ == &panes_.begin()->second) cur_ = nullptr;
      panes_.erase(panes_.begin());
    }
  }

  std::optional<std::int64_t> first_due() const {
    if (wins_.empty()) return std::nullopt;
    return wins_.begin()->first + o_.window.size_ms;
  }

  // Checkpoints: the windows with their fired flags, then every pane's
  // table in probe order with its capacity, so the restored tables — hence
  // the firing order — are the same.
  void save(state_writer& s) const {
    s.varint(wins_.size());
    for (auto& [start, fired] : wins_) {
      s.i64(start);
      s.boolean(fired);
    }
    s.varint(panes_.size());
    for (auto& [ps, p] : panes_) {
      s.i64(ps);
      s.varint(p.table.capacity());
      s.varint(p.table.size());
      p.table.for_each_replayable([&](const value& key, const pane_count& c) {
        s.val(key);
        s.i64(c.n);
        s.u64(c.first);
      });
    }
  }

  void load(state_reader& s) {
    wins_.clear();
    panes_.clear();
    cur_ = nullptr;
    const std::uint64_t nw = s.varint();
    for (std::uint64_t i = 0; i < nw; ++i) {
      const std::int64_t start = s.i64();
      if (last_window_of(start) != start)
        s.fail("window start " + std::to_string(start) + " is not a multiple of the slide");
      if (!wins_.try_emplace(start, s.boolean()).second) s.fail("duplicate window start " + std::to_string(start));
    }
    const std::uint64_t np = s.varint();
    for (std::uint64_t i = 0; i < np; ++i) {
      const std::int64_t ps = s.i64();
      if (floor_div(ps, pane_ms_) * pane_ms_ != ps)
        s.fail("pane start " + std::to_string(ps) + " is not a multiple of the pane length");
      auto [it, fresh] = panes_.try_emplace(ps);
      if (!fresh) s.fail("duplicate pane start " + std::to_string(ps));
      std::size_t cap = 0;
      const std::uint64_t m = read_table_size(s, cap);
      it->second.table = value_table<pane_count>(cap);
      for (std::uint64_t j = 0; j < m; ++j) {
        value key = s.val();
        auto [c, new_key] = it->second.table.try_emplace(key, key.hash());
        if (!new_key) s.fail("duplicate key " + shown(key) + " in pane " + std::to_string(ps));
        c->n = s.i64();
        c->first = s.u64();
        if (c->n <= 0) s.fail("a key without records in pane " + std::to_string(ps));
      }
    }
  }

  const std::int64_t pane_ms_;
  std::map<std::int64_t, bool> wins_;   ///< window start → fired
  std::map<std::int64_t, pane> panes_;  ///< pane start → pane
  pane* cur_ = nullptr;  ///< the pane of the last record (a cache), with its start,
  std::int64_t cur_ps_ = 0, cur_last_ = 0, cur_first_end_ = 0;  ///< last window start, first window end
  std::vector<combined> comb_;           ///< fire() scratch: keys in order of first appearance
  std::vector<std::uint32_t> comb_idx_;  ///< and their index + 1, by hash
};

}  // namespace

operator_ptr make_count_panes(event_window_options o) { return std::make_unique<count_panes>(std::move(o)); }

}  // namespace weir::detail
