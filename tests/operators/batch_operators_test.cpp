#include <catch2/catch.hpp>

#include <string>

#include "weir/operators/basic_operators.hpp"
#include "weir/operators/harness.hpp"

using namespace weir;

namespace {

value P(value k, value v) { return value::pair(std::move(k), std::move(v)); }
value A(std::vector<value> items) { return value::array(std::move(items)); }

}  // namespace

TEST_CASE("map_values maps the value and keeps the key as a tuple", "[operators]") {
  operator_harness h(make_map_values([](const value& v) { return value(v.as_int() * 10); }));
  auto out = h.push({P("a", 1), value::array({"b", 2}), P(3, 4)});
  CHECK(out == records{P("a", 10), P("b", 20), P(3, 40)});
  for (auto& r : out) CHECK(r.is_tuple());
  CHECK(h.end_batch().empty());
  CHECK_THROWS_AS(h.push({value(5)}), record_error);
  CHECK_THROWS_WITH(h.push({value(5)}), Catch::Contains("map_values expects (key, value) pairs, got int 5"));
  CHECK_THROWS_WITH(h.push({A({1, 2, 3})}), Catch::Contains("map_values expects (key, value) pairs, got array"));
}

TEST_CASE("flat_map_values emits the key with every value f appends", "[operators]") {
  operator_harness h(make_flat_map_values([](const value& v, records& out) {
    for (std::int64_t i = 0; i < v.as_int(); ++i) out.emplace_back(i);
  }));
  CHECK(h.push({P("a", 2), P("b", 0), P("c", 3)}) ==
        records{P("a", 0), P("a", 1), P("c", 0), P("c", 1), P("c", 2)});
  CHECK(h.end_batch().empty());
  CHECK_THROWS_WITH(h.push({value("x")}), Catch::Contains("flat_map_values expects (key, value) pairs, got string"));
}

TEST_CASE("glom emits one array per batch in arrival order and an empty one for an empty batch",
          "[operators]") {
  operator_harness h(make_glom());
  CHECK(h.push({1, 2}).empty());
  CHECK(h.push({3}).empty());
  auto out = h.end_batch();
  REQUIRE(out == records{A({1, 2, 3})});
  CHECK_FALSE(out[0].is_tuple());
  CHECK(h.batch({}) == records{A({})});
  CHECK(h.batch({"x"}) == records{A({"x"})});
  CHECK(h.batch({}) == records{A({})});
}

TEST_CASE("distinct emits each record once per batch", "[operators]") {
  operator_harness h(make_distinct());
  CHECK(sorted(h.batch({"a", "b", "a", "c", "b", 1, 1.0, P("k", 1), P("k", 1)})) ==
        sorted(records{"a", "b", "c", 1, P("k", 1)}));
  CHECK(h.batch({}).empty());
  // a new batch starts afresh; a record is emitted when first seen
  CHECK(h.push({"a"}) == records{"a"});
  CHECK(h.push({"a", "z", "a"}) == records{"z"});
  CHECK(h.end_batch().empty());
  CHECK(h.batch({"a"}) == records{"a"});
}

TEST_CASE("sample keeps a reproducible Bernoulli subset", "[operators]") {
  records in;
  for (int i = 0; i < 10000; ++i) in.emplace_back(i);

  CHECK(operator_harness(make_sample(0.0, 7)).batch(in).empty());
  CHECK(operator_harness(make_sample(1.0, 7)).batch(in) == in);

  operator_harness a(make_sample(0.5, 42));
  operator_harness b(make_sample(0.5, 42));
  operator_harness c(make_sample(0.5, 43));
  auto a1 = a.batch(in);
  CHECK(a1.size() > 4700);
  CHECK(a1.size() < 5300);
  CHECK(std::is_sorted(a1.begin(), a1.end()));  // arrival order kept
  CHECK(b.batch(in) == a1);                     // same seed, same batch time: same records
  CHECK(c.batch(in) != a1);                     // another seed
  auto a2 = a.batch(in);                        // same records, next batch time
  CHECK(a2 != a1);
  CHECK(b.batch({}).empty());
  CHECK(b.batch(in) != a2);  // b's third batch, a's second: another batch time

  // the decision depends on the position in the batch, not on how it is split into pushes
  operator_harness d(make_sample(0.5, 42));
  records first(in.begin(), in.begin() + 3000), rest(in.begin() + 3000, in.end());
  auto d1 = d.push(first);
  auto d2 = d.push(rest);
  d1.insert(d1.end(), d2.begin(), d2.end());
  CHECK(d.end_batch().empty());
  CHECK(d1 == a1);

  operator_harness q(make_sample(0.1, 1));
  auto small = q.batch(in);
  CHECK(small.size() > 850);
  CHECK(small.size() < 1150);
}

TEST_CASE("union passes the records of every input through", "[operators]") {
  operator_context record_mode;
  record_mode.record_mode = true;
  operator_harness h(make_union(), record_mode);
  CHECK(h.push_input(0, {1, 2}) == records{1, 2});
  CHECK(h.push_input(1, {"x"}) == records{"x"});
  CHECK(h.push_input(2, {P("k", 3)}) == records{P("k", 3)});
  CHECK(h.end_batch().empty());
  CHECK(h.push({4}) == records{4});
}

TEST_CASE("union in micro-batch mode gives Spark's UnionRDD order: input by input", "[operators]") {
  operator_harness h(make_union());
  // arrival interleaves the inputs; the batch holds input 0's records, then 1's, then 2's
  CHECK(h.push_input(1, {5, 6}) == records{});
  CHECK(h.push_input(0, {1, 2}) == records{1, 2});
  CHECK(h.push_input(2, {9}) == records{});
  CHECK(h.push_input(1, {7, 8}) == records{});
  CHECK(h.push_input(0, {3, 4}) == records{3, 4});
  CHECK(h.end_batch() == records{5, 6, 7, 8, 9});
  CHECK(h.end_batch().empty());
  // a watermark lets the held records go first, so none falls behind it
  h.push_input(1, {10});
  CHECK(h.watermark(100) == records{10});
  CHECK(h.forwarded() == 100);
  // held records are part of a checkpoint
  h.push_input(2, {11});
  auto state = h.snapshot();
  CHECK_FALSE(state.empty());
  operator_harness r(make_union(), operator_harness::restoring_context());
  r.restore(state, h.time());
  CHECK(r.end_batch() == records{11});
}

TEST_CASE("count_by_value counts each distinct record of the batch", "[operators]") {
  operator_harness h(make_count_by_value());
  h.push({"a", "b", "a"});
  h.push({"a", 2, 2.0});
  CHECK(sorted(h.end_batch()) == sorted(records{P("a", 3), P("b", 1), P(2, 2)}));
  CHECK(h.batch({}).empty());
  CHECK(h.batch({"b"}) == records{P("b", 1)});
}

TEST_CASE("reduce emits one value per non-empty batch and nothing for an empty batch", "[operators]") {
  operator_harness h(make_reduce(reducer::sum()));
  h.push({1, 2});
  h.push({3});
  CHECK(h.end_batch() == records{6});
  CHECK(h.batch({}).empty());
  CHECK(h.batch({2.5, 1}) == records{3.5});
  CHECK(h.batch({7}) == records{7});

  CHECK(operator_harness(make_reduce(reducer::max())).batch({3, 9, 4}) == records{9});
  CHECK(operator_harness(make_reduce(reducer::count())).batch({"a", "b", "c"}) == records{3});
  auto concat = reducer::custom([](const value& a, const value& b) {
    return value(std::string(a.as_string()) + std::string(b.as_string()));
  });
  CHECK(operator_harness(make_reduce(concat)).batch({"x", "y", "z"}) == records{"xyz"});
  CHECK_THROWS_WITH(operator_harness(make_reduce(reducer::sum())).push({1, "s"}),
                    Catch::Contains("cannot add int and string"));
}

TEST_CASE("group_by_key groups the values of each key in arrival order", "[operators]") {
  operator_harness h(make_group_by_key());
  h.push({P("a", 1), P("b", 2)});
  h.push({P("a", 3), P("a", 1)});
  auto out = sorted(h.end_batch());
  CHECK(out == records{P("a", A({1, 3, 1})), P("b", A({2}))});
  CHECK(out[0].is_tuple());
  CHECK_FALSE(out[0].as_array()[1].is_tuple());
  CHECK(h.batch({}).empty());
  CHECK(h.batch({P("b", 5)}) == records{P("b", A({5}))});
  CHECK_THROWS_WITH(h.push({value()}), Catch::Contains("group_by_key expects (key, value) pairs, got null"));
}

TEST_CASE("combine_by_key creates then merges values per key", "[operators]") {
  // (sum, count) per key: Spark's average example
  operator_harness h(make_combine_by_key(
      [](const value& v) { return P(v, 1); },
      [](const value& c, const value& v) {
        return P(c.as_array()[0].as_int() + v.as_int(), c.as_array()[1].as_int() + 1);
      },
      [](const value&, const value&) -> value { throw std::logic_error("merge_combiners is not used"); }));
  h.push({P("a", 1), P("b", 10)});
  h.push({P("a", 2), P("a", 3)});
  CHECK(sorted(h.end_batch()) == records{P("a", P(6, 3)), P("b", P(10, 1))});
  CHECK(h.batch({}).empty());
  CHECK(h.batch({P("a", 5)}) == records{P("a", P(5, 1))});
  CHECK_THROWS_WITH(h.push({value(1.5)}), Catch::Contains("combine_by_key expects (key, value) pairs, got double"));
}

TEST_CASE("sort_by sorts the batch stably ascending or descending", "[operators]") {
  auto second = [](const value& v) { return v.as_array()[1]; };
  records in{P("a", 3), P("b", 1), P("c", 3), P("d", 2), P("e", 1)};

  operator_harness asc(make_sort_by(second, true));
  CHECK(asc.push(in).empty());
  CHECK(asc.end_batch() == records{P("b", 1), P("e", 1), P("d", 2), P("a", 3), P("c", 3)});
  CHECK(asc.batch({}).empty());
  CHECK(asc.batch({P("z", "s"), P("y", 2)}) == records{P("y", 2), P("z", "s")});

  operator_harness desc(make_sort_by(second, false));
  CHECK(desc.batch(in) == records{P("a", 3), P("c", 3), P("d", 2), P("b", 1), P("e", 1)});
  CHECK(desc.batch({}).empty());
}
