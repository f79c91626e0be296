// weir — the end-to-end latency histogram of a run's sink records: log-linear
// buckets as in HdrHistogram, filled by the sink tasks and merged by the job.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace weir::actors {

/// End-to-end latency samples (ns), log-linear buckets: 32 sub-buckets per
/// power of two (about 3 % resolution), as in HdrHistogram.
class latency_histogram {
public:
  void add(std::int64_t ns, std::uint64_t count) {
    if (ns < 0) ns = 0;
    counts_[index(static_cast<std::uint64_t>(ns))] += count;
    total_ += count;
  }
  void merge(const latency_histogram& o) {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
  }
  std::uint64_t total() const { return total_; }
  /// The q-quantile (0..1) in ns: the upper bound of the bucket holding it.
  double quantile(double q) const {
    if (total_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return static_cast<double>(upper(i));
    }
    return static_cast<double>(upper(counts_.size() - 1));
  }

private:
  static constexpr int sub_bits = 5;
  static std::size_t index(std::uint64_t v) {
    if (v < (1u << sub_bits)) return static_cast<std::size_t>(v);
    int msb = 63 - __builtin_clzll(v);
    std::uint64_t sub = (v >> (msb - sub_bits)) & ((1u << sub_bits) - 1);
    return static_cast<std::size_t>(((msb - sub_bits + 1) << sub_bits) + sub);
  }
  static std::uint64_t upper(std::size_t i) {
    if (i < (1u << sub_bits)) return i;
    std::size_t e = (i >> sub_bits) - 1 + sub_bits, sub = i & ((1u << sub_bits) - 1);
    return ((std::uint64_t{1} << e) | (static_cast<std::uint64_t>(sub) << (e - sub_bits))) +
           (std::uint64_t{1} << (e - sub_bits)) - 1;
  }
  std::array<std::uint64_t, (64 - sub_bits + 1) << sub_bits> counts_{};
  std::uint64_t total_ = 0;
};

}  // namespace weir::actors
