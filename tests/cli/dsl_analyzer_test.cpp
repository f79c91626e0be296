// Name resolution and argument checking of DSL scripts (no pipeline is run).
#include <catch2/catch.hpp>

#include "weir/cli/pipeline_spec.hpp"

using namespace weir;
using namespace weir::dsl;
using namespace std::chrono_literals;

namespace {

std::string error_of(std::string_view text, const std::string& file = "-e") {
  try {
    compile_script(text, file);
  } catch (const dsl_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("analyzer: the example script of the brief compiles", "[dsl]") {
  auto spec = compile_script(R"(# comment
set batch_interval = 1s        # also: set parallelism = 2
set parallelism = 2
let errors = generate("access_log", rate = 20000, duration = 5s) | filter(.status >= 500)
errors
  | map((.path, 1))
  | reduce_by_key_and_window(sum, 3s, 1s)
  | print(5)
file("input.txt") | flat_map(split(lower(_), " ")) | filter(_ != "") | map((_, 1)) | reduce_by_key(sum) | write_jsonl("out.jsonl")
)", "pipeline.weir");
  CHECK(spec.settings.batch_interval == 1000ms);
  CHECK(spec.settings.parallelism == 2);
  CHECK_FALSE(spec.settings.batch_size.has_value());
  REQUIRE(spec.streams.size() == 1);
  CHECK(spec.streams[0].name == "errors");
  REQUIRE(spec.streams[0].stages.size() == 2);
  const auto& gen = spec.streams[0].stages[0];
  CHECK(gen.kind == stage_kind::generate);
  CHECK(gen.generator.rate == 20000.0);
  CHECK(gen.generator.duration == 5000ms);
  CHECK(gen.generator.count == 0);
  REQUIRE(spec.pipelines.size() == 2);
  const auto& p = spec.pipelines[0].stages;
  REQUIRE(p.size() == 4);
  CHECK(p[0].kind == stage_kind::stream_ref);
  CHECK(p[0].stream == "errors");
  CHECK(p[2].kind == stage_kind::reduce_by_key_and_window);
  CHECK(p[2].reduce.op == reducer::builtin::sum);
  CHECK(p[2].window == 3000ms);
  CHECK(p[2].slide == 1000ms);
  CHECK(p[3].kind == stage_kind::print);
  CHECK(p[3].n == 5);
  const auto& q = spec.pipelines[1].stages;
  REQUIRE(q.size() == 6);
  CHECK(q[0].kind == stage_kind::file);
  CHECK(q[0].path == "input.txt");
  CHECK(q[5].kind == stage_kind::write_jsonl);
  CHECK(q[5].path == "out.jsonl");
  // the compiled functions work
  CHECK(q[1].fn(value("A b")) == value::array({value("a"), value("b")}));
  CHECK(q[3].fn(value("w")) == value::pair(value("w"), value(1)));
}

TEST_CASE("analyzer: arguments by position and by name", "[dsl]") {
  auto spec = compile_script(
      "generate(\"access_log\", count = 10, seed = 7, paths = 3, zipf = 1.5, rate = 100)"
      " | reduce_by_key_and_window((a, b) => a + b, window = 10s, slide = 2s)"
      " | top(3, by = x => x[1]) | print(n = 3)",
      "-e");
  const auto& s = spec.pipelines[0].stages;
  CHECK(s[0].generator.count == 10);
  CHECK(s[0].generator.seed == 7);
  CHECK(s[0].generator.paths == 3);
  CHECK(s[0].generator.zipf_s == 1.5);
  CHECK(s[0].generator.rate == 100.0);
  CHECK(s[1].reduce.op == reducer::builtin::none);
  CHECK(s[1].reduce.apply(value(2), value(3)) == value(5));
  CHECK(s[1].window == 10'000ms);
  CHECK(s[1].slide == 2'000ms);
  CHECK(s[2].n == 3);
  CHECK(s[2].has_fn);
  CHECK(s[2].fn(value::pair(value("k"), value(9))) == value(9));
  CHECK(s[3].n == 3);

  auto d = compile_script("stdin() | top(2) | print", "-e");
  CHECK(d.pipelines[0].stages[0].kind == stage_kind::stdin_lines);
  CHECK_FALSE(d.pipelines[0].stages[1].has_fn);
  CHECK(d.pipelines[0].stages[2].n == 10);

  for (auto [name, op] : {std::pair{"sum", reducer::builtin::sum}, {"sub", reducer::builtin::sub},
                          {"min", reducer::builtin::min}, {"max", reducer::builtin::max},
                          {"count", reducer::builtin::count}}) {
    auto r = compile_script(std::string("stdin() | reduce_by_key(") + name + ") | print()", "-e");
    CHECK(r.pipelines[0].stages[1].reduce.op == op);
  }
}

TEST_CASE("analyzer: name errors suggest near names", "[dsl]") {
  CHECK(error_of("\n\nfile(\"a\") | map(_) | reduce_by_kye(sum) | print()", "pipeline.weir") ==
        "pipeline.weir:3:22: unknown operator 'reduce_by_kye' (did you mean 'reduce_by_key'?)");
  CHECK(error_of("file(\"a\") | fliter(_) | print()") ==
        "-e:1:13: unknown operator 'fliter' (did you mean 'filter'?)");
  CHECK(error_of("file(\"a\") | frobnicate(_) | print()") == "-e:1:13: unknown operator 'frobnicate'");
  CHECK(error_of("fil(\"a\") | print()") == "-e:1:1: unknown source 'fil' (did you mean 'file'?)");
  CHECK(error_of("let errors = stdin()\nerors | print()") ==
        "-e:2:1: unknown stream name 'erors' (did you mean 'errors'?)");
  CHECK(error_of("file(\"a\") | map(lowr(_)) | print()") ==
        "-e:1:17: unknown function 'lowr' (did you mean 'lower'?)");
  CHECK(error_of("file(\"a\") | reduce_by_key(summ) | print()") ==
        "-e:1:27: unknown reducer 'summ' (did you mean 'sum'?)");
  CHECK(error_of("file(\"a\") | reduce_by_key_and_window(sum, 3s, slid = 1s) | print()") ==
        "-e:1:47: unknown named argument 'slid' for reduce_by_key_and_window() (did you mean 'slide'?)");
  CHECK(error_of("file(\"a\") | print(m = 1)") ==
        "-e:1:19: unknown named argument 'm' for print() (did you mean 'n'?)");
  CHECK(error_of("file(\"a\") | print(lines = 1)") ==
        "-e:1:19: unknown named argument 'lines' for print() (usage: print(n = 10))");
  CHECK(error_of("set batch_intervall = 1s\nfile(\"a\") | print()") ==
        "-e:1:5: unknown setting 'batch_intervall' (did you mean 'batch_interval'?)");
  CHECK(error_of("generate(\"acces_log\") | print()") ==
        "-e:1:10: unknown generator \"acces_log\" (did you mean 'access_log'?)");
}

TEST_CASE("analyzer: structure errors", "[dsl]") {
  CHECK(error_of("file(\"a\") | map(_)") ==
        "-e:1:1: pipeline has no sink (end it with | print() or | write_jsonl(path))");
  CHECK(error_of("file(\"a\") | print() | map(_)") ==
        "-e:1:13: sink 'print' must be the last stage of a pipeline");
  CHECK(error_of("file(\"a\") | map(_) | file(\"b\") | print()") ==
        "-e:1:22: source 'file' cannot be used mid-pipeline; a pipeline starts with its source");
  CHECK(error_of("map(_) | print()") ==
        "-e:1:1: operator 'map' needs an input: start the pipeline with a source (file, stdin, "
        "generate) or a stream name");
  CHECK(error_of("let a = stdin()\nfile(\"x\") | a | print()") == "-e:2:13: stream 'a' can only start a pipeline");
  CHECK(error_of("let a = stdin()\na() | print()") == "-e:2:1: 'a' is a stream; write it without parentheses");
  CHECK(error_of("let a = stdin() | print()") ==
        "-e:1:19: a 'let' binds a stream and cannot end in the sink 'print'; use the stream in a "
        "separate pipeline: a | print(...)");
  CHECK(error_of("let a = stdin()\nlet a = stdin()") == "-e:2:5: stream 'a' is already defined (line 1)");
  CHECK(error_of("let map = stdin()") == "-e:1:5: 'map' is the name of an operator; choose another stream name");
  CHECK(error_of("stdin() | print(); stdin() | print()") ==
        "-e:1:20: stdin() can be read only once; bind it with 'let' and use the stream name twice");
  CHECK(error_of("let a = stdin()") ==
        "-e:1:1: nothing to run: the script has no pipeline ending in a sink (e.g. file(\"in.txt\") | print())");
  CHECK(error_of("# only a comment\n") ==
        "-e:1:1: nothing to run: the script has no pipeline ending in a sink (e.g. file(\"in.txt\") | print())");
  CHECK(error_of("set batch_interval = 1s; set batch_interval = 2s; stdin() | print()") ==
        "-e:1:30: 'batch_interval' is already set (line 1)");
}

TEST_CASE("analyzer: argument count and type errors", "[dsl]") {
  CHECK(error_of("file(\"a\") | reduce_by_key(sum, 1) | print()") ==
        "-e:1:32: wrong number of arguments: reduce_by_key() takes 1 argument, got 2 (usage: reduce_by_key(func))");
  CHECK(error_of("file(\"a\") | reduce_by_key() | print()") ==
        "-e:1:13: wrong number of arguments: reduce_by_key() is missing argument 'func' (usage: reduce_by_key(func))");
  CHECK(error_of("file() | print()") ==
        "-e:1:1: wrong number of arguments: file() is missing argument 'path' (usage: file(path))");
  CHECK(error_of("file(\"a\") | count(1) | print()") ==
        "-e:1:19: wrong number of arguments: count() takes 0 arguments, got 1 (usage: count())");
  CHECK(error_of("file(\"a\") | reduce_by_key_and_window(sum, 3000) | print()") ==
        "-e:1:43: window must be a duration like 500ms, 10s, 5m or 1h, found '3000'");
  CHECK(error_of("file(\"a\") | reduce_by_key_and_window(sum, 3s, slide = 2 * 1s) | print()") ==
        "-e:1:57: slide must be a duration like 500ms, 10s, 5m or 1h, found an expression");
  CHECK(error_of("file(\"a\") | reduce_by_key_and_window(sum, 0s) | print()") == "-e:1:43: window must be positive");
  CHECK(error_of("set batch_interval = 1000\nstdin() | print()") ==
        "-e:1:22: batch_interval must be a duration like 500ms, 10s, 5m or 1h, found '1000'");
  CHECK(error_of("set parallelism = \"2\"\nstdin() | print()") == "-e:1:19: parallelism must be an integer, got string");
  CHECK(error_of("file(\"a\") | print(-1)") == "-e:1:19: n must be between 0 and 1073741824, got -1");
  CHECK(error_of("file(1) | print()") == "-e:1:6: path must be a string, got int");
  CHECK(error_of("file(_) | print()") == "-e:1:6: '_' cannot be used here: this argument must be a constant");
  CHECK(error_of("file(\"a\") | reduce_by_key(sum()) | print()") ==
        "-e:1:27: write the reducer without parentheses: 'sum'");
  CHECK(error_of("file(\"a\") | reduce_by_key(x => x) | print()") ==
        "-e:1:27: a reducer lambda takes 2 parameters, (a, b) => ..., not 1");
  CHECK(error_of("file(\"a\") | reduce_by_key(1) | print()") ==
        "-e:1:27: expected a reducer: sum, sub, min, max, count or a lambda (a, b) => ...");
  CHECK(error_of("file(\"a\") | map(() => 1) | print()") == "-e:1:17: the lambda of map() needs a parameter: x => ...");
  CHECK(error_of("file(\"a\") | top(0) | print()") == "-e:1:17: n must be between 1 and 1073741824, got 0");
}

TEST_CASE("format_duration", "[dsl]") {
  CHECK(format_duration(500ms) == "500ms");
  CHECK(format_duration(1500ms) == "1500ms");
  CHECK(format_duration(2000ms) == "2s");
  CHECK(format_duration(120'000ms) == "2m");
  CHECK(format_duration(7'200'000ms) == "2h");
  CHECK(format_duration(0ms) == "0ms");
}

TEST_CASE("analyzer: a function used as an operator", "[dsl]") {
  CHECK(error_of("stdin() | lower(_) | print()") ==
        "-e:1:11: 'lower' is a function, not an operator; call it inside an operator: | map(lower(_))");
  // a near operator name wins over the function hint
  CHECK(error_of("stdin() | max(_) | print()") == "-e:1:11: unknown operator 'max' (did you mean 'map'?)");
}
