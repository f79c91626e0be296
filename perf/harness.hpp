// weir-perf: the scenario model shared by the scenario files and the runner.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "weir/api/dstream.hpp"

namespace weir::perf {

/// Sizes of a run (the --quick mode shrinks them).
struct sizes {
  bool quick = false;
  std::uint64_t ysb_json = 12'000'000, ysb_binary = 30'000'000;
  std::uint64_t wc_lines = 2'500'000;        ///< generated text, ~8 words per line
  std::uint64_t wc_file_words = 8'000'000;   ///< the data directory's text files, replayed up to this many words
  std::uint64_t nexmark = 3'000'000;
  std::uint64_t ysb_file_events = 4'000'000;  ///< ysb-file: JSON lines (~240 bytes each, ~1 GB)
  std::uint64_t text_file_bytes = 200'000'000;  ///< wordcount-file: 80-column text
  double latency_seconds = 5;
  std::string data_dir;                      ///< the data directory ($WEIR_DATA, or its default)
  std::string cache_dir = "perf-cache";      ///< generated input files, reused between runs
};

/// What one measured run produced.
struct run_result {
  double seconds = 0;            ///< wall time of the processing
  std::uint64_t records = 0;     ///< the unit the scenario counts (events, words)
  std::uint64_t bytes = 0;       ///< input bytes (text length, or binary record size)
  bool has_latency = false;
  double p50_us = 0, p99_us = 0, p999_us = 0;
  std::string error;             ///< non-empty: wrong output (the run fails)
};

/// One way to run a scenario: the hand-written limit (parallelism 0), weir
/// through the DSL ("weir pN", the program `weir run` would run) or a
/// pipeline built by hand with the C++ API ("C++ API pN").
struct variant {
  std::string name;  ///< "limit", "weir p1", "weir p2", "C++ API p1", "C++ API p2"
  int parallelism = 1;
  std::function<run_result()> run;
};

struct scenario {
  std::string name;   ///< "ysb-json"
  std::string unit;   ///< "events", "words"
  std::string what;   ///< one line for the report
  std::function<void()> prepare;  ///< builds inputs and references (in the child process, untimed)
  std::vector<variant> variants;
};

std::vector<scenario> ysb_scenarios(const sizes& s);
std::vector<scenario> wordcount_scenarios(const sizes& s);
std::vector<scenario> nexmark_scenarios(const sizes& s);
std::vector<scenario> latency_scenarios(const sizes& s);
/// The scenarios run through the DSL (perf/dsl.cpp): ysb-file, wordcount-file, latency-dsl.
std::vector<scenario> dsl_scenarios(const sizes& s);

/// run_result from a run's statistics (latency at the sinks).
void take_latency(run_result& r, const run_stats& st);

}  // namespace weir::perf
