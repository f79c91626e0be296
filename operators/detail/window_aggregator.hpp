// weir — internal: the aggregators of the event-time windows
// (operators/event_time.hpp): what a window computes over the values of its
// records, as an accumulator per window and key that records are added to
// and that merges with another (sessions merge when a record bridges them).
// `aggregator`: one aggregation (count, sum, min, max, avg, reduce) in an
// `accum`; `multi_aggregator`: several named ones (`aggs = {...}`: count,
// sum, min, max, avg, stddev, count_distinct, first, last, collect_list) in a
// `multi_accum`. The window operators are templates on the aggregator, so
// the single-aggregation path is unchanged by the other. Header-only: add()
// is on the record path of every window operator. Not part of the public API.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

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
  using acc_type = accum;
  static constexpr bool many = false;

  explicit aggregator(const event_window_options& o) : a_(o.agg), value_of_(o.value_of) {}

  /// The value of a record's body that add() takes (the record itself
  /// without `value =`; nothing for count).
  value input_of(const value& body) const {
    if (!needs_value()) return value();
    return value_of_ ? value_of_(body) : body;
  }
  void add(accum& acc, const value& v, std::uint64_t /*seq*/) const { add(acc, v); }

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

  // the single aggregation's state has no header (its layout predates `aggs`)
  void save_header(state_writer&) const {}
  void load_header(state_reader&) const {}

private:
  static const value& number(const value& v) {
    if (!v.is_number())
      throw record_error(error_code::type_mismatch,
                         "expected a number to aggregate, got " + std::string(kind_name(v.type())) + " " + shown(v));
    return v;
  }
  aggregation a_;
  extract_fn value_of_;
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

// ---- many named aggregations ------------------------------------------------

/// The running state of one named aggregation; each kind uses its part.
struct sub_accum {
  value v;                 ///< sum, avg: the sum; min, max, first, last: the value
  std::int64_t n = 0;      ///< values added (count, sum, avg, stddev, ...; first/last: records)
  double mean = 0, m2 = 0; ///< stddev: Welford's running mean and sum of squared deviations
  std::uint64_t seq = 0;   ///< first, last: the arrival number of `v`
  std::vector<std::pair<std::uint64_t, value>> list;  ///< collect_list: (arrival number, value)
  std::set<value> set;     ///< count_distinct
};

/// The running aggregates of one window (and key): one per named aggregation.
struct multi_accum {
  std::vector<sub_accum> subs;
  std::int64_t n = 0;  ///< records added
};

/// Adds, merges and reports the accumulators of `aggs = {name: agg, ...}`.
/// Records carry an arrival number (`seq`, increasing) for first, last and
/// collect_list, so that merged sessions keep arrival order.
/// @thread As its operator: one thread at a time.
class multi_aggregator {
public:
  using acc_type = multi_accum;
  using kind = named_aggregation::kind;
  static constexpr bool many = true;

  explicit multi_aggregator(const event_window_options& o) : aggs_(o.aggs), in_(o.aggs.size()) {}

  /// Evaluates every aggregation's value expression on the record's body,
  /// once per record (a sliding window adds it to several windows).
  const std::vector<value>& input_of(const value& body) const {
    for (std::size_t i = 0; i < aggs_.size(); ++i) in_[i] = aggs_[i].value ? aggs_[i].value(body) : value();
    return in_;
  }

  /// @errors record_error (type_mismatch) for a value sum/avg/stddev cannot
  ///         add, naming the aggregation; weir::add's overflow.
  void add(multi_accum& acc, const std::vector<value>& in, std::uint64_t seq) const {
    if (acc.subs.size() != aggs_.size()) acc.subs.resize(aggs_.size());
    for (std::size_t i = 0; i < aggs_.size(); ++i) {
      const named_aggregation& a = aggs_[i];
      sub_accum& s = acc.subs[i];
      const value& v = in[i];
      switch (a.type) {
        case kind::count:
          if (!a.value || !v.is_null()) ++s.n;
          break;
        case kind::first:
          if (s.n == 0 || seq < s.seq) s.v = v, s.seq = seq;
          ++s.n;
          break;
        case kind::last:
          if (s.n == 0 || seq >= s.seq) s.v = v, s.seq = seq;
          ++s.n;
          break;
        default:
          if (v.is_null()) break;
          switch (a.type) {
            case kind::sum:
            case kind::avg: s.v = s.n == 0 ? number(a, v) : weir::add(s.v, number(a, v)); break;
            case kind::min: if (s.n == 0 || v < s.v) s.v = v; break;
            case kind::max: if (s.n == 0 || s.v < v) s.v = v; break;
            case kind::stddev: {
              const double x = number(a, v).as_number();
              const double delta = x - s.mean;
              s.mean += delta / static_cast<double>(s.n + 1);
              s.m2 += delta * (x - s.mean);
              break;
            }
            case kind::count_distinct: s.set.insert(v); break;
            case kind::collect_list: s.list.emplace_back(seq, v); break;
            default: break;
          }
          ++s.n;
      }
    }
    ++acc.n;
  }

  /// Folds `from` into `into` (two sessions becoming one).
  void merge(multi_accum& into, const multi_accum& from) const {
    if (from.n == 0) return;
    if (into.n == 0) {
      into = from;
      return;
    }
    for (std::size_t i = 0; i < aggs_.size(); ++i) {
      sub_accum& a = into.subs[i];
      const sub_accum& b = from.subs[i];
      if (b.n == 0) continue;
      if (a.n == 0) {
        a = b;
        continue;
      }
      switch (aggs_[i].type) {
        case kind::count: break;
        case kind::sum:
        case kind::avg: a.v = weir::add(a.v, b.v); break;
        case kind::min: if (b.v < a.v) a.v = b.v; break;
        case kind::max: if (a.v < b.v) a.v = b.v; break;
        case kind::stddev: {  // Chan et al.'s pairwise update
          const double na = static_cast<double>(a.n), nb = static_cast<double>(b.n), delta = b.mean - a.mean;
          a.mean += delta * nb / (na + nb);
          a.m2 += b.m2 + delta * delta * na * nb / (na + nb);
          break;
        }
        case kind::count_distinct: a.set.insert(b.set.begin(), b.set.end()); break;
        case kind::first: if (b.seq < a.seq) a.v = b.v, a.seq = b.seq; break;
        case kind::last: if (b.seq > a.seq) a.v = b.v, a.seq = b.seq; break;
        case kind::collect_list: {
          std::vector<std::pair<std::uint64_t, value>> merged;
          merged.reserve(a.list.size() + b.list.size());
          std::merge(a.list.begin(), a.list.end(), b.list.begin(), b.list.end(), std::back_inserter(merged),
                     [](auto& x, auto& y) { return x.first < y.first; });
          a.list = std::move(merged);
          break;
        }
      }
      a.n += b.n;
    }
    into.n += from.n;
  }

  /// The result record of window [start, end) (and key, if keyed):
  /// {"start", "end", "key", <name>: value, ...}.
  value record(std::int64_t start, std::int64_t end, const value* key, const multi_accum& acc) const {
    std::vector<field> f;
    f.reserve(aggs_.size() + 3);
    f.push_back({value("start"), value(start)});
    f.push_back({value("end"), value(end)});
    if (key) f.push_back({value("key"), *key});
    for (std::size_t i = 0; i < aggs_.size(); ++i)
      f.push_back({value(aggs_[i].name), result(aggs_[i].type, i < acc.subs.size() ? &acc.subs[i] : nullptr)});
    return value::object(std::move(f));
  }

  // Checkpoints: a header naming the aggregations (so a state restored into
  // another `aggs` is refused), then per accumulator every part of every
  // sub-accumulator.
  std::string signature() const {
    std::string sig;
    for (auto& a : aggs_) {
      sig += a.name;
      sig += ':';
      sig += std::to_string(static_cast<int>(a.type));
      sig += a.value ? "(e)," : ",";
    }
    return sig;
  }
  void save_header(state_writer& s) const { s.str(signature()); }
  void load_header(state_reader& s) const {
    if (s.str() != signature())
      s.fail(error_code::state_mismatch, "the state is of other aggregations (aggs changed)");
  }

private:
  value result(kind k, const sub_accum* s) const {
    const std::int64_t n = s ? s->n : 0;
    switch (k) {
      case kind::count: return value(n);
      case kind::count_distinct: return value(static_cast<std::int64_t>(s ? s->set.size() : 0));
      case kind::collect_list: {
        std::vector<value> items;
        if (s) {
          items.reserve(s->list.size());
          for (auto& [seq, v] : s->list) items.push_back(v);
        }
        return value::array(std::move(items));
      }
      case kind::avg: return n == 0 ? value() : value(s->v.as_number() / static_cast<double>(n));
      case kind::stddev: return n < 2 ? value() : value(std::sqrt(s->m2 / static_cast<double>(n - 1)));
      default: return n == 0 ? value() : s->v;
    }
  }
  static const value& number(const named_aggregation& a, const value& v) {
    if (!v.is_number())
      throw record_error(error_code::type_mismatch, "aggs." + a.name + ": expected a number to aggregate, got " +
                                                        std::string(kind_name(v.type())) + " " + shown(v));
    return v;
  }

  std::vector<named_aggregation> aggs_;
  mutable std::vector<value> in_;  ///< input_of's values of the current record
};

inline void write_accum(state_writer& w, const multi_accum& a) {
  w.i64(a.n);
  w.varint(a.subs.size());
  for (auto& s : a.subs) {
    w.val(s.v);
    w.i64(s.n);
    w.f64(s.mean);
    w.f64(s.m2);
    w.u64(s.seq);
    w.varint(s.list.size());
    for (auto& [seq, v] : s.list) {
      w.u64(seq);
      w.val(v);
    }
    w.varint(s.set.size());
    for (auto& v : s.set) w.val(v);
  }
}

/// @errors pipeline_error (corrupt_state) for negative counts, more
///         sub-accumulators than aggregations, or bad bytes.
inline void read_accum(state_reader& r, multi_accum& a, std::size_t aggs) {
  a.n = r.i64();
  if (a.n < 0) r.fail("negative record count in a window");
  const std::uint64_t m = r.varint();
  if (m > aggs) r.fail("window state of " + std::to_string(m) + " aggregations, expected " + std::to_string(aggs));
  a.subs.assign(static_cast<std::size_t>(m), {});
  for (auto& s : a.subs) {
    s.v = r.val();
    s.n = r.i64();
    if (s.n < 0) r.fail("negative value count in a window");
    s.mean = r.f64();
    s.m2 = r.f64();
    s.seq = r.u64();
    const std::uint64_t k = r.varint();
    if (k > r.remaining()) r.fail("collect_list of " + std::to_string(k) + " values in a short state");
    s.list.reserve(static_cast<std::size_t>(k));
    for (std::uint64_t j = 0; j < k; ++j) {
      const std::uint64_t seq = r.u64();
      s.list.emplace_back(seq, r.val());
    }
    const std::uint64_t d = r.varint();
    if (d > r.remaining()) r.fail("count_distinct of " + std::to_string(d) + " values in a short state");
    for (std::uint64_t j = 0; j < d; ++j)
      if (!s.set.insert(r.val()).second) r.fail("duplicate value in a count_distinct state");
  }
}

}  // namespace weir::detail
