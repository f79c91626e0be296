// weir-perf: the hand-written limits' word counting, shared by the
// wordcount scenarios (wordcount.cpp: per 10 s pane) and wordcount-file
// (dsl.cpp: over a whole file): splitting a line on spaces and an
// open-addressing word → count table (xxh3, linear probing, load <= 1/2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <xxhash.h>

namespace weir::perf {

/// Calls f(word) for each non-empty run of non-space characters of `s`
/// (only ' ' separates words).
template <class F>
void split_words(std::string_view s, F&& f) {
  std::size_t pos = 0;
  while (pos < s.size()) {
    auto sp = s.find(' ', pos);
    if (sp == std::string_view::npos) sp = s.size();
    if (sp > pos) f(s.substr(pos, sp - pos));
    pos = sp + 1;
  }
}

/// Word → count. The words are string_views: they must outlive the table,
/// or be copied by the `keep` of add(w, by, keep). Not thread-safe.
class word_table {
public:
  /// `capacity`: the initial number of slots, a power of two.
  explicit word_table(std::size_t capacity = 1 << 13) : slots_(capacity), mask_(capacity - 1) {}

  /// Adds `by` to w's count; a new word is stored as w itself.
  void add(std::string_view w, std::int64_t by = 1) {
    add(w, by, [](std::string_view k) { return k; });
  }

  /// Adds `by` to w's count; a new word is stored as keep(w).
  template <class Keep>
  void add(std::string_view w, std::int64_t by, Keep&& keep) {
    if ((n_ + 1) * 2 > slots_.size()) grow();
    const std::uint64_t h = XXH3_64bits(w.data(), w.size());
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      slot& s = slots_[i];
      if (s.n == 0) {
        s = {h, keep(w), by};
        ++n_;
        return;
      }
      if (s.h == h && s.w == w) {
        s.n += by;
        return;
      }
    }
  }

  /// f(word, count) for each word, in slot order.
  template <class F>
  void for_each(F&& f) const {
    for (auto& s : slots_)
      if (s.n) f(s.w, s.n);
  }

private:
  struct slot {
    std::uint64_t h = 0;
    std::string_view w;
    std::int64_t n = 0;
  };
  void grow() {
    auto old = std::move(slots_);
    slots_.assign(old.size() * 2, slot{});
    mask_ = slots_.size() - 1;
    for (auto& s : old)
      if (s.n)
        for (std::size_t i = s.h & mask_;; i = (i + 1) & mask_)
          if (slots_[i].n == 0) {
            slots_[i] = s;
            break;
          }
  }
  std::vector<slot> slots_;
  std::size_t mask_, n_ = 0;
};

}  // namespace weir::perf
