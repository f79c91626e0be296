#include <catch2/catch.hpp>

#include <map>

#include "weir/operators/harness.hpp"
#include "weir/operators/window_operators.hpp"

using namespace weir;
using namespace std::chrono_literals;

TEST_CASE("reduce_by_key_and_window follows Spark's alignment", "[operators][window]") {
  // B = 1s, window 3s, slide 2s: outputs at t = 2s, 4s, 6s, ... over (t-3s, t]
  operator_harness h(make_reduce_by_key_and_window(reducer::sum(), 3s, 2s));
  CHECK(h.batch({value::pair("a", 1)}).empty());                                   // t=1000
  CHECK(sorted(h.batch({value::pair("a", 1), value::pair("b", 1)})) ==             // t=2000: (−1s,2s]
        records{value::pair("a", 2), value::pair("b", 1)});
  CHECK(h.batch({value::pair("b", 5)}).empty());                                   // t=3000
  CHECK(sorted(h.batch({})) == records{value::pair("a", 1), value::pair("b", 6)});  // t=4000: (1s,4s]
  CHECK(h.batch({value::pair("c", 1)}).empty());                                   // t=5000
  auto drained = h.end_of_stream();
  // the last window holding t=5000 ends at 6000: (3s,6s]
  REQUIRE(drained.size() == 2);
  CHECK(drained[0].first == 6000);
  CHECK(drained[0].second == records{value::pair("c", 1)});
  CHECK(drained[1].first == -1);
  CHECK(drained[1].second.empty());
}

TEST_CASE("a key absent from the window is absent from the output", "[operators][window]") {
  operator_harness h(make_reduce_by_key_and_window(reducer::sum(), 2s, 1s));
  CHECK(h.batch({value::pair("a", 1)}) == records{value::pair("a", 1)});
  CHECK(h.batch({value::pair("b", 1)}).size() == 2);
  CHECK(h.batch({}) == records{value::pair("b", 1)});
  CHECK(h.batch({}).empty());  // empty window: empty output (still an output batch)
}

TEST_CASE("window and slide must be multiples of the batch interval", "[operators][window]") {
  CHECK_THROWS_WITH(check_window("reduce_by_key_and_window", 2500ms, 1000ms, 1000ms),
                    "reduce_by_key_and_window: window 2500ms is not a multiple of the batch interval 1000ms");
  CHECK_THROWS_WITH(check_window("w", 2000ms, 1500ms, 1000ms),
                    "w: slide 1500ms is not a multiple of the batch interval 1000ms");
  CHECK_THROWS_WITH(check_window("w", 0ms, 1000ms, 1000ms), "w: window must be positive, got 0ms");
  CHECK_NOTHROW(check_window("w", 3000ms, 2000ms, 1000ms));
  operator_context ctx;
  ctx.batch_interval = 1000ms;
  CHECK_THROWS_AS(operator_harness(make_reduce_by_key_and_window(reducer::sum(), 1500ms, 1000ms), ctx),
                  pipeline_error);
}

TEST_CASE("window equals brute-force recomputation on pseudo-random input", "[operators][window]") {
  // window 5 batches, slide 2 batches
  operator_harness h(make_reduce_by_key_and_window(reducer::sum(), 5s, 2s));
  std::vector<records> batches;
  std::uint64_t x = 12345;
  for (int b = 0; b < 30; ++b) {
    records r;
    int n = static_cast<int>((x >> 7) % 20);
    for (int i = 0; i < n; ++i) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      r.push_back(value::pair(static_cast<std::int64_t>((x >> 33) % 7), static_cast<std::int64_t>((x >> 40) % 100)));
    }
    batches.push_back(r);
  }
  for (int b = 0; b < 30; ++b) {
    auto out = sorted(h.batch(batches[static_cast<std::size_t>(b)]));
    std::int64_t t = (b + 1) * 1000;
    if (t % 2000 != 0) {
      CHECK(out.empty());
      continue;
    }
    std::map<std::int64_t, std::int64_t> expect;
    for (int k = 0; k <= b; ++k)
      if ((k + 1) * 1000 > t - 5000)
        for (auto& r : batches[static_cast<std::size_t>(k)])
          expect[r.as_array()[0].as_int()] += r.as_array()[1].as_int();
    records e;
    for (auto& [k, v] : expect) e.push_back(value::pair(k, v));
    CHECK(out == sorted(e));
  }
}
