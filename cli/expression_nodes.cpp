// weir — the value nodes of compiled DSL expressions (cli/detail/compiler.hpp):
// constants, `_`, lambda parameters (also of enclosing lambdas), field and
// index access, map_with_state's state methods, if(), the unary and binary
// operators, array/tuple and object literals; and constant folding. Each
// node evaluates a record to a value; function calls are in
// cli/expression_calls.cpp, the compiler in cli/expression.cpp.
#include <cmath>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "weir/cli/detail/compiler.hpp"
#include "weir/operators/reducer.hpp"

namespace weir::dsl::detail {

const value null_value;

namespace {

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

// ---- the state object of map_with_state ------------------------------------

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
  bool constant() const override { return all_constant(items_); }

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
  bool constant() const override { return all_constant(items_); }

private:
  std::vector<value> keys_;
  std::vector<node_ptr> items_;
};

}  // namespace

// ---- factories -----------------------------------------------------------

node_ptr make_const(source_location loc, value v) { return std::make_unique<const_node>(std::move(loc), std::move(v)); }
node_ptr make_element(source_location loc) { return std::make_unique<element_node>(std::move(loc)); }
node_ptr make_param(source_location loc, std::size_t slot) {
  return std::make_unique<param_node>(std::move(loc), slot);
}
node_ptr make_outer_param(source_location loc, std::size_t levels, std::size_t slot) {
  return std::make_unique<outer_param_node>(std::move(loc), levels, slot);
}
node_ptr make_field(source_location loc, node_ptr base, std::string name) {
  return std::make_unique<field_node>(std::move(loc), std::move(base), std::move(name));
}
node_ptr make_index(source_location loc, node_ptr base, node_ptr index) {
  return std::make_unique<index_node>(std::move(loc), std::move(base), std::move(index));
}
node_ptr make_state_method(source_location loc, state_method m, node_ptr arg) {
  return std::make_unique<state_method_node>(std::move(loc), m, std::move(arg));
}
node_ptr make_if(source_location loc, node_ptr c, node_ptr a, node_ptr b) {
  return std::make_unique<if_node>(std::move(loc), std::move(c), std::move(a), std::move(b));
}
node_ptr make_unary(source_location loc, tok op, node_ptr arg) {
  return std::make_unique<unary_node>(std::move(loc), op, std::move(arg));
}
node_ptr make_binary(source_location loc, tok op, node_ptr l, node_ptr r) {
  return std::make_unique<binary_node>(std::move(loc), op, std::move(l), std::move(r));
}
node_ptr make_list(source_location loc, std::vector<node_ptr> items, bool tuple) {
  return std::make_unique<list_node>(std::move(loc), std::move(items), tuple);
}
node_ptr make_object(source_location loc, std::vector<value> keys, std::vector<node_ptr> items) {
  return std::make_unique<object_node>(std::move(loc), std::move(keys), std::move(items));
}

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

const std::vector<std::string>& state_method_names() {
  static const std::vector<std::string> names = {"exists", "get", "update", "remove", "is_timing_out"};
  return names;
}

}  // namespace weir::dsl::detail
