// weir — the DSL's stages as a registry (docs/architecture.md §1, "The DSL
// front end").
//
// Every stage a script can name — source, operator or sink — is one
// `stage_def`: its name, its parameters (names, types, whether required), its
// usage line, how its arguments are checked and bound (`bind`, into the
// stage's own `bound_stage` subclass, where the defaults live) and how it is
// built onto the public API (`build`, on `weir::dstream`). The entries are
// declared one file per family in cli/stages/ and listed in
// stage_registry.cpp; the analyzer (analyzer.cpp) and the builder
// (pipeline_builder.cpp) know no stage by name.
//
// Adding a stage: its `bound_stage` subclass (if no existing shape fits) in
// the family header, its entry in the family source. Nothing else in cli/.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "weir/api/dstream.hpp"
#include "weir/cli/ast.hpp"
#include "weir/cli/pipeline_spec.hpp"

namespace weir::dsl {

enum class stage_role {
  source,  ///< first stage only
  op,      ///< between a source (or stream name) and a sink
  sink,    ///< last stage only
};

/// How an argument is checked and converted (stage_args::get). The messages
/// name the argument by its `label`, or by its name.
enum class param_type {
  function,         ///< a function of the element: `_` expression or lambda -> element_function
  reducer,          ///< sum, sub, min, max, count or a lambda (a, b) => ... -> reducer
  merge,            ///< a 2-parameter lambda, or sum, sub, min, max -> binary_fn
  state_update,     ///< update_state_by_key's (values, state) => ... or (time, key, values, state) => ... -> state_update_function
  state_function,   ///< map_with_state's (key, value, state) => ... -> map_with_state_fn
  duration,         ///< a positive duration literal -> std::chrono::milliseconds
  duration_literal, ///< a duration literal, 0 allowed -> std::chrono::milliseconds
  delay,            ///< a duration >= 0, a negative one named as such -> std::chrono::milliseconds
  integer,          ///< an int in [min, max] -> any integral type
  number,           ///< an int or double >= 0 -> double
  fraction,         ///< a number in [0, 1] -> double
  boolean,          ///< true or false -> bool
  string,           ///< a string -> std::string
  path,             ///< a non-empty string ("the path must not be empty") -> std::string
  stream,           ///< a `let` stream name -> stream_or_table
  stream_or_table,  ///< a `let` stream name or table("file.jsonl") -> stream_or_table
  window_shape,     ///< tumbling(size), sliding(size, slide), session(gap) -> window_spec
  aggregation,      ///< count, sum, min, max, avg or a lambda (a, b) => ... -> aggregation
  aggregations,     ///< {name: count | sum(e) | ..., ...}: aggregate's aggs -> std::vector<named_aggregation>
  side_sink,        ///< write_jsonl(path): a side output -> side_output
  output_mode,      ///< "append" or "update" -> weir::output_mode
  on_error,         ///< fail, skip or dead_letter("path") -> stage_spec::on_error (the binder reads it)
  constant,         ///< any constant expression -> value
};

struct param_def {
  std::string_view name;
  param_type type;
  bool required = false;
  /// How messages name the argument, when not by its name: "the folder"
  /// ("the folder must be a string"); for a path, the thing that must not
  /// be empty ("initial state path"); for a function, the whole call
  /// ("aggregate(key = ...)", default "stage()"); for reducers and lambdas,
  /// the stage and parameter (default "stage" for the first parameter,
  /// "stage param" for the others).
  std::string_view label = {};
  std::int64_t min = 0;                                   ///< integer: the range
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
  std::string_view lambda_params = {};  ///< binary, merge, state_function: "(values, state)"
  std::string_view example = {};        ///< merge: a lambda to suggest instead of 'count'
};

/// How a stage's output relates to its input's event time (the `time =`
/// that set the watermark; docs/architecture.md §5).
enum class event_time_effect {
  loses,  ///< the records change shape: a later aggregate needs its own `time =`
  keeps,  ///< the records pass unchanged (filter)
  ends,   ///< the stream is a new one (aggregate's results)
  sets_itself,  ///< the stage's build sets it (union: from its inputs')
};

struct stage_traits {
  bool timed = false;              ///< takes `time =`, `watermark =`, `idle_timeout =` (decoders; sources always do)
  bool once_per_script = false;    ///< can be used once only (stdin)
  bool own_arguments = false;      ///< `bind` matches the call's arguments itself (union, receiver)
  bool yields_state_stream = false;  ///< state_snapshots() may follow (map_with_state)
  bool needs_state_stream = false;   ///< must follow a stage that yields_state_stream (state_snapshots)
  event_time_effect event_time = event_time_effect::loses;
};

class stage_args;
class stage_builder;

/// One stage of the registry.
struct stage_def {
  std::string_view name;
  stage_role role;
  std::vector<param_def> params;
  std::string_view usage;  ///< "reduce_by_key_and_window(func, window, slide, inverse = func, filter = expr)"
  /// Checks the arguments and binds them. Reads them through `a` in the order
  /// of `params` (so that the first bad argument is the one reported).
  /// @errors dsl_error at the offending argument.
  std::shared_ptr<const bound_stage> (*bind)(const stage_args& a);
  /// Adds the stage: a source creates a stream on b.context() (`in` is
  /// empty), an operator returns the stream it derives from `*in`, a sink
  /// attaches to `*in` and returns it.
  /// @errors dsl_error at an argument; pipeline_error from the API (the
  ///         builder reports it at the stage).
  dstream (*build)(stage_builder& b, const stage_spec& st, const std::optional<dstream>& in);
  stage_traits traits = {};
};

/// Every stage, in the order suggestions prefer on ties.
std::span<const stage_def* const> all_stages();
const stage_def* find_stage(std::string_view name);
/// The entry of a stage that starts from a `let` stream (not a name a script can write).
const stage_def& stream_ref_def();

// ---- binding ---------------------------------------------------------------

/// A bound stage without arguments (glom(), distinct(), stdin(), ...).
struct no_args final : bound_stage {};
std::shared_ptr<const bound_stage> bind_no_args(const stage_args& a);

/// update_state_by_key's function, chosen by the lambda's arity (Spark's two
/// forms): exactly one of the two is set.
struct state_update_function {
  update_state_fn values_state;  ///< (values, state) => ...
  update_state_time_fn timed;    ///< (time, key, values, state) => ...
};

/// The other side of a join or cogroup: a `let` stream or table("file.jsonl").
struct stream_or_table {
  stream_arg stream;            ///< empty name for a table
  bool is_table = false;
  std::string table;            ///< table(path): the file of [key, value] pairs
  source_location table_loc;    ///< the table(...) argument
};

/// `late = write_jsonl(path)`.
struct side_output {
  std::string path;
  source_location loc;
};

/// The arguments of one stage call, matched to the stage's parameters
/// (positional in order, then by name). `get` converts and checks an argument
/// by its parameter's declared type and the message rules of param_def.
class stage_args {
public:
  /// Matches `call` to `def`'s parameters (unless def.traits.own_arguments).
  /// `lets` are the `let` streams defined so far (for stream arguments).
  /// @errors dsl_error for too many arguments, an unknown named argument (with
  ///         a suggestion or the usage), an argument given twice, a missing
  ///         required one.
  stage_args(const ast::stage& call, const stage_def& def, std::span<const std::string> lets);

  const ast::stage& call() const noexcept { return call_; }
  const std::string& stage() const noexcept { return call_.name; }
  const stage_def& def() const noexcept { return def_; }
  std::span<const std::string> lets() const noexcept { return lets_; }

  /// True if the stage has a parameter `p` (families share bind functions).
  bool takes(std::string_view p) const;

  /// The expression given for parameter `p`, or nullptr.
  const ast::expr* given(std::string_view p) const;

  /// Converts the argument of `p` into `out` if it was given (returns true);
  /// leaves `out` (the default) alone otherwise. `T` must be the type of
  /// `p`'s param_type (see the enum).
  /// @errors dsl_error at the argument; std::logic_error if the stage has no
  ///         parameter `p` or `T` does not fit its type (a bug in the entry,
  ///         caught by the stage's tests).
  template <class T>
  bool get(std::string_view p, T& out) const {
    const ast::expr* e = given(p);
    if (!e) return false;
    convert(param(p), *e, out);
    return true;
  }
  /// The location of the argument of `p` (given(p) must be non-null).
  const source_location& loc(std::string_view p) const;

  /// After bind: every argument given was looked at (given() or get()).
  /// @errors std::logic_error naming one that was not (a bug in the entry:
  ///         the argument would be ignored silently).
  void check_all_read() const;

  /// A `let` stream name; `table_ok`: the message says table(...) was possible too.
  /// @errors dsl_error for something else than a known stream name.
  stream_arg stream_name(const ast::expr& e, bool table_ok) const;

private:
  const param_def& param(std::string_view p) const;
  std::string who(const param_def& p) const;
  void convert(const param_def& p, const ast::expr& e, element_function& out) const;
  void convert(const param_def& p, const ast::expr& e, reducer& out) const;
  void convert(const param_def& p, const ast::expr& e, std::optional<reducer>& out) const;
  void convert(const param_def& p, const ast::expr& e, binary_fn& out) const;
  void convert(const param_def& p, const ast::expr& e, state_update_function& out) const;
  void convert(const param_def& p, const ast::expr& e, map_with_state_fn& out) const;
  void convert(const param_def& p, const ast::expr& e, std::chrono::milliseconds& out) const;
  void convert(const param_def& p, const ast::expr& e, std::int64_t& out) const;
  void convert(const param_def& p, const ast::expr& e, double& out) const;
  void convert(const param_def& p, const ast::expr& e, bool& out) const;
  void convert(const param_def& p, const ast::expr& e, std::string& out) const;
  void convert(const param_def& p, const ast::expr& e, stream_or_table& out) const;
  void convert(const param_def& p, const ast::expr& e, window_spec& out) const;
  void convert(const param_def& p, const ast::expr& e, aggregation& out) const;
  void convert(const param_def& p, const ast::expr& e, std::vector<named_aggregation>& out) const;
  void convert(const param_def& p, const ast::expr& e, side_output& out) const;
  void convert(const param_def& p, const ast::expr& e, weir::output_mode& out) const;
  void convert(const param_def& p, const ast::expr& e, on_error_spec& out) const;
  void convert(const param_def& p, const ast::expr& e, value& out) const;
  template <class T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, std::int64_t>)
  void convert(const param_def& p, const ast::expr& e, T& out) const {
    std::int64_t v = 0;
    convert(p, e, v);
    out = static_cast<T>(v);
  }

  const ast::stage& call_;
  const stage_def& def_;
  std::span<const std::string> lets_;
  std::vector<const ast::expr*> given_;  ///< by parameter index
  mutable std::vector<bool> read_;       ///< by parameter index
};

// ---- building --------------------------------------------------------------

/// What the builder knows of a stream's event time: the `time =` expression
/// that set its watermark, as long as the records keep their shape.
struct stream_time {
  std::optional<element_function> time;
  source_location loc;
  std::string lost_by;  ///< the stage after which `time` no longer applies
  std::string form;     ///< expr_form of the time expression
  /// The records carry a watermark although `time` does not apply: after a
  /// union of inputs with different event times, whose watermark is the
  /// minimum of theirs. An aggregate(time = ...) there keeps it.
  bool watermarked = false;
  std::string lost_why;  ///< why `time` does not apply, when not a change of the records
};

/// The builder as a stage's `build` sees it (pipeline_builder.cpp).
class stage_builder {
public:
  /// The context the pipelines are added to.
  virtual streaming_context& context() = 0;
  /// The `let` stream `name`, built on first use (a stream used twice fans out).
  virtual dstream stream(const std::string& name) = 0;
  /// The error policy of `o`; one dead-letter file per path for the whole script.
  virtual error_policy policy(const on_error_spec& o) = 0;
  /// The event time of the stage's input stream.
  virtual const stream_time& input_time() const = 0;
  /// The event time of the `let` stream `name` (built by stream(name) first).
  virtual stream_time time_of(const std::string& name) const = 0;
  /// Sets the event time of the stage's output (a stage whose traits say
  /// event_time_effect::sets_itself).
  virtual void set_output_time(stream_time t) = 0;

protected:
  ~stage_builder() = default;
};

/// The watermark a `time = expr, watermark = d, idle_timeout = d` sets.
watermark_options watermark_of(const event_time_spec& et);

/// A JSON-lines file of [key, value] pairs (join tables, map_with_state's
/// initial state), read now. `what` prefixes messages.
/// @errors dsl_error at `loc` if the file cannot be read or holds something else.
records load_pairs(const std::string& path, const source_location& loc, std::string_view what);

/// `fn` as a predicate: a record_error at the expression unless it yields a bool.
filter_fn bool_function(const element_function& fn, std::string what);

/// `fn` as a flat map: an array's items, nothing for null, else a record_error.
flat_map_fn array_function(const element_function& fn, std::string what);

}  // namespace weir::dsl
