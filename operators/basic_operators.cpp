#include "weir/operators/basic_operators.hpp"

#include <algorithm>
#include <string>

#include "weir/operators/detail/state_codec.hpp"
#include "weir/operators/detail/value_table.hpp"

namespace weir {

std::pair<const value*, const value*> as_pair(const value& rec, const char* op) {
  if (rec.is_array()) {
    auto a = rec.as_array();
    if (a.size() == 2) return {&a[0], &a[1]};
  }
  std::string shown = rec.to_json();
  if (shown.size() > 80) shown = shown.substr(0, 77) + "...";
  throw record_error(error_code::type_mismatch, std::string(op) + " expects (key, value) pairs, got " +
                     std::string(kind_name(rec.type())) + " " + shown);
}

namespace {

class map_op final : public stream_operator {
public:
  explicit map_op(map_fn f) : f_(std::move(f)) {}
  void process(const process_context&, records& in, records& out) override {
    out.reserve(out.size() + in.size());
    for (auto& r : in) out.push_back(f_(r));
  }
  bool stateless() const override { return true; }

private:
  map_fn f_;
};

class flat_map_op final : public stream_operator {
public:
  explicit flat_map_op(flat_map_fn f) : f_(std::move(f)) {}
  void process(const process_context&, records& in, records& out) override {
    for (auto& r : in) f_(r, out);
  }
  bool stateless() const override { return true; }

private:
  flat_map_fn f_;
};

class filter_op final : public stream_operator {
public:
  explicit filter_op(filter_fn f) : f_(std::move(f)) {}
  void process(const process_context&, records& in, records& out) override {
    for (auto& r : in)
      if (f_(r)) out.push_back(std::move(r));
  }
  bool stateless() const override { return true; }

private:
  filter_fn f_;
};

class count_op final : public stream_operator {
public:
  void process(const process_context&, records& in, records&) override { n_ += static_cast<std::int64_t>(in.size()); }
  void on_batch_end(std::int64_t, records& out) override {
    out.emplace_back(n_);
    n_ = 0;
  }
  /// State: the count of the current batch so far.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, "count", 1, [&](state_writer& w) { w.i64(n_); });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    std::int64_t n = 0;
    detail::read_state(r, "count", 1, [&](state_reader& r) {
      n = r.i64();
      if (n < 0) r.fail("negative record count " + std::to_string(n));
    });
    n_ = n;
  }

private:
  std::int64_t n_ = 0;
};

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

class top_op final : public stream_operator {
public:
  top_op(std::size_t n, map_fn by) : n_(n), by_(std::move(by)) {}
  void process(const process_context&, records& in, records&) override {
    for (auto& r : in) {
      value k = by_(r);
      items_.push_back({std::move(k), std::move(r)});
    }
    if (items_.size() > 2 * n_ + 1024) trim();
  }
  void on_batch_end(std::int64_t, records& out) override {
    trim();
    std::sort(items_.begin(), items_.end(), before);
    for (auto& it : items_) out.push_back(std::move(it.rec));
    items_.clear();
  }
  /// State: the candidates of the current batch, (by(record), record) each.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, "top", 1, [&](state_writer& w) {
      w.varint(items_.size());
      for (auto& it : items_) {
        w.val(it.key);
        w.val(it.rec);
      }
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    std::vector<item> items;
    detail::read_state(r, "top", 1, [&](state_reader& r) {
      const std::size_t n = detail::read_count(r, 2, "top candidates");
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
  static bool before(const item& a, const item& b) {
    if (auto c = a.key <=> b.key; c != 0) return c > 0;
    return a.rec < b.rec;
  }
  void trim() {
    if (items_.size() <= n_) return;
    std::nth_element(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(n_), items_.end(), before);
    items_.resize(n_);
  }
  std::size_t n_;
  map_fn by_;
  std::vector<item> items_;
};

}  // namespace

operator_ptr make_map(map_fn f) { return std::make_unique<map_op>(std::move(f)); }
operator_ptr make_flat_map(flat_map_fn f) { return std::make_unique<flat_map_op>(std::move(f)); }
operator_ptr make_filter(filter_fn f) { return std::make_unique<filter_op>(std::move(f)); }
operator_ptr make_count() { return std::make_unique<count_op>(); }
operator_ptr make_reduce_by_key(reducer r) { return std::make_unique<reduce_by_key_op>(std::move(r)); }
operator_ptr make_top(std::size_t n, map_fn by) { return std::make_unique<top_op>(n, std::move(by)); }

}  // namespace weir
