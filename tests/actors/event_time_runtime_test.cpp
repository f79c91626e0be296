// The runtime's event-time services: watermarks across a union (minimum over
// inputs), the idle timeout, processing-time timers in record mode.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>

#include "weir/api/dstream.hpp"

using namespace weir;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

/// Records {"t": 10·i} at one record per ms of wall time, until stopped.
class ticking_source final : public io::source_reader {
public:
  void open() override { start_ = steady::now(); }
  io::read_result read(records& out, std::size_t max) override {
    auto due = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start_).count());
    while (i_ < due && out.size() < max) out.push_back(value::object({{value("t"), value(std::int64_t(10 * i_++))}}));
    return {io::read_result::status::idle, 1ms};
  }
  std::string describe() const override { return "ticking"; }

private:
  steady::time_point start_;
  std::uint64_t i_ = 0;
};

/// One record {"t": 0}, then nothing (idle) until stopped.
class quiet_source final : public io::source_reader {
public:
  io::read_result read(records& out, std::size_t) override {
    if (!sent_) out.push_back(value::object({{value("t"), value(0)}}));
    sent_ = true;
    return {io::read_result::status::idle, 5ms};
  }
  std::string describe() const override { return "quiet"; }

private:
  bool sent_ = false;
};

class collecting_sink final : public stream_operator {
public:
  explicit collecting_sink(std::shared_ptr<std::atomic<int>> n) : n_(std::move(n)) {}
  void process(const process_context&, records& in, records&) override {
    *n_ += static_cast<int>(in.size());
    in.clear();
  }

private:
  std::shared_ptr<std::atomic<int>> n_;
};

extract_fn field_t() {
  return [](const value& v) { return *v.find("t"); };
}

/// Results that reached the sink within 1.5 s, before the sources are stopped.
int results_while_running(std::chrono::milliseconds idle_timeout) {
  context_options o;
  o.mode = execution_mode::record;
  o.parallelism = 1;
  streaming_context ctx(o);
  watermark_options wm;
  wm.time = field_t();
  auto a = ctx.source("ticking", [] { return std::make_unique<ticking_source>(); }).with_watermark(wm);
  wm.idle_timeout = idle_timeout;
  auto b = ctx.source("quiet", [] { return std::make_unique<quiet_source>(); }).with_watermark(wm);
  event_window_options w;
  w.window = window_spec::tumbling(100ms);
  w.agg = aggregation::count();
  w.time = field_t();
  auto n = std::make_shared<std::atomic<int>>(0);
  a.union_with({b}).aggregate(w).sink("collect", [n] { return std::make_unique<collecting_sink>(n); });
  ctx.start();
  std::this_thread::sleep_for(1500ms);
  int seen = n->load();
  ctx.stop();
  ctx.await_termination();
  CHECK(n->load() > seen);  // the final watermark fires the rest at the end
  return seen;
}

}  // namespace

TEST_CASE("a quiet input holds the watermark back until its idle timeout", "[actors][event_time]") {
  // the union's watermark is the minimum over its inputs: the quiet source,
  // stuck at t = 0, keeps every window open while it is not idle
  CHECK(results_while_running(0ms) == 0);
  // idle after 200 ms: the ticking source alone drives the watermark
  CHECK(results_while_running(200ms) > 5);
}

TEST_CASE("processing-time windows fire by timers in record mode", "[actors][event_time]") {
  context_options o;
  o.mode = execution_mode::record;
  streaming_context ctx(o);
  event_window_options w;  // no time: processing time
  w.window = window_spec::tumbling(200ms);
  w.agg = aggregation::count();
  auto n = std::make_shared<std::atomic<int>>(0);
  ctx.source("ticking", [] { return std::make_unique<ticking_source>(); })
      .aggregate(w)
      .sink("collect", [n] { return std::make_unique<collecting_sink>(n); });
  ctx.start();
  std::this_thread::sleep_for(1100ms);
  int seen = n->load();
  ctx.stop();
  ctx.await_termination();
  // windows of 200 ms closed while running: 4 to 6 of them within 1.1 s
  CHECK(seen >= 3);
  CHECK(seen <= 6);
}
