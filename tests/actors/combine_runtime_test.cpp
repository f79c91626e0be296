// Map-side combine through the runtime (docs/architecture.md §4): every
// per-batch aggregation gives, batch by batch, the answers of the
// uncombined path (context_options::map_side_combine = false) on generated
// replayed batches, at parallelism 1, 2 and 4 — with one upstream instance
// (double sums included: bit for bit) and with two unioned upstream
// instances (ints), and with a batch of more distinct keys than a combine
// table holds. `explain` shows where the partial aggregation runs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <string>

#include "support/test_data.hpp"
#include "weir/api/dstream.hpp"
#include "weir/operators/combine_operators.hpp"

using namespace weir;
using namespace std::chrono_literals;

namespace {

#if defined(__SANITIZE_THREAD__)
// Under TSan (5-15x slower, and what it checks is the exchange's concurrency)
// the combined runs use parallelism 2 over the two unioned upstream
// instances only, for every fourth aggregation (5 of 17, each family
// included): 10 jobs instead of 136.
constexpr bool reduced_run = true;
#else
constexpr bool reduced_run = false;
#endif

records sorted(records r) {
  std::sort(r.begin(), r.end());
  return r;
}

/// Writes `batches` batches of (key, value) pairs; keys: 60 ints and strings;
/// values ints, or doubles with `doubles`. Batch 2 is empty; batch 4 holds
/// more distinct keys than a combine table.
void write_batches(const std::filesystem::path& p, std::uint64_t seed, bool doubles, int batches) {
  std::ofstream out(p);
  std::uint64_t x = seed;
  auto next = [&] { return x = x * 6364136223846793005ULL + 1442695040888963407ULL, x >> 33; };
  for (int b = 0; b < batches; ++b) {
    records rs;
    int n = b == 2 ? 0 : 300 + static_cast<int>(next() % 400);
    for (int i = 0; i < n; ++i) {
      std::uint64_t k = next() % 60;
      value key = k % 3 ? value(static_cast<std::int64_t>(k)) : value("key " + std::to_string(k));
      value v = doubles ? value(static_cast<double>(next() % 1000) / 7.0 + (i % 5 == 0 ? 1e15 : 0))
                        : value(static_cast<std::int64_t>(next() % 1000) - 300);
      rs.push_back(value::pair(key, v));
    }
    if (b == 4)
      for (std::size_t i = 0; i < default_combine_keys + 500; ++i)
        rs.push_back(value::pair(value(static_cast<std::int64_t>(1000 + i)), value(std::int64_t{1})));
    out << value::array(rs).to_json() << "\n";
  }
}

using build_fn = std::function<dstream(const dstream&)>;

struct agg_case {
  const char* name;
  build_fn build;
};

std::vector<agg_case> cases() {
  auto values = [](const dstream& s) { return s.map([](const value& v) { return v.as_array()[1]; }); };
  auto keys = [](const dstream& s) { return s.map([](const value& v) { return v.as_array()[0]; }); };
  return {
      {"reduce_by_key(sum)", [](const dstream& s) { return s.reduce_by_key(reducer::sum()); }},
      {"reduce_by_key(count)", [](const dstream& s) { return s.reduce_by_key(reducer::count()); }},
      {"reduce_by_key(min)", [](const dstream& s) { return s.reduce_by_key(reducer::min()); }},
      {"reduce_by_key(max)", [](const dstream& s) { return s.reduce_by_key(reducer::max()); }},
      {"reduce_by_key(lambda)",
       [](const dstream& s) {
         return s.reduce_by_key(reducer::custom([](const value& a, const value& b) { return a < b ? b : a; }));
       }},
      {"count_by_value", [keys](const dstream& s) { return keys(s).count_by_value(); }},
      {"combine_by_key",
       [](const dstream& s) {
         return s.combine_by_key(
             [](const value& v) { return value::pair(v, 1); },
             [](const value& c, const value& v) {
               return value::pair(add(c.as_array()[0], v), value(c.as_array()[1].as_int() + 1));
             },
             [](const value& a, const value& b) {
               return value::pair(add(a.as_array()[0], b.as_array()[0]), add(a.as_array()[1], b.as_array()[1]));
             });
       }},
      {"reduce_by_key_and_window(sum, 3s, 1s)",
       [](const dstream& s) { return s.reduce_by_key_and_window(reducer::sum(), 3s, 1s); }},
      {"reduce_by_key_and_window(count, 4s, 2s)",
       [](const dstream& s) { return s.reduce_by_key_and_window(reducer::count(), 4s, 2s); }},
      {"reduce_by_key_and_window(sum, 3s, 1s, inverse = sub)",
       [](const dstream& s) { return s.reduce_by_key_and_window(reducer::sum(), 3s, 1s, reducer::sub()); }},
      {"reduce_by_key_and_window(count, 3s, 1s, inverse = sub, filter)",
       [](const dstream& s) {
         return s.reduce_by_key_and_window(reducer::count(), 3s, 1s, reducer::sub(),
                                           [](const value& p) { return p.as_array()[1].as_int() != 0; });
       }},
      {"count", [](const dstream& s) { return s.count(); }},
      {"reduce(sum)", [values](const dstream& s) { return values(s).reduce(reducer::sum()); }},
      {"reduce(count)", [values](const dstream& s) { return values(s).reduce(reducer::count()); }},
      {"count_by_window(3s, 1s)", [](const dstream& s) { return s.count_by_window(3s, 1s); }},
      {"reduce_by_window(max, 3s, 1s)",
       [values](const dstream& s) { return values(s).reduce_by_window(reducer::max(), 3s, 1s); }},
      {"reduce_by_window(sum, 4s, 2s, inverse = sub)",
       [values](const dstream& s) { return values(s).reduce_by_window(reducer::sum(), 4s, 2s, reducer::sub()); }},
  };
}

/// Batch time → sorted records of the aggregation over the replayed file(s).
std::map<std::int64_t, records> run(const std::vector<std::filesystem::path>& files, const build_fn& build,
                                    int parallelism, bool combine) {
  context_options o;
  o.parallelism = parallelism;
  o.batch_size = 64;
  o.map_side_combine = combine;
  streaming_context ssc(o);
  std::vector<dstream> in;
  for (auto& f : files) in.push_back(ssc.batches(f.string(), 10));
  dstream s = in[0];
  if (in.size() > 1) s = s.union_with(std::vector<dstream>(in.begin() + 1, in.end()));
  std::map<std::int64_t, records> out;
  build(s).for_each_batch([&](std::int64_t t, records& r) { out[t] = sorted(r); });
  ssc.run();
  return out;
}

}  // namespace

TEST_CASE("Map-side combine gives the uncombined answers batch by batch at parallelism 1, 2 and 4",
          "[actors][combine]") {
  test::temp_dir tmp;
  auto one = tmp.path / "one.jsonl", a = tmp.path / "a.jsonl", b = tmp.path / "b.jsonl";
  write_batches(one, 7, true, 8);  // doubles: one upstream instance keeps each key's order
  write_batches(a, 11, false, 8);
  write_batches(b, 13, false, 8);
  std::vector<std::vector<std::filesystem::path>> inputs{{a, b}};
  if (!reduced_run) inputs.insert(inputs.begin(), {one});
  const std::vector<int> parallelisms = reduced_run ? std::vector{2} : std::vector{1, 2, 4};
  const auto all = cases();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (reduced_run && i % 4 != 0) continue;
    const auto& c = all[i];
    INFO(c.name);
    for (const auto& files : inputs) {
      INFO(files.size() << " upstream instance(s)");
      const auto want = run(files, c.build, 1, false);
      REQUIRE(want.size() >= 5);  // one output per slide
      for (int p : parallelisms) {
        INFO("parallelism " << p);
        CHECK(run(files, c.build, p, true) == want);
      }
    }
  }
}

TEST_CASE("explain shows the partial aggregation in the upstream stage and its merge after the exchange",
          "[actors][combine]") {
  test::temp_dir tmp;
  auto f = tmp.path / "in.jsonl";
  std::ofstream(f) << "[[\"a\", 1]]\n";
  context_options o;
  o.parallelism = 2;
  streaming_context ssc(o);
  ssc.batches(f.string()).reduce_by_key(reducer::sum()).print();
  const std::string plan = ssc.explain();
  INFO(plan);
  CHECK(plan.find("batches -> reduce_by_key.combine") != std::string::npos);
  CHECK(plan.find("x2: reduce_by_key") != std::string::npos);
  o.map_side_combine = false;
  streaming_context plain(o);
  plain.batches(f.string()).reduce_by_key(reducer::sum()).print();
  CHECK(plain.explain().find(".combine") == std::string::npos);
}
