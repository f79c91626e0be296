// weir — the expression compiler and its nodes: an AST expression (`_`,
// `.field`, operators, calls, lambdas, if, map_with_state's state methods)
// compiled once into an immutable tree of nodes, constants folded; each node
// evaluates a record to a value (expression.hpp). Built-in functions are
// looked up in the function registry (functions.cpp).
#include "weir/cli/expression.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "weir/cli/detail/nodes.hpp"
#include "weir/cli/parser.hpp"
#include "weir/cli/suggest.hpp"
#include "weir/operators/reducer.hpp"

namespace weir::dsl {

using detail::frame;
using detail::node;
using detail::node_ptr;

namespace {

const value null_value;

// ---- leaves --------------------------------------------------------------

class const_node final : public node {
public:
  const_node(source_location loc, value v) : node(std::move(loc)), v_(std::move(v)) {}
  value eval(const value&, const frame&) const override { return v_; }
  const value* ref(const value&, const frame&) const override { return &v_; }
  bool constant() const override { return true; }

private:
  value v_;
};

class element_node final : public node {
public:
  using node::node;
  value eval(const value& it, const frame&) const override { return it; }
  const value* ref(const value& it, const frame&) const override { return &it; }
};

class param_node final : public node {
public:
  param_node(source_location loc, std::size_t slot) : node(std::move(loc)), slot_(slot) {}
  value eval(const value&, const frame& f) const override { return *f.args[slot_]; }
  const value* ref(const value&, const frame& f) const override { return f.args[slot_]; }

private:
  std::size_t slot_;
};

/// A parameter of an enclosing lambda, seen from a lambda passed to a
/// function (a closure): `levels` frames out.
class outer_param_node final : public node {
public:
  outer_param_node(source_location loc, std::size_t levels, std::size_t slot)
      : node(std::move(loc)), levels_(levels), slot_(slot) {}
  value eval(const value& it, const frame& f) const override { return *ref(it, f); }
  const value* ref(const value&, const frame& f) const override {
    const frame* fr = &f;
    for (std::size_t i = 0; i < levels_; ++i) fr = fr->outer;
    return fr->args[slot_];
  }

private:
  std::size_t levels_, slot_;
};

// ---- access --------------------------------------------------------------

class field_node final : public node {
public:
  field_node(source_location loc, node_ptr base, std::string name)
      : node(std::move(loc)), base_(std::move(base)), name_(std::move(name)) {}

  value eval(const value& it, const frame& f) const override {
    if (const value* b = base_->ref(it, f)) return get(*b);
    value tmp = base_->eval(it, f);
    return get(tmp);
  }
  const value* ref(const value& it, const frame& f) const override {
    const value* b = base_->ref(it, f);
    if (!b) return nullptr;
    if (b->is_object()) {
      const value* v = b->find(name_);
      return v ? v : &null_value;
    }
    if (b->is_null()) return &null_value;
    fail_kind(*b);
  }
  bool constant() const override { return base_->constant(); }

private:
  value get(const value& b) const {
    if (b.is_object()) {
      const value* v = b.find(name_);
      return v ? *v : value();
    }
    if (b.is_null()) return value();
    fail_kind(b);
  }
  [[noreturn]] void fail_kind(const value& b) const {
    fail(fmt::format("cannot read field '{}' of {}", name_, detail::kind_article(b.type())));
  }
  node_ptr base_;
  std::string name_;
};

class index_node final : public node {
public:
  index_node(source_location loc, node_ptr base, node_ptr index)
      : node(std::move(loc)), base_(std::move(base)), index_(std::move(index)) {}

  value eval(const value& it, const frame& f) const override {
    if (const value* r = ref(it, f)) return *r;
    value b = base_->eval(it, f);
    const value* r = lookup(b, index_->eval(it, f));
    return r ? *r : value();
  }
  const value* ref(const value& it, const frame& f) const override {
    const value* b = base_->ref(it, f);
    if (!b) return nullptr;
    const value* r = lookup(*b, index_->eval(it, f));
    return r ? r : &null_value;
  }
  bool constant() const override { return base_->constant() && index_->constant(); }

private:
  const value* lookup(const value& b, const value& ix) const {
    if (b.is_array()) {
      if (!ix.is_int())
        fail(fmt::format("an array index must be an int, got {}", kind_name(ix.type())));
      auto items = b.as_array();
      std::int64_t i = ix.as_int();
      auto n = static_cast<std::int64_t>(items.size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) return nullptr;
      return &items[static_cast<std::size_t>(i)];
    }
    if (b.is_object()) {
      if (!ix.is_string())
        fail(fmt::format("an object index must be a string, got {}", kind_name(ix.type())));
      return b.find(ix.as_string());
    }
    if (b.is_null()) return nullptr;
    fail(fmt::format("cannot index {}", detail::kind_article(b.type())));
  }
  node_ptr base_, index_;
};

// ---- calls ---------------------------------------------------------------

class call_node final : public node {
public:
  call_node(source_location loc, const detail::builtin_function* fn, std::vector<node_ptr> args)
      : node(std::move(loc)), fn_(fn), args_(std::move(args)) {}

  value eval(const value& it, const frame& f) const override {
    value argv[detail::max_params];
    for (std::size_t i = 0; i < args_.size(); ++i) argv[i] = args_[i]->eval(it, f);
    return fn_->call(std::span<const value>(argv, args_.size()), *this);
  }
  bool constant() const override {
    for (auto& a : args_)
      if (!a->constant()) return false;
    return true;
  }

private:
  const detail::builtin_function* fn_;
  std::vector<node_ptr> args_;
};

/// A call whose argument `fn->prepared_arg` was converted once at compile
/// time (a constant regex pattern); `prepared_` is null when it was not
/// constant (the function converts it per call).
class prepared_call_node final : public node {
public:
  prepared_call_node(source_location loc, const detail::builtin_function* fn, std::vector<node_ptr> args,
                     std::shared_ptr<const void> prepared)
      : node(std::move(loc)), fn_(fn), args_(std::move(args)), prepared_(std::move(prepared)) {}

  value eval(const value& it, const frame& f) const override {
    value argv[detail::max_params];
    for (std::size_t i = 0; i < args_.size(); ++i) argv[i] = args_[i]->eval(it, f);
    return fn_->call_prepared(std::span<const value>(argv, args_.size()), prepared_.get(), *this);
  }
  bool constant() const override {
    for (auto& a : args_)
      if (!a->constant()) return false;
    return true;
  }

private:
  const detail::builtin_function* fn_;
  std::vector<node_ptr> args_;
  std::shared_ptr<const void> prepared_;
};

/// A higher-order function call `f(args..., x => body)`: the arguments are
/// evaluated, the lambda is passed as a closure over the record and the
/// current frame.
class lambda_call_node final : public node {
public:
  lambda_call_node(source_location loc, const detail::builtin_function* fn, std::vector<node_ptr> args,
                   node_ptr body, std::size_t params, bool body_closed)
      : node(std::move(loc)), fn_(fn), args_(std::move(args)), body_(std::move(body)), params_(params),
        body_closed_(body_closed) {}

  value eval(const value& it, const frame& f) const override {
    value argv[detail::max_params];
    for (std::size_t i = 0; i < args_.size(); ++i) argv[i] = args_[i]->eval(it, f);
    detail::closure fn(*body_, params_, it, f);
    return fn_->call_lambda(std::span<const value>(argv, args_.size()), fn, *this);
  }
  /// Constant when the arguments are and the lambda uses nothing but its own
  /// parameters (no `_`, no outer parameter, no state).
  bool constant() const override {
    if (!body_closed_) return false;
    for (auto& a : args_)
      if (!a->constant()) return false;
    return true;
  }

private:
  const detail::builtin_function* fn_;
  std::vector<node_ptr> args_;
  node_ptr body_;
  std::size_t params_;
  bool body_closed_;
};

// ---- the state object of map_with_state ------------------------------------

enum class state_method { exists, get, update, remove, is_timing_out };

/// `state.m(...)`: reads the frame's state slot, which is set only while a
/// map_with_state function runs (the compiler allows these nodes nowhere else).
class state_method_node final : public node {
public:
  state_method_node(source_location loc, state_method m, node_ptr arg)
      : node(std::move(loc)), m_(m), arg_(std::move(arg)) {}

  value eval(const value& it, const frame& f) const override {
    state_handle& s = *f.state;
    switch (m_) {
      case state_method::exists: return value(s.exists());
      case state_method::get: return s.get();
      case state_method::is_timing_out: return value(s.is_timing_out());
      case state_method::update: {
        value v = arg_->eval(it, f);
        try {
          s.update(v);
        } catch (const detail::located_record_error&) {
          throw;
        } catch (const record_error& e) {
          fail(e.what());
        }
        return v;  // the new state: `(key, state.update(x))` updates and emits in one expression
      }
      case state_method::remove: s.remove(); return value();
    }
    return value();
  }
  const value* ref(const value&, const frame& f) const override {
    return m_ == state_method::get ? &f.state->get() : nullptr;
  }

private:
  state_method m_;
  node_ptr arg_;
};

/// `if(cond, a, b)`: evaluates only the branch it returns (so that
/// `if(state.is_timing_out(), ..., state.update(x))` never updates a timing-out state).
class if_node final : public node {
public:
  if_node(source_location loc, node_ptr c, node_ptr a, node_ptr b)
      : node(std::move(loc)), c_(std::move(c)), a_(std::move(a)), b_(std::move(b)) {}
  value eval(const value& it, const frame& f) const override { return branch(it, f).eval(it, f); }
  const value* ref(const value& it, const frame& f) const override { return branch(it, f).ref(it, f); }
  bool constant() const override { return c_->constant() && a_->constant() && b_->constant(); }

private:
  const node& branch(const value& it, const frame& f) const {
    value c = c_->eval(it, f);
    if (!c.is_bool()) fail(fmt::format("if() expects a bool condition, got {}", kind_name(c.type())));
    return c.as_bool() ? *a_ : *b_;
  }
  node_ptr c_, a_, b_;
};

// ---- operators -----------------------------------------------------------

class unary_node final : public node {
public:
  unary_node(source_location loc, tok op, node_ptr arg)
      : node(std::move(loc)), op_(op), arg_(std::move(arg)) {}

  value eval(const value& it, const frame& f) const override {
    value v = arg_->eval(it, f);
    if (op_ == tok::kw_not) {
      if (!v.is_bool()) fail(fmt::format("'not' expects a bool, got {}", kind_name(v.type())));
      return value(!v.as_bool());
    }
    if (v.is_int()) {
      if (v.as_int() == std::numeric_limits<std::int64_t>::min()) fail("integer overflow in negation");
      return value(-v.as_int());
    }
    if (v.is_real()) return value(-v.as_real());
    fail(fmt::format("cannot negate {}", detail::kind_article(v.type())));
  }
  bool constant() const override { return arg_->constant(); }

private:
  tok op_;
  node_ptr arg_;
};

std::string_view op_text(tok op) {
  switch (op) {
    case tok::plus: return "+";
    case tok::minus: return "-";
    case tok::star: return "*";
    case tok::slash: return "/";
    case tok::percent: return "%";
    case tok::eq: return "==";
    case tok::ne: return "!=";
    case tok::lt: return "<";
    case tok::le: return "<=";
    case tok::gt: return ">";
    case tok::ge: return ">=";
    case tok::kw_and: return "and";
    case tok::kw_or: return "or";
    default: return "?";
  }
}

class binary_node final : public node {
public:
  binary_node(source_location loc, tok op, node_ptr l, node_ptr r)
      : node(std::move(loc)), op_(op), l_(std::move(l)), r_(std::move(r)) {}

  value eval(const value& it, const frame& f) const override {
    if (op_ == tok::kw_and || op_ == tok::kw_or) {
      bool lv = boolean(l_->eval(it, f), "left");
      if (op_ == tok::kw_and ? !lv : lv) return value(lv);
      return value(boolean(r_->eval(it, f), "right"));
    }
    // comparisons and arithmetic: avoid copying operands that already exist
    value ltmp, rtmp;
    const value* a = l_->ref(it, f);
    if (!a) {
      ltmp = l_->eval(it, f);
      a = &ltmp;
    }
    const value* b = r_->ref(it, f);
    if (!b) {
      rtmp = r_->eval(it, f);
      b = &rtmp;
    }
    switch (op_) {
      case tok::eq: return value(*a == *b);
      case tok::ne: return value(!(*a == *b));
      case tok::lt: return value((*a <=> *b) < 0);
      case tok::le: return value((*a <=> *b) <= 0);
      case tok::gt: return value((*a <=> *b) > 0);
      case tok::ge: return value((*a <=> *b) >= 0);
      default: return arithmetic(*a, *b);
    }
  }
  bool constant() const override { return l_->constant() && r_->constant(); }

private:
  bool boolean(const value& v, std::string_view side) const {
    if (!v.is_bool())
      fail(fmt::format("'{}' expects bool operands, got {} on the {}", op_text(op_),
                       kind_name(v.type()), side));
    return v.as_bool();
  }

  [[noreturn]] void type_error(std::string_view verb, const value& a, const value& b) const {
    fail(fmt::format("cannot {} {} and {}", verb, kind_name(a.type()), kind_name(b.type())));
  }

  value arithmetic(const value& a, const value& b) const {
    switch (op_) {
      case tok::plus:
        if (a.is_string() && b.is_string()) {
          std::string s;
          s.reserve(a.as_string().size() + b.as_string().size());
          s.append(a.as_string());
          s.append(b.as_string());
          return value(s);
        }
        if (a.is_array() && b.is_array()) {
          std::vector<value> items(a.as_array().begin(), a.as_array().end());
          items.insert(items.end(), b.as_array().begin(), b.as_array().end());
          return value::array(std::move(items));
        }
        if (!a.is_number() || !b.is_number()) type_error("add", a, b);
        try {
          return weir::add(a, b);
        } catch (const record_error& e) {
          fail(e.what());
        }
      case tok::minus:
        if (!a.is_number() || !b.is_number()) type_error("subtract", a, b);
        try {
          return weir::subtract(a, b);
        } catch (const record_error& e) {
          fail(e.what());
        }
      case tok::star: {
        if (!a.is_number() || !b.is_number()) type_error("multiply", a, b);
        if (a.is_int() && b.is_int()) {
          std::int64_t r;
          if (__builtin_mul_overflow(a.as_int(), b.as_int(), &r))
            fail(fmt::format("integer overflow in {} * {}", a.as_int(), b.as_int()));
          return value(r);
        }
        return value(a.as_number() * b.as_number());
      }
      case tok::slash:
      case tok::percent: {
        bool div = op_ == tok::slash;
        if (!a.is_number() || !b.is_number()) type_error(div ? "divide" : "take the remainder of", a, b);
        if (b.is_int() ? b.as_int() == 0 : b.as_real() == 0.0) fail("division by zero");
        if (a.is_int() && b.is_int()) {
          std::int64_t x = a.as_int(), y = b.as_int();
          if (x == std::numeric_limits<std::int64_t>::min() && y == -1)
            fail(fmt::format("integer overflow in {} {} -1", x, op_text(op_)));
          return value(div ? x / y : x % y);
        }
        double x = a.as_number(), y = b.as_number();
        return value(div ? x / y : std::fmod(x, y));
      }
      default: fail("internal error: unknown operator");
    }
  }

  tok op_;
  node_ptr l_, r_;
};

class list_node final : public node {
public:
  list_node(source_location loc, std::vector<node_ptr> items, bool tuple)
      : node(std::move(loc)), items_(std::move(items)), tuple_(tuple) {}
  value eval(const value& it, const frame& f) const override {
    if (tuple_ && items_.size() == 2) return value::pair(items_[0]->eval(it, f), items_[1]->eval(it, f));
    std::vector<value> out;
    out.reserve(items_.size());
    for (auto& n : items_) out.push_back(n->eval(it, f));
    return value::array(std::move(out), tuple_);
  }
  bool constant() const override {
    for (auto& n : items_)
      if (!n->constant()) return false;
    return true;
  }

private:
  std::vector<node_ptr> items_;
  bool tuple_;
};

class object_node final : public node {
public:
  object_node(source_location loc, std::vector<value> keys, std::vector<node_ptr> items)
      : node(std::move(loc)), keys_(std::move(keys)), items_(std::move(items)) {}
  value eval(const value& it, const frame& f) const override {
    std::vector<field> out;
    out.reserve(items_.size());
    for (std::size_t i = 0; i < items_.size(); ++i) out.push_back({keys_[i], items_[i]->eval(it, f)});
    return value::object(std::move(out));
  }
  bool constant() const override {
    for (auto& n : items_)
      if (!n->constant()) return false;
    return true;
  }

private:
  std::vector<value> keys_;
  std::vector<node_ptr> items_;
};

// ---- compiler ------------------------------------------------------------

/// The names visible where an expression is compiled: the parameters of the
/// lambda it is in, and those of the lambdas around it (`outer`: a lambda
/// passed to a function inside another lambda is a closure).
struct scope {
  std::vector<std::string> params;
  std::string element_error;  ///< non-empty: `_` is not allowed, and why
  int state_slot = -1;        ///< >= 0: that parameter is map_with_state's state object
  const scope* outer = nullptr;
  /// Set when the lambda of this scope uses the record, the state or an
  /// outer lambda's parameter: then it is not a constant function.
  mutable bool captures = false;
};

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

constexpr std::string_view stage_names[] = {
    "map", "flat_map", "filter", "reduce_by_key", "reduce_by_key_and_window", "top",
    "map_values", "flat_map_values", "glom", "distinct", "sample", "union", "count_by_value",
    "reduce", "group_by_key", "combine_by_key", "sort_by", "window", "count_by_window",
    "reduce_by_window", "group_by_key_and_window", "count_by_value_and_window",
    "update_state_by_key", "map_with_state", "state_snapshots", "left_outer_join",
    "right_outer_join", "full_outer_join", "cogroup", "print", "write_jsonl", "collect", "file",
    "stdin", "generate", "batches"};

const std::vector<std::string>& state_method_names() {
  static const std::vector<std::string> names = {"exists", "get", "update", "remove", "is_timing_out"};
  return names;
}

std::string arity_text(const detail::builtin_function& fn) {
  if (fn.min_args == fn.max_args)
    return fmt::format("{} argument{}", fn.min_args, fn.min_args == 1 ? "" : "s");
  if (fn.max_args == fn.min_args + 1) return fmt::format("{} or {} arguments", fn.min_args, fn.max_args);
  return fmt::format("{} to {} arguments", fn.min_args, fn.max_args);
}

node_ptr compile(const ast::expr& e, const scope& sc);

node_ptr fold(node_ptr n) {
  if (!n->constant() || dynamic_cast<const_node*>(n.get())) return n;
  try {
    frame f;
    value v = n->eval(null_value, f);
    return std::make_unique<const_node>(n->loc(), std::move(v));
  } catch (const detail::located_record_error& err) {
    throw dsl_error(err.where(), err.message());
  }
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

node_ptr compile_call(const ast::expr& e, const scope& sc) {
  if (e.name == "if") {
    if (!e.named.empty())
      throw dsl_error(e.named.front().loc,
                      fmt::format("unknown named argument '{}': if() takes no named arguments",
                                  e.named.front().name));
    if (e.args.size() != 3)
      throw dsl_error(e.loc, fmt::format("if() takes 3 arguments, got {} (usage: if(cond, then, else))",
                                         e.args.size()));
    return std::make_unique<if_node>(e.loc, compile(*e.args[0], sc), compile(*e.args[1], sc),
                                     compile(*e.args[2], sc));
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
    if (!given[k]) return std::make_unique<const_node>(e.loc, value());
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

node_ptr compile_name(const ast::expr& e, const scope& sc) {
  if (auto r = resolve_param(sc, e.name)) {
    if (static_cast<int>(r->slot) == r->owner->state_slot)
      throw dsl_error(e.loc, fmt::format("'{}' is the state object, not a value; use {}.get(), "
                                         "{}.exists(), {}.update(x), {}.remove() or {}.is_timing_out()",
                                         e.name, e.name, e.name, e.name, e.name, e.name));
    if (r->levels == 0) return std::make_unique<param_node>(e.loc, r->slot);
    mark_captures(sc, r->owner);
    return std::make_unique<outer_param_node>(e.loc, r->levels, r->slot);
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
  return std::make_unique<state_method_node>(e.loc, m, std::move(arg));
}

node_ptr compile(const ast::expr& e, const scope& sc) {
  switch (e.kind) {
    case ast::expr_kind::literal: return std::make_unique<const_node>(e.loc, e.lit);
    case ast::expr_kind::element:
      if (!sc.element_error.empty()) throw dsl_error(e.loc, sc.element_error);
      mark_captures(sc, nullptr);
      return std::make_unique<element_node>(e.loc);
    case ast::expr_kind::name: return compile_name(e, sc);
    case ast::expr_kind::field:
      return fold(std::make_unique<field_node>(e.loc, compile(*e.args[0], sc), e.name));
    case ast::expr_kind::index:
      return fold(std::make_unique<index_node>(e.loc, compile(*e.args[0], sc), compile(*e.args[1], sc)));
    case ast::expr_kind::call: return fold(compile_call(e, sc));
    case ast::expr_kind::method: return compile_method(e, sc);
    case ast::expr_kind::unary:
      return fold(std::make_unique<unary_node>(e.loc, e.op, compile(*e.args[0], sc)));
    case ast::expr_kind::binary:
      return fold(std::make_unique<binary_node>(e.loc, e.op, compile(*e.args[0], sc),
                                                compile(*e.args[1], sc)));
    case ast::expr_kind::tuple:
    case ast::expr_kind::array: {
      std::vector<node_ptr> items;
      for (auto& a : e.args) items.push_back(compile(*a, sc));
      return fold(std::make_unique<list_node>(e.loc, std::move(items), e.kind == ast::expr_kind::tuple));
    }
    case ast::expr_kind::object: {
      std::vector<value> keys;
      std::vector<node_ptr> items;
      for (std::size_t i = 0; i < e.args.size(); ++i) {
        keys.emplace_back(e.keys[i]);
        items.push_back(compile(*e.args[i], sc));
      }
      return fold(std::make_unique<object_node>(e.loc, std::move(keys), std::move(items)));
    }
    case ast::expr_kind::lambda:
      throw dsl_error(e.loc, "a lambda is only allowed as the function argument of an operator or a reducer, "
                             "or as the last argument of transform, filter or exists");
  }
  throw dsl_error(e.loc, "internal error: unknown expression");
}

void check_params(const ast::expr& lambda) {
  if (lambda.params.size() > detail::max_params)
    throw dsl_error(lambda.loc, fmt::format("a lambda takes at most {} parameters", detail::max_params));
}

}  // namespace

namespace detail {

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

}  // namespace detail

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
