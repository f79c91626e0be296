#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "weir/operators/harness.hpp"
#include "weir/operators/join_operators.hpp"
#include "weir/operators/partitioning.hpp"

using namespace weir;

namespace {

value P(value k, value v) { return value::pair(std::move(k), std::move(v)); }
value A(std::vector<value> items) { return value::array(std::move(items)); }
/// (k, (v, w))
value J(value k, value v, value w) { return P(std::move(k), P(std::move(v), std::move(w))); }
const value none;

/// Pushes the two sides of one batch and ends it.
records join_batch(operator_harness& h, records left, records right) {
  records out = h.push_input(0, std::move(left));
  records more = h.push_input(1, std::move(right));
  out.insert(out.end(), more.begin(), more.end());
  records end = h.end_batch();
  out.insert(out.end(), end.begin(), end.end());
  return out;
}

// a: 2 × 2 values, b: 1 × 1, c: left only, d: right only
records left_in() { return {P("a", 1), P("b", 3), P("a", 2), P("c", 9)}; }
records right_in() { return {P("a", "x"), P("d", "w"), P("b", "z"), P("a", "y")}; }

records inner_out() {
  return {J("a", 1, "x"), J("a", 1, "y"), J("a", 2, "x"), J("a", 2, "y"), J("b", 3, "z")};
}

records plus(records a, const records& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("join inner emits every combination of the keys on both sides", "[operators][join]") {
  operator_harness h(make_join(join_kind::inner));
  CHECK(h.push_input(0, left_in()).empty());
  CHECK(h.push_input(1, right_in()).empty());
  CHECK(sorted(h.end_batch()) == sorted(inner_out()));
  CHECK(h.end_batch().empty());  // empty batch
  // batches are joined only with the same batch time
  CHECK(join_batch(h, {P("a", 1)}, {}).empty());
  CHECK(join_batch(h, {}, {P("a", "x")}).empty());
  CHECK(join_batch(h, {P(1, 1), P(1, 2)}, {P(1.0, "one")}) == records{J(1, 1, "one"), J(1, 2, "one")});
}

TEST_CASE("join left outer adds left keys without a match", "[operators][join]") {
  operator_harness h(make_join(join_kind::left_outer));
  CHECK(sorted(join_batch(h, left_in(), right_in())) == sorted(plus(inner_out(), {J("c", 9, none)})));
  CHECK(join_batch(h, {}, {}).empty());
  CHECK(sorted(join_batch(h, {P("a", 1), P("a", 2)}, {})) == records{J("a", 1, none), J("a", 2, none)});
  CHECK(join_batch(h, {}, {P("a", "x")}).empty());
}

TEST_CASE("join right outer adds right keys without a match", "[operators][join]") {
  operator_harness h(make_join(join_kind::right_outer));
  CHECK(sorted(join_batch(h, left_in(), right_in())) == sorted(plus(inner_out(), {J("d", none, "w")})));
  CHECK(join_batch(h, {}, {}).empty());
  CHECK(join_batch(h, {P("a", 1)}, {}).empty());
  CHECK(sorted(join_batch(h, {}, {P("a", "x"), P("a", "y")})) == records{J("a", none, "x"), J("a", none, "y")});
}

TEST_CASE("join full outer adds keys without a match on either side", "[operators][join]") {
  operator_harness h(make_join(join_kind::full_outer));
  CHECK(sorted(join_batch(h, left_in(), right_in())) ==
        sorted(plus(inner_out(), {J("c", 9, none), J("d", none, "w")})));
  CHECK(join_batch(h, {}, {}).empty());
  CHECK(join_batch(h, {P("a", 1)}, {}) == records{J("a", 1, none)});
  CHECK(join_batch(h, {}, {P("b", 2)}) == records{J("b", none, 2)});
}

TEST_CASE("join output pairs are tuples and arrive by push_input index", "[operators][join]") {
  operator_harness h(make_join(join_kind::inner));
  // process() is input 0
  h.push({P("k", "left")});
  h.push_input(1, {P("k", "right")});
  auto out = h.end_batch();
  REQUIRE(out == records{J("k", "left", "right")});
  CHECK(out[0].is_tuple());
  CHECK(out[0].as_array()[1].is_tuple());
}

TEST_CASE("join rejects records that are not pairs", "[operators][join]") {
  operator_harness h(make_join(join_kind::inner));
  CHECK_THROWS_WITH(h.push_input(0, {value("x")}), Catch::Contains("join expects (key, value) pairs, got string"));
  CHECK_THROWS_WITH(h.push_input(1, {A({1, 2, 3})}), Catch::Contains("join expects (key, value) pairs, got array"));
  operator_harness l(make_join(join_kind::left_outer));
  CHECK_THROWS_WITH(l.push_input(1, {value(1)}), Catch::Contains("left_outer_join expects (key, value) pairs, got int"));
  operator_harness f(make_join(join_kind::full_outer));
  CHECK_THROWS_WITH(f.push_input(0, {value()}), Catch::Contains("full_outer_join expects (key, value) pairs, got null"));
}

TEST_CASE("cogroup emits both value lists for every key in either input", "[operators][join]") {
  operator_harness h(make_cogroup());
  auto out = sorted(join_batch(h, left_in(), right_in()));
  CHECK(out == sorted(records{P("a", P(A({1, 2}), A({"x", "y"}))), P("b", P(A({3}), A({"z"}))),
                              P("c", P(A({9}), A({}))), P("d", P(A({}), A({"w"})))}));
  auto& first = out[0];
  CHECK(first.is_tuple());
  CHECK(first.as_array()[1].is_tuple());
  CHECK_FALSE(first.as_array()[1].as_array()[0].is_tuple());
  CHECK(join_batch(h, {}, {}).empty());
  CHECK(join_batch(h, {}, {P("a", 1), P("a", 0)}) == records{P("a", P(A({}), A({1, 0})))});
  CHECK_THROWS_WITH(h.push_input(1, {value(2.5)}), Catch::Contains("cogroup expects (key, value) pairs, got double"));
}

TEST_CASE("table join joins every batch with the static table", "[operators][join]") {
  records table{P("a", "x"), P("b", "z"), P("a", "y"), P("e", "t")};
  records in{P("a", 1), P("c", 2), P("a", 3)};
  records inner{J("a", 1, "x"), J("a", 1, "y"), J("a", 3, "x"), J("a", 3, "y")};
  records right_only{J("b", none, "z"), J("e", none, "t")};

  SECTION("inner") {
    operator_harness h(make_table_join(table, join_kind::inner));
    CHECK(sorted(h.batch(in)) == sorted(inner));
    CHECK(h.batch({}).empty());
    CHECK(sorted(h.batch(in)) == sorted(inner));  // the table is joined again
    CHECK(h.batch({P("e", 0)}) == records{J("e", 0, "t")});
  }
  SECTION("left outer") {
    operator_harness h(make_table_join(table, join_kind::left_outer));
    CHECK(sorted(h.batch(in)) == sorted(plus(inner, {J("c", 2, none)})));
    CHECK(h.batch({}).empty());
  }
  SECTION("right outer") {
    operator_harness h(make_table_join(table, join_kind::right_outer));
    CHECK(sorted(h.batch(in)) == sorted(plus(inner, right_only)));
    // an empty batch still emits the whole table with null on the left
    CHECK(sorted(h.batch({})) ==
          sorted(records{J("a", none, "x"), J("a", none, "y"), J("b", none, "z"), J("e", none, "t")}));
  }
  SECTION("full outer") {
    operator_harness h(make_table_join(table, join_kind::full_outer));
    CHECK(sorted(h.batch(in)) == sorted(plus(plus(inner, right_only), {J("c", 2, none)})));
    CHECK(sorted(h.batch({P("b", 5)})) ==
          sorted(records{J("a", none, "x"), J("a", none, "y"), J("b", 5, "z"), J("e", none, "t")}));
  }
  SECTION("a table entry that is not a pair") {
    CHECK_THROWS_AS(make_table_join({value("x")}, join_kind::inner), record_error);
  }
  SECTION("an input record that is not a pair") {
    operator_harness h(make_table_join(table, join_kind::inner));
    CHECK_THROWS_WITH(h.push({value(1)}), Catch::Contains("table_join expects (key, value) pairs, got int"));
  }
}

TEST_CASE("table join right and full outer emit only the table keys of their partition", "[operators][join]") {
  records table;
  for (int i = 0; i < 40; ++i) table.push_back(P("key" + std::to_string(i), i));
  for (auto kind : {join_kind::right_outer, join_kind::full_outer}) {
    records all_empty, all_matched;
    records expected_empty, expected_matched;
    for (int i = 0; i < 40; ++i) expected_empty.push_back(J("key" + std::to_string(i), none, i));
    const int parallelism = 3;
    for (int instance = 0; instance < parallelism; ++instance) {
      operator_context ctx;
      ctx.parallelism = parallelism;
      ctx.instance = instance;
      operator_harness h(make_table_join(table, kind), ctx);
      auto out = h.batch({});
      CHECK_FALSE(out.empty());
      for (auto& r : out) CHECK(partition_of(r.as_array()[0].hash(), parallelism) == instance);
      all_empty.insert(all_empty.end(), out.begin(), out.end());

      // the stream's records arrive at the instance of their key
      records in;
      for (int i = 0; i < 40; i += 2) {
        value k("key" + std::to_string(i));
        if (partition_of(k.hash(), parallelism) == instance) in.push_back(P(k, -i));
      }
      out = h.batch(in);
      all_matched.insert(all_matched.end(), out.begin(), out.end());
    }
    for (int i = 0; i < 40; ++i)
      expected_matched.push_back(J("key" + std::to_string(i), i % 2 == 0 ? value(-i) : none, i));
    CHECK(sorted(all_empty) == sorted(expected_empty));
    CHECK(sorted(all_matched) == sorted(expected_matched));
  }
}
