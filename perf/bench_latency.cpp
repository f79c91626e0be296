// Record-at-a-time latency (docs/architecture.md §8): generator → filter →
// keyed event-time count (update output: one result per record) → sink, in
// record mode. Phase 1 measures the maximum throughput (the generator as fast
// as credit allows); phase 2 runs the generator at half of it and reports the
// end-to-end latency percentiles the runtime measured at the sink (ingestion
// = the source's read of the record; the sink's processing of the result).
//
//   build/perf/weir-bench-latency [--records N] [--seconds S] [--linger MS] [--parallelism P]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "latency_pipeline.hpp"
#include "weir/api/dstream.hpp"

#ifdef WEIR_USE_MIMALLOC
#include <mimalloc-new-delete.h>
#endif

using namespace weir;
using namespace std::chrono_literals;

namespace {

run_stats run(double rate, std::uint64_t count, std::chrono::milliseconds duration,
              std::chrono::milliseconds linger, int parallelism) {
  return perf::run_latency_pipeline(rate, count, duration, linger, parallelism);
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t records = 2'000'000;
  double seconds = 10;
  long linger = 0;
  int parallelism = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--records")) records = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--linger")) linger = std::atol(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--parallelism")) parallelism = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: weir-bench-latency [--records N] [--seconds S] [--linger MS] [--parallelism P]\n");
      return 2;
    }
  }
  auto max = run(0, records, {}, std::chrono::milliseconds(linger), parallelism);
  double max_rate = static_cast<double>(max.source_records) / max.elapsed_s;
  std::printf("phase 1: maximum throughput %.0f records/s (%llu records in %.2f s)\n", max_rate,
              static_cast<unsigned long long>(max.source_records), max.elapsed_s);
  double half = max_rate / 2;
  auto r = run(half, 0, std::chrono::milliseconds(static_cast<long>(seconds * 1000)),
               std::chrono::milliseconds(linger), parallelism);
  double achieved = static_cast<double>(r.source_records) / r.elapsed_s;
  std::printf("phase 2: at half load (%.0f records/s asked, %.0f achieved), record mode, linger %ld ms, "
              "parallelism %d:\n",
              half, achieved, linger, parallelism);
  std::printf("  end-to-end latency over %llu results: p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us\n",
              static_cast<unsigned long long>(r.latency_samples), r.latency_p50_us, r.latency_p99_us,
              r.latency_p999_us, r.latency_max_us);
  std::printf("  targets (docs/architecture.md §8): p50 <= 20 us, p99 <= 1000 us: %s\n",
              r.latency_p50_us <= 20 && r.latency_p99_us <= 1000 ? "met" : "NOT met");
  return 0;
}
