// weir — the hash and checksum functions weir shares between modules: xxh3-64
// (checkpoint files, state checksums), FNV-1a 64 (sealed source and operator
// state) and the splitmix64 mix (seeded generators). Record keys are hashed
// by value::hash (operators/value.hpp), which inlines its own xxh3.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

namespace weir {

/// XXH3 64-bit of `bytes`, seed 0 (the checksum of the checkpoint format,
/// docs/architecture.md §6).
std::uint64_t xxh3_64(std::string_view bytes) noexcept;

/// XXH3 64-bit over several pieces, as if they were one byte string:
/// the same value as xxh3_64 of their concatenation.
/// @thread Not thread-safe; one per computation.
class xxh3_64_stream {
public:
  /// @errors std::bad_alloc when the hash state cannot be allocated.
  xxh3_64_stream();
  ~xxh3_64_stream();
  xxh3_64_stream(const xxh3_64_stream&) = delete;
  xxh3_64_stream& operator=(const xxh3_64_stream&) = delete;
  void update(std::string_view bytes) noexcept;
  /// The hash of everything updated since construction or reset().
  std::uint64_t digest() const noexcept;
  /// Starts over (an empty input).
  void reset() noexcept;

private:
  struct state;
  std::unique_ptr<state> s_;
};

/// FNV-1a 64 of `bytes`. Every step is a bijection of the hash state, so any
/// change of a single byte changes the result.
constexpr std::uint64_t fnv1a64(std::string_view bytes) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// splitmix64's finalizer: a bijective 64-bit mix (Steele, Lea and Flood 2014).
constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// The golden-ratio increment of splitmix64.
inline constexpr std::uint64_t golden_gamma = 0x9e3779b97f4a7c15ULL;

/// One step of splitmix64: advances `state` and returns the next number.
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept { return mix64(state += golden_gamma); }

}  // namespace weir
