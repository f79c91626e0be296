// Checks a parsed script and compiles it into a pipeline_spec.
#include <algorithm>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "weir/cli/parser.hpp"
#include "weir/cli/pipeline_spec.hpp"
#include "weir/cli/suggest.hpp"
#include "weir/io/receiver.hpp"

namespace weir::dsl {

namespace {

enum class role { source, op, sink };
enum class param_type {
  function,         ///< a function of the element: `_` expression or lambda (taking it apart)
  reducer,          ///< sum, sub, min, max, count or a lambda (a, b) => ...
  merge,            ///< a 2-parameter lambda, or sum, sub, min, max
  binary,           ///< a 2-parameter lambda
  state_function,   ///< map_with_state's (key, value, state) => ...
  duration,         ///< a positive duration literal
  count,            ///< an int
  number,           ///< an int or double
  boolean,          ///< true or false
  string,           ///< a string
  stream,           ///< a `let` stream name
  stream_or_table,  ///< a `let` stream name or table("file.jsonl")
  streams,          ///< one or more `let` stream names (all remaining positional arguments)
  window_shape,     ///< tumbling(size), sliding(size, slide), session(gap)
  aggregation,      ///< count, sum, min, max, avg or a lambda (a, b) => ...
  delay,            ///< a duration >= 0 (watermark, allowed_lateness, idle_timeout)
  side_sink,        ///< write_jsonl(path): a side output
  output_mode,      ///< "append" or "update"
  on_error,         ///< fail, skip or dead_letter("path")
  constant,         ///< any constant expression (parse_json's fields)
};

struct param_def {
  std::string_view name;
  param_type type;
  bool required;
  std::string_view lambda_params = {};  ///< binary, merge, state_function: "(values, state)"
};

struct stage_def {
  std::string_view name;
  stage_kind kind;
  role r;
  std::vector<param_def> params;
  std::string_view usage;
};

const std::vector<stage_def>& stage_table() {
  using P = param_type;
  using K = stage_kind;
  static const param_def window{"window", P::duration, true};
  static const param_def slide{"slide", P::duration, false};
  static const param_def func{"func", P::reducer, true};
  static const param_def inverse{"inverse", P::reducer, false};
  static const param_def on_error{"on_error", P::on_error, false};
  static const std::vector<stage_def> t = {
      // sources
      {"file", K::file, role::source, {{"path", P::string, true}}, "file(path)"},
      {"stdin", K::stdin_lines, role::source, {}, "stdin()"},
      {"generate", K::generate, role::source,
       {{"kind", P::string, true}, {"rate", P::number, false}, {"count", P::count, false},
        {"duration", P::duration, false}, {"seed", P::count, false}, {"paths", P::count, false},
        {"zipf", P::number, false}},
       "generate(\"access_log\" | \"ysb\" | \"nexmark\", rate = N, count = N, duration = D, seed = N, paths = N, zipf = X)"},
      {"batches", K::batches, role::source, {{"path", P::string, true}, {"total", P::count, false}},
       "batches(path, total = 0)"},
      {"dir", K::dir, role::source,
       {{"path", P::string, true}, {"include_existing", P::boolean, false}, {"poll", P::duration, false}},
       "dir(path, include_existing = false, poll = 100ms)"},
      {"socket", K::socket, role::source,
       {{"address", P::string, true}, {"reconnect", P::boolean, false}, {"retries", P::count, false},
        {"timeout", P::duration, false}},
       "socket(\"host:port\", reconnect = true, retries = 5, timeout = 2s)"},
      {"listen", K::listen, role::source, {{"address", P::string, true}, {"connections", P::count, false}},
       "listen(\":port\", connections = 0)"},
      {"receiver", K::custom_receiver, role::source, {{"name", P::string, true}},
       "receiver(\"name\", args...)"},
      // per batch
      {"map", K::map, role::op, {{"f", P::function, true}, on_error}, "map(expr, on_error = fail)"},
      {"flat_map", K::flat_map, role::op, {{"f", P::function, true}, on_error}, "flat_map(expr, on_error = fail)"},
      {"filter", K::filter, role::op, {{"f", P::function, true}, on_error}, "filter(expr, on_error = fail)"},
      {"map_values", K::map_values, role::op, {{"f", P::function, true}}, "map_values(expr)"},
      {"flat_map_values", K::flat_map_values, role::op, {{"f", P::function, true}},
       "flat_map_values(expr)"},
      {"glom", K::glom, role::op, {}, "glom()"},
      {"distinct", K::distinct, role::op, {}, "distinct()"},
      {"sample", K::sample, role::op, {{"fraction", P::number, true}, {"seed", P::count, false}},
       "sample(fraction, seed = 0)"},
      {"union", K::union_streams, role::op, {{"streams", P::streams, true}}, "union(stream, ...)"},
      {"count", K::count, role::op, {}, "count()"},
      {"count_by_value", K::count_by_value, role::op, {}, "count_by_value()"},
      {"reduce", K::reduce, role::op, {func}, "reduce(func)"},
      {"reduce_by_key", K::reduce_by_key, role::op, {func}, "reduce_by_key(func)"},
      {"group_by_key", K::group_by_key, role::op, {}, "group_by_key()"},
      {"combine_by_key", K::combine_by_key, role::op,
       {{"create", P::function, true},
        {"merge_value", P::merge, true, "(combiner, value)"},
        {"merge_combiners", P::merge, true, "(combiner1, combiner2)"}},
       "combine_by_key(create, merge_value, merge_combiners)"},
      {"sort_by", K::sort_by, role::op, {{"key", P::function, true}, {"ascending", P::boolean, false}},
       "sort_by(expr, ascending = true)"},
      {"top", K::top, role::op, {{"n", P::count, true}, {"by", P::function, false}}, "top(n, by = expr)"},
      // windows
      {"window", K::window, role::op, {window, slide}, "window(window, slide)"},
      {"count_by_window", K::count_by_window, role::op, {window, slide}, "count_by_window(window, slide)"},
      {"reduce_by_window", K::reduce_by_window, role::op, {func, window, slide, inverse},
       "reduce_by_window(func, window, slide, inverse = func)"},
      {"reduce_by_key_and_window", K::reduce_by_key_and_window, role::op,
       {func, window, slide, inverse, {"filter", P::function, false}},
       "reduce_by_key_and_window(func, window, slide, inverse = func, filter = expr)"},
      {"group_by_key_and_window", K::group_by_key_and_window, role::op, {window, slide},
       "group_by_key_and_window(window, slide)"},
      {"count_by_value_and_window", K::count_by_value_and_window, role::op, {window, slide},
       "count_by_value_and_window(window, slide)"},
      // state
      {"update_state_by_key", K::update_state_by_key, role::op,
       {{"f", P::binary, true, "(values, state)"}}, "update_state_by_key((values, state) => expr)"},
      {"map_with_state", K::map_with_state, role::op,
       {{"f", P::state_function, true, "(key, value, state)"}, {"timeout", P::duration, false},
        {"initial", P::string, false}},
       "map_with_state((key, value, state) => expr, timeout = D, initial = path)"},
      {"state_snapshots", K::state_snapshots, role::op, {}, "state_snapshots()"},
      // two streams
      {"join", K::join, role::op, {{"other", P::stream_or_table, true}}, "join(stream or table(path))"},
      {"left_outer_join", K::left_outer_join, role::op, {{"other", P::stream_or_table, true}},
       "left_outer_join(stream or table(path))"},
      {"right_outer_join", K::right_outer_join, role::op, {{"other", P::stream_or_table, true}},
       "right_outer_join(stream or table(path))"},
      {"full_outer_join", K::full_outer_join, role::op, {{"other", P::stream_or_table, true}},
       "full_outer_join(stream or table(path))"},
      {"cogroup", K::cogroup, role::op, {{"other", P::stream, true}}, "cogroup(stream)"},
      // sinks
      {"print", K::print, role::sink, {{"n", P::count, false}}, "print(n = 10)"},
      {"write_jsonl", K::write_jsonl, role::sink, {{"path", P::string, true}}, "write_jsonl(path)"},
      {"collect", K::collect, role::sink, {{"path", P::string, true}}, "collect(path)"},
      // event time
      {"aggregate", K::aggregate, role::op,
       {{"window", P::window_shape, true}, {"func", P::aggregation, true}, {"key", P::function, false},
        {"value", P::function, false}, {"time", P::function, false}, {"watermark", P::delay, false},
        {"idle_timeout", P::delay, false}, {"allowed_lateness", P::delay, false},
        {"late", P::side_sink, false}, {"output", P::output_mode, false}},
       "aggregate(tumbling(1m) | sliding(10m, 1m) | session(30m), count | sum | min | max | avg | "
       "(a, b) => ..., key = expr, value = expr, time = expr, watermark = 10s, allowed_lateness = 0s, "
       "late = write_jsonl(path), output = \"append\" | \"update\")"},
      // decoders
      {"parse_log", K::parse_log, role::op, {{"format", P::string, true}, on_error},
       "parse_log(\"apache\" | \"common\", on_error = fail | skip | dead_letter(path))"},
      {"parse_csv", K::parse_csv, role::op,
       {{"header", P::boolean, false}, {"sep", P::string, false}, {"quote", P::string, false}, on_error},
       "parse_csv(header = true, sep = \",\", quote = \"\\\"\", on_error = fail)"},
      {"parse_json", K::parse_json, role::op, {{"fields", P::constant, false}, on_error},
       "parse_json(fields = [\".a.b[0]\", ...], on_error = fail)"},
      {"parse_regex", K::parse_regex, role::op, {{"pattern", P::string, true}, on_error},
       "parse_regex(\"(?<name>...)\", on_error = fail)"},
      // file and console sinks
      {"write_text", K::write_text, role::sink,
       {{"dir", P::string, true}, {"prefix", P::string, false}, {"suffix", P::string, false}},
       "write_text(dir, prefix = \"out\", suffix = \"txt\")"},
      {"write_csv", K::write_csv, role::sink, {{"path", P::string, true}}, "write_csv(path)"},
      {"stdout", K::stdout_sink, role::sink, {{"format", P::string, false}},
       "stdout(format = \"jsonl\" | \"text\")"},
      // Kafka
      {"kafka", K::kafka, role::source,
       {{"topics", P::string, true}, {"brokers", P::string, false}, {"group", P::string, false},
        {"start", P::string, false}, {"metadata", P::boolean, false}, {"until", P::string, false},
        {"timeout", P::duration, false}, {"parallelism", P::count, false}},
       "kafka(\"topic1,topic2\", brokers = \"host:port\", group = \"weir\", "
       "start = \"earliest\" | \"latest\" | \"committed\", metadata = false, until = \"end\", timeout = 10s, parallelism = 1)"},
      {"kafka_out", K::kafka_out, role::sink,
       {{"topic", P::string, true}, {"brokers", P::string, false}, {"key", P::function, false},
        {"timeout", P::duration, false}},
       "kafka_out(\"topic\", brokers = \"host:port\", key = expr, timeout = 30s)"},
  };
  return t;
}

const stage_def* find_stage(std::string_view name) {
  for (auto& d : stage_table())
    if (d.name == name) return &d;
  return nullptr;
}

std::vector<std::string> names_with(role r1, std::optional<role> r2 = std::nullopt) {
  std::vector<std::string> out;
  for (auto& d : stage_table())
    if (d.r == r1 || (r2 && d.r == *r2)) out.emplace_back(d.name);
  return out;
}

constexpr std::string_view reducer_names[] = {"sum", "sub", "min", "max", "count"};

std::string plural(std::size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

class analyzer {
public:
  pipeline_spec run(const ast::script& s) {
    spec_.file = s.file;
    for (auto& st : s.statements) {
      switch (st.kind) {
        case ast::stmt_kind::set: setting(st); break;
        case ast::stmt_kind::let: let(st); break;
        case ast::stmt_kind::pipeline: {
          pipeline_def def = pipeline(st, false);
          spec_.pipelines.push_back(std::move(def));
          break;
        }
      }
    }
    if (spec_.pipelines.empty()) {
      source_location loc{std::make_shared<const std::string>(s.file), 1, 1};
      if (!s.statements.empty()) loc = s.statements.back().loc;
      throw dsl_error(loc, "nothing to run: the script has no pipeline ending in a sink "
                           "(e.g. file(\"in.txt\") | print())");
    }
    return std::move(spec_);
  }

private:
  // ---- set --------------------------------------------------------------

  void setting(const ast::statement& st) {
    auto& set = spec_.settings;
    if (auto it = set_lines_.find(st.name); it != set_lines_.end())
      throw dsl_error(st.name_loc, fmt::format("'{}' is already set (line {})", st.name, it->second));
    const ast::expr& e = *st.setting;
    if (st.name == "batch_interval") {
      auto d = duration_arg(e, "batch_interval");
      if (d.count() <= 0) throw dsl_error(e.loc, "batch_interval must be positive");
      set.batch_interval = d;
    } else if (st.name == "parallelism") {
      set.parallelism = static_cast<int>(int_arg(e, "parallelism", 0, 1 << 16));
    } else if (st.name == "batch_size") {
      set.batch_size = static_cast<std::size_t>(int_arg(e, "batch_size", 1, 1 << 30));
    } else if (st.name == "edge_capacity") {
      set.edge_capacity = static_cast<std::size_t>(int_arg(e, "edge_capacity", 1, 1 << 20));
    } else if (st.name == "threads") {
      set.threads = static_cast<int>(int_arg(e, "threads", 0, 1 << 12));
    } else if (st.name == "mode") {
      std::string m = string_arg(e, "mode");
      if (m == "record") set.mode = execution_mode::record;
      else if (m == "micro_batch" || m == "micro-batch") set.mode = execution_mode::micro_batch;
      else throw dsl_error(e.loc, fmt::format("mode must be \"record\" or \"micro_batch\", got \"{}\"", m));
    } else if (st.name == "linger") {
      set.linger = delay_arg(e, "linger");
    } else {
      throw dsl_error(st.name_loc, fmt::format("unknown setting '{}'{}", st.name,
                                               did_you_mean(st.name, setting_names())));
    }
    set_lines_[st.name] = st.loc.line;
  }

  // ---- let and pipelines -----------------------------------------------

  void let(const ast::statement& st) {
    if (find_stage(st.name))
      throw dsl_error(st.name_loc,
                      fmt::format("'{}' is the name of an operator; choose another stream name", st.name));
    for (auto& r : reducer_names)
      if (r == st.name)
        throw dsl_error(st.name_loc,
                        fmt::format("'{}' is the name of a reducer; choose another stream name", st.name));
    if (auto it = let_lines_.find(st.name); it != let_lines_.end())
      throw dsl_error(st.name_loc,
                      fmt::format("stream '{}' is already defined (line {})", st.name, it->second));
    pipeline_def def = pipeline(st, true);
    def.name = st.name;
    let_lines_[st.name] = st.loc.line;
    let_names_.push_back(st.name);
    let_with_state_[st.name] = returns_state_stream(def.stages.back());
    spec_.streams.push_back(std::move(def));
  }

  /// True if `sp` yields the stream returned by map_with_state (state_snapshots() may follow).
  bool returns_state_stream(const stage_spec& sp) const {
    if (sp.kind == stage_kind::map_with_state) return true;
    if (sp.kind == stage_kind::stream_ref) {
      auto it = let_with_state_.find(sp.stream);
      return it != let_with_state_.end() && it->second;
    }
    return false;
  }

  pipeline_def pipeline(const ast::statement& st, bool is_let) {
    pipeline_def def;
    def.loc = st.loc;
    for (std::size_t i = 0; i < st.stages.size(); ++i) {
      const ast::stage& s = st.stages[i];
      bool first = i == 0, last = i + 1 == st.stages.size();
      const stage_def* d = find_stage(s.name);
      if (first) {
        def.stages.push_back(first_stage(s, d));
        continue;
      }
      if (!d) {
        if (let_lines_.count(s.name))
          throw dsl_error(s.loc, fmt::format("stream '{}' can only start a pipeline", s.name));
        auto ops = operator_names();
        auto near = closest_name(s.name, ops);
        if (!near) {
          auto fns = function_names();
          if (std::find(fns.begin(), fns.end(), s.name) != fns.end())
            throw dsl_error(s.loc, fmt::format("'{}' is a function, not an operator; call it inside "
                                               "an operator: | map({}(_))",
                                               s.name, s.name));
        }
        throw dsl_error(s.loc, fmt::format("unknown operator '{}'{}", s.name,
                                           near ? fmt::format(" (did you mean '{}'?)", *near) : ""));
      }
      if (d->r == role::source)
        throw dsl_error(s.loc, fmt::format("source '{}' cannot be used mid-pipeline; a pipeline "
                                           "starts with its source",
                                           s.name));
      if (d->r == role::sink && !last)
        throw dsl_error(s.loc, fmt::format("sink '{}' must be the last stage of a pipeline", s.name));
      if (d->r == role::sink && is_let)
        throw dsl_error(s.loc, fmt::format("a 'let' binds a stream and cannot end in the sink '{}'; "
                                           "use the stream in a separate pipeline: {} | {}(...)",
                                           s.name, st.name, s.name));
      if (d->kind == stage_kind::state_snapshots && !returns_state_stream(def.stages.back()))
        throw dsl_error(s.loc, "state_snapshots() must come right after map_with_state, or start "
                               "from a stream bound to one: ... | map_with_state(f) | state_snapshots()");
      def.stages.push_back(bind(s, *d));
    }
    if (!is_let) {
      const ast::stage& lastst = st.stages.back();
      const stage_def* d = find_stage(lastst.name);
      if (!d || d->r != role::sink)
        throw dsl_error(st.loc, "pipeline has no sink (end it with | print(), | write_jsonl(path) "
                                "or | collect(path))");
    }
    return def;
  }

  stage_spec first_stage(const ast::stage& s, const stage_def* d) {
    if (d && d->r == role::source) {
      if (d->kind == stage_kind::stdin_lines) {
        if (stdin_used_)
          throw dsl_error(s.loc, "stdin() can be read only once; bind it with 'let' and use the "
                                 "stream name twice");
        stdin_used_ = true;
      }
      return bind(s, *d);
    }
    if (let_lines_.count(s.name)) {
      if (s.has_parens)
        throw dsl_error(s.loc, fmt::format("'{}' is a stream; write it without parentheses", s.name));
      stage_spec sp;
      sp.kind = stage_kind::stream_ref;
      sp.name = s.name;
      sp.stream = s.name;
      sp.loc = s.loc;
      return sp;
    }
    if (d)
      throw dsl_error(s.loc, fmt::format("{} '{}' needs an input: start the pipeline with a source "
                                         "(file, stdin, generate, batches) or a stream name",
                                         d->r == role::sink ? "sink" : "operator", s.name));
    if (s.has_parens)
      throw dsl_error(s.loc, fmt::format("unknown source '{}'{}", s.name,
                                         did_you_mean(s.name, source_names())));
    std::vector<std::string> cands = let_names_;
    for (auto& n : source_names()) cands.push_back(n);
    throw dsl_error(s.loc, fmt::format("unknown stream name '{}'{}", s.name, did_you_mean(s.name, cands)));
  }

  // ---- arguments --------------------------------------------------------

  /// Sources and decoders take `time = expr, watermark = d, idle_timeout = d`:
  /// the stream gets event time and a watermark right there.
  static bool timed(const stage_def& d) { return d.r == role::source || d.name.starts_with("parse_"); }

  void event_time_args(const ast::stage& s, stage_spec& sp) {
    for (auto& na : s.named) {
      if (na.name == "time") {
        sp.event_time.time = compile_element_function(*na.val, fmt::format("{}(time = ...)", s.name));
        sp.event_time.set = true;
        sp.event_time.loc = na.val->loc;
      } else if (na.name == "watermark") {
        sp.event_time.watermark = delay_arg(*na.val, "watermark delay");
        sp.event_time.has_watermark = true;
      } else if (na.name == "idle_timeout") {
        sp.event_time.idle_timeout = delay_arg(*na.val, "idle_timeout");
      }
    }
    if (!sp.event_time.set)
      for (auto& na : s.named)
        if (na.name == "watermark" || na.name == "idle_timeout")
          throw dsl_error(na.loc, fmt::format("{} needs the event time: add time = expr (e.g. time = _.time)", na.name));
  }

  /// A duration >= 0; a negative one is named as such.
  std::chrono::milliseconds delay_arg(const ast::expr& e, std::string_view what) {
    if (e.kind == ast::expr_kind::unary && e.op == tok::minus && e.args.size() == 1 &&
        e.args[0]->kind == ast::expr_kind::literal && e.args[0]->is_duration)
      throw dsl_error(e.loc, fmt::format("{} must not be negative, got -{}", what, e.args[0]->text));
    return duration_arg(e, what);
  }

  stage_spec bind(const ast::stage& s, const stage_def& d) {
    stage_spec sp;
    sp.kind = d.kind;
    sp.name = s.name;
    sp.loc = s.loc;
    const bool is_timed = timed(d);
    if (is_timed) event_time_args(s, sp);
    if (d.kind == stage_kind::union_streams) {
      union_args(s, d, sp);
      return sp;
    }
    if (d.kind == stage_kind::custom_receiver) {
      custom_receiver_args(s, d, sp);
      return sp;
    }
    std::vector<const ast::expr*> given(d.params.size(), nullptr);
    if (s.args.size() > d.params.size()) {
      throw dsl_error(s.args[d.params.size()]->loc,
                      fmt::format("wrong number of arguments: {}() takes {}, got {} (usage: {})",
                                  s.name, plural(d.params.size(), "argument"), s.args.size(), d.usage));
    }
    for (std::size_t i = 0; i < s.args.size(); ++i) given[i] = s.args[i].get();
    for (auto& na : s.named) {
      if (is_timed && (na.name == "time" || na.name == "watermark" || na.name == "idle_timeout")) continue;
      std::size_t k = 0;
      while (k < d.params.size() && d.params[k].name != na.name) ++k;
      if (k == d.params.size()) {
        std::vector<std::string> cands;
        for (auto& p : d.params) cands.emplace_back(p.name);
        std::string msg = fmt::format("unknown named argument '{}' for {}()", na.name, s.name);
        if (auto c = closest_name(na.name, cands)) msg += fmt::format(" (did you mean '{}'?)", *c);
        else msg += fmt::format(" (usage: {})", d.usage);
        throw dsl_error(na.loc, msg);
      }
      if (given[k]) throw dsl_error(na.loc, fmt::format("argument '{}' given twice", na.name));
      given[k] = na.val.get();
    }
    for (std::size_t k = 0; k < d.params.size(); ++k)
      if (d.params[k].required && !given[k])
        throw dsl_error(s.loc, fmt::format("wrong number of arguments: {}() is missing argument "
                                           "'{}' (usage: {})",
                                           s.name, d.params[k].name, d.usage));

    for (std::size_t k = 0; k < d.params.size(); ++k) {
      const ast::expr* e = given[k];
      if (!e) continue;
      const param_def& p = d.params[k];
      // how the argument is named in messages: the operator for its first argument
      std::string who = k == 0 ? std::string(s.name) : fmt::format("{} {}", s.name, p.name);
      if (d.kind == stage_kind::generate) {
        if (p.name == "kind") sp.generator_kind = string_arg(*e, "the generator");
        else if (sp.generator_kind != "access_log" && p.name != "rate" && p.name != "count" && p.name != "seed")
          throw dsl_error(e->loc, fmt::format("generate(\"{}\") takes rate, count and seed, not '{}'",
                                              sp.generator_kind, p.name));
        generator_arg(sp.generator, p.name, *e);
        continue;
      }
      if (p.type == param_type::on_error) {
        sp.on_error = on_error_arg(*e);
        continue;
      }
      if (io_stage(d.kind)) {
        io_arg(sp, p.name, *e);
        continue;
      }
      if (d.kind == stage_kind::dir || d.kind == stage_kind::socket || d.kind == stage_kind::listen) {
        receiver_option(sp, p.name, *e);
        continue;
      }
      if (d.kind == stage_kind::kafka || d.kind == stage_kind::kafka_out) {
        kafka_arg(sp, s.name, p.name, *e);
        continue;
      }
      switch (p.type) {
        case param_type::function: {
          std::string what = p.name == "filter" ? fmt::format("{}(filter = ...)", s.name)
                                                : fmt::format("{}()", s.name);
          if (d.kind == stage_kind::aggregate) what = fmt::format("{}({} = ...)", s.name, p.name);
          element_function fn = compile_element_function(*e, what);
          if (d.kind == stage_kind::aggregate) {
            if (p.name == "key") {
              sp.key_fn = std::move(fn);
              sp.has_key = true;
            } else if (p.name == "value") {
              sp.value_fn = std::move(fn);
              sp.has_value = true;
            } else {
              sp.event_time.time = std::move(fn);
              sp.event_time.set = true;
              sp.event_time.loc = e->loc;
            }
          } else if (p.name == "filter") {
            sp.filter = std::move(fn);
            sp.has_filter = true;
          } else {
            sp.fn = std::move(fn);
            sp.has_fn = true;
          }
          break;
        }
        case param_type::reducer: {
          reducer r = reducer_arg(*e, who);
          if (p.name == "inverse") sp.inverse = std::move(r);
          else sp.reduce = std::move(r);
          break;
        }
        case param_type::merge: {
          auto fn = merge_arg(*e, who, p);
          if (p.name == "merge_value") sp.merge_value = std::move(fn);
          else sp.merge_combiners = std::move(fn);
          break;
        }
        case param_type::binary:
          check_lambda(*e, who, 2, p.lambda_params);
          sp.update = compile_binary_function(*e, s.name);
          break;
        case param_type::state_function:
          check_lambda(*e, who, 3, p.lambda_params);
          sp.state_fn = compile_state_function(*e, s.name);
          break;
        case param_type::duration: {
          auto v = duration_arg(*e, p.name);
          if (v.count() <= 0) throw dsl_error(e->loc, fmt::format("{} must be positive", p.name));
          if (p.name == "window") {
            sp.window = v;
            sp.window_loc = e->loc;
          } else if (p.name == "slide") {
            sp.slide = v;
            sp.slide_loc = e->loc;
          } else {
            sp.timeout = v;
          }
          break;
        }
        case param_type::count:
          if (p.name == "n") {
            std::int64_t lo = d.kind == stage_kind::top ? 1 : 0;
            sp.n = static_cast<std::size_t>(int_arg(*e, "n", lo, 1 << 30));
          } else if (p.name == "total") {
            sp.total = int_arg(*e, "total", 0, std::numeric_limits<std::int64_t>::max());
          } else {
            sp.seed = static_cast<std::uint64_t>(
                int_arg(*e, p.name, 0, std::numeric_limits<std::int64_t>::max()));
          }
          break;
        case param_type::number: {
          double f = number_arg(*e, p.name);
          if (f > 1.0) throw dsl_error(e->loc, fmt::format("{} must be between 0 and 1, got {}", p.name, f));
          sp.fraction = f;
          break;
        }
        case param_type::boolean: {
          value v = evaluate_constant(*e);
          if (!v.is_bool())
            throw dsl_error(e->loc, fmt::format("{} must be true or false, got {}", p.name,
                                                kind_name(v.type())));
          sp.ascending = v.as_bool();
          break;
        }
        case param_type::string: {
          std::string str = string_arg(*e, p.name);
          if (str.empty()) throw dsl_error(e->loc, fmt::format("the {} must not be empty", p.name == "initial" ? "initial state path" : "path"));
          if (p.name == "initial") {
            sp.initial_path = std::move(str);
            sp.initial_loc = e->loc;
          } else {
            sp.path = std::move(str);
            sp.path_loc = e->loc;
          }
          break;
        }
        case param_type::stream:
        case param_type::stream_or_table:
          other_arg(*e, s, p.type == param_type::stream_or_table, sp);
          break;
        case param_type::streams: break;  // union_args
        case param_type::window_shape: sp.ewindow = window_shape_arg(*e); break;
        case param_type::aggregation: sp.agg = aggregation_arg(*e, who); break;
        case param_type::delay: {
          auto v = delay_arg(*e, p.name == "watermark" ? "watermark delay" : p.name);
          if (p.name == "watermark") {
            sp.event_time.watermark = v;
            sp.event_time.has_watermark = true;
          } else if (p.name == "idle_timeout") {
            sp.event_time.idle_timeout = v;
          } else {
            sp.allowed_lateness = v;
          }
          break;
        }
        case param_type::side_sink: {
          if (e->kind != ast::expr_kind::call || e->name != "write_jsonl" || e->args.size() != 1 ||
              !e->named.empty())
            throw dsl_error(e->loc, fmt::format("{} must be a side output: write_jsonl(\"late.jsonl\")", who));
          sp.late_path = string_arg(*e->args[0], "late-record path");
          if (sp.late_path.empty()) throw dsl_error(e->args[0]->loc, "the path must not be empty");
          sp.late_loc = e->loc;
          break;
        }
        case param_type::output_mode: {
          std::string m = string_arg(*e, "output");
          if (m == "append") sp.output = output_mode::append;
          else if (m == "update") sp.output = output_mode::update;
          else throw dsl_error(e->loc, fmt::format("output must be \"append\" or \"update\", got \"{}\"", m));
          break;
        }
        case param_type::on_error:
        case param_type::constant: break;  // handled above
      }
    }
    if (d.kind == stage_kind::aggregate) {
      if (sp.event_time.has_watermark && !sp.event_time.set)
        throw dsl_error(s.loc, "aggregate(watermark = ...) needs the event time: add time = expr "
                               "(or set time = and watermark = on the source)");
    }
    return sp;
  }

  window_spec window_shape_arg(const ast::expr& e) {
    auto usage = "expected a window: tumbling(size), sliding(size, slide) or session(gap)";
    if (e.kind != ast::expr_kind::call) throw dsl_error(e.loc, usage);
    auto need = [&](std::size_t n, std::string_view form) {
      if (e.args.size() != n || !e.named.empty())
        throw dsl_error(e.loc, fmt::format("wrong number of arguments: {} (usage: {})", e.name, form));
    };
    auto positive = [&](const ast::expr& a, std::string_view what) {
      auto d = duration_arg(a, what);
      if (d.count() <= 0) throw dsl_error(a.loc, fmt::format("{} must be positive", what));
      return d;
    };
    if (e.name == "tumbling") {
      need(1, "tumbling(size)");
      return window_spec::tumbling(positive(*e.args[0], "window size"));
    }
    if (e.name == "sliding") {
      need(2, "sliding(size, slide)");
      auto size = positive(*e.args[0], "window size");
      auto slide = positive(*e.args[1], "slide");
      if (slide > size)
        throw dsl_error(e.args[1]->loc, fmt::format("slide {} is larger than the window size {}",
                                                    format_duration(slide), format_duration(size)));
      return window_spec::sliding(size, slide);
    }
    if (e.name == "session") {
      need(1, "session(gap)");
      return window_spec::session(positive(*e.args[0], "session gap"));
    }
    throw dsl_error(e.loc, fmt::format("unknown window '{}'{}", e.name,
                                       did_you_mean(e.name, std::vector<std::string>{"tumbling", "sliding", "session"})));
  }

  aggregation aggregation_arg(const ast::expr& e, const std::string& who) {
    if (e.kind == ast::expr_kind::name) {
      if (e.name == "count") return aggregation::count();
      if (e.name == "sum") return aggregation::sum();
      if (e.name == "min") return aggregation::min();
      if (e.name == "max") return aggregation::max();
      if (e.name == "avg") return aggregation::avg();
      throw dsl_error(e.loc, fmt::format("unknown aggregation '{}'{}", e.name,
                                         did_you_mean(e.name, std::vector<std::string>{"count", "sum", "min", "max", "avg"})));
    }
    if (e.kind == ast::expr_kind::lambda) {
      check_lambda(e, who, 2, "(a, b)");
      return aggregation::reduce(reducer::custom(compile_reducer_lambda(e), "lambda"));
    }
    throw dsl_error(e.loc, "expected an aggregation: count, sum, min, max, avg or a lambda (a, b) => ...");
  }

  /// union(s1, s2, ...): every argument a `let` stream.
  void union_args(const ast::stage& s, const stage_def& d, stage_spec& sp) {
    if (!s.named.empty())
      throw dsl_error(s.named.front().loc,
                      fmt::format("unknown named argument '{}' for union() (usage: {})", s.named.front().name,
                                  d.usage));
    if (s.args.empty())
      throw dsl_error(s.loc, fmt::format("wrong number of arguments: union() needs at least one stream "
                                         "(usage: {})",
                                         d.usage));
    for (auto& a : s.args) {
      if (a->kind == ast::expr_kind::call && a->name == "table")
        throw dsl_error(a->loc, "union cannot take a table(...): it combines streams; bind the other "
                                "streams with 'let' and name them");
      sp.others.push_back(stream_name_arg(*a, s, false));
    }
  }

  /// The other side of a join or cogroup: a `let` stream, or (joins) table("file.jsonl").
  void other_arg(const ast::expr& e, const ast::stage& s, bool table_ok, stage_spec& sp) {
    if (e.kind == ast::expr_kind::call && e.name == "table") {
      if (!table_ok)
        throw dsl_error(e.loc, fmt::format("{} cannot take a table(...): it combines two streams; "
                                           "join a static table with join, left_outer_join, "
                                           "right_outer_join or full_outer_join",
                                           s.name));
      if (!e.named.empty())
        throw dsl_error(e.named.front().loc,
                        fmt::format("unknown named argument '{}': table() takes no named arguments",
                                    e.named.front().name));
      if (e.args.size() != 1)
        throw dsl_error(e.loc, fmt::format("table() takes 1 argument, got {} (usage: table(path))",
                                           e.args.size()));
      sp.path = string_arg(*e.args[0], "the table path");
      if (sp.path.empty()) throw dsl_error(e.args[0]->loc, "the path must not be empty");
      sp.path_loc = e.loc;
      sp.is_table = true;
      return;
    }
    sp.others.push_back(stream_name_arg(e, s, table_ok));
  }

  stream_arg stream_name_arg(const ast::expr& e, const ast::stage& s, bool table_ok) {
    if (e.kind != ast::expr_kind::name)
      throw dsl_error(e.loc, fmt::format("{}() expects the name of a stream bound with 'let'{}, found {}",
                                         s.name, table_ok ? " or table(\"file.jsonl\")" : "",
                                         describe_expr(e)));
    if (!let_lines_.count(e.name))
      throw dsl_error(e.loc, fmt::format("unknown stream name '{}'{}", e.name,
                                         did_you_mean(e.name, let_names_)));
    return {e.name, e.loc};
  }

  static std::string describe_expr(const ast::expr& e) {
    if (e.kind == ast::expr_kind::literal)
      return e.lit.is_string() ? fmt::format("string {}", e.text) : fmt::format("'{}'", e.text);
    if (e.kind == ast::expr_kind::name) return fmt::format("'{}'", e.name);
    if (e.kind == ast::expr_kind::lambda) return "a lambda";
    return "an expression";
  }

  /// A lambda of exactly `n` parameters, else
  /// "update_state_by_key expects a function of 2 parameters (values, state), got 1".
  static void check_lambda(const ast::expr& e, const std::string& who, std::size_t n,
                           std::string_view params) {
    if (e.kind == ast::expr_kind::lambda && e.params.size() == n) return;
    std::string got = e.kind == ast::expr_kind::lambda ? std::to_string(e.params.size()) : describe_expr(e);
    throw dsl_error(e.loc, fmt::format("{} expects a function of {} parameters {}, got {}", who, n,
                                       params, got));
  }

  // ---- decoders, the bad-record policy, file/console sinks ----

  static bool io_stage(stage_kind k) {
    switch (k) {
      case stage_kind::parse_log:
      case stage_kind::parse_csv:
      case stage_kind::parse_json:
      case stage_kind::parse_regex:
      case stage_kind::write_text:
      case stage_kind::write_csv:
      case stage_kind::stdout_sink: return true;
      default: return false;
    }
  }

  /// on_error = fail | skip | dead_letter("path")
  on_error_spec on_error_arg(const ast::expr& e) {
    on_error_spec o;
    o.loc = e.loc;
    static const std::vector<std::string> choices = {"fail", "skip", "dead_letter"};
    if (e.kind == ast::expr_kind::name && e.name == "fail") return o;
    if (e.kind == ast::expr_kind::name && e.name == "skip") {
      o.action = weir::on_error::skip;
      return o;
    }
    if (e.kind == ast::expr_kind::call && e.name == "dead_letter") {
      if (!e.named.empty())
        throw dsl_error(e.named.front().loc, "dead_letter() takes no named arguments (usage: dead_letter(path))");
      if (e.args.size() != 1)
        throw dsl_error(e.loc, fmt::format("dead_letter() takes 1 argument, got {} (usage: dead_letter(path))",
                                           e.args.size()));
      o.dead_letter_path = string_arg(*e.args[0], "the dead-letter path");
      if (o.dead_letter_path.empty()) throw dsl_error(e.args[0]->loc, "the dead-letter path must not be empty");
      o.action = weir::on_error::dead_letter;
      return o;
    }
    if (e.kind == ast::expr_kind::name && e.name == "dead_letter")
      throw dsl_error(e.loc, "dead_letter needs a path: on_error = dead_letter(\"bad.jsonl\")");
    std::string got = e.kind == ast::expr_kind::name || e.kind == ast::expr_kind::call
                          ? fmt::format("'{}'{}", e.name, did_you_mean(e.name, choices))
                          : describe_expr(e);
    throw dsl_error(e.loc, fmt::format("on_error must be fail, skip or dead_letter(\"path\"), got {}", got));
  }

  /// A one-byte string argument (parse_csv's sep and quote).
  char char_arg(const ast::expr& e, std::string_view what) {
    std::string v = string_arg(e, what);
    if (v.size() != 1 || v == "\n" || v == "\r")
      throw dsl_error(e.loc, fmt::format("{} must be a single character (not a line break), got \"{}\"", what, v));
    return v[0];
  }

  void io_arg(stage_spec& sp, std::string_view pname, const ast::expr& e) {
    switch (sp.kind) {
      case stage_kind::parse_log: {
        std::string f = string_arg(e, "the log format");
        static const std::vector<std::string> formats = {"apache", "combined", "common"};
        if (f == "apache" || f == "combined") sp.log_format = io::log_format::combined;
        else if (f == "common") sp.log_format = io::log_format::common;
        else
          throw dsl_error(e.loc, fmt::format("unknown log format \"{}\"{}; parse_log knows \"apache\" (the "
                                             "combined format) and \"common\"",
                                             f, did_you_mean(f, formats)));
        return;
      }
      case stage_kind::parse_csv:
        if (pname == "header") {
          value v = evaluate_constant(e);
          if (!v.is_bool())
            throw dsl_error(e.loc, fmt::format("header must be true or false, got {}", kind_name(v.type())));
          sp.csv.header = v.as_bool();
        } else if (pname == "sep") {
          sp.csv.sep = char_arg(e, "sep");
        } else {
          sp.csv.quote = char_arg(e, "quote");
        }
        if (sp.csv.sep == sp.csv.quote) throw dsl_error(e.loc, "sep and quote must differ");
        return;
      case stage_kind::parse_json: {
        // fields = [".a", ".b[0]"] (output names: the paths without the dot)
        //        or {name: ".path", ...}
        value v = evaluate_constant(e);
        auto path = [&](const value& p, const std::string* name) {
          if (!p.is_string())
            throw dsl_error(e.loc, fmt::format("parse_json fields: a path must be a string like \".a.b[0]\", "
                                               "got {}",
                                               kind_name(p.type())));
          io::json_path jp;
          try {
            jp = io::json_path::parse(p.as_string());
          } catch (const pipeline_error& err) {
            throw dsl_error(e.loc, err.what());
          }
          if (name) jp.name = *name;
          sp.json.fields.push_back(std::move(jp));
        };
        if (v.is_string()) {
          path(v, nullptr);
        } else if (v.is_array()) {
          for (auto& p : v.as_array()) path(p, nullptr);
        } else if (v.is_object()) {
          for (auto& f : v.as_object()) {
            std::string name(f.name.as_string());
            path(f.val, &name);
          }
        } else {
          throw dsl_error(e.loc, fmt::format("parse_json fields must be a path, an array of paths or an "
                                             "object {{name: path}}, got {}",
                                             kind_name(v.type())));
        }
        if (sp.json.fields.empty()) throw dsl_error(e.loc, "parse_json fields must name at least one path");
        return;
      }
      case stage_kind::parse_regex:
        sp.pattern = string_arg(e, "the pattern");
        try {
          (void)io::make_regex_decoder(sp.pattern);
        } catch (const pipeline_error& err) {
          throw dsl_error(e.loc, err.what());
        }
        return;
      case stage_kind::write_text:
        if (pname == "dir") {
          sp.path = string_arg(e, "the folder");
          if (sp.path.empty()) throw dsl_error(e.loc, "the folder must not be empty");
          sp.path_loc = e.loc;
        } else if (pname == "prefix") {
          sp.prefix = string_arg(e, "the prefix");
          if (sp.prefix.empty() || sp.prefix.find('/') != std::string::npos)
            throw dsl_error(e.loc, "the prefix must be a non-empty file name (no '/')");
        } else {
          sp.suffix = string_arg(e, "the suffix");
          if (sp.suffix.find('/') != std::string::npos) throw dsl_error(e.loc, "the suffix must not contain '/'");
        }
        return;
      case stage_kind::write_csv:
        sp.path = string_arg(e, "the path");
        if (sp.path.empty()) throw dsl_error(e.loc, "the path must not be empty");
        sp.path_loc = e.loc;
        return;
      case stage_kind::stdout_sink: {
        std::string f = string_arg(e, "the format");
        static const std::vector<std::string> formats = {"jsonl", "text"};
        if (f == "jsonl") sp.out_format = io::stdout_format::jsonl;
        else if (f == "text") sp.out_format = io::stdout_format::text;
        else
          throw dsl_error(e.loc, fmt::format("unknown stdout format \"{}\"{} (jsonl or text)", f,
                                             did_you_mean(f, formats)));
        return;
      }
      default: return;
    }
  }

  void generator_arg(io::access_log_options& g, std::string_view pname, const ast::expr& e) {
    if (pname == "kind") {
      std::string kind = string_arg(e, "the generator");
      static const std::vector<std::string> generators = {"access_log", "ysb", "nexmark"};
      if (kind != "access_log" && kind != "ysb" && kind != "nexmark")
        throw dsl_error(e.loc, fmt::format("unknown generator \"{}\"{}", kind,
                                           did_you_mean(kind, generators)));
    } else if (pname == "rate") {
      g.rate = number_arg(e, "rate");
    } else if (pname == "count") {
      g.count = static_cast<std::uint64_t>(int_arg(e, "count", 0, std::numeric_limits<std::int64_t>::max()));
    } else if (pname == "duration") {
      g.duration = duration_arg(e, "duration");
    } else if (pname == "seed") {
      g.seed = static_cast<std::uint64_t>(int_arg(e, "seed", 0, std::numeric_limits<std::int64_t>::max()));
    } else if (pname == "paths") {
      g.paths = static_cast<std::size_t>(int_arg(e, "paths", 1, 1 << 30));
    } else if (pname == "zipf") {
      g.zipf_s = number_arg(e, "zipf");
    }
  }

  /// dir, socket, listen arguments (io::dir_options, socket_options, listen_options).
  void receiver_option(stage_spec& sp, std::string_view pname, const ast::expr& e) {
    if (pname == "path" || pname == "address") {
      sp.path = string_arg(e, pname);
      sp.path_loc = e.loc;
      if (sp.path.empty()) throw dsl_error(e.loc, fmt::format("the {} must not be empty", pname));
      if (sp.kind != stage_kind::dir) {
        try {  // "expected host:port" at the argument
          io::parse_endpoint(sp.path, sp.kind == stage_kind::listen, fmt::format("{}()", sp.name));
        } catch (const pipeline_error& err) {
          throw dsl_error(e.loc, err.what());
        }
      }
    } else if (pname == "include_existing" || pname == "reconnect") {
      value v = evaluate_constant(e);
      if (!v.is_bool())
        throw dsl_error(e.loc, fmt::format("{} must be true or false, got {}", pname, kind_name(v.type())));
      (pname == "reconnect" ? sp.socket.reconnect : sp.dir.include_existing) = v.as_bool();
    } else if (pname == "poll" || pname == "timeout") {
      auto d = duration_arg(e, pname);
      if (d.count() <= 0) throw dsl_error(e.loc, fmt::format("{} must be positive", pname));
      (pname == "poll" ? sp.dir.poll : sp.socket.connect_timeout) = d;
    } else if (pname == "retries") {
      sp.socket.retries = static_cast<int>(int_arg(e, "retries", 1, 1'000'000));
    } else if (pname == "connections") {
      sp.listen.connections =
          static_cast<std::uint64_t>(int_arg(e, "connections", 0, std::numeric_limits<std::int64_t>::max()));
    }
  }

  /// receiver("name", args...): a receiver registered from C++; the other
  /// arguments are constants handed to its factory.
  void custom_receiver_args(const ast::stage& s, const stage_def& d, stage_spec& sp) {
    if (!s.named.empty())
      throw dsl_error(s.named.front().loc,
                      fmt::format("unknown named argument '{}': receiver() takes positional arguments "
                                  "only (usage: {})",
                                  s.named.front().name, d.usage));
    if (s.args.empty())
      throw dsl_error(s.loc, fmt::format("wrong number of arguments: receiver() needs the name of a "
                                         "registered receiver (usage: {})",
                                         d.usage));
    sp.path = string_arg(*s.args[0], "the receiver name");
    sp.path_loc = s.args[0]->loc;
    if (!io::find_receiver(sp.path)) {
      auto names = io::registered_receivers();
      throw dsl_error(s.args[0]->loc,
                      fmt::format("unknown receiver \"{}\"{}; receivers are registered from C++ with "
                                  "weir::register_receiver{}",
                                  sp.path, did_you_mean(sp.path, names),
                                  names.empty() ? " (none is registered)" : ""));
    }
    for (std::size_t i = 1; i < s.args.size(); ++i) sp.receiver_args.push_back(evaluate_constant(*s.args[i]));
  }

  /// kafka(...) and kafka_out(...) arguments, checked here so that bad values
  /// are reported at the argument.
  void kafka_arg(stage_spec& sp, const std::string& stage, std::string_view pname, const ast::expr& e) {
    const bool sink = sp.kind == stage_kind::kafka_out;
    auto nonempty = [&](std::string_view what) {
      std::string v = string_arg(e, what);
      if (v.empty()) throw dsl_error(e.loc, fmt::format("{} {} must not be empty", stage, what));
      return v;
    };
    if (pname == "topics" || pname == "topic") {
      std::string v = nonempty(pname);
      if (sink) {
        if (v.find(',') != std::string::npos)
          throw dsl_error(e.loc, fmt::format("kafka_out writes to one topic, got \"{}\"", v));
        sp.kafka_sink.topic = v;
        return;
      }
      sp.kafka.topics.clear();
      std::size_t b = 0;
      for (;;) {
        std::size_t c = v.find(',', b);
        std::string t = v.substr(b, c == std::string::npos ? std::string::npos : c - b);
        if (t.empty()) throw dsl_error(e.loc, fmt::format("empty topic name in \"{}\"", v));
        sp.kafka.topics.push_back(std::move(t));
        if (c == std::string::npos) break;
        b = c + 1;
      }
    } else if (pname == "brokers") {
      (sink ? sp.kafka_sink.brokers : sp.kafka.brokers) = nonempty("brokers");
    } else if (pname == "parallelism") {
      sp.kafka.parallelism = static_cast<int>(int_arg(e, "parallelism", 1, 1 << 12));
    } else if (pname == "group") {
      sp.kafka.group = nonempty("group");
    } else if (pname == "start") {
      std::string v = string_arg(e, "start");
      static const std::vector<std::string> starts = {"earliest", "latest", "committed"};
      if (v == "earliest") sp.kafka.start = io::kafka_start::earliest;
      else if (v == "latest") sp.kafka.start = io::kafka_start::latest;
      else if (v == "committed") sp.kafka.start = io::kafka_start::committed;
      else
        throw dsl_error(e.loc, fmt::format("start must be \"earliest\", \"latest\" or \"committed\", got \"{}\"{}",
                                           v, did_you_mean(v, starts)));
    } else if (pname == "metadata") {
      value v = evaluate_constant(e);
      if (!v.is_bool())
        throw dsl_error(e.loc, fmt::format("metadata must be true or false, got {}", kind_name(v.type())));
      sp.kafka.metadata = v.as_bool();
    } else if (pname == "until") {
      std::string v = string_arg(e, "until");
      if (v != "end")
        throw dsl_error(e.loc, fmt::format("until must be \"end\" (stop at the partitions' ends at start), got \"{}\"", v));
      sp.kafka.until_end = true;
    } else if (pname == "timeout") {
      auto d = duration_arg(e, "timeout");
      if (d.count() <= 0) throw dsl_error(e.loc, "timeout must be positive");
      (sink ? sp.kafka_sink.timeout : sp.kafka.timeout) = d;
    } else if (pname == "key") {
      sp.key = compile_element_function(e, "kafka_out(key = ...)");
      sp.has_key = true;
    }
  }

  reducer reducer_arg(const ast::expr& e, const std::string& who) {
    if (e.kind == ast::expr_kind::name) {
      if (e.name == "sum") return reducer::sum();
      if (e.name == "sub") return reducer::sub();
      if (e.name == "min") return reducer::min();
      if (e.name == "max") return reducer::max();
      if (e.name == "count") return reducer::count();
      std::vector<std::string> cands(std::begin(reducer_names), std::end(reducer_names));
      throw dsl_error(e.loc, fmt::format("unknown reducer '{}'{}", e.name, did_you_mean(e.name, cands)));
    }
    if (e.kind == ast::expr_kind::lambda) {
      check_lambda(e, who, 2, "(a, b)");
      return reducer::custom(compile_reducer_lambda(e), "lambda");
    }
    if (e.kind == ast::expr_kind::call) {
      for (auto& r : reducer_names)
        if (r == e.name)
          throw dsl_error(e.loc, fmt::format("write the reducer without parentheses: '{}'", e.name));
    }
    throw dsl_error(e.loc, "expected a reducer: sum, sub, min, max, count or a lambda (a, b) => ...");
  }

  /// combine_by_key's merge functions: a 2-parameter lambda, or sum, sub, min, max.
  std::function<value(const value&, const value&)> merge_arg(const ast::expr& e, const std::string& who,
                                                             const param_def& p) {
    if (e.kind == ast::expr_kind::name && e.name == "count")
      throw dsl_error(e.loc, fmt::format("{} cannot be 'count'; write the function, e.g. {}",
                                         who, p.name == "merge_value" ? "(c, v) => c + 1" : "(a, b) => a + b"));
    if (e.kind == ast::expr_kind::name) {
      for (auto& r : reducer_names)
        if (r == e.name) {
          reducer red = reducer_arg(e, who);
          return [red](const value& a, const value& b) { return red.apply(a, b); };
        }
    }
    check_lambda(e, who, 2, p.lambda_params);
    return compile_binary_function(e, std::string(who.substr(0, who.find(' '))));
  }

  std::chrono::milliseconds duration_arg(const ast::expr& e, std::string_view what) {
    if (e.kind != ast::expr_kind::literal || !e.is_duration) {
      std::string found = e.kind == ast::expr_kind::literal ? fmt::format("'{}'", e.text)
                                                            : std::string("an expression");
      throw dsl_error(e.loc, fmt::format("{} must be a duration like 500ms, 10s, 5m or 1h, found {}",
                                         what, found));
    }
    return std::chrono::milliseconds(e.lit.as_int());
  }

  std::int64_t int_arg(const ast::expr& e, std::string_view what, std::int64_t lo, std::int64_t hi) {
    value v = evaluate_constant(e);
    if (!v.is_int())
      throw dsl_error(e.loc, fmt::format("{} must be an integer, got {}", what, kind_name(v.type())));
    if (v.as_int() < lo || v.as_int() > hi)
      throw dsl_error(e.loc, fmt::format("{} must be between {} and {}, got {}", what, lo, hi, v.as_int()));
    return v.as_int();
  }

  double number_arg(const ast::expr& e, std::string_view what) {
    value v = evaluate_constant(e);
    if (!v.is_number())
      throw dsl_error(e.loc, fmt::format("{} must be a number, got {}", what, kind_name(v.type())));
    if (v.as_number() < 0) throw dsl_error(e.loc, fmt::format("{} must not be negative", what));
    return v.as_number();
  }

  std::string string_arg(const ast::expr& e, std::string_view what) {
    value v = evaluate_constant(e);
    if (!v.is_string())
      throw dsl_error(e.loc, fmt::format("{} must be a string, got {}", what, kind_name(v.type())));
    return std::string(v.as_string());
  }

  pipeline_spec spec_;
  std::map<std::string, int> set_lines_;
  std::map<std::string, int> let_lines_;
  std::vector<std::string> let_names_;
  std::map<std::string, bool> let_with_state_;  ///< let name -> bound to map_with_state's stream
  bool stdin_used_ = false;
};

}  // namespace

pipeline_spec analyze(const ast::script& script) { return analyzer().run(script); }

pipeline_spec compile_script(std::string_view text, const std::string& file) {
  return analyze(parse_script(text, file));
}

std::vector<std::string> source_names() { return names_with(role::source); }
std::vector<std::string> operator_names() { return names_with(role::op, role::sink); }
std::vector<std::string> setting_names() {
  return {"batch_interval", "parallelism", "batch_size", "edge_capacity", "threads", "mode", "linger"};
}

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) return fmt::format("{}h", ms / 3'600'000);
  if (ms != 0 && ms % 60'000 == 0) return fmt::format("{}m", ms / 60'000);
  if (ms != 0 && ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

}  // namespace weir::dsl
