// weir — the stateless per-record operators (declared in basic_operators.hpp):
// map, flat_map, filter, map_values, flat_map_values and union, plus
// as_pair, the pair check every keyed operator uses. Spark DStream
// semantics (docs/architecture.md §4); the planner chains them into the
// actor before them (stateless() is true), so they cost no message.
#include <string>
#include <utility>

#include "weir/operators/basic_operators.hpp"

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

}  // namespace

operator_ptr make_map(map_fn f) { return std::make_unique<map_op>(std::move(f)); }
operator_ptr make_flat_map(flat_map_fn f) { return std::make_unique<flat_map_op>(std::move(f)); }
operator_ptr make_filter(filter_fn f) { return std::make_unique<filter_op>(std::move(f)); }
operator_ptr make_map_values(map_fn f) { return std::make_unique<map_values_op>(std::move(f)); }
operator_ptr make_flat_map_values(flat_map_fn f) { return std::make_unique<flat_map_values_op>(std::move(f)); }
operator_ptr make_union() { return std::make_unique<union_op>(); }

}  // namespace weir
