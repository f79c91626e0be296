// Compiled DSL expressions evaluated on values built in the test.
#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "weir/cli/expression.hpp"
#include "weir/cli/parser.hpp"
#include "weir/operators/stream_operator.hpp"

using namespace weir;
using namespace weir::dsl;

namespace {

value ev(std::string_view text, const value& it = value()) { return evaluate(text, it, "t"); }

std::string compile_error(std::string_view text) {
  try {
    evaluate(text, value(), "t");
  } catch (const dsl_error& e) {
    return e.what();
  } catch (const record_error& e) {
    return std::string("record_error: ") + e.what();
  }
  return "no error";
}

std::string runtime_error_of(std::string_view text, const value& it) {
  try {
    evaluate(text, it, "pipeline.weir");
  } catch (const record_error& e) {
    return e.what();
  }
  return "no error";
}

value strings(std::initializer_list<const char*> items) {
  std::vector<value> v;
  for (auto* s : items) v.emplace_back(s);
  return value::array(std::move(v));
}

value log_record() {
  return value::object({{"status", 503},
                        {"path", "/index.html"},
                        {"tags", value::array({value("a"), value("b"), value("c")})},
                        {"user", value::object({{"name", "ann"}})}});
}

}  // namespace

TEST_CASE("expressions: literals", "[dsl]") {
  CHECK(ev("42") == value(42));
  CHECK(ev("42").is_int());
  CHECK(ev("1.5").is_real());
  CHECK(ev("\"hi\"") == value("hi"));
  CHECK(ev("true") == value(true));
  CHECK(ev("null").is_null());
  CHECK(ev("500ms") == value(500));
  CHECK(ev("10s") == value(10'000));
  CHECK(ev("5m") == value(300'000));
  CHECK(ev("1h") == value(3'600'000));
  CHECK(ev("[1, \"a\", null]").to_json() == R"([1,"a",null])");
  CHECK_FALSE(ev("[1, 2]").is_tuple());
  CHECK(ev("{a: 1, \"b c\": [true]}").to_json() == R"({"a":1,"b c":[true]})");
  CHECK(ev("{}").to_json() == "{}");
  CHECK(ev("[]").to_json() == "[]");
}

TEST_CASE("expressions: tuples are pairs and parentheses group", "[dsl]") {
  value p = ev("(_, 1)", value("word"));
  CHECK(p.is_tuple());
  CHECK(p == value::pair(value("word"), value(1)));
  CHECK(p.to_text() == "(word,1)");
  value t = ev("(1, 2, 3)");
  CHECK(t.is_tuple());
  CHECK(t.as_array().size() == 3);
  CHECK(ev("(1 + 2) * 3") == value(9));
  CHECK(ev("(7)") == value(7));
}

TEST_CASE("expressions: element and fields and indexes", "[dsl]") {
  value r = log_record();
  CHECK(ev("_", value(7)) == value(7));
  CHECK(ev(".status", r) == value(503));
  CHECK(ev("_.status", r) == value(503));
  CHECK(ev(".user.name", r) == value("ann"));
  CHECK(ev(".missing", r).is_null());
  CHECK(ev(".missing.deeper", r).is_null());  // null propagates through fields
  CHECK(ev(".tags[0]", r) == value("a"));
  CHECK(ev(".tags[-1]", r) == value("c"));
  CHECK(ev(".tags[3]", r).is_null());
  CHECK(ev(".tags[-4]", r).is_null());
  CHECK(ev("_[\"status\"]", r) == value(503));
  CHECK(ev("_[1]", value::pair(value("k"), value(5))) == value(5));
  CHECK(ev("split(_, \",\")[1]", value("x,y,z")) == value("y"));
  CHECK(ev("{a: {b: 2}}.a.b") == value(2));
  CHECK(ev("[10, 20][_]", value(1)) == value(20));
}

TEST_CASE("expressions: arithmetic", "[dsl]") {
  CHECK(ev("1 + 2 * 3 - 4") == value(3));
  CHECK(ev("7 / 2") == value(3));
  CHECK(ev("7 / 2").is_int());
  CHECK(ev("-7 / 2") == value(-3));  // truncates toward zero, like Scala
  CHECK(ev("7 % 3") == value(1));
  CHECK(ev("-7 % 3") == value(-1));
  CHECK(ev("7.0 / 2") == value(3.5));
  CHECK(ev("1 + 0.5") == value(1.5));
  CHECK(ev("7.5 % 2") == value(1.5));
  CHECK(ev("-_", value(4)) == value(-4));
  CHECK(ev("- -2.5") == value(2.5));
  CHECK(ev("\"ab\" + \"cd\"") == value("abcd"));
  CHECK(ev("[1] + [2, 3]").to_json() == "[1,2,3]");
  CHECK(ev("_ * 2", value(21)) == value(42));
}

TEST_CASE("expressions: comparisons and logic", "[dsl]") {
  value r = log_record();
  CHECK(ev(".status >= 500", r) == value(true));
  CHECK(ev(".status < 500", r) == value(false));
  CHECK(ev(".path == \"/index.html\"", r) == value(true));
  CHECK(ev(".path != \"/index.html\"", r) == value(false));
  CHECK(ev("1 == 1.0") == value(true));
  CHECK(ev("\"a\" < \"b\"") == value(true));
  CHECK(ev("null < 0") == value(true));  // value's total order
  CHECK(ev("(1, 2) < (1, 3)") == value(true));
  CHECK(ev("true and false") == value(false));
  CHECK(ev("true or false") == value(true));
  CHECK(ev("not true") == value(false));
  CHECK(ev("not 1 > 2") == value(true));
  // short-circuit: the right operand is not evaluated
  CHECK(ev("false and 1 / _ > 0", value(0)) == value(false));
  CHECK(ev("true or lower(_) == \"\"", value(3)) == value(true));
}

TEST_CASE("expressions: string functions", "[dsl]") {
  CHECK(ev("split(_, \" \")", value("a b  c")) == strings({"a", "b", "", "c"}));
  CHECK(ev("split(_, \",\")", value("")) == strings({""}));
  CHECK(ev("split(_, \"ab\")", value("xabyab")) == strings({"x", "y", ""}));
  CHECK(ev("split(_)", value("  a\tb \n c  ")) == strings({"a", "b", "c"}));
  CHECK(ev("split(_)", value("   ")) == strings({}));
  CHECK(ev("lower(_)", value("HeLLo ÉA")) == value("hello Éa"));  // ASCII only
  CHECK(ev("upper(_)", value("abc-é")) == value("ABC-é"));
  CHECK(ev("trim(_)", value(" \t x y \n")) == value("x y"));
  CHECK(ev("len(_)", value("héllo")) == value(6));  // bytes
  CHECK(ev("len([1, 2, 3])") == value(3));
  CHECK(ev("len({a: 1})") == value(1));
  CHECK(ev("contains(_, \"ell\")", value("hello")) == value(true));
  CHECK(ev("contains([1, 2], 2)") == value(true));
  CHECK(ev("contains({a: 1}, \"b\")") == value(false));
  CHECK(ev("starts_with(_, \"/api\")", value("/api/x")) == value(true));
  CHECK(ev("ends_with(_, \".html\")", value("/a.htm")) == value(false));
  CHECK(ev("replace(_, \"a\", \"xy\")", value("banana")) == value("bxynxynxy"));
  CHECK(ev("substr(_, 1, 3)", value("abcdef")) == value("bcd"));
  CHECK(ev("substr(_, -2)", value("abcdef")) == value("ef"));
  CHECK(ev("join([\"a\", 1, (2, 3)], \"-\")") == value("a-1-(2,3)"));
}

TEST_CASE("expressions: chars() gives the UTF-8 characters of a string", "[dsl]") {
  CHECK(ev("chars(_)", value("giants")) == strings({"g", "i", "a", "n", "t", "s"}));
  CHECK(ev("chars(_)", value("")) == strings({}));
  // 2-, 3- and 4-byte characters stay whole (len counts bytes)
  CHECK(ev("chars(_)", value("h\u00e9\u20ac\U0001F600!")) == strings({"h", "\u00e9", "\u20ac", "\U0001F600", "!"}));
  CHECK(ev("len(chars(_))", value("h\u00e9llo")) == value(5));
  // a byte that starts no well-formed character is an item of its own: nothing is lost
  CHECK(ev("chars(_)", value(std::string("a\xff\xc3", 3))) ==
        value::array({value("a"), value(std::string("\xff", 1)), value(std::string("\xc3", 1))}));
  CHECK(ev("join(chars(_), \"\")", value(std::string("x\xe2\x82y", 4))) == value(std::string("x\xe2\x82y", 4)));
  CHECK(runtime_error_of("chars(_)", value(3)) == "pipeline.weir:1:1: chars() expects a string, got int");
}

TEST_CASE("expressions: conversions and numbers", "[dsl]") {
  CHECK(ev("str(_)", value(42)) == value("42"));
  CHECK(ev("str(2.0)") == value("2.0"));
  CHECK(ev("str((\"a\", 1))") == value("(a,1)"));
  CHECK(ev("str(\"x\")") == value("x"));
  CHECK(ev("int(\" 42 \")") == value(42));
  CHECK(ev("int(-3.9)") == value(-3));
  CHECK(ev("int(true)") == value(1));
  CHECK(ev("int(null)").is_null());
  CHECK(ev("float(\"2.5\")") == value(2.5));
  CHECK(ev("float(2)").is_real());
  CHECK(ev("abs(-3)") == value(3));
  CHECK(ev("abs(-2.5)") == value(2.5));
  CHECK(ev("min(3, 1, 2)") == value(1));
  CHECK(ev("max(3, 1, 2)") == value(3));
  CHECK(ev("max([4, 9, 2])") == value(9));
  CHECK(ev("min([])").is_null());
  CHECK(ev("sum([1, 2, 3])") == value(6));
  CHECK(ev("sum([1, 2.5])") == value(3.5));
  CHECK(ev("sum([])") == value(0));
  CHECK(ev("count([1, 2, 3])") == value(3));
  CHECK(ev("round(2.5)") == value(3));
  CHECK(ev("floor(-1.5)") == value(-2));
  CHECK(ev("ceil(1.2)") == value(2));
  CHECK(ev("sqrt(16)") == value(4.0));
  CHECK(ev("coalesce(null, .x, 7)", value::object({})) == value(7));
  CHECK(ev("keys({a: 1, b: 2})").to_json() == R"(["a","b"])");
  CHECK(ev("values({a: 1, b: 2})").to_json() == "[1,2]");
}

TEST_CASE("expressions: lambdas as element functions", "[dsl]") {
  auto run = [](std::string_view text, const value& it) {
    auto e = parse_expression(text, "t");
    return compile_element_function(*e, "map()")(it);
  };
  CHECK(run("x => x * 2", value(4)) == value(8));
  CHECK(run("(x) => (x, 1)", value("w")) == value::pair(value("w"), value(1)));
  CHECK(run("(k, v) => (k, v * 10)", value::pair(value("a"), value(2))) ==
        value::pair(value("a"), value(20)));
  CHECK(run("(k, v) => k + \":\" + str(v)", value::pair(value("a"), value(2))) == value("a:2"));
  CHECK(run("x => _ == x", value(1)) == value(true));  // `_` is still the element
  try {
    run("(k, v) => k", value("not a pair"));
    FAIL("expected record_error");
  } catch (const record_error& e) {
    CHECK(std::string(e.what()) == "t:1:1: the lambda of map() takes an array of 2 items apart, got string");
  }
}

TEST_CASE("expressions: reducer lambdas", "[dsl]") {
  auto e = parse_expression("(a, b) => a + b", "t");
  auto f = compile_reducer_lambda(*e);
  CHECK(f(value(2), value(3)) == value(5));
  CHECK(f(value("x"), value("y")) == value("xy"));
  auto g = compile_reducer_lambda(*parse_expression("(a, b) => max(a, b) * 1", "t"));
  CHECK(g(value(2), value(9)) == value(9));
  try {
    compile_reducer_lambda(*parse_expression("(a, b) => a + _", "t"));
    FAIL("expected dsl_error");
  } catch (const dsl_error& err) {
    CHECK(std::string(err.what()) == "t:1:15: '_' cannot be used in a reducer lambda; use its parameters");
  }
  try {
    compile_reducer_lambda(*parse_expression("x => x", "t"));
    FAIL("expected dsl_error");
  } catch (const dsl_error& err) {
    CHECK(err.message() == "expected a reducer: sum, sub, min, max, count or a lambda (a, b) => ...");
  }
}

TEST_CASE("expressions: compile-time errors", "[dsl]") {
  CHECK(compile_error("lowr(_)") == "t:1:1: unknown function 'lowr' (did you mean 'lower'?); every function is "
                                    "listed in docs/DSL.md, section 4, \"Functions\"");
  CHECK(compile_error("split(_, \" \", 2)") == "t:1:1: split() takes 1 or 2 arguments, got 3 (usage: split(s, sep))");
  CHECK(compile_error("lower()") == "t:1:1: lower() takes 1 argument, got 0 (usage: lower(s))");
  CHECK(compile_error("lower(_, sep = 1)") == "t:1:10: unknown named argument 'sep': lower() takes no named arguments");
  CHECK(compile_error("status >= 500") == "t:1:1: unknown name 'status' (did you mean '.status'?)");
  CHECK(compile_error("sum") == "t:1:1: 'sum' is a function; call it as sum(...)");
  CHECK(compile_error("map(_)") == "t:1:1: 'map' is an operator, not a function; use it as a pipeline stage: ... | map(...)");
  CHECK(compile_error("1 + (x => x)") == "t:1:6: a lambda is only allowed as the function argument of an operator "
                                         "or a reducer, or as the last argument of transform, filter or exists");
  // constant sub-expressions are evaluated once, at compile time
  CHECK(compile_error("1 / 0") == "t:1:3: division by zero");
  CHECK(compile_error("_ + lower(1)") == "t:1:5: lower() expects a string, got int");
  CHECK(compile_error("9223372036854775807 + 1") == "t:1:21: integer overflow in 9223372036854775807 + 1");
}

TEST_CASE("expressions: runtime type errors carry the source position", "[dsl]") {
  CHECK(runtime_error_of("lower(_)", value(3)) == "pipeline.weir:1:1: lower() expects a string, got int");
  CHECK(runtime_error_of("split(_, 1)", value("a")) ==
        "pipeline.weir:1:1: split() expects a string as argument 2, got int");
  CHECK(runtime_error_of("split(_, \"\")", value("a")) == "pipeline.weir:1:1: split() separator must not be empty");
  CHECK(runtime_error_of("_ + 1", value("a")) == "pipeline.weir:1:3: cannot add string and int");
  CHECK(runtime_error_of("_ * \"x\"", value(2)) == "pipeline.weir:1:3: cannot multiply int and string");
  CHECK(runtime_error_of("10 / _", value(0)) == "pipeline.weir:1:4: division by zero");
  CHECK(runtime_error_of("10.0 / _", value(0.0)) == "pipeline.weir:1:6: division by zero");
  CHECK(runtime_error_of("_ and true", value(1)) == "pipeline.weir:1:3: 'and' expects bool operands, got int on the left");
  CHECK(runtime_error_of("not _", value("x")) == "pipeline.weir:1:1: 'not' expects a bool, got string");
  CHECK(runtime_error_of("-_", value("x")) == "pipeline.weir:1:1: cannot negate a string");
  CHECK(runtime_error_of(".a", value(5)) == "pipeline.weir:1:1: cannot read field 'a' of an int");
  CHECK(runtime_error_of("_[\"a\"]", value::array({value(1)})) ==
        "pipeline.weir:1:2: an array index must be an int, got string");
  CHECK(runtime_error_of("_[0]", value("abc")) == "pipeline.weir:1:2: cannot index a string");
  CHECK(runtime_error_of("int(_)", value("12x")) == "pipeline.weir:1:1: int() cannot parse \"12x\" as an int");
  CHECK(runtime_error_of("_ * 2", value(std::int64_t{1} << 62)) ==
        "pipeline.weir:1:3: integer overflow in 4611686018427387904 * 2");
}

TEST_CASE("expressions: compiled functions are safe to share between threads", "[dsl]") {
  auto e = parse_expression("(lower(.w), len(.w) + 1)", "t");
  auto fn = compile_element_function(*e, "map()");
  value in = value::object({{"w", "HELLO-World-long-string"}});
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i)
        if (fn(in) != value::pair(value("hello-world-long-string"), value(24))) ++bad;
    });
  for (auto& t : threads) t.join();
  CHECK(bad.load() == 0);
}

namespace {

/// A state_handle as map_with_state's operator passes it, recording the calls.
class fake_state final : public state_handle {
public:
  bool exists() const override { return has_; }
  const value& get() const override { return v_; }
  void update(value v) override {
    if (timing_out_) throw record_error("cannot update the state of a key that is timing out");
    v_ = std::move(v);
    has_ = true;
  }
  void remove() override {
    v_ = value();
    has_ = false;
  }
  bool is_timing_out() const override { return timing_out_; }

  bool has_ = false;
  bool timing_out_ = false;
  value v_;
};

map_with_state_fn state_fn(std::string_view text) {
  return compile_state_function(*parse_expression(text, "t"), "map_with_state");
}

std::string state_fn_error(std::string_view text) {
  try {
    state_fn(text);
  } catch (const dsl_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("expressions: the state object of map_with_state", "[dsl]") {
  fake_state s;
  auto f = state_fn("(key, value, state) => (key, state.exists(), state.get(), state.is_timing_out())");
  CHECK(f(value("k"), value(1), s).to_json() == R"(["k",false,null,false])");

  // update returns the new state, so one expression updates and emits
  auto add = state_fn("(k, v, s) => (k, s.update(coalesce(s.get(), 0) + v))");
  CHECK(add(value("a"), value(2), s) == value::pair(value("a"), value(2)));
  CHECK(s.v_ == value(2));
  CHECK(add(value("a"), value(3), s) == value::pair(value("a"), value(5)));
  CHECK(s.exists());

  // fields and indexes of the state read it in place
  s.update(value::array({value(7), value(8)}));
  CHECK(state_fn("(k, v, s) => s.get()[1]")(value("a"), value(), s) == value(8));

  CHECK(state_fn("(k, v, s) => s.remove()")(value("a"), value(), s).is_null());
  CHECK_FALSE(s.exists());

  // if() evaluates only its chosen branch: no update while timing out
  auto t = state_fn("(k, v, s) => if(s.is_timing_out(), (k, \"timed out\"), (k, s.update(v)))");
  s.timing_out_ = true;
  CHECK(t(value("a"), value(), s) == value::pair(value("a"), value("timed out")));
  // an update while timing out is a record_error at the method's place
  try {
    state_fn("(k, v, s) => s.update(1)")(value("a"), value(), s);
    FAIL("expected record_error");
  } catch (const record_error& e) {
    CHECK(std::string(e.what()) == "t:1:16: cannot update the state of a key that is timing out");
  }
}

TEST_CASE("expressions: state object errors", "[dsl]") {
  CHECK(state_fn_error("(k, v, s) => s + 1") ==
        "t:1:14: 's' is the state object, not a value; use s.get(), s.exists(), s.update(x), "
        "s.remove() or s.is_timing_out()");
  CHECK(state_fn_error("(k, v, s) => coalesce(s, 0)") ==
        "t:1:23: 's' is the state object, not a value; use s.get(), s.exists(), s.update(x), "
        "s.remove() or s.is_timing_out()");
  CHECK(state_fn_error("(k, v, s) => s.gte()") == "t:1:16: unknown method 'gte' of the state (did you mean 'get'?)");
  CHECK(state_fn_error("(k, v, s) => s.frobnicate()") ==
        "t:1:16: unknown method 'frobnicate' of the state (the state has exists(), get(), update(x), "
        "remove() and is_timing_out())");
  CHECK(state_fn_error("(k, v, s) => s.update()") == "t:1:16: s.update() takes 1 argument, got 0");
  CHECK(state_fn_error("(k, v, s) => s.get(1)") == "t:1:16: s.get() takes 0 arguments, got 1");
  CHECK(state_fn_error("(k, v, s) => s.update(x = 1)") ==
        "t:1:23: unknown named argument 'x': s.update() takes no named arguments");
  CHECK(state_fn_error("(k, v, s) => _") ==
        "t:1:14: '_' cannot be used in the function of map_with_state; use its parameters");
  CHECK(state_fn_error("(k, v) => k") ==
        "t:1:1: map_with_state expects a function of 3 parameters (key, value, state) => ...");
  // the key and value parameters are ordinary values; methods exist only on the state
  CHECK(state_fn_error("(k, v, s) => k.get()") ==
        "t:1:16: unknown method 'get': only the state of map_with_state has methods (state.get(), "
        "state.update(x), ...)");
}

TEST_CASE("expressions: methods outside map_with_state are unknown", "[dsl]") {
  CHECK(compile_error("_.get()") ==
        "t:1:3: unknown method 'get': only the state of map_with_state has methods (state.get(), "
        "state.update(x), ...)");
  CHECK(compile_error(".name.lower()") == "t:1:7: unknown method 'lower'; call the function instead: lower(...)");
  CHECK(compile_error("\"a\".len()") == "t:1:5: unknown method 'len'; call the function instead: len(...)");
}

TEST_CASE("expressions: if", "[dsl]") {
  CHECK(ev("if(_ > 1, \"big\", \"small\")", value(2)) == value("big"));
  CHECK(ev("if(_ > 1, \"big\", \"small\")", value(1)) == value("small"));
  CHECK(ev("if(true, 1, 1 / _)", value(0)) == value(1));  // the other branch is not evaluated
  CHECK(ev("if(_ == null, 0, _[0])", value()) == value(0));
  CHECK(compile_error("if(1, 2)") == "t:1:1: if() takes 3 arguments, got 2 (usage: if(cond, then, else))");
  CHECK(compile_error("if(1, 2, 3)") == "t:1:1: if() expects a bool condition, got int");  // folded
  CHECK(runtime_error_of("if(_, 1, 2)", value(3)) == "pipeline.weir:1:1: if() expects a bool condition, got int");
  CHECK(compile_error("if") == "t:1:1: 'if' is a function; call it as if(...)");
}

TEST_CASE("expressions: functions of two parameters", "[dsl]") {
  auto f = compile_binary_function(*parse_expression("(values, state) => len(values) + coalesce(state, 0)", "t"),
                                   "update_state_by_key");
  CHECK(f(value::array({value(1), value(2)}), value()) == value(2));
  CHECK(f(value::array({}), value(5)) == value(5));
  try {
    compile_binary_function(*parse_expression("(a, b) => _", "t"), "combine_by_key");
    FAIL("expected dsl_error");
  } catch (const dsl_error& e) {
    CHECK(std::string(e.what()) == "t:1:11: '_' cannot be used in the function of combine_by_key; use its parameters");
  }
}
