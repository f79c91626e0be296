// weir — Spark DStream per-batch operators (declared in basic_operators.hpp):
// map_values, flat_map_values, glom, distinct, sample, union, count_by_value,
// reduce, group_by_key, combine_by_key, sort_by.
//
// Each batch is processed on its own (docs/architecture.md §4): records arrive through
// process(), the batch closes with on_batch_end(), where the aggregating
// operators emit their result and reset. Keyed state lives in
// detail::value_table (open addressing, xxh3) and is cleared every batch.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include <xxhash.h>

#include "weir/operators/basic_operators.hpp"
#include "weir/operators/detail/state_codec.hpp"
#include "weir/operators/detail/value_table.hpp"

namespace weir {

namespace {

// --- chained, stateless -------------------------------------------------------

class map_values_op final : public stream_operator {
public:
  explicit map_values_op(map_fn f) : f_(std::move(f)) {}
  void process(const process_context&, records& in, records& out) override {
    out.reserve(out.size() + in.size());
    for (auto& rec : in) {
      auto [k, v] = as_pair(rec, "map_values");
      out.push_back(value::pair(*k, f_(*v)));
    }
  }
  bool stateless() const override { return true; }

private:
  map_fn f_;
};

class flat_map_values_op final : public stream_operator {
public:
  explicit flat_map_values_op(flat_map_fn f) : f_(std::move(f)) {}
  void process(const process_context&, records& in, records& out) override {
    for (auto& rec : in) {
      auto [k, v] = as_pair(rec, "flat_map_values");
      tmp_.clear();
      f_(*v, tmp_);
      for (auto& x : tmp_) out.push_back(value::pair(*k, std::move(x)));
    }
    tmp_.clear();
  }
  bool stateless() const override { return true; }

private:
  flat_map_fn f_;
  records tmp_;  // reused between records
};

/// Union: every record of every input passes through (the inputs' batches
/// with the same time end together, so the output batch is their union).
class union_op final : public stream_operator {
public:
  void process(const process_context&, records& in, records& out) override {
    if (out.empty()) {  // the whole input, without moving record by record
      out.swap(in);
      return;
    }
    out.reserve(out.size() + in.size());
    for (auto& r : in) out.push_back(std::move(r));
  }
  void process_input(const process_context& ctx, int, records& in, records& out) override { process(ctx, in, out); }
  bool stateless() const override { return true; }
};

// --- chained, per batch -------------------------------------------------------

class glom_op final : public stream_operator {
public:
  void process(const process_context&, records& in, records&) override {
    buf_.reserve(buf_.size() + in.size());
    for (auto& r : in) buf_.push_back(std::move(r));
  }
  void on_batch_end(std::int64_t, records& out) override {
    out.push_back(value::array(std::move(buf_)));
    buf_ = records{};
  }
  /// State: the records of the current batch.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, "glom", 1, [&](state_writer& w) { detail::write_records(w, buf_); });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    records buf;
    detail::read_state(r, "glom", 1, [&](state_reader& r) { buf = detail::read_records(r); });
    buf_ = std::move(buf);
  }

private:
  records buf_;
};

/// Bernoulli sampling without replacement. The decision for a record is a
/// pure function of (seed, batch time, position of the record among the
/// records this instance received in the batch): u = XXH3_64(time, position;
/// seed) mapped to [0, 1) with 53 bits; the record is kept if u < fraction.
/// The batch time is the one of the batch being filled: the last batch end
/// seen plus the input slide (ctx.input_slide()). A rerun with the same seed
/// and the same input split keeps the same records (Spark's sampler is seeded
/// per partition in the same spirit; its exact PRNG sequence is not reproduced).
class sample_op final : public stream_operator {
public:
  sample_op(double fraction, std::uint64_t seed) : fraction_(fraction), seed_(seed) {}
  void open(const operator_context& ctx) override {
    slide_ = ctx.input_slide().count();
    time_ = slide_;
  }
  void process(const process_context&, records& in, records& out) override {
    for (auto& r : in) {
      std::int64_t key[2] = {time_, pos_++};
      std::uint64_t h = XXH3_64bits_withSeed(key, sizeof(key), seed_);
      double u = static_cast<double>(h >> 11) * 0x1.0p-53;
      if (u < fraction_) out.push_back(std::move(r));
    }
  }
  void on_batch_end(std::int64_t t, records&) override {
    time_ = t + slide_;
    pos_ = 0;
  }
  /// State: the PRNG's position, (time of the batch being filled, position
  /// in it), plus fraction and seed to check that the pipeline is the same.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, "sample", 1, [&](state_writer& w) {
      w.f64(fraction_);
      w.u64(seed_);
      w.i64(time_);
      w.i64(pos_);
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    std::int64_t time = 0, pos = 0;
    detail::read_state(r, "sample", 1, [&](state_reader& r) {
      const double fraction = r.f64();
      const std::uint64_t seed = r.u64();
      if (!(fraction == fraction_) || seed != seed_)
        r.fail(error_code::state_mismatch,
               "state of sample(" + std::to_string(fraction) + ", seed " + std::to_string(seed) +
                   "), restored into sample(" + std::to_string(fraction_) + ", seed " + std::to_string(seed_) + ")");
      time = r.i64();
      pos = r.i64();
      if (pos < 0) r.fail("negative record position " + std::to_string(pos));
    });
    time_ = time;
    pos_ = pos;
  }

private:
  double fraction_;
  std::uint64_t seed_;
  std::int64_t slide_ = 1000;
  std::int64_t time_ = 1000;  ///< time of the batch being filled
  std::int64_t pos_ = 0;      ///< position of the next record in this batch
};

// --- by record ---------------------------------------------------------------

/// Emits each record the first time it is seen in the batch (at once: the
/// output of the batch is the same as emitting at its end, with less latency
/// and without buffering the records).
class distinct_op final : public stream_operator {
public:
  void process(const process_context&, records& in, records& out) override {
    for (auto& r : in) {
      auto [slot, fresh] = seen_.try_emplace(r, r.hash());
      (void)slot;
      if (fresh) out.push_back(std::move(r));
    }
  }
  void on_batch_end(std::int64_t, records&) override { seen_.clear(); }
  /// State: the records already seen in the current batch.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, "distinct", 1, [&](state_writer& w) {
      detail::write_table(w, seen_, [](state_writer& w, char c) { w.u8(static_cast<std::uint8_t>(c)); });
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    detail::value_table<char> seen;
    detail::read_state(r, "distinct", 1, [&](state_reader& r) {
      seen = detail::read_table<char>(r, [](state_reader& r) { return static_cast<char>(r.u8()); });
    });
    seen_ = std::move(seen);
  }

private:
  detail::value_table<char> seen_;
};

class count_by_value_op final : public stream_operator {
public:
  void process(const process_context&, records& in, records&) override {
    for (auto& r : in) ++*counts_.try_emplace(r, r.hash()).first;
  }
  void on_batch_end(std::int64_t, records& out) override {
    out.reserve(out.size() + counts_.size());
    counts_.for_each([&](const value& k, std::int64_t n) { out.push_back(value::pair(k, n)); });
    counts_.clear();
  }
  /// State: the counts of the current batch.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, "count_by_value", 1, [&](state_writer& w) {
      detail::write_table(w, counts_, [](state_writer& w, std::int64_t n) { w.varint(static_cast<std::uint64_t>(n)); });
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    detail::value_table<std::int64_t> counts;
    detail::read_state(r, "count_by_value", 1, [&](state_reader& r) {
      counts = detail::read_table<std::int64_t>(r, [](state_reader& r) {
        const std::uint64_t n = r.varint();
        if (n == 0 || n > static_cast<std::uint64_t>(INT64_MAX)) r.fail("impossible count " + std::to_string(n));
        return static_cast<std::int64_t>(n);
      });
    });
    counts_ = std::move(counts);
  }

private:
  detail::value_table<std::int64_t> counts_;
};

// --- global ------------------------------------------------------------------

class reduce_op final : public stream_operator {
public:
  explicit reduce_op(reducer r) : r_(std::move(r)) {}
  void process(const process_context&, records& in, records&) override {
    for (auto& v : in) {
      if (!has_) {
        acc_ = r_.init(v);
        has_ = true;
      } else {
        acc_ = r_.apply(acc_, r_.init(v));
      }
    }
  }
  void on_batch_end(std::int64_t, records& out) override {
    if (has_) out.push_back(std::move(acc_));
    acc_ = value{};
    has_ = false;
  }
  /// State: the accumulator of the current batch, if any record came.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, "reduce", 1, [&](state_writer& w) {
      detail::write_optional(w, has_ ? std::optional<value>(acc_) : std::nullopt);
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    std::optional<value> acc;
    detail::read_state(r, "reduce", 1, [&](state_reader& r) { acc = detail::read_optional(r); });
    has_ = acc.has_value();
    acc_ = acc ? std::move(*acc) : value{};
  }

private:
  reducer r_;
  value acc_;
  bool has_ = false;
};

class sort_by_op final : public stream_operator {
public:
  sort_by_op(map_fn key, bool ascending) : key_(std::move(key)), ascending_(ascending) {}
  void process(const process_context&, records& in, records&) override {
    items_.reserve(items_.size() + in.size());
    for (auto& r : in) {
      value k = key_(r);
      items_.push_back({std::move(k), std::move(r)});
    }
  }
  void on_batch_end(std::int64_t, records& out) override {
    if (ascending_)
      std::stable_sort(items_.begin(), items_.end(), [](const item& a, const item& b) { return a.key < b.key; });
    else
      std::stable_sort(items_.begin(), items_.end(), [](const item& a, const item& b) { return b.key < a.key; });
    out.reserve(out.size() + items_.size());
    for (auto& it : items_) out.push_back(std::move(it.rec));
    items_.clear();
  }
  /// State: the records of the current batch with their sort keys, in arrival order.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, "sort_by", 1, [&](state_writer& w) {
      w.boolean(ascending_);
      w.varint(items_.size());
      for (auto& it : items_) {
        w.val(it.key);
        w.val(it.rec);
      }
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    std::vector<item> items;
    detail::read_state(r, "sort_by", 1, [&](state_reader& r) {
      if (r.boolean() != ascending_) r.fail(error_code::state_mismatch, "state of a sort_by in the other direction");
      const std::size_t n = detail::read_count(r, 2, "records");
      items.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        value k = r.val();
        items.push_back({std::move(k), r.val()});
      }
    });
    items_ = std::move(items);
  }

private:
  struct item {
    value key, rec;
  };
  map_fn key_;
  bool ascending_;
  std::vector<item> items_;
};

// --- keyed -------------------------------------------------------------------

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

operator_ptr make_map_values(map_fn f) { return std::make_unique<map_values_op>(std::move(f)); }
operator_ptr make_flat_map_values(flat_map_fn f) { return std::make_unique<flat_map_values_op>(std::move(f)); }
operator_ptr make_glom() { return std::make_unique<glom_op>(); }
operator_ptr make_distinct() { return std::make_unique<distinct_op>(); }
operator_ptr make_sample(double fraction, std::uint64_t seed) { return std::make_unique<sample_op>(fraction, seed); }
operator_ptr make_union() { return std::make_unique<union_op>(); }
operator_ptr make_count_by_value() { return std::make_unique<count_by_value_op>(); }
operator_ptr make_reduce(reducer r) { return std::make_unique<reduce_op>(std::move(r)); }
operator_ptr make_group_by_key() { return std::make_unique<group_by_key_op>(); }
operator_ptr make_combine_by_key(map_fn create, binary_fn merge_value, binary_fn merge_combiners) {
  return std::make_unique<combine_by_key_op>(std::move(create), std::move(merge_value), std::move(merge_combiners));
}
operator_ptr make_sort_by(map_fn key, bool ascending) {
  return std::make_unique<sort_by_op>(std::move(key), ascending);
}

}  // namespace weir
