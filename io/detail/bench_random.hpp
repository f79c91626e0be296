// Counter-based randomness and wall-clock pacing for the benchmark
// generators (io/bench_generators.hpp). Internal.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>

#include "weir/common/hash.hpp"
#include "weir/io/source.hpp"

namespace weir::io::detail {

/// A splitmix64 stream seeded by (seed, event index): event i's random draws.
class event_rng {
public:
  event_rng(std::uint64_t seed, std::uint64_t i) noexcept : x_(mix64(seed * golden_gamma + i)) {}
  std::uint64_t next() noexcept { return splitmix64(x_); }
  /// Uniform in [0, n), n > 0 (Lemire's multiply-shift; no modulo bias worth noting).
  std::uint64_t below(std::uint64_t n) noexcept {
    __extension__ using u128 = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<u128>(next()) * n) >> 64);
  }
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
  std::uint64_t x_;
};

/// Paces a source at `rate` records/s of wall-clock time (0 = unpaced).
class pacer {
public:
  void start(double rate) {
    rate_ = rate;
    t0_ = std::chrono::steady_clock::now();
  }
  /// Continues pacing after a checkpoint restore: as if `emitted` records
  /// had been emitted on schedule up to now.
  void resume(double rate, std::uint64_t emitted) {
    start(rate);
    if (rate > 0)
      t0_ -= std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(static_cast<double>(emitted) / rate));
  }
  /// How many records may be emitted now given `emitted` so far (at most max).
  std::size_t allowance(std::uint64_t emitted, std::size_t max, read_result& idle) const {
    if (rate_ <= 0) return max;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    double due = std::floor(s * rate_) + 1;
    if (due <= static_cast<double>(emitted)) {
      idle.st = read_result::status::idle;
      idle.retry_after = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / rate_) + 1);
      return 0;
    }
    double n = due - static_cast<double>(emitted);
    return n < static_cast<double>(max) ? static_cast<std::size_t>(n) : max;
  }

private:
  double rate_ = 0;
  std::chrono::steady_clock::time_point t0_;
};

/// Validates partitioning and rates (pipeline_error naming the generator).
inline void check_partitioning(const std::string& what, int partition, int partitions, double rate,
                               double events_per_second) {
  if (partitions < 1) throw pipeline_error(what + ": partitions must be >= 1, got " + std::to_string(partitions));
  if (partition < 0 || partition >= partitions)
    throw pipeline_error(what + ": partition " + std::to_string(partition) + " is outside 0.." +
                         std::to_string(partitions - 1));
  if (!(rate >= 0) || !std::isfinite(rate)) throw pipeline_error(what + ": rate must be a finite number >= 0");
  if (!(events_per_second > 0) || !std::isfinite(events_per_second))
    throw pipeline_error(what + ": events_per_second must be a finite number > 0");
}

}  // namespace weir::io::detail
