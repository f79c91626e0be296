// weir — the DSL's Kafka stages (io/kafka.hpp): the kafka(...) source (a
// Structured Streaming-style consumer with offsets in weir's checkpoints)
// and the kafka_out(...) sink.
#pragma once

#include <span>

#include "weir/cli/stage_registry.hpp"
#include "weir/io/kafka.hpp"

namespace weir::dsl {

/// kafka("topic1,topic2", brokers, group, start, metadata, until, timeout, parallelism).
struct kafka_stage final : bound_stage {
  io::kafka_options options;
};

/// kafka_out("topic", brokers, key = expr, timeout).
struct kafka_out_stage final : bound_stage {
  io::kafka_sink_options options;  ///< without the key function
  element_function key;
  bool has_key = false;
};

std::span<const stage_def> kafka_stages();

}  // namespace weir::dsl
