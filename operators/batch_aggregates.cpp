// weir — the per-batch aggregations without a key (declared in
// basic_operators.hpp): count and reduce over the whole batch (one global
// instance), count_by_value and distinct by record (routed by the hash of
// the record). Spark DStream semantics (docs/architecture.md §4): the result
// of a batch is emitted at its end (distinct emits each record at its first
// sight, which gives the same batch), and the state starts afresh. The
// count and reduce classes also serve the map-side combine
// (detail/batch_totals.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "weir/operators/basic_operators.hpp"
#include "weir/operators/detail/batch_totals.hpp"
#include "weir/operators/detail/state_codec.hpp"
#include "weir/operators/detail/value_table.hpp"

namespace weir {

namespace {

class count_op final : public stream_operator {
public:
  count_op(const char* tag, detail::count_input in, bool emit_zero) : tag_(tag), in_(in), emit_zero_(emit_zero) {}
  void process(const process_context&, records& in, records&) override {
    if (in_ == detail::count_input::records) {
      n_ += static_cast<std::int64_t>(in.size());
      return;
    }
    for (auto& p : in) {
      if (!p.is_int()) throw record_error("count: expected a partial count (an int), got " + p.to_json());
      n_ += p.as_int();
    }
  }
  void on_batch_end(std::int64_t, records& out) override {
    if (emit_zero_ || n_ > 0) out.emplace_back(n_);
    n_ = 0;
  }
  /// State: the count of the current batch so far.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, tag_, 1, [&](state_writer& w) { w.i64(n_); });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    std::int64_t n = 0;
    detail::read_state(r, tag_, 1, [&](state_reader& r) {
      n = r.i64();
      if (n < 0) r.fail("negative record count " + std::to_string(n));
    });
    n_ = n;
  }

private:
  const char* tag_;
  detail::count_input in_;
  bool emit_zero_;
  std::int64_t n_ = 0;
};

class reduce_op final : public stream_operator {
public:
  reduce_op(reducer r, const char* tag) : r_(std::move(r)), tag_(tag) {}
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
    detail::write_state(w, tag_, 1, [&](state_writer& w) {
      detail::write_optional(w, has_ ? std::optional<value>(acc_) : std::nullopt);
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    std::optional<value> acc;
    detail::read_state(r, tag_, 1, [&](state_reader& r) { acc = detail::read_optional(r); });
    has_ = acc.has_value();
    acc_ = acc ? std::move(*acc) : value{};
  }

private:
  reducer r_;
  const char* tag_;
  value acc_;
  bool has_ = false;
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

}  // namespace

namespace detail {

operator_ptr make_batch_count(const char* tag, count_input in, bool emit_zero) {
  return std::make_unique<count_op>(tag, in, emit_zero);
}
operator_ptr make_batch_reduce(reducer r, const char* tag) { return std::make_unique<reduce_op>(std::move(r), tag); }

}  // namespace detail

operator_ptr make_count() { return detail::make_batch_count("count", detail::count_input::records, true); }
operator_ptr make_reduce(reducer r) { return detail::make_batch_reduce(std::move(r), "reduce"); }
operator_ptr make_count_by_value() { return std::make_unique<count_by_value_op>(); }
operator_ptr make_distinct() { return std::make_unique<distinct_op>(); }

}  // namespace weir
