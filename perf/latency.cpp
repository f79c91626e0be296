// Record-at-a-time latency (docs/architecture.md §8), the pipeline of bench_latency.cpp:
// access-log generator → filter → watermark → keyed event-time count
// (update output: one result per record) → sink, in record mode, linger 0.
// First the maximum throughput (as fast as credit allows), then a run at half
// of it; the latency percentiles are the runtime's, measured at the sink.
#include "harness.hpp"
#include "latency_pipeline.hpp"

namespace weir::perf {
namespace {

using namespace std::chrono_literals;

run_stats run(double rate, std::uint64_t count, std::chrono::milliseconds duration, int parallelism) {
  return run_latency_pipeline(rate, count, duration, 0ms, parallelism);
}

run_result measure(int parallelism, double seconds) {
  auto max = run(0, 1'000'000, {}, parallelism);
  double half = static_cast<double>(max.source_records) / max.elapsed_s / 2;
  auto st = run(half, 0, std::chrono::milliseconds(static_cast<long>(seconds * 1000)), parallelism);
  run_result r;
  r.seconds = st.elapsed_s;
  r.records = st.source_records;
  take_latency(r, st);
  if (st.latency_samples == 0) r.error = "no latency samples at the sink";
  if (st.sink_records == 0) r.error = "the sink saw no records";
  return r;
}

}  // namespace

std::vector<scenario> latency_scenarios(const sizes& s) {
  scenario sc;
  sc.name = "latency-record";
  sc.unit = "events";
  sc.what = "record mode, linger 0, at half of the maximum throughput: access_log -> filter -> watermark -> keyed count (update) -> sink";
  double secs = s.latency_seconds;
  sc.prepare = [] {};
  for (int p : {1, 2}) sc.variants.push_back({"C++ API p" + std::to_string(p), p, [p, secs] { return measure(p, secs); }});
  return {sc};
}

}  // namespace weir::perf
