// weir — compiled DSL expressions.
//
// An expression is compiled once into a tree of nodes that evaluate to a
// `weir::value`; nothing is re-parsed per record. Constant sub-expressions
// are folded at compile time.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "weir/cli/ast.hpp"
#include "weir/operators/state_operators.hpp"
#include "weir/operators/value.hpp"

namespace weir::dsl {

namespace detail {
class node;
}

/// A compiled function of the current element: the argument of map, filter,
/// flat_map and top's `by`. Written as an expression over `_` (`.status >= 500`)
/// or as a lambda (`x => x * 2`; `(k, v) => (k, v * 2)` takes an element that is
/// an array of exactly that many items apart).
/// @errors operator() throws weir::record_error "FILE:LINE:COL: message" for a
///         runtime type error (`lower() expects a string, got int`).
/// @thread Immutable; operator() may be called from many threads at once.
class element_function {
public:
  element_function() = default;
  value operator()(const value& it) const;
  /// Where the expression starts in the script.
  const source_location& where() const noexcept { return loc_; }

private:
  friend element_function compile_element_function(const ast::expr&, const std::string&);
  std::shared_ptr<const detail::node> root_;
  int destructure_ = 0;  ///< > 0: a lambda (a, b, ...) taking an array element apart
  source_location loc_;
  std::string what_;     ///< "map()", for messages
};

/// Compiles the argument of an operator (`what` is e.g. "map()", used in
/// messages). Lambdas take 1 to 8 parameters.
/// @errors dsl_error for unknown names and functions, wrong argument counts,
///         and constant sub-expressions that fail (`1 / 0`).
element_function compile_element_function(const ast::expr& e, const std::string& what);

/// Compiles a reducer lambda `(a, b) => expr`; `_` is not allowed in its body.
/// The returned function throws weir::record_error like element_function.
/// @errors dsl_error when `e` is not a lambda of two parameters, or as above.
std::function<value(const value&, const value&)> compile_reducer_lambda(const ast::expr& e);

/// Compiles a lambda of two parameters `(a, b) => expr` whose parameters are
/// the two arguments (not an element taken apart): update_state_by_key's
/// `(values, state) => ...`, combine_by_key's merge functions. `_` is not
/// allowed in its body; `what` names the operator in messages.
/// @errors dsl_error when `e` is not a lambda of two parameters, or as
///         compile_element_function.
std::function<value(const value&, const value&)> compile_binary_function(const ast::expr& e,
                                                                         const std::string& what);

/// Compiles update_state_by_key's time-aware `(time, key, values, state) =>
/// expr` (Spark's `(Time, K, Seq[V], Option[S]) => Option[S]`): `time` is the
/// batch time in ms. `_` is not allowed in its body.
/// @errors dsl_error when `e` is not a lambda of four parameters, or as
///         compile_element_function.
update_state_time_fn compile_timed_update_function(const ast::expr& e, const std::string& what);

/// Compiles map_with_state's `(key, value, state) => expr`. The third
/// parameter is the key's state object, usable only through its methods:
/// `state.exists()`, `state.get()` (null if none), `state.update(x)` (returns x),
/// `state.remove()` (null), `state.is_timing_out()`. `_` is not allowed.
/// @errors dsl_error when `e` is not a lambda of three parameters, for the
///         state used as a value (`state + 1`), unknown methods or wrong
///         method argument counts, or as compile_element_function.
map_with_state_fn compile_state_function(const ast::expr& e, const std::string& what);

/// Evaluates an expression that must not depend on the element (an argument
/// such as `rate = 20000` or a `set` value).
/// @errors dsl_error if it uses `_` or a lambda, or fails.
value evaluate_constant(const ast::expr& e);

/// Parses, compiles and evaluates `text` on element `it` (tests, tools).
/// @errors dsl_error for a bad expression, weir::record_error at run time.
value evaluate(std::string_view text, const value& it, const std::string& file = "<expr>");

/// Every built-in function name (for suggestions and docs).
std::vector<std::string> function_names();

}  // namespace weir::dsl
