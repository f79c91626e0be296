// weir — the parser of the pipeline DSL (see docs/DSL.md for the grammar).
#pragma once

#include <string>
#include <string_view>

#include "weir/cli/ast.hpp"

namespace weir::dsl {

/// Parses a whole script. `file` names it in error messages ("-e" for `weir run -e`).
/// @errors dsl_error `FILE:LINE:COLUMN: message` for the first syntax error,
///         saying what was expected and what was found.
/// @thread Pure function; safe from any thread.
ast::script parse_script(std::string_view text, const std::string& file);

/// Parses a single expression (the whole text must be one expression).
/// @errors dsl_error as parse_script.
ast::expr_ptr parse_expression(std::string_view text, const std::string& file);

}  // namespace weir::dsl
