#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "support/test_data.hpp"
#include "test_sources.hpp"
#include "weir/api/dstream.hpp"
#include "weir/operators/harness.hpp"

using namespace weir;
using namespace std::chrono_literals;

namespace {

records make_lines(int n) {
  records lines;
  std::uint64_t x = 7;
  for (int i = 0; i < n; ++i) {
    std::string line;
    int words = static_cast<int>(i % 9);
    for (int w = 0; w < words; ++w) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      line += "w" + std::to_string((x >> 33) % 300) + " ";
    }
    lines.emplace_back(line);
  }
  return lines;
}

std::map<std::string, std::int64_t> expected_counts(const records& lines) {
  std::map<std::string, std::int64_t> m;
  for (auto& l : lines) {
    std::string s(l.as_string());
    std::size_t pos = 0;
    while (pos < s.size()) {
      auto sp = s.find(' ', pos);
      if (sp == std::string::npos) sp = s.size();
      if (sp > pos) ++m[s.substr(pos, sp - pos)];
      pos = sp + 1;
    }
  }
  return m;
}

void split_words(const value& line, records& out) {
  auto s = line.as_string();
  std::size_t pos = 0;
  while (pos < s.size()) {
    auto sp = s.find(' ', pos);
    if (sp == std::string_view::npos) sp = s.size();
    if (sp > pos) out.emplace_back(s.substr(pos, sp - pos));
    pos = sp + 1;
  }
}

struct collected {
  std::vector<std::pair<std::int64_t, records>> batches;
  std::map<std::string, std::int64_t> totals() const {
    std::map<std::string, std::int64_t> m;
    for (auto& [t, recs] : batches)
      for (auto& r : recs) m[std::string(r.as_array()[0].as_string())] += r.as_array()[1].as_int();
    return m;
  }
};

}  // namespace

TEST_CASE("word count through the actors equals a direct count at every parallelism", "[actors]") {
  records lines = make_lines(20000);
  auto expect = expected_counts(lines);
  for (int par : {1, 2, 3}) {
    for (std::size_t batch_size : {std::size_t{7}, std::size_t{1024}}) {
      INFO("parallelism " << par << ", batch size " << batch_size);
      context_options o;
      o.parallelism = par;
      o.batch_size = batch_size;
      o.edge_capacity = batch_size < 10 ? 1 : 8;
      streaming_context ssc(o);
      collected out;
      ssc.source("lines", [&] { return std::make_unique<test::vector_source>(lines, 333); })
          .flat_map(split_words)
          .map([](const value& w) { return value::pair(w, 1); })
          .reduce_by_key(reducer::sum())
          .for_each_batch([&](std::int64_t t, records& r) { out.batches.emplace_back(t, r); });
      auto stats = ssc.run();
      CHECK(out.totals() == expect);
      CHECK(stats.source_records == lines.size());
      std::uint64_t distinct = 0;
      for (auto& b : out.batches) distinct += b.second.size();
      CHECK(stats.sink_records == distinct);
      REQUIRE(!out.batches.empty());
      CHECK(out.batches.front().first == 1000);  // batch times are multiples of B
      for (auto& b : out.batches) CHECK(b.first % 1000 == 0);
    }
  }
}

TEST_CASE("a windowed stream drains after end of stream", "[actors][window]") {
  records lines = make_lines(3000);
  auto expect = expected_counts(lines);
  context_options o;
  o.parallelism = 2;
  streaming_context ssc(o);
  collected out;
  ssc.source("lines", [&] { return std::make_unique<test::vector_source>(lines, 100); })
      .flat_map(split_words)
      .map([](const value& w) { return value::pair(w, 1); })
      .reduce_by_key_and_window(reducer::sum(), 3s, 1s)
      .for_each_batch([&](std::int64_t t, records& r) { out.batches.emplace_back(t, r); });
  ssc.run();
  // the input fits into batch 1000; windows (t-3s, t] for t = 1s, 2s, 3s all hold it
  std::map<std::int64_t, std::map<std::string, std::int64_t>> per_time;
  for (auto& [t, recs] : out.batches)
    for (auto& r : recs) per_time[t][std::string(r.as_array()[0].as_string())] += r.as_array()[1].as_int();
  REQUIRE(per_time.size() == 3);
  CHECK(per_time[1000] == expect);
  CHECK(per_time[2000] == expect);
  CHECK(per_time[3000] == expect);
}

TEST_CASE("downstream of a window batches exist only at multiples of the slide", "[actors][window]") {
  // Spark: a windowed DStream (and everything after it) has the window's
  // slide as its slideDuration; print/foreachRDD run only at those times.
  records nums;
  for (int i = 0; i < 100; ++i) nums.emplace_back(i);
  context_options o;
  o.parallelism = 2;
  o.batch_interval = 1000ms;
  streaming_context ssc(o);
  std::vector<std::pair<std::int64_t, records>> after_window, after_count;
  auto windowed = ssc.source("nums", [&] { return std::make_unique<test::vector_source>(nums, 10); })
                      .map([](const value& v) { return value::pair(v.as_int() % 3, 1); })
                      .reduce_by_key_and_window(reducer::sum(), 4s, 2s);
  windowed.for_each_batch([&](std::int64_t t, records& r) { after_window.emplace_back(t, r); });
  windowed.count().for_each_batch([&](std::int64_t t, records& r) { after_count.emplace_back(t, r); });
  ssc.run();
  // data in batch 1000; windows (t-4s, t] at t = 2000 and 4000 hold it
  REQUIRE(after_window.size() == 2);
  CHECK(after_window[0].first == 2000);
  CHECK(after_window[1].first == 4000);
  CHECK(sorted(after_window[0].second) == records{value::pair(0, 34), value::pair(1, 33), value::pair(2, 33)});
  REQUIRE(after_count.size() == 2);
  CHECK(after_count[0] == std::pair<std::int64_t, records>{2000, records{3}});
  CHECK(after_count[1] == std::pair<std::int64_t, records>{4000, records{3}});
}

TEST_CASE("count through a gather edge emits one number per batch", "[actors]") {
  records nums;
  for (int i = 0; i < 5000; ++i) nums.emplace_back(i);
  context_options o;
  o.parallelism = 2;
  o.batch_size = 64;
  streaming_context ssc(o);
  std::vector<std::pair<std::int64_t, records>> out;
  ssc.source("nums", [&] { return std::make_unique<test::vector_source>(nums, 1000); })
      .map([](const value& v) { return value::pair(v.as_int() % 10, 1); })
      .reduce_by_key(reducer::sum())
      .count()
      .for_each_batch([&](std::int64_t t, records& r) { out.emplace_back(t, r); });
  ssc.run();
  REQUIRE(out.size() == 1);
  CHECK(out[0].first == 1000);
  CHECK(out[0].second == records{10});
}

TEST_CASE("a failing operator stops the pipeline with its name and reason", "[actors]") {
  for (int par : {1, 2}) {
    context_options o;
    o.parallelism = par;
    o.batch_size = 16;
    streaming_context ssc(o);
    ssc.source("endless", [] { return std::make_unique<test::counter_source>(); })
        .map([](const value& v) {
          if (v.as_int() == 100000) throw record_error("bad record 100000");
          return value::pair(v.as_int() % 5, 1);
        })
        .reduce_by_key(reducer::sum())
        .print();
    // the failing task is named by its chain, the map-side combine included
    CHECK_THROWS_WITH(ssc.run(), "endless -> map -> reduce_by_key.combine: bad record 100000");
  }
  {
    streaming_context ssc;
    ssc.source("nums", [] { return std::make_unique<test::vector_source>(records{1, "x", 3}, 10); })
        .reduce_by_key(reducer::sum())
        .print();
    CHECK_THROWS_WITH(ssc.run(), Catch::Contains("reduce_by_key expects (key, value) pairs, got int 1"));
  }
}

TEST_CASE("a missing input file fails at start with one line", "[actors][io]") {
  streaming_context ssc;
  ssc.text_file("/nonexistent/weir/input.txt").print();
  try {
    ssc.run();
    FAIL("expected an error");
  } catch (const pipeline_error& e) {
    std::string msg = e.what();
    CHECK(msg.find("/nonexistent/weir/input.txt") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
}

TEST_CASE("stop() ends an unbounded source gracefully: nothing is lost", "[actors]") {
  context_options o;
  o.parallelism = 2;
  o.batch_interval = 100ms;
  streaming_context ssc(o);
  std::atomic<std::int64_t> seen{0};
  std::atomic<std::int64_t> last_time{0};
  ssc.source("endless", [] { return std::make_unique<test::counter_source>(); })
      .map([](const value& v) { return value::pair(v.as_int() % 100, 1); })
      .reduce_by_key(reducer::sum())
      .for_each_batch([&](std::int64_t t, records& r) {
        for (auto& x : r) seen += x.as_array()[1].as_int();
        last_time = t;
      });
  ssc.start();
  // stopped once three batches went through (a condition, not a fixed sleep)
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (last_time.load() < 300 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  ssc.stop();
  auto stats = ssc.await_termination();
  CHECK(stats.source_records > 0);
  CHECK(static_cast<std::uint64_t>(seen.load()) == stats.source_records);
  CHECK(last_time >= 300);
}

TEST_CASE("the built-in generator runs on the processing-time clock", "[actors][io]") {
  context_options o;
  o.batch_interval = 100ms;
  streaming_context ssc(o);
  io::access_log_options g;
  g.rate = 5000;
  g.duration = 450ms;
  std::vector<std::pair<std::int64_t, records>> out;
  ssc.access_log(g).count().for_each_batch([&](std::int64_t t, records& r) { out.emplace_back(t, r); });
  auto stats = ssc.run();
  REQUIRE(out.size() >= 4);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    CHECK(out[i].first == static_cast<std::int64_t>(i + 1) * 100);  // every batch time, none skipped
    REQUIRE(out[i].second.size() == 1);
    total += out[i].second[0].as_int();
  }
  CHECK(static_cast<std::uint64_t>(total) == stats.source_records);
  CHECK(total > 1000);
}

TEST_CASE("a join of two replayed streams aligns batch by batch at every parallelism", "[actors][join]") {
  // Two batches() sources on a logical clock; the join stage has two inputs,
  // each fed by a hash edge. Expected: per batch, all (k, (v, w)) combinations.
  test::temp_dir tmp;
  auto left = tmp.path / "left.jsonl", right = tmp.path / "right.jsonl";
  std::vector<records> lb(6), rb(6);
  {
    std::ofstream l(left), r(right);
    std::uint64_t x = 99;
    auto next = [&] { return x = x * 6364136223846793005ULL + 1442695040888963407ULL, x >> 33; };
    for (std::size_t b = 0; b < 6; ++b) {
      int nl = b == 3 ? 0 : 40, nr = b == 4 ? 0 : 30;  // empty batches on either side
      for (int i = 0; i < nl; ++i) lb[b].push_back(value::pair(static_cast<std::int64_t>(next() % 25), i));
      for (int i = 0; i < nr; ++i) rb[b].push_back(value::pair(static_cast<std::int64_t>(next() % 25), -i));
      l << value::array(lb[b]).to_json() << "\n";
      r << value::array(rb[b]).to_json() << "\n";
    }
  }
  for (int par : {1, 2, 3}) {
    INFO("parallelism " << par);
    context_options o;
    o.parallelism = par;
    o.batch_size = 8;
    o.edge_capacity = 2;
    streaming_context ssc(o);
    std::map<std::int64_t, records> out;
    auto a = ssc.batches(left.string(), 7);
    auto b = ssc.batches(right.string(), 7);
    a.join(b).for_each_batch([&](std::int64_t t, records& r) { out[t] = sorted(r); });
    ssc.run();
    REQUIRE(out.size() == 7);  // one output batch per input batch, also the empty 7th
    for (std::size_t k = 0; k < 7; ++k) {
      records expect;
      if (k < 6)
        for (auto& l : lb[k])
          for (auto& r : rb[k])
            if (l.as_array()[0] == r.as_array()[0])
              expect.push_back(value::pair(l.as_array()[0], value::pair(l.as_array()[1], r.as_array()[1])));
      CHECK(out[static_cast<std::int64_t>(k + 1) * 1000] == sorted(expect));
    }
  }
}

TEST_CASE("streams with different slides cannot be joined", "[actors][join]") {
  test::temp_dir tmp;
  auto in = tmp.path / "in.jsonl";
  std::ofstream(in) << "[[\"a\", 1]]\n";
  streaming_context ssc;
  auto a = ssc.batches(in.string(), 4);
  auto w = a.window(2s, 2s);
  CHECK(w.slide() == 2s);
  CHECK_THROWS_WITH(w.join(a), Catch::Contains("different slides (2000ms and 1000ms)"));
  CHECK_THROWS_WITH(a.window(3s, 1s).window(4s, 2s).union_with({a}), Catch::Contains("different slides"));
  CHECK_THROWS_WITH(w.window(3s, 2s), Catch::Contains("must be multiples of the input stream's slide 2000ms"));
}
