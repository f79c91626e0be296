// weir — the tokenizer of the pipeline DSL.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "weir/cli/dsl_error.hpp"

namespace weir::dsl {

enum class tok : std::uint8_t {
  identifier, underscore,                            // name, `_`
  integer, real, duration, string,                   // literals
  kw_let, kw_set, kw_and, kw_or, kw_not, kw_true, kw_false, kw_null,
  lparen, rparen, lbracket, rbracket, lbrace, rbrace,
  comma, semicolon, dot, colon, pipe, assign, arrow, // , ; . : | = =>
  eq, ne, lt, le, gt, ge, plus, minus, star, slash, percent,
  newline, end,
};

/// One token. `text` is the token as written (for messages); `str` is the
/// decoded value of a string literal; `ival` holds integers and durations (ms).
struct token {
  tok kind = tok::end;
  std::string text;
  std::string str;
  std::int64_t ival = 0;
  double dval = 0;
  source_location loc;
};

/// How a token is named in "expected X, found Y" messages: `'foo'`,
/// `string "abc"`, `end of line`, `end of input`.
std::string describe(const token& t);

/// Splits a script into tokens, ending with one `tok::end`. Comments (`#` to
/// end of line) are dropped. Line breaks become `tok::newline` only where
/// they end a statement: not inside (), [] or {}, not after a token that
/// cannot end an expression (`|`, `=`, `,`, an operator), and not before a
/// line that starts with `|` (a pipeline continued on the next line).
/// Consecutive line breaks are merged.
/// @errors dsl_error for an unterminated string, a bad escape, an unexpected
///         character, an integer literal out of range or a malformed duration.
/// @thread Pure function; safe from any thread.
std::vector<token> tokenize(std::string_view text, const std::string& file);

/// Parses a duration as written in the DSL and on the command line: a
/// non-negative number followed by `ms`, `s`, `m`, `h` or `d` (`500ms`, `10s`,
/// `1.5s`). Returns false if `text` is not such a duration or is not a whole
/// number of milliseconds.
bool parse_duration(std::string_view text, std::int64_t& ms);

}  // namespace weir::dsl
