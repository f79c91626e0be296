#include "weir/operators/event_time.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <numeric>
#include <utility>
#include <vector>

#include "weir/common/time.hpp"
#include "weir/operators/basic_operators.hpp"
#include "weir/operators/hash_memo.hpp"
#include "weir/operators/sealed_state.hpp"
#include "weir/operators/detail/value_table.hpp"
#include "weir/operators/snapshot.hpp"

namespace weir {

namespace {

std::string shown(const value& v) {
  std::string s = v.to_json();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

// --- the assigner ---------------------------------------------------------------

class watermark_assigner final : public stream_operator {
public:
  explicit watermark_assigner(watermark_options o) : o_(std::move(o)) {}

  bool stateless() const override { return true; }

  // The records stay where they are (in `in`, at their final positions)
  // and move to `out` in one piece at the end; after a malformed record the
  // ones before it move and the rest follow one by one.
  void process(const process_context& ctx, records& in, records& out) override {
    const bool had_input = !in.empty();
    const std::int64_t delay = o_.delay.count();
    const std::size_t base = out.size();
    bool in_place = true;
    value* recs = in.data();  // `in` keeps its size here: no reload per record
    const std::size_t n = in.size();
    for (std::size_t i = 0; i < n; ++i) {
      value& r = recs[i];
      ++seen_;
      std::int64_t ts;
      try {
        const value t = o_.time(r);
        ts = t.is_int() ? t.as_int() : event_time_of(t, o_.time_text);
      } catch (const record_error& e) {
        if (in_place) {
          out.insert(out.end(), std::make_move_iterator(in.begin()), std::make_move_iterator(in.begin() + static_cast<std::ptrdiff_t>(i)));
          in_place = false;
        }
        std::string raw = r.is_string() ? std::string(r.as_string()) : r.to_json();
        std::string where = ctx.origin ? ctx.origin->describe(i) : "record " + std::to_string(seen_);
        handle_bad_record(o_.on_error, bad_record{raw, e.what(), where}, counters_.malformed_records);
        continue;
      }
      // exact where it matters: a record behind the pending watermark sees it
      if (ts <= pending_ && pending_ > emitted_) {
        if (ctx.watermarks)
          ctx.watermarks->emplace_back(static_cast<std::uint32_t>(in_place ? base + i : out.size()), pending_);
        emitted_ = pending_;
      }
      if (!in_place) out.push_back(std::move(r));
      if (ts > max_ts_) {
        max_ts_ = ts;
        pending_ = ts > no_watermark + delay ? ts - delay : no_watermark + 1;  // the least watermark above none
      }
    }
    if (in_place) {
      if (out.empty())
        out.swap(in);
      else
        out.insert(out.end(), std::make_move_iterator(in.begin()), std::make_move_iterator(in.end()));
    }
    if (pending_ > emitted_) {
      ctx.emit_watermark(out, pending_);
      emitted_ = pending_;
    }
    if (o_.idle_timeout.count() > 0 && had_input) {
      last_record_ = wall_ms();
      idle_ = false;
    }
  }

  std::int64_t on_watermark(std::int64_t wm, records&) override {
    return wm == end_watermark ? end_watermark : no_watermark;  // upstream watermarks are replaced
  }

  std::optional<std::int64_t> next_timer() const override {
    if (o_.idle_timeout.count() <= 0 || idle_) return std::nullopt;
    if (last_record_ == 0) return wall_ms() + o_.idle_timeout.count();
    return last_record_ + o_.idle_timeout.count();
  }

  void on_processing_time(const process_context& ctx, std::int64_t now, records& out) override {
    if (o_.idle_timeout.count() <= 0 || idle_) return;
    if (last_record_ == 0) last_record_ = now;
    if (now - last_record_ >= o_.idle_timeout.count()) {
      idle_ = true;
      ctx.emit_idle(out);
      // the next watermark re-activates the input
      emitted_ = no_watermark;
    }
  }

  // Checkpoints: the records seen, the max event time, the pending and last
  // emitted watermark, the idle state and the wall-clock time of the last
  // record (the idle timer continues from it), the malformed count.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    write_sealed(w, 1, [&](state_writer& s) {
      s.u64(seen_);
      s.i64(max_ts_);
      s.i64(pending_);
      s.i64(emitted_);
      s.i64(last_record_);
      s.boolean(idle_);
      s.u64(counters_.malformed_records);
    });
  }

  void restore_state(std::uint64_t, state_reader& r) override {
    read_sealed(r, 1, "watermark assigner", [&](state_reader& s) {
      seen_ = s.u64();
      max_ts_ = s.i64();
      pending_ = s.i64();
      emitted_ = s.i64();
      last_record_ = s.i64();
      idle_ = s.boolean();
      counters_.malformed_records = s.u64();
    });
  }

private:
  watermark_options o_;
  std::uint64_t seen_ = 0;
  std::int64_t max_ts_ = no_watermark;
  std::int64_t pending_ = no_watermark, emitted_ = no_watermark;
  std::int64_t last_record_ = 0;
  bool idle_ = false;
};

// --- accumulators -----------------------------------------------------------------

struct accum {
  value v;                  // count: the count; sum/min/max/reduce: the value; avg: the sum
  std::int64_t n = 0;       // records
};

class aggregator {
public:
  explicit aggregator(aggregation a) : a_(std::move(a)) {}

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

  value result(const accum& acc) const {
    switch (a_.type) {
      case aggregation::kind::count: return value(acc.n);
      case aggregation::kind::avg: return value(acc.v.as_number() / static_cast<double>(acc.n));
      default: return acc.v;
    }
  }

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

// --- the window operator ------------------------------------------------------------

class event_window final : public stream_operator {
public:
  explicit event_window(event_window_options o) : o_(std::move(o)), agg_(o_.agg) {
    const auto& w = o_.window;
    if (w.type == window_spec::kind::session) {
      if (w.gap_ms <= 0)
        throw pipeline_error(error_code::invalid_argument,
                             "session gap must be positive, got " + std::to_string(w.gap_ms) + "ms");
    } else {
      if (w.size_ms <= 0) throw pipeline_error("window size must be positive, got " + std::to_string(w.size_ms) + "ms");
      if (w.type == window_spec::kind::sliding && (w.slide_ms <= 0 || w.slide_ms > w.size_ms))
        throw pipeline_error("sliding window slide must be positive and at most the size, got " +
                             duration_text(w.slide_ms) + " for size " + duration_text(w.size_ms));
    }
    if (o_.allowed_lateness.count() < 0)
      throw pipeline_error(error_code::invalid_argument, "allowed lateness must not be negative, got " +
                                                             std::to_string(o_.allowed_lateness.count()) + "ms");
    // Panes (Li et al. 2005, "No pane, no gain"): counts in append mode are
    // exact whatever the grouping, so each record is counted once, in its
    // gcd(size, slide) pane, and a window sums its panes when it fires. The
    // other aggregations keep the per-window path: regrouping a
    // floating-point sum changes its last bits, a reduce function need not be
    // associative and commutative, min/max keep the first of equal values in
    // arrival order; update mode wants every window's result after every record.
    if (w.type != window_spec::kind::session && o_.agg.type == aggregation::kind::count &&
        o_.output == output_mode::append) {
      use_panes_ = true;
      pane_ms_ = std::gcd(w.size_ms, slide_ms());
    }
  }

  void process(const process_context& ctx, records& in, records& out) override {
    const bool proc_time = !o_.time;
    const std::int64_t now = proc_time ? wall_ms() : 0;
    // the keyed edge's routing hashes of the keys, when it passes them
    const std::uint64_t* hashes = o_.keyed ? ctx.key_hashes : nullptr;
    const value* recs = in.data();  // `in` does not change here: no reload per record
    const std::size_t n = in.size();
    for (std::size_t i = 0; i < n; ++i) {
      const value& rec = recs[i];
      key_hash_ = hashes ? hashes + i : nullptr;
      ++seen_;
      const value* key = &null_;
      const value* body = &rec;
      if (o_.keyed) {
        std::span<const value> kv;
        if (rec.is_array() && (kv = rec.as_array()).size() == 2) {
          key = &kv[0];
          body = &kv[1];
        } else {
          auto p = as_pair(rec, "aggregate");  // throws the error
          key = p.first;
          body = p.second;
        }
      }
      std::int64_t ts = now;
      if (!proc_time) {
        try {
          const value t = o_.time(*body);
          ts = t.is_int() ? t.as_int() : event_time_of(t, o_.time_text);
        } catch (const record_error& e) {
          std::string raw = body->is_string() ? std::string(body->as_string()) : body->to_json();
          handle_bad_record(o_.on_error, bad_record{raw, e.what(), "record " + std::to_string(seen_)},
                            counters_.malformed_records);
          continue;
        }
      }
      if (use_panes_) {
        add_pane(*key, ts, *body, out);
        continue;
      }
      value v;
      if (agg_.needs_value()) v = o_.value_of ? o_.value_of(*body) : *body;
      if (o_.window.type == window_spec::kind::session)
        add_session(*key, ts, v, *body, out);
      else
        add_fixed(*key, ts, v, *body, out);
    }
  }

  std::int64_t on_watermark(std::int64_t wm, records& out) override {
    if (!o_.time && wm != end_watermark) return wm;  // processing time: upstream watermarks do not apply
    advance(wm, out);
    return wm;
  }

  std::optional<std::int64_t> next_timer() const override {
    if (o_.time) return std::nullopt;
    if (o_.window.type == window_spec::kind::session)
      return index_.empty() ? std::nullopt : std::optional<std::int64_t>(index_.begin()->first);
    if (use_panes_)
      return wins_.empty() ? std::nullopt : std::optional<std::int64_t>(wins_.begin()->first + o_.window.size_ms);
    return windows_.empty() ? std::nullopt : std::optional<std::int64_t>(windows_.begin()->first + o_.window.size_ms);
  }

  void on_processing_time(const process_context&, std::int64_t now, records& out) override {
    if (!o_.time) advance(now, out);
  }

  // Checkpoints: every window (fixed) or every key's sessions and the
  // session index, each accumulator, fired flags (allowed-lateness windows
  // kept after firing), the current watermark (or processing time reached),
  // the record count and the late/malformed counters. Processing-time timers
  // are the window ends themselves, so they come back with the windows.
  // Hash tables are written in probe order with their capacity, so a
  // restored operator emits in the same order as one never interrupted.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    if (use_panes_) return snapshot_panes(w);
    write_sealed(w, 1, [&](state_writer& s) {
      write_common(s);
      auto put_acc = [&](const accum& a) {
        s.val(a.v);
        s.i64(a.n);
      };
      if (o_.window.type == window_spec::kind::session) {
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
            put_acc(x.acc);
          }
        });
        s.varint(index_.size());
        for (auto& [t, key] : index_) {
          s.i64(t);
          s.val(key);
        }
      } else {
        s.varint(windows_.size());
        for (auto& [start, fw] : windows_) {
          s.i64(start);
          s.boolean(fw.fired);
          s.varint(fw.table.capacity());
          s.varint(fw.table.size());
          fw.table.for_each_replayable([&](const value& key, const accum& a) {
            s.val(key);
            put_acc(a);
          });
        }
      }
    });
  }

  void restore_state(std::uint64_t, state_reader& r) override {
    if (use_panes_) return restore_panes(r);
    read_sealed(r, 1, "event window " + o_.window.describe(), [&](state_reader& s) {
      read_common(s);
      auto get_acc = [&](accum& a) {
        a.v = s.val();
        a.n = s.i64();
        if (a.n < 0) s.fail("negative record count in a window");
      };
      // a table's capacity, then its entry count (checked against each other)
      auto get_table_size = [&](std::size_t& cap_out) {
        const std::uint64_t cap = s.varint();
        const std::uint64_t n = s.varint();
        if (cap < 16 || (cap & (cap - 1)) != 0 || n > (std::uint64_t{1} << 40) || cap > std::max<std::uint64_t>(16, 4 * n) ||
            n * 10 > cap * 7)
          s.fail("bad hash table capacity " + std::to_string(cap) + " for " + std::to_string(n) + " entries");
        cap_out = static_cast<std::size_t>(cap);
        return n;
      };
      windows_.clear();
      last_ = windows_.end();
      index_.clear();
      if (o_.window.type == window_spec::kind::session) {
        std::size_t cap = 0;
        const std::uint64_t n = get_table_size(cap);
        sessions_ = detail::value_table<key_sessions>(cap);
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
            get_acc(x.acc);
            ks->list.push_back(std::move(x));
          }
        }
        const std::uint64_t k = s.varint();
        for (std::uint64_t i = 0; i < k; ++i) {
          std::int64_t t = s.i64();
          index_.emplace_hint(index_.end(), t, s.val());
        }
      } else {
        const std::uint64_t n = s.varint();
        for (std::uint64_t i = 0; i < n; ++i) {
          const std::int64_t start = s.i64();
          auto [it, fresh] = windows_.try_emplace(start);
          if (!fresh) s.fail("duplicate window start " + std::to_string(start));
          fixed_window& fw = it->second;
          fw.fired = s.boolean();
          std::size_t cap = 0;
          const std::uint64_t m = get_table_size(cap);
          fw.table = detail::value_table<accum>(cap);
          for (std::uint64_t j = 0; j < m; ++j) {
            value key = s.val();
            auto [acc, new_key] = fw.table.try_emplace(key, key.hash());
            if (!new_key) s.fail("duplicate key " + shown(key) + " in window " + std::to_string(start));
            get_acc(*acc);
          }
        }
      }
    });
  }

private:
  // ---- tumbling and sliding: windows by start, each a table key → accumulator
  struct fixed_window {
    detail::value_table<accum> table{4};
    bool fired = false;
  };

  void add_fixed(const value& key, std::int64_t ts, const value& v, const value& body, records& out) {
    const auto& w = o_.window;
    const std::int64_t slide = w.type == window_spec::kind::sliding ? w.slide_ms : w.size_ms;
    const std::int64_t last_start = floor_div(ts, slide) * slide;
    const std::int64_t lateness = o_.allowed_lateness.count();
    bool any = false;
    const std::uint64_t h = key_hash(key);
    for (std::int64_t start = last_start; start > ts - w.size_ms; start -= slide) {
      const std::int64_t end = start + w.size_ms;
      if (end + lateness <= wm_) continue;  // this window is closed for good
      any = true;
      fixed_window& fw = window_at(start);
      auto [acc, fresh] = fw.table.try_emplace(key, h);
      (void)fresh;
      agg_.add(*acc, v);
      if (o_.output == output_mode::update || fw.fired) out.push_back(result(start, end, key, *acc));
    }
    if (!any) late(body);
  }

  fixed_window& window_at(std::int64_t start) {
    if (last_ != windows_.end() && last_->first == start) return last_->second;
    last_ = windows_.try_emplace(start).first;
    return last_->second;
  }

  // ---- sessions: per key, sessions sorted by start; an index of end times
  struct session {
    std::int64_t start = 0, end = 0;  // [first ts, last ts + gap)
    accum acc;
    bool fired = false;
  };
  /// A key's sessions (sorted by start, so also by end) and the time of its
  /// entry in index_ (end_watermark = none): one live entry per key, so the
  /// index grows with the keys, not with the records.
  struct key_sessions {
    std::vector<session> list;
    std::int64_t scheduled = end_watermark;
  };

  /// Makes sure the key is looked at by time t (a session end, or end +
  /// allowed lateness for a fired one); a later entry becomes stale.
  void schedule(key_sessions& ks, const value& key, std::int64_t t) {
    if (t >= ks.scheduled) return;
    ks.scheduled = t;
    index_.emplace(t, key);
  }

  void add_session(const value& key, std::int64_t ts, const value& v, const value& body, records& out) {
    const std::int64_t gap = o_.window.gap_ms, lateness = o_.allowed_lateness.count();
    if (ts + gap + lateness <= wm_) {
      late(body);
      return;
    }
    auto [ks, fresh] = sessions_.try_emplace(key, key_hash(key));
    (void)fresh;
    session s{ts, ts + gap, {}, false};
    agg_.add(s.acc, v);
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
    it = ss.erase(first, it);
    it = ss.insert(it, std::move(s));
    schedule(*ks, key, it->fired ? it->end + lateness : it->end);
    if (o_.output == output_mode::update || it->fired) out.push_back(result(it->start, it->end, key, it->acc));
  }

  // ---- firing
  void advance(std::int64_t wm, records& out) {
    if (wm <= wm_) return;
    wm_ = wm;
    const std::int64_t lateness = o_.allowed_lateness.count();
    if (use_panes_) return advance_panes(wm, out);
    if (o_.window.type == window_spec::kind::session) {
      while (!index_.empty() && index_.begin()->first <= wm) {
        const std::int64_t t = index_.begin()->first;
        value key = std::move(index_.begin()->second);
        index_.erase(index_.begin());
        auto* ks = sessions_.find(key, key.hash());
        if (!ks || ks->scheduled != t) continue;  // stale: an earlier entry replaced it
        ks->scheduled = end_watermark;
        std::int64_t next = end_watermark;
        for (auto it = ks->list.begin(); it != ks->list.end();) {
          if (it->end > wm) {  // still open, and so are the later ones
            next = std::min(next, it->end);
            break;
          }
          if (!it->fired) {
            it->fired = true;
            if (o_.output == output_mode::append) out.push_back(result(it->start, it->end, key, it->acc));
          }
          if (it->end + lateness <= wm) {
            it = ks->list.erase(it);
          } else {
            next = std::min(next, it->end + lateness);
            ++it;
          }
        }
        if (next != end_watermark) schedule(*ks, key, next);
        // an emptied list stays (cheap); it is reused when the key comes back
      }
      return;
    }
    const std::int64_t size = o_.window.size_ms;
    for (auto it = windows_.begin(); it != windows_.end() && it->first + size <= wm;) {
      const std::int64_t start = it->first, end = start + size;
      fixed_window& fw = it->second;
      if (!fw.fired) {
        fw.fired = true;
        if (o_.output == output_mode::append)
          fw.table.for_each([&](const value& k, accum& a) { out.push_back(result(start, end, k, a)); });
      }
      if (end + lateness <= wm) {
        if (last_ == it) last_ = windows_.end();
        it = windows_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // ---- tumbling and sliding counts in append mode: panes
  //
  // A pane is [ps, ps + pane_ms_) with ps a multiple of pane_ms_ =
  // gcd(size, slide), so every window is a whole number of panes. A pane
  // holds key → (count, number of the key's first record in the pane); a
  // window reports the key value of its earliest record (keys equal as
  // values may differ in kind, 1 and 1.0), as the per-window path does.
  // wins_ holds exactly the windows the per-window path would hold (those
  // that got a record while not closed for good), with their fired flags.
  struct pane_count {
    std::int64_t n = 0;
    std::uint64_t first = 0;  // seen_ at the key's first record in the pane
  };
  struct pane {
    detail::value_table<pane_count> table{4};
  };
  /// One key of a window being combined from its panes.
  struct combined {
    const value* key;
    std::uint64_t hash;
    std::uint64_t first;
    std::int64_t n;
  };

  std::int64_t slide_ms() const {
    return o_.window.type == window_spec::kind::sliding ? o_.window.slide_ms : o_.window.size_ms;
  }

  /// Start of the last window holding time (or pane start) t: the one that closes for good last.
  std::int64_t last_window_of(std::int64_t t) const {
    const std::int64_t slide = slide_ms();
    return floor_div(t, slide) * slide;
  }

  void add_pane(const value& key, std::int64_t ts, const value& body, records& out) {
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
    // result, latest window first (as the per-window path does)
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
        if (start + size + lateness > wm_) wins_.try_emplace(start, false);
    cur_ = &it->second;
    cur_ps_ = ps;
    cur_last_ = last_start;
    // the pane's windows start at last_start - j × slide for j = 0..k
    const std::int64_t k = (last_start - ps + size - 1) / slide;
    cur_first_end_ = lateness == 0 ? end_watermark : last_start - k * slide + size;  // no lateness: fired = gone
  }

  /// The result of one key in window [start, start + size): its panes
  /// summed, reported with the key value of the record that changed it (as
  /// the per-window path does for updates).
  value pane_key_result(std::int64_t start, const value& key, std::uint64_t h) {
    const std::int64_t end = start + o_.window.size_ms;
    std::int64_t n = 0;
    for (auto it = panes_.lower_bound(start); it != panes_.end() && it->first < end; ++it)
      if (const pane_count* c = it->second.table.find(key, h)) n += c->n;
    return count_result(start, end, key, n);
  }

  /// Emits every key of window [start, start + size): a lone pane's entries
  /// in slot order, or else the panes' keys in order of first appearance
  /// (panes by start, each in slot order) — an order that depends on the
  /// panes only, so a restored operator emits in the same order.
  void fire_panes(std::int64_t start, records& out) {
    const std::int64_t end = start + o_.window.size_ms;
    auto lo = panes_.lower_bound(start), hi = panes_.lower_bound(end);
    if (lo == hi) return;
    if (std::next(lo) == hi) {
      out.reserve(out.size() + lo->second.table.size());
      lo->second.table.for_each([&](const value& k, const pane_count& c) { out.push_back(count_result(start, end, k, c.n)); });
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
    for (const combined& e : comb_) out.push_back(count_result(start, end, *e.key, e.n));
    comb_.clear();
  }

  void advance_panes(std::int64_t wm, records& out) {
    const std::int64_t size = o_.window.size_ms, lateness = o_.allowed_lateness.count();
    for (auto it = wins_.begin(); it != wins_.end() && it->first + size <= wm;) {
      const std::int64_t start = it->first, end = start + size;
      if (!it->second) {
        it->second = true;
        fire_panes(start, out);
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

  value count_result(std::int64_t start, std::int64_t end, const value& key, std::int64_t n) const {
    std::vector<field> f;
    f.reserve(4);
    f.push_back({value("start"), value(start)});
    f.push_back({value("end"), value(end)});
    if (o_.keyed) f.push_back({value("key"), key});
    f.push_back({value("value"), value(n)});
    return value::object(std::move(f));
  }

  // Checkpoints of the panes (shape() has bit 32 set): the windows with their fired
  // flags, then every pane's table in probe order with its capacity, so the
  // restored tables — hence the firing order — are the same.
  void snapshot_panes(state_writer& w) {
    write_sealed(w, 1, [&](state_writer& s) {
      write_common(s);
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
    });
  }

  /// The start of both state layouts: shape byte, records seen, watermark, counters.
  void write_common(state_writer& s) const {
    s.u8(shape());
    s.u64(seen_);
    s.i64(wm_);
    s.u64(counters_.late_records);
    s.u64(counters_.malformed_records);
  }
  void read_common(state_reader& s) {
    if (s.u8() != shape())
      s.fail(error_code::state_mismatch,
             "the state is of a different window operator (shape, keying, output mode, time domain or "
             "state layout changed: count windows keep panes since an earlier format)");
    seen_ = s.u64();
    wm_ = s.i64();
    counters_.late_records = s.u64();
    counters_.malformed_records = s.u64();
  }

  void restore_panes(state_reader& r) {
    read_sealed(r, 1, "event window " + o_.window.describe(), [&](state_reader& s) {
      read_common(s);
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
        const std::uint64_t cap = s.varint();
        const std::uint64_t m = s.varint();
        if (cap < 16 || (cap & (cap - 1)) != 0 || m > (std::uint64_t{1} << 40) || cap > std::max<std::uint64_t>(16, 4 * m) ||
            m * 10 > cap * 7)
          s.fail("bad hash table capacity " + std::to_string(cap) + " for " + std::to_string(m) + " entries");
        it->second.table = detail::value_table<pane_count>(static_cast<std::size_t>(cap));
        for (std::uint64_t j = 0; j < m; ++j) {
          value key = s.val();
          auto [c, new_key] = it->second.table.try_emplace(key, key.hash());
          if (!new_key) s.fail("duplicate key " + shown(key) + " in pane " + std::to_string(ps));
          c->n = s.i64();
          c->first = s.u64();
          if (c->n <= 0) s.fail("a key without records in pane " + std::to_string(ps));
        }
      }
    });
  }

  /// What the state's layout depends on: window kind, keyed, output mode,
  /// time domain, panes (a state of weir before panes has no bit 32).
  std::uint8_t shape() const {
    return static_cast<std::uint8_t>(static_cast<int>(o_.window.type) | (o_.keyed ? 4 : 0) |
                                     (o_.output == output_mode::update ? 8 : 0) | (o_.time ? 0 : 16) |
                                     (use_panes_ ? 32 : 0));
  }

  value result(std::int64_t start, std::int64_t end, const value& key, const accum& acc) const {
    std::vector<field> f;
    f.reserve(4);
    f.push_back({value("start"), value(start)});
    f.push_back({value("end"), value(end)});
    if (o_.keyed) f.push_back({value("key"), key});
    f.push_back({value("value"), agg_.result(acc)});
    return value::object(std::move(f));
  }

  /// The hash of the current record's key: the one the keyed edge passed
  /// (process_context::key_hashes), else computed (through the memo).
  std::uint64_t key_hash(const value& key) { return key_hash_ ? *key_hash_ : hash_(key); }

  void late(const value& body) {
    ++counters_.late_records;
    if (o_.late) o_.late(body);
  }

  event_window_options o_;
  aggregator agg_;
  value null_;
  std::uint64_t seen_ = 0;
  std::int64_t wm_ = no_watermark;
  std::map<std::int64_t, fixed_window> windows_;
  std::map<std::int64_t, fixed_window>::iterator last_ = windows_.end();
  detail::value_table<key_sessions> sessions_;
  std::multimap<std::int64_t, value> index_;  // when to look at a key (session end or purge time) → key
  // panes (count, append mode): see add_pane
  bool use_panes_ = false;
  std::int64_t pane_ms_ = 0;
  std::map<std::int64_t, bool> wins_;  // window start → fired
  std::map<std::int64_t, pane> panes_;  // pane start → pane
  pane* cur_ = nullptr;  // the pane of the last record (a cache), with its start,
  std::int64_t cur_ps_ = 0, cur_last_ = 0, cur_first_end_ = 0;  // last window start, first window end
  std::vector<combined> comb_;           // fire_panes scratch: keys in order of first appearance
  std::vector<std::uint32_t> comb_idx_;  // and their index + 1, by hash
  hash_memo hash_;               // key → hash, for the keys seen again and again
  const std::uint64_t* key_hash_ = nullptr;  // process(): the current record's key hash, if the edge passed it
};

}  // namespace

std::int64_t event_time_of(const value& v, const std::string& what) {
  if (v.is_int()) return v.as_int();
  if (v.is_real()) {
    double d = v.as_real();
    if (d >= -9.2e18 && d <= 9.2e18) return static_cast<std::int64_t>(d);
  }
  std::string hint = v.is_string() ? "; parse strings with parse_time(s, format)" : "";
  throw record_error(error_code::type_mismatch, what + ": expected the event time in ms (an int), got " +
                     std::string(kind_name(v.type())) + (v.is_null() ? "" : " " + shown(v)) + hint);
}

operator_ptr make_watermark_assigner(watermark_options opts) {
  if (!opts.time)
    throw pipeline_error(error_code::invalid_argument, "a watermark needs an event-time expression (time = ...)");
  if (opts.delay.count() < 0)
    throw pipeline_error(error_code::invalid_argument,
                         "watermark delay must not be negative, got " + std::to_string(opts.delay.count()) + "ms");
  if (opts.idle_timeout.count() < 0)
    throw pipeline_error(error_code::invalid_argument,
                         "idle timeout must not be negative, got " + std::to_string(opts.idle_timeout.count()) + "ms");
  return std::make_unique<watermark_assigner>(std::move(opts));
}

operator_ptr make_event_window(event_window_options opts) {
  return std::make_unique<event_window>(std::move(opts));
}

window_spec window_spec::tumbling(std::chrono::milliseconds size) {
  window_spec w;
  w.type = kind::tumbling;
  w.size_ms = size.count();
  return w;
}

window_spec window_spec::sliding(std::chrono::milliseconds size, std::chrono::milliseconds slide) {
  window_spec w;
  w.type = kind::sliding;
  w.size_ms = size.count();
  w.slide_ms = slide.count();
  return w;
}

window_spec window_spec::session(std::chrono::milliseconds gap) {
  window_spec w;
  w.type = kind::session;
  w.gap_ms = gap.count();
  return w;
}

std::string window_spec::describe() const {
  switch (type) {
    case kind::tumbling: return "tumbling(" + duration_text(size_ms) + ")";
    case kind::sliding: return "sliding(" + duration_text(size_ms) + ", " + duration_text(slide_ms) + ")";
    case kind::session: return "session(" + duration_text(gap_ms) + ")";
  }
  return "window";
}

}  // namespace weir
