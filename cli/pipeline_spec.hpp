// weir — a DSL script checked and compiled into a pipeline_spec: every name
// resolved, every argument typed, every expression compiled. Building the
// spec into a streaming_context is pipeline_builder.hpp's job.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weir/cli/ast.hpp"
#include "weir/cli/dsl_error.hpp"
#include "weir/cli/expression.hpp"
#include "weir/io/sources.hpp"
#include "weir/operators/reducer.hpp"

namespace weir::dsl {

/// Run settings from `set` statements (and, merged over them, from the
/// command line). Unset fields keep the context_options defaults.
struct settings {
  std::optional<std::chrono::milliseconds> batch_interval;
  std::optional<int> parallelism;
  std::optional<std::size_t> batch_size;
  std::optional<std::size_t> edge_capacity;
  std::optional<int> threads;
};

enum class stage_kind {
  // sources (first stage only)
  file, stdin_lines, generate, stream_ref,
  // operators
  map, flat_map, filter, count, reduce_by_key, reduce_by_key_and_window, top,
  // sinks (last stage only)
  print, write_jsonl,
};

/// One checked stage. Only the fields of its kind are meaningful.
struct stage_spec {
  stage_kind kind = stage_kind::map;
  std::string name;                  ///< as written, e.g. "reduce_by_key"
  source_location loc;
  std::string path;                  ///< file, write_jsonl
  std::string stream;                ///< stream_ref: the `let` name
  io::access_log_options generator;  ///< generate
  element_function fn;               ///< map, flat_map, filter, top (`by`)
  bool has_fn = false;               ///< top: `by` was given
  reducer reduce;                    ///< reduce_by_key, reduce_by_key_and_window
  std::chrono::milliseconds window{0}, slide{0};  ///< slide 0 = the batch interval
  source_location window_loc, slide_loc;
  std::size_t n = 10;                ///< print, top
};

/// A `let` binding (name set) or a pipeline statement ending in a sink.
struct pipeline_def {
  std::string name;                  ///< `let` name; empty for a pipeline statement
  source_location loc;
  std::vector<stage_spec> stages;    ///< a source or stream_ref first
};

struct pipeline_spec {
  std::string file;
  dsl::settings settings;
  std::vector<pipeline_def> streams;    ///< `let` bindings, in script order
  std::vector<pipeline_def> pipelines;  ///< statements ending in a sink, in script order
};

/// Resolves and checks a parsed script.
/// @errors dsl_error `FILE:LINE:COLUMN: message` for unknown operators,
///         functions, streams, settings and named arguments (with "did you
///         mean" suggestions), wrong argument counts or types, a source used
///         mid-pipeline, a sink not last, a pipeline without a sink, ...
/// @thread Pure function; safe from any thread. The returned spec is
///         immutable in use; its compiled functions may run on many threads.
pipeline_spec analyze(const ast::script& script);

/// parse_script + analyze.
/// @errors dsl_error.
pipeline_spec compile_script(std::string_view text, const std::string& file);

/// Names the DSL knows, for docs and suggestions.
std::vector<std::string> source_names();
std::vector<std::string> operator_names();  ///< operators and sinks
std::vector<std::string> setting_names();

/// "500ms", "10s", "5m", "1h", "1500ms".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace weir::dsl
