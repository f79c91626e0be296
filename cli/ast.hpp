// weir — the syntax tree of a DSL script, as the parser builds it.
//
// The tree says only what was written; names are resolved and arguments
// checked when the script is compiled (`analyze` in pipeline_spec.hpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "weir/cli/dsl_error.hpp"
#include "weir/cli/lexer.hpp"
#include "weir/operators/value.hpp"

namespace weir::dsl::ast {

struct expr;
using expr_ptr = std::unique_ptr<expr>;

/// `name = value` inside a call's parentheses.
struct named_arg {
  std::string name;
  source_location loc;  ///< of the name
  expr_ptr val;
};

enum class expr_kind {
  literal,   ///< `lit` (is_duration: written `10s`)
  element,   ///< `_`
  name,      ///< identifier `name` (lambda parameter, bare reducer, ...)
  field,     ///< `args[0].name`
  index,     ///< `args[0][args[1]]`
  call,      ///< `name(args..., named...)`
  method,    ///< `args[0].name(args[1..], named...)` (the map_with_state state's methods)
  unary,     ///< `op args[0]` (op: minus, kw_not)
  binary,    ///< `args[0] op args[1]` (arithmetic, comparison, kw_and, kw_or)
  tuple,     ///< `(args...)`, two or more items
  array,     ///< `[args...]`
  object,    ///< `{keys[i]: args[i], ...}`
  lambda,    ///< `params => args[0]`
};

struct expr {
  expr_kind kind = expr_kind::literal;
  source_location loc;               ///< where the expression (or its operator) is
  value lit;                         ///< literal
  bool is_duration = false;          ///< literal written as a duration
  std::string name;                  ///< name, field, call, method
  tok op = tok::end;                 ///< unary, binary
  std::vector<expr_ptr> args;        ///< operands, items, positional arguments, lambda body
  std::vector<named_arg> named;      ///< call, method
  std::vector<std::string> keys;     ///< object
  std::vector<std::string> params;   ///< lambda
  std::string text;                  ///< source text of a literal, for messages
  /// Levels of nesting, this node's included (a leaf is 1); the parser
  /// refuses a tree deeper than max_nesting (parser.hpp), so every recursive
  /// walk of an expression (analysis, compilation, evaluation) is bounded.
  int depth = 1;
};

/// One stage of a pipeline: `name` or `name(args...)`.
struct stage {
  std::string name;
  source_location loc;
  bool has_parens = false;
  std::vector<expr_ptr> args;
  std::vector<named_arg> named;
};

enum class stmt_kind { set, let, pipeline };

struct statement {
  stmt_kind kind = stmt_kind::pipeline;
  source_location loc;        ///< start of the statement
  std::string name;           ///< set: setting name; let: stream name
  source_location name_loc;
  expr_ptr setting;           ///< set: the value
  std::vector<stage> stages;  ///< let, pipeline
};

struct script {
  std::string file;
  std::vector<statement> statements;
};

}  // namespace weir::dsl::ast
