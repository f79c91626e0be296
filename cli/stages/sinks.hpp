// weir — the DSL's own sinks: print, write_jsonl, collect (the file and
// console sinks of io/sinks.hpp are in formats.hpp, kafka_out in kafka.hpp).
// A sink ends a pipeline.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "weir/cli/stage_registry.hpp"

namespace weir::dsl {

/// print(n = 10).
struct print_stage final : bound_stage {
  std::size_t n = 10;
};

/// write_jsonl(path), collect(path).
struct path_sink_stage final : bound_stage {
  std::string path;
};

std::span<const stage_def> sink_stages();

}  // namespace weir::dsl
