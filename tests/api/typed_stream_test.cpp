// The typed C++ API: codecs and stream<T> pipelines, each checked against a
// plain loop over the same input.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "support/test_data.hpp"
#include "weir/api/stream.hpp"

namespace fs = std::filesystem;

struct click {
  std::string user;
  std::int64_t time = 0;
  double price = 0;
  std::optional<std::string> campaign;
  friend bool operator==(const click&, const click&) = default;
};
WEIR_CODEC(click, user, time, price, campaign);

namespace {

template <class T>
T roundtrip(const T& x) {
  return weir::codec<T>::from_value(weir::codec<T>::to_value(x));
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

weir::context_options fast() {
  return {.batch_interval = std::chrono::milliseconds(100), .parallelism = 2, .batch_size = 16, .threads = 2};
}

}  // namespace

TEST_CASE("typed api: codecs round-trip", "[api][typed]") {
  CHECK(roundtrip(42) == 42);
  CHECK(roundtrip(std::uint16_t{7}) == 7);
  CHECK(roundtrip(true) == true);
  CHECK(roundtrip(2.5) == 2.5);
  CHECK(roundtrip(std::string("héllo")) == "héllo");
  CHECK(roundtrip(std::pair<std::string, std::int64_t>{"a", 3}) == std::pair<std::string, std::int64_t>{"a", 3});
  CHECK(roundtrip(std::tuple<int, std::string, double>{1, "x", 0.5}) == std::tuple<int, std::string, double>{1, "x", 0.5});
  CHECK(roundtrip(std::vector<int>{1, 2, 3}) == std::vector<int>{1, 2, 3});
  CHECK(roundtrip(std::optional<int>{}) == std::nullopt);
  CHECK(roundtrip(std::optional<int>{5}) == 5);
  click c{"ann", 1000, 9.5, std::nullopt};
  CHECK(roundtrip(c) == c);
  CHECK(weir::codec<click>::to_value(c).to_json() == R"({"user":"ann","time":1000,"price":9.5,"campaign":null})");
  // a pair is a DSL tuple; an int decodes as a double
  CHECK(weir::codec<std::pair<int, int>>::to_value({1, 2}).is_tuple());
  CHECK(weir::codec<double>::from_value(weir::value(3)) == 3.0);
  // mismatches name what was expected and what came
  CHECK_THROWS_WITH(weir::codec<int>::from_value(weir::value("x")), "typed stream: expected int, got string \"x\"");
  CHECK_THROWS_WITH(weir::codec<click>::from_value(weir::value::object({{"user", weir::value("bob")}})),
                    "typed stream: missing field \"time\" in {\"user\":\"bob\"}");
  // a missing optional field is nullopt
  auto partial = weir::value::object({{"user", weir::value("bob")}, {"time", weir::value(1)}, {"price", weir::value(2)}});
  CHECK(weir::codec<click>::from_value(partial) == click{"bob", 1, 2.0, std::nullopt});
}

TEST_CASE("typed api: word count with map flat_map filter and reduce_by_key", "[api][typed]") {
  weir::test::temp_dir tmp;
  std::string text;
  std::map<std::string, std::int64_t> expected;
  for (int i = 0; i < 500; ++i) {
    std::string line;
    for (int j = 0; j <= i % 7; ++j) {
      std::string w = "w" + std::to_string((i * 31 + j * 17) % 23);
      line += (j ? " " : "") + w;
      if (w != "w0") ++expected[w];  // filtered out below
    }
    text += line + "\n";
  }
  write(tmp.path / "in.txt", text);

  std::mutex mtx;
  std::map<std::string, std::int64_t> got;
  std::int64_t lines_seen = 0;
  {
    weir::streaming_context ssc(fast());
    auto lines = weir::as_stream<std::string>(ssc.text_file((tmp.path / "in.txt").string()));
    lines.count().for_each_batch([&](std::int64_t, const std::vector<std::int64_t>& n) {
      std::lock_guard<std::mutex> lock(mtx);
      for (auto x : n) lines_seen += x;
    });
    lines
        .flat_map([](const std::string& line) {
          std::vector<std::string> words;
          std::istringstream in(line);
          for (std::string w; in >> w;) words.push_back(w);
          return words;
        })
        .filter([](const std::string& w) { return w != "w0"; })
        .map([](const std::string& w) { return std::pair<std::string, std::int64_t>{w, 1}; })
        .reduce_by_key([](std::int64_t a, std::int64_t b) { return a + b; })
        .for_each_batch([&](std::int64_t, const std::vector<std::pair<std::string, std::int64_t>>& batch) {
          std::lock_guard<std::mutex> lock(mtx);
          for (auto& [w, n] : batch) got[w] += n;
        });
    ssc.run();
  }
  CHECK(lines_seen == 500);
  CHECK(got == expected);
}

namespace {

/// A batches() file: one JSON array of records per line (one line = one batch).
std::string batches_file(const std::vector<std::vector<std::pair<std::string, std::int64_t>>>& batches) {
  std::string s;
  for (auto& b : batches) {
    s += "[";
    for (std::size_t i = 0; i < b.size(); ++i) s += (i ? "," : "") + std::string("[\"") + b[i].first + "\"," + std::to_string(b[i].second) + "]";
    s += "]\n";
  }
  return s;
}

const std::vector<std::vector<std::pair<std::string, std::int64_t>>> kv_batches = {
    {{"a", 1}, {"b", 2}, {"a", 3}},
    {{"b", 5}},
    {},
    {{"c", 7}, {"a", 1}},
};

}  // namespace

TEST_CASE("typed api: update_state_by_key and map_with_state keep typed state across batches", "[api][typed]") {
  weir::test::temp_dir tmp;
  write(tmp.path / "b.jsonl", batches_file(kv_batches));
  std::mutex mtx;
  std::vector<std::map<std::string, std::int64_t>> states;  // per batch, the running sums
  std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> mapped;  // (key, value, running count)
  {
    weir::streaming_context ssc(fast());
    auto kv = weir::as_stream<std::pair<std::string, std::int64_t>>(ssc.batches((tmp.path / "b.jsonl").string()));
    kv.update_state_by_key([](const std::vector<std::int64_t>& vs, const std::optional<std::int64_t>& s) {
        std::int64_t sum = s.value_or(0);
        for (auto v : vs) sum += v;
        return std::optional<std::int64_t>(sum);
      })
        .for_each_batch([&](std::int64_t, const std::vector<std::pair<std::string, std::int64_t>>& b) {
          std::lock_guard<std::mutex> lock(mtx);
          states.emplace_back(b.begin(), b.end());
        });
    kv.map_with_state<std::int64_t>([](const std::string& k, const std::optional<std::int64_t>& v,
                                       weir::state<std::int64_t>& s) {
        std::int64_t n = s.get_or(0) + 1;
        s.update(n);
        return std::tuple<std::string, std::int64_t, std::int64_t>{k, v.value_or(-1), n};
      })
        .for_each_batch([&](std::int64_t, const std::vector<std::tuple<std::string, std::int64_t, std::int64_t>>& b) {
          std::lock_guard<std::mutex> lock(mtx);
          mapped.insert(mapped.end(), b.begin(), b.end());
        });
    ssc.run();
  }
  // independent: running sums after each batch
  std::vector<std::map<std::string, std::int64_t>> want;
  std::map<std::string, std::int64_t> run;
  std::map<std::string, std::int64_t> seen;
  std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> want_mapped;
  for (auto& b : kv_batches) {
    for (auto& [k, v] : b) {
      run[k] += v;
      want_mapped.emplace_back(k, v, ++seen[k]);
    }
    want.push_back(run);
  }
  CHECK(states == want);
  std::sort(mapped.begin(), mapped.end());
  std::sort(want_mapped.begin(), want_mapped.end());
  CHECK(mapped == want_mapped);
}

TEST_CASE("typed api: join and left_outer_join of pair streams", "[api][typed]") {
  weir::test::temp_dir tmp;
  write(tmp.path / "l.jsonl", batches_file({{{"a", 1}, {"b", 2}}, {{"c", 3}}}));
  write(tmp.path / "r.jsonl", batches_file({{{"a", 10}, {"a", 11}}, {{"d", 4}}}));
  using joined = std::pair<std::string, std::pair<std::int64_t, std::int64_t>>;
  using left = std::pair<std::string, std::pair<std::int64_t, std::optional<std::int64_t>>>;
  std::mutex mtx;
  std::vector<joined> inner;
  std::vector<left> outer;
  {
    weir::streaming_context ssc(fast());
    auto l = weir::as_stream<std::pair<std::string, std::int64_t>>(ssc.batches((tmp.path / "l.jsonl").string()));
    auto r = weir::as_stream<std::pair<std::string, std::int64_t>>(ssc.batches((tmp.path / "r.jsonl").string()));
    l.join(r).for_each_batch([&](std::int64_t, const std::vector<joined>& b) {
      std::lock_guard<std::mutex> lock(mtx);
      inner.insert(inner.end(), b.begin(), b.end());
    });
    l.left_outer_join(r).for_each_batch([&](std::int64_t, const std::vector<left>& b) {
      std::lock_guard<std::mutex> lock(mtx);
      outer.insert(outer.end(), b.begin(), b.end());
    });
    ssc.run();
  }
  std::sort(inner.begin(), inner.end());
  std::sort(outer.begin(), outer.end());
  CHECK(inner == std::vector<joined>{{"a", {1, 10}}, {"a", {1, 11}}});
  CHECK(outer == std::vector<left>{{"a", {1, 10}}, {"a", {1, 11}}, {"b", {2, std::nullopt}}, {"c", {3, std::nullopt}}});
}

TEST_CASE("typed api: right_outer_join and cogroup of pair streams", "[api][typed]") {
  weir::test::temp_dir tmp;
  write(tmp.path / "l.jsonl", batches_file({{{"a", 1}, {"b", 2}}, {{"c", 3}}}));
  write(tmp.path / "r.jsonl", batches_file({{{"a", 10}, {"a", 11}}, {{"d", 4}}}));
  using right = std::pair<std::string, std::pair<std::optional<std::int64_t>, std::int64_t>>;
  using grouped = std::pair<std::string, std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>>>;
  std::mutex mtx;
  std::vector<right> outer;
  std::vector<grouped> groups;
  {
    weir::streaming_context ssc(fast());
    auto l = weir::as_stream<std::pair<std::string, std::int64_t>>(ssc.batches((tmp.path / "l.jsonl").string()));
    auto r = weir::as_stream<std::pair<std::string, std::int64_t>>(ssc.batches((tmp.path / "r.jsonl").string()));
    l.right_outer_join(r).for_each_batch([&](std::int64_t, const std::vector<right>& b) {
      std::lock_guard<std::mutex> lock(mtx);
      outer.insert(outer.end(), b.begin(), b.end());
    });
    l.cogroup(r).for_each_batch([&](std::int64_t, const std::vector<grouped>& b) {
      std::lock_guard<std::mutex> lock(mtx);
      for (auto g : b) {  // the order inside a group is not specified
        std::sort(g.second.first.begin(), g.second.first.end());
        std::sort(g.second.second.begin(), g.second.second.end());
        groups.push_back(std::move(g));
      }
    });
    ssc.run();
  }
  std::sort(outer.begin(), outer.end());
  std::sort(groups.begin(), groups.end());
  // batch 1: a joins twice; batch 2: d has no left side (c has no right side: not in a right join)
  CHECK(outer == std::vector<right>{{"a", {1, 10}}, {"a", {1, 11}}, {"d", {std::nullopt, 4}}});
  CHECK(groups == std::vector<grouped>{{"a", {{1}, {10, 11}}}, {"b", {{2}, {}}}, {"c", {{3}, {}}}, {"d", {{}, {4}}}});
}

TEST_CASE("typed api: event-time aggregate over structs", "[api][typed]") {
  weir::test::temp_dir tmp;
  // clicks as JSON objects, one batch per line; times out of order by up to 3 s
  std::vector<click> clicks;
  for (int i = 0; i < 300; ++i)
    clicks.push_back({"u" + std::to_string(i % 4), 1'000'000 + (i * 137 % 60'000), static_cast<double>(i % 10), std::nullopt});
  std::sort(clicks.begin(), clicks.end(), [](auto& a, auto& b) { return a.time < b.time; });
  for (std::size_t i = 0; i + 1 < clicks.size(); i += 5) std::swap(clicks[i].time, clicks[i + 1].time);
  std::string s;
  for (std::size_t i = 0; i < clicks.size(); i += 50) {
    s += "[";
    for (std::size_t j = i; j < std::min(i + 50, clicks.size()); ++j)
      s += (j > i ? "," : "") + weir::codec<click>::to_value(clicks[j]).to_json();
    s += "]\n";
  }
  write(tmp.path / "clicks.jsonl", s);

  using result = weir::window_result<std::string, double>;
  std::mutex mtx;
  std::map<std::pair<std::int64_t, std::string>, double> got;
  weir::run_stats stats;
  {
    weir::streaming_context ssc(fast());
    weir::as_stream<click>(ssc.batches((tmp.path / "clicks.jsonl").string()))
        .with_watermark([](const click& c) { return c.time; }, std::chrono::seconds(5))
        .aggregate<double>(weir::window_spec::tumbling(std::chrono::seconds(10)), weir::aggregation::sum(),
                           [](const click& c) { return c.user; }, [](const click& c) { return c.time; },
                           [](const click& c) { return c.price; })
        .for_each_batch([&](std::int64_t, const std::vector<result>& b) {
          std::lock_guard<std::mutex> lock(mtx);
          for (auto& r : b) {
            CHECK(r.end - r.start == 10'000);
            got[{r.start, r.key}] += r.value;
          }
        });
    stats = ssc.run();
  }
  std::map<std::pair<std::int64_t, std::string>, double> want;
  for (auto& c : clicks) want[{c.time - c.time % 10'000, c.user}] += c.price;
  CHECK(stats.late_records == 0);
  CHECK(got == want);
}

TEST_CASE("typed api: a record that does not decode stops the run with a clear error", "[api][typed]") {
  weir::test::temp_dir tmp;
  write(tmp.path / "in.txt", "1\n2\nx\n");
  weir::streaming_context ssc(fast());
  weir::as_stream<std::int64_t>(ssc.text_file((tmp.path / "in.txt").string()))
      .map([](std::int64_t x) { return x * 2; })
      .print();
  CHECK_THROWS_WITH(ssc.run(), Catch::Contains("typed stream: expected int, got string \"1\""));
}
