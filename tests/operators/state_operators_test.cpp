#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "weir/operators/harness.hpp"
#include "weir/operators/partitioning.hpp"
#include "weir/operators/state_operators.hpp"

using namespace weir;
using namespace std::chrono_literals;

namespace {

value P(value k, value v) { return value::pair(std::move(k), std::move(v)); }
value A(std::vector<value> items) { return value::array(std::move(items)); }

/// Running count of values per key.
value running_count(const value& vals, const value& state) {
  std::int64_t n = state.is_null() ? 0 : state.as_int();
  return value(n + static_cast<std::int64_t>(vals.as_array().size()));
}

/// map_with_state: running sum of the values per key; emits (key, sum).
value running_sum(const value& k, const value& v, state_handle& s) {
  std::int64_t n = (s.exists() ? s.get().as_int() : 0) + v.as_int();
  s.update(n);
  return P(k, n);
}

}  // namespace

// --- update_state_by_key --------------------------------------------------------

TEST_CASE("update_state_by_key emits the whole state every batch", "[operators][state]") {
  operator_harness h(make_update_state_by_key(running_count));
  h.push({P("a", 1), P("b", 1)});
  h.push({P("a", 1)});
  CHECK(sorted(h.end_batch()) == records{P("a", 2), P("b", 1)});
  // empty batch: f runs with no values, the state is emitted unchanged
  CHECK(sorted(h.batch({})) == records{P("a", 2), P("b", 1)});
  CHECK(sorted(h.batch({P("b", 9), P("c", 0)})) == records{P("a", 2), P("b", 2), P("c", 1)});
  CHECK(sorted(h.batch({})) == records{P("a", 2), P("b", 2), P("c", 1)});
}

TEST_CASE("update_state_by_key emits nothing before the first key", "[operators][state]") {
  int calls = 0;
  operator_harness h(make_update_state_by_key([&](const value& vals, const value& st) {
    ++calls;
    return running_count(vals, st);
  }));
  CHECK(h.batch({}).empty());
  CHECK(h.batch({}).empty());
  CHECK(calls == 0);
  CHECK(h.batch({P("k", 1)}) == records{P("k", 1)});
  CHECK(calls == 1);
}

TEST_CASE("update_state_by_key passes values in arrival order and null removes a key", "[operators][state]") {
  struct call {
    value key_values, state;
  };
  std::vector<call> calls;
  // keeps the latest non-empty list of values; an empty list removes the key
  operator_harness h(make_update_state_by_key([&](const value& vals, const value& st) -> value {
    calls.push_back({vals, st});
    if (vals.as_array().empty()) return value();
    return vals;
  }));

  h.push({P("a", 1), P("b", 3)});
  h.push({P("a", 2)});
  CHECK(sorted(h.end_batch()) == records{P("a", A({1, 2})), P("b", A({3}))});
  CHECK(calls.size() == 2);
  for (auto& c : calls) CHECK(c.state.is_null());  // new keys have no state
  calls.clear();

  // b gets no value: called with [] and its state, returns null → removed
  CHECK(h.batch({P("a", 4)}) == records{P("a", A({4}))});
  REQUIRE(calls.size() == 2);
  CHECK(sorted(records{calls[0].key_values, calls[1].key_values}) == records{A({}), A({4})});
  CHECK(sorted(records{calls[0].state, calls[1].state}) == records{A({1, 2}), A({3})});
  calls.clear();

  CHECK(h.batch({}).empty());  // a removed too
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].key_values == A({}));
  CHECK(calls[0].state == A({4}));
  calls.clear();

  CHECK(h.batch({}).empty());
  CHECK(calls.empty());  // no state, no batch keys: f not called

  // a removed key comes back without state
  CHECK(h.batch({P("b", 5)}) == records{P("b", A({5}))});
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].state.is_null());
}

TEST_CASE("update_state_by_key keeps working across many removed keys", "[operators][state]") {
  // a key lives for one batch after its last value
  operator_harness h(make_update_state_by_key([](const value& vals, const value& st) -> value {
    if (vals.as_array().empty()) return value();
    return running_count(vals, st);
  }));
  for (int round = 0; round < 4; ++round) {
    records in;
    for (int k = 0; k < 1000; ++k) in.push_back(P("k" + std::to_string(k % 500 + round * 250), 1));
    auto out = h.batch(std::move(in));
    REQUIRE(out.size() == 500);
    for (auto& r : out) CHECK(r.as_array()[1].as_int() == 2);
    CHECK(h.batch({}).empty());  // every key removed
  }
  CHECK(h.batch({P("k1", 1)}) == records{P("k1", 1)});
}

TEST_CASE("update_state_by_key rejects a record that is not a pair", "[operators][state]") {
  operator_harness h(make_update_state_by_key(running_count));
  CHECK_THROWS_AS(h.push({value("x")}), record_error);
  CHECK_THROWS_WITH(h.push({A({1})}), Catch::Contains("update_state_by_key expects (key, value) pairs, got array"));
}

TEST_CASE("update_state_by_key starts from the initial state (Spark initialRDD)", "[operators][state]") {
  update_state_options o;
  o.initial = {P("a", 1), P("c", 1), P("n", value())};  // a null state is no state
  std::vector<value> called;
  operator_harness h(make_update_state_by_key(
      [&](const value& vals, const value& st) {
        called.push_back(st);
        return running_count(vals, st);
      },
      o));
  // the initial keys are called in the first batch, also without values
  CHECK(sorted(h.batch({P("a", 0)})) == records{P("a", 2), P("c", 1)});
  CHECK(sorted(called) == records{value(1), value(1)});
  CHECK(sorted(h.batch({P("b", 0)})) == records{P("a", 2), P("b", 1), P("c", 1)});
  // a restored operator takes the checkpoint's state, not the initial one
  auto state = h.snapshot();
  operator_harness r(make_update_state_by_key(running_count, o), operator_harness::restoring_context());
  r.restore(state, h.time());
  CHECK(sorted(r.batch({})) == records{P("a", 2), P("b", 1), P("c", 1)});
  update_state_options bad;
  bad.initial = {value(3)};
  CHECK_THROWS_WITH(operator_harness(make_update_state_by_key(running_count, bad)),
                    Catch::Contains("update_state_by_key initial state expects (key, value) pairs, got int"));
}

TEST_CASE("update_state_by_key initial state is split by partition", "[operators][state]") {
  update_state_options o;
  records expected_all;
  for (int i = 0; i < 50; ++i) {
    o.initial.push_back(P("key" + std::to_string(i), i));
    expected_all.push_back(P("key" + std::to_string(i), i));
  }
  records all;
  for (int instance = 0; instance < 3; ++instance) {
    operator_context ctx;
    ctx.parallelism = 3;
    ctx.instance = instance;
    operator_harness h(make_update_state_by_key([](const value&, const value& st) { return st; }, o), ctx);
    auto out = h.batch({});
    CHECK_FALSE(out.empty());
    for (auto& r : out) {
      CHECK(partition_of(r.as_array()[0].hash(), 3) == instance);
      all.push_back(r);
    }
  }
  CHECK(sorted(all) == sorted(expected_all));
}

TEST_CASE("update_state_by_key's time-aware function gets the batch time and the key", "[operators][state]") {
  // Spark BasicOperationsSuite "updateStateByKey - testing time stamps as input"
  std::vector<std::pair<std::int64_t, value>> calls;
  operator_harness h(make_update_state_by_key(
      [&](std::int64_t t, const value& key, const value& vals, const value& st) {
        calls.emplace_back(t, key);
        const std::int64_t prev = st.is_null() ? 0 : st.as_int();
        return value(vals.as_array().empty() ? prev : t + prev);
      },
      update_state_options{{P("a", 0), P("c", 0)}}));
  CHECK(sorted(h.batch({P("a", 1)})) == records{P("a", 1000), P("c", 0)});
  std::sort(calls.begin(), calls.end());
  CHECK(calls == std::vector<std::pair<std::int64_t, value>>{{1000, value("a")}, {1000, value("c")}});
  CHECK(sorted(h.batch({P("a", 1), P("b", 1)})) == records{P("a", 3000), P("b", 2000), P("c", 0)});
  CHECK(sorted(h.batch({P("a", 1), P("b", 1), P("c", 1)})) == records{P("a", 6000), P("b", 5000), P("c", 3000)});
  CHECK(sorted(h.batch({})) == records{P("a", 6000), P("b", 5000), P("c", 3000)});
}

// --- map_with_state ---------------------------------------------------------------

TEST_CASE("map_with_state calls f once per record in arrival order", "[operators][state]") {
  operator_harness h(make_map_with_state(running_sum));
  CHECK(h.push({P("a", 1), P("a", 2), P("b", 5)}) == records{P("a", 1), P("a", 3), P("b", 5)});
  CHECK(h.push({P("a", 10)}) == records{P("a", 13)});
  CHECK(h.end_batch().empty());
  CHECK(h.batch({}).empty());
  CHECK(h.batch({P("b", 1), P("a", 1)}) == records{P("b", 6), P("a", 14)});
}

TEST_CASE("map_with_state emits null results and removes state", "[operators][state]") {
  // v == 0 removes the key; returns null when the key had no state
  operator_harness h(make_map_with_state([](const value& k, const value& v, state_handle& s) -> value {
    if (v.as_int() == 0) {
      if (!s.exists()) return value();
      value old = s.get();
      s.remove();
      CHECK_FALSE(s.exists());
      CHECK(s.get().is_null());
      return P("removed", old);
    }
    return running_sum(k, v, s);
  }));
  CHECK(h.batch({P("a", 0), P("a", 2), P("a", 3), P("a", 0), P("a", 0), P("a", 4)}) ==
        records{value(), P("a", 2), P("a", 5), P("removed", 5), value(), P("a", 4)});
  CHECK(h.batch({P("a", 0), P("a", 1)}) == records{P("removed", 4), P("a", 1)});
}

TEST_CASE("map_with_state state_handle follows Spark's State rules", "[operators][state]") {
  SECTION("update after remove") {
    operator_harness h(make_map_with_state([](const value&, const value& v, state_handle& s) -> value {
      s.update(v);
      s.remove();
      s.update(1);
      return value();
    }));
    CHECK_THROWS_AS(h.push({P("a", 1)}), record_error);
  }
  SECTION("remove twice") {
    operator_harness h(make_map_with_state([](const value&, const value&, state_handle& s) -> value {
      s.remove();
      s.remove();
      return value();
    }));
    CHECK_THROWS_WITH(h.push({P("a", 1)}), Catch::Contains("already been removed"));
  }
  SECTION("update and remove while timing out") {
    for (bool do_update : {true, false}) {
      map_with_state_options o;
      o.timeout = 1000ms;
      operator_harness h(make_map_with_state(
                             [do_update](const value& k, const value& v, state_handle& s) -> value {
                               if (s.is_timing_out()) {
                                 CHECK(v.is_null());
                                 CHECK(s.exists());
                                 CHECK(s.get() == 1);
                                 if (do_update)
                                   s.update(2);
                                 else
                                   s.remove();
                               }
                               return running_sum(k, v, s);
                             },
                         o));
      h.batch({P("a", 1)});  // t = 1000
      h.batch({});           // t = 2000: threshold 1000, 1000 < 1000 is false
      CHECK_THROWS_WITH(h.end_batch(), Catch::Contains(do_update ? "cannot update the state that is timing out"
                                                                 : "cannot remove the state that is timing out"));
    }
  }
}

TEST_CASE("map_with_state times out idle keys at the right batch", "[operators][state]") {
  map_with_state_options o;
  o.timeout = 2000ms;  // B = 1000 ms: a key updated at t times out at the first batch > t + 2000
  std::vector<std::string> log;
  operator_harness h(make_map_with_state(
                         [&](const value& k, const value& v, state_handle& s) -> value {
                           if (s.is_timing_out()) {
                             CHECK(v.is_null());
                             return P("timeout", P(k, s.get()));
                           }
                           if (v == "peek") return P(k, s.exists() ? s.get() : value());  // reads only
                           return running_sum(k, v, s);
                         },
                     o));
  CHECK(h.batch({P("a", 1), P("c", 1)}) == records{P("a", 1), P("c", 1)});  // t = 1000
  CHECK(h.batch({P("b", 1)}) == records{P("b", 1)});                        // t = 2000
  // t = 3000: threshold 1000, nothing is older; c is read, which refreshes its time to 3000
  CHECK(h.batch({P("c", "peek")}) == records{P("c", 1)});
  // t = 4000: threshold 2000: a (1000) times out, b (2000) does not
  CHECK(h.batch({}) == records{P("timeout", P("a", 1))});
  // t = 5000: threshold 3000: b (2000) times out, c (3000) does not
  CHECK(h.batch({}) == records{P("timeout", P("b", 1))});
  // a timed-out key starts afresh
  CHECK(h.batch({P("a", 5)}) == records{P("a", 5), P("timeout", P("c", 1))});  // t = 6000
  CHECK(h.batch({}).empty());                                                    // t = 7000
  CHECK(h.batch({P("a", 1)}) == records{P("a", 6)});                            // t = 8000
  CHECK(h.batch({}).empty());
  CHECK(h.batch({}).empty());
  CHECK(h.batch({}) == records{P("timeout", P("a", 6))});  // t = 11000 > 8000 + 2000
  CHECK(h.batch({}).empty());
}

TEST_CASE("map_with_state timeout uses the batch interval of the context", "[operators][state]") {
  map_with_state_options o;
  o.timeout = 5s;
  operator_context ctx;
  ctx.batch_interval = 2000ms;
  operator_harness h(make_map_with_state(
                         [](const value& k, const value& v, state_handle& s) -> value {
                           if (s.is_timing_out()) return P("timeout", k);
                           return running_sum(k, v, s);
                         },
                     o),
                     ctx);
  h.batch({P("a", 1)});        // t = 2000
  CHECK(h.batch({}).empty());  // 4000: threshold -1000
  CHECK(h.batch({}).empty());  // 6000: threshold 1000
  CHECK(h.batch({}) == records{P("timeout", "a")});  // 8000: threshold 3000 > 2000
}

TEST_CASE("map_with_state loads the initial state", "[operators][state]") {
  map_with_state_options o;
  o.initial = {P("a", 10), P("b", 20)};
  operator_harness h(make_map_with_state(running_sum, o));
  CHECK(h.batch({P("a", 1), P("c", 1)}) == records{P("a", 11), P("c", 1)});
  CHECK(h.batch({P("b", 1)}) == records{P("b", 21)});
}

TEST_CASE("map_with_state initial state times out from the first batch time", "[operators][state]") {
  map_with_state_options o;
  o.initial = {P("b", 20)};
  o.timeout = 2000ms;
  operator_harness h(make_map_with_state(
                         [](const value& k, const value& v, state_handle& s) -> value {
                           if (s.is_timing_out()) return P("timeout", P(k, s.get()));
                           return running_sum(k, v, s);
                         },
                     o));
  CHECK(h.batch({}).empty());  // 1000: b stamped with 1000
  CHECK(h.batch({}).empty());  // 2000
  CHECK(h.batch({}).empty());  // 3000: threshold 1000
  CHECK(h.batch({}) == records{P("timeout", P("b", 20))});  // 4000
}

TEST_CASE("map_with_state tagged output carries mapped records and state snapshots", "[operators][state]") {
  map_with_state_options o;
  o.tagged = true;
  o.timeout = 1000ms;
  o.initial = {P("z", 100)};
  operator_harness h(make_map_with_state(
                         [](const value& k, const value& v, state_handle& s) -> value {
                           if (s.is_timing_out()) return P("timeout", k);
                           if (v == 0) {
                             s.remove();
                             return value();
                           }
                           return running_sum(k, v, s);
                         },
                     o));
  // t = 1000
  CHECK(h.push({P("a", 1), P("b", 2), P("a", 3)}) == records{P(0, P("a", 1)), P(0, P("b", 2)), P(0, P("a", 4))});
  CHECK(sorted(h.end_batch()) == records{P(1, P("a", 4)), P(1, P("b", 2)), P(1, P("z", 100))});
  // t = 2000: threshold 1000, nothing times out; b removed, a updated
  CHECK(h.push({P("b", 0), P("a", 1)}) == records{P(0, value()), P(0, P("a", 5))});
  CHECK(sorted(h.end_batch()) == records{P(1, P("a", 5)), P(1, P("z", 100))});
  // t = 3000: threshold 2000: z (1000) times out; a (2000) stays
  CHECK(sorted(h.batch({})) == records{P(0, P("timeout", "z")), P(1, P("a", 5))});
  // t = 4000: a times out; the state is empty
  CHECK(h.batch({}) == records{P(0, P("timeout", "a"))});
  CHECK(h.batch({}).empty());
  CHECK(sorted(h.batch({P("b", 7)})) == records{P(0, P("b", 7)), P(1, P("b", 7))});
}

TEST_CASE("map_with_state tagged without timeout snapshots every batch", "[operators][state]") {
  map_with_state_options o;
  o.tagged = true;
  operator_harness h(make_map_with_state(running_sum, o));
  CHECK(h.batch({}).empty());
  CHECK(sorted(h.batch({P("a", 1)})) == records{P(0, P("a", 1)), P(1, P("a", 1))});
  CHECK(h.batch({}) == records{P(1, P("a", 1))});
  CHECK(h.batch({}) == records{P(1, P("a", 1))});  // no timeout: kept forever
}

TEST_CASE("map_with_state initial state is split by partition", "[operators][state]") {
  map_with_state_options o;
  o.tagged = true;
  records expected_all;
  for (int i = 0; i < 50; ++i) {
    o.initial.push_back(P("key" + std::to_string(i), i));
    expected_all.push_back(P(1, P("key" + std::to_string(i), i)));
  }
  records all;
  for (int instance = 0; instance < 3; ++instance) {
    operator_context ctx;
    ctx.parallelism = 3;
    ctx.instance = instance;
    operator_harness h(make_map_with_state(running_sum, o), ctx);
    auto snap = h.batch({});
    CHECK_FALSE(snap.empty());
    for (auto& r : snap) {
      CHECK(partition_of(r.as_array()[1].as_array()[0].hash(), 3) == instance);
      all.push_back(r);
    }
  }
  CHECK(sorted(all) == sorted(expected_all));
}

TEST_CASE("map_with_state handles many removed and re-added keys", "[operators][state]") {
  map_with_state_options o;
  o.tagged = true;
  // v > 0 adds to the state, v == 0 removes the key
  operator_harness h(make_map_with_state(
                         [](const value& k, const value& v, state_handle& s) -> value {
                           if (v == 0) {
                             s.remove();
                             return value();
                           }
                           return running_sum(k, v, s);
                         },
                     o));
  for (int round = 0; round < 3; ++round) {
    records add, del;
    for (int k = 0; k < 1000; ++k) {
      add.push_back(P(k, 1));
      if (k % 4 != 0) del.push_back(P(k, 0));
    }
    auto out = h.batch(add);
    REQUIRE(out.size() == 2000);
    out = h.batch(del);
    std::size_t snapshots = 0;
    for (auto& r : out)
      if (r.as_array()[0] == 1) {
        ++snapshots;
        auto kv = r.as_array()[1].as_array();
        CHECK(kv[0].as_int() % 4 == 0);
        CHECK(kv[1].as_int() == round + 1);
      }
    CHECK(snapshots == 250);
  }
}

TEST_CASE("map_with_state rejects a record that is not a pair", "[operators][state]") {
  operator_harness h(make_map_with_state(running_sum));
  CHECK_THROWS_WITH(h.push({value(true)}), Catch::Contains("map_with_state expects (key, value) pairs, got bool"));
  map_with_state_options o;
  o.initial = {value(3)};
  CHECK_THROWS_AS(operator_harness(make_map_with_state(running_sum, o)), record_error);
}
