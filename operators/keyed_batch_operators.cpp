// weir — the keyed per-batch aggregations (declared in basic_operators.hpp):
// reduce_by_key, group_by_key and combine_by_key, Spark's `reduceByKey`,
// `groupByKey` and `combineByKey` on each batch (docs/architecture.md §4).
// Records are (key, value) pairs routed by the hash of the key; each
// instance keeps a table key → accumulator (detail::value_table: open
// addressing, xxh3), emits it at the batch end and starts afresh.
#include <string>
#include <utility>

#include "weir/operators/basic_operators.hpp"
#include "weir/operators/detail/state_codec.hpp"
#include "weir/operators/detail/value_table.hpp"

namespace weir {

namespace {

class reduce_by_key_op final : public stream_operator {
public:
  explicit reduce_by_key_op(reducer r) : r_(std::move(r)) {}
  void process(const process_context&, records& in, records&) override {
    for (auto& rec : in) {
      auto [k, v] = as_pair(rec, "reduce_by_key");
      auto [acc, fresh] = table_.try_emplace(*k, k->hash());
      *acc = fresh ? r_.init(*v) : r_.apply(*acc, r_.init(*v));
    }
  }
  void on_batch_end(std::int64_t, records& out) override {
    table_.drain_pairs(out);
  }
  /// State: the accumulators of the current batch.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, "reduce_by_key", 1, [&](state_writer& w) {
      detail::write_table(w, table_, [](state_writer& w, const value& v) { w.val(v); });
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    detail::value_table<value> t;
    detail::read_state(r, "reduce_by_key", 1, [&](state_reader& r) {
      t = detail::read_table<value>(r, [](state_reader& r) { return r.val(); });
    });
    table_ = std::move(t);
  }

private:
  reducer r_;
  detail::value_table<value> table_;
};

class group_by_key_op final : public stream_operator {
public:
  void process(const process_context&, records& in, records&) override {
    for (auto& rec : in) {
      auto [k, v] = as_pair(rec, "group_by_key");
      groups_.try_emplace(*k, k->hash()).first->push_back(*v);
    }
  }
  void on_batch_end(std::int64_t, records& out) override {
    out.reserve(out.size() + groups_.size());
    groups_.for_each([&](const value& k, records& vs) { out.push_back(value::pair(k, value::array(std::move(vs)))); });
    groups_.clear();
  }
  /// State: the values of each key of the current batch, in arrival order.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, "group_by_key", 1, [&](state_writer& w) {
      detail::write_table(w, groups_, [](state_writer& w, const records& vs) { detail::write_records(w, vs); });
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    detail::value_table<records> groups;
    detail::read_state(r, "group_by_key", 1, [&](state_reader& r) {
      groups = detail::read_table<records>(r, [](state_reader& r) { return detail::read_records(r); });
    });
    groups_ = std::move(groups);
  }

private:
  detail::value_table<records> groups_;
};

/// combineByKey: one instance sees every value of a key in the batch (keyed
/// routing), so values are folded with create/merge_value only.
/// merge_combiners is kept for API parity with Spark and for a future
/// map-side combine (combiners built before the shuffle, merged after it).
class combine_by_key_op final : public stream_operator {
public:
  combine_by_key_op(map_fn create, binary_fn merge_value, binary_fn merge_combiners)
      : create_(std::move(create)), merge_value_(std::move(merge_value)),
        merge_combiners_(std::move(merge_combiners)) {}
  void process(const process_context&, records& in, records&) override {
    for (auto& rec : in) {
      auto [k, v] = as_pair(rec, "combine_by_key");
      auto [c, fresh] = combiners_.try_emplace(*k, k->hash());
      *c = fresh ? create_(*v) : merge_value_(*c, *v);
    }
  }
  void on_batch_end(std::int64_t, records& out) override {
    combiners_.drain_pairs(out);
  }
  /// State: the combiner of each key of the current batch.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, "combine_by_key", 1, [&](state_writer& w) {
      detail::write_table(w, combiners_, [](state_writer& w, const value& c) { w.val(c); });
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    detail::value_table<value> combiners;
    detail::read_state(r, "combine_by_key", 1, [&](state_reader& r) {
      combiners = detail::read_table<value>(r, [](state_reader& r) { return r.val(); });
    });
    combiners_ = std::move(combiners);
  }

private:
  map_fn create_;
  binary_fn merge_value_;
  binary_fn merge_combiners_;  // unused: see the class comment
  detail::value_table<value> combiners_;
};

}  // namespace

operator_ptr make_reduce_by_key(reducer r) { return std::make_unique<reduce_by_key_op>(std::move(r)); }
operator_ptr make_group_by_key() { return std::make_unique<group_by_key_op>(); }
operator_ptr make_combine_by_key(map_fn create, binary_fn merge_value, binary_fn merge_combiners) {
  return std::make_unique<combine_by_key_op>(std::move(create), std::move(merge_value), std::move(merge_combiners));
}

}  // namespace weir
