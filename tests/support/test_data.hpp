// Test helpers: where the shared data sets and the weir binary are.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <unistd.h>

namespace weir::test {

/// ../shared/data (beside the repo), or $WEIR_DATA; nullopt when absent.
inline std::optional<std::filesystem::path> data_dir() {
  std::filesystem::path p;
  if (const char* env = std::getenv("WEIR_DATA"); env && *env)
    p = env;
  else
    p = WEIR_DEFAULT_DATA_DIR;
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) return std::filesystem::canonical(p);
  return std::nullopt;
}

/// A file of the shared data sets, or nullopt (the caller SKIPs with a message).
inline std::optional<std::filesystem::path> data_file(const std::string& rel) {
  auto d = data_dir();
  if (!d) return std::nullopt;
  auto p = *d / rel;
  if (!std::filesystem::exists(p)) return std::nullopt;
  return p;
}

/// Path of the built `weir` executable.
inline std::string weir_binary() {
  if (const char* env = std::getenv("WEIR_BINARY"); env && *env) return env;
  return WEIR_BINARY;
}

/// Path of the built `weir-testing` executable: `weir` with the test hooks
/// (tests/support/test_hooks.cpp: WEIR_CRASH_AT, WEIR_CHECKPOINT_QUOTA_BYTES).
inline std::string weir_testing_binary() {
  if (const char* env = std::getenv("WEIR_TESTING_BINARY"); env && *env) return env;
  return WEIR_TESTING_BINARY;
}

/// A fresh empty temporary directory, removed by the destructor.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    auto base = std::filesystem::temp_directory_path();
    for (int i = 0;; ++i) {
      path = base / ("weir-test-" + std::to_string(::getpid()) + "-" + std::to_string(i));
      std::error_code ec;
      if (std::filesystem::create_directory(path, ec)) break;
    }
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

}  // namespace weir::test

