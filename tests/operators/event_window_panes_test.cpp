// Sliding and tumbling event-time counts run on panes (Li et al. 2005): each
// record is counted once in its gcd(size, slide) pane and a window sums its
// panes when it fires. Checked on random out-of-order input with late
// records, for several window/slide shapes and allowed lateness:
// - against a straightforward count (per window, per key, of the records
//   that arrived while the window was not closed for good), computed here;
// - step by step against the per-window path (a sum of 1 per record, which
//   does not use panes): the same results from every push and watermark (as
//   sets: the order of keys within a window is unspecified), the same key
//   values (1 and 1.0 are equal keys; the first record's one is reported),
//   the same late side output and counters.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "weir/operators/event_time.hpp"
#include "weir/operators/harness.hpp"

using namespace weir;
using namespace std::chrono_literals;

namespace {

struct step {
  bool push = true;
  records in;          // push: (key, {"t": ms}) pairs, or bare bodies when unkeyed
  std::int64_t wm = 0;  // watermark
};

struct rng {
  std::uint64_t x;
  std::uint64_t operator()(std::uint64_t m) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return (x >> 33) % m;
  }
};

/// `n` records with times mostly increasing, jittered up to `jitter` ms back,
/// one in 8 up to 2.2 s behind (often late); keys 0..keys-1, one in 5 written as a
/// double (equal to the int); a watermark (max time - delay) after each push
/// of 1..6 records, sometimes a repeated or backward one, then the end.
std::vector<step> script(std::uint64_t seed, int n, int keys, bool keyed, std::int64_t delay, std::int64_t jitter) {
  rng r{seed};
  std::vector<step> s;
  std::int64_t now = -2000 + static_cast<std::int64_t>(r(1000)), max_t = no_watermark;  // negative times too
  int i = 0;
  while (i < n) {
    step p;
    const int k = 1 + static_cast<int>(r(6));
    for (int j = 0; j < k && i < n; ++j, ++i) {
      now += static_cast<std::int64_t>(r(25));
      std::int64_t t = now - static_cast<std::int64_t>(r(static_cast<std::uint64_t>(jitter)));
      if (r(8) == 0) t = now - 200 - static_cast<std::int64_t>(r(2000));
      max_t = std::max(max_t, t);
      const std::int64_t key = static_cast<std::int64_t>(r(static_cast<std::uint64_t>(keys)));
      value kv = r(5) == 0 ? value(static_cast<double>(key)) : value(key);
      value body = value::object({{value("t"), value(t)}, {value("k"), kv}});
      p.in.push_back(keyed ? value::pair(kv, body) : body);
    }
    s.push_back(std::move(p));
    const std::int64_t wm = r(10) == 0 ? max_t - delay - 100 : max_t - delay;
    s.push_back({false, {}, wm});
  }
  s.push_back({false, {}, end_watermark});
  return s;
}

struct run {
  std::vector<std::vector<std::string>> per_step;  // each step's output as sorted JSON texts
  records all;                                     // every output, in order
  records late;
  std::uint64_t late_count = 0;
};

run play(window_spec w, bool keyed, bool panes, std::chrono::milliseconds lateness, const std::vector<step>& s) {
  run out;
  event_window_options o;
  o.window = w;
  o.keyed = keyed;
  o.time = [](const value& v) { return *v.find("t"); };
  if (panes) {
    o.agg = aggregation::count();
  } else {
    o.agg = aggregation::sum();  // of 1 per record: a count on the per-window path
    o.value_of = [](const value&) { return value(std::int64_t{1}); };
  }
  o.allowed_lateness = lateness;
  records* late = &out.late;
  o.late = [late](const value& v) { late->push_back(v); };
  operator_harness h(make_event_window(o));
  for (auto& st : s) {
    records r = st.push ? h.push(st.in) : h.watermark(st.wm);
    std::vector<std::string> texts;
    for (auto& x : r) {
      texts.push_back(x.to_json());
      out.all.push_back(x);
    }
    std::sort(texts.begin(), texts.end());
    out.per_step.push_back(std::move(texts));
  }
  out.late_count = h.op().counters().late_records;
  return out;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

/// Straightforward count: (window start, key) -> records, and the late ones.
std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> expected(window_spec w, bool keyed, std::int64_t lateness,
                                                                       const std::vector<step>& s, std::uint64_t& late) {
  const std::int64_t slide = w.type == window_spec::kind::sliding ? w.slide_ms : w.size_ms;
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> c;
  std::int64_t wm = no_watermark;
  late = 0;
  for (auto& st : s) {
    if (!st.push) {
      wm = std::max(wm, st.wm);
      continue;
    }
    for (auto& rec : st.in) {
      const value& body = keyed ? rec.as_array()[1] : rec;
      const std::int64_t t = body.find("t")->as_int();
      const std::int64_t key = keyed ? static_cast<std::int64_t>(body.find("k")->as_number()) : 0;
      bool counted = false;
      for (std::int64_t start = floor_div(t, slide) * slide; start + w.size_ms > t; start -= slide)
        if (start + w.size_ms + lateness > wm) {
          ++c[{start, key}];
          counted = true;
        }
      if (!counted) ++late;
    }
  }
  return c;
}

void check_shape(window_spec w, std::chrono::milliseconds lateness, bool keyed, std::uint64_t seed) {
  INFO(w.describe() << ", allowed lateness " << lateness.count() << "ms, keyed " << keyed << ", seed " << seed);
  const auto s = script(seed, 1500, 13, keyed, 30, 120);
  const run panes = play(w, keyed, true, lateness, s);
  const run plain = play(w, keyed, false, lateness, s);
  REQUIRE(panes.per_step.size() == plain.per_step.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    INFO("step " << i);
    REQUIRE(panes.per_step[i] == plain.per_step[i]);
  }
  CHECK(panes.late == plain.late);
  CHECK(panes.late_count == plain.late_count);
  // the final result of each (window, key) = the straightforward count
  std::uint64_t late = 0;
  const auto expect = expected(w, keyed, lateness.count(), s, late);
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> got;
  for (auto& x : panes.all) {
    REQUIRE(x.find("end")->as_int() == x.find("start")->as_int() + w.size_ms);
    const std::int64_t key = keyed ? static_cast<std::int64_t>(x.find("key")->as_number()) : 0;
    got[{x.find("start")->as_int(), key}] = x.find("value")->as_int();
  }
  CHECK(got == expect);
  CHECK(panes.late_count == late);
  CHECK(panes.late.size() == late);
  CHECK(late > 20);
  CHECK(got.size() > 100);
}

}  // namespace

TEST_CASE("pane counts equal a straightforward count and the per-window path", "[operators][event_time][panes]") {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    for (auto lateness : {0ms, 150ms, 1000ms}) {
      check_shape(window_spec::tumbling(100ms), lateness, true, seed);
      check_shape(window_spec::sliding(300ms, 100ms), lateness, true, seed);
      check_shape(window_spec::sliding(300ms, 200ms), lateness, true, seed);  // panes of gcd = 100 ms
      check_shape(window_spec::sliding(250ms, 100ms), lateness, true, seed);  // panes of 50 ms
      check_shape(window_spec::sliding(70ms, 70ms), lateness, true, seed);    // slide = size
      check_shape(window_spec::sliding(400ms, 30ms), lateness, true, seed);   // panes of 10 ms, 14 windows each
    }
    check_shape(window_spec::sliding(300ms, 100ms), 100ms, false, seed);
    check_shape(window_spec::tumbling(50ms), 0ms, false, seed);
  }
}

TEST_CASE("a window reports the key value of its earliest record", "[operators][event_time][panes]") {
  // 1 and 1.0 are the same key; sliding(20, 10): panes [0,10) and [10,20)
  event_window_options o;
  o.window = window_spec::sliding(20ms, 10ms);
  o.agg = aggregation::count();
  o.keyed = true;
  o.time = [](const value& v) { return v; };
  operator_harness h(make_event_window(o));
  h.push({value::pair(value(1.0), value(12)), value::pair(value(1), value(3)), value::pair(value(1), value(15))});
  records r = h.watermark(end_watermark);
  std::vector<std::string> texts;
  for (auto& x : r) texts.push_back(x.to_json());
  // window [-10, 10): only the record at 3 (key 1); [0, 20): first record is 12 (key 1.0); [10, 30): 12 and 15
  CHECK(texts == std::vector<std::string>{R"({"start":-10,"end":10,"key":1,"value":1})",
                                          R"({"start":0,"end":20,"key":1.0,"value":3})",
                                          R"({"start":10,"end":30,"key":1.0,"value":2})"});
}

TEST_CASE("the assigner passes records in place and positions watermarks exactly, also around skipped records",
          "[operators][event_time]") {
  // random batches of records with out-of-order times, some malformed
  // (skipped), appended to an output that may already hold records; the
  // expected records and watermark positions are computed here directly
  // from the rule: a watermark (max time - delay) goes before each record
  // behind it (once per value) and after each batch that advanced it
  watermark_options o;
  o.time = [](const value& v) { return v.is_object() ? *v.find("t") : value(); };
  o.delay = std::chrono::milliseconds(7);
  o.on_error.action = on_error::skip;
  auto op = make_watermark_assigner(o);
  std::vector<watermark_mark> marks;
  process_context ctx;
  ctx.watermarks = &marks;
  rng r{99};
  std::int64_t max_t = no_watermark, pending = no_watermark, emitted = no_watermark, now = 0;
  std::uint64_t bad = 0;
  for (int batch = 0; batch < 300; ++batch) {
    records in, out, expect_out;
    std::vector<watermark_mark> expect_marks;
    const int prefill = static_cast<int>(r(3));
    for (int i = 0; i < prefill; ++i) {
      out.push_back(value("earlier"));
      expect_out.push_back(value("earlier"));
    }
    const int n = static_cast<int>(r(8));
    for (int i = 0; i < n; ++i) {
      if (r(6) == 0) {
        in.push_back(value(static_cast<std::int64_t>(i)));  // no time: skipped
        ++bad;
        continue;
      }
      now += static_cast<std::int64_t>(r(10));
      const std::int64_t t = now - static_cast<std::int64_t>(r(20));
      in.push_back(value::object({{value("t"), value(t)}, {value("i"), value(batch * 100 + i)}}));
      if (t <= pending && pending > emitted) {
        expect_marks.push_back({static_cast<std::uint32_t>(expect_out.size()), pending});
        emitted = pending;
      }
      expect_out.push_back(in.back());
      if (t > max_t) {
        max_t = t;
        pending = t - 7;
      }
    }
    if (pending > emitted) {
      expect_marks.push_back({static_cast<std::uint32_t>(expect_out.size()), pending});
      emitted = pending;
    }
    marks.clear();
    op->process(ctx, in, out);
    INFO("batch " << batch);
    REQUIRE(out == expect_out);
    REQUIRE(marks.size() == expect_marks.size());
    for (std::size_t i = 0; i < marks.size(); ++i) {
      CHECK(marks[i].pos == expect_marks[i].pos);
      CHECK(marks[i].wm == expect_marks[i].wm);
    }
  }
  CHECK(op->counters().malformed_records == bad);
  CHECK(bad > 50);
}
