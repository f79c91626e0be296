// weir — the DSL's PostgreSQL sink (io/postgres.hpp): write_postgres(url,
// table, key, create, on_error, id, timeout).
#pragma once

#include <span>

#include "weir/cli/stage_registry.hpp"
#include "weir/io/postgres.hpp"

namespace weir::dsl {

/// write_postgres("postgresql://...", table = "t", key = ["k"], create = true, ...).
struct postgres_stage final : bound_stage {
  io::postgres_sink_options options;  ///< without the on_error policy (the builder makes it)
};

std::span<const stage_def> postgres_stages();

}  // namespace weir::dsl
