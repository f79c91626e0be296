// weir — checking and converting one DSL argument (a constant, a duration, a
// reducer, a lambda, ...), with the messages every stage shares. stage_args
// (stage_registry.hpp) applies them by parameter type; stage families call
// them directly for their own checks. All throw dsl_error at the argument.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "weir/cli/ast.hpp"
#include "weir/cli/pipeline_spec.hpp"
#include "weir/operators/basic_operators.hpp"
#include "weir/operators/event_time.hpp"
#include "weir/operators/reducer.hpp"

namespace weir::dsl {

/// The built-in reducers a script names: sum, sub, min, max, count.
std::span<const std::string_view> reducer_names();

/// A duration literal (`10s`); `what` names it in the message
/// ("window must be a duration like 500ms, 10s, 5m or 1h, found '3000'").
std::chrono::milliseconds duration_arg(const ast::expr& e, std::string_view what);

/// A duration >= 0; a negative one is named as such ("... must not be negative, got -5s").
std::chrono::milliseconds delay_arg(const ast::expr& e, std::string_view what);

/// A constant int in [lo, hi] ("n must be between 1 and 1073741824, got 0").
std::int64_t int_arg(const ast::expr& e, std::string_view what, std::int64_t lo, std::int64_t hi);

/// A constant number >= 0.
double number_arg(const ast::expr& e, std::string_view what);

/// A constant string ("path must be a string, got int").
std::string string_arg(const ast::expr& e, std::string_view what);

/// A constant bool ("header must be true or false, got int").
bool bool_arg(const ast::expr& e, std::string_view what);

/// A one-byte string that is not a line break (parse_csv's sep and quote).
char char_arg(const ast::expr& e, std::string_view what);

/// How an unexpected argument is named in messages: "string \"x\"", "'1'", "a lambda", ...
std::string describe_expr(const ast::expr& e);

/// The expression's structure as a string, without source locations: two
/// expressions written alike (spacing aside) have the same form, e.g. to
/// tell whether the inputs of a union name the same event time.
std::string expr_form(const ast::expr& e);

/// A lambda of exactly `n` parameters, else
/// "map_with_state expects a function of 3 parameters (key, value, state), got 2".
void check_lambda(const ast::expr& e, const std::string& who, std::size_t n, std::string_view params);

/// sum, sub, min, max, count or a lambda (a, b) => ...; `who` names the argument.
reducer reducer_arg(const ast::expr& e, const std::string& who);

/// A 2-parameter lambda, or sum, sub, min, max (combine_by_key's merge functions).
/// `example` is suggested for 'count'.
binary_fn merge_arg(const ast::expr& e, const std::string& who, std::string_view lambda_params,
                    std::string_view example);

/// tumbling(size), sliding(size, slide) or session(gap).
window_spec window_shape_arg(const ast::expr& e);

/// count, sum, min, max, avg or a lambda (a, b) => ...
aggregation aggregation_arg(const ast::expr& e, const std::string& who);

/// aggs = {name: agg, ...} with agg one of count, count(e), sum(e), min(e),
/// max(e), avg(e), stddev(e), count_distinct(e), first(e), last(e),
/// collect_list(e); `e` an expression of the record (`.price`).
std::vector<named_aggregation> aggregations_arg(const ast::expr& e);

/// on_error = fail | skip | dead_letter("path")
on_error_spec on_error_arg(const ast::expr& e);

}  // namespace weir::dsl
