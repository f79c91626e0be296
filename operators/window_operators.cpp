#include "weir/operators/window_operators.hpp"

#include <deque>
#include <string>

#include "weir/operators/basic_operators.hpp"
#include "weir/operators/detail/value_table.hpp"

namespace weir {

void check_window(const char* op, std::chrono::milliseconds window,
                  std::chrono::milliseconds slide, std::chrono::milliseconds b) {
  auto check = [&](const char* what, std::chrono::milliseconds d) {
    if (d.count() <= 0)
      throw pipeline_error(std::string(op) + ": " + what + " must be positive, got " +
                           std::to_string(d.count()) + "ms");
    if (d.count() % b.count() != 0)
      throw pipeline_error(std::string(op) + ": " + what + " " + std::to_string(d.count()) +
                           "ms is not a multiple of the batch interval " +
                           std::to_string(b.count()) + "ms");
  };
  check("window", window);
  check("slide", slide);
}

namespace {

class reduce_by_key_and_window_op final : public stream_operator {
public:
  reduce_by_key_and_window_op(reducer r, std::chrono::milliseconds w, std::chrono::milliseconds s)
      : r_(std::move(r)), window_(w.count()), slide_(s.count()) {}

  void open(const operator_context& ctx) override {
    if (slide_ == 0) slide_ = ctx.batch_interval.count();
    check_window("reduce_by_key_and_window", std::chrono::milliseconds(window_),
                 std::chrono::milliseconds(slide_), ctx.batch_interval);
  }

  void process(records& in, records&) override {
    if (in.empty()) return;
    has_data_ = true;
    for (auto& rec : in) {
      auto [k, v] = as_pair(rec, "reduce_by_key_and_window");
      auto [acc, fresh] = current_.try_emplace(*k, k->hash());
      *acc = fresh ? r_.init(*v) : r_.apply(*acc, r_.init(*v));
    }
  }

  void on_batch_end(std::int64_t t, records& out) override {
    if (has_data_) {
      batches_.push_back({t, std::move(current_)});
      current_ = detail::value_table<value>();
      last_data_ = t;
      has_data_ = false;
    }
    while (!batches_.empty() && batches_.front().time <= t - window_) batches_.pop_front();
    if (t % slide_ != 0) return;
    if (batches_.size() == 1) {
      batches_.front().table.for_each(
          [&](const value& k, const value& v) { out.push_back(value::pair(k, v)); });
      return;
    }
    detail::value_table<value> merged(64);
    for (auto& b : batches_) {
      b.table.for_each([&](const value& k, const value& v) {
        auto h = k.hash();
        auto [acc, fresh] = merged.try_emplace(k, h);
        *acc = fresh ? v : r_.apply(*acc, v);
      });
    }
    out.reserve(out.size() + merged.size());
    merged.for_each([&](const value& k, value& v) { out.push_back(value::pair(k, std::move(v))); });
  }

  std::int64_t output_slide_ms() const override { return slide_; }

  std::int64_t drain_horizon(std::int64_t last_ms) const override {
    if (last_data_ < 0) return last_ms;
    // the last window holding batch L ends at the largest multiple of slide < L + window
    std::int64_t end = ((last_data_ + window_ - 1) / slide_) * slide_;
    return end > last_ms ? end : last_ms;
  }

private:
  struct batch_table {
    std::int64_t time;
    detail::value_table<value> table;
  };
  reducer r_;
  std::int64_t window_, slide_;
  detail::value_table<value> current_;
  bool has_data_ = false;
  std::int64_t last_data_ = -1;
  std::deque<batch_table> batches_;
};

}  // namespace

operator_ptr make_reduce_by_key_and_window(reducer r, std::chrono::milliseconds window,
                                           std::chrono::milliseconds slide) {
  return std::make_unique<reduce_by_key_and_window_op>(std::move(r), window, slide);
}

}  // namespace weir
