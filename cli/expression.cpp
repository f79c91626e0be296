// weir — the expression compiler: an AST expression (`_`, `.field`,
// operators, calls, lambdas, if, map_with_state's state methods) compiled
// once into an immutable tree of nodes, constants folded, names resolved to
// the parameters of the lambdas around them; and its entry points
// (expression.hpp): element functions, reducers, binary and state functions,
// constants. The nodes are in cli/expression_nodes.cpp, function calls in
// cli/expression_calls.cpp (cli/detail/compiler.hpp joins them).
#include "weir/cli/expression.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "weir/cli/detail/compiler.hpp"
#include "weir/cli/parser.hpp"
#include "weir/cli/suggest.hpp"

namespace weir::dsl {
namespace detail {
namespace {

/// What a name resolves to: a parameter `levels` scopes out.
struct resolved_param {
  std::size_t levels = 0, slot = 0;
  const scope* owner = nullptr;
};

std::optional<resolved_param> resolve_param(const scope& sc, std::string_view name) {
  std::size_t levels = 0;
  for (const scope* s = &sc; s; s = s->outer, ++levels)
    for (std::size_t i = s->params.size(); i-- > 0;)
      if (s->params[i] == name) return resolved_param{levels, i, s};
  return std::nullopt;
}

/// The scopes from `sc` out to (not including) `owner` use something from
/// outside themselves; owner == nullptr: everything (the record).
void mark_captures(const scope& sc, const scope* owner) {
  for (const scope* s = &sc; s && s != owner; s = s->outer) s->captures = true;
}

/// Every parameter name visible in `sc`, innermost first (for suggestions).
std::vector<std::string> visible_params(const scope& sc) {
  std::vector<std::string> out;
  for (const scope* s = &sc; s; s = s->outer) out.insert(out.end(), s->params.begin(), s->params.end());
  return out;
}

node_ptr compile_name(const ast::expr& e, const scope& sc) {
  if (auto r = resolve_param(sc, e.name)) {
    if (static_cast<int>(r->slot) == r->owner->state_slot)
      throw dsl_error(e.loc, fmt::format("'{}' is the state object, not a value; use {}.get(), "
                                         "{}.exists(), {}.update(x), {}.remove() or {}.is_timing_out()",
                                         e.name, e.name, e.name, e.name, e.name, e.name));
    if (r->levels == 0) return make_param(e.loc, r->slot);
    mark_captures(sc, r->owner);
    return make_outer_param(e.loc, r->levels, r->slot);
  }
  if (detail::find_function(e.name) || e.name == "if")
    throw dsl_error(e.loc, fmt::format("'{}' is a function; call it as {}(...)", e.name, e.name));
  std::string hint = did_you_mean(e.name, visible_params(sc));
  if (hint.empty() && sc.element_error.empty()) hint = fmt::format(" (did you mean '.{}'?)", e.name);
  throw dsl_error(e.loc, fmt::format("unknown name '{}'{}", e.name, hint));
}

node_ptr compile_method(const ast::expr& e, const scope& sc) {
  const ast::expr& recv = *e.args[0];
  std::optional<resolved_param> r;
  if (recv.kind == ast::expr_kind::name) r = resolve_param(sc, recv.name);
  bool on_state = r && static_cast<int>(r->slot) == r->owner->state_slot;
  if (!on_state) {
    if (detail::find_function(e.name))
      throw dsl_error(e.loc, fmt::format("unknown method '{}'; call the function instead: {}(...)",
                                         e.name, e.name));
    throw dsl_error(e.loc, fmt::format("unknown method '{}': only the state of map_with_state has "
                                       "methods (state.get(), state.update(x), ...)",
                                       e.name));
  }
  const auto& names = state_method_names();
  auto it = std::find(names.begin(), names.end(), e.name);
  if (it == names.end()) {
    std::string hint = did_you_mean(e.name, names);
    if (hint.empty()) hint = " (the state has exists(), get(), update(x), remove() and is_timing_out())";
    throw dsl_error(e.loc, fmt::format("unknown method '{}' of the state{}", e.name, hint));
  }
  auto m = static_cast<state_method>(it - names.begin());
  if (!e.named.empty())
    throw dsl_error(e.named.front().loc,
                    fmt::format("unknown named argument '{}': {}.{}() takes no named arguments",
                                e.named.front().name, recv.name, e.name));
  std::size_t want = m == state_method::update ? 1 : 0;
  std::size_t got = e.args.size() - 1;
  if (got != want)
    throw dsl_error(e.loc, fmt::format("{}.{}() takes {} argument{}, got {}", recv.name, e.name, want,
                                       want == 1 ? "" : "s", got));
  node_ptr arg = want == 1 ? compile(*e.args[1], sc) : nullptr;
  mark_captures(sc, nullptr);  // the state is outside every lambda
  return make_state_method(e.loc, m, std::move(arg));
}

}  // namespace

node_ptr compile(const ast::expr& e, const scope& sc) {
  switch (e.kind) {
    case ast::expr_kind::literal: return make_const(e.loc, e.lit);
    case ast::expr_kind::element:
      if (!sc.element_error.empty()) throw dsl_error(e.loc, sc.element_error);
      mark_captures(sc, nullptr);
      return make_element(e.loc);
    case ast::expr_kind::name: return compile_name(e, sc);
    case ast::expr_kind::field:
      return fold(make_field(e.loc, compile(*e.args[0], sc), e.name));
    case ast::expr_kind::index:
      return fold(make_index(e.loc, compile(*e.args[0], sc), compile(*e.args[1], sc)));
    case ast::expr_kind::call: return fold(compile_call(e, sc));
    case ast::expr_kind::method: return compile_method(e, sc);
    case ast::expr_kind::unary:
      return fold(make_unary(e.loc, e.op, compile(*e.args[0], sc)));
    case ast::expr_kind::binary:
      return fold(make_binary(e.loc, e.op, compile(*e.args[0], sc), compile(*e.args[1], sc)));
    case ast::expr_kind::tuple:
    case ast::expr_kind::array: {
      std::vector<node_ptr> items;
      for (auto& a : e.args) items.push_back(compile(*a, sc));
      return fold(make_list(e.loc, std::move(items), e.kind == ast::expr_kind::tuple));
    }
    case ast::expr_kind::object: {
      std::vector<value> keys;
      std::vector<node_ptr> items;
      for (std::size_t i = 0; i < e.args.size(); ++i) {
        keys.emplace_back(e.keys[i]);
        items.push_back(compile(*e.args[i], sc));
      }
      return fold(make_object(e.loc, std::move(keys), std::move(items)));
    }
    case ast::expr_kind::lambda:
      throw dsl_error(e.loc, "a lambda is only allowed as the function argument of an operator or a reducer, "
                             "or as the last argument of transform, filter or exists");
  }
  throw dsl_error(e.loc, "internal error: unknown expression");
}

}  // namespace detail

using detail::compile;
using detail::frame;
using detail::node;
using detail::node_ptr;
using detail::null_value;
using detail::scope;

namespace {

void check_params(const ast::expr& lambda) {
  if (lambda.params.size() > detail::max_params)
    throw dsl_error(lambda.loc, fmt::format("a lambda takes at most {} parameters", detail::max_params));
}

}  // namespace

value element_function::operator()(const value& it) const {
  frame f;
  if (destructure_ == 0) {
    f.args[0] = &it;
    return root_->eval(it, f);
  }
  auto n = static_cast<std::size_t>(destructure_);
  if (!it.is_array() || it.as_array().size() != n) {
    std::string got = it.is_array() ? fmt::format("an array of {} items", it.as_array().size())
                                    : std::string(kind_name(it.type()));
    throw detail::located_record_error(
        loc_, fmt::format("the lambda of {} takes an array of {} items apart, got {}", what_, n, got));
  }
  auto items = it.as_array();
  for (std::size_t i = 0; i < n; ++i) f.args[i] = &items[i];
  return root_->eval(it, f);
}

element_function compile_element_function(const ast::expr& e, const std::string& what) {
  element_function fn;
  fn.loc_ = e.loc;
  fn.what_ = what;
  scope sc;
  if (e.kind == ast::expr_kind::lambda) {
    check_params(e);
    if (e.params.empty())
      throw dsl_error(e.loc, fmt::format("the lambda of {} needs a parameter: x => ...", what));
    sc.params = e.params;
    if (e.params.size() > 1) fn.destructure_ = static_cast<int>(e.params.size());
    fn.root_ = compile(*e.args[0], sc);
  } else {
    fn.root_ = compile(e, sc);
  }
  return fn;
}

namespace {

std::function<value(const value&, const value&)> binary_lambda(const ast::expr& e, std::string element_error) {
  scope sc;
  sc.params = e.params;
  sc.element_error = std::move(element_error);
  std::shared_ptr<const node> root = compile(*e.args[0], sc);
  return [root](const value& a, const value& b) {
    frame f;
    f.args[0] = &a;
    f.args[1] = &b;
    return root->eval(null_value, f);
  };
}

}  // namespace

std::function<value(const value&, const value&)> compile_reducer_lambda(const ast::expr& e) {
  if (e.kind != ast::expr_kind::lambda || e.params.size() != 2)
    throw dsl_error(e.loc, "expected a reducer: sum, sub, min, max, count or a lambda (a, b) => ...");
  return binary_lambda(e, "'_' cannot be used in a reducer lambda; use its parameters");
}

std::function<value(const value&, const value&)> compile_binary_function(const ast::expr& e,
                                                                         const std::string& what) {
  if (e.kind != ast::expr_kind::lambda || e.params.size() != 2)
    throw dsl_error(e.loc, fmt::format("{} expects a function of 2 parameters (a, b) => ...", what));
  return binary_lambda(e, fmt::format("'_' cannot be used in the function of {}; use its parameters", what));
}

update_state_time_fn compile_timed_update_function(const ast::expr& e, const std::string& what) {
  if (e.kind != ast::expr_kind::lambda || e.params.size() != 4)
    throw dsl_error(e.loc,
                    fmt::format("{} expects a function of 4 parameters (time, key, values, state) => ...", what));
  scope sc;
  sc.params = e.params;
  sc.element_error = fmt::format("'_' cannot be used in the function of {}; use its parameters", what);
  std::shared_ptr<const node> root = compile(*e.args[0], sc);
  return [root](std::int64_t time, const value& key, const value& values, const value& state) {
    const value t(time);
    frame f;
    f.args[0] = &t;
    f.args[1] = &key;
    f.args[2] = &values;
    f.args[3] = &state;
    return root->eval(null_value, f);
  };
}

map_with_state_fn compile_state_function(const ast::expr& e, const std::string& what) {
  if (e.kind != ast::expr_kind::lambda || e.params.size() != 3)
    throw dsl_error(e.loc, fmt::format("{} expects a function of 3 parameters (key, value, state) => ...", what));
  scope sc;
  sc.params = e.params;
  sc.element_error = fmt::format("'_' cannot be used in the function of {}; use its parameters", what);
  sc.state_slot = 2;
  std::shared_ptr<const node> root = compile(*e.args[0], sc);
  return [root](const value& key, const value& v, state_handle& state) {
    frame f;
    f.args[0] = &key;
    f.args[1] = &v;
    f.state = &state;
    return root->eval(null_value, f);
  };
}

value evaluate_constant(const ast::expr& e) {
  if (e.kind == ast::expr_kind::lambda) throw dsl_error(e.loc, "expected a value, found a lambda");
  scope sc;
  sc.element_error = "'_' cannot be used here: this argument must be a constant";
  node_ptr n = compile(e, sc);
  frame f;
  try {
    return n->eval(null_value, f);
  } catch (const detail::located_record_error& err) {
    throw dsl_error(err.where(), err.message());
  }
}

value evaluate(std::string_view text, const value& it, const std::string& file) {
  auto e = parse_expression(text, file);
  return compile_element_function(*e, "expression")(it);
}

}  // namespace weir::dsl
