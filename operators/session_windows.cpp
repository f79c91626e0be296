// weir — session windows on event time (make_event_window with
// window_spec::session, operators/event_time.hpp): Flink's
// EventTimeSessionWindows with allowed lateness. A record opens the session
// [t, t + gap) of its key, merged with every session of the key it
// overlaps; a session fires when the watermark reaches its end and is kept
// until end + allowed lateness. docs/architecture.md §5.
//
// State: per key, its sessions sorted by start, plus an index of the times
// at which a key must be looked at (one live entry per key, so the index
// grows with the keys, not with the records); snapshot tag
// "event_window.session", or "event_window.session_aggs" for many named
// aggregations (`aggs`), whose state starts with their names.
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "weir/operators/detail/aggregating_window.hpp"
#include "weir/operators/detail/value_table.hpp"

namespace weir::detail {

namespace {

/// `Agg`: aggregator (one aggregation) or multi_aggregator (`aggs`), each
/// with its own state tag.
template <class Agg>
class session_windows final : public aggregating_window<session_windows<Agg>, Agg> {
  using agg_base = aggregating_window<session_windows<Agg>, Agg>;
  using base = typename agg_base::base;
  using typename agg_base::acc_t;
  using agg_base::agg_;
  using agg_base::emit;
  using agg_base::read_acc;
  using base::late;
  using base::o_;
  using base::seen_;
  using base::wm_;

public:
  static constexpr const char* tag = agg_base::tag_of("event_window.session", "event_window.session_aggs");

  explicit session_windows(event_window_options o) : agg_base(std::move(o)) {}

private:
  friend base;

  /// key_sessions::scheduled of a key without an entry in index_.
  static constexpr std::int64_t unscheduled = end_watermark;

  struct session {
    std::int64_t start = 0, end = 0;  // [first ts, last ts + gap)
    acc_t acc;
    bool fired = false;
  };
  /// A key's sessions (sorted by start, so also by end) and the time of its
  /// entry in index_.
  struct key_sessions {
    std::vector<session> list;
    std::int64_t scheduled = unscheduled;
  };

  /// Makes sure the key is looked at by time t (a session end, or end +
  /// allowed lateness for a fired one); a later entry becomes stale.
  void schedule(key_sessions& ks, const value& key, std::int64_t t) {
    if (t >= ks.scheduled) return;
    ks.scheduled = t;
    index_.emplace(t, key);
  }

  void add(const value& key, std::int64_t ts, const value& body, records& out) {
    const auto& v = agg_.input_of(body);
    const std::int64_t gap = o_.window.gap_ms, lateness = o_.allowed_lateness.count();
    if (ts + gap + lateness <= wm_) {
      late(body);
      return;
    }
    auto [ks, fresh] = sessions_.try_emplace(key, this->key_hash(key));
    (void)fresh;
    session s{ts, ts + gap, {}, false};
    agg_.add(s.acc, v, seen_);
    // merge every session overlapping [ts, ts + gap)
    auto& ss = ks->list;
    auto it = std::lower_bound(ss.begin(), ss.end(), s.start,
                               [](const session& a, std::int64_t t) { return a.end <= t; });
    auto first = it;
    while (it != ss.end() && it->start < s.end) {
      s.start = std::min(s.start, it->start);
      s.end = std::max(s.end, it->end);
      s.fired = s.fired || it->fired;
      agg_.merge(s.acc, it->acc);
      ++it;
    }
    // a session already due (a late record within the allowed lateness)
    // fires at once, for this record (Flink's EventTimeTrigger.onElement)
    if (s.end <= wm_) s.fired = true;
    it = ss.erase(first, it);
    it = ss.insert(it, std::move(s));
    schedule(*ks, key, it->fired ? it->end + lateness : it->end);
    if (o_.output == output_mode::update || it->fired)
      out.push_back(emit(it->start, it->end, key, it->acc));
  }

  void fire(std::int64_t wm, records& out) {
    const std::int64_t lateness = o_.allowed_lateness.count();
    while (!index_.empty() && index_.begin()->first <= wm) {
      const std::int64_t t = index_.begin()->first;
      value key = std::move(index_.begin()->second);
      index_.erase(index_.begin());
      auto* ks = sessions_.find(key, key.hash());
      if (!ks || ks->scheduled != t) continue;  // stale: an earlier entry replaced it
      ks->scheduled = unscheduled;
      std::int64_t next = unscheduled;
      for (auto it = ks->list.begin(); it != ks->list.end();) {
        if (it->end > wm) {  // still open, and so are the later ones
          next = std::min(next, it->end);
          break;
        }
        if (!it->fired) {
          it->fired = true;
          if (o_.output == output_mode::append)
            out.push_back(emit(it->start, it->end, key, it->acc));
        }
        if (it->end + lateness <= wm) {
          it = ks->list.erase(it);
        } else {
          next = std::min(next, it->end + lateness);
          ++it;
        }
      }
      if (next != unscheduled) schedule(*ks, key, next);
      // an emptied list stays (cheap); it is reused when the key comes back
    }
  }

  std::optional<std::int64_t> first_due() const {
    if (index_.empty()) return std::nullopt;
    return index_.begin()->first;
  }

  // Checkpoints: every key's sessions (with accumulators and fired flags:
  // allowed-lateness sessions kept after firing) in probe order with the
  // table's capacity, so a restored operator emits in the same order as one
  // never interrupted; then the index.
  void save(state_writer& s) const {
    agg_.save_header(s);
    s.varint(sessions_.capacity());
    s.varint(sessions_.size());
    sessions_.for_each_replayable([&](const value& key, const key_sessions& ks) {
      s.val(key);
      s.i64(ks.scheduled);
      s.varint(ks.list.size());
      for (auto& x : ks.list) {
        s.i64(x.start);
        s.i64(x.end);
        s.boolean(x.fired);
        write_accum(s, x.acc);
      }
    });
    s.varint(index_.size());
    for (auto& [t, key] : index_) {
      s.i64(t);
      s.val(key);
    }
  }

  void load(state_reader& s) {
    agg_.load_header(s);
    index_.clear();
    std::size_t cap = 0;
    const std::uint64_t n = read_table_size(s, cap);
    sessions_ = value_table<key_sessions>(cap);
    for (std::uint64_t i = 0; i < n; ++i) {
      value key = s.val();
      auto [ks, fresh] = sessions_.try_emplace(key, key.hash());
      if (!fresh) s.fail("duplicate session key " + shown(key));
      ks->scheduled = s.i64();
      const std::uint64_t m = s.varint();
      for (std::uint64_t j = 0; j < m; ++j) {
        session x;
        x.start = s.i64();
        x.end = s.i64();
        x.fired = s.boolean();
        read_acc(s, x.acc);
        ks->list.push_back(std::move(x));
      }
    }
    const std::uint64_t k = s.varint();
    for (std::uint64_t i = 0; i < k; ++i) {
      std::int64_t t = s.i64();
      index_.emplace_hint(index_.end(), t, s.val());
    }
  }

  value_table<key_sessions> sessions_;
  std::multimap<std::int64_t, value> index_;  ///< when to look at a key (session end or purge time) → key
};

}  // namespace

operator_ptr make_session_windows(event_window_options o) {
  return make_aggregating_window<session_windows>(std::move(o));
}

}  // namespace weir::detail
