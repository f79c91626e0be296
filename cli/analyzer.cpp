// Checks a parsed script and compiles it into a pipeline_spec.
#include <algorithm>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "weir/cli/parser.hpp"
#include "weir/cli/pipeline_spec.hpp"
#include "weir/cli/suggest.hpp"

namespace weir::dsl {

namespace {

enum class role { source, op, sink };
enum class param_type { function, reducer, duration, count, number, string };

struct param_def {
  std::string_view name;
  param_type type;
  bool required;
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
  static const std::vector<stage_def> t = {
      {"file", stage_kind::file, role::source, {{"path", P::string, true}}, "file(path)"},
      {"stdin", stage_kind::stdin_lines, role::source, {}, "stdin()"},
      {"generate", stage_kind::generate, role::source,
       {{"kind", P::string, true}, {"rate", P::number, false}, {"count", P::count, false},
        {"duration", P::duration, false}, {"seed", P::count, false}, {"paths", P::count, false},
        {"zipf", P::number, false}},
       "generate(\"access_log\", rate = N, count = N, duration = D, seed = N, paths = N, zipf = X)"},
      {"map", stage_kind::map, role::op, {{"f", P::function, true}}, "map(expr)"},
      {"flat_map", stage_kind::flat_map, role::op, {{"f", P::function, true}}, "flat_map(expr)"},
      {"filter", stage_kind::filter, role::op, {{"f", P::function, true}}, "filter(expr)"},
      {"count", stage_kind::count, role::op, {}, "count()"},
      {"reduce_by_key", stage_kind::reduce_by_key, role::op, {{"func", P::reducer, true}},
       "reduce_by_key(func)"},
      {"reduce_by_key_and_window", stage_kind::reduce_by_key_and_window, role::op,
       {{"func", P::reducer, true}, {"window", P::duration, true}, {"slide", P::duration, false}},
       "reduce_by_key_and_window(func, window, slide)"},
      {"top", stage_kind::top, role::op, {{"n", P::count, true}, {"by", P::function, false}},
       "top(n, by = expr)"},
      {"print", stage_kind::print, role::sink, {{"n", P::count, false}}, "print(n = 10)"},
      {"write_jsonl", stage_kind::write_jsonl, role::sink, {{"path", P::string, true}},
       "write_jsonl(path)"},
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
    spec_.streams.push_back(std::move(def));
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
      def.stages.push_back(bind(s, *d));
    }
    if (!is_let) {
      const ast::stage& lastst = st.stages.back();
      const stage_def* d = find_stage(lastst.name);
      if (!d || d->r != role::sink)
        throw dsl_error(st.loc, "pipeline has no sink (end it with | print() or | write_jsonl(path))");
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
                                         "(file, stdin, generate) or a stream name",
                                         d->r == role::sink ? "sink" : "operator", s.name));
    if (s.has_parens)
      throw dsl_error(s.loc, fmt::format("unknown source '{}'{}", s.name,
                                         did_you_mean(s.name, source_names())));
    std::vector<std::string> cands = let_names_;
    for (auto& n : source_names()) cands.push_back(n);
    throw dsl_error(s.loc, fmt::format("unknown stream name '{}'{}", s.name, did_you_mean(s.name, cands)));
  }

  // ---- arguments --------------------------------------------------------

  stage_spec bind(const ast::stage& s, const stage_def& d) {
    stage_spec sp;
    sp.kind = d.kind;
    sp.name = s.name;
    sp.loc = s.loc;
    std::vector<const ast::expr*> given(d.params.size(), nullptr);
    if (s.args.size() > d.params.size()) {
      throw dsl_error(s.args[d.params.size()]->loc,
                      fmt::format("wrong number of arguments: {}() takes {}, got {} (usage: {})",
                                  s.name, plural(d.params.size(), "argument"), s.args.size(), d.usage));
    }
    for (std::size_t i = 0; i < s.args.size(); ++i) given[i] = s.args[i].get();
    for (auto& na : s.named) {
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
      std::string_view pname = d.params[k].name;
      std::string what = fmt::format("{}()", s.name);
      switch (d.kind) {
        case stage_kind::file:
        case stage_kind::write_jsonl:
          sp.path = string_arg(*e, "path");
          if (sp.path.empty()) throw dsl_error(e->loc, "the path must not be empty");
          break;
        case stage_kind::generate: generator_arg(sp.generator, pname, *e); break;
        case stage_kind::map:
        case stage_kind::flat_map:
        case stage_kind::filter:
          sp.fn = compile_element_function(*e, what);
          sp.has_fn = true;
          break;
        case stage_kind::top:
          if (pname == "n") {
            sp.n = static_cast<std::size_t>(int_arg(*e, "n", 1, 1 << 30));
          } else {
            sp.fn = compile_element_function(*e, what);
            sp.has_fn = true;
          }
          break;
        case stage_kind::print:
          sp.n = static_cast<std::size_t>(int_arg(*e, "n", 0, 1 << 30));
          break;
        case stage_kind::reduce_by_key:
        case stage_kind::reduce_by_key_and_window:
          if (pname == "func") {
            sp.reduce = reducer_arg(*e);
          } else if (pname == "window") {
            sp.window = duration_arg(*e, "window");
            sp.window_loc = e->loc;
            if (sp.window.count() <= 0) throw dsl_error(e->loc, "window must be positive");
          } else {
            sp.slide = duration_arg(*e, "slide");
            sp.slide_loc = e->loc;
            if (sp.slide.count() <= 0) throw dsl_error(e->loc, "slide must be positive");
          }
          break;
        default: break;
      }
    }
    return sp;
  }

  void generator_arg(io::access_log_options& g, std::string_view pname, const ast::expr& e) {
    if (pname == "kind") {
      std::string kind = string_arg(e, "the generator");
      static const std::vector<std::string> generators = {"access_log"};
      if (kind != "access_log")
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

  reducer reducer_arg(const ast::expr& e) {
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
      if (e.params.size() != 2)
        throw dsl_error(e.loc, fmt::format("a reducer lambda takes 2 parameters, (a, b) => ..., "
                                           "not {}",
                                           e.params.size()));
      return reducer::custom(compile_reducer_lambda(e), "lambda");
    }
    if (e.kind == ast::expr_kind::call) {
      for (auto& r : reducer_names)
        if (r == e.name)
          throw dsl_error(e.loc, fmt::format("write the reducer without parentheses: '{}'", e.name));
    }
    throw dsl_error(e.loc, "expected a reducer: sum, sub, min, max, count or a lambda (a, b) => ...");
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
  return {"batch_interval", "parallelism", "batch_size", "edge_capacity", "threads"};
}

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) return fmt::format("{}h", ms / 3'600'000);
  if (ms != 0 && ms % 60'000 == 0) return fmt::format("{}m", ms / 60'000);
  if (ms != 0 && ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

}  // namespace weir::dsl
