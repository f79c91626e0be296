// weir — the map-side combine operators (combine_operators.hpp): one bounded
// table per batch and instance, emitted at the batch end; records of keys
// that do not fit pass through converted (docs/architecture.md §4).
#include "weir/operators/combine_operators.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "weir/operators/detail/batch_totals.hpp"
#include "weir/operators/detail/state_codec.hpp"
#include "weir/operators/detail/value_table.hpp"

namespace weir {

namespace {

/// The keyed combines: `Fold` has `value first(const value& v)` (a key's
/// first value → its partial) and `void next(value& acc, const value& v)`.
/// `Pairs`: records are (key, value) pairs; else the record is the key and
/// its value is 1 (count_by_value).
template <class Fold, bool Pairs>
class keyed_combine final : public stream_operator {
public:
  keyed_combine(Fold f, const char* op, std::size_t max_keys) : f_(std::move(f)), op_(op), max_keys_(max_keys) {}

  void process(const process_context&, records& in, records& out) override {
    for (auto& rec : in) {
      const value* k = &rec;
      const value* v = &one_;
      if constexpr (Pairs) std::tie(k, v) = as_pair(rec, op_);
      const std::uint64_t h = k->hash();
      if (value* acc = table_.find(*k, h)) {
        f_.next(*acc, *v);
        continue;
      }
      if (table_.size() < max_keys_) {
        *table_.try_emplace(*k, h).first = f_.first(*v);
        continue;
      }
      // the table is full: this record is a partial of its own
      if constexpr (Pairs) {
        out.push_back(value::pair(*k, f_.first(*v)));
      } else {
        out.push_back(value::pair(std::move(rec), one_));
      }
    }
  }
  void on_batch_end(std::int64_t, records& out) override { table_.drain_pairs(out); }
  /// State: the partials of the current batch.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, "combine", 1, [&](state_writer& w) {
      detail::write_table(w, table_, [](state_writer& w, const value& v) { w.val(v); });
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    detail::value_table<value> t;
    detail::read_state(r, "combine", 1, [&](state_reader& r) {
      t = detail::read_table<value>(r, [](state_reader& r) { return r.val(); });
    });
    table_ = std::move(t);
  }

private:
  Fold f_;
  const char* op_;
  std::size_t max_keys_;
  const value one_{std::int64_t{1}};
  detail::value_table<value> table_;
};

struct reducer_fold {
  reducer r;
  value first(const value& v) const { return r.init(v); }
  void next(value& acc, const value& v) const { acc = r.apply(acc, r.init(v)); }
};

struct count_fold {
  value first(const value&) const { return value(std::int64_t{1}); }
  void next(value& acc, const value&) const { acc = value(acc.as_int() + 1); }
};

struct combiner_fold {
  map_fn create;
  binary_fn merge_value;
  value first(const value& v) const { return create(v); }
  void next(value& acc, const value& v) const { acc = merge_value(acc, v); }
};

}  // namespace

reducer merge_reducer(const reducer& r) {
  if (r.op != reducer::builtin::count) return r;
  reducer s = reducer::sum();
  s.name = r.name;
  return s;
}

operator_ptr make_combine_by_key_reducer(reducer r, const char* op, std::size_t max_keys) {
  return std::make_unique<keyed_combine<reducer_fold, true>>(reducer_fold{std::move(r)}, op, max_keys);
}

operator_ptr make_combine_count_by_value(std::size_t max_keys) {
  return std::make_unique<keyed_combine<count_fold, false>>(count_fold{}, "count_by_value", max_keys);
}

operator_ptr make_combine_combiners(map_fn create, binary_fn merge_value, std::size_t max_keys) {
  return std::make_unique<keyed_combine<combiner_fold, true>>(combiner_fold{std::move(create), std::move(merge_value)},
                                                               "combine_by_key", max_keys);
}

operator_ptr make_combine_count() {
  return detail::make_batch_count("combine_count", detail::count_input::records, false);
}
operator_ptr make_combine_reduce(reducer r) { return detail::make_batch_reduce(std::move(r), "combine_reduce"); }
operator_ptr make_merge_counts() {
  return detail::make_batch_count("count", detail::count_input::partial_counts, true);
}

}  // namespace weir
