// weir — processing-time windows over micro-batches (Spark DStream windows).
//
// Every operator here follows one scheme (Spark `WindowedDStream` /
// `ReducedWindowedDStream`): the records (or the per-key reduction) of each
// input batch are kept in a deque stamped with the batch time; at a batch end
// t that is a multiple of the slide the window (t - window, t] is assembled
// from them. Batches without data are not stored. Memory: the batches of one
// window (plus one slide for the incremental forms, which subtract the
// batches that left).
//
// The input stream may itself be windowed (ctx.input_slide() > B): batch ends
// then arrive only at multiples of the input slide, each carrying the
// parent's output at that time, and the window covers parent outputs with
// time in (t - window, t] — the same arithmetic.
//
// End of stream: drain_horizon returns the end of the last window that still
// holds the last batch with data (the largest multiple of the slide below
// last_data + window). The incremental forms (inverse function,
// count_by_window, count_by_value_and_window) stop there too: they do not
// emit the [0] / (k, 0) of the windows after everything has left, which
// Spark would repeat forever.
#include "weir/operators/window_operators.hpp"

#include <algorithm>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "weir/operators/basic_operators.hpp"
#include "weir/operators/window_rule.hpp"
#include "weir/operators/detail/state_codec.hpp"
#include "weir/operators/detail/value_table.hpp"

namespace weir {

namespace {

using ms = std::chrono::milliseconds;
using table = detail::value_table<value>;

/// dst[k] = dst[k] ⊕ v for every (k, v) of src (⊕ = r.apply; absent: v).
void merge_into(table& dst, const table& src, const reducer& r) {
  src.for_each([&](const value& k, const value& v) {
    auto [acc, fresh] = dst.try_emplace(k, k.hash());
    *acc = fresh ? v : r.apply(*acc, v);
  });
}

/// Checkpoint codec of a per-key table of values.
void write_value_table(state_writer& w, const table& t) {
  detail::write_table(w, t, [](state_writer& w, const value& v) { w.val(v); });
}
table read_value_table(state_reader& r) {
  return detail::read_table<value>(r, [](state_reader& r) { return r.val(); });
}

/// acc = acc ⊕ v (absent: v).
void fold(std::optional<value>& acc, const value& v, const reducer& r) {
  acc = acc ? r.apply(*acc, v) : v;
}

/// Window bookkeeping shared by every window operator: window and slide (ms),
/// validation in open(), the deque of per-batch data, pruning, drain horizon.
template <class Data>
class window_base : public stream_operator {
public:
  window_base(const char* name, ms w, ms s) : name_(name), window_(w.count()), slide_(s.count()) {}

  void open(const operator_context& ctx) override {
    const ms in = ctx.input_slide();
    slide_ = resolve_window_slide(ms(slide_), in).count();
    check_window(name_, ms(window_), ms(slide_), ctx.batch_interval, in);
  }

  std::int64_t drain_horizon(std::int64_t last_ms) const override {
    if (last_data_ < 0) return last_ms;
    // the last window holding batch L ends at the largest multiple of slide < L + window
    std::int64_t end = ((last_data_ + window_ - 1) / slide_) * slide_;
    return end > last_ms ? end : last_ms;
  }

protected:
  struct batch {
    std::int64_t time;
    Data data;
  };

  /// Stores the current batch's data (if any) under time t.
  void push_batch(std::int64_t t, Data&& d) {
    batches_.push_back({t, std::move(d)});
    last_data_ = t;
  }
  /// Drops the batches with time <= t.
  void prune_through(std::int64_t t) {
    while (!batches_.empty() && batches_.front().time <= t) batches_.pop_front();
  }
  bool emits(std::int64_t t) const { return t % slide_ == 0; }

  // --- checkpoints: window and slide (checked on restore), the time of the
  // last batch with data, and the stored batches with their times.

  /// The window bookkeeping read back by read_window, installed by install().
  struct saved_window {
    std::int64_t last_data = -1;
    std::deque<batch> batches;
  };
  template <class WriteData>
  void write_window(state_writer& w, WriteData&& write_data) const {
    w.i64(window_);
    w.i64(slide_);
    w.i64(last_data_);
    w.varint(batches_.size());
    for (auto& b : batches_) {
      w.i64(b.time);
      write_data(w, b.data);
    }
  }
  template <class ReadData>
  saved_window read_window(state_reader& r, ReadData&& read_data) const {
    const std::int64_t window = r.i64(), slide = r.i64();
    if (window != window_ || slide != slide_)
      r.fail(error_code::state_mismatch,
             "state of a window of " + std::to_string(window) + "ms sliding every " + std::to_string(slide) +
                 "ms, restored into one of " + std::to_string(window_) + "ms sliding every " +
                 std::to_string(slide_) + "ms");
    saved_window s;
    s.last_data = r.i64();
    if (s.last_data < -1) r.fail("impossible time of the last batch with data " + std::to_string(s.last_data));
    const std::size_t n = detail::read_count(r, 9, "window batches");
    std::int64_t prev = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t t = r.i64();
      if (t <= prev || t > s.last_data)
        r.fail("window batch time " + std::to_string(t) + " out of order (previous " + std::to_string(prev) +
               ", last with data " + std::to_string(s.last_data) + ")");
      prev = t;
      s.batches.push_back({t, read_data(r)});
    }
    return s;
  }
  void install(saved_window&& s) {
    last_data_ = s.last_data;
    batches_ = std::move(s.batches);
  }
  /// Calls f(data) for the stored batches with time in (lo, hi], in time order.
  template <class F>
  void for_range(std::int64_t lo, std::int64_t hi, F&& f) {
    for (auto& b : batches_)
      if (b.time > lo && b.time <= hi) f(b.data);
  }

  const char* name_;
  std::int64_t window_, slide_;
  std::int64_t last_data_ = -1;
  std::deque<batch> batches_;
};

// --- window -------------------------------------------------------------------

/// Spark `WindowedDStream`: the union of the batches in (t - window, t].
class window_op final : public window_base<records> {
public:
  window_op(ms w, ms s) : window_base("window", w, s) {}

  void process(const process_context&, records& in, records&) override {
    if (current_.empty()) {
      current_ = std::move(in);
      in.clear();
      return;
    }
    current_.reserve(current_.size() + in.size());
    for (auto& r : in) current_.push_back(std::move(r));
  }

  void on_batch_end(std::int64_t t, records& out) override {
    if (!current_.empty()) push_batch(t, std::move(current_));
    current_ = records();
    prune_through(t - window_);
    if (!emits(t)) return;
    std::size_t n = 0;
    for (auto& b : batches_) n += b.data.size();
    out.reserve(out.size() + n);
    for (auto& b : batches_) out.insert(out.end(), b.data.begin(), b.data.end());
  }

  /// State: the stored batches and the records of the current batch.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, name_, 1, [&](state_writer& w) {
      write_window(w, [](state_writer& w, const records& d) { detail::write_records(w, d); });
      detail::write_records(w, current_);
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    saved_window s;
    records cur;
    detail::read_state(r, name_, 1, [&](state_reader& r) {
      s = read_window(r, [](state_reader& r) { return detail::read_records(r); });
      cur = detail::read_records(r);
    });
    install(std::move(s));
    current_ = std::move(cur);
  }

private:
  records current_;
};

// --- reduce_by_window -----------------------------------------------------------

/// Spark `reduceByWindow(f, w, s)` = reduce(f).window(w, s).reduce(f): one
/// reduced value per batch, reduced again over the window in batch order.
class reduce_by_window_op final : public window_base<value> {
public:
  reduce_by_window_op(reducer r, ms w, ms s) : window_base("reduce_by_window", w, s), r_(std::move(r)) {}

  void process(const process_context&, records& in, records&) override {
    for (auto& rec : in) fold(current_, r_.init(rec), r_);
  }

  void on_batch_end(std::int64_t t, records& out) override {
    if (current_) push_batch(t, std::move(*current_));
    current_.reset();
    prune_through(t - window_);
    if (!emits(t)) return;
    std::optional<value> acc;
    for (auto& b : batches_) fold(acc, b.data, r_);
    if (acc) out.push_back(std::move(*acc));
  }

  /// State: the reduction of each stored batch and of the current batch.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, name_, 1, [&](state_writer& w) {
      write_window(w, [](state_writer& w, const value& v) { w.val(v); });
      detail::write_optional(w, current_);
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    saved_window s;
    std::optional<value> cur;
    detail::read_state(r, name_, 1, [&](state_reader& r) {
      s = read_window(r, [](state_reader& r) { return r.val(); });
      cur = detail::read_optional(r);
    });
    install(std::move(s));
    current_ = std::move(cur);
  }

private:
  reducer r_;
  std::optional<value> current_;
};

/// Spark `reduceByWindow(f, inv, w, s)` = map((1, _)).reduceByKeyAndWindow(f,
/// inv, w, s).map(_._2): ReducedWindowedDStream on a single key, so [] until
/// the first element, then one value at every slide (the key never leaves:
/// there is no filter). Also `countByWindow` (f = count, inv = sub).
class reduce_by_window_inv_op final : public window_base<value> {
public:
  reduce_by_window_inv_op(const char* name, reducer r, reducer inv, ms w, ms s)
      : window_base(name, w, s), r_(std::move(r)), inv_(std::move(inv)) {}

  void process(const process_context&, records& in, records&) override {
    for (auto& rec : in) fold(current_, r_.init(rec), r_);
  }

  void on_batch_end(std::int64_t t, records& out) override {
    if (current_) push_batch(t, std::move(*current_));
    current_.reset();
    if (!emits(t)) return;
    const std::int64_t tp = t - slide_;  // the previous window's end
    if (state_) {
      // previous window ⊖ (batches that left) ⊕ (batches that entered)
      std::optional<value> old_v, new_v;
      for_range(tp - window_, t - window_, [&](const value& v) { fold(old_v, v, r_); });
      for_range(tp, t, [&](const value& v) { fold(new_v, v, r_); });
      if (old_v) state_ = inv_.apply(*state_, *old_v);
      if (new_v) state_ = r_.apply(*state_, *new_v);
    } else {
      // no previous value: start from the new batches inside the window
      std::optional<value> fresh;
      for_range(std::max(tp, t - window_), t, [&](const value& v) { fold(fresh, v, r_); });
      state_ = std::move(fresh);
    }
    prune_through(t - window_);
    if (state_) out.push_back(*state_);
  }

  /// State: the reduction of each stored batch and of the current batch, and
  /// the previous window's value.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, name_, 1, [&](state_writer& w) {
      write_window(w, [](state_writer& w, const value& v) { w.val(v); });
      detail::write_optional(w, current_);
      detail::write_optional(w, state_);
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    saved_window s;
    std::optional<value> cur, st;
    detail::read_state(r, name_, 1, [&](state_reader& r) {
      s = read_window(r, [](state_reader& r) { return r.val(); });
      cur = detail::read_optional(r);
      st = detail::read_optional(r);
    });
    install(std::move(s));
    current_ = std::move(cur);
    state_ = std::move(st);
  }

private:
  reducer r_, inv_;
  std::optional<value> current_;
  std::optional<value> state_;  ///< the previous window's value; none before the first element
};

// --- reduce_by_key_and_window ----------------------------------------------------

/// Adds the pair record `rec` (or, when `by_record`, (rec, rec)) to a per-batch table.
void add_to_batch(table& t, const value& rec, const reducer& r, bool by_record, const char* op) {
  if (by_record) {
    auto [acc, fresh] = t.try_emplace(rec, rec.hash());
    *acc = fresh ? r.init(rec) : r.apply(*acc, r.init(rec));
    return;
  }
  auto [k, v] = as_pair(rec, op);
  auto [acc, fresh] = t.try_emplace(*k, k->hash());
  *acc = fresh ? r.init(*v) : r.apply(*acc, r.init(*v));
}

/// Spark `reduceByKeyAndWindow(f, w, s)` = reduceByKey(f).window(w, s).reduceByKey(f):
/// per-batch reduced tables merged over the window in batch order. A filter
/// (not in Spark's non-incremental form) is applied to the output.
class reduce_by_key_and_window_op final : public window_base<table> {
public:
  reduce_by_key_and_window_op(reducer r, ms w, ms s, filter_fn filter)
      : window_base("reduce_by_key_and_window", w, s), r_(std::move(r)), filter_(std::move(filter)) {}

  void process(const process_context&, records& in, records&) override {
    for (auto& rec : in) add_to_batch(current_, rec, r_, false, name_);
  }

  void on_batch_end(std::int64_t t, records& out) override {
    if (!current_.empty()) {
      push_batch(t, std::move(current_));
      current_ = table();
    }
    prune_through(t - window_);
    if (!emits(t)) return;
    auto emit = [&](const value& k, const value& v) {
      value p = value::pair(k, v);
      if (!filter_ || filter_(p)) out.push_back(std::move(p));
    };
    if (batches_.size() == 1) {
      batches_.front().data.for_each(emit);
      return;
    }
    table merged(64);
    for (auto& b : batches_) merge_into(merged, b.data, r_);
    out.reserve(out.size() + merged.size());
    merged.for_each(emit);
  }

  /// State: the per-key reduction of each stored batch and of the current batch.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, name_, 1, [&](state_writer& w) {
      write_window(w, write_value_table);
      write_value_table(w, current_);
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    saved_window s;
    table cur;
    detail::read_state(r, name_, 1, [&](state_reader& r) {
      s = read_window(r, read_value_table);
      cur = read_value_table(r);
    });
    install(std::move(s));
    current_ = std::move(cur);
  }

private:
  reducer r_;
  filter_fn filter_;
  table current_;
};

/// Spark `ReducedWindowedDStream`: the window at t starts from the window at
/// t - slide (the state), applies the inverse with the reduction of the
/// batches that left ((t - slide - window, t - window]) and the function with
/// the reduction of those that entered ((t - slide, t]). A key not in the
/// previous window starts from the new batches inside the window. `filter`
/// false drops the key from output and state. With `by_record` the records
/// themselves are the keys, each counting r.init(record) (countByValueAndWindow).
///
/// Deviation from Spark: a key present only in batches that left (possible
/// after the filter dropped it while it still had batches in the window) is
/// skipped; Spark throws "Neither previous window has value for key, nor new
/// values found". For window < slide, a key new to the state starts from the
/// new batches inside the window only (Spark would reduce all of (t - slide, t]).
class reduce_by_key_and_window_inv_op final : public window_base<table> {
public:
  reduce_by_key_and_window_inv_op(const char* name, reducer r, reducer inv, ms w, ms s,
                                  filter_fn filter, bool by_record)
      : window_base(name, w, s),
        r_(std::move(r)),
        inv_(std::move(inv)),
        filter_(std::move(filter)),
        by_record_(by_record) {}

  void process(const process_context&, records& in, records&) override {
    for (auto& rec : in) add_to_batch(current_, rec, r_, by_record_, name_);
  }

  void on_batch_end(std::int64_t t, records& out) override {
    if (!current_.empty()) {
      push_batch(t, std::move(current_));
      current_ = table();
    }
    if (!emits(t)) return;
    const std::int64_t tp = t - slide_;  // the previous window's end
    table old_t, new_t, fresh_t;
    const bool short_window = window_ < slide_;
    for (auto& b : batches_) {
      if (b.time > tp - window_ && b.time <= t - window_) merge_into(old_t, b.data, r_);
      if (b.time > tp && b.time <= t) merge_into(new_t, b.data, r_);
      if (short_window && b.time > t - window_ && b.time <= t) merge_into(fresh_t, b.data, r_);
    }
    const table& fresh = short_window ? fresh_t : new_t;

    table next(state_.size() + fresh.size());
    out.reserve(out.size() + state_.size() + fresh.size());
    auto keep = [&](const value& k, std::uint64_t h, value v) {
      value p = value::pair(k, v);
      if (filter_ && !filter_(p)) return;
      *next.try_emplace(k, h).first = std::move(v);
      out.push_back(std::move(p));
    };
    state_.for_each([&](const value& k, const value& prev) {
      const std::uint64_t h = k.hash();
      value v = prev;
      if (const value* o = old_t.find(k, h)) v = inv_.apply(v, *o);
      if (const value* n = new_t.find(k, h)) v = r_.apply(v, *n);
      keep(k, h, std::move(v));
    });
    fresh.for_each([&](const value& k, const value& v) {
      const std::uint64_t h = k.hash();
      if (state_.find(k, h) == nullptr) keep(k, h, v);
    });
    state_ = std::move(next);
    prune_through(t - window_);
  }

  /// State: the per-key reduction of each stored batch and of the current
  /// batch, and the previous window's (key, value)s.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, name_, 1, [&](state_writer& w) {
      write_window(w, write_value_table);
      write_value_table(w, current_);
      write_value_table(w, state_);
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    saved_window s;
    table cur, st;
    detail::read_state(r, name_, 1, [&](state_reader& r) {
      s = read_window(r, read_value_table);
      cur = read_value_table(r);
      st = read_value_table(r);
    });
    install(std::move(s));
    current_ = std::move(cur);
    state_ = std::move(st);
  }

private:
  reducer r_, inv_;
  filter_fn filter_;
  bool by_record_;
  table current_;
  table state_;  ///< the previous window's (key, value)s
};

// --- group_by_key_and_window -------------------------------------------------------

/// Spark `groupByKeyAndWindow(w, s)` = groupByKey.window(w, s).combineByKey(++):
/// (k, [v, ...]) with values in batch order, then arrival order.
class group_by_key_and_window_op final : public window_base<records> {
public:
  group_by_key_and_window_op(ms w, ms s) : window_base("group_by_key_and_window", w, s) {}

  void process(const process_context&, records& in, records&) override {
    current_.reserve(current_.size() + in.size());
    for (auto& rec : in) {
      (void)as_pair(rec, name_);  // reject non-pairs at the record
      current_.push_back(std::move(rec));
    }
  }

  void on_batch_end(std::int64_t t, records& out) override {
    if (!current_.empty()) push_batch(t, std::move(current_));
    current_ = records();
    prune_through(t - window_);
    if (!emits(t)) return;
    detail::value_table<std::vector<value>> groups(64);
    for (auto& b : batches_)
      for (auto& rec : b.data) {
        auto kv = rec.as_array();
        groups.try_emplace(kv[0], kv[0].hash()).first->push_back(kv[1]);
      }
    out.reserve(out.size() + groups.size());
    groups.for_each([&](const value& k, std::vector<value>& vs) {
      out.push_back(value::pair(k, value::array(std::move(vs))));
    });
  }

  /// State: the pairs of each stored batch and of the current batch.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, name_, 1, [&](state_writer& w) {
      write_window(w, [](state_writer& w, const records& d) { detail::write_records(w, d); });
      detail::write_records(w, current_);
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    saved_window s;
    records cur;
    auto read_pairs = [&](state_reader& r) {
      records rs = detail::read_records(r);
      for (auto& p : rs)  // on_batch_end indexes [0] and [1] without checking
        if (!p.is_array() || p.as_array().size() != 2) r.fail("a window record that is not a pair");
      return rs;
    };
    detail::read_state(r, name_, 1, [&](state_reader& r) {
      s = read_window(r, read_pairs);
      cur = read_pairs(r);
    });
    install(std::move(s));
    current_ = std::move(cur);
  }

private:
  records current_;
};

bool nonzero_count(const value& p) {
  const value& c = p.as_array()[1];
  return !(c.is_int() && c.as_int() == 0);
}

}  // namespace

operator_ptr make_window(ms window, ms slide) { return std::make_unique<window_op>(window, slide); }

operator_ptr make_count_by_window(ms window, ms slide) {
  return std::make_unique<reduce_by_window_inv_op>("count_by_window", reducer::count(), reducer::sub(),
                                                   window, slide);
}

operator_ptr make_reduce_by_window(reducer r, ms window, ms slide, std::optional<reducer> inverse) {
  if (inverse)
    return std::make_unique<reduce_by_window_inv_op>("reduce_by_window", std::move(r), std::move(*inverse),
                                                     window, slide);
  return std::make_unique<reduce_by_window_op>(std::move(r), window, slide);
}

operator_ptr make_reduce_by_key_and_window(reducer r, ms window, ms slide, std::optional<reducer> inverse,
                                           filter_fn filter) {
  if (inverse)
    return std::make_unique<reduce_by_key_and_window_inv_op>("reduce_by_key_and_window", std::move(r),
                                                             std::move(*inverse), window, slide,
                                                             std::move(filter), false);
  return std::make_unique<reduce_by_key_and_window_op>(std::move(r), window, slide, std::move(filter));
}

operator_ptr make_group_by_key_and_window(ms window, ms slide) {
  return std::make_unique<group_by_key_and_window_op>(window, slide);
}

operator_ptr make_count_by_value_and_window(ms window, ms slide) {
  return std::make_unique<reduce_by_key_and_window_inv_op>("count_by_value_and_window", reducer::count(),
                                                           reducer::sub(), window, slide, nonzero_count,
                                                           true);
}

}  // namespace weir
