// weir — function calls in compiled DSL expressions: the call nodes (plain,
// with arguments prepared at compile time, with a lambda argument passed as
// a closure) and their compilation (cli/detail/compiler.hpp): `if`, lookup
// in the function registry (functions.cpp) with suggestions, named
// arguments, arity checks, lambda arguments compiled in a scope of their own.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "weir/cli/detail/compiler.hpp"
#include "weir/cli/expression.hpp"
#include "weir/cli/suggest.hpp"

namespace weir::dsl::detail {
namespace {

// ---- calls ---------------------------------------------------------------

/// What the call nodes share: the function and its argument nodes.
class call_base : public node {
public:
  call_base(source_location loc, const builtin_function* fn, std::vector<node_ptr> args)
      : node(std::move(loc)), fn_(fn), args_(std::move(args)) {}
  bool constant() const override { return all_constant(args_); }

protected:
  /// The arguments' values for the record and frame, in `argv`.
  std::span<const value> eval_args(value (&argv)[max_params], const value& it, const frame& f) const {
    for (std::size_t i = 0; i < args_.size(); ++i) argv[i] = args_[i]->eval(it, f);
    return std::span<const value>(argv, args_.size());
  }

  const builtin_function* fn_;
  std::vector<node_ptr> args_;
};

class call_node final : public call_base {
public:
  using call_base::call_base;
  value eval(const value& it, const frame& f) const override {
    value argv[max_params];
    return fn_->call(eval_args(argv, it, f), *this);
  }
};

/// A call whose argument `fn->prepared_arg` was converted once at compile
/// time (a constant regex pattern); `prepared_` is null when it was not
/// constant (the function converts it per call).
class prepared_call_node final : public call_base {
public:
  prepared_call_node(source_location loc, const builtin_function* fn, std::vector<node_ptr> args,
                     std::shared_ptr<const void> prepared)
      : call_base(std::move(loc), fn, std::move(args)), prepared_(std::move(prepared)) {}

  value eval(const value& it, const frame& f) const override {
    value argv[max_params];
    return fn_->call_prepared(eval_args(argv, it, f), prepared_.get(), *this);
  }

private:
  std::shared_ptr<const void> prepared_;
};

/// A higher-order function call `f(args..., x => body)`: the arguments are
/// evaluated, the lambda is passed as a closure over the record and the
/// current frame.
class lambda_call_node final : public call_base {
public:
  lambda_call_node(source_location loc, const builtin_function* fn, std::vector<node_ptr> args, node_ptr body,
                   std::size_t params, bool body_closed)
      : call_base(std::move(loc), fn, std::move(args)), body_(std::move(body)), params_(params),
        body_closed_(body_closed) {}

  value eval(const value& it, const frame& f) const override {
    value argv[max_params];
    const std::span<const value> args = eval_args(argv, it, f);
    closure fn(*body_, params_, it, f);
    return fn_->call_lambda(args, fn, *this);
  }
  /// Constant when the arguments are and the lambda uses nothing but its own
  /// parameters (no `_`, no outer parameter, no state).
  bool constant() const override { return body_closed_ && call_base::constant(); }

private:
  node_ptr body_;
  std::size_t params_;
  bool body_closed_;
};

constexpr std::string_view stage_names[] = {
    "map", "flat_map", "filter", "reduce_by_key", "reduce_by_key_and_window", "top",
    "map_values", "flat_map_values", "glom", "distinct", "sample", "union", "count_by_value",
    "reduce", "group_by_key", "combine_by_key", "sort_by", "window", "count_by_window",
    "reduce_by_window", "group_by_key_and_window", "count_by_value_and_window",
    "update_state_by_key", "map_with_state", "state_snapshots", "left_outer_join",
    "right_outer_join", "full_outer_join", "cogroup", "print", "write_jsonl", "collect", "file",
    "stdin", "generate", "batches"};

std::string arity_text(const detail::builtin_function& fn) {
  if (fn.min_args == fn.max_args)
    return fmt::format("{} argument{}", fn.min_args, fn.min_args == 1 ? "" : "s");
  if (fn.max_args == fn.min_args + 1) return fmt::format("{} or {} arguments", fn.min_args, fn.max_args);
  return fmt::format("{} to {} arguments", fn.min_args, fn.max_args);
}

std::string unknown_function_message(const std::string& name) {
  auto near = closest_names(name, function_names(), 3);
  std::string hint;
  if (!near.empty()) {
    hint = " (did you mean ";
    for (std::size_t i = 0; i < near.size(); ++i) {
      if (i > 0) hint += i + 1 == near.size() ? " or " : ", ";
      hint += "'" + near[i] + "'";
    }
    hint += "?)";
  }
  return fmt::format("unknown function '{}'{}; every function is listed in docs/DSL.md, section 4, \"Functions\"",
                     name, hint);
}

/// The lambda argument of a higher-order function, compiled in a scope of
/// its own inside `sc` (a closure).
node_ptr compile_lambda_arg(const ast::expr& e, const detail::builtin_function& fn, const scope& sc,
                            std::size_t& params, bool& closed) {
  const ast::expr& lam = *e.args.back();
  const std::string_view forms = fn.lambda_params == 1 ? "x => ..." : "x => ... or (x, i) => ...";
  if (lam.kind != ast::expr_kind::lambda)
    throw dsl_error(lam.loc, fmt::format("{}() expects a lambda as argument {} ({}), found {} (usage: {})", fn.name,
                                         e.args.size(), forms, lam.kind == ast::expr_kind::name
                                                                   ? fmt::format("'{}'", lam.name)
                                                                   : std::string("an expression"),
                                         fn.signature));
  if (lam.params.empty() || lam.params.size() > fn.lambda_params)
    throw dsl_error(lam.loc, fmt::format("the lambda of {}() takes {}, got {} parameters", fn.name,
                                         fn.lambda_params == 1 ? "1 parameter (x => ...)"
                                                               : "1 or 2 parameters (x => ... or (x, i) => ...)",
                                         lam.params.size()));
  scope inner;
  inner.params = lam.params;
  inner.element_error = sc.element_error;
  inner.outer = &sc;
  node_ptr body = compile(*lam.args[0], inner);
  params = lam.params.size();
  closed = !inner.captures;
  return body;
}

}  // namespace

node_ptr compile_call(const ast::expr& e, const scope& sc) {
  if (e.name == "if") {
    if (!e.named.empty())
      throw dsl_error(e.named.front().loc,
                      fmt::format("unknown named argument '{}': if() takes no named arguments",
                                  e.named.front().name));
    if (e.args.size() != 3)
      throw dsl_error(e.loc, fmt::format("if() takes 3 arguments, got {} (usage: if(cond, then, else))",
                                         e.args.size()));
    return make_if(e.loc, compile(*e.args[0], sc), compile(*e.args[1], sc), compile(*e.args[2], sc));
  }
  const detail::builtin_function* fn = detail::find_function(e.name);
  if (!fn) {
    if (e.name == "table")
      throw dsl_error(e.loc, "table(...) is only allowed as the argument of join, left_outer_join, "
                             "right_outer_join or full_outer_join");
    for (auto s : stage_names)
      if (s == e.name)
        throw dsl_error(e.loc, fmt::format("'{}' is an operator, not a function; use it as a "
                                           "pipeline stage: ... | {}(...)",
                                           e.name, e.name));
    throw dsl_error(e.loc, unknown_function_message(e.name));
  }
  // positional arguments, then named ones in their positions (a position
  // left out before a named one is null: its default)
  std::vector<const ast::expr*> given;
  for (auto& a : e.args) given.push_back(a.get());
  if (!e.named.empty()) {
    std::vector<std::string> names;
    for (std::size_t p = 0; p < fn->named.size();) {
      std::size_t q = fn->named.find(',', p);
      if (q == std::string_view::npos) q = fn->named.size();
      names.emplace_back(fn->named.substr(p, q - p));
      p = q + 1;
    }
    for (auto& na : e.named) {
      auto it = std::find(names.begin(), names.end(), na.name);
      if (it == names.end()) {
        if (names.empty())
          throw dsl_error(na.loc, fmt::format("unknown named argument '{}': {}() takes no named arguments",
                                              na.name, e.name));
        throw dsl_error(na.loc, fmt::format("unknown named argument '{}' for {}(){} (usage: {})", na.name,
                                            e.name, did_you_mean(na.name, names), fn->signature));
      }
      auto k = static_cast<std::size_t>(it - names.begin());
      if (given.size() <= k) given.resize(k + 1, nullptr);
      if (given[k]) throw dsl_error(na.loc, fmt::format("argument '{}' given twice", na.name));
      given[k] = na.val.get();
    }
  }
  if (given.size() < fn->min_args || given.size() > fn->max_args)
    throw dsl_error(e.loc, fmt::format("{}() takes {}, got {} (usage: {})", e.name, arity_text(*fn),
                                       given.size(), fn->signature));
  for (std::size_t k = 0; k < fn->min_args; ++k)
    if (!given[k])
      throw dsl_error(e.loc, fmt::format("{}() is missing argument {} (usage: {})", e.name, k + 1, fn->signature));
  auto compile_arg = [&](std::size_t k) -> node_ptr {
    if (!given[k]) return make_const(e.loc, value());
    return compile(*given[k], sc);
  };
  if (fn->lambda_params > 0) {
    std::size_t params = 0;
    bool closed = false;
    node_ptr body = compile_lambda_arg(e, *fn, sc, params, closed);
    std::vector<node_ptr> args;
    for (std::size_t i = 0; i + 1 < given.size(); ++i) args.push_back(compile_arg(i));
    return std::make_unique<lambda_call_node>(e.loc, fn, std::move(args), std::move(body), params, closed);
  }
  std::vector<node_ptr> args;
  for (std::size_t k = 0; k < given.size(); ++k) args.push_back(compile_arg(k));
  if (fn->prepare) {
    std::vector<value> consts(args.size());
    std::vector<const value*> ptrs(args.size(), nullptr);
    for (std::size_t k = 0; k < args.size(); ++k) {
      if (!args[k]->constant()) continue;
      try {
        consts[k] = args[k]->eval(null_value, frame{});
      } catch (const detail::located_record_error& err) {
        throw dsl_error(err.where(), err.message());
      }
      ptrs[k] = &consts[k];
    }
    std::shared_ptr<const void> prepared;
    try {
      prepared = fn->prepare(ptrs, fn->name);
    } catch (const detail::bad_argument& err) {
      const std::size_t k = std::min(err.index, args.size() - 1);
      throw dsl_error(given[k] ? given[k]->loc : e.loc, err.what());
    }
    return std::make_unique<prepared_call_node>(e.loc, fn, std::move(args), std::move(prepared));
  }
  return std::make_unique<call_node>(e.loc, fn, std::move(args));
}

value closure::operator()(const value& x, std::int64_t i) const {
  frame f;
  f.args[0] = &x;
  value index;
  if (params_ == 2) {
    index = value(i);
    f.args[1] = &index;
  }
  f.state = outer_.state;
  f.outer = &outer_;
  return body_.eval(it_, f);
}

}  // namespace weir::dsl::detail
