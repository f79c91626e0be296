// weir — wall-clock time, integer time arithmetic and the one text form of a
// duration (the way the DSL writes it: 1h, 5m, 2s, 500ms). Every module
// formats durations and reads the wall clock through these.
#pragma once

#include <cstdint>
#include <string>

namespace weir {

/// Milliseconds since the Unix epoch by the system (wall) clock.
/// @thread Thread-safe.
std::int64_t wall_ms() noexcept;

/// a / b rounded toward negative infinity (C++'s `/` rounds toward zero):
/// floor_div(-1, 10) == -1. Window and pane starts of negative event times
/// are floor_div(t, size) * size. `b` must not be 0.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0) && ((a < 0) != (b < 0)) ? q - 1 : q;
}

/// `ms` milliseconds in the largest DSL unit that divides it exactly:
/// "1h", "5m", "2s", "1500ms". Zero is "0ms"; a negative duration keeps its
/// sign ("-2s").
std::string duration_text(std::int64_t ms);

}  // namespace weir
