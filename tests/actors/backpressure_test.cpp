// Backpressure: the generator at full speed into a deliberately slow sink.
// Nothing may be dropped and memory must not grow with the run length.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <thread>

#include "weir/api/dstream.hpp"

using namespace weir;
using namespace std::chrono_literals;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// Sanitizer allocators keep freed memory in quarantine (RSS grows regardless)
// and slow the source down: the memory and blocking bounds only hold without them.
constexpr bool instrumented = true;
#else
constexpr bool instrumented = false;
#endif

namespace {

/// Resident set size of this process, bytes (from /proc/self/statm).
std::size_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  std::size_t pages_total = 0, pages_resident = 0;
  f >> pages_total >> pages_resident;
  return pages_resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

struct probe {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::uint64_t records = 0;
  std::size_t rss_at_2s = 0;
  std::size_t rss_max_after_2s = 0;
  std::size_t rss_last = 0;
};

/// A sink that takes 20 ms per wire batch (≈ 50 k records/s at 1,024 records per batch).
class slow_sink final : public stream_operator {
public:
  explicit slow_sink(probe& p) : p_(p) {}
  void process(const process_context&, records& in, records&) override {
    std::this_thread::sleep_for(20ms);
    p_.records += in.size();
    auto elapsed = std::chrono::steady_clock::now() - p_.start;
    if (elapsed >= 2s) {
      std::size_t rss = rss_bytes();
      if (p_.rss_at_2s == 0) p_.rss_at_2s = rss;
      p_.rss_max_after_2s = std::max(p_.rss_max_after_2s, rss);
      p_.rss_last = rss;
    }
  }

private:
  probe& p_;
};

/// Passes records through; used keyed so that records cross two credit-based
/// edges (hash, then gather) on their way to the sink.
class pass_through final : public stream_operator {
public:
  void process(const process_context&, records& in, records& out) override {
    for (auto& r : in) out.push_back(std::move(r));
  }
};

}  // namespace

TEST_CASE("a slow sink slows the source down without loss and memory stays flat",
          "[actors][backpressure][slow]") {
  context_options o;
  o.parallelism = 2;
  streaming_context ssc(o);
  io::access_log_options g;
  g.rate = 0;             // as fast as credit allows
  g.duration = 11s;       // then end of stream
  probe p;
  ssc.access_log(g)
      .map([](const value& v) { return value::pair(*v.find("path"), *v.find("bytes")); })
      .transform("pass_through", [] { return std::make_unique<pass_through>(); },
                 dstream::routing::keyed)
      .sink("slow_sink", [&] { return std::make_unique<slow_sink>(p); });
  auto stats = ssc.run();

  INFO("records " << stats.source_records << ", rss at 2 s " << p.rss_at_2s / 1024
                  << " KiB, max after " << p.rss_max_after_2s / 1024 << " KiB, at end "
                  << p.rss_last / 1024 << " KiB, source blocked " << stats.source_backpressure_s << " s");
  CHECK(stats.elapsed_s >= 10.0);
  CHECK(stats.source_records > 100000);
  CHECK(p.records == stats.source_records);      // records in = records out
  CHECK(stats.sink_records == stats.source_records);
  CHECK(stats.source_backpressure_s > 0.5);      // the source really waited for credit
  if (instrumented) return;
  CHECK(stats.source_backpressure_s > 5.0);
  REQUIRE(p.rss_at_2s > 0);
  CHECK(p.rss_last < p.rss_at_2s + 4 * 1024 * 1024);          // within a few MB at the end
  CHECK(p.rss_max_after_2s < p.rss_at_2s + 8 * 1024 * 1024);  // and never far above
}
