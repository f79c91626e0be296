// weir — internals of the expression compiler, shared by its three parts:
// the value nodes (cli/expression_nodes.cpp), function-call dispatch
// (cli/expression_calls.cpp) and the compiler's entry points with name
// resolution (cli/expression.cpp). Not part of the public interface.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "weir/cli/ast.hpp"
#include "weir/cli/detail/nodes.hpp"

namespace weir::dsl::detail {

/// The value a node reads when it has no record (constants, reducers).
extern const value null_value;

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

/// Compiles `e` in `sc` (cli/expression.cpp).
/// @errors dsl_error at the place in the script.
node_ptr compile(const ast::expr& e, const scope& sc);

/// A call `name(args...)`: `if`, or a built-in function with its arguments
/// checked, named ones placed, constant ones prepared (cli/expression_calls.cpp).
/// @errors dsl_error.
node_ptr compile_call(const ast::expr& e, const scope& sc);

/// `n`, or a constant node holding its value when `n` is constant.
/// @errors dsl_error where evaluating the constant fails.
node_ptr fold(node_ptr n);

/// True when every node of `nodes` is constant.
inline bool all_constant(const std::vector<node_ptr>& nodes) {
  for (auto& n : nodes)
    if (!n->constant()) return false;
  return true;
}

/// The methods of map_with_state's state object, in the order of
/// state_method_names().
enum class state_method { exists, get, update, remove, is_timing_out };
const std::vector<std::string>& state_method_names();

// ---- the value nodes (cli/expression_nodes.cpp) ----------------------------

node_ptr make_const(source_location loc, value v);
/// `_`: the record.
node_ptr make_element(source_location loc);
/// Parameter `slot` of the innermost lambda.
node_ptr make_param(source_location loc, std::size_t slot);
/// Parameter `slot` of the lambda `levels` frames out (a closure).
node_ptr make_outer_param(source_location loc, std::size_t levels, std::size_t slot);
/// `base.name`: null on a null base or a missing field.
node_ptr make_field(source_location loc, node_ptr base, std::string name);
/// `base[index]`: arrays by int (negative from the end), objects by string.
node_ptr make_index(source_location loc, node_ptr base, node_ptr index);
/// `state.m(arg)` (arg is null for the methods without one).
node_ptr make_state_method(source_location loc, state_method m, node_ptr arg);
/// `if(c, a, b)`: evaluates only the branch it returns.
node_ptr make_if(source_location loc, node_ptr c, node_ptr a, node_ptr b);
/// `-x`, `not x`.
node_ptr make_unary(source_location loc, tok op, node_ptr arg);
/// Arithmetic, comparison, `and`/`or` (short-circuit).
node_ptr make_binary(source_location loc, tok op, node_ptr l, node_ptr r);
/// `[a, b]` or `(a, b)` (tuple = true).
node_ptr make_list(source_location loc, std::vector<node_ptr> items, bool tuple);
/// `{k: v, ...}`.
node_ptr make_object(source_location loc, std::vector<value> keys, std::vector<node_ptr> items);

}  // namespace weir::dsl::detail
