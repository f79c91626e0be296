// weir — builds a compiled DSL script into a streaming_context through the
// public API (api/dstream.hpp), the same way an embedding program would.
#pragma once

#include "weir/api/dstream.hpp"
#include "weir/cli/pipeline_spec.hpp"

namespace weir::dsl {

/// Context options from the script's `set` statements, with `overrides`
/// (the command line) taking precedence field by field.
context_options make_context_options(const settings& script, const settings& overrides = {});

/// Adds every pipeline of `spec` to `ctx` (not started). `let` streams are
/// built once, when first used (a stream used twice fans out); unused ones
/// are not built.
/// Files named by `table(path)` (joins) and `initial = path` (map_with_state)
/// are read now, with io::read_jsonl; they must hold [key, value] pairs.
/// @errors dsl_error at the offending argument for a window or slide that is
///         not a multiple of ctx's batch interval or of the input stream's
///         slide, and for a table or initial-state file that cannot be read
///         or holds something else than pairs; for a pipeline_error the API
///         raises while building (e.g. a join of streams with different
///         slides), located at the stage.
/// @thread Call before ctx.start(), from the thread that owns ctx. The
///         functions it installs are thread-safe (compiled expressions are immutable).
void build_pipelines(const pipeline_spec& spec, streaming_context& ctx);

}  // namespace weir::dsl
