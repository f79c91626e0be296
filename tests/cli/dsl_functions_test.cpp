// The DSL's functions for regular expressions, arrays with lambdas (and
// closures), strings and JSON, and time: results on values built in the
// test, and the errors for wrong types, bad patterns, unsupported format
// directives and unknown zones.
#include <catch2/catch.hpp>

#include "weir/cli/expression.hpp"
#include "weir/cli/parser.hpp"
#include "weir/operators/stream_operator.hpp"

using namespace weir;
using namespace weir::dsl;

namespace {

value ev(std::string_view text, const value& it = value()) { return evaluate(text, it, "t"); }

/// The compile-time error of `text` (file "t"), or "no error".
std::string compile_error(std::string_view text) {
  try {
    auto e = parse_expression(text, "t");
    compile_element_function(*e, "map()");
  } catch (const dsl_error& e) {
    return e.what();
  }
  return "no error";
}

/// The runtime error of `text` on record `it`, or "no error".
std::string runtime_error_of(std::string_view text, const value& it) {
  auto e = parse_expression(text, "t");
  auto f = compile_element_function(*e, "map()");
  try {
    f(it);
  } catch (const record_error& err) {
    return err.what();
  }
  return "no error";
}

value strings(std::initializer_list<const char*> items) {
  std::vector<value> v;
  for (auto* s : items) v.emplace_back(s);
  return value::array(std::move(v));
}

value ints(std::initializer_list<std::int64_t> items) {
  std::vector<value> v;
  for (auto i : items) v.emplace_back(i);
  return value::array(std::move(v));
}

}  // namespace

// ---- regular expressions --------------------------------------------------------

TEST_CASE("functions: matches is Spark's rlike (a match anywhere)", "[dsl][functions]") {
  CHECK(ev("matches(_, \"ERR(OR)?\")", value("an ERROR here")) == value(true));
  CHECK(ev("matches(_, \"^ERR\")", value("an ERROR here")) == value(false));
  CHECK(ev("matches(_, \"\\\\d{3}\")", value("code 503")) == value(true));
  CHECK(ev("matches(_, \"[a-z]+\")", value("123")) == value(false));
  CHECK(ev("matches(null, \"x\")").is_null());
  // a pattern computed per record is compiled per call
  CHECK(ev("matches(.s, .re)", value::object({{"s", "abc"}, {"re", "b+c$"}})) == value(true));
}

TEST_CASE("functions: regexp_extract takes a group of the first match", "[dsl][functions]") {
  const value line("GET /index.html HTTP/1.1 200");
  CHECK(ev("regexp_extract(_, \"(GET|POST) (\\\\S+)\")", line) == value("GET"));
  CHECK(ev("regexp_extract(_, \"(GET|POST) (\\\\S+)\", 2)", line) == value("/index.html"));
  CHECK(ev("regexp_extract(_, \"(GET|POST) (\\\\S+)\", 0)", line) == value("GET /index.html"));
  CHECK(ev("regexp_extract(_, \"(GET|POST) (\\\\S+)\", group = 2)", line) == value("/index.html"));
  CHECK(ev("regexp_extract(_, \"(?<code>\\\\d{3})$\", \"code\")", line) == value("200"));
  CHECK(ev("regexp_extract(_, \"(\\\\d+)\")", value("a 12 b 34")) == value("12"));
  CHECK(ev("regexp_extract(_, \"(DELETE) (\\\\S+)\")", line).is_null());  // no match
  CHECK(ev("regexp_extract(_, \"x|(y)\")", value("x")).is_null());         // the group did not take part
  CHECK(ev("regexp_extract(null, \"(x)\")").is_null());
}

TEST_CASE("functions: regexp_replace replaces every match, with groups in the replacement", "[dsl][functions]") {
  CHECK(ev("regexp_replace(_, \"\\\\d+\", \"#\")", value("a1b22c333")) == value("a#b#c#"));
  CHECK(ev("regexp_replace(_, \"(\\\\w+)@(\\\\w+)\", \"\\\\2 at \\\\1\")", value("ann@host, bob@box")) ==
        value("host at ann, box at bob"));
  CHECK(ev("regexp_replace(_, \"z\", \"y\")", value("abc")) == value("abc"));
  CHECK(ev("regexp_replace(_, \"\\\\s+\", \" \")", value("a \t b\n\nc")) == value("a b c"));
  CHECK(ev("regexp_replace(null, \"x\", \"y\")").is_null());
}

TEST_CASE("functions: regex errors are compile errors at the pattern", "[dsl][functions]") {
  CHECK(compile_error("matches(_, \"(ab\")") ==
        "t:1:12: matches(): invalid pattern /(ab/: missing ): (ab");
  CHECK(compile_error("matches(_, \"(a)\\\\1\")") ==
        "t:1:12: matches(): invalid pattern /(a)\\1/: backreference \\1 at character 4 is not supported: weir's "
        "regex engine (RE2) runs in linear time and has no backreferences");
  CHECK(compile_error("matches(_, 5)") == "t:1:12: matches() expects a string (a pattern) as argument 2, got int");
  CHECK(compile_error("regexp_extract(_, \"(a)\", 2)") ==
        "t:1:26: regexp_extract(): the pattern /(a)/ has 1 group, got group 2");
  CHECK(compile_error("regexp_extract(_, \"a\")") ==
        "t:1:19: regexp_extract(): the pattern /a/ has 0 groups, got group 1");
  CHECK(compile_error("regexp_extract(_, \"(?<y>a)\", \"x\")") ==
        "t:1:30: regexp_extract(): the pattern /(?<y>a)/ has no group named 'x'");
  CHECK(compile_error("regexp_replace(_, \"(a)\", \"\\\\2\")") ==
        "t:1:26: regexp_replace(): the replacement refers to group \\2 but the pattern has 1 group");
  CHECK(compile_error("regexp_replace(_, \"a\", \"\\\\x\")") ==
        "t:1:24: regexp_replace(): a backslash in the replacement must be followed by a group number 0-9 or "
        "another backslash, got \\x");
  // wrong types of the text, and a bad pattern computed per record, fail per record
  CHECK(runtime_error_of("matches(_, \"a\")", value(3)) == "t:1:1: matches() expects a string as argument 1, got int");
  CHECK(runtime_error_of("matches(\"a\", _)", value("(")) ==
        "t:1:1: matches(): invalid pattern /(/: missing ): (");
}

// ---- arrays and lambdas ------------------------------------------------------------

TEST_CASE("functions: transform, filter and exists take a lambda", "[dsl][functions]") {
  CHECK(ev("transform([1, 2, 3], x => x * 10)") == ints({10, 20, 30}));
  CHECK(ev("transform([\"a\", \"b\"], (x, i) => x + str(i))") == strings({"a0", "b1"}));
  CHECK(ev("filter([1, 2, 3, 4], x => x % 2 == 0)") == ints({2, 4}));
  CHECK(ev("filter([5, 6, 7], (x, i) => i > 0)") == ints({6, 7}));
  CHECK(ev("exists([1, 2, 3], x => x > 2)") == value(true));
  CHECK(ev("exists([], x => true)") == value(false));
  CHECK(ev("transform(null, x => x)").is_null());
  CHECK(ev("transform([], x => x)") == ints({}));
}

TEST_CASE("functions: a lambda is a closure over the record and outer parameters", "[dsl][functions]") {
  const value speech = value::object({{"party", "Lab"}, {"text", "We Will win"}});
  CHECK(ev("transform(split(lower(.text)), w => ((.party, w), 1))", speech) ==
        value::array({value::pair(value::pair(value("Lab"), value("we")), value(1)),
                      value::pair(value::pair(value("Lab"), value("will")), value(1)),
                      value::pair(value::pair(value("Lab"), value("win")), value(1))}));
  // nested lambdas see the outer lambda's parameter
  CHECK(ev("transform([1, 2], x => transform([10, 20], y => x + y))") ==
        value::array({ints({11, 21}), ints({12, 22})}));
  CHECK(ev("filter(.xs, x => x > .limit)", value::object({{"xs", ints({1, 5, 9})}, {"limit", 4}})) == ints({5, 9}));
  // inside an operator's lambda, its parameter stays visible too
  auto f = compile_element_function(*parse_expression("r => transform(r.xs, x => x * r.k)", "t"), "map()");
  CHECK(f(value::object({{"xs", ints({1, 2})}, {"k", 3}})) == ints({3, 6}));
}

TEST_CASE("functions: lambda argument errors", "[dsl][functions]") {
  CHECK(compile_error("transform(_, 5)") ==
        "t:1:14: transform() expects a lambda as argument 2 (x => ... or (x, i) => ...), found an expression "
        "(usage: transform(array, x => e))");
  CHECK(compile_error("exists(_, (a, b) => a)") ==
        "t:1:11: the lambda of exists() takes 1 parameter (x => ...), got 2 parameters");
  CHECK(compile_error("transform(_, x => y)") == "t:1:19: unknown name 'y' (did you mean 'x'?)");
  CHECK(runtime_error_of("filter(_, x => x)", ints({1})) == "t:1:1: the lambda of filter() must return a bool, got int");
  CHECK(runtime_error_of("transform(_, x => x)", value("abc")) ==
        "t:1:1: transform() expects an array as argument 1, got string");
}

TEST_CASE("functions: sort, distinct, slice, flatten, index_of", "[dsl][functions]") {
  CHECK(ev("sort([3, 1, 2])") == ints({1, 2, 3}));
  CHECK(ev("sort([3, 1, 2], false)") == ints({3, 2, 1}));
  CHECK(ev("sort([\"b\", 1, null])").to_json() == R"([null,1,"b"])");  // value order
  CHECK(ev("distinct([3, 1, 3, 2, 1])") == ints({3, 1, 2}));           // first occurrences, in order
  CHECK(ev("distinct([1, 1.0, 2])").to_json() == "[1,2]");
  CHECK(ev("slice([1, 2, 3, 4], 1, 2)") == ints({2, 3}));
  CHECK(ev("slice([1, 2, 3, 4], -2)") == ints({3, 4}));
  CHECK(ev("slice([1, 2, 3], 5, 2)") == ints({}));
  CHECK(ev("flatten([[1, 2], [], null, [3]])") == ints({1, 2, 3}));
  CHECK(ev("index_of([\"a\", \"b\"], \"b\")") == value(1));
  CHECK(ev("index_of([\"a\", \"b\"], \"z\")") == value(-1));
  CHECK(ev("index_of(\"hello\", \"ll\")") == value(2));
  CHECK(compile_error("sort(5)") == "t:1:1: sort() expects an array, got int");
  CHECK(compile_error("slice([1], \"a\")") == "t:1:1: slice() expects an int as argument 2, got string");
  CHECK(compile_error("flatten([1])") == "t:1:1: flatten() expects an array of arrays, got an int in it");
  CHECK(compile_error("index_of(3, 3)") == "t:1:1: index_of() expects a string or an array as argument 1, got int");
}

// ---- strings and JSON -----------------------------------------------------------------

TEST_CASE("functions: concat, to_json, from_json", "[dsl][functions]") {
  CHECK(ev("concat(\"a\", 1, 2.5, null, (\"k\", 2))") == value("a12.5null(k,2)"));
  CHECK(ev("concat(.dir, \"/\", .n, \".csv\")", value::object({{"dir", "logs"}, {"n", 7}})) == value("logs/7.csv"));
  CHECK(ev("to_json({a: [1, \"x\"], b: null})") == value(R"({"a":[1,"x"],"b":null})"));
  CHECK(ev("to_json(\"q\\\"\")") == value(R"("q\"")"));
  CHECK(ev("from_json(_)", value(R"({"a": [1, 2.5, true]})")).to_json() == R"({"a":[1,2.5,true]})");
  CHECK(ev("from_json(to_json(_))", value::object({{"k", ints({1})}})) == value::object({{"k", ints({1})}}));
  CHECK(runtime_error_of("from_json(_)", value("{\"a\": ")).rfind("t:1:1: from_json() cannot parse \"{\"a\": \": ", 0) ==
        0);
  CHECK(runtime_error_of("from_json(_)", value(1)) == "t:1:1: from_json() expects a string, got int");
}

// ---- time ------------------------------------------------------------------------------

TEST_CASE("functions: format_time", "[dsl][functions]") {
  const value t(1431857103250);  // 2015-05-17T10:05:03.250Z, a Sunday
  CHECK(ev("format_time(_)", t) == value("2015-05-17T10:05:03.250Z"));
  CHECK(ev("format_time(_, \"%Y-%m-%d %H:%M\")", t) == value("2015-05-17 10:05"));
  CHECK(ev("format_time(_, \"%y%j %e|%I%p %a %A %b %B %S.%f %%\")", t) ==
        value("15137 17|10AM Sun Sunday May May 03.250 %"));
  CHECK(ev("format_time(_, \"%H:%M %z\", \"+02:00\")", t) == value("12:05 +0200"));
  CHECK(ev("format_time(_, \"%H:%M %z\", zone = \"Europe/Paris\")", t) == value("12:05 +0200"));  // summer time
  CHECK(ev("format_time(_, zone = \"America/New_York\")", value(1388577600000)) ==
        value("2014-01-01T07:00:00.000-05:00"));
  CHECK(ev("format_time(-1)") == value("1969-12-31T23:59:59.999Z"));
  CHECK(ev("format_time(null)").is_null());
  CHECK(compile_error("format_time(_, \"%Q\")") ==
        "t:1:16: format_time(): format \"%Q\": the directive %Q is not supported (weir supports %Y %y %m %d %e "
        "%j %H %I %M %S %f %p %b %B %a %A %z %%)");
  CHECK(compile_error("format_time(_, \"%H:%M\", \"Mars/Olympus\")") ==
        "t:1:25: format_time(): unknown time zone \"Mars/Olympus\" (give an offset like \"+02:00\" or an IANA "
        "name like \"Europe/Paris\")");
  CHECK(compile_error("format_time(_, zone = \"+25:00\")") ==
        "t:1:23: format_time(): bad zone offset \"+25:00\" (expected +hh:mm, +hhmm or +hh)");
  CHECK(runtime_error_of("format_time(_)", value("2015")) ==
        "t:1:1: format_time() expects an int (ms since the epoch), got string");
}

TEST_CASE("functions: parse_time's directives and zones", "[dsl][functions]") {
  CHECK(ev("parse_time(\"15/05/17 10:05\", \"%y/%m/%d %H:%M\")") == value(1431857100000));
  CHECK(ev("parse_time(\"69-01-01\", \"%y-%m-%d\")") == value(-31536000000));  // 1969 (POSIX)
  CHECK(ev("parse_time(\"May  7 2015\", \"%b %e %Y\")") == value(1430956800000));
  CHECK(ev("parse_time(\"2015-137\", \"%Y-%j\")") == value(1431820800000));  // day 137 = May 17
  CHECK(ev("parse_time(\"Sunday, 17 May 2015 10:05 PM\", \"%A, %d %B %Y %I:%M %p\")") == value(1431900300000));
  CHECK(ev("parse_time(\"Sun 17 may 2015 12:00 AM\", \"%a %d %b %Y %I:%M %p\")") == value(1431820800000));
  // a zone for zone-less input; a %z in the input wins
  CHECK(ev("parse_time(\"2015-05-17 12:05:03\", \"%Y-%m-%d %H:%M:%S\", \"+02:00\")") == value(1431857103000));
  CHECK(ev("parse_time(\"2015-05-17 12:05:03\", zone = \"Europe/Paris\")") == value(1431857103000));
  CHECK(ev("parse_time(\"2015-05-17T12:05:03+00:00\", zone = \"Europe/Paris\")") == value(1431864303000));
  // missing fields are those of 1970-01-01 00:00:00.000 UTC
  CHECK(ev("parse_time(\"10:05\", \"%H:%M\")") == value(36300000));
  CHECK(compile_error("parse_time(_, \"%Y %Q\")") ==
        "t:1:15: parse_time(): format \"%Y %Q\": the directive %Q is not supported (weir supports %Y %y %m %d %e "
        "%j %H %I %M %S %f %p %b %B %a %A %z %%)");
  CHECK(compile_error("parse_time(_, \"%Y%\")") ==
        "t:1:15: parse_time(): format \"%Y%\" ends with a lone '%' (write %% for a percent sign)");
  CHECK(runtime_error_of("parse_time(_, \"%Y-%m-%d\")", value("2015-02-29")) ==
        "t:1:1: parse_time() cannot parse \"2015-02-29\" with format \"%Y-%m-%d\"");
  // a zone computed per record is looked up per call
  CHECK(ev("parse_time(.s, \"%H:%M\", .z)", value::object({{"s", "01:30"}, {"z", "+01:00"}})) == value(1'800'000));
  CHECK(runtime_error_of("parse_time(.s, \"%H:%M\", .z)", value::object({{"s", "01:30"}, {"z", "Nowhere/City"}}))
            .rfind("t:1:1: parse_time(): unknown time zone \"Nowhere/City\"", 0) == 0);
}

TEST_CASE("functions: the duration unit d is days", "[dsl][functions]") {
  CHECK(ev("1d") == value(86'400'000));
  CHECK(ev("1.5d") == value(129'600'000));
}

TEST_CASE("functions: an unknown function names the closest ones and the list", "[dsl][functions]") {
  CHECK(compile_error("regex_extract(_, \"a\")") ==
        "t:1:1: unknown function 'regex_extract' (did you mean 'regexp_extract'?); every function is listed in "
        "docs/DSL.md, section 4, \"Functions\"");
  CHECK(compile_error("sortt(_)") ==
        "t:1:1: unknown function 'sortt' (did you mean 'sort' or 'sqrt'?); every function is listed in "
        "docs/DSL.md, "
        "section 4, \"Functions\"");
  CHECK(compile_error("xyzzy(_)") ==
        "t:1:1: unknown function 'xyzzy'; every function is listed in docs/DSL.md, section 4, \"Functions\"");
}
