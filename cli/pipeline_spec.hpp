// weir — a DSL script checked and compiled into a pipeline_spec: every name
// resolved, every argument typed, every expression compiled. What each stage
// takes and how it is built is the stage registry's (stage_registry.hpp,
// cli/stages/); building the spec into a streaming_context is
// pipeline_builder.hpp's job. docs/architecture.md §7.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weir/cli/ast.hpp"
#include "weir/cli/dsl_error.hpp"
#include "weir/cli/expression.hpp"
#include "weir/actors/runtime.hpp"
#include "weir/operators/error_policy.hpp"

namespace weir::dsl {

/// Run settings from `set` statements (and, merged over them, from the
/// command line). Unset fields keep the context_options defaults.
struct settings {
  std::optional<std::chrono::milliseconds> batch_interval;
  std::optional<int> parallelism;
  std::optional<std::size_t> batch_size;
  std::optional<std::size_t> edge_capacity;
  std::optional<int> threads;
  std::optional<execution_mode> mode;
  std::optional<std::chrono::milliseconds> linger;
};

/// `time = expr, watermark = d, idle_timeout = d` on a source, decoder or aggregate.
struct event_time_spec {
  bool set = false;                        ///< time = was given
  element_function time;
  source_location loc;                     ///< of the time expression
  std::string form;                        ///< expr_form of the time expression
  bool has_watermark = false;
  std::chrono::milliseconds watermark{0};  ///< allowed out-of-orderness
  std::chrono::milliseconds idle_timeout{0};
};

/// `on_error = fail | skip | dead_letter("path")` (docs/architecture.md §9).
struct on_error_spec {
  weir::on_error action = weir::on_error::fail;
  std::string dead_letter_path;      ///< dead_letter only
  source_location loc;
};

/// A `let` stream named in an argument (union, join, cogroup).
struct stream_arg {
  std::string name;
  source_location loc;
};

struct stage_def;  // stage_registry.hpp

/// A stage's checked arguments: one subclass per stage shape, declared with
/// its family in cli/stages/ (e.g. `window_stage` in cli/stages/windows.hpp).
class bound_stage {
public:
  virtual ~bound_stage() = default;
};

/// One checked stage: which registry entry, where, and its bound arguments.
/// The two options the builder itself applies live here; everything else a
/// stage takes is in `args`.
struct stage_spec {
  const stage_def* def = nullptr;         ///< the registry entry (stage_registry.hpp); never null
  std::string name;                       ///< as written, e.g. "reduce_by_key"; a stream name for a `let` reference
  source_location loc;
  event_time_spec event_time;             ///< sources and decoders: `time =`, `watermark =`, `idle_timeout =`
  on_error_spec on_error;                 ///< stages with an `on_error` parameter
  std::shared_ptr<const bound_stage> args;  ///< never null

  /// The arguments as the stage's own type.
  /// @errors std::bad_cast if the stage has arguments of another type.
  template <class T>
  const T& as() const {
    return dynamic_cast<const T&>(*args);
  }
  /// True if this stage is a registry entry named `stage` (not a `let` reference).
  bool is(std::string_view stage) const;
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
///         mean" suggestions), wrong argument counts or types, a lambda with
///         the wrong number of parameters for its position ("map_with_state
///         expects a function of 3 parameters (key, value, state), got 2"), an
///         unknown stream in union/join/cogroup, table(...) in union or
///         cogroup, state_snapshots() not after map_with_state, a source used
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

/// "500ms", "10s", "5m", "1h", "1500ms" (weir::duration_text, common/time.hpp).
std::string format_duration(std::chrono::milliseconds d);

}  // namespace weir::dsl
