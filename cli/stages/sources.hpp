// weir — DSL sources: file, stdin, generate, batches and the receivers dir,
// socket, listen and receiver (Kafka is in kafka.hpp). Each starts a
// pipeline; all take `time = expr, watermark = d, idle_timeout = d`
// (stage_spec::event_time).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "weir/cli/stage_registry.hpp"
#include "weir/io/sources.hpp"

namespace weir::dsl {

/// file(path), batches(path, total = 0): ctx.text_file, ctx.batches.
struct file_stage final : bound_stage {
  std::string path;
  std::int64_t total = 0;  ///< batches: number of batches (0 = as many as lines)
  std::int64_t partitions = 1;  ///< batches: partitions of each batch
  std::int64_t parallelism = 0;  ///< file: source instances (0 = the job's parallelism)
};

/// generate("access_log" | "ysb" | "nexmark", rate, count, duration, seed, paths, zipf).
struct generate_stage final : bound_stage {
  std::string kind = "access_log";
  io::access_log_options options;  ///< ysb and nexmark take rate, count and seed from here
  std::int64_t parallelism = 0;  ///< ysb, nexmark: source instances (0 = the job's parallelism)
};

/// dir(path, ...), socket(address, ...), listen(address, ...): `address` is
/// the directory or the host:port.
struct receiver_options_stage final : bound_stage {
  std::string address;
  io::dir_options dir;
  io::socket_options socket;
  io::listen_options listen;
  std::int64_t parallelism = 0;  ///< dir: source instances (0 = the job's parallelism)
};

/// receiver("name", args...): a receiver registered from C++ (io/receiver.hpp).
struct custom_receiver_stage final : bound_stage {
  std::string name;
  std::vector<value> args;
};

std::span<const stage_def> source_stages();

}  // namespace weir::dsl
