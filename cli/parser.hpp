// weir — the parser of the pipeline DSL (see docs/DSL.md for the grammar).
#pragma once

#include <string>
#include <string_view>

#include "weir/cli/ast.hpp"

namespace weir::dsl {

/// The deepest nesting a script may have: brackets, braces, parentheses,
/// calls, `not` and unary `-` nested in each other, and chains such as
/// `1 + 1 + ...` or `.a.a...` (each operator or link is one level).
/// Deeper: dsl_error `FILE:LINE:COLUMN: nesting deeper than 1000`.
inline constexpr int max_nesting = 1000;

/// Parses a whole script. `file` names it in error messages ("-e" for `weir run -e`).
/// @errors dsl_error `FILE:LINE:COLUMN: message` for the first syntax error,
///         saying what was expected and what was found, or for nesting
///         deeper than max_nesting.
/// @thread Pure function; safe from any thread.
ast::script parse_script(std::string_view text, const std::string& file);

/// Parses a single expression (the whole text must be one expression).
/// @errors dsl_error as parse_script.
ast::expr_ptr parse_expression(std::string_view text, const std::string& file);

}  // namespace weir::dsl
