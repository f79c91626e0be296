// The DSL front end against hostile scripts: nesting that would exhaust the
// stack of a recursive parser, analyzer or compiler, names that would make
// "did you mean" quadratic, a byte order mark, an overflowing duration.
#include <catch2/catch.hpp>

#include <string>

#include "weir/cli/expression.hpp"
#include "weir/cli/lexer.hpp"
#include "weir/cli/parser.hpp"
#include "weir/cli/pipeline_spec.hpp"
#include "weir/cli/suggest.hpp"

using namespace weir;
using namespace weir::dsl;

namespace {

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

/// The message compile_script gives for `script`, or "ok".
std::string compile_error(const std::string& script) {
  try {
    (void)compile_script(script, "t.weir");
  } catch (const dsl_error& e) {
    return e.what();
  }
  return "ok";
}

std::string in_map(const std::string& expr) { return "file(\"a\") | map(" + expr + ") | print()"; }

}  // namespace

TEST_CASE("DSL: nesting deeper than 1000 is an error at its place - never a stack overflow", "[dsl][hostile]") {
  // each of these crashed a recursive parser, analyzer or compiler
  const std::string prefix = "file(\"a\") | map(";  // column 17 is the expression's first character
  struct deep_case {
    const char* what;
    std::string script;
  };
  const std::vector<deep_case> cases = {
      {"7,000 parentheses", in_map(repeat("(", 7000) + "1" + repeat(")", 7000))},
      {"10,000 [", in_map(repeat("[", 10000) + repeat("]", 10000))},
      {"10,000 {a:", in_map(repeat("{a:", 10000) + "1" + repeat("}", 10000))},
      {"100,000 not", "file(\"a\") | filter(" + repeat("not ", 100000) + "true) | print()"},
      {"100,000 unary minus", in_map(repeat("-", 100000) + "1")},
      {"a 50,000-term sum", in_map("1" + repeat("+1", 50000))},
      {"a 100,000-link field chain", in_map("_" + repeat(".a", 100000))},
      {"a 10,000-link index chain", in_map("_" + repeat("[0]", 10000))},
      {"10,000 nested calls", in_map(repeat("abs(", 10000) + "1" + repeat(")", 10000))},
      {"a 10,000-term and", "file(\"a\") | filter(true" + repeat(" and true", 10000) + ") | print()"},
  };
  for (auto& c : cases) {
    INFO(c.what);
    const std::string err = compile_error(c.script);
    CHECK_THAT(err, Catch::StartsWith("t.weir:1:") && Catch::EndsWith(": nesting deeper than 1000"));
    CHECK_THROWS_AS(parse_script(c.script, "t.weir"), dsl_error);
  }
  // the column is where the 1001st level opens
  CHECK(compile_error(in_map(repeat("[", 1200) + repeat("]", 1200))) == "t.weir:1:1017: nesting deeper than 1000");
  // nesting within the limit compiles, and runs
  CHECK(compile_error(in_map(repeat("(", 900) + "1" + repeat(")", 900))) == "ok");
  CHECK(compile_error(in_map("1" + repeat("+1", 900))) == "ok");
  CHECK(compile_error(in_map(repeat("[", 900) + repeat("]", 900))) == "ok");
  CHECK(evaluate(repeat("-", 900) + "1", value(), "t") == value(1));
  CHECK(evaluate("1" + repeat("+1", 990), value(), "t") == value(991));
  CHECK(evaluate(repeat("not ", 991) + "true", value(), "t") == value(false));
}

TEST_CASE("DSL: did-you-mean on very long names takes linear time", "[dsl][hostile]") {
  // a full edit-distance table of two 1,000,000-character names has 10^12 cells
  const std::string name(1000000, 'x');
  const std::vector<std::string> candidates = {"short", name};
  CHECK(closest_name(name + "y", candidates) == name);
  CHECK(closest_name("z" + name + "yy", candidates) == name);
  CHECK_FALSE(closest_name(name + "yyyy", candidates));
  CHECK(closest_name(std::string(200000, 'q'), candidates) == std::nullopt);
  // the banded distance agrees with the full one within its bound
  for (auto [a, b] : {std::pair{"kitten", "sitting"}, {"abc", "acb"}, {"", "abc"}, {"flaw", "lawn"}, {"ca", "abc"}})
    for (std::size_t k = 0; k < 5; ++k) {
      INFO(a << " " << b << " k=" << k);
      CHECK(edit_distance_within(a, b, k) == std::min(edit_distance(a, b), k + 1));
    }
  // a script: a misspelt 100,000-character stream name
  const std::string longname(100000, 'n');
  CHECK_THAT(compile_error("let " + longname + " = file(\"a\")\n" + longname + "x | print()"),
             Catch::Contains("(did you mean '" + longname + "'?)"));
}

TEST_CASE("DSL: a UTF-8 byte order mark at the start of a script is ignored", "[dsl][hostile]") {
  CHECK(compile_error("\xEF\xBB\xBF" "file(\"a\") | print()") == "ok");
  auto t = tokenize("\xEF\xBB\xBF" "x", "t");
  REQUIRE(t.size() == 2);
  CHECK(t[0].text == "x");
  CHECK(t[0].loc.column == 1);
  // anywhere else it is an unexpected character
  CHECK_THROWS_AS(tokenize("x \xEF\xBB\xBF", "t"), dsl_error);
}

TEST_CASE("DSL: a duration beyond 64-bit milliseconds is out of range - not a fraction", "[dsl][hostile]") {
  CHECK(compile_error("set batch_interval = 9999999999999h") ==
        "t.weir:1:22: duration '9999999999999h' is out of range (at most 9223372036854775807 ms, about 292 "
        "million years)");
  CHECK(compile_error("set batch_interval = 99999999999999999999ms") ==
        "t.weir:1:22: duration '99999999999999999999ms' is out of range (at most 9223372036854775807 ms, about 292 "
        "million years)");
  CHECK(compile_error("set batch_interval = 1.0001s") ==
        "t.weir:1:22: invalid duration '1.0001s': not a whole number of milliseconds");
  std::int64_t ms = 0;
  CHECK(parse_duration("2562047788015h", ms));  // fits
  CHECK_FALSE(parse_duration("2562047788016h", ms));
}

TEST_CASE("lexer: a 200,000-token line lexes in linear time", "[dsl][hostile]") {
  // columns are counted on from the previous token, not from the line's start
  const std::string line = "1" + repeat(" +1", 100000);
  auto t = tokenize(line, "t");
  REQUIRE(t.size() == 200002);
  CHECK(t[199999].loc.column == static_cast<int>(line.size()) - 1);
  CHECK(t[200000].loc.column == static_cast<int>(line.size()));
}
