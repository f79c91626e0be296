// Lexer and parser of the pipeline DSL: tokens, line continuation, syntax errors.
#include <catch2/catch.hpp>

#include "weir/cli/lexer.hpp"
#include "weir/cli/parser.hpp"
#include "weir/cli/pipeline_spec.hpp"
#include "weir/cli/suggest.hpp"

using namespace weir;
using namespace weir::dsl;

namespace {

std::string parse_error(std::string_view text, const std::string& file = "-e") {
  try {
    parse_script(text, file);
  } catch (const dsl_error& e) {
    return e.what();
  }
  return "no error";
}

std::vector<tok> kinds(std::string_view text) {
  std::vector<tok> out;
  for (auto& t : tokenize(text, "t")) out.push_back(t.kind);
  return out;
}

}  // namespace

TEST_CASE("lexer: literals and durations and escapes", "[dsl]") {
  auto t = tokenize(R"(12 1.5 2e3 500ms 10s 5m 1h 1.5s "a\"b\\c\n\t\u00e9\ud83d\ude00" true null _)", "t");
  REQUIRE(t.size() == 13);
  CHECK(t[0].kind == tok::integer);
  CHECK(t[0].ival == 12);
  CHECK(t[1].kind == tok::real);
  CHECK(t[1].dval == 1.5);
  CHECK(t[2].kind == tok::real);
  CHECK(t[2].dval == 2000.0);
  CHECK(t[3].kind == tok::duration);
  CHECK(t[3].ival == 500);
  CHECK(t[4].ival == 10'000);
  CHECK(t[5].ival == 300'000);
  CHECK(t[6].ival == 3'600'000);
  CHECK(t[7].ival == 1'500);
  CHECK(t[8].kind == tok::string);
  CHECK(t[8].str == "a\"b\\c\n\t\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(t[9].kind == tok::kw_true);
  CHECK(t[10].kind == tok::kw_null);
  CHECK(t[11].kind == tok::underscore);
  CHECK(t[12].kind == tok::end);
}

TEST_CASE("lexer: locations count lines and characters from 1", "[dsl]") {
  auto t = tokenize("a\n  \"é\" b", "f.weir");
  REQUIRE(t.size() == 5);
  CHECK(t[0].loc.str() == "f.weir:1:1");
  CHECK(t[1].kind == tok::newline);
  CHECK(t[2].loc.str() == "f.weir:2:3");
  CHECK(t[3].loc.str() == "f.weir:2:7");  // é is one column
}

TEST_CASE("lexer: line breaks end statements only where they can", "[dsl]") {
  // a line starting with '|' continues the pipeline; comments and blank lines are skipped
  CHECK(kinds("a\n  # comment\n\n  | b") ==
        std::vector<tok>{tok::identifier, tok::pipe, tok::identifier, tok::end});
  // a line ending with '|' continues too
  CHECK(kinds("a |\n b") == std::vector<tok>{tok::identifier, tok::pipe, tok::identifier, tok::end});
  // inside parentheses line breaks are insignificant
  CHECK(kinds("f(1,\n 2)\ng") ==
        std::vector<tok>{tok::identifier, tok::lparen, tok::integer, tok::comma, tok::integer,
                         tok::rparen, tok::newline, tok::identifier, tok::end});
  // several blank lines give one newline
  CHECK(kinds("a\n\n\nb") == std::vector<tok>{tok::identifier, tok::newline, tok::identifier, tok::end});
}

TEST_CASE("lexer: errors", "[dsl]") {
  CHECK(parse_error("file(\"abc") == "-e:1:6: unterminated string");
  CHECK(parse_error("file(\"a\nb\") | print()") == "-e:1:6: unterminated string");
  CHECK(parse_error("map(\"\\q\")") ==
        "-e:1:6: unknown escape '\\q' in string (known: \\\" \\\\ \\n \\t \\r \\uXXXX)");
  CHECK(parse_error("x | map(_ @ 1)") == "-e:1:11: unexpected character '@'");
  CHECK(parse_error("x | map(10x)") ==
        "-e:1:9: invalid number '10x' (durations are written 500ms, 10s, 5m, 1h, 1d)");
  CHECK(parse_error("x | map(99999999999999999999)") ==
        "-e:1:9: integer '99999999999999999999' is out of range (64-bit signed)");
  CHECK(parse_error("x | map(1.0001s)") ==
        "-e:1:9: invalid duration '1.0001s': not a whole number of milliseconds");
  CHECK(parse_error("x | filter(_ != 1 && true)") == "-e:1:19: unexpected character '&' (use 'and')");
}

TEST_CASE("parse_duration", "[dsl]") {
  std::int64_t ms = -1;
  CHECK(parse_duration("500ms", ms));
  CHECK(ms == 500);
  CHECK(parse_duration("2s", ms));
  CHECK(ms == 2000);
  CHECK(parse_duration("5m", ms));
  CHECK(ms == 300'000);
  CHECK(parse_duration("1h", ms));
  CHECK(ms == 3'600'000);
  CHECK(parse_duration("0.5s", ms));
  CHECK(ms == 500);
  CHECK(parse_duration("1.1s", ms));  // exact, not 1100.0000000000002
  CHECK(ms == 1100);
  CHECK(parse_duration("0.001s", ms));
  CHECK(ms == 1);
  CHECK(parse_duration("1.25m", ms));
  CHECK(ms == 75'000);
  CHECK_FALSE(parse_duration("5", ms));
  CHECK_FALSE(parse_duration("s", ms));
  CHECK_FALSE(parse_duration("5 s", ms));
  CHECK(parse_duration("2d", ms));  // days
  CHECK(ms == 172'800'000);
  CHECK_FALSE(parse_duration("5w", ms));
  CHECK_FALSE(parse_duration("-5s", ms));
  CHECK_FALSE(parse_duration("0.0001s", ms));
}

TEST_CASE("parser: statements and pipelines", "[dsl]") {
  auto s = parse_script(R"(# word count
set batch_interval = 1s
let words = file("in.txt")
  | flat_map(split(_))
words | map((_, 1)) | reduce_by_key(sum) | print(5); words | count() | print
)", "p.weir");
  REQUIRE(s.statements.size() == 4);
  CHECK(s.statements[0].kind == ast::stmt_kind::set);
  CHECK(s.statements[0].name == "batch_interval");
  CHECK(s.statements[0].setting->is_duration);
  CHECK(s.statements[1].kind == ast::stmt_kind::let);
  CHECK(s.statements[1].name == "words");
  REQUIRE(s.statements[1].stages.size() == 2);
  CHECK(s.statements[1].stages[1].name == "flat_map");
  CHECK(s.statements[1].stages[1].loc.str() == "p.weir:4:5");
  CHECK(s.statements[2].kind == ast::stmt_kind::pipeline);
  REQUIRE(s.statements[2].stages.size() == 4);
  CHECK_FALSE(s.statements[2].stages[0].has_parens);
  CHECK(s.statements[2].stages[3].args.size() == 1);
  REQUIRE(s.statements[3].stages.size() == 3);
  CHECK_FALSE(s.statements[3].stages[2].has_parens);  // `print` without parentheses
}

TEST_CASE("parser: expressions", "[dsl]") {
  auto e = parse_expression("1 + 2 * 3 == 7 and not false", "t");
  CHECK(e->kind == ast::expr_kind::binary);
  CHECK(e->op == tok::kw_and);
  CHECK(e->args[0]->op == tok::eq);
  CHECK(e->args[0]->args[0]->op == tok::plus);
  CHECK(e->args[0]->args[0]->args[1]->op == tok::star);

  auto f = parse_expression(".a.b[-1]", "t");
  CHECK(f->kind == ast::expr_kind::index);
  CHECK(f->args[0]->kind == ast::expr_kind::field);
  CHECK(f->args[0]->name == "b");
  CHECK(f->args[0]->args[0]->name == "a");
  CHECK(f->args[0]->args[0]->args[0]->kind == ast::expr_kind::element);

  CHECK(parse_expression("(1)", "t")->kind == ast::expr_kind::literal);  // grouping
  CHECK(parse_expression("(1, 2)", "t")->kind == ast::expr_kind::tuple);
  CHECK(parse_expression("(a, b) => a + b", "t")->kind == ast::expr_kind::lambda);
  CHECK(parse_expression("x => x", "t")->params == std::vector<std::string>{"x"});
  CHECK(parse_expression("(x) => x", "t")->kind == ast::expr_kind::lambda);
  auto o = parse_expression("{a: 1, \"b c\": [1, 2], not: 3}", "t");
  CHECK(o->keys == std::vector<std::string>{"a", "b c", "not"});
}

TEST_CASE("parser: syntax errors say what was expected and where", "[dsl]") {
  CHECK(parse_error("file(\"a\") | map(_ foo)") == "-e:1:19: expected ')' after arguments, found 'foo'");
  CHECK(parse_error("file(\"a\") |") == "-e:1:12: expected an operator after '|', found end of input");
  CHECK(parse_error("file(\"a\") | (1)") == "-e:1:13: expected an operator after '|', found '('");
  CHECK(parse_error("file(\"a\") map(_)") ==
        "-e:1:11: expected '|', end of line or ';' after 'file(...)', found 'map'");
  CHECK(parse_error("x | map(1 +)") == "-e:1:12: expected an expression, found ')'");
  CHECK(parse_error("x | map([1, 2)") == "-e:1:14: expected ']' after array items, found ')'");
  CHECK(parse_error("x | map({a 1})") == "-e:1:12: expected ':' after field name 'a', found '1'");
  CHECK(parse_error("x | map(.)") == "-e:1:10: expected a field name after '.', found ')'");
  CHECK(parse_error("let = x") == "-e:1:5: expected a stream name after 'let', found '='");
  CHECK(parse_error("let a x") == "-e:1:7: expected '=' after 'let a', found 'x'");
  CHECK(parse_error("set a 1") == "-e:1:7: expected '=' after 'set a', found '1'");
  CHECK(parse_error("set a = 1 2") == "-e:1:11: expected end of line or ';' after the setting, found '2'");
  CHECK(parse_error("42 | print()") == "-e:1:1: expected a pipeline, 'let' or 'set', found '42'");
  CHECK(parse_error("x | filter(1 < 2 < 3)") ==
        "-e:1:18: comparisons cannot be chained; combine them with 'and'");
  CHECK(parse_error("x | print(n = 1, 2)") == "-e:1:18: positional argument after named arguments");
  CHECK(parse_error("x | print(n = 1, n = 2)") == "-e:1:18: argument 'n' given twice");
  CHECK(parse_error("x | map((a, a) => a)") == "-e:1:13: parameter 'a' given twice");
  CHECK(parse_error("x | map(())") == "-e:1:10: empty parentheses '()' are not an expression");
  CHECK(parse_error("let e = x y") == "-e:1:11: expected end of line or ';' after the constant 'e', found 'y'");
  CHECK(parse_error("let e = gener)te(1)") ==
        "-e:1:14: expected end of line or ';' after the constant 'e', found ')'");
  CHECK(parse_error("\n\nx | map(_ foo)", "pipeline.weir") ==
        "pipeline.weir:3:11: expected ')' after arguments, found 'foo'");
}

TEST_CASE("suggestions by edit distance", "[dsl]") {
  CHECK(edit_distance("reduce_by_kye", "reduce_by_key") == 1);  // transposition
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("kitten", "sitting") == 3);
  std::vector<std::string> names = {"map", "flat_map", "filter", "reduce_by_key",
                                    "reduce_by_key_and_window"};
  CHECK(closest_name("reduce_by_kye", names) == "reduce_by_key");
  CHECK(closest_name("fliter", names) == "filter");
  CHECK(closest_name("mpa", names) == "map");
  CHECK(closest_name("flatmap", names) == "flat_map");
  CHECK_FALSE(closest_name("zzz", names).has_value());
  CHECK(did_you_mean("zzz", names).empty());
  CHECK(did_you_mean("fliter", names) == " (did you mean 'filter'?)");
}

TEST_CASE("parser: mutated scripts fail only with dsl_error", "[dsl]") {
  const std::string base = R"(set batch_interval = 1s
let e = generate("access_log", rate = 20000, duration = 5s) | filter(.status >= 500 and not (.path == "/"))
e | map((.path, {a: [1, 2.5, -3], "b c": _[0]})) | reduce_by_key_and_window((a, b) => a + b, 3s, slide = 1s) | print(5)
file("in.txt") | flat_map(split(lower(_), " ")) | filter(x => x != "\u00e9\n") | top(3, by = len(_)) | write_jsonl("o")
)";
  const std::string alphabet = "()[]{},.;:|=>!<+-*/%\"\\_ \n#aZ09sm";
  std::uint64_t rng = 12345;
  auto next = [&rng] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  int errors = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string s = base;
    int edits = 1 + static_cast<int>(next() % 4);
    for (int k = 0; k < edits; ++k) {
      std::size_t pos = next() % (s.size() + 1);
      switch (next() % 3) {
        case 0: s.insert(pos, 1, alphabet[next() % alphabet.size()]); break;
        case 1: if (pos < s.size()) s.erase(pos, 1); break;
        default: if (pos < s.size()) s[pos] = alphabet[next() % alphabet.size()]; break;
      }
    }
    try {
      compile_script(s, "fuzz");  // parse and analyze
    } catch (const dsl_error& e) {
      ++errors;
      CHECK(std::string(e.what()).rfind("fuzz:", 0) == 0);
    }
  }
  CHECK(errors > 0);
}

TEST_CASE("parser: method calls", "[dsl]") {
  auto m = parse_expression("state.update(state.get() + 1)", "t");
  REQUIRE(m->kind == ast::expr_kind::method);
  CHECK(m->name == "update");
  CHECK(m->loc.str() == "t:1:7");  // the method name
  REQUIRE(m->args.size() == 2);  // receiver, then the arguments
  CHECK(m->args[0]->kind == ast::expr_kind::name);
  CHECK(m->args[0]->name == "state");
  CHECK(m->args[1]->kind == ast::expr_kind::binary);
  CHECK(m->args[1]->args[0]->kind == ast::expr_kind::method);
  CHECK(m->args[1]->args[0]->name == "get");

  auto e = parse_expression("state.exists()", "t");
  REQUIRE(e->kind == ast::expr_kind::method);
  CHECK(e->args.size() == 1);

  // `.name(...)` is a method of `_`; postfix continues after a method call
  auto d = parse_expression(".f(1)[0].g", "t");
  REQUIRE(d->kind == ast::expr_kind::field);
  CHECK(d->name == "g");
  REQUIRE(d->args[0]->kind == ast::expr_kind::index);
  const auto& call = *d->args[0]->args[0];
  REQUIRE(call.kind == ast::expr_kind::method);
  CHECK(call.name == "f");
  CHECK(call.args[0]->kind == ast::expr_kind::element);

  // a field without parentheses stays a field
  CHECK(parse_expression("a.b", "t")->kind == ast::expr_kind::field);
  auto n = parse_expression("s.update(x = 1)", "t");
  REQUIRE(n->named.size() == 1);
  CHECK(n->named[0].name == "x");

  CHECK(parse_error("stdin() | map(s.get(1, ) | print()") ==
        "-e:1:26: expected ')' after arguments, found '|'");
}

TEST_CASE("parser: the DStream stages", "[dsl]") {
  auto s = parse_script(R"(let clicks = batches("in.jsonl", total = 8)
clicks | join(table("users.jsonl")) | union(clicks, clicks) | collect("out.jsonl")
clicks | map_with_state((key, value, state) => (key, state.update(value)), timeout = 5s) | state_snapshots() | collect("s.jsonl"))",
                        "t");
  REQUIRE(s.statements.size() == 3);
  const auto& p = s.statements[1].stages;
  REQUIRE(p.size() == 4);
  CHECK(p[1].name == "join");
  REQUIRE(p[1].args.size() == 1);
  CHECK(p[1].args[0]->kind == ast::expr_kind::call);
  CHECK(p[1].args[0]->name == "table");
  CHECK(p[2].name == "union");
  CHECK(p[2].args.size() == 2);
  const auto& q = s.statements[2].stages;
  REQUIRE(q.size() == 4);
  CHECK(q[1].args[0]->kind == ast::expr_kind::lambda);
  CHECK(q[1].args[0]->params == std::vector<std::string>{"key", "value", "state"});
  REQUIRE(q[1].named.size() == 1);
  CHECK(q[1].named[0].name == "timeout");
  CHECK(q[2].name == "state_snapshots");
  CHECK(q[2].has_parens);
}
