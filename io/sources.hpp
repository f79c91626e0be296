// weir — built-in receivers: file, stdin and the web-access-log generator.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "weir/io/source.hpp"

namespace weir::io {

/// Lines of a text file, without the line terminator ("\n" or "\r\n").
/// Bytes are passed through unchanged (invalid UTF-8 is kept as is). Lines
/// longer than `max_line_bytes` are an error naming file:line.
/// Spark: `ssc.textFileStream` for one file / `sc.textFile`.
/// @errors open() throws pipeline_error when the file cannot be opened.
source_ptr make_file_source(std::string path, std::size_t max_line_bytes = 64u << 20);

/// Lines of standard input (non-blocking: returns idle while no data is ready).
source_ptr make_stdin_source(std::size_t max_line_bytes = 64u << 20);

/// Spark-style deterministic replay: a JSON-lines file, one line = one batch's
/// elements (a JSON array); batch k ends at time (k+1)·B on a logical clock
/// (as fast as possible); after the last line, empty batches until `total`
/// batches have run (total <= 0: as many as lines).
/// @errors open() throws pipeline_error naming the file and the line for a
///         missing file, malformed JSON or a line that is not an array.
source_ptr make_batches_source(std::string path, std::int64_t total);

/// A realistic web-access-log event generator (the main job's default input).
/// Records are objects: {"time": ms since epoch (int), "ip": string,
/// "method": string, "path": string, "status": int, "bytes": int,
/// "agent": string}. Paths are Zipf-distributed; status codes follow a
/// 200/304/404/500 mix with occasional bursts of 5xx; deterministic for a seed.
struct access_log_options {
  std::uint64_t seed = 42;
  double rate = 0;                         ///< records/s; 0 = as fast as credit allows
  std::uint64_t count = 0;                 ///< stop after this many records; 0 = no limit
  std::chrono::milliseconds duration{0};   ///< stop after this long; 0 = no limit
  std::size_t paths = 1000;                ///< number of distinct URL paths
  double zipf_s = 1.1;                     ///< Zipf exponent of path popularity
  std::int64_t start_time_ms = 1'700'000'000'000;  ///< event time of the first record
};
source_ptr make_access_log_generator(const access_log_options& opts);

}  // namespace weir::io
