// job::metrics(): the live per-task counters the metrics endpoint and the
// progress line read.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "weir/api/dstream.hpp"

using namespace weir;

TEST_CASE("task metrics count the records of a bounded run", "[actors][metrics]") {
  context_options o;
  o.parallelism = 2;
  streaming_context ctx(o);
  io::access_log_options g;
  g.count = 50'000;
  CHECK(ctx.metrics().empty());  // before start
  ctx.access_log(g)
      .filter([](const value& v) { return v.find("status")->as_int() == 200; })
      .map([](const value& v) { return value::pair(*v.find("path"), value(1)); })
      .reduce_by_key(reducer::sum())
      .for_each_batch([](std::int64_t, records&) {});
  ctx.start();
  auto stats = ctx.await_termination();
  auto m = ctx.metrics();
  // stages: source chain x1, reduce_by_key x2, sink x1
  REQUIRE(m.size() == 4);
  CHECK(m[0].source);
  CHECK(m[0].records_in == 50'000);
  std::uint64_t filtered = m[0].records_out;
  CHECK(filtered > 0);
  CHECK(filtered < 50'000);
  CHECK(m[1].records_in + m[2].records_in == filtered);  // both reduce instances together
  CHECK(m[1].parallelism == 2);
  CHECK(m[1].queue_capacity == o.edge_capacity);         // one input channel each
  CHECK(m[3].sink);
  CHECK(m[3].sink_records == stats.sink_records);
  CHECK(m[3].records_in == m[1].records_out + m[2].records_out);
  for (auto& t : m) {
    CHECK(t.done);
    CHECK(t.queue_depth == 0);
  }
}

TEST_CASE("stop(false) ends an unbounded run at once without an error", "[actors]") {
  streaming_context ctx;
  io::access_log_options g;  // unbounded, as fast as credit allows
  auto seen = std::make_shared<std::atomic<std::uint64_t>>(0);
  ctx.access_log(g).for_each_batch([seen](std::int64_t, records& b) { *seen += b.size(); });
  ctx.start();
  while (ctx.metrics().empty() || ctx.metrics()[0].records_in < 10'000) std::this_thread::yield();
  auto t0 = std::chrono::steady_clock::now();
  ctx.stop(false);
  CHECK_NOTHROW(ctx.await_termination());
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
}
