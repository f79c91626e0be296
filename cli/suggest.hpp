// weir — "did you mean ...?" suggestions for misspelt names.
// @thread Pure functions; safe from any thread.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace weir::dsl {

/// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// edit_distance(a, b) if it is at most `k`, else k + 1; O(min(|a|, |b|) * k)
/// time (only the band of the table within k of its diagonal is computed).
std::size_t edit_distance_within(std::string_view a, std::string_view b, std::size_t k);

/// The candidate nearest to `name` by edit distance, if it is near enough
/// (at most 1 edit for names up to 4 characters, 2 up to 8, else 3).
/// Ties go to the earlier candidate. Linear in the length of `name`.
std::optional<std::string> closest_name(std::string_view name, std::span<const std::string> candidates);

/// " (did you mean 'x'?)" or "".
std::string did_you_mean(std::string_view name, std::span<const std::string> candidates);

}  // namespace weir::dsl
