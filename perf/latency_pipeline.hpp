// The record-mode latency pipeline shared by weir-bench-latency and
// weir-perf's latency scenario: access-log generator → filter → watermark →
// keyed event-time count (update output: one result per record) → a sink that
// drops what it gets (the runtime counts and times it).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "weir/api/dstream.hpp"

namespace weir::perf {

class null_sink final : public stream_operator {
public:
  void process(const process_context&, records& in, records&) override { in.clear(); }
};

/// One run in record mode; rate 0 = as fast as credit allows; count and
/// duration 0 = unbounded (give one of them).
inline run_stats run_latency_pipeline(double rate, std::uint64_t count, std::chrono::milliseconds duration,
                                      std::chrono::milliseconds linger, int parallelism) {
  using namespace std::chrono_literals;
  context_options o;
  o.mode = execution_mode::record;
  o.linger = linger;
  o.parallelism = parallelism;
  streaming_context ctx(o);
  io::access_log_options g;
  g.rate = rate;
  g.count = count;
  g.duration = duration;
  watermark_options wm;
  wm.time = [](const value& v) { return *v.find("time"); };
  wm.delay = 1000ms;
  event_window_options w;
  w.window = window_spec::tumbling(1000ms);
  w.agg = aggregation::count();
  w.time = wm.time;
  w.output = output_mode::update;
  ctx.access_log(g)
      .filter([](const value& v) { return v.find("status")->as_int() != 404; })
      .with_watermark(wm)
      .aggregate(w, [](const value& v) { return *v.find("path"); })
      .sink("null", [] { return std::make_unique<null_sink>(); });
  return ctx.run();
}

}  // namespace weir::perf
