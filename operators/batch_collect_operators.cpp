// weir — the operators that hold a batch's records until its end
// (declared in basic_operators.hpp): glom (the records as one array),
// sort_by (the batch sorted by a key) and top (the n largest). Spark
// DStream semantics (docs/architecture.md §4); memory: the batch's records
// (top: O(n) candidates).
#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "weir/operators/basic_operators.hpp"
#include "weir/operators/detail/state_codec.hpp"

namespace weir {

namespace {

/// A record held with its key (sort_by's sort key, top's `by` value).
struct keyed_item {
  value key, rec;
};

/// The items as checkpoint state: varint(n), then key and record of each.
void write_items(state_writer& w, const std::vector<keyed_item>& items) {
  w.varint(items.size());
  for (auto& it : items) {
    w.val(it.key);
    w.val(it.rec);
  }
}

/// The items written by write_items; `what` names them in errors.
std::vector<keyed_item> read_items(state_reader& r, const char* what) {
  std::vector<keyed_item> items;
  const std::size_t n = detail::read_count(r, 2, what);
  items.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    value k = r.val();
    items.push_back({std::move(k), r.val()});
  }
  return items;
}

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
      write_items(w, items_);
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    std::vector<item> items;
    detail::read_state(r, "sort_by", 1, [&](state_reader& r) {
      if (r.boolean() != ascending_) r.fail(error_code::state_mismatch, "state of a sort_by in the other direction");
      items = read_items(r, "records");
    });
    items_ = std::move(items);
  }

private:
  using item = keyed_item;
  map_fn key_;
  bool ascending_;
  std::vector<item> items_;
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
    detail::write_state(w, "top", 1, [&](state_writer& w) { write_items(w, items_); });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    std::vector<item> items;
    detail::read_state(r, "top", 1, [&](state_reader& r) { items = read_items(r, "top candidates"); });
    items_ = std::move(items);
  }

private:
  using item = keyed_item;
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

operator_ptr make_glom() { return std::make_unique<glom_op>(); }
operator_ptr make_sort_by(map_fn key, bool ascending) {
  return std::make_unique<sort_by_op>(std::move(key), ascending);
}
operator_ptr make_top(std::size_t n, map_fn by) { return std::make_unique<top_op>(n, std::move(by)); }

}  // namespace weir
