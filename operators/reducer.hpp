// weir — reduce functions for reduce_by_key and friends.
#pragma once

#include <functional>
#include <string>

#include "weir/operators/value.hpp"

namespace weir {

/// An associative, commutative reduce function `(a, b) -> c`, with an
/// optional `init` applied to each input value before it is combined (so
/// `count` is init = 1, combine = +). Built-in reducers are recognised by
/// `op` and run without a std::function call.
/// @errors `apply` throws record_error when the operands do not fit (e.g. sum of strings).
struct reducer {
  enum class builtin { none, sum, sub, min, max, count };

  builtin op = builtin::none;
  std::string name;                                         ///< for errors and plans
  std::function<value(const value&, const value&)> fn;      ///< only when op == none

  /// Spark `_ + _` on numbers (int + int stays int; any double → double).
  static reducer sum();
  /// `_ - _`: the inverse of sum for `reduce_by_key_and_window(..., inverse = sub)`.
  static reducer sub();
  static reducer min();
  static reducer max();
  /// Counts values: every value counts 1, counts add up.
  static reducer count();
  /// A user function (e.g. a DSL lambda `(a, b) => a + b`).
  static reducer custom(std::function<value(const value&, const value&)> f,
                        std::string name = "lambda");

  /// The accumulator for a fresh input value (1 for count, the value otherwise).
  value init(const value& v) const { return op == builtin::count ? value(1) : v; }
  /// Combines two accumulators.
  value apply(const value& a, const value& b) const;
};

/// Arithmetic shared by reducers and the DSL: int op int stays int (wrapping
/// is an error), any double makes a double.
/// @errors throw record_error naming the operand kinds ("cannot add string and int").
value add(const value& a, const value& b);
value subtract(const value& a, const value& b);

}  // namespace weir
