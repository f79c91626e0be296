// weir — keyed state across batches: Spark's updateStateByKey and mapWithState.
#pragma once

#include <chrono>
#include <functional>

#include "weir/operators/stream_operator.hpp"

namespace weir {

/// f(new_values, state) -> new state, or null to remove the key. `new_values`
/// is an array (possibly empty) of the key's values in this batch; `state` is
/// null for a key without state.
using update_state_fn = std::function<value(const value& new_values, const value& state)>;

/// Spark's time-aware form, f(time, key, new_values, state) -> new state (or
/// null): as update_state_fn, with the batch time (ms, Spark's
/// `Time.milliseconds`) and the key.
using update_state_time_fn =
    std::function<value(std::int64_t batch_time_ms, const value& key, const value& new_values, const value& state)>;

struct update_state_options {
  /// Initial state: (key, state) pairs (Spark's `initialRDD`); a key given
  /// twice keeps its last state, a null state is no state. Each parallel
  /// instance keeps the keys routed to it. Ignored when the operator is
  /// restored from a checkpoint (the checkpoint holds the state).
  records initial;
};

/// [keyed] Spark `updateStateByKey(f)`: each batch, f is called for every key
/// in the state and every key in the batch; the whole state is emitted every
/// batch as (key, state) pairs; f returning null removes the key. With
/// `o.initial`, the state starts with those keys: in the first batch f is
/// called for them too, with their values of the batch (possibly none).
/// @errors record_error for an input record or initial state that is not a
///         (key, value) pair.
/// @source Spark `StateDStream` (`updateStateByKey(updateFunc, partitioner, initialRDD)`).
operator_ptr make_update_state_by_key(update_state_fn f, update_state_options o = {});
/// The same with Spark's time-aware function
/// `(Time, K, Seq[V], Option[S]) => Option[S]`.
operator_ptr make_update_state_by_key(update_state_time_fn f, update_state_options o = {});

/// The state of one key inside a map_with_state function (Spark `State[S]`).
/// @thread Valid only during the call it is passed to.
class state_handle {
public:
  virtual ~state_handle() = default;
  virtual bool exists() const = 0;
  /// The state; null if it does not exist.
  virtual const value& get() const = 0;
  /// @errors record_error when the key is timing out (Spark forbids update then).
  virtual void update(value v) = 0;
  virtual void remove() = 0;
  /// True only in the final call for a key that timed out.
  virtual bool is_timing_out() const = 0;
};

/// f(key, value, state) -> the record to emit. On timeout, called once more
/// with value null and state.is_timing_out() true; the key is then removed.
using map_with_state_fn = std::function<value(const value& key, const value& v, state_handle& state)>;

struct map_with_state_options {
  /// Keys that receive no record for this long (batch time) time out; 0 = never.
  std::chrono::milliseconds timeout{0};
  /// Initial state: (key, state) pairs (Spark `StateSpec.initialState`).
  records initial;
  /// Emit tagged records: (0, mapped) for f's results and, at every batch end,
  /// (1, (key, state)) for every key in the state — the API splits them into
  /// the mapped stream and `state_snapshots()`.
  bool tagged = false;
  /// With `tagged`: emit the (1, (key, state)) records at all. The API
  /// clears it when no `state_snapshots()` stream consumes them, which saves
  /// emitting the whole state at every batch end.
  bool snapshots = true;
};

/// [keyed] Spark `mapWithState(StateSpec.function(f).timeout(d).initialState(rdd))`:
/// f is called once per input record (not per key), only for keys in the
/// batch (and once for each key timing out); emits f's return values.
/// @source Spark `MapWithStateDStream`, `MapWithStateRDD`.
operator_ptr make_map_with_state(map_with_state_fn f, map_with_state_options o = {});

}  // namespace weir
