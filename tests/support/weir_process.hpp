// Test helper: run the `weir` executable and capture its exit code and output.
#pragma once

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "support/test_data.hpp"

extern char** environ;

namespace weir::test {

namespace fs = std::filesystem;

struct result {
  int exit_code = -1;
  std::string out, err;
};

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

/// Starts the weir binary with `args`; stdout/stderr go to files in `dir`.
inline pid_t spawn_weir(const std::vector<std::string>& args, const fs::path& dir,
                 const std::optional<fs::path>& stdin_file = std::nullopt) {
  std::string bin = weir_binary();
  std::vector<std::string> argv_s = {bin};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  std::string in = stdin_file ? stdin_file->string() : "/dev/null";
  std::string out = (dir / "stdout.txt").string(), err = (dir / "stderr.txt").string();
  posix_spawn_file_actions_addopen(&fa, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  return pid;
}

/// Waits for `pid` up to `timeout`; kills it (and fails the test) after that.
inline int wait_exit(pid_t pid, std::chrono::seconds timeout = std::chrono::seconds(60)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      FAIL("weir did not exit in time");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

inline result run_weir(const std::vector<std::string>& args, const fs::path& dir,
                const std::optional<fs::path>& stdin_file = std::nullopt) {
  result r;
  r.exit_code = wait_exit(spawn_weir(args, dir, stdin_file));
  r.out = slurp(dir / "stdout.txt");
  r.err = slurp(dir / "stderr.txt");
  return r;
}

// --- crash tests: environment, polling, SIGKILL -------------------

/// Like spawn_weir, with `env_extra` ("NAME=value") added to the environment
/// (WEIR_CRASH_AT is never inherited: it is set only when `env_extra` names
/// it) and stdout/stderr in dir/TAG.stdout.txt and dir/TAG.stderr.txt. Runs
/// `bin`, by default `weir-testing` (weir with the test hooks).
inline pid_t spawn_weir_env(const std::vector<std::string>& args, const fs::path& dir,
                            const std::vector<std::string>& env_extra, const std::string& tag,
                            std::string bin = weir_testing_binary()) {
  std::vector<std::string> argv_s = {bin};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    if (kv.rfind("WEIR_CRASH_AT=", 0) == 0) continue;
    bool overridden = false;
    for (auto& x : env_extra) {
      auto eq = x.find('=');
      if (eq != std::string::npos && kv.substr(0, eq + 1) == std::string_view(x).substr(0, eq + 1)) overridden = true;
    }
    if (!overridden) env_s.emplace_back(kv);
  }
  env_s.insert(env_s.end(), env_extra.begin(), env_extra.end());
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  std::string out = (dir / (tag + ".stdout.txt")).string(), err = (dir / (tag + ".stderr.txt")).string();
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  return pid;
}

/// Exit code of a waitpid status: the code, or 128 + signal number.
inline int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

/// Waits up to `d` for `pid`: its exit code (128 + signal) if it ended, else nullopt
/// (the process still runs).
inline std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds d) {
  auto deadline = std::chrono::steady_clock::now() + d;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return exit_code_of(status);
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

/// SIGKILLs `pid` and reaps it; returns its exit code (137 when the kill ended
/// it, its own code when it had already exited).
inline int kill_weir(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return exit_code_of(status);
}

}  // namespace weir::test
