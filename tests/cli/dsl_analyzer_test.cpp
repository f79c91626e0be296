// Name resolution and argument checking of DSL scripts (no pipeline is run).
#include <catch2/catch.hpp>

#include "weir/cli/parser.hpp"
#include "weir/cli/pipeline_spec.hpp"
#include "weir/cli/stage_registry.hpp"
#include "weir/cli/stages/aggregate.hpp"
#include "weir/cli/stages/joins.hpp"
#include "weir/cli/stages/per_batch.hpp"
#include "weir/cli/stages/postgres.hpp"
#include "weir/cli/stages/sinks.hpp"
#include "weir/cli/stages/sources.hpp"
#include "weir/cli/stages/state.hpp"
#include "weir/cli/stages/windows.hpp"

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
  CHECK(gen.is("generate"));
  CHECK(gen.as<generate_stage>().options.rate == 20000.0);
  CHECK(gen.as<generate_stage>().options.duration == 5000ms);
  CHECK(gen.as<generate_stage>().options.count == 0);
  REQUIRE(spec.pipelines.size() == 2);
  const auto& p = spec.pipelines[0].stages;
  REQUIRE(p.size() == 4);
  CHECK(p[0].def == &stream_ref_def());
  CHECK(p[0].name == "errors");
  CHECK(p[2].is("reduce_by_key_and_window"));
  CHECK(p[2].as<window_stage>().reduce.op == reducer::builtin::sum);
  CHECK(p[2].as<window_stage>().window == 3000ms);
  CHECK(p[2].as<window_stage>().slide == 1000ms);
  CHECK(p[3].is("print"));
  CHECK(p[3].as<print_stage>().n == 5);
  const auto& q = spec.pipelines[1].stages;
  REQUIRE(q.size() == 6);
  CHECK(q[0].is("file"));
  CHECK(q[0].as<file_stage>().path == "input.txt");
  CHECK(q[5].is("write_jsonl"));
  CHECK(q[5].as<path_sink_stage>().path == "out.jsonl");
  // the compiled functions work
  CHECK(q[1].as<element_stage>().fn(value("A b")) == value::array({value("a"), value("b")}));
  CHECK(q[3].as<element_stage>().fn(value("w")) == value::pair(value("w"), value(1)));
}

TEST_CASE("analyzer: arguments by position and by name", "[dsl]") {
  auto spec = compile_script(
      "generate(\"access_log\", count = 10, seed = 7, paths = 3, zipf = 1.5, rate = 100)"
      " | reduce_by_key_and_window((a, b) => a + b, window = 10s, slide = 2s)"
      " | top(3, by = x => x[1]) | print(n = 3)",
      "-e");
  const auto& s = spec.pipelines[0].stages;
  CHECK(s[0].as<generate_stage>().options.count == 10);
  CHECK(s[0].as<generate_stage>().options.seed == 7);
  CHECK(s[0].as<generate_stage>().options.paths == 3);
  CHECK(s[0].as<generate_stage>().options.zipf_s == 1.5);
  CHECK(s[0].as<generate_stage>().options.rate == 100.0);
  CHECK(s[1].as<window_stage>().reduce.op == reducer::builtin::none);
  CHECK(s[1].as<window_stage>().reduce.apply(value(2), value(3)) == value(5));
  CHECK(s[1].as<window_stage>().window == 10'000ms);
  CHECK(s[1].as<window_stage>().slide == 2'000ms);
  CHECK(s[2].as<top_stage>().n == 3);
  CHECK(s[2].as<top_stage>().has_by);
  CHECK(s[2].as<top_stage>().by(value::pair(value("k"), value(9))) == value(9));
  CHECK(s[3].as<print_stage>().n == 3);

  auto d = compile_script("stdin() | top(2) | print", "-e");
  CHECK(d.pipelines[0].stages[0].is("stdin"));
  CHECK_FALSE(d.pipelines[0].stages[1].as<top_stage>().has_by);
  CHECK(d.pipelines[0].stages[2].as<print_stage>().n == 10);

  for (auto [name, op] : {std::pair{"sum", reducer::builtin::sum}, {"sub", reducer::builtin::sub},
                          {"min", reducer::builtin::min}, {"max", reducer::builtin::max},
                          {"count", reducer::builtin::count}}) {
    auto r = compile_script(std::string("stdin() | reduce_by_key(") + name + ") | print()", "-e");
    CHECK(r.pipelines[0].stages[1].as<reduce_stage>().reduce.op == op);
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
        "-e:1:17: unknown function 'lowr' (did you mean 'lower'?); every function is listed in docs/DSL.md, "
        "section 4, \"Functions\"");
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
        "-e:1:1: pipeline has no sink (end it with | print(), | write_jsonl(path) or | collect(path))");
  CHECK(error_of("file(\"a\") | print() | map(_)") ==
        "-e:1:13: sink 'print' must be the last stage of a pipeline");
  CHECK(error_of("file(\"a\") | map(_) | file(\"b\") | print()") ==
        "-e:1:22: source 'file' cannot be used mid-pipeline; a pipeline starts with its source");
  CHECK(error_of("map(_) | print()") ==
        "-e:1:1: operator 'map' needs an input: start the pipeline with a source (file, stdin, "
        "generate, batches) or a stream name");
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
        "-e:1:1: wrong number of arguments: file() is missing argument 'path' (usage: file(path, parallelism = N))");
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
        "-e:1:27: reduce_by_key expects a function of 2 parameters (a, b), got 1");
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

namespace {

/// The stages of the script's last pipeline.
std::vector<stage_spec> stages_of(std::string_view text) {
  auto spec = compile_script(text, "-e");
  return spec.pipelines.back().stages;
}

/// The one operator stage of `batches("in.jsonl") | OP | collect("out.jsonl")`.
stage_spec op(const std::string& text) {
  auto s = stages_of("let other = batches(\"b.jsonl\")\nbatches(\"in.jsonl\") | " + text + " | collect(\"out.jsonl\")");
  REQUIRE(s.size() == 3);
  return s[1];
}

std::string op_error(const std::string& text) {
  return error_of("batches(\"in.jsonl\") | " + text + " | collect(\"out.jsonl\")");
}

}  // namespace

TEST_CASE("analyzer: batches source and collect sink", "[dsl]") {
  auto s = stages_of("batches(\"in.jsonl\", total = 8) | collect(\"out.jsonl\")");
  REQUIRE(s.size() == 2);
  CHECK(s[0].is("batches"));
  CHECK(s[0].as<file_stage>().path == "in.jsonl");
  CHECK(s[0].as<file_stage>().total == 8);
  CHECK(s[1].is("collect"));
  CHECK(s[1].as<path_sink_stage>().path == "out.jsonl");
  CHECK(stages_of("batches(\"in.jsonl\") | collect(\"o\")")[0].as<file_stage>().total == 0);
  CHECK(stages_of("batches(\"in.jsonl\", 3) | collect(\"o\")")[0].as<file_stage>().total == 3);
  CHECK(error_of("batches(\"in.jsonl\", total = -1) | collect(\"o\")") ==
        "-e:1:29: total must be between 0 and 9223372036854775807, got -1");
  CHECK(error_of("batches(\"\") | collect(\"o\")") == "-e:1:9: the path must not be empty");
  CHECK(error_of("batches(\"a\") | collect()") ==
        "-e:1:16: wrong number of arguments: collect() is missing argument 'path' (usage: collect(path))");
  CHECK(error_of("batches(\"a\") | collect(\"o\") | count()") ==
        "-e:1:16: sink 'collect' must be the last stage of a pipeline");
}

TEST_CASE("analyzer: per-batch operations", "[dsl]") {
  auto mv = op("map_values(_ * 2)");
  CHECK(mv.is("map_values"));
  CHECK(mv.as<element_stage>().fn(value(4)) == value(8));
  auto fmv = op("flat_map_values(v => [v, v])");
  CHECK(fmv.is("flat_map_values"));
  CHECK(fmv.as<element_stage>().fn(value(1)).to_json() == "[1,1]");
  CHECK(op("glom()").is("glom"));
  CHECK(op("glom").is("glom"));
  CHECK(op("distinct()").is("distinct"));
  CHECK(op("count_by_value()").is("count_by_value"));
  CHECK(op("group_by_key()").is("group_by_key"));

  auto sa = op("sample(0.25, 7)");
  CHECK(sa.is("sample"));
  CHECK(sa.as<sample_stage>().fraction == 0.25);
  CHECK(sa.as<sample_stage>().seed == 7);
  auto sb = op("sample(1, seed = 9)");
  CHECK(sb.as<sample_stage>().fraction == 1.0);
  CHECK(sb.as<sample_stage>().seed == 9);
  CHECK(op("sample(0.5)").as<sample_stage>().seed == 0);

  auto u = op("union(other, other)");
  CHECK(u.is("union"));
  REQUIRE(u.as<union_stage>().others.size() == 2);
  CHECK(u.as<union_stage>().others[0].name == "other");
  CHECK(u.as<union_stage>().others[1].loc.str() == "-e:2:36");

  auto r = op("reduce((a, b) => a * b)");
  CHECK(r.is("reduce"));
  CHECK(r.as<reduce_stage>().reduce.apply(value(3), value(4)) == value(12));
  CHECK(op("reduce(max)").as<reduce_stage>().reduce.op == reducer::builtin::max);

  auto c = op("combine_by_key(v => [v], (c, v) => c + [v], (x, y) => x + y)");
  CHECK(c.is("combine_by_key"));
  CHECK(c.as<combine_stage>().create(value(1)).to_json() == "[1]");
  CHECK(c.as<combine_stage>().merge_value(value::array({value(1)}), value(2)).to_json() == "[1,2]");
  CHECK(c.as<combine_stage>().merge_combiners(value::array({value(1)}), value::array({value(2)})).to_json() == "[1,2]");
  auto c2 = op("combine_by_key(_, sum, max)");
  CHECK(c2.as<combine_stage>().merge_value(value(1), value(2)) == value(3));
  CHECK(c2.as<combine_stage>().merge_combiners(value(1), value(2)) == value(2));

  auto so = op("sort_by(_[1])");
  CHECK(so.is("sort_by"));
  CHECK(so.as<sort_stage>().ascending);
  CHECK(so.as<sort_stage>().key(value::pair(value("a"), value(3))) == value(3));
  CHECK_FALSE(op("sort_by(_, false)").as<sort_stage>().ascending);
  CHECK_FALSE(op("sort_by(_, ascending = false)").as<sort_stage>().ascending);

  auto t = op("top(2, by = _[1])");
  CHECK(t.is("top"));
  CHECK(t.as<top_stage>().n == 2);
  CHECK(t.as<top_stage>().by(value::pair(value("a"), value(3))) == value(3));
}

TEST_CASE("analyzer: window operations", "[dsl]") {
  auto w = op("window(3s, 1s)");
  CHECK(w.is("window"));
  CHECK(w.as<window_stage>().window == 3000ms);
  CHECK(w.as<window_stage>().slide == 1000ms);
  CHECK(w.as<window_stage>().window_loc.str() == "-e:2:30");
  CHECK(w.as<window_stage>().slide_loc.str() == "-e:2:34");
  CHECK(op("window(3s)").as<window_stage>().slide == 0ms);  // the API resolves it to the input's slide
  CHECK(op("window(3s, slide = 2s)").as<window_stage>().slide == 2000ms);

  auto cw = op("count_by_window(4s, 2s)");
  CHECK(cw.is("count_by_window"));
  CHECK(cw.as<window_stage>().window == 4000ms);

  auto rw = op("reduce_by_window(sum, 3s, inverse = sub)");
  CHECK(rw.is("reduce_by_window"));
  CHECK(rw.as<window_stage>().reduce.op == reducer::builtin::sum);
  REQUIRE(rw.as<window_stage>().inverse.has_value());
  CHECK(rw.as<window_stage>().inverse->op == reducer::builtin::sub);
  CHECK(rw.as<window_stage>().slide == 0ms);
  CHECK_FALSE(op("reduce_by_window((a, b) => a + b, 3s, 1s)").as<window_stage>().inverse.has_value());

  auto rk = op("reduce_by_key_and_window(sum, 3s, 1s, inverse = (a, b) => a - b, filter = _[1] != 0)");
  CHECK(rk.is("reduce_by_key_and_window"));
  REQUIRE(rk.as<window_stage>().inverse.has_value());
  CHECK(rk.as<window_stage>().inverse->apply(value(5), value(2)) == value(3));
  REQUIRE(rk.as<window_stage>().has_filter);
  CHECK(rk.as<window_stage>().filter(value::pair(value("a"), value(0))) == value(false));
  CHECK(rk.as<window_stage>().filter(value::pair(value("a"), value(2))) == value(true));
  auto rk2 = op("reduce_by_key_and_window(sum, 3s, filter = (k, v) => v > 1)");
  CHECK_FALSE(rk2.as<window_stage>().inverse.has_value());
  CHECK(rk2.as<window_stage>().filter(value::pair(value("a"), value(2))) == value(true));
  CHECK_FALSE(op("reduce_by_key_and_window(sum, 3s)").as<window_stage>().has_filter);

  CHECK(op("group_by_key_and_window(2s)").is("group_by_key_and_window"));
  auto cv = op("count_by_value_and_window(2s, slide = 2s)");
  CHECK(cv.is("count_by_value_and_window"));
  CHECK(cv.as<window_stage>().slide == 2000ms);
}

TEST_CASE("analyzer: state operations", "[dsl]") {
  auto u = op("update_state_by_key((values, state) => len(values) + coalesce(state, 0))");
  CHECK(u.is("update_state_by_key"));
  CHECK(u.as<update_state_stage>().update.values_state(value::array({value(1), value(1)}), value(3)) == value(5));
  CHECK(u.as<update_state_stage>().update.values_state(value::array({}), value()) == value(0));
  CHECK_FALSE(u.as<update_state_stage>().update.timed);
  CHECK(u.as<update_state_stage>().initial_path.empty());
  // Spark's time-aware form, chosen by the lambda's 4 parameters; an initial state file
  auto ut = op("update_state_by_key((time, key, values, state) => (time, key, len(values), state), "
               "initial = \"init.jsonl\")");
  const auto& f = ut.as<update_state_stage>().update;
  REQUIRE(f.timed);
  CHECK_FALSE(f.values_state);
  CHECK(f.timed(3000, value("a"), value::array({value(1)}), value(7)) ==
        value::array({value(3000), value("a"), value(1), value(7)}, true));
  CHECK(ut.as<update_state_stage>().initial_path == "init.jsonl");
  CHECK(ut.as<update_state_stage>().initial_loc.str() == "-e:2:116");

  auto m = op("map_with_state((key, value, state) => (key, value), timeout = 5s, initial = \"state.jsonl\")");
  CHECK(m.is("map_with_state"));
  CHECK(m.as<map_with_state_stage>().timeout == 5000ms);
  CHECK(m.as<map_with_state_stage>().initial_path == "state.jsonl");
  CHECK(m.as<map_with_state_stage>().initial_loc.str() == "-e:2:99");
  auto m2 = op("map_with_state((k, v, s) => v)");
  CHECK(m2.as<map_with_state_stage>().timeout == 0ms);
  CHECK(m2.as<map_with_state_stage>().initial_path.empty());

  auto s = stages_of("batches(\"in\") | map_with_state((k, v, s) => v) | state_snapshots() | collect(\"o\")");
  CHECK(s[2].is("state_snapshots"));
  // on a let bound to map_with_state, also through an alias
  auto l = stages_of("let m = batches(\"in\") | map_with_state((k, v, s) => v)\nlet n = m\n"
                     "n | state_snapshots() | collect(\"o\")");
  CHECK(l[1].is("state_snapshots"));
}

TEST_CASE("analyzer: joins and cogroup", "[dsl]") {
  for (std::string name : {"join", "left_outer_join", "right_outer_join", "full_outer_join", "cogroup"}) {
    auto j = op(name + "(other)");
    CHECK(j.is(name));
    const auto& other = j.as<join_stage>().other;
    CHECK(other.stream.name == "other");
    CHECK(other.stream.loc.str() == "-e:2:" + std::to_string(24 + name.size()));
    CHECK_FALSE(other.is_table);
  }
  auto t = op("left_outer_join(table(\"users.jsonl\"))");
  CHECK(t.is("left_outer_join"));
  const auto& table = t.as<join_stage>().other;
  CHECK(table.is_table);
  CHECK(table.table == "users.jsonl");
  CHECK(table.table_loc.str() == "-e:2:39");
  CHECK(table.stream.name.empty());
}

TEST_CASE("analyzer: lambdas with the wrong number of parameters", "[dsl]") {
  CHECK(error_of("stdin() | map((_, 1)) | update_state_by_key(v => v) | print()") ==
        "-e:1:45: update_state_by_key expects a function of 2 parameters (values, state) or of 4 parameters "
        "(time, key, values, state), got 1");
  CHECK(op_error("update_state_by_key((a, b, c) => a)") ==
        "-e:1:43: update_state_by_key expects a function of 2 parameters (values, state) or of 4 parameters "
        "(time, key, values, state), got 3");
  CHECK(op_error("update_state_by_key(len(_))") ==
        "-e:1:43: update_state_by_key expects a function of 2 parameters (values, state) or of 4 parameters "
        "(time, key, values, state), got an expression");
  CHECK(op_error("update_state_by_key((time, key, values, state) => _)") ==
        "-e:1:73: '_' cannot be used in the function of update_state_by_key; use its parameters");
  CHECK(op_error("map_with_state((k, v) => v)") ==
        "-e:1:38: map_with_state expects a function of 3 parameters (key, value, state), got 2");
  CHECK(op_error("combine_by_key(_, (c) => c, sum)") ==
        "-e:1:41: combine_by_key merge_value expects a function of 2 parameters (combiner, value), got 1");
  CHECK(op_error("combine_by_key(_, sum, (a, b, c) => a)") ==
        "-e:1:46: combine_by_key merge_combiners expects a function of 2 parameters (combiner1, combiner2), got 3");
  CHECK(op_error("combine_by_key(_, count, sum)") ==
        "-e:1:41: combine_by_key merge_value cannot be 'count'; write the function, e.g. (c, v) => c + 1");
  CHECK(op_error("reduce(x => x)") == "-e:1:30: reduce expects a function of 2 parameters (a, b), got 1");
  CHECK(op_error("reduce_by_window(sum, 2s, inverse = (a) => a)") ==
        "-e:1:59: reduce_by_window inverse expects a function of 2 parameters (a, b), got 1");
  CHECK(op_error("reduce_by_key_and_window((a, b, c) => a, 2s)") ==
        "-e:1:48: reduce_by_key_and_window expects a function of 2 parameters (a, b), got 3");
  CHECK(op_error("map_values(() => 1)") == "-e:1:34: the lambda of map_values() needs a parameter: x => ...");
}

TEST_CASE("analyzer: errors of the DStream operations", "[dsl]") {
  // stream names
  CHECK(error_of("let clicks = batches(\"a\")\nbatches(\"b\") | join(clikcs) | collect(\"o\")") ==
        "-e:2:21: unknown stream name 'clikcs' (did you mean 'clicks'?)");
  CHECK(error_of("let clicks = batches(\"a\")\nbatches(\"b\") | union(clicks, views) | collect(\"o\")") ==
        "-e:2:30: unknown stream name 'views'");
  CHECK(op_error("join(\"clicks\")") ==
        "-e:1:28: join() expects the name of a stream bound with 'let' or table(\"file.jsonl\"), found string \"clicks\"");
  CHECK(op_error("cogroup(1)") == "-e:1:31: cogroup() expects the name of a stream bound with 'let', found '1'");
  CHECK(op_error("union()") ==
        "-e:1:23: wrong number of arguments: union() needs at least one stream (usage: union(stream, ...))");
  CHECK(error_of("let a = batches(\"a\")\nbatches(\"b\") | union(a, n = a) | collect(\"o\")") ==
        "-e:2:25: unknown named argument 'n' for union() (usage: union(stream, ...))");
  // a stream must be defined before it is used (no self-reference)
  CHECK(error_of("let a = batches(\"a\") | join(a)\na | collect(\"o\")") == "-e:1:29: unknown stream name 'a'");
  // tables
  CHECK(op_error("cogroup(table(\"users.jsonl\"))") ==
        "-e:1:31: cogroup cannot take a table(...): it combines two streams; join a static table with join, "
        "left_outer_join, right_outer_join or full_outer_join");
  CHECK(error_of("let a = batches(\"a\")\nbatches(\"b\") | union(a, table(\"t.jsonl\")) | collect(\"o\")") ==
        "-e:2:25: union cannot take a table(...): it combines streams; bind the other streams with 'let' and name them");
  CHECK(op_error("join(table())") == "-e:1:28: table() takes 1 argument, got 0 (usage: table(path))");
  CHECK(op_error("join(table(1))") == "-e:1:34: the table path must be a string, got int");
  CHECK(op_error("map(table(\"t\"))") ==
        "-e:1:27: table(...) is only allowed as the argument of join, left_outer_join, right_outer_join or "
        "full_outer_join");
  // state_snapshots
  CHECK(op_error("state_snapshots()") ==
        "-e:1:23: state_snapshots() must come right after map_with_state, or start from a stream bound to one: "
        "... | map_with_state(f) | state_snapshots()");
  CHECK(op_error("map_with_state((k, v, s) => v) | map(_) | state_snapshots()") ==
        "-e:1:65: state_snapshots() must come right after map_with_state, or start from a stream bound to one: "
        "... | map_with_state(f) | state_snapshots()");
  CHECK(error_of("let a = batches(\"a\") | map(_)\na | state_snapshots() | collect(\"o\")") ==
        "-e:2:5: state_snapshots() must come right after map_with_state, or start from a stream bound to one: "
        "... | map_with_state(f) | state_snapshots()");
  // arguments
  CHECK(op_error("sample(1.5)") == "-e:1:30: fraction must be between 0 and 1, got 1.5");
  CHECK(op_error("sample(-0.5)") == "-e:1:30: fraction must not be negative");
  CHECK(op_error("sample(0.5, seed = -1)") == "-e:1:42: seed must be between 0 and 9223372036854775807, got -1");
  CHECK(op_error("sort_by(_, 1)") == "-e:1:34: ascending must be true or false, got int");
  CHECK(op_error("window(0s)") == "-e:1:30: window must be positive");
  CHECK(op_error("window(3s, slide = 0ms)") == "-e:1:42: slide must be positive");
  CHECK(op_error("count_by_window(3000)") ==
        "-e:1:39: window must be a duration like 500ms, 10s, 5m or 1h, found '3000'");
  CHECK(op_error("map_with_state((k, v, s) => v, timeout = 0s)") ==
        "-e:1:64: timeout must be positive");
  CHECK(op_error("map_with_state((k, v, s) => v, initial = \"\")") ==
        "-e:1:64: the initial state path must not be empty");
  CHECK(op_error("reduce_by_key_and_window(sum, 2s, filter = (a, b) => 1, inverse = sbu)") ==
        "-e:1:89: unknown reducer 'sbu' (did you mean 'sub'?)");
  CHECK(op_error("reduce_by_key_and_window(sum, 2s, inverse = sub, filtre = _)") ==
        "-e:1:72: unknown named argument 'filtre' for reduce_by_key_and_window() (did you mean 'filter'?)");
  CHECK(op_error("glom(1)") == "-e:1:28: wrong number of arguments: glom() takes 0 arguments, got 1 (usage: glom())");
  CHECK(op_error("reduce_by_kye_and_window(sum, 2s)") ==
        "-e:1:23: unknown operator 'reduce_by_kye_and_window' (did you mean 'reduce_by_key_and_window'?)");
  CHECK(error_of("let join = batches(\"a\")") ==
        "-e:1:5: 'join' is the name of an operator; choose another stream name");
}

TEST_CASE("stage registry: an argument a stage's bind does not read is a bug, not a silent drop", "[dsl]") {
  auto script = parse_script("stdin() | t(1) | print()", "-e");
  const ast::stage& call = script.statements.at(0).stages.at(1);
  auto no_build = [](stage_builder&, const stage_spec&, const std::optional<dstream>& in) { return *in; };
  stage_def ignores{"t", stage_role::op, {{"a", param_type::integer}}, "t(a)", bind_no_args, no_build};
  stage_args a(call, ignores, {});
  (void)ignores.bind(a);
  CHECK_THROWS_WITH(a.check_all_read(), "stage t: its bind ignores the argument 'a'");

  stage_def reads{"t", stage_role::op, {{"a", param_type::integer}}, "t(a)",
                  [](const stage_args& args) -> std::shared_ptr<const bound_stage> {
                    std::int64_t v = 0;
                    args.get("a", v);
                    CHECK(v == 1);
                    return std::make_shared<no_args>();
                  },
                  no_build};
  stage_args b(call, reads, {});
  (void)reads.bind(b);
  CHECK_NOTHROW(b.check_all_read());
}

TEST_CASE("analyzer: write_postgres binds its arguments and reports bad ones at the argument", "[dsl]") {
  auto spec = compile_script(
      "stdin() | map({k: _, n: 1}) | write_postgres(\"postgresql://u@h/db\", table = \"app.counts\", key = [\"k\"], "
      "create = false, on_error = skip, id = \"job1\", timeout = 5s)",
      "-e");
  const auto& sink = spec.pipelines.at(0).stages.back();
  REQUIRE(sink.is("write_postgres"));
  const auto& o = sink.as<postgres_stage>().options;
  CHECK(o.url == "postgresql://u@h/db");
  CHECK(o.table == "app.counts");
  CHECK(o.key == std::vector<std::string>{"k"});
  CHECK_FALSE(o.create);
  CHECK(o.sink_id == "job1");
  CHECK(o.timeout == 5000ms);
  CHECK(sink.on_error.action == weir::on_error::skip);
  // defaults, and one key column given as a string
  auto d = compile_script("stdin() | write_postgres(\"host=/run/postgresql\", key = \"line\")", "-e");
  const auto& od = d.pipelines.at(0).stages.back().as<postgres_stage>().options;
  CHECK(od.table == "t");
  CHECK(od.key == std::vector<std::string>{"line"});
  CHECK(od.create);
  CHECK(od.timeout == 30000ms);

  CHECK(error_of("stdin() | write_postgres()") ==
        "-e:1:11: wrong number of arguments: write_postgres() is missing argument 'url' (usage: "
        "write_postgres(\"postgresql://user@host/db\", table = \"t\", key = [\"k\"], create = true, on_error = fail, "
        "id = \"t\", timeout = 30s))");
  CHECK(error_of("stdin() | write_postgres(\"\")") == "-e:1:26: the connection URL must not be empty");
  CHECK(error_of("stdin() | write_postgres(\"u\", table = \"a.b.c\")") ==
        "-e:1:39: expected a table name like \"t\" or \"schema.t\", got \"a.b.c\"");
  CHECK(error_of("stdin() | write_postgres(\"u\", key = [1])") ==
        "-e:1:37: key must be a column name or an array of column names like [\"k\"], got 1");
  CHECK(error_of("stdin() | write_postgres(\"u\", key = [\"a\", \"a\"])") ==
        "-e:1:37: key column \"a\" is named twice");
  CHECK(error_of("stdin() | write_postgres(\"u\", key = [])") ==
        "-e:1:37: key must name at least one column (or be left out to append)");
  CHECK(error_of("stdin() | write_postgres(\"u\", tabel = \"x\")") ==
        "-e:1:31: unknown named argument 'tabel' for write_postgres() (did you mean 'table'?)");
}

TEST_CASE("analyzer: let constants in expressions and arguments", "[dsl]") {
  auto s = stages_of("let DIR = \"logs/\"\nlet PATH = concat(DIR, \"in.jsonl\")\nlet LIMIT = 2 * 250\n"
                     "let N = LIMIT\nlet W = 2m\nlet SLIDE = W\n"
                     "batches(PATH, total = 3) | filter(.bytes > N) | window(W, SLIDE) | collect(concat(DIR, \"o\"))");
  REQUIRE(s.size() == 4);
  CHECK(s[0].as<file_stage>().path == "logs/in.jsonl");
  CHECK(s[1].as<element_stage>().fn(value::object({{"bytes", 501}})) == value(true));
  CHECK(s[1].as<element_stage>().fn(value::object({{"bytes", 500}})) == value(false));
  CHECK(s[2].as<window_stage>().window == 120000ms);
  CHECK(s[2].as<window_stage>().slide == 120000ms);
  CHECK(s[3].as<path_sink_stage>().path == "logs/o");
  // a lambda parameter of the same name hides the constant
  auto m = stages_of("let x = 10\nbatches(\"a\") | map(transform(_, x => x + 1)) | collect(\"o\")");
  CHECK(m[1].as<element_stage>().fn(value::array({value(1)})) == value::array({value(2)}));
}

TEST_CASE("analyzer: let constant errors", "[dsl]") {
  CHECK(error_of("let A = 1\nlet A = 2\nbatches(\"a\") | collect(\"o\")") ==
        "-e:2:5: constant 'A' is already defined (line 1)");
  CHECK(error_of("let lower = 1\nbatches(\"a\") | collect(\"o\")") ==
        "-e:1:5: 'lower' is the name of a function; choose another constant name");
  CHECK(error_of("let first = 1\nbatches(\"a\") | collect(\"o\")") ==
        "-e:1:5: 'first' is a name the DSL uses (an aggregation, an on_error action or if); choose another "
        "constant name");
  CHECK(error_of("let A = 1 / 0\nbatches(\"a\") | collect(\"o\")") == "-e:1:11: division by zero");
  CHECK(error_of("let A = .x + 1\nbatches(\"a\") | collect(\"o\")").find("-e:1:9:") == 0);
  CHECK(error_of("let A = 1\nA | collect(\"o\")") ==
        "-e:2:1: 'A' is a constant, not a stream; a pipeline starts with a source or a stream bound with 'let'");
  CHECK(error_of("let A = 1\nbatches(\"a\") | A | collect(\"o\")") == "-e:2:16: 'A' is a constant, not an operator");
}

TEST_CASE("analyzer: aggregate with aggs", "[dsl]") {
  auto a = op("aggregate(tumbling(1m), time = .t, key = .k, aggs = {n: count, hi: max(.p), ids: count_distinct(.id)})");
  const auto& st = a.as<aggregate_stage>();
  REQUIRE(st.aggs.size() == 3);
  CHECK(st.aggs[0].name == "n");
  CHECK(st.aggs[0].type == named_aggregation::kind::count);
  CHECK_FALSE(st.aggs[0].value);
  CHECK(st.aggs[1].type == named_aggregation::kind::max);
  CHECK(st.aggs[1].value(value::object({{"p", 7}})) == value(7));
  CHECK(st.aggs[2].name == "ids");
  CHECK(op_error("aggregate(tumbling(1m), count, aggs = {n: count})") ==
        "-e:1:61: aggregate takes a function or aggs = {...}, not both");
  CHECK(op_error("aggregate(tumbling(1m))") ==
        "-e:1:23: wrong number of arguments: aggregate() needs what to compute: a function (count, sum, ...) or "
        "aggs = {name: agg, ...}");
  CHECK(op_error("aggregate(tumbling(1m), aggs = {n: avgg(.p)})") ==
        "-e:1:58: aggs.n: expected an aggregation: count, sum(e), min(e), max(e), avg(e), stddev(e), "
        "count_distinct(e), first(e), last(e) or collect_list(e), got 'avgg' (did you mean 'avg'?)");
  CHECK(op_error("aggregate(tumbling(1m), aggs = {n: max})") ==
        "-e:1:58: aggs.n: max needs the value to aggregate: max(.field)");
  CHECK(op_error("aggregate(tumbling(1m), aggs = {key: count})") ==
        "-e:1:60: aggs: 'key' is a field of every result (start, end, key); name the aggregation otherwise");
  CHECK(op_error("aggregate(tumbling(1m), aggs = {n: sum(.a, .b)})") ==
        "-e:1:58: aggs.n: sum() takes 1 argument, the value (e.g. sum(.price)), got 2");
  CHECK(op_error("aggregate(tumbling(1m), aggs = [1])") ==
        "-e:1:54: aggs must be an object of named aggregations, e.g. aggs = {n: count, high: max(.price)}");
  CHECK(op_error("aggregate(tumbling(1m), value = .x, aggs = {n: sum(.p)})") ==
        "-e:1:55: aggregate(value = ...) does not apply to aggs; give each aggregation its value: aggs = "
        "{total: sum(.bytes)}");
}
