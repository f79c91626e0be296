// The key hash a keyed edge computes to route a record is handed to the
// receiving operator (process_context::key_hashes) with the record, so
// that its state table does not hash the key again. Checked here:
// the hashes reach the first operator of the keyed stage, aligned with its
// records also when watermarks split a wire batch into segments; and event
// windows fed by a keyed edge at parallelism 2 count exactly what a
// straightforward count of the generated records gives, malformed records
// included (on_error = skip).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "weir/api/dstream.hpp"

using namespace weir;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t base_ms = 1'000'000;

/// The keys: ints, non-integral doubles, short (inline) and long (heap)
/// strings, and pairs; `k` picks one of 40.
value key_of(std::uint64_t k) {
  k %= 40;
  if (k < 15) return value(static_cast<std::int64_t>(k) - 7);
  if (k < 20) return value(static_cast<double>(k) + 0.5);
  if (k < 30) return value("k" + std::to_string(k));
  if (k < 38) return value("a long key that lives on the heap #" + std::to_string(k));
  return value::pair(value(static_cast<std::int64_t>(k)), value("p"));
}

std::uint64_t next(std::uint64_t& x) {
  x ^= x << 13, x ^= x >> 7, x ^= x << 17;
  return x;
}

/// Record i of partition p of `parts`: (key, {"t": time, "u": time or a bad
/// value every 37th record}). Times rise by 3 ms per record with a jitter of
/// up to 50 ms (the watermark delay is 100 ms: nothing is late).
struct gen_record {
  value key;
  std::int64_t t;
  bool bad;
};
gen_record generate(int p, std::uint64_t i) {
  std::uint64_t x = 0x9E3779B97F4A7C15ULL * (i + 1) + static_cast<std::uint64_t>(p) * 7919 + 1;
  next(x), next(x);
  const std::int64_t t = base_ms + static_cast<std::int64_t>(i) * 3 + static_cast<std::int64_t>(next(x) % 51);
  return {key_of(next(x)), t, (i + static_cast<std::uint64_t>(p)) % 37 == 5};
}

value record_of(const gen_record& g) {
  return value::pair(g.key, value::object({{value("t"), value(g.t)}, {value("u"), g.bad ? value("bad") : value(g.t)}}));
}

class gen_source final : public io::source_reader {
public:
  gen_source(int p, std::uint64_t n) : p_(p), n_(n) {}
  io::read_result read(records& out, std::size_t max) override {
    for (std::size_t k = 0; k < max && i_ < n_; ++k, ++i_) out.push_back(record_of(generate(p_, i_)));
    return {i_ >= n_ ? io::read_result::status::end : io::read_result::status::more, {}};
  }
  std::string describe() const override { return "generated pairs"; }

private:
  int p_;
  std::uint64_t n_, i_ = 0;
};

constexpr std::uint64_t per_partition = 20'000;

dstream generated(streaming_context& ctx) {
  watermark_options wm;
  wm.time = [](const value& v) { return *v.as_array()[1].find("t"); };
  wm.time_text = "_[1].t";
  wm.delay = 100ms;
  return ctx
      .source("pairs", [](int i, int n) { (void)n; return std::make_unique<gen_source>(i, per_partition); }, 2)
      .with_watermark(wm);
}

struct probe_counts {
  std::atomic<std::uint64_t> ok{0}, missing{0}, wrong{0}, calls{0};
};

/// Checks process_context::key_hashes against value::hash() of every record's key.
class hash_probe final : public stream_operator {
public:
  explicit hash_probe(std::shared_ptr<probe_counts> c) : c_(std::move(c)) {}
  void process(const process_context& ctx, records& in, records&) override {
    ++c_->calls;
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (!ctx.key_hashes)
        ++c_->missing;
      else if (ctx.key_hashes[i] != in[i].as_array()[0].hash())
        ++c_->wrong;
      else
        ++c_->ok;
    }
  }

private:
  std::shared_ptr<probe_counts> c_;
};

}  // namespace

TEST_CASE("A keyed edge hands each record's key hash to the receiving operator aligned with the records",
          "[runtime][keyed]") {
  context_options o;
  o.parallelism = 2;
  o.batch_size = 256;
  streaming_context ctx(o);
  auto c = std::make_shared<probe_counts>();
  generated(ctx)
      .transform("probe", [c] { return std::make_unique<hash_probe>(c); }, dstream::routing::keyed)
      .for_each_batch([](std::int64_t, records&) {});
  ctx.run();
  CHECK(c->ok == 2 * per_partition);
  CHECK(c->missing == 0);
  CHECK(c->wrong == 0);
  // the watermarks split wire batches: more process() calls than wire batches of 256
  CHECK(c->calls > 2 * per_partition / 256);
}

TEST_CASE("A chained operator after a source gets no key hashes", "[runtime][keyed]") {
  context_options o;
  o.parallelism = 1;
  streaming_context ctx(o);
  auto c = std::make_shared<probe_counts>();
  ctx.source("pairs", [](int i, int) { return std::make_unique<gen_source>(i, 1000); }, 1)
      .transform("probe", [c] { return std::make_unique<hash_probe>(c); }, dstream::routing::chained)
      .for_each_batch([](std::int64_t, records&) {});
  ctx.run();
  CHECK(c->missing == 1000);
  CHECK(c->ok == 0);
}

namespace {

using window_counts = std::map<std::tuple<std::int64_t, std::string>, std::int64_t>;  // (start, key json) → value

/// Runs the generated pairs through an event window behind a keyed edge (parallelism 2).
window_counts run_window(event_window_options w, std::uint64_t& malformed) {
  context_options o;
  o.parallelism = 2;
  o.batch_size = 300;
  streaming_context ctx(o);
  w.keyed = true;
  w.time = [](const value& v) { return *v.find("u"); };
  w.time_text = "u";
  w.on_error.action = on_error::skip;
  std::mutex m;
  window_counts got;
  bool dup = false;
  generated(ctx)
      .transform("window", [w] { return make_event_window(w); }, dstream::routing::keyed)
      .for_each_batch([&](std::int64_t, records& r) {
        std::lock_guard lock(m);
        for (auto& x : r)
          dup |= !got.emplace(std::tuple{x.find("start")->as_int(), x.find("key")->to_json()}, x.find("value")->as_int()).second;
      });
  auto stats = ctx.run();
  CHECK_FALSE(dup);
  CHECK(stats.late_records == 0);
  malformed = stats.malformed_records;
  return got;
}

/// The straightforward count: every good record of both partitions, in
/// every window [start, start + size) holding its time.
window_counts expected_fixed(std::int64_t size, std::int64_t slide, bool sum, std::uint64_t& bad) {
  window_counts want;
  bad = 0;
  for (int p = 0; p < 2; ++p)
    for (std::uint64_t i = 0; i < per_partition; ++i) {
      auto g = generate(p, i);
      if (g.bad) {
        ++bad;
        continue;
      }
      for (std::int64_t start = g.t / slide * slide; start > g.t - size; start -= slide)
        want[{start, g.key.to_json()}] += sum ? g.t % 7 : 1;
    }
  return want;
}

}  // namespace

TEST_CASE("Event windows behind a keyed edge count exactly with malformed records skipped", "[runtime][keyed]") {
  std::uint64_t bad = 0, malformed = 0;
  SECTION("tumbling count (panes)") {
    event_window_options w;
    w.window = window_spec::tumbling(1000ms);
    w.agg = aggregation::count();
    auto want = expected_fixed(1000, 1000, false, bad);
    CHECK(run_window(w, malformed) == want);
  }
  SECTION("sliding count (panes)") {
    event_window_options w;
    w.window = window_spec::sliding(3000ms, 1000ms);
    w.agg = aggregation::count();
    auto want = expected_fixed(3000, 1000, false, bad);
    CHECK(run_window(w, malformed) == want);
  }
  SECTION("tumbling sum (per window)") {
    event_window_options w;
    w.window = window_spec::tumbling(1000ms);
    w.agg = aggregation::sum();
    w.value_of = [](const value& v) { return value(v.find("t")->as_int() % 7); };
    auto want = expected_fixed(1000, 1000, true, bad);
    CHECK(run_window(w, malformed) == want);
  }
  SECTION("session count") {
    event_window_options w;
    w.window = window_spec::session(40ms);
    w.agg = aggregation::count();
    // per key: sorted times; a new session when the next time is >= gap after the last
    std::map<std::string, std::vector<std::int64_t>> times;
    for (int p = 0; p < 2; ++p)
      for (std::uint64_t i = 0; i < per_partition; ++i) {
        auto g = generate(p, i);
        if (g.bad)
          ++bad;
        else
          times[g.key.to_json()].push_back(g.t);
      }
    window_counts want;
    for (auto& [k, ts] : times) {
      std::sort(ts.begin(), ts.end());
      std::int64_t start = ts[0], last = ts[0], n = 0;
      for (auto t : ts) {
        if (t >= last + 40) {
          want[{start, k}] = n;
          start = t;
          n = 0;
        }
        last = t;
        ++n;
      }
      want[{start, k}] = n;
    }
    CHECK(run_window(w, malformed) == want);
  }
  CHECK(bad > 0);
  CHECK(malformed == bad);
}
