// Map-side combine operators (operators/combine_operators.hpp): partials
// merged after the exchange give what the uncombined aggregation gives, bit
// for bit for double sums at one upstream instance, also when the bounded
// table is full and records pass through as partials of their own.
#include <catch2/catch.hpp>

#include <algorithm>

#include "weir/operators/basic_operators.hpp"
#include "weir/operators/combine_operators.hpp"
#include "weir/operators/harness.hpp"

using namespace weir;

namespace {

/// Pushes `in` through `combine` (one batch, in chunks of 3 records), then the partials through `merge`.
records combined(operator_ptr combine, operator_ptr merge, const records& in) {
  operator_harness c(std::move(combine)), m(std::move(merge));
  records partials;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    records chunk(in.begin() + static_cast<std::ptrdiff_t>(i),
                  in.begin() + static_cast<std::ptrdiff_t>(std::min(in.size(), i + 3)));
    for (auto& p : c.push(std::move(chunk))) partials.push_back(p);
  }
  for (auto& p : c.end_batch()) partials.push_back(p);
  return m.batch(partials);
}

records direct(operator_ptr op, const records& in) { return operator_harness(std::move(op)).batch(in); }

records pairs_with_doubles() {
  // 1e16 + 1 + 1 folded left is 1e16; regrouped as 1e16 + (1 + 1) it is 1e16 + 2.
  return {value::pair(value("a"), 0.1),  value::pair(value("b"), 0.2), value::pair(value("c"), 0.3),
          value::pair(value("e"), 1e16), value::pair(value("a"), 0.7), value::pair(value("e"), 1.0),
          value::pair(value("e"), 1.0),  value::pair(value("d"), 0.4), value::pair(value("c"), 1e16),
          value::pair(value("c"), 1.0),  value::pair(value("c"), 1.0), value::pair(value("d"), 0.5)};
}

}  // namespace

TEST_CASE("reduce_by_key over combined partials equals the uncombined result bit for bit", "[operators][combine]") {
  const records in = pairs_with_doubles();
  for (std::size_t keys : {std::size_t{1}, std::size_t{3}, std::size_t{64}}) {
    INFO("table of " << keys << " keys");
    for (auto r : {reducer::sum(), reducer::min(), reducer::max(), reducer::count()}) {
      INFO(r.name);
      records want = sorted(direct(make_reduce_by_key(r), in));
      records got = sorted(combined(make_combine_by_key_reducer(r, "reduce_by_key", keys),
                                    make_reduce_by_key(merge_reducer(r)), in));
      CHECK(got == want);
    }
  }
  // the case the pass-through protects: key c after a full table, 1e16 then 1 then 1
  auto got = sorted(combined(make_combine_by_key_reducer(reducer::sum(), "reduce_by_key", 2),
                             make_reduce_by_key(reducer::sum()), in));
  CHECK(got[2] == value::pair(value("c"), ((0.3 + 1e16) + 1.0) + 1.0));
}

TEST_CASE("A full combine table passes records of new keys through and keeps folding the keys it holds",
          "[operators][combine]") {
  operator_harness c(make_combine_by_key_reducer(reducer::sum(), "reduce_by_key", 2));
  records now = c.push({value::pair(value("a"), 1), value::pair(value("b"), 2), value::pair(value("c"), 3),
                        value::pair(value("a"), 4), value::pair(value("c"), 5)});
  CHECK(now == records{value::pair(value("c"), 3), value::pair(value("c"), 5)});
  CHECK(sorted(c.end_batch()) == records{value::pair(value("a"), 5), value::pair(value("b"), 2)});
  CHECK(c.end_batch().empty());  // the table starts afresh every batch
  CHECK_THROWS_WITH(c.push({value(7)}), Catch::Contains("reduce_by_key expects (key, value) pairs"));
}

TEST_CASE("count_by_value, combine_by_key, count and reduce merge their partials to the uncombined answers",
          "[operators][combine]") {
  records words;
  for (int i = 0; i < 100; ++i) words.emplace_back("w" + std::to_string(i * i % 17));
  for (std::size_t keys : {std::size_t{2}, std::size_t{100}}) {
    INFO("table of " << keys << " keys");
    CHECK(sorted(combined(make_combine_count_by_value(keys), make_reduce_by_key(reducer::sum()), words)) ==
          sorted(direct(make_count_by_value(), words)));
    map_fn create = [](const value& v) { return value::pair(v, 1); };
    binary_fn merge_value = [](const value& c, const value& v) {
      return value::pair(add(c.as_array()[0], v), value(c.as_array()[1].as_int() + 1));
    };
    binary_fn merge_combiners = [](const value& a, const value& b) {
      return value::pair(add(a.as_array()[0], b.as_array()[0]), add(a.as_array()[1], b.as_array()[1]));
    };
    records in = pairs_with_doubles();
    CHECK(sorted(combined(make_combine_combiners(create, merge_value, keys),
                          make_reduce_by_key(reducer::custom(merge_combiners)), in)) ==
          sorted(direct(make_combine_by_key(create, merge_value, merge_combiners), in)));
  }
  CHECK(combined(make_combine_count(), make_merge_counts(), words) == records{value(100)});
  CHECK(combined(make_combine_count(), make_merge_counts(), {}) == records{value(0)});  // Spark: [0]
  records nums;
  for (int i = 0; i < 50; ++i) nums.emplace_back(i % 2 ? value(0.1 * i) : value(1e15));
  for (auto r : {reducer::sum(), reducer::min(), reducer::count()}) {
    INFO(r.name);
    CHECK(combined(make_combine_reduce(r), make_reduce(merge_reducer(r)), nums) == direct(make_reduce(r), nums));
    CHECK(combined(make_combine_reduce(r), make_reduce(merge_reducer(r)), {}).empty());
  }
}
