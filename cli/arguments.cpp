// weir — one DSL argument checked and converted (arguments.hpp), and a stage
// call's arguments matched to its parameters and converted by type
// (stage_args, stage_registry.hpp).
#include "weir/cli/arguments.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "weir/cli/stage_registry.hpp"
#include "weir/cli/suggest.hpp"

namespace weir::dsl {

namespace {

constexpr std::string_view reducers[] = {"sum", "sub", "min", "max", "count"};

std::string plural(std::size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

}  // namespace

std::span<const std::string_view> reducer_names() { return reducers; }

// ---- single arguments --------------------------------------------------------

std::chrono::milliseconds duration_arg(const ast::expr& e, std::string_view what) {
  if (e.kind != ast::expr_kind::literal || !e.is_duration) {
    std::string found = e.kind == ast::expr_kind::literal ? fmt::format("'{}'", e.text)
                                                          : std::string("an expression");
    throw dsl_error(e.loc, fmt::format("{} must be a duration like 500ms, 10s, 5m or 1h, found {}",
                                       what, found));
  }
  return std::chrono::milliseconds(e.lit.as_int());
}

std::chrono::milliseconds delay_arg(const ast::expr& e, std::string_view what) {
  if (e.kind == ast::expr_kind::unary && e.op == tok::minus && e.args.size() == 1 &&
      e.args[0]->kind == ast::expr_kind::literal && e.args[0]->is_duration)
    throw dsl_error(e.loc, fmt::format("{} must not be negative, got -{}", what, e.args[0]->text));
  return duration_arg(e, what);
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

bool bool_arg(const ast::expr& e, std::string_view what) {
  value v = evaluate_constant(e);
  if (!v.is_bool())
    throw dsl_error(e.loc, fmt::format("{} must be true or false, got {}", what, kind_name(v.type())));
  return v.as_bool();
}

char char_arg(const ast::expr& e, std::string_view what) {
  std::string v = string_arg(e, what);
  if (v.size() != 1 || v == "\n" || v == "\r")
    throw dsl_error(e.loc, fmt::format("{} must be a single character (not a line break), got \"{}\"", what, v));
  return v[0];
}

std::string expr_form(const ast::expr& e) {
  std::string s = fmt::format("({} {} {} {}", static_cast<int>(e.kind), static_cast<int>(e.op), e.name,
                              e.kind == ast::expr_kind::literal ? e.lit.to_json() : std::string());
  if (e.is_duration) s += " d";
  for (auto& p : e.params) s += " p:" + p;
  for (auto& k : e.keys) s += " k:" + k;
  for (auto& a : e.args) s += " " + (a ? expr_form(*a) : std::string("()"));
  for (auto& n : e.named) s += " " + n.name + "=" + (n.val ? expr_form(*n.val) : std::string("()"));
  return s + ")";
}

std::string describe_expr(const ast::expr& e) {
  if (e.kind == ast::expr_kind::literal)
    return e.lit.is_string() ? fmt::format("string {}", e.text) : fmt::format("'{}'", e.text);
  if (e.kind == ast::expr_kind::name) return fmt::format("'{}'", e.name);
  if (e.kind == ast::expr_kind::lambda) return "a lambda";
  return "an expression";
}

void check_lambda(const ast::expr& e, const std::string& who, std::size_t n, std::string_view params) {
  if (e.kind == ast::expr_kind::lambda && e.params.size() == n) return;
  std::string got = e.kind == ast::expr_kind::lambda ? std::to_string(e.params.size()) : describe_expr(e);
  throw dsl_error(e.loc, fmt::format("{} expects a function of {} parameters {}, got {}", who, n,
                                     params, got));
}

reducer reducer_arg(const ast::expr& e, const std::string& who) {
  if (e.kind == ast::expr_kind::name) {
    if (e.name == "sum") return reducer::sum();
    if (e.name == "sub") return reducer::sub();
    if (e.name == "min") return reducer::min();
    if (e.name == "max") return reducer::max();
    if (e.name == "count") return reducer::count();
    std::vector<std::string> cands(std::begin(reducers), std::end(reducers));
    throw dsl_error(e.loc, fmt::format("unknown reducer '{}'{}", e.name, did_you_mean(e.name, cands)));
  }
  if (e.kind == ast::expr_kind::lambda) {
    check_lambda(e, who, 2, "(a, b)");
    return reducer::custom(compile_reducer_lambda(e), "lambda");
  }
  if (e.kind == ast::expr_kind::call) {
    for (auto& r : reducers)
      if (r == e.name) throw dsl_error(e.loc, fmt::format("write the reducer without parentheses: '{}'", e.name));
  }
  throw dsl_error(e.loc, "expected a reducer: sum, sub, min, max, count or a lambda (a, b) => ...");
}

binary_fn merge_arg(const ast::expr& e, const std::string& who, std::string_view lambda_params,
                    std::string_view example) {
  if (e.kind == ast::expr_kind::name && e.name == "count")
    throw dsl_error(e.loc, fmt::format("{} cannot be 'count'; write the function, e.g. {}", who, example));
  if (e.kind == ast::expr_kind::name) {
    for (auto& r : reducers)
      if (r == e.name) {
        reducer red = reducer_arg(e, who);
        return [red](const value& a, const value& b) { return red.apply(a, b); };
      }
  }
  check_lambda(e, who, 2, lambda_params);
  return compile_binary_function(e, std::string(who.substr(0, who.find(' '))));
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

std::vector<named_aggregation> aggregations_arg(const ast::expr& e) {
  using K = named_aggregation::kind;
  static const std::vector<std::pair<std::string, K>> kinds = {
      {"count", K::count},         {"sum", K::sum},     {"min", K::min},   {"max", K::max},
      {"avg", K::avg},             {"stddev", K::stddev}, {"count_distinct", K::count_distinct},
      {"first", K::first},         {"last", K::last},   {"collect_list", K::collect_list}};
  std::vector<std::string> names;
  for (auto& k : kinds) names.push_back(k.first);
  const auto usage = "aggs must be an object of named aggregations, e.g. aggs = {n: count, high: max(.price)}";
  if (e.kind != ast::expr_kind::object) throw dsl_error(e.loc, usage);
  if (e.args.empty()) throw dsl_error(e.loc, "aggs must name at least one aggregation");
  std::vector<named_aggregation> out;
  for (std::size_t i = 0; i < e.args.size(); ++i) {
    const ast::expr& a = *e.args[i];
    const std::string& name = e.keys[i];
    if (name == "start" || name == "end" || name == "key")
      throw dsl_error(a.loc, fmt::format("aggs: '{}' is a field of every result (start, end, key); name the "
                                         "aggregation otherwise",
                                         name));
    std::string fn;
    if (a.kind == ast::expr_kind::name || a.kind == ast::expr_kind::call) fn = a.name;
    auto it = std::find_if(kinds.begin(), kinds.end(), [&](auto& k) { return k.first == fn; });
    if (it == kinds.end()) {
      std::string got = fn.empty() ? describe_expr(a) : fmt::format("'{}'{}", fn, did_you_mean(fn, names));
      throw dsl_error(a.loc, fmt::format("aggs.{}: expected an aggregation: count, sum(e), min(e), max(e), avg(e), "
                                         "stddev(e), count_distinct(e), first(e), last(e) or collect_list(e), got {}",
                                         name, got));
    }
    named_aggregation na;
    na.name = name;
    na.type = it->second;
    if (a.kind == ast::expr_kind::name) {
      if (na.type != K::count)
        throw dsl_error(a.loc, fmt::format("aggs.{}: {} needs the value to aggregate: {}(.field)", name, fn, fn));
    } else {
      if (!a.named.empty())
        throw dsl_error(a.named.front().loc, fmt::format("aggs.{}: {}() takes no named arguments", name, fn));
      if (a.args.size() != 1)
        throw dsl_error(a.loc, fmt::format("aggs.{}: {}() takes 1 argument, the value (e.g. {}(.price)), got {}", name,
                                           fn, fn, a.args.size()));
      na.value = compile_element_function(*a.args[0], fmt::format("aggs.{}", name));
    }
    out.push_back(std::move(na));
  }
  return out;
}

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

// ---- a stage call's arguments ------------------------------------------------

stage_args::stage_args(const ast::stage& call, const stage_def& def, std::span<const std::string> lets)
    : call_(call), def_(def), lets_(lets), given_(def.params.size(), nullptr), read_(def.params.size(), false) {
  if (def.traits.own_arguments) return;
  const auto& params = def.params;
  if (call.args.size() > params.size()) {
    throw dsl_error(call.args[params.size()]->loc,
                    fmt::format("wrong number of arguments: {}() takes {}, got {} (usage: {})", call.name,
                                plural(params.size(), "argument"), call.args.size(), def.usage));
  }
  for (std::size_t i = 0; i < call.args.size(); ++i) given_[i] = call.args[i].get();
  // sources and decoders take the event-time options; the analyzer reads them
  const bool timed = def.role == stage_role::source || def.traits.timed;
  for (auto& na : call.named) {
    if (timed && (na.name == "time" || na.name == "watermark" || na.name == "idle_timeout")) continue;
    std::size_t k = 0;
    while (k < params.size() && params[k].name != na.name) ++k;
    if (k == params.size()) {
      std::vector<std::string> cands;
      for (auto& p : params) cands.emplace_back(p.name);
      std::string msg = fmt::format("unknown named argument '{}' for {}()", na.name, call.name);
      if (auto c = closest_name(na.name, cands)) msg += fmt::format(" (did you mean '{}'?)", *c);
      else msg += fmt::format(" (usage: {})", def.usage);
      throw dsl_error(na.loc, msg);
    }
    if (given_[k]) throw dsl_error(na.loc, fmt::format("argument '{}' given twice", na.name));
    given_[k] = na.val.get();
  }
  for (std::size_t k = 0; k < params.size(); ++k)
    if (params[k].required && !given_[k])
      throw dsl_error(call.loc, fmt::format("wrong number of arguments: {}() is missing argument "
                                            "'{}' (usage: {})",
                                            call.name, params[k].name, def.usage));
}

const param_def& stage_args::param(std::string_view p) const {
  for (auto& d : def_.params)
    if (d.name == p) return d;
  throw std::logic_error(fmt::format("stage {} has no parameter '{}'", def_.name, p));
}

bool stage_args::takes(std::string_view p) const {
  for (auto& d : def_.params)
    if (d.name == p) return true;
  return false;
}

const ast::expr* stage_args::given(std::string_view p) const {
  for (std::size_t k = 0; k < def_.params.size(); ++k)
    if (def_.params[k].name == p) {
      read_[k] = true;
      return given_[k];
    }
  throw std::logic_error(fmt::format("stage {} has no parameter '{}'", def_.name, p));
}

void stage_args::check_all_read() const {
  for (std::size_t k = 0; k < def_.params.size(); ++k)
    if (given_[k] && !read_[k])
      throw std::logic_error(fmt::format("stage {}: its bind ignores the argument '{}'", def_.name,
                                         def_.params[k].name));
}

const source_location& stage_args::loc(std::string_view p) const { return given(p)->loc; }

std::string stage_args::who(const param_def& p) const {
  if (!p.label.empty()) return std::string(p.label);
  if (&p == &def_.params.front()) return call_.name;
  return fmt::format("{} {}", call_.name, p.name);
}

namespace {

[[noreturn]] void wrong_type(const stage_def& d, const param_def& p, std::string_view as) {
  throw std::logic_error(fmt::format("stage {}: parameter '{}' read as {}", d.name, p.name, as));
}

std::string_view label_or_name(const param_def& p) { return p.label.empty() ? p.name : p.label; }

}  // namespace

void stage_args::convert(const param_def& p, const ast::expr& e, element_function& out) const {
  if (p.type != param_type::function) wrong_type(def_, p, "a function");
  out = compile_element_function(e, p.label.empty() ? fmt::format("{}()", call_.name) : std::string(p.label));
}

void stage_args::convert(const param_def& p, const ast::expr& e, reducer& out) const {
  if (p.type != param_type::reducer) wrong_type(def_, p, "a reducer");
  out = reducer_arg(e, who(p));
}

void stage_args::convert(const param_def& p, const ast::expr& e, std::optional<reducer>& out) const {
  if (p.type != param_type::reducer) wrong_type(def_, p, "a reducer");
  out = reducer_arg(e, who(p));
}

void stage_args::convert(const param_def& p, const ast::expr& e, binary_fn& out) const {
  if (p.type == param_type::merge) {
    out = merge_arg(e, who(p), p.lambda_params, p.example);
  } else {
    wrong_type(def_, p, "a binary function");
  }
}

void stage_args::convert(const param_def& p, const ast::expr& e, state_update_function& out) const {
  if (p.type != param_type::state_update) wrong_type(def_, p, "a state update function");
  if (e.kind == ast::expr_kind::lambda && e.params.size() == 4) {
    out = {{}, compile_timed_update_function(e, call_.name)};
    return;
  }
  if (e.kind != ast::expr_kind::lambda || e.params.size() != 2) {
    std::string got = e.kind == ast::expr_kind::lambda ? std::to_string(e.params.size()) : describe_expr(e);
    throw dsl_error(e.loc, fmt::format("{} expects a function of 2 parameters {} or of 4 parameters (time, key, "
                                       "values, state), got {}",
                                       who(p), p.lambda_params, got));
  }
  out = {compile_binary_function(e, call_.name), {}};
}

void stage_args::convert(const param_def& p, const ast::expr& e, map_with_state_fn& out) const {
  if (p.type != param_type::state_function) wrong_type(def_, p, "a state function");
  check_lambda(e, who(p), 3, p.lambda_params);
  out = compile_state_function(e, call_.name);
}

void stage_args::convert(const param_def& p, const ast::expr& e, std::chrono::milliseconds& out) const {
  const auto what = label_or_name(p);
  if (p.type == param_type::duration) {
    out = duration_arg(e, what);
    if (out.count() <= 0) throw dsl_error(e.loc, fmt::format("{} must be positive", what));
  } else if (p.type == param_type::duration_literal) {
    out = duration_arg(e, what);
  } else if (p.type == param_type::delay) {
    out = delay_arg(e, what);
  } else {
    wrong_type(def_, p, "a duration");
  }
}

void stage_args::convert(const param_def& p, const ast::expr& e, std::int64_t& out) const {
  if (p.type != param_type::integer) wrong_type(def_, p, "an integer");
  out = int_arg(e, label_or_name(p), p.min, p.max);
}

void stage_args::convert(const param_def& p, const ast::expr& e, double& out) const {
  if (p.type != param_type::number && p.type != param_type::fraction) wrong_type(def_, p, "a number");
  out = number_arg(e, label_or_name(p));
  if (p.type == param_type::fraction && out > 1.0)
    throw dsl_error(e.loc, fmt::format("{} must be between 0 and 1, got {}", label_or_name(p), out));
}

void stage_args::convert(const param_def& p, const ast::expr& e, bool& out) const {
  if (p.type != param_type::boolean) wrong_type(def_, p, "a bool");
  out = bool_arg(e, label_or_name(p));
}

void stage_args::convert(const param_def& p, const ast::expr& e, std::string& out) const {
  if (p.type == param_type::string) {
    out = string_arg(e, label_or_name(p));
  } else if (p.type == param_type::path) {
    out = string_arg(e, p.name);
    if (out.empty())
      throw dsl_error(e.loc, fmt::format("the {} must not be empty", p.label.empty() ? "path" : p.label));
  } else {
    wrong_type(def_, p, "a string");
  }
}

void stage_args::convert(const param_def& p, const ast::expr& e, stream_or_table& out) const {
  if (p.type != param_type::stream && p.type != param_type::stream_or_table) wrong_type(def_, p, "a stream");
  const bool table_ok = p.type == param_type::stream_or_table;
  if (e.kind == ast::expr_kind::call && e.name == "table") {
    if (!table_ok)
      throw dsl_error(e.loc, fmt::format("{} cannot take a table(...): it combines two streams; "
                                         "join a static table with join, left_outer_join, "
                                         "right_outer_join or full_outer_join",
                                         call_.name));
    if (!e.named.empty())
      throw dsl_error(e.named.front().loc,
                      fmt::format("unknown named argument '{}': table() takes no named arguments",
                                  e.named.front().name));
    if (e.args.size() != 1)
      throw dsl_error(e.loc, fmt::format("table() takes 1 argument, got {} (usage: table(path))", e.args.size()));
    out.table = string_arg(*e.args[0], "the table path");
    if (out.table.empty()) throw dsl_error(e.args[0]->loc, "the path must not be empty");
    out.table_loc = e.loc;
    out.is_table = true;
    return;
  }
  out.stream = stream_name(e, table_ok);
}

stream_arg stage_args::stream_name(const ast::expr& e, bool table_ok) const {
  if (e.kind != ast::expr_kind::name)
    throw dsl_error(e.loc, fmt::format("{}() expects the name of a stream bound with 'let'{}, found {}",
                                       call_.name, table_ok ? " or table(\"file.jsonl\")" : "",
                                       describe_expr(e)));
  if (std::find(lets_.begin(), lets_.end(), e.name) == lets_.end())
    throw dsl_error(e.loc, fmt::format("unknown stream name '{}'{}", e.name, did_you_mean(e.name, lets_)));
  return {e.name, e.loc};
}

void stage_args::convert(const param_def& p, const ast::expr& e, window_spec& out) const {
  if (p.type != param_type::window_shape) wrong_type(def_, p, "a window shape");
  out = window_shape_arg(e);
}

void stage_args::convert(const param_def& p, const ast::expr& e, aggregation& out) const {
  if (p.type != param_type::aggregation) wrong_type(def_, p, "an aggregation");
  out = aggregation_arg(e, who(p));
}

void stage_args::convert(const param_def& p, const ast::expr& e, std::vector<named_aggregation>& out) const {
  if (p.type != param_type::aggregations) wrong_type(def_, p, "aggregations");
  out = aggregations_arg(e);
}

void stage_args::convert(const param_def& p, const ast::expr& e, side_output& out) const {
  if (p.type != param_type::side_sink) wrong_type(def_, p, "a side output");
  if (e.kind != ast::expr_kind::call || e.name != "write_jsonl" || e.args.size() != 1 || !e.named.empty())
    throw dsl_error(e.loc, fmt::format("{} must be a side output: write_jsonl(\"late.jsonl\")", who(p)));
  out.path = string_arg(*e.args[0], "late-record path");
  if (out.path.empty()) throw dsl_error(e.args[0]->loc, "the path must not be empty");
  out.loc = e.loc;
}

void stage_args::convert(const param_def& p, const ast::expr& e, weir::output_mode& out) const {
  if (p.type != param_type::output_mode) wrong_type(def_, p, "an output mode");
  std::string m = string_arg(e, label_or_name(p));
  if (m == "append") out = output_mode::append;
  else if (m == "update") out = output_mode::update;
  else throw dsl_error(e.loc, fmt::format("output must be \"append\" or \"update\", got \"{}\"", m));
}

void stage_args::convert(const param_def& p, const ast::expr& e, on_error_spec& out) const {
  if (p.type != param_type::on_error) wrong_type(def_, p, "on_error");
  out = on_error_arg(e);
}

void stage_args::convert(const param_def& p, const ast::expr& e, value& out) const {
  if (p.type != param_type::constant) wrong_type(def_, p, "a constant");
  out = evaluate_constant(e);
}

}  // namespace weir::dsl
