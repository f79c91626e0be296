// weir — the stateless per-record operators (declared in basic_operators.hpp):
// map, flat_map, filter, map_values, flat_map_values and union, plus
// as_pair, the pair check every keyed operator uses. Spark DStream
// semantics (docs/architecture.md §4); the planner chains them into the
// actor before them, so they cost no message. Union holds the later
// inputs' records until the batch end (Spark's order in micro-batch mode).
#include <string>
#include <utility>
#include <vector>

#include "weir/operators/basic_operators.hpp"
#include "weir/operators/sealed_state.hpp"
#include "weir/operators/snapshot.hpp"

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

/// Union. In micro-batch mode each batch is Spark's UnionRDD: all of the
/// first input's records of the batch, then all of the second's, and so on
/// (the first input's pass at once; the others' wait in a buffer for the
/// batch end). A watermark releases the buffered records before it passes,
/// so that no record falls behind a watermark; with event time a batch is
/// therefore in input order between watermarks. In record mode records pass
/// in arrival order.
class union_op final : public stream_operator {
public:
  void open(const operator_context& ctx) override { ordered_ = !ctx.record_mode; }

  void process(const process_context& ctx, records& in, records& out) override { process_input(ctx, 0, in, out); }

  void process_input(const process_context&, int input, records& in, records& out) override {
    if (ordered_ && input > 0) {
      const auto i = static_cast<std::size_t>(input);
      if (held_.size() < i) held_.resize(i);
      append(held_[i - 1], in);
      any_held_ = true;
      return;
    }
    append(out, in);
  }

  void on_batch_end(std::int64_t, records& out) override { release(out); }
  std::int64_t on_watermark(std::int64_t wm, records& out) override {
    release(out);
    return wm;
  }
  void on_end_of_stream(records& out) override { release(out); }

  // Checkpoints: the held records, per input; nothing when none is held
  // (the usual case: a barrier follows a batch end in micro-batch mode).
  void snapshot_state(std::uint64_t, state_writer& w) override {
    if (!any_held_) return;
    write_sealed(w, 1, [&](state_writer& s) {
      s.varint(held_.size());
      for (auto& h : held_) {
        s.varint(h.size());
        for (auto& r : h) s.val(r);
      }
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    if (r.remaining() == 0) return;  // nothing was held
    read_sealed(r, 1, "union", [&](state_reader& s) {
      const std::uint64_t inputs = s.varint();
      if (inputs > 65536) s.fail("bad number of union inputs " + std::to_string(inputs));
      held_.assign(inputs, records{});
      for (auto& h : held_) {
        const std::uint64_t n = s.varint();
        for (std::uint64_t i = 0; i < n; ++i) h.push_back(s.val());
        any_held_ = any_held_ || !h.empty();
      }
    });
  }

private:
  static void append(records& to, records& in) {
    if (to.empty()) {  // the whole input, without moving record by record
      to.swap(in);
      return;
    }
    to.reserve(to.size() + in.size());
    for (auto& r : in) to.push_back(std::move(r));
  }
  void release(records& out) {
    if (!any_held_) return;
    for (auto& h : held_) {
      append(out, h);
      h.clear();
    }
    any_held_ = false;
  }

  bool ordered_ = true;
  bool any_held_ = false;
  std::vector<records> held_;  ///< held_[i - 1]: input i's records of the batch
};

}  // namespace

operator_ptr make_map(map_fn f) { return std::make_unique<map_op>(std::move(f)); }
operator_ptr make_flat_map(flat_map_fn f) { return std::make_unique<flat_map_op>(std::move(f)); }
operator_ptr make_filter(filter_fn f) { return std::make_unique<filter_op>(std::move(f)); }
operator_ptr make_map_values(map_fn f) { return std::make_unique<map_values_op>(std::move(f)); }
operator_ptr make_flat_map_values(flat_map_fn f) { return std::make_unique<flat_map_values_op>(std::move(f)); }
operator_ptr make_union() { return std::make_unique<union_op>(); }

}  // namespace weir
