// weir — keyed state across batches: Spark's updateStateByKey (StateDStream)
// and mapWithState (MapWithStateDStream / MapWithStateRDD / StateImpl).
//
// State lives in a detail::value_table. The table has no erase, so a removed
// key stays as a tombstone (a slot whose state does not exist) until the
// table is compacted at a batch end, once tombstones outnumber live keys.
#include "weir/operators/state_operators.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "weir/operators/basic_operators.hpp"
#include "weir/operators/detail/state_codec.hpp"
#include "weir/operators/detail/value_table.hpp"
#include "weir/operators/partitioning.hpp"

namespace weir {

namespace {

/// Rebuilds `t` with the entries for which live(val) holds, once dead
/// entries outnumber the live ones (amortised O(1) per removal).
template <class V, class Live>
void compact(detail::value_table<V>& t, std::size_t& dead, Live live) {
  if (dead < 64 || dead * 2 < t.size()) return;
  detail::value_table<V> fresh(2 * (t.size() - dead) + 16);
  t.for_each([&](value& k, V& v) {
    if (live(v)) *fresh.try_emplace(k, k.hash()).first = std::move(v);
  });
  t = std::move(fresh);
  dead = 0;
}

// --- updateStateByKey ----------------------------------------------------------

/// Spark StateDStream: the batch is cogrouped with the previous state and the
/// update function runs for every key of either, with the key's values of the
/// batch (arrival order, possibly empty) and its state (None → null); a None
/// (null) result drops the key. The new state RDD is this batch's output, so
/// the whole state is emitted every batch, also when the batch is empty. The
/// initial state (Spark's initialRDD) is the state before the first batch
/// (StateDStream.computeUsingPreviousRDD with initialRDD as the previous
/// state). The function is the (values, state) form or the time-aware
/// (time, key, values, state) form.
class update_state_by_key_op final : public stream_operator {
public:
  update_state_by_key_op(update_state_fn f, update_state_options o) : f_(std::move(f)), initial_(std::move(o.initial)) {}
  update_state_by_key_op(update_state_time_fn f, update_state_options o)
      : timed_f_(std::move(f)), initial_(std::move(o.initial)) {}

  /// Loads the initial state: only the keys routed to this instance (Spark
  /// partitions the initial RDD with the state's partitioner).
  void open(const operator_context& ctx) override {
    const auto par = static_cast<std::size_t>(std::max(1, ctx.parallelism));
    table_ = detail::value_table<entry>(2 * initial_.size() / par + 16);
    dead_ = 0;
    for (auto& rec : initial_) {
      auto [k, s] = as_pair(rec, "update_state_by_key initial state");
      const std::uint64_t h = k->hash();
      if (ctx.parallelism > 1 && partition_of(h, ctx.parallelism) != ctx.instance) continue;
      entry& e = *table_.try_emplace(*k, h).first;
      e.state = *s;
      e.has_state = !s->is_null();
    }
    initial_ = records{};
  }

  void process(const process_context&, records& in, records&) override {
    for (auto& rec : in) {
      auto [k, v] = as_pair(rec, "update_state_by_key");
      entry& e = *table_.try_emplace(*k, k->hash()).first;
      e.values.push_back(*v);
    }
  }

  void on_batch_end(std::int64_t t, records& out) override {
    static const value null_state;
    dead_ = 0;
    table_.for_each([&](const value& k, entry& e) {
      if (!e.has_state && e.values.empty()) {  // tombstone
        ++dead_;
        return;
      }
      const value& state = e.has_state ? e.state : null_state;
      value next = timed_f_ ? timed_f_(t, k, value::array(std::move(e.values)), state)
                            : f_(value::array(std::move(e.values)), state);
      e.values = records{};
      if (next.is_null()) {
        e.state = value{};
        e.has_state = false;
        ++dead_;  // removed, or a new key that is not stored
        return;
      }
      e.state = std::move(next);
      e.has_state = true;
      out.push_back(value::pair(k, e.state));
    });
    compact(table_, dead_, [](const entry& e) { return e.has_state; });
  }

  /// State: the table as it is (tombstones included, so that the restored
  /// table has the same layout and emits in the same order): per key, whether
  /// it has a state, the state, and its values of the current batch.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, "update_state_by_key", 1, [&](state_writer& w) {
      detail::write_table(w, table_, [](state_writer& w, const entry& e) {
        w.boolean(e.has_state);
        if (e.has_state) w.val(e.state);
        detail::write_records(w, e.values);
      }, [](const entry& e) { detail::prefetch_value(e.state); });
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    detail::value_table<entry> t;
    detail::read_state(r, "update_state_by_key", 1, [&](state_reader& r) {
      t = detail::read_table<entry>(r, [](state_reader& r) {
        entry e;
        e.has_state = r.boolean();
        if (e.has_state) e.state = r.val();
        e.values = detail::read_records(r);
        return e;
      });
    });
    table_ = std::move(t);
    dead_ = 0;  // recounted at every batch end
  }

private:
  struct entry {
    value state;
    records values;  ///< the key's values in the current batch
    bool has_state = false;
  };
  update_state_fn f_;             ///< the (values, state) form, or
  update_state_time_fn timed_f_;  ///< the (time, key, values, state) form
  records initial_;               ///< until open()
  detail::value_table<entry> table_;
  std::size_t dead_ = 0;
};

// --- mapWithState --------------------------------------------------------------

/// Spark StateImpl: wraps the state of one key for one call of the function.
class state_impl final : public state_handle {
public:
  void wrap(const value* state) {
    if (state) {
      state_ = *state;
      defined_ = true;
    } else {
      state_ = value{};
      defined_ = false;
    }
    timing_out_ = removed_ = updated_ = false;
  }
  void wrap_timing_out(const value& state) {
    state_ = state;
    defined_ = true;
    timing_out_ = true;
    removed_ = updated_ = false;
  }

  bool exists() const override { return defined_; }
  const value& get() const override { return state_; }
  void update(value v) override {
    if (removed_) misuse("map_with_state: cannot update the state after it has been removed");
    if (timing_out_) misuse("map_with_state: cannot update the state that is timing out");
    state_ = std::move(v);
    defined_ = true;
    updated_ = true;
  }
  void remove() override {
    if (timing_out_) misuse("map_with_state: cannot remove the state that is timing out");
    if (removed_) misuse("map_with_state: cannot remove the state that has already been removed");
    state_ = value{};
    defined_ = false;
    updated_ = false;
    removed_ = true;
  }
  bool is_timing_out() const override { return timing_out_; }

  bool removed() const { return removed_; }
  bool updated() const { return updated_; }
  value take() { return std::move(state_); }

private:
  [[noreturn]] static void misuse(const char* what) { throw record_error(error_code::state_misuse, what); }

  value state_;
  bool defined_ = false, timing_out_ = false, updated_ = false, removed_ = false;
};

/// Spark MapWithStateRDDRecord.updateRecordWithData, split in two: the
/// function runs per record in process() (records of a batch arrive before
/// its end), the timeout scan and the snapshot at on_batch_end(t).
///
/// A key's update time is the time of the batch of its last stored update;
/// the batch time is only known at the batch end, so a key touched in the
/// current batch is marked `pending` and stamped at on_batch_end(t). Like
/// Spark, a record refreshes the update time of an existing state even when
/// the function does not update it, if a timeout is set; initial states are
/// stamped with the first batch's time (MapWithStateRDD.createFromPairRDD).
/// A key times out at batch t when update_time < t - timeout (strict, as
/// StateMap.getByTime); it then gets one call with a null value and a timing
/// out state, whatever it returns is emitted, and the key is removed.
class map_with_state_op final : public stream_operator {
public:
  map_with_state_op(map_with_state_fn f, map_with_state_options o)
      : f_(std::move(f)), timeout_(o.timeout.count()), initial_(std::move(o.initial)), tagged_(o.tagged),
        snapshots_(o.tagged && o.snapshots) {}

  /// Loads the initial state: only the keys routed to this instance (Spark
  /// partitions the initial state RDD with the state's partitioner).
  void open(const operator_context& ctx) override {
    table_ = detail::value_table<entry>(2 * initial_.size() / static_cast<std::size_t>(std::max(1, ctx.parallelism)) + 16);
    dead_ = 0;
    for (auto& rec : initial_) {
      auto [k, s] = as_pair(rec, "map_with_state initial state");
      std::uint64_t h = k->hash();
      if (ctx.parallelism > 1 && partition_of(h, ctx.parallelism) != ctx.instance) continue;
      entry& e = *table_.try_emplace(*k, h).first;
      e.state = *s;
      e.exists = true;
      e.updated = pending;
    }
    initial_ = records{};
  }

  void process(const process_context&, records& in, records& out) override {
    for (auto& rec : in) {
      auto [k, v] = as_pair(rec, "map_with_state");
      std::uint64_t h = k->hash();
      entry* e = table_.find(*k, h);
      handle_.wrap(e && e->exists ? &e->state : nullptr);
      value mapped = f_(*k, *v, handle_);
      if (handle_.removed()) {
        if (e && e->exists) {
          e->exists = false;
          e->state = value{};
          ++dead_;
        }
      } else if (handle_.updated() || (handle_.exists() && timeout_ > 0)) {
        if (!e) e = table_.try_emplace(*k, h).first;
        else if (!e->exists) --dead_;
        e->state = handle_.take();
        e->exists = true;
        e->updated = pending;
      }
      emit(out, std::move(mapped));
    }
  }

  void on_batch_end(std::int64_t t, records& out) override {
    if (timeout_ > 0 || snapshots_) {
      const std::int64_t threshold = t - timeout_;
      table_.for_each([&](const value& k, entry& e) {
        if (!e.exists) return;
        if (e.updated == pending) {
          e.updated = t;
        } else if (timeout_ > 0 && e.updated < threshold) {
          handle_.wrap_timing_out(e.state);
          value mapped = f_(k, null_value_, handle_);
          e.exists = false;
          e.state = value{};
          ++dead_;
          emit(out, std::move(mapped));
          return;
        }
        if (snapshots_) out.push_back(value::pair(1, value::pair(k, e.state)));
      });
    }
    compact(table_, dead_, [](const entry& e) { return e.exists; });
  }

  /// State: the table as it is (tombstones included: same layout, same
  /// emission order after a restore): per key, whether the state exists, the
  /// state and its update time (batch time in ms, or pending = updated in the
  /// current batch), which the timeouts are computed from. The initial state
  /// loaded by open() is replaced by the checkpointed table.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, "map_with_state", 1, [&](state_writer& w) {
      w.i64(timeout_);
      w.boolean(tagged_);
      detail::write_table(w, table_, [](state_writer& w, const entry& e) {
        w.boolean(e.exists);
        if (!e.exists) return;
        w.val(e.state);
        w.i64(e.updated);
      }, [](const entry& e) { detail::prefetch_value(e.state); });
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    detail::value_table<entry> t;
    std::size_t dead = 0;
    detail::read_state(r, "map_with_state", 1, [&](state_reader& r) {
      const std::int64_t timeout = r.i64();
      const bool tagged = r.boolean();
      if (timeout != timeout_ || tagged != tagged_)
        r.fail(error_code::state_mismatch, "state of a map_with_state with timeout " + std::to_string(timeout) + "ms" +
               (tagged ? " and state snapshots" : "") + ", restored into one with timeout " +
               std::to_string(timeout_) + "ms" + (tagged_ ? " and state snapshots" : ""));
      t = detail::read_table<entry>(r, [&](state_reader& r) {
        entry e;
        e.exists = r.boolean();
        if (!e.exists) {
          ++dead;
          return e;
        }
        e.state = r.val();
        e.updated = r.i64();
        return e;
      });
    });
    table_ = std::move(t);
    dead_ = dead;
  }

private:
  static constexpr std::int64_t pending = std::numeric_limits<std::int64_t>::max();

  struct entry {
    value state;
    std::int64_t updated = pending;  ///< batch time of the last update; pending = this batch
    bool exists = false;             ///< false: a tombstone
  };

  void emit(records& out, value mapped) {
    out.push_back(tagged_ ? value::pair(0, std::move(mapped)) : std::move(mapped));
  }

  map_with_state_fn f_;
  std::int64_t timeout_;  ///< ms; 0 = no timeout
  records initial_;
  bool tagged_;
  bool snapshots_;  ///< emit (1, (key, state)) at batch ends
  detail::value_table<entry> table_;
  std::size_t dead_ = 0;
  state_impl handle_;
  const value null_value_;
};

}  // namespace

operator_ptr make_update_state_by_key(update_state_fn f, update_state_options o) {
  return std::make_unique<update_state_by_key_op>(std::move(f), std::move(o));
}

operator_ptr make_update_state_by_key(update_state_time_fn f, update_state_options o) {
  return std::make_unique<update_state_by_key_op>(std::move(f), std::move(o));
}

operator_ptr make_map_with_state(map_with_state_fn f, map_with_state_options o) {
  return std::make_unique<map_with_state_op>(std::move(f), std::move(o));
}

}  // namespace weir
