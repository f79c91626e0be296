// weir — what the libFuzzer targets share: splitting the input into lines
// (the records a line source would deliver) and a policy that counts bad
// records instead of failing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "weir/operators/error_policy.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir::fuzz {

/// The lines of `data` ("\n" ends a line, a trailing "\r" is kept) as string records.
inline records lines(std::string_view data) {
  records out;
  std::size_t b = 0;
  while (b <= data.size()) {
    std::size_t nl = data.find('\n', b);
    if (nl == std::string_view::npos) nl = data.size();
    out.emplace_back(data.substr(b, nl - b));
    b = nl + 1;
  }
  return out;
}

/// `dead_letter` into a counter: every bad record is counted, none stops the run.
inline error_policy counting(std::shared_ptr<std::uint64_t> n) {
  error_policy p;
  p.action = on_error::dead_letter;
  p.dead_letter = [n = std::move(n)](const bad_record& r) {
    ++*n;
    // the record's parts must be readable (ASan checks the bytes)
    volatile std::size_t sink = r.raw.size() + r.reason.size() + r.provenance.size();
    (void)sink;
  };
  return p;
}

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace weir::fuzz
