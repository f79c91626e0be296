// weir — "did you mean" (suggest.hpp): edit distance and the nearest name.
#include "weir/cli/suggest.hpp"

#include <algorithm>
#include <vector>

namespace weir::dsl {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
  for (std::size_t j = 0; j <= m; ++j) prev[j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= m; ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

std::size_t edit_distance_within(std::string_view a, std::string_view b, std::size_t k) {
  const std::size_t n = a.size(), m = b.size();
  // the distance is at least the difference of the lengths
  if ((n > m ? n - m : m - n) > k) return k + 1;
  // only cells within k of the diagonal can hold a distance <= k: O(n * k)
  const std::size_t inf = k + 1;
  std::vector<std::size_t> prev2(m + 1, inf), prev(m + 1, inf), cur(m + 1, inf);
  for (std::size_t j = 0; j <= std::min(m, k); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    const std::size_t lo = i > k ? i - k : 0, hi = std::min(m, i + k);
    // cells right of the band were never written (inf); the one left of it
    // is the only stale cell read
    if (lo == 0) cur[0] = i;
    else cur[lo - 1] = inf;
    std::size_t row_min = lo == 0 ? cur[0] : inf;
    for (std::size_t j = std::max<std::size_t>(lo, 1); j <= hi; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      std::size_t d = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d = std::min(d, prev2[j - 2] + 1);
      cur[j] = std::min(d, inf);
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min > k) return k + 1;  // every later row is at least as far
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return std::min(prev[m], inf);
}

std::optional<std::string> closest_name(std::string_view name,
                                        std::span<const std::string> candidates) {
  std::size_t limit = name.size() <= 4 ? 1 : name.size() <= 8 ? 2 : 3;
  std::optional<std::string> best;
  std::size_t best_d = limit + 1;
  for (auto& c : candidates) {
    if (c == name) continue;
    // bounded: a long name costs O(length) per candidate, not O(length^2)
    std::size_t d = edit_distance_within(name, c, best_d - 1);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view name, std::span<const std::string> candidates) {
  if (auto c = closest_name(name, candidates)) return " (did you mean '" + *c + "'?)";
  return {};
}

}  // namespace weir::dsl
