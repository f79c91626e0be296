// weir — joins and cogroup of two keyed streams, batch by batch (Spark
// PairDStreamFunctions.join/leftOuterJoin/rightOuterJoin/fullOuterJoin/cogroup,
// which transformWith the two batch RDDs of the same time, and
// PairRDDFunctions, which builds every join from cogroup:
//   inner: for (v <- vs; w <- ws) yield (v, w)
//   left:  ws empty → (v, None) per v      right: vs empty → (None, w) per w
//   full:  either side empty → the other side with None).
// The values of a key are kept in arrival order per input; output pairs of a
// key come v-major (for each v, every w), keys in no particular order.
#include "weir/operators/join_operators.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "weir/operators/basic_operators.hpp"
#include "weir/operators/detail/state_codec.hpp"
#include "weir/operators/detail/value_table.hpp"
#include "weir/operators/partitioning.hpp"

namespace weir {

namespace {

bool keeps_left_only(join_kind k) { return k == join_kind::left_outer || k == join_kind::full_outer; }
bool keeps_right_only(join_kind k) { return k == join_kind::right_outer || k == join_kind::full_outer; }

/// Emits the join of one key's values vs × ws (a missing side is null).
void join_key(join_kind kind, const value& k, const records& vs, const records& ws, records& out) {
  if (!vs.empty() && !ws.empty()) {
    for (auto& v : vs)
      for (auto& w : ws) out.push_back(value::pair(k, value::pair(v, w)));
  } else if (ws.empty()) {
    if (keeps_left_only(kind))
      for (auto& v : vs) out.push_back(value::pair(k, value::pair(v, value{})));
  } else if (keeps_right_only(kind)) {
    for (auto& w : ws) out.push_back(value::pair(k, value::pair(value{}, w)));
  }
}

/// The values of each key of the current batch, per input.
struct sides {
  records left, right;
};

/// Shared by join and cogroup: collects both inputs' batches by key.
class two_input_op : public stream_operator {
public:
  explicit two_input_op(const char* name) : name_(name) {}

  void process(const process_context& ctx, records& in, records& out) override { process_input(ctx, 0, in, out); }

  void process_input(const process_context&, int input, records& in, records&) override {
    if (input != 0 && input != 1)
      throw pipeline_error(error_code::invalid_argument,
                           std::string(name_) + " has 2 inputs, got records for input " + std::to_string(input));
    for (auto& rec : in) {
      auto [k, v] = as_pair(rec, name_);
      sides& s = *table_.try_emplace(*k, k->hash()).first;
      (input == 0 ? s.left : s.right).push_back(*v);
    }
  }

  /// State: both inputs' values of the current batch, per key.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, name_, 1, [&](state_writer& w) {
      detail::write_table(w, table_, [](state_writer& w, const sides& s) {
        detail::write_records(w, s.left);
        detail::write_records(w, s.right);
      });
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    detail::value_table<sides> t;
    detail::read_state(r, name_, 1, [&](state_reader& r) {
      t = detail::read_table<sides>(r, [](state_reader& r) {
        sides s;
        s.left = detail::read_records(r);
        s.right = detail::read_records(r);
        return s;
      });
    });
    table_ = std::move(t);
  }

protected:
  const char* name_;
  detail::value_table<sides> table_;
};

class join_op final : public two_input_op {
public:
  explicit join_op(join_kind kind) : two_input_op(name_of(kind)), kind_(kind) {}

  void on_batch_end(std::int64_t, records& out) override {
    table_.for_each([&](const value& k, sides& s) { join_key(kind_, k, s.left, s.right, out); });
    table_.clear();
  }

private:
  static const char* name_of(join_kind k) {
    switch (k) {
      case join_kind::inner: return "join";
      case join_kind::left_outer: return "left_outer_join";
      case join_kind::right_outer: return "right_outer_join";
      case join_kind::full_outer: return "full_outer_join";
    }
    return "join";
  }
  join_kind kind_;
};

class cogroup_op final : public two_input_op {
public:
  cogroup_op() : two_input_op("cogroup") {}

  void on_batch_end(std::int64_t, records& out) override {
    out.reserve(out.size() + table_.size());
    table_.for_each([&](const value& k, sides& s) {
      out.push_back(value::pair(k, value::pair(value::array(std::move(s.left)), value::array(std::move(s.right)))));
    });
    table_.clear();
  }
};

/// transform(rdd => rdd.join(table)): the table is input 1 of every batch.
/// The table's values per key are grouped once, at construction.
class table_join_op final : public stream_operator {
public:
  table_join_op(records table, join_kind kind) : kind_(kind) {
    for (auto& rec : table) {
      auto [k, w] = as_pair(rec, "table_join table");
      std::uint64_t h = k->hash();
      auto [idx, fresh] = index_.try_emplace(*k, h);
      if (fresh) {
        *idx = rows_.size();
        rows_.push_back({*k, h, {}});
      }
      rows_[*idx].ws.push_back(*w);
    }
  }

  /// Right/full outer: this instance emits the unmatched table keys routed to it.
  void open(const operator_context& ctx) override {
    mine_.clear();
    if (!keeps_right_only(kind_)) return;
    for (std::size_t i = 0; i < rows_.size(); ++i)
      if (ctx.parallelism <= 1 || partition_of(rows_[i].hash, ctx.parallelism) == ctx.instance) mine_.push_back(i);
  }

  void process(const process_context&, records& in, records&) override {
    for (auto& rec : in) {
      auto [k, v] = as_pair(rec, "table_join");
      std::uint64_t h = k->hash();
      auto [e, fresh] = batch_.try_emplace(*k, h);
      if (fresh) e->hash = h;
      e->vs.push_back(*v);
    }
  }

  void on_batch_end(std::int64_t, records& out) override {
    static const records none;
    batch_.for_each([&](const value& k, batch_entry& e) {
      const std::size_t* idx = index_.find(k, e.hash);
      join_key(kind_, k, e.vs, idx ? rows_[*idx].ws : none, out);
    });
    for (std::size_t i : mine_) {
      const row& r = rows_[i];
      if (batch_.find(r.key, r.hash)) continue;  // joined above
      for (auto& w : r.ws) out.push_back(value::pair(r.key, value::pair(value{}, w)));
    }
    batch_.clear();
  }

  /// State: the input values of the current batch, per key. The table itself
  /// is not state: it is given to the operator when it is built (from a
  /// static file, read again on restart, as Spark's transform re-reads it).
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, "table_join", 1, [&](state_writer& w) {
      detail::write_table(w, batch_, [](state_writer& w, const batch_entry& e) { detail::write_records(w, e.vs); });
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    detail::value_table<batch_entry> t;
    detail::read_state(r, "table_join", 1, [&](state_reader& r) {
      t = detail::read_table<batch_entry>(r, [](state_reader& r) {
        batch_entry e;
        e.vs = detail::read_records(r);
        return e;
      });
    });
    t.for_each([](const value& k, batch_entry& e) { e.hash = k.hash(); });
    batch_ = std::move(t);
  }

private:
  struct row {
    value key;
    std::uint64_t hash;
    records ws;
  };
  struct batch_entry {
    std::uint64_t hash = 0;
    records vs;
  };
  join_kind kind_;
  std::vector<row> rows_;                    ///< the table grouped by key, first-seen order
  detail::value_table<std::size_t> index_;   ///< key → rows_ index
  std::vector<std::size_t> mine_;            ///< rows this instance emits unmatched (right/full)
  detail::value_table<batch_entry> batch_;   ///< input values of the current batch
};

}  // namespace

operator_ptr make_join(join_kind kind) { return std::make_unique<join_op>(kind); }
operator_ptr make_cogroup() { return std::make_unique<cogroup_op>(); }
operator_ptr make_table_join(records table, join_kind kind) {
  return std::make_unique<table_join_op>(std::move(table), kind);
}

}  // namespace weir
