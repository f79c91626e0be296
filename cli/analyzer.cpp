// weir — the analyzer: checks a parsed script statement by statement and
// compiles it into a pipeline_spec. It owns the script's structure — `set`
// settings, `let` streams, where sources, operators and sinks may stand — and
// resolves each stage in the registry (stage_registry.hpp), whose entries
// check and bind their own arguments. docs/architecture.md §7.
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "weir/cli/arguments.hpp"
#include "weir/cli/parser.hpp"
#include "weir/cli/pipeline_spec.hpp"
#include "weir/cli/stage_registry.hpp"
#include "weir/cli/suggest.hpp"
#include "weir/common/deep_stack.hpp"
#include "weir/common/time.hpp"

namespace weir::dsl {

namespace {

class analyzer {
public:
  pipeline_spec run(const ast::script& s) {
    spec_.file = s.file;
    for (auto& original : s.statements) {
      // after a `let` constant, later statements see it as a literal
      std::optional<ast::statement> substituted;
      if (!consts_.empty()) substituted = substitute(original);
      const ast::statement& st = substituted ? *substituted : original;
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

  // ---- let constants ------------------------------------------------------

  /// A `let` constant: its value, and how a use of it reads (a duration
  /// literal such as `1m` stays one, so it can be a window size).
  struct constant_def {
    value v;
    bool is_duration = false;
    std::string text;
  };

  static bool has_duration(const ast::expr& e) {
    if (e.kind == ast::expr_kind::literal) return e.is_duration;
    for (auto& a : e.args)
      if (has_duration(*a)) return true;
    return false;
  }

  /// `e` with every name that is a constant (and not a lambda parameter
  /// there) replaced by its value, at the name's place.
  ast::expr_ptr substitute(const ast::expr& e, std::vector<std::string>& shadow) const {
    if (e.kind == ast::expr_kind::name &&
        std::find(shadow.begin(), shadow.end(), e.name) == shadow.end()) {
      if (auto it = consts_.find(e.name); it != consts_.end()) {
        auto lit = std::make_unique<ast::expr>();
        lit->kind = ast::expr_kind::literal;
        lit->loc = e.loc;
        lit->lit = it->second.v;
        lit->is_duration = it->second.is_duration;
        lit->text = it->second.text;
        return lit;
      }
    }
    auto c = std::make_unique<ast::expr>();
    c->kind = e.kind;
    c->loc = e.loc;
    c->lit = e.lit;
    c->is_duration = e.is_duration;
    c->name = e.name;
    c->op = e.op;
    c->keys = e.keys;
    c->params = e.params;
    c->text = e.text;
    c->depth = e.depth;
    const std::size_t before = shadow.size();
    if (e.kind == ast::expr_kind::lambda) shadow.insert(shadow.end(), e.params.begin(), e.params.end());
    for (auto& a : e.args) c->args.push_back(substitute(*a, shadow));
    for (auto& n : e.named) c->named.push_back({n.name, n.loc, substitute(*n.val, shadow)});
    shadow.resize(before);
    return c;
  }

  ast::statement substitute(const ast::statement& st) const {
    ast::statement out;
    out.kind = st.kind;
    out.loc = st.loc;
    out.name = st.name;
    out.name_loc = st.name_loc;
    std::vector<std::string> shadow;
    if (st.setting) out.setting = substitute(*st.setting, shadow);
    for (auto& s : st.stages) {
      ast::stage c;
      c.name = s.name;
      c.loc = s.loc;
      c.has_parens = s.has_parens;
      for (auto& a : s.args) c.args.push_back(substitute(*a, shadow));
      for (auto& n : s.named) c.named.push_back({n.name, n.loc, substitute(*n.val, shadow)});
      out.stages.push_back(std::move(c));
    }
    return out;
  }

  static bool is_function(const std::string& name) {
    auto fns = function_names();
    return std::find(fns.begin(), fns.end(), name) != fns.end();
  }

  /// The constant expression of a `let`, if it binds a constant: its
  /// expression, or a one-stage "pipeline" that is a function call or names
  /// another constant. Null for a stream.
  const ast::expr* constant_expr(const ast::statement& st, ast::expr_ptr& owned) const {
    if (st.setting) return st.setting.get();
    if (st.stages.size() != 1) return nullptr;
    const ast::stage& s = st.stages.front();
    if (find_stage(s.name) || let_lines_.count(s.name) > consts_.count(s.name)) return nullptr;
    if (auto it = consts_.find(s.name); it != consts_.end() && !s.has_parens) {  // let B = A
      owned = std::make_unique<ast::expr>();
      owned->kind = ast::expr_kind::literal;
      owned->loc = s.loc;
      owned->lit = it->second.v;
      owned->is_duration = it->second.is_duration;
      owned->text = it->second.text;
      owned->depth = 1;
      return owned.get();
    }
    if (s.has_parens && is_function(s.name)) {
      owned = std::make_unique<ast::expr>();
      owned->kind = ast::expr_kind::call;
      owned->loc = s.loc;
      owned->name = s.name;
      int depth = 0;
      for (auto& a : s.args) {
        owned->args.push_back(ast::clone(*a));
        depth = std::max(depth, a->depth);
      }
      for (auto& n : s.named) {
        owned->named.push_back({n.name, n.loc, ast::clone(*n.val)});
        depth = std::max(depth, n.val->depth);
      }
      owned->depth = depth + 1;
      return owned.get();
    }
    return nullptr;
  }

  void check_constant_name(const ast::statement& st) const {
    static const std::vector<std::string> reserved = {"avg", "stddev", "count_distinct", "first", "last",
                                                      "collect_list", "fail", "skip", "if"};
    if (is_function(st.name))
      throw dsl_error(st.name_loc, fmt::format("'{}' is the name of a function; choose another constant name", st.name));
    if (std::find(reserved.begin(), reserved.end(), st.name) != reserved.end())
      throw dsl_error(st.name_loc, fmt::format("'{}' is a name the DSL uses (an aggregation, an on_error action "
                                               "or if); choose another constant name",
                                               st.name));
  }

  void constant(const ast::statement& st, const ast::expr& e) {
    check_constant_name(st);
    if (e.kind == ast::expr_kind::lambda)
      throw dsl_error(e.loc, "a 'let' binds a stream or a constant, not a lambda; write the lambda where it is used");
    constant_def c;
    c.v = evaluate_constant(e);
    c.is_duration = c.v.is_int() && has_duration(e);
    c.text = c.is_duration ? format_duration(std::chrono::milliseconds(c.v.as_int())) : c.v.to_json();
    consts_[st.name] = std::move(c);
    let_lines_[st.name] = st.loc.line;
  }

  void let(const ast::statement& st) {
    if (find_stage(st.name))
      throw dsl_error(st.name_loc,
                      fmt::format("'{}' is the name of an operator; choose another stream name", st.name));
    for (auto& r : reducer_names())
      if (r == st.name)
        throw dsl_error(st.name_loc,
                        fmt::format("'{}' is the name of a reducer; choose another stream name", st.name));
    if (auto it = let_lines_.find(st.name); it != let_lines_.end())
      throw dsl_error(st.name_loc, fmt::format("{} '{}' is already defined (line {})",
                                               consts_.count(st.name) ? "constant" : "stream", st.name, it->second));
    ast::expr_ptr owned;
    if (const ast::expr* e = constant_expr(st, owned)) {
      constant(st, *e);
      return;
    }
    pipeline_def def = pipeline(st, true);
    def.name = st.name;
    let_lines_[st.name] = st.loc.line;
    let_names_.push_back(st.name);
    let_with_state_[st.name] = returns_state_stream(def.stages.back());
    spec_.streams.push_back(std::move(def));
  }

  /// True if `sp` yields the stream map_with_state returns (state_snapshots() may follow).
  bool returns_state_stream(const stage_spec& sp) const {
    if (sp.def == &stream_ref_def()) {
      auto it = let_with_state_.find(sp.name);
      return it != let_with_state_.end() && it->second;
    }
    return sp.def->traits.yields_state_stream;
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
        if (consts_.count(s.name))
          throw dsl_error(s.loc, fmt::format("'{}' is a constant, not an operator", s.name));
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
      if (d->role == stage_role::source)
        throw dsl_error(s.loc, fmt::format("source '{}' cannot be used mid-pipeline; a pipeline "
                                           "starts with its source",
                                           s.name));
      if (d->role == stage_role::sink && !last)
        throw dsl_error(s.loc, fmt::format("sink '{}' must be the last stage of a pipeline", s.name));
      if (d->role == stage_role::sink && is_let)
        throw dsl_error(s.loc, fmt::format("a 'let' binds a stream and cannot end in the sink '{}'; "
                                           "use the stream in a separate pipeline: {} | {}(...)",
                                           s.name, st.name, s.name));
      if (d->traits.needs_state_stream && !returns_state_stream(def.stages.back()))
        throw dsl_error(s.loc, "state_snapshots() must come right after map_with_state, or start "
                               "from a stream bound to one: ... | map_with_state(f) | state_snapshots()");
      def.stages.push_back(bind(s, *d));
    }
    if (!is_let) {
      const ast::stage& lastst = st.stages.back();
      const stage_def* d = find_stage(lastst.name);
      if (!d || d->role != stage_role::sink)
        throw dsl_error(st.loc, "pipeline has no sink (end it with | print(), | write_jsonl(path) "
                                "or | collect(path))");
    }
    return def;
  }

  stage_spec first_stage(const ast::stage& s, const stage_def* d) {
    if (d && d->role == stage_role::source) {
      if (d->traits.once_per_script) {
        if (!once_used_.insert(std::string(d->name)).second)
          throw dsl_error(s.loc, fmt::format("{}() can be read only once; bind it with 'let' and use the "
                                             "stream name twice",
                                             d->name));
      }
      return bind(s, *d);
    }
    if (consts_.count(s.name))
      throw dsl_error(s.loc, fmt::format("'{}' is a constant, not a stream; a pipeline starts with a source or a "
                                         "stream bound with 'let'",
                                         s.name));
    if (let_lines_.count(s.name)) {
      if (s.has_parens)
        throw dsl_error(s.loc, fmt::format("'{}' is a stream; write it without parentheses", s.name));
      stage_spec sp;
      sp.def = &stream_ref_def();
      sp.name = s.name;
      sp.loc = s.loc;
      sp.args = std::make_shared<no_args>();
      return sp;
    }
    if (d)
      throw dsl_error(s.loc, fmt::format("{} '{}' needs an input: start the pipeline with a source "
                                         "(file, stdin, generate, batches) or a stream name",
                                         d->role == stage_role::sink ? "sink" : "operator", s.name));
    if (s.has_parens)
      throw dsl_error(s.loc, fmt::format("unknown source '{}'{}", s.name,
                                         did_you_mean(s.name, source_names())));
    std::vector<std::string> cands = let_names_;
    for (auto& n : source_names()) cands.push_back(n);
    throw dsl_error(s.loc, fmt::format("unknown stream name '{}'{}", s.name, did_you_mean(s.name, cands)));
  }

  // ---- a stage's arguments ------------------------------------------------

  /// Sources and decoders take `time = expr, watermark = d, idle_timeout = d`:
  /// the stream gets event time and a watermark right there.
  static void event_time_args(const ast::stage& s, event_time_spec& et) {
    for (auto& na : s.named) {
      if (na.name == "time") {
        et.time = compile_element_function(*na.val, fmt::format("{}(time = ...)", s.name));
        et.set = true;
        et.loc = na.val->loc;
        et.form = expr_form(*na.val);
      } else if (na.name == "watermark") {
        et.watermark = delay_arg(*na.val, "watermark delay");
        et.has_watermark = true;
      } else if (na.name == "idle_timeout") {
        et.idle_timeout = delay_arg(*na.val, "idle_timeout");
      }
    }
    if (!et.set)
      for (auto& na : s.named)
        if (na.name == "watermark" || na.name == "idle_timeout")
          throw dsl_error(na.loc, fmt::format("{} needs the event time: add time = expr (e.g. time = _.time)", na.name));
  }

  /// The stage's entry checks and binds its arguments; the binder takes the
  /// event-time options and `on_error`, which the builder applies.
  stage_spec bind(const ast::stage& s, const stage_def& d) {
    stage_spec sp;
    sp.def = &d;
    sp.name = s.name;
    sp.loc = s.loc;
    if (d.role == stage_role::source || d.traits.timed) event_time_args(s, sp.event_time);
    stage_args args(s, d, let_names_);
    sp.args = d.bind(args);
    if (args.takes("on_error")) args.get("on_error", sp.on_error);
    args.check_all_read();
    return sp;
  }

  pipeline_spec spec_;
  std::map<std::string, int> set_lines_;
  std::map<std::string, int> let_lines_;           ///< streams and constants
  std::map<std::string, constant_def> consts_;
  std::vector<std::string> let_names_;
  std::map<std::string, bool> let_with_state_;  ///< let name -> bound to map_with_state's stream
  std::set<std::string> once_used_;             ///< stages that can be used once only (stdin)
};

}  // namespace

pipeline_spec analyze(const ast::script& script) {
  // on a stack of known size: the parser bounds the nesting, not `ulimit -s`
  return with_stack(deep_stack_bytes, [&] { return analyzer().run(script); });
}

pipeline_spec compile_script(std::string_view text, const std::string& file) {
  return analyze(parse_script(text, file));
}

std::vector<std::string> setting_names() {
  return {"batch_interval", "parallelism", "batch_size", "edge_capacity", "threads", "mode", "linger"};
}

std::string format_duration(std::chrono::milliseconds d) { return duration_text(d.count()); }

}  // namespace weir::dsl
