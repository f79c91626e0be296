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

// --- Spark window family (window, count_by_window, reduce_by_window, inverse
// forms, group_by_key_and_window, count_by_value_and_window) -----------------

namespace {

records drained_at(std::vector<std::pair<std::int64_t, records>>& d, std::int64_t t) {
  for (auto& [time, r] : d)
    if (time == t) return r;
  FAIL("no drained batch at " << t);
  return {};
}

std::vector<std::int64_t> drained_times(const std::vector<std::pair<std::int64_t, records>>& d) {
  std::vector<std::int64_t> ts;
  for (auto& e : d) ts.push_back(e.first);
  return ts;
}

/// Drives an operator whose input stream has a slide larger than the batch
/// interval (e.g. behind another window): batch ends arrive only at multiples
/// of ctx.input_slide(), as in the runtime.
class slide_driver {
public:
  slide_driver(operator_ptr op, operator_context ctx) : op_(std::move(op)), step_(ctx.input_slide().count()) {
    op_->open(ctx);
  }
  /// The input's output at the next input-slide time; returns what the operator emitted.
  records batch(records in) {
    records out;
    op_->process({}, in, out);
    time_ += step_;
    op_->on_batch_end(time_, out);
    return out;
  }
  /// Ends input-slide batches up to the drain horizon.
  std::vector<std::pair<std::int64_t, records>> end_of_stream() {
    std::vector<std::pair<std::int64_t, records>> res;
    for (std::int64_t h = op_->drain_horizon(time_); time_ < h; h = op_->drain_horizon(time_))
      while (time_ < h) {
        records out = batch({});
        res.emplace_back(time_, std::move(out));
      }
    return res;
  }

private:
  operator_ptr op_;
  std::int64_t step_;
  std::int64_t time_ = 0;
};

}  // namespace

TEST_CASE("window emits the records of the batches in the window starting with partial windows",
          "[operators][window]") {
  operator_harness h(make_window(3s, 1s));
  CHECK(h.batch({"a"}) == records{"a"});                             // t=1000: (−2s,1s] partial
  CHECK(h.batch({"b", "c"}) == records{"a", "b", "c"});              // batch order, then arrival
  CHECK(h.batch({"d"}) == records{"a", "b", "c", "d"});              // t=3000: first full window
  CHECK(h.batch({}) == records{"b", "c", "d"});                      // t=4000: (1s,4s]
  CHECK(h.batch({"e"}) == records{"d", "e"});                        // t=5000
  auto d = h.end_of_stream();
  // the last window holding t=5000 ends at 7000
  CHECK(drained_times(d) == std::vector<std::int64_t>{6000, 7000, -1});
  CHECK(drained_at(d, 6000) == records{"e"});
  CHECK(drained_at(d, 7000) == records{"e"});
  CHECK(d.back().second.empty());
}

TEST_CASE("a window longer than the data spans empty batches in the middle", "[operators][window]") {
  operator_harness w(make_window(5s, 1s));
  operator_harness r(make_reduce_by_window(reducer::sum(), 5s, 1s));
  std::vector<records> in{{1, 2}, {}, {}, {10}, {}};
  std::vector<records> expect_w{{1, 2}, {1, 2}, {1, 2}, {1, 2, 10}, {1, 2, 10}};
  std::vector<records> expect_r{{3}, {3}, {3}, {13}, {13}};
  for (std::size_t i = 0; i < in.size(); ++i) {
    CHECK(w.batch(in[i]) == expect_w[i]);
    CHECK(r.batch(in[i]) == expect_r[i]);
  }
  // last data at t=4000: windows up to (3s,8s] still hold it
  auto dw = w.end_of_stream();
  auto dr = r.end_of_stream();
  CHECK(drained_times(dw) == std::vector<std::int64_t>{6000, 7000, 8000, -1});
  CHECK(drained_times(dr) == std::vector<std::int64_t>{6000, 7000, 8000, -1});
  for (std::int64_t t : {6000, 7000, 8000}) {
    CHECK(drained_at(dw, t) == records{10});
    CHECK(drained_at(dr, t) == records{10});
  }
}

TEST_CASE("reduce_by_window without inverse emits nothing for an empty window", "[operators][window]") {
  operator_harness h(make_reduce_by_window(reducer::sum(), 2s, 1s));
  CHECK(h.batch({1, 2}) == records{3});
  CHECK(h.batch({}) == records{3});
  CHECK(h.batch({}).empty());  // (1s,3s] holds nothing
  CHECK(h.batch({5}) == records{5});
  auto d = h.end_of_stream();
  CHECK(drained_times(d) == std::vector<std::int64_t>{5000, -1});
  CHECK(drained_at(d, 5000) == records{5});
}

TEST_CASE("a window that is not a multiple of the slide", "[operators][window]") {
  // w = 3s, s = 2s: outputs at 2s, 4s, 6s over (t-3s, t]
  operator_harness h(make_window(3s, 2s));
  CHECK(h.batch({"a"}).empty());                              // t=1000: not a multiple of the slide
  CHECK(h.batch({"b"}) == records{"a", "b"});                 // t=2000: (−1s,2s]
  CHECK(h.batch({"c"}).empty());
  CHECK(h.batch({"d"}) == records{"b", "c", "d"});            // t=4000: (1s,4s]
  CHECK(h.batch({"e"}).empty());
  auto d = h.end_of_stream();
  CHECK(drained_times(d) == std::vector<std::int64_t>{6000, -1});
  CHECK(drained_at(d, 6000) == records{"d", "e"});            // (3s,6s]
}

TEST_CASE("slide 0 means the slide of the input stream", "[operators][window]") {
  operator_harness h(make_window(2s, 0ms));
  CHECK(h.batch({1}) == records{1});
  CHECK(h.batch({2}) == records{1, 2});
  CHECK(h.batch({}) == records{2});
}

TEST_CASE("inverse and non-inverse reduce_by_key_and_window differ on a key that falls to zero",
          "[operators][window]") {
  // w = 2s, s = 1s. t=3000: "a" (only at t=1000) has left the window.
  operator_harness plain(make_reduce_by_key_and_window(reducer::sum(), 2s, 1s));
  operator_harness inv(make_reduce_by_key_and_window(reducer::sum(), 2s, 1s, reducer::sub()));
  std::vector<records> in{{value::pair("a", 1), value::pair("b", 2)}, {value::pair("b", 3)}, {value::pair("b", 1)}};
  CHECK(sorted(plain.batch(in[0])) == records{value::pair("a", 1), value::pair("b", 2)});
  CHECK(sorted(inv.batch(in[0])) == records{value::pair("a", 1), value::pair("b", 2)});
  CHECK(sorted(plain.batch(in[1])) == records{value::pair("a", 1), value::pair("b", 5)});
  CHECK(sorted(inv.batch(in[1])) == records{value::pair("a", 1), value::pair("b", 5)});
  CHECK(sorted(plain.batch(in[2])) == records{value::pair("b", 4)});
  // previous {a 1, b 5} − batch 1000 {a 1, b 2} + batch 3000 {b 1}
  CHECK(sorted(inv.batch(in[2])) == records{value::pair("a", 0), value::pair("b", 4)});
  auto dp = plain.end_of_stream();
  auto di = inv.end_of_stream();
  CHECK(drained_times(dp) == std::vector<std::int64_t>{4000, -1});
  CHECK(drained_times(di) == std::vector<std::int64_t>{4000, -1});
  CHECK(drained_at(dp, 4000) == records{value::pair("b", 1)});
  CHECK(sorted(drained_at(di, 4000)) == records{value::pair("a", 0), value::pair("b", 1)});
}

TEST_CASE("the filter drops a key from the output and the state of the inverse form", "[operators][window]") {
  auto nonzero = [](const value& p) { return p.as_array()[1].as_int() != 0; };
  operator_harness h(make_reduce_by_key_and_window(reducer::sum(), 2s, 1s, reducer::sub(), nonzero));
  CHECK(sorted(h.batch({value::pair("a", 1), value::pair("b", 2)})) ==
        records{value::pair("a", 1), value::pair("b", 2)});
  CHECK(sorted(h.batch({value::pair("b", 3)})) == records{value::pair("a", 1), value::pair("b", 5)});
  CHECK(h.batch({value::pair("b", 1)}) == records{value::pair("b", 4)});  // a fell to 0: dropped
  // a comes back: it starts fresh from the new batch
  CHECK(sorted(h.batch({value::pair("a", 5)})) == records{value::pair("a", 5), value::pair("b", 1)});
  CHECK(sorted(h.batch({})) == records{value::pair("a", 5)});             // b fell to 0
  CHECK(h.batch({}).empty());                                             // a fell to 0
}

TEST_CASE("a key filtered out while it still has batches in the window is not revived by them",
          "[operators][window]") {
  // w = 3s: "a" sums to 0 at t=2000 and is dropped; when its t=1000 batch
  // leaves (t=4000) the key is in neither the previous window nor the new
  // batches. Spark throws here ("Neither previous window has value for key");
  // weir skips the key.
  auto nonzero = [](const value& p) { return p.as_array()[1].as_int() != 0; };
  operator_harness h(make_reduce_by_key_and_window(reducer::sum(), 3s, 1s, reducer::sub(), nonzero));
  CHECK(h.batch({value::pair("a", 1)}) == records{value::pair("a", 1)});
  CHECK(h.batch({value::pair("a", -1)}).empty());
  CHECK(h.batch({}).empty());
  CHECK(h.batch({}).empty());
  CHECK(h.batch({}).empty());
}

TEST_CASE("count_by_window emits nothing until the first element then the count also 0",
          "[operators][window]") {
  operator_harness h(make_count_by_window(2s, 1s));
  CHECK(h.batch({}).empty());                 // t=1000: nothing seen yet
  CHECK(h.batch({}).empty());
  CHECK(h.batch({"x", "y"}) == records{2});   // t=3000
  CHECK(h.batch({"z"}) == records{3});        // (2s,4s]
  CHECK(h.batch({}) == records{1});           // (3s,5s]
  CHECK(h.batch({}) == records{0});           // everything left: [0]
  CHECK(h.batch({}) == records{0});           // ... and [0] while the stream runs
  auto d = h.end_of_stream();                 // but draining stops with the data
  CHECK(drained_times(d) == std::vector<std::int64_t>{-1});

  operator_harness g(make_count_by_window(2s, 1s));
  CHECK(g.batch({"x"}) == records{1});
  auto dg = g.end_of_stream();
  CHECK(drained_times(dg) == std::vector<std::int64_t>{2000, -1});  // not 3000: no [0] after the data
  CHECK(drained_at(dg, 2000) == records{1});
}

TEST_CASE("reduce_by_window with and without inverse", "[operators][window]") {
  // w = 3s, s = 2s
  operator_harness plain(make_reduce_by_window(reducer::sum(), 3s, 2s));
  operator_harness inv(make_reduce_by_window(reducer::sum(), 3s, 2s, reducer::sub()));
  std::vector<records> in{{}, {}, {4}, {1, 2}, {}, {}, {}, {}};
  std::vector<records> expect_plain{{}, {}, {}, {7}, {}, {3}, {}, {}};
  std::vector<records> expect_inv{{}, {}, {}, {7}, {}, {3}, {}, {0}};
  for (std::size_t i = 0; i < in.size(); ++i) {
    INFO("t=" << (i + 1) * 1000);
    CHECK(plain.batch(in[i]) == expect_plain[i]);
    CHECK(inv.batch(in[i]) == expect_inv[i]);
  }
  CHECK(drained_times(plain.end_of_stream()) == std::vector<std::int64_t>{-1});
  CHECK(drained_times(inv.end_of_stream()) == std::vector<std::int64_t>{-1});
}

TEST_CASE("reduce_by_window with a custom function and inverse", "[operators][window]") {
  auto mul = reducer::custom([](const value& a, const value& b) { return value(a.as_int() * b.as_int()); }, "mul");
  auto div = reducer::custom([](const value& a, const value& b) { return value(a.as_int() / b.as_int()); }, "div");
  operator_harness h(make_reduce_by_window(mul, 2s, 1s, div));
  CHECK(h.batch({2, 3}) == records{6});
  CHECK(h.batch({5}) == records{30});
  CHECK(h.batch({7}) == records{35});  // 30 / 6 * 7
  CHECK(h.batch({}) == records{7});
  CHECK(h.batch({}) == records{1});
}

TEST_CASE("group_by_key_and_window keeps batch order then arrival order", "[operators][window]") {
  operator_harness h(make_group_by_key_and_window(2s, 1s));
  auto arr = [](records r) { return value::array(std::move(r)); };
  CHECK(sorted(h.batch({value::pair("a", 1), value::pair("b", "x"), value::pair("a", 2)})) ==
        records{value::pair("a", arr({1, 2})), value::pair("b", arr({"x"}))});
  auto out = sorted(h.batch({value::pair("a", 3), value::pair("b", "y")}));
  CHECK(out == records{value::pair("a", arr({1, 2, 3})), value::pair("b", arr({"x", "y"}))});
  REQUIRE(out.size() == 2);
  CHECK(out[0].is_tuple());
  CHECK_FALSE(out[0].as_array()[1].is_tuple());  // the values are an array, not a tuple
  CHECK(sorted(h.batch({value::pair("a", 4)})) ==
        records{value::pair("a", arr({3, 4})), value::pair("b", arr({"y"}))});
  CHECK_THROWS_AS(h.push({value(5)}), record_error);
}

TEST_CASE("count_by_value_and_window drops zero counts", "[operators][window]") {
  operator_harness h(make_count_by_value_and_window(2s, 1s));
  CHECK(sorted(h.batch({"x", "y", "x"})) == records{value::pair("x", 2), value::pair("y", 1)});
  CHECK(sorted(h.batch({"y"})) == records{value::pair("x", 2), value::pair("y", 2)});
  CHECK(h.batch({}) == records{value::pair("y", 1)});   // x fell to 0
  CHECK(h.batch({"x"}) == records{value::pair("x", 1)});  // y fell to 0; x starts fresh
  auto d = h.end_of_stream();
  CHECK(drained_times(d) == std::vector<std::int64_t>{5000, -1});
  CHECK(drained_at(d, 5000) == records{value::pair("x", 1)});
}

TEST_CASE("the inverse forms reject records that are not pairs", "[operators][window]") {
  operator_harness h(make_reduce_by_key_and_window(reducer::sum(), 2s, 1s, reducer::sub()));
  CHECK_THROWS_AS(h.push({value("word")}), record_error);
}

TEST_CASE("windows over an input stream with a 2s slide", "[operators][window]") {
  operator_context ctx;
  ctx.batch_interval = 1000ms;
  ctx.slide = 2000ms;  // e.g. behind window(2s, 2s): batch ends every 2s

  slide_driver w(make_window(4s, 0ms), ctx);  // slide 0 = the input's 2s
  CHECK(w.batch({"a"}) == records{"a"});             // t=2000
  CHECK(w.batch({"b"}) == records{"a", "b"});        // t=4000: (0s,4s]
  CHECK(w.batch({"c"}) == records{"b", "c"});        // t=6000: (2s,6s]
  auto dw = w.end_of_stream();
  CHECK(drained_times(dw) == std::vector<std::int64_t>{8000});
  CHECK(drained_at(dw, 8000) == records{"c"});

  // count_by_window(6s, 4s): outputs at 4s, 8s, 12s
  slide_driver c(make_count_by_window(6s, 4s), ctx);
  CHECK(c.batch({"x"}).empty());                     // t=2000: not a multiple of 4s
  CHECK(c.batch({"y", "z"}) == records{3});          // t=4000: (−2s,4s]
  CHECK(c.batch({}).empty());                        // t=6000
  CHECK(c.batch({"w"}) == records{3});               // t=8000: 3 − [t=2000: 1] + [t=8000: 1]
  auto dc = c.end_of_stream();
  CHECK(drained_times(dc) == std::vector<std::int64_t>{10000, 12000});
  CHECK(drained_at(dc, 10000).empty());
  CHECK(drained_at(dc, 12000) == records{1});        // (6s,12s]: t=8000 only

  slide_driver r(make_reduce_by_key_and_window(reducer::sum(), 4s, 4s, reducer::sub()), ctx);
  CHECK(r.batch({value::pair("k", 1)}).empty());
  CHECK(r.batch({value::pair("k", 2)}) == records{value::pair("k", 3)});
  CHECK(r.batch({value::pair("k", 4)}).empty());
  CHECK(r.batch({}) == records{value::pair("k", 4)});

  // window and slide must be multiples of the input's slide (Spark)
  CHECK_THROWS_WITH(operator_harness(make_window(3s, 2s), ctx),
                    "window: window 3000ms and slide 2000ms must be multiples of the input stream's slide 2000ms");
  CHECK_THROWS_WITH(operator_harness(make_count_by_window(4s, 3s), ctx),
                    "count_by_window: window 4000ms and slide 3000ms must be multiples of the input stream's slide 2000ms");
  CHECK_THROWS_WITH(operator_harness(make_group_by_key_and_window(2500ms, 0ms)),
                    "group_by_key_and_window: window 2500ms is not a multiple of the batch interval 1000ms");
  CHECK_THROWS_WITH(operator_harness(make_count_by_value_and_window(2s, -1s)),
                    "count_by_value_and_window: slide must be positive, got -1000ms");
}

namespace {

std::uint64_t next_random(std::uint64_t& x) {
  x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  return x >> 33;
}

/// N batches of (key 0..keys-1, value) pairs; about a quarter of the batches empty.
std::vector<records> random_batches(int n, std::uint64_t seed, int keys, std::int64_t lo) {
  std::vector<records> batches;
  std::uint64_t x = seed;
  for (int b = 0; b < n; ++b) {
    records r;
    if (next_random(x) % 4 != 0) {
      auto len = static_cast<int>(next_random(x) % 12);
      for (int i = 0; i < len; ++i) {
        auto k = static_cast<std::int64_t>(next_random(x) % static_cast<std::uint64_t>(keys));
        auto v = lo + static_cast<std::int64_t>(next_random(x) % 100);
        r.push_back(value::pair(k, v));
      }
    }
    batches.push_back(std::move(r));
  }
  return batches;
}

/// Every batch end (including the drained ones) of `op` fed with `batches`, by time.
std::map<std::int64_t, records> run_all(operator_ptr op, const std::vector<records>& batches) {
  operator_harness h(std::move(op));
  std::map<std::int64_t, records> res;
  for (auto& b : batches) {
    auto out = h.batch(b);
    res[h.time()] = std::move(out);
  }
  for (auto& [t, r] : h.end_of_stream())
    if (t > 0) res[t] = std::move(r);
  return res;
}

}  // namespace

TEST_CASE("every window form equals brute-force recomputation on pseudo-random input", "[operators][window]") {
  const int n = 40;
  const std::pair<int, int> shapes[] = {{5, 2}, {4, 2}, {3, 3}, {2, 3}, {1, 1}, {6, 4}, {3, 2}, {7, 1}};
  for (std::uint64_t seed : {1ULL, 77ULL, 4242ULL}) {
    for (auto [ws, ss] : shapes) {
      const std::int64_t w = ws * 1000, s = ss * 1000;
      INFO("seed " << seed << " window " << w << " slide " << s);
      auto batches = random_batches(n, seed, 6, seed == 77 ? 1 : 0);  // seed 77: values >= 1
      auto time_of = [](std::size_t i) { return static_cast<std::int64_t>(i + 1) * 1000; };
      auto in_window = [&](std::size_t i, std::int64_t t) { return time_of(i) > t - w && time_of(i) <= t; };

      std::int64_t last_data = -1;
      for (std::size_t i = 0; i < batches.size(); ++i)
        if (!batches[i].empty()) last_data = time_of(i);
      std::int64_t horizon = std::max<std::int64_t>(n * 1000, ((last_data + w - 1) / s) * s);

      const auto ms_w = std::chrono::milliseconds(w), ms_s = std::chrono::milliseconds(s);
      auto win = run_all(make_window(ms_w, ms_s), batches);
      auto rbkw = run_all(make_reduce_by_key_and_window(reducer::sum(), ms_w, ms_s), batches);
      auto rbkw_max = run_all(make_reduce_by_key_and_window(reducer::max(), ms_w, ms_s), batches);
      auto rbkw_inv = run_all(make_reduce_by_key_and_window(reducer::sum(), ms_w, ms_s, reducer::sub()), batches);
      auto nonzero = [](const value& p) { return p.as_array()[1].as_int() != 0; };
      auto rbkw_flt =
          run_all(make_reduce_by_key_and_window(reducer::sum(), ms_w, ms_s, reducer::sub(), nonzero), batches);
      auto grp = run_all(make_group_by_key_and_window(ms_w, ms_s), batches);
      // reduce_by_window / count_by_window / count_by_value_and_window over the values / records
      std::vector<records> values;
      for (auto& b : batches) {
        records r;
        for (auto& p : b) r.push_back(p.as_array()[1]);
        values.push_back(std::move(r));
      }
      auto rbw = run_all(make_reduce_by_window(reducer::sum(), ms_w, ms_s), values);
      auto rbw_inv = run_all(make_reduce_by_window(reducer::sum(), ms_w, ms_s, reducer::sub()), values);
      auto cbw = run_all(make_count_by_window(ms_w, ms_s), batches);
      auto cbvw = run_all(make_count_by_value_and_window(ms_w, ms_s), batches);

      REQUIRE(win.rbegin()->first == horizon);
      for (auto* m : {&rbkw, &rbkw_max, &rbkw_inv, &rbkw_flt, &grp, &rbw, &rbw_inv, &cbw, &cbvw})
        REQUIRE(m->rbegin()->first == horizon);

      std::map<value, std::int64_t> seen_keys;  // keys of the inverse form's state (no filter)
      bool seen_any = false;
      for (std::int64_t t = 1000; t <= horizon; t += 1000) {
        INFO("t=" << t);
        if (t % s != 0) {
          for (auto* m : {&win, &rbkw, &rbkw_max, &rbkw_inv, &rbkw_flt, &grp, &rbw, &rbw_inv, &cbw, &cbvw})
            CHECK((*m)[t].empty());
          continue;
        }
        records e_win;
        std::map<value, std::int64_t> sum, mx, cnt_rec;
        std::map<value, records> groups;
        std::int64_t total = 0, count = 0;
        for (std::size_t i = 0; i < batches.size(); ++i) {
          if (!in_window(i, t)) continue;
          for (auto& p : batches[i]) {
            e_win.push_back(p);
            const value& k = p.as_array()[0];
            std::int64_t v = p.as_array()[1].as_int();
            sum[k] += v;
            mx[k] = mx.count(k) ? std::max(mx[k], v) : v;
            groups[k].push_back(p.as_array()[1]);
            cnt_rec[p] += 1;
            total += v;
            ++count;
          }
        }
        CHECK(win[t] == e_win);
        records e_sum, e_max, e_grp, e_cbv, e_flt;
        for (auto& [k, v] : sum) {
          e_sum.push_back(value::pair(k, v));
          if (v != 0) e_flt.push_back(value::pair(k, v));
        }
        for (auto& [k, v] : mx) e_max.push_back(value::pair(k, v));
        for (auto& [k, vs] : groups) e_grp.push_back(value::pair(k, value::array(vs)));
        for (auto& [r, c] : cnt_rec) e_cbv.push_back(value::pair(r, c));
        CHECK(sorted(rbkw[t]) == e_sum);
        CHECK(sorted(rbkw_max[t]) == e_max);
        CHECK(sorted(grp[t]) == e_grp);
        CHECK(sorted(cbvw[t]) == sorted(e_cbv));
        // inverse without filter: every key seen in a window so far, with its window sum (0 if absent)
        for (auto& [k, v] : sum) seen_keys[k] = 0;
        records e_inv;
        for (auto& [k, ignored] : seen_keys) e_inv.push_back(value::pair(k, sum.count(k) ? sum[k] : 0));
        CHECK(sorted(rbkw_inv[t]) == e_inv);
        // with the filter (values >= 1 for seed 77, so a dropped key never has batches left in the window)
        if (seed == 77) CHECK(sorted(rbkw_flt[t]) == e_flt);
        // single-value forms
        seen_any = seen_any || count > 0;
        CHECK(rbw[t] == (count > 0 ? records{total} : records{}));
        CHECK(rbw_inv[t] == (seen_any ? records{total} : records{}));
        CHECK(cbw[t] == (seen_any ? records{count} : records{}));
      }
    }
  }
}
