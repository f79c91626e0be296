#include <catch2/catch.hpp>

#include <string>

#include "weir/operators/basic_operators.hpp"
#include "weir/operators/harness.hpp"

using namespace weir;

TEST_CASE("map and filter and flat_map", "[operators]") {
  operator_harness m(make_map([](const value& v) { return value(v.as_int() * 2); }));
  CHECK(m.push({1, 2, 3}) == records{2, 4, 6});

  operator_harness f(make_filter([](const value& v) { return v.as_int() % 2 == 1; }));
  CHECK(f.push({1, 2, 3, 4, 5}) == records{1, 3, 5});

  operator_harness fm(make_flat_map([](const value& v, records& out) {
    for (std::int64_t i = 0; i < v.as_int(); ++i) out.emplace_back(i);
  }));
  CHECK(fm.push({0, 2, 3}) == records{0, 1, 0, 1, 2});
}

TEST_CASE("count emits one record per batch and 0 for an empty batch", "[operators]") {
  operator_harness h(make_count());
  CHECK(h.batch({"a", "b", "c"}) == records{3});
  CHECK(h.batch({}) == records{0});
  CHECK(h.batch({"x"}) == records{1});
}

TEST_CASE("reduce_by_key reduces each batch on its own", "[operators]") {
  operator_harness h(make_reduce_by_key(reducer::sum()));
  h.push({value::pair("a", 1), value::pair("b", 2)});
  h.push({value::pair("a", 3)});
  CHECK(sorted(h.end_batch()) == records{value::pair("a", 4), value::pair("b", 2)});
  CHECK(h.batch({}).empty());
  CHECK(sorted(h.batch({value::pair("b", 1.5), value::pair("b", 1)})) == records{value::pair("b", 2.5)});
}

TEST_CASE("reduce_by_key with min max count and a custom reducer", "[operators]") {
  records in{value::pair("k", 5), value::pair("k", 2), value::pair("k", 9), value::pair("j", 1)};
  CHECK(sorted(operator_harness(make_reduce_by_key(reducer::min())).batch(in)) ==
        records{value::pair("j", 1), value::pair("k", 2)});
  CHECK(sorted(operator_harness(make_reduce_by_key(reducer::max())).batch(in)) ==
        records{value::pair("j", 1), value::pair("k", 9)});
  CHECK(sorted(operator_harness(make_reduce_by_key(reducer::count())).batch(in)) ==
        records{value::pair("j", 1), value::pair("k", 3)});
  auto concat = reducer::custom([](const value& a, const value& b) {
    return value(std::string(a.as_string()) + "+" + std::string(b.as_string()));
  });
  CHECK(operator_harness(make_reduce_by_key(concat)).batch({value::pair(1, "x"), value::pair(1, "y")}) ==
        records{value::pair(1, "x+y")});
}

TEST_CASE("reduce_by_key on many keys (table growth)", "[operators]") {
  operator_harness h(make_reduce_by_key(reducer::sum()));
  records in;
  for (int rep = 0; rep < 3; ++rep)
    for (int k = 0; k < 5000; ++k) in.push_back(value::pair("key" + std::to_string(k), k));
  auto out = h.batch(std::move(in));
  REQUIRE(out.size() == 5000);
  for (auto& r : out) {
    auto key = std::string(r.as_array()[0].as_string());
    CHECK(r.as_array()[1].as_int() == 3 * std::stoi(key.substr(3)));
  }
}

TEST_CASE("reduce_by_key rejects a record that is not a pair", "[operators]") {
  operator_harness h(make_reduce_by_key(reducer::sum()));
  CHECK_THROWS_WITH(h.push({value("oops")}),
                    Catch::Contains("reduce_by_key expects (key, value) pairs, got string \"oops\""));
  operator_harness s(make_reduce_by_key(reducer::sum()));
  CHECK_THROWS_WITH(s.push({value::pair("a", "x"), value::pair("a", 1)}),
                    Catch::Contains("cannot add string and int"));
}

TEST_CASE("top(n by) per batch descending with ties by record", "[operators]") {
  operator_harness h(make_top(2, [](const value& v) { return v.as_array()[1]; }));
  records in{value::pair("a", 3), value::pair("b", 7), value::pair("c", 7), value::pair("d", 1)};
  CHECK(h.batch(in) == records{value::pair("b", 7), value::pair("c", 7)});
  CHECK(h.batch({}).empty());
  records many;
  for (int i = 0; i < 10000; ++i) many.push_back(value::pair(i, (i * 7919) % 10007));
  auto out = h.batch(many);
  REQUIRE(out.size() == 2);
  CHECK(out[0].as_array()[1].as_int() == 10006);
  CHECK(out[1].as_array()[1].as_int() == 10005);
}

#include "weir/operators/detail/value_table.hpp"

TEST_CASE("value_table shrinks after a large batch and keeps working", "[operators]") {
  // A batch with many keys grows the table beyond 4,096 slots; clearing it
  // after a batch with few keys shrinks it (this used to loop forever when
  // the small batch still had more than 16 keys).
  detail::value_table<std::int64_t> t;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 5000; ++i) *t.try_emplace(value(i), value(i).hash()).first += 1;
    t.clear();
    for (int i = 0; i < 100; ++i) *t.try_emplace(value(i), value(i).hash()).first += 1;
    CHECK(t.size() == 100);
    t.clear();
    CHECK(t.empty());
    for (int i = 0; i < 100; ++i) *t.try_emplace(value(i), value(i).hash()).first += 1;
    records out;
    t.drain_pairs(out);
    CHECK(out.size() == 100);
  }
}
