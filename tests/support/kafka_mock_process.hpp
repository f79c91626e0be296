// Test helper: librdkafka's mock cluster in its own process (weir-kafka-mock,
// tests/support/kafka_mock_main.cpp), so that a test can SIGKILL and restart
// weir without taking the broker with it. The includer defines
// WEIR_KAFKA_MOCK (the path of weir-kafka-mock). Same protocol as the class in
// tests/io/kafka_test.cpp: the first stdout line of the helper is the
// bootstrap servers; closing its stdin stops it.
#pragma once

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

extern char** environ;

namespace weir::test {

/// The mock cluster process: started with `args` (see kafka_mock_main.cpp),
/// stopped (stdin closed, then SIGKILL after 10 s) by the destructor.
/// @thread Not thread-safe.
class kafka_mock_process {
public:
  explicit kafka_mock_process(const std::vector<std::string>& args) {
    int in[2], out[2];
    REQUIRE(pipe(in) == 0);
    REQUIRE(pipe(out) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    std::vector<std::string> argv_s = {WEIR_KAFKA_MOCK};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, WEIR_KAFKA_MOCK, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    REQUIRE(rc == 0);
    // The first stdout line: the bootstrap servers (after the data is produced).
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    char c;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out[0], POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::read(out[0], &c, 1);
      if (n <= 0) break;
      if (c == '\n') break;
      line += c;
    }
    ::close(out[0]);
    brokers = line;
    REQUIRE_FALSE(brokers.empty());
  }
  ~kafka_mock_process() {
    ::close(stdin_);
    int status = 0;
    for (int i = 0; i < 1000; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
  kafka_mock_process(const kafka_mock_process&) = delete;
  kafka_mock_process& operator=(const kafka_mock_process&) = delete;

  std::string brokers;  ///< "127.0.0.1:port,..."

private:
  pid_t pid_ = -1;
  int stdin_ = -1;
};

}  // namespace weir::test
