// Runs the rest of a scope — and the processes it spawns — in another
// working directory (e.g. the repository root, where the shipped examples'
// relative paths resolve).
#pragma once

#include <filesystem>

namespace weir::test {

struct cwd_guard {
  std::filesystem::path old;
  explicit cwd_guard(const std::filesystem::path& dir) : old(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  ~cwd_guard() { std::filesystem::current_path(old); }
  cwd_guard(const cwd_guard&) = delete;
  cwd_guard& operator=(const cwd_guard&) = delete;
};

}  // namespace weir::test
