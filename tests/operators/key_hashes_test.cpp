// An event window given the keyed edge's key hashes (process_context::key_hashes)
// behaves exactly as one that hashes the keys itself: same results in the
// same order, same counters, same error messages and record numbers under
// every on_error policy (the key is hashed once per record).
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "weir/operators/event_time.hpp"
#include "weir/operators/harness.hpp"

using namespace weir;
using namespace std::chrono_literals;

namespace {

std::uint64_t next(std::uint64_t& x) {
  x ^= x << 13, x ^= x >> 7, x ^= x << 17;
  return x;
}

/// Batches of (key, time) pairs: keys of every kind (1 and 1.0 are equal
/// keys with equal hashes), times rising with jitter, every 23rd time a
/// string (malformed: the window's time must be an int).
std::vector<records> random_batches(std::uint64_t seed, std::size_t batches, std::size_t& good) {
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  std::vector<records> out;
  std::int64_t t = 1'000'000;
  std::size_t i = 0;
  good = 0;
  for (std::size_t b = 0; b < batches; ++b) {
    records r;
    const std::size_t n = next(x) % 300;
    for (std::size_t k = 0; k < n; ++k, ++i) {
      value key;
      switch (next(x) % 6) {
        case 0: key = value(static_cast<std::int64_t>(next(x) % 20)); break;
        case 1: key = value(static_cast<double>(next(x) % 20)); break;  // integral: equal to the int key
        case 2: key = value("w" + std::to_string(next(x) % 30)); break;
        case 3: key = value("a key longer than fourteen bytes " + std::to_string(next(x) % 10)); break;
        case 4: key = value::pair(value(static_cast<std::int64_t>(next(x) % 3)), value("x")); break;
        default: key = value(static_cast<double>(next(x) % 5) + 0.25); break;
      }
      t += static_cast<std::int64_t>(next(x) % 20);
      const bool bad = i % 23 == 22;
      good += bad ? 0 : 1;
      r.push_back(value::pair(std::move(key), bad ? value("late?") : value(t)));
    }
    out.push_back(std::move(r));
  }
  return out;
}

struct outcome {
  std::vector<records> outputs;  // per batch: process() output, then the watermark's
  std::uint64_t malformed = 0, late = 0;
  std::optional<std::string> error;
  std::vector<std::string> dead;  // dead-letter records: raw | reason | provenance
};

/// Runs the batches through a keyed event window; with `pass_hashes` the
/// key hashes are handed in as the runtime's keyed edge does.
outcome run(event_window_options w, const std::vector<records>& batches, bool pass_hashes, on_error action) {
  outcome res;
  w.keyed = true;
  w.time = [](const value& v) { return v; };
  w.time_text = "t";
  w.on_error.action = action;
  if (action == on_error::dead_letter)
    w.on_error.dead_letter = [&res](const bad_record& r) {
      res.dead.push_back(std::string(r.raw) + " | " + r.reason + " | " + r.provenance);
    };
  operator_harness h(make_event_window(w));
  std::vector<std::uint64_t> hashes;
  std::int64_t max_t = 0;
  try {
    for (const auto& b : batches) {
      hashes.clear();
      for (auto& r : b) hashes.push_back(r.as_array()[0].hash());
      h.context().key_hashes = pass_hashes ? hashes.data() : nullptr;
      res.outputs.push_back(h.push(b));
      h.context().key_hashes = nullptr;
      for (auto& r : b)
        if (r.as_array()[1].is_int()) max_t = std::max(max_t, r.as_array()[1].as_int());
      res.outputs.push_back(h.watermark(max_t - 100));
    }
    res.outputs.push_back(h.watermark(end_watermark));
  } catch (const record_error& e) {
    res.error = e.what();
  }
  res.malformed = h.op().counters().malformed_records;
  res.late = h.op().counters().late_records;
  return res;
}

std::int64_t total_count(const outcome& o) {
  std::int64_t n = 0;
  for (auto& rs : o.outputs)
    for (auto& r : rs) n += r.find("value")->as_int();
  return n;
}

}  // namespace

TEST_CASE("An event window given the key hashes matches one that hashes the keys", "[event_time][keyed]") {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    std::size_t good = 0;
    auto batches = random_batches(seed, 40, good);
    std::vector<event_window_options> shapes(4);
    shapes[0].window = window_spec::tumbling(500ms);  // panes
    shapes[1].window = window_spec::sliding(1500ms, 500ms);
    shapes[2].window = window_spec::tumbling(500ms);  // per window: update mode
    shapes[2].output = output_mode::update;
    shapes[3].window = window_spec::session(30ms);
    for (std::size_t s = 0; s < shapes.size(); ++s) {
      INFO("seed " << seed << " shape " << s);
      for (on_error action : {on_error::skip, on_error::dead_letter}) {
        auto plain = run(shapes[s], batches, false, action);
        auto given = run(shapes[s], batches, true, action);
        CHECK_FALSE(plain.error);
        CHECK(given.outputs == plain.outputs);
        CHECK(given.malformed == plain.malformed);
        CHECK(given.dead == plain.dead);
        CHECK(given.late == plain.late);
        // independent: every good record counted (the watermark trails by 100 ms, jitter is none: nothing late)
        CHECK(plain.late == 0);
        if (s != 2) {  // append mode: each record in size/slide windows
          const std::int64_t per = s == 1 ? 3 : 1;
          CHECK(total_count(given) == per * static_cast<std::int64_t>(good));
        }
        std::size_t records_total = 0;
        for (auto& b : batches) records_total += b.size();
        CHECK(given.malformed == records_total - good);
        if (action == on_error::dead_letter) CHECK(given.dead.size() == records_total - good);
      }
      // fail: the same message, naming the 23rd record
      auto plain = run(shapes[s], batches, false, on_error::fail);
      auto given = run(shapes[s], batches, true, on_error::fail);
      REQUIRE(plain.error);
      CHECK(given.error == plain.error);
      CHECK(plain.error->rfind("record 23: t: expected the event time in ms", 0) == 0);
    }
  }
}
