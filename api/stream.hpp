// weir — the typed C++ API: weir::stream<T>, a typed view of a dstream.
//
// Spark's DStream[T] in C++: operators take lambdas over C++ types; records
// are converted to and from weir::value with codec<T> (api/codec.hpp), so a
// stream<T> is a dstream whose records are codec<T>-encoded values and
// stream<value> is the dynamic API itself. Lambdas with a wrong signature fail
// to compile with one static_assert that names the expected signature.
//
//   weir::streaming_context ssc({.batch_interval = 1s});
//   weir::as_stream<std::string>(ssc.socket_text_stream("localhost:9999"))
//       .flat_map([](const std::string& line) { return split(line); })       // std::vector<std::string>
//       .map([](const std::string& w) { return std::pair{w, std::int64_t{1}}; })
//       .reduce_by_key([](std::int64_t a, std::int64_t b) { return a + b; })
//       .print();
//   ssc.run();
//
// Semantics, errors and threading are those of the dstream operator each
// method calls (api/dstream.hpp). Lambdas run on the actors' threads, possibly
// several instances at once: they must not share unsynchronised state.
// A record that does not decode as T (e.g. as_stream<int> over strings) is a
// record_error ("typed stream: expected int, got string \"x\""), which stops
// the pipeline like any record error.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "weir/api/codec.hpp"
#include "weir/api/dstream.hpp"

namespace weir {

template <class T>
class stream;

namespace detail {
template <class>
inline constexpr bool typed_always_false = false;
template <class T>
struct typed_pair : std::false_type {};
template <class K, class V>
struct typed_pair<std::pair<K, V>> : std::true_type {
  using key = K;
  using mapped = V;
};
template <class T>
struct typed_optional : std::false_type {};
template <class S>
struct typed_optional<std::optional<S>> : std::true_type {
  using type = S;
};
}  // namespace detail

/// The state of one key in map_with_state, typed (Spark `State[S]`).
/// @thread Valid only during the call it is passed to.
template <class S>
class state {
public:
  explicit state(state_handle& h) : h_(h) {}
  bool exists() const { return h_.exists(); }
  /// The state. Precondition: exists(). @errors record_error if it does not decode as S.
  S get() const { return codec<S>::from_value(h_.get()); }
  /// The state, or `fallback` when there is none.
  S get_or(S fallback) const { return exists() ? get() : std::move(fallback); }
  /// @errors record_error when the key is timing out (Spark forbids it).
  void update(const S& s) { h_.update(codec<S>::to_value(s)); }
  void remove() { h_.remove(); }
  bool is_timing_out() const { return h_.is_timing_out(); }

private:
  state_handle& h_;
};

/// One event-time window result of stream::aggregate: window [start, end) in
/// ms since the epoch, the key, the aggregated value (count: int64, avg: double).
template <class K, class R>
struct window_result {
  std::int64_t start = 0, end = 0;
  K key{};
  R value{};
  friend bool operator==(const window_result&, const window_result&) = default;
};

template <class K, class R>
struct codec<window_result<K, R>> {
  static value to_value(const window_result<K, R>& w) {
    return value::object({{"start", value(w.start)},
                          {"end", value(w.end)},
                          {"key", codec<K>::to_value(w.key)},
                          {"value", codec<R>::to_value(w.value)}});
  }
  static window_result<K, R> from_value(const value& v) {
    window_result<K, R> w;
    w.start = detail::codec_field<std::int64_t>(v, "start");
    w.end = detail::codec_field<std::int64_t>(v, "end");
    w.key = detail::codec_field<K>(v, "key");
    w.value = detail::codec_field<R>(v, "value");
    return w;
  }
};

/// A stream of T (Spark DStream[T]). Cheap to copy; each operator adds a node
/// to the context's graph and returns the new stream.
/// @thread Build from one thread, before start().
template <class T>
class stream {
  static_assert(has_codec<T>,
                "weir::stream<T>: T has no weir::codec<T>; declare one with WEIR_CODEC(T, member, ...) "
                "(api/codec.hpp) or specialise weir::codec<T>");

public:
  using value_type = T;

  /// The typed view of `d`; its records must decode as T (api/codec.hpp).
  explicit stream(dstream d) : d_(std::move(d)) {}
  /// The dynamic stream underneath (for operators without a typed form).
  const dstream& untyped() const noexcept { return d_; }

  /// Spark `map`: f(const T&) -> U.
  template <class F>
  auto map(F f, std::string name = "map") const {
    if constexpr (!std::is_invocable_v<const F&, const T&>) {
      static_assert(detail::typed_always_false<F>,
                    "weir::stream<T>::map expects a callable T -> U, e.g. "
                    "[](const std::string& line) { return line.size(); }");
      return *this;
    } else {
      using U = std::remove_cvref_t<std::invoke_result_t<const F&, const T&>>;
      if constexpr (std::is_void_v<U> || !has_codec<U>) {
        static_assert(detail::typed_always_false<F>,
                      "weir::stream<T>::map expects a callable T -> U returning a value with a weir::codec "
                      "(not void), e.g. [](const std::string& line) { return line.size(); }");
        return *this;
      } else {
        return stream<U>(d_.map(
            [f = std::move(f)](const value& v) { return codec<U>::to_value(f(codec<T>::from_value(v))); },
            std::move(name)));
      }
    }
  }

  /// Spark `flatMap`: f(const T&) -> a range of U (std::vector<U>, ...).
  template <class F>
  auto flat_map(F f, std::string name = "flat_map") const {
    if constexpr (!std::is_invocable_v<const F&, const T&>) {
      static_assert(detail::typed_always_false<F>,
                    "weir::stream<T>::flat_map expects a callable T -> range of U, e.g. "
                    "[](const std::string& line) { return std::vector<std::string>{...}; }");
      return *this;
    } else {
      using R = std::remove_cvref_t<std::invoke_result_t<const F&, const T&>>;
      if constexpr (!std::ranges::input_range<R>) {
        static_assert(detail::typed_always_false<F>,
                      "weir::stream<T>::flat_map expects a callable T -> range of U (e.g. std::vector<U>), e.g. "
                      "[](const std::string& line) { return std::vector<std::string>{...}; }");
        return *this;
      } else {
        using U = std::remove_cvref_t<std::ranges::range_value_t<R>>;
        return stream<U>(d_.flat_map(
            [f = std::move(f)](const value& v, records& out) {
              for (auto&& u : f(codec<T>::from_value(v))) out.push_back(codec<U>::to_value(u));
            },
            std::move(name)));
      }
    }
  }

  /// Spark `filter`: f(const T&) -> bool.
  template <class F>
  stream filter(F f, std::string name = "filter") const {
    if constexpr (!std::is_invocable_r_v<bool, const F&, const T&>) {
      static_assert(detail::typed_always_false<F>,
                    "weir::stream<T>::filter expects a predicate T -> bool, e.g. "
                    "[](const std::string& line) { return !line.empty(); }");
      return *this;
    } else {
      return stream(d_.filter([f = std::move(f)](const value& v) { return static_cast<bool>(f(codec<T>::from_value(v))); },
                              std::move(name)));
    }
  }

  /// Spark `count`: one int64 per batch.
  stream<std::int64_t> count() const { return stream<std::int64_t>(d_.count()); }

  /// Spark `window(windowDuration, slideDuration)`.
  stream window(std::chrono::milliseconds w, std::chrono::milliseconds slide = {}) const {
    return stream(d_.window(w, slide));
  }

  /// Spark `union`.
  stream union_with(const stream& other) const { return stream(d_.union_with({other.d_})); }

  /// Spark `reduceByKey` on stream<std::pair<K, V>>: f(V, V) -> V, associative and commutative.
  template <class F>
  auto reduce_by_key(F f) const {
    if constexpr (!detail::typed_pair<T>::value) {
      static_assert(detail::typed_always_false<F>,
                    "weir::stream<T>::reduce_by_key needs a stream of std::pair<K, V> (map to pairs first)");
      return *this;
    } else {
      using V = typename detail::typed_pair<T>::mapped;
      if constexpr (!std::is_invocable_r_v<V, const F&, const V&, const V&>) {
        static_assert(detail::typed_always_false<F>,
                      "weir::stream<std::pair<K, V>>::reduce_by_key expects a callable (V, V) -> V, e.g. "
                      "[](std::int64_t a, std::int64_t b) { return a + b; }");
        return *this;
      } else {
        return stream(d_.reduce_by_key(typed_reducer<V>(std::move(f))));
      }
    }
  }

  /// Spark `reduceByKeyAndWindow(f, window, slide)` on pairs: f(V, V) -> V.
  template <class F>
  auto reduce_by_key_and_window(F f, std::chrono::milliseconds window, std::chrono::milliseconds slide = {}) const {
    if constexpr (!detail::typed_pair<T>::value) {
      static_assert(detail::typed_always_false<F>,
                    "weir::stream<T>::reduce_by_key_and_window needs a stream of std::pair<K, V>");
      return *this;
    } else {
      using V = typename detail::typed_pair<T>::mapped;
      if constexpr (!std::is_invocable_r_v<V, const F&, const V&, const V&>) {
        static_assert(detail::typed_always_false<F>,
                      "weir::stream<std::pair<K, V>>::reduce_by_key_and_window expects a callable (V, V) -> V, "
                      "e.g. [](std::int64_t a, std::int64_t b) { return a + b; }");
        return *this;
      } else {
        return stream(d_.reduce_by_key_and_window(typed_reducer<V>(std::move(f)), window, slide));
      }
    }
  }

  /// Spark `updateStateByKey` on pairs (K, V):
  /// f(const std::vector<V>& new_values, const std::optional<S>& state) -> std::optional<S>
  /// (nullopt removes the key). Emits every batch the whole state as stream<std::pair<K, S>>.
  template <class F>
  auto update_state_by_key(F f) const {
    if constexpr (!detail::typed_pair<T>::value) {
      static_assert(detail::typed_always_false<F>,
                    "weir::stream<T>::update_state_by_key needs a stream of std::pair<K, V>");
      return *this;
    } else {
      using K = typename detail::typed_pair<T>::key;
      using V = typename detail::typed_pair<T>::mapped;
      constexpr bool ok = [] {
        if constexpr (!std::is_invocable_v<const F&, const std::vector<V>&, const std::nullopt_t&>) return false;
        else return detail::typed_optional<
                   std::remove_cvref_t<std::invoke_result_t<const F&, const std::vector<V>&, const std::nullopt_t&>>>::value;
      }();
      if constexpr (!ok) {
        static_assert(detail::typed_always_false<F>,
                      "weir::stream<std::pair<K, V>>::update_state_by_key expects a callable "
                      "(const std::vector<V>& values, const std::optional<S>& state) -> std::optional<S>, e.g. "
                      "[](const std::vector<std::int64_t>& vs, const std::optional<std::int64_t>& s) "
                      "{ return std::optional<std::int64_t>(s.value_or(0) + vs.size()); }");
        return *this;
      } else {
        using S = typename detail::typed_optional<
            std::remove_cvref_t<std::invoke_result_t<const F&, const std::vector<V>&, const std::nullopt_t&>>>::type;
        return stream<std::pair<K, S>>(d_.update_state_by_key([f = std::move(f)](const value& vs, const value& st) {
          std::optional<S> s = codec<std::optional<S>>::from_value(st);
          std::optional<S> r = f(codec<std::vector<V>>::from_value(vs), s);
          return codec<std::optional<S>>::to_value(r);
        }));
      }
    }
  }

  /// Spark `mapWithState` on pairs (K, V), with state type S given explicitly:
  /// f(const K& key, const std::optional<V>& value, weir::state<S>& state) -> U
  /// (value is nullopt in the final call for a key timing out).
  template <class S, class F>
  auto map_with_state(F f, map_with_state_options o = {}) const {
    if constexpr (!detail::typed_pair<T>::value) {
      static_assert(detail::typed_always_false<F>, "weir::stream<T>::map_with_state needs a stream of std::pair<K, V>");
      return *this;
    } else {
      using K = typename detail::typed_pair<T>::key;
      using V = typename detail::typed_pair<T>::mapped;
      if constexpr (!std::is_invocable_v<const F&, const K&, const std::optional<V>&, state<S>&>) {
        static_assert(detail::typed_always_false<F>,
                      "weir::stream<std::pair<K, V>>::map_with_state<S> expects a callable "
                      "(const K& key, const std::optional<V>& value, weir::state<S>& state) -> U, e.g. "
                      "[](const std::string& k, const std::optional<std::int64_t>& v, weir::state<std::int64_t>& s) "
                      "{ ... }");
        return *this;
      } else {
        using U = std::remove_cvref_t<std::invoke_result_t<const F&, const K&, const std::optional<V>&, state<S>&>>;
        return stream<U>(d_.map_with_state(
            [f = std::move(f)](const value& k, const value& v, state_handle& h) {
              state<S> s(h);
              return codec<U>::to_value(f(codec<K>::from_value(k), codec<std::optional<V>>::from_value(v), s));
            },
            std::move(o)));
      }
    }
  }

  /// Spark `join` of two pair streams with the same key type, same batch only:
  /// stream<std::pair<K, std::pair<V, W>>>.
  template <class U>
  auto join(const stream<U>& other) const {
    return join_as<U, false, false>(other, join_kind::inner, "join");
  }
  /// Spark `leftOuterJoin`: stream<std::pair<K, std::pair<V, std::optional<W>>>>.
  template <class U>
  auto left_outer_join(const stream<U>& other) const {
    return join_as<U, false, true>(other, join_kind::left_outer, "left_outer_join");
  }
  /// Spark `rightOuterJoin`: stream<std::pair<K, std::pair<std::optional<V>, W>>>.
  template <class U>
  auto right_outer_join(const stream<U>& other) const {
    return join_as<U, true, false>(other, join_kind::right_outer, "right_outer_join");
  }
  /// Spark `cogroup`, same batch only: for every key of either stream,
  /// stream<std::pair<K, std::pair<std::vector<V>, std::vector<W>>>>.
  template <class U>
  auto cogroup(const stream<U>& other) const {
    if constexpr (!detail::typed_pair<T>::value || !detail::typed_pair<U>::value) {
      static_assert(detail::typed_always_false<U>,
                    "weir::stream<T>::cogroup needs two streams of pairs, std::pair<K, V> and std::pair<K, W>");
      return *this;
    } else if constexpr (!std::is_same_v<typename detail::typed_pair<T>::key, typename detail::typed_pair<U>::key>) {
      static_assert(detail::typed_always_false<U>,
                    "weir::stream<std::pair<K, V>>::cogroup needs the other stream's key type to be K too");
      return *this;
    } else {
      using K = typename detail::typed_pair<T>::key;
      using V = typename detail::typed_pair<T>::mapped;
      using W = typename detail::typed_pair<U>::mapped;
      return stream<std::pair<K, std::pair<std::vector<V>, std::vector<W>>>>(d_.cogroup(other.untyped()));
    }
  }
  /// Spark `fullOuterJoin`: stream<std::pair<K, std::pair<std::optional<V>, std::optional<W>>>>.
  template <class U>
  auto full_outer_join(const stream<U>& other) const {
    return join_as<U, true, true>(other, join_kind::full_outer, "full_outer_join");
  }

  /// Event time and a watermark (Flink bounded out-of-orderness):
  /// time(const T&) -> int64 ms since the epoch; the watermark is the largest
  /// time seen − delay.
  template <class F>
  stream with_watermark(F time, std::chrono::milliseconds delay) const {
    if constexpr (!std::is_invocable_r_v<std::int64_t, const F&, const T&>) {
      static_assert(detail::typed_always_false<F>,
                    "weir::stream<T>::with_watermark expects a callable T -> std::int64_t (event time, ms), e.g. "
                    "[](const click& c) { return c.time; }");
      return *this;
    } else {
      watermark_options o;
      o.time = event_time_fn(std::move(time));
      o.delay = delay;
      return stream(d_.with_watermark(std::move(o)));
    }
  }

  /// Event-time window aggregation per key (Flink `keyBy(key).window(w).aggregate(a)`):
  /// key(const T&) -> K, time(const T&) -> int64 ms, value(const T&) -> a number
  /// (what sum/min/max/avg aggregate; ignored by count). R is the result type
  /// (count: std::int64_t; avg: double). Emits stream<window_result<K, R>>.
  template <class R, class KeyF, class TimeF, class ValueF>
  auto aggregate(window_spec w, aggregation a, KeyF key, TimeF time, ValueF value_of) const {
    if constexpr (!std::is_invocable_v<const KeyF&, const T&>) {
      static_assert(detail::typed_always_false<KeyF>,
                    "weir::stream<T>::aggregate expects a key callable T -> K, e.g. [](const click& c) { return c.user; }");
      return stream<window_result<value, R>>(d_);
    } else if constexpr (!std::is_invocable_r_v<std::int64_t, const TimeF&, const T&>) {
      using K = std::remove_cvref_t<std::invoke_result_t<const KeyF&, const T&>>;
      static_assert(detail::typed_always_false<TimeF>,
                    "weir::stream<T>::aggregate expects a time callable T -> std::int64_t (ms), e.g. "
                    "[](const click& c) { return c.time; }");
      return stream<window_result<K, R>>(d_);
    } else if constexpr (!std::is_invocable_v<const ValueF&, const T&>) {
      using K = std::remove_cvref_t<std::invoke_result_t<const KeyF&, const T&>>;
      static_assert(detail::typed_always_false<ValueF>,
                    "weir::stream<T>::aggregate expects a value callable T -> number, e.g. "
                    "[](const click& c) { return c.price; }");
      return stream<window_result<K, R>>(d_);
    } else {
      using K = std::remove_cvref_t<std::invoke_result_t<const KeyF&, const T&>>;
      using N = std::remove_cvref_t<std::invoke_result_t<const ValueF&, const T&>>;
      event_window_options o;
      o.window = w;
      o.agg = std::move(a);
      o.time = event_time_fn(std::move(time));
      o.value_of = [v = std::move(value_of)](const value& r) { return codec<N>::to_value(v(codec<T>::from_value(r))); };
      return stream<window_result<K, R>>(d_.aggregate(
          std::move(o), [k = std::move(key)](const value& r) { return codec<K>::to_value(k(codec<T>::from_value(r))); }));
    }
  }
  /// As above, for aggregations that need no value (count).
  template <class R, class KeyF, class TimeF>
  auto aggregate(window_spec w, aggregation a, KeyF key, TimeF time) const {
    return aggregate<R>(std::move(w), std::move(a), std::move(key), std::move(time),
                        [](const T&) { return std::int64_t{1}; });
  }

  // --- sinks

  /// Spark `print(n)`.
  void print(std::size_t n = 10) const { d_.print(n); }
  /// One JSON object per record, {"time": ms, "record": ...}.
  void write_jsonl(std::string path) const { d_.write_jsonl(std::move(path)); }
  /// Spark `foreachRDD`: f(std::int64_t batch_time_ms, const std::vector<T>& records), once per batch.
  template <class F>
  void for_each_batch(F f) const {
    if constexpr (!std::is_invocable_v<F&, std::int64_t, const std::vector<T>&>) {
      static_assert(detail::typed_always_false<F>,
                    "weir::stream<T>::for_each_batch expects a callable "
                    "(std::int64_t batch_time_ms, const std::vector<T>& records) -> void, e.g. "
                    "[](std::int64_t t, const std::vector<std::string>& batch) { ... }");
    } else {
      d_.for_each_batch([f = std::move(f)](std::int64_t t, records& batch) mutable {
        std::vector<T> xs;
        xs.reserve(batch.size());
        for (auto& v : batch) xs.push_back(codec<T>::from_value(v));
        f(t, static_cast<const std::vector<T>&>(xs));
      });
    }
  }

private:
  template <class U, bool OptV, bool OptW>
  auto join_as(const stream<U>& other, join_kind kind, const char*) const {
    if constexpr (!detail::typed_pair<T>::value || !detail::typed_pair<U>::value) {
      static_assert(detail::typed_always_false<U>,
                    "weir::stream<T>::join needs two streams of pairs, std::pair<K, V> and std::pair<K, W>");
      return *this;
    } else if constexpr (!std::is_same_v<typename detail::typed_pair<T>::key, typename detail::typed_pair<U>::key>) {
      static_assert(detail::typed_always_false<U>,
                    "weir::stream<std::pair<K, V>>::join needs the other stream's key type to be K too");
      return *this;
    } else {
      using K = typename detail::typed_pair<T>::key;
      using V = typename detail::typed_pair<T>::mapped;
      using W = typename detail::typed_pair<U>::mapped;
      using V2 = std::conditional_t<OptV, std::optional<V>, V>;
      using W2 = std::conditional_t<OptW, std::optional<W>, W>;
      return stream<std::pair<K, std::pair<V2, W2>>>(d_.join(other.untyped(), kind));
    }
  }
  template <class V, class F>
  static reducer typed_reducer(F f) {
    return reducer::custom([f = std::move(f)](const value& a, const value& b) {
      return codec<V>::to_value(f(codec<V>::from_value(a), codec<V>::from_value(b)));
    });
  }
  template <class F>
  static extract_fn event_time_fn(F f) {
    return [f = std::move(f)](const value& r) { return value(static_cast<std::int64_t>(f(codec<T>::from_value(r)))); };
  }

  dstream d_;
};

/// The typed view of a dynamic stream: as_stream<std::string>(ssc.text_file("in.txt")).
/// Its records must decode as T (codec<T>); a record that does not is a record_error when it flows.
template <class T>
stream<T> as_stream(dstream d) {
  return stream<T>(std::move(d));
}

}  // namespace weir
