// weir — a DSL script checked and compiled into a pipeline_spec: every name
// resolved, every argument typed, every expression compiled. Building the
// spec into a streaming_context is pipeline_builder.hpp's job.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weir/cli/ast.hpp"
#include "weir/cli/dsl_error.hpp"
#include "weir/cli/expression.hpp"
#include "weir/actors/runtime.hpp"
#include "weir/io/kafka.hpp"
#include "weir/io/sources.hpp"
#include "weir/operators/event_time.hpp"
#include "weir/io/decoders.hpp"
#include "weir/io/sinks.hpp"
#include "weir/io/sources.hpp"
#include "weir/operators/error_policy.hpp"
#include "weir/operators/reducer.hpp"
#include "weir/operators/state_operators.hpp"

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

enum class stage_kind {
  // sources (first stage only)
  file, stdin_lines, generate, batches, stream_ref,
  // per-batch operators
  map, flat_map, filter, count, reduce_by_key, top, map_values, flat_map_values, glom, distinct,
  sample, union_streams, count_by_value, reduce, group_by_key, combine_by_key, sort_by,
  // windows
  window, count_by_window, reduce_by_window, reduce_by_key_and_window, group_by_key_and_window,
  count_by_value_and_window,
  // state
  update_state_by_key, map_with_state, state_snapshots,
  // two streams
  join, left_outer_join, right_outer_join, full_outer_join, cogroup,
  // sinks (last stage only)
  print, write_jsonl, collect,
  // event time
  aggregate,
  // decoders and file/console sinks
  parse_log, parse_csv, parse_json, parse_regex, write_text, write_csv, stdout_sink,
  // receivers (sources): dir, socket, listen, custom receivers
  dir, socket, listen, custom_receiver,
  // Kafka (io/kafka.hpp): the receiver and the sink
  kafka, kafka_out,
};

/// `time = expr, watermark = d, idle_timeout = d` on a source, decoder or aggregate.
struct event_time_spec {
  bool set = false;                        ///< time = was given
  element_function time;
  source_location loc;                     ///< of the time expression
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

/// One checked stage. Only the fields of its kind are meaningful.
struct stage_spec {
  stage_kind kind = stage_kind::map;
  std::string name;                  ///< as written, e.g. "reduce_by_key"
  source_location loc;
  std::string path;                  ///< file, batches, write_jsonl, collect; join: table(path)
  source_location path_loc;          ///< join with a table: the table(...) argument
  bool is_table = false;             ///< join kinds: the other side is table(path)
  std::int64_t total = 0;            ///< batches: number of batches (0 = as many as lines)
  std::string stream;                ///< stream_ref: the `let` name
  std::vector<stream_arg> others;    ///< union: the streams; join kinds, cogroup: the other one
  io::access_log_options generator;  ///< generate
  std::string generator_kind = "access_log";  ///< generate: "access_log", "ysb" or "nexmark"
  element_function fn;               ///< map, flat_map, filter, top (`by`), map_values,
                                     ///< flat_map_values, sort_by, combine_by_key (create)
  bool has_fn = false;               ///< top: `by` was given
  element_function filter;           ///< reduce_by_key_and_window: `filter = pred` on (k, v)
  bool has_filter = false;
  std::function<value(const value&, const value&)> merge_value, merge_combiners;  ///< combine_by_key
  update_state_fn update;            ///< update_state_by_key
  map_with_state_fn state_fn;        ///< map_with_state
  std::chrono::milliseconds timeout{0};  ///< map_with_state; 0 = none
  std::string initial_path;          ///< map_with_state: initial state file ("" = none)
  source_location initial_loc;
  reducer reduce;                    ///< reduce_by_key, reduce, the reduce_by_*window kinds
  std::optional<reducer> inverse;    ///< reduce_by_window, reduce_by_key_and_window
  std::chrono::milliseconds window{0}, slide{0};  ///< slide 0 = the input stream's slide
  source_location window_loc, slide_loc;
  std::size_t n = 10;                ///< print, top
  double fraction = 1.0;             ///< sample
  std::uint64_t seed = 0;            ///< sample
  bool ascending = true;             ///< sort_by
  event_time_spec event_time;        ///< sources, decoders, aggregate
  // aggregate
  window_spec ewindow;
  aggregation agg;
  element_function key_fn, value_fn;
  bool has_key = false, has_value = false;
  std::chrono::milliseconds allowed_lateness{0};
  std::string late_path;             ///< late = write_jsonl(path); "" = drop
  source_location late_loc;
  output_mode output = output_mode::append;
  // decoders and file/console sinks
  on_error_spec on_error;            ///< decoders, map, flat_map, filter
  io::log_format log_format = io::log_format::combined;  ///< parse_log
  io::csv_options csv;               ///< parse_csv
  io::json_options json;             ///< parse_json
  std::string pattern;               ///< parse_regex
  std::string prefix = "out", suffix = "txt";  ///< write_text (the folder is `path`)
  io::stdout_format out_format = io::stdout_format::jsonl;  ///< stdout
  // receivers: `path` holds the directory (dir), the address (socket,
  // listen) or the registered name (custom_receiver)
  io::dir_options dir;               ///< dir
  io::socket_options socket;         ///< socket
  io::listen_options listen;         ///< listen
  std::vector<value> receiver_args;  ///< custom_receiver: receiver("name", args...)
  io::kafka_options kafka;           ///< kafka
  io::kafka_sink_options kafka_sink; ///< kafka_out (the key function is `key`)
  element_function key;              ///< kafka_out: key = expr
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
///         the wrong number of parameters for its position ("update_state_by_key
///         expects a function of 2 parameters (values, state), got 1"), an
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

/// "500ms", "10s", "5m", "1h", "1500ms".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace weir::dsl
