// DSL scripts built through the public API into a streaming_context, and run in-process.
#include <algorithm>
#include <fstream>

#include <catch2/catch.hpp>

#include "support/test_data.hpp"
#include "weir/cli/pipeline_builder.hpp"
#include "weir/io/json.hpp"

using namespace weir;
using namespace weir::dsl;
using namespace std::chrono_literals;

namespace {

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::vector<std::string> lines;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

/// Compiles, builds and runs `script` (with "{dir}" replaced by the temp dir).
void run_script(std::string script, const std::filesystem::path& dir, const settings& over = {}) {
  for (std::size_t p; (p = script.find("{dir}")) != std::string::npos;)
    script.replace(p, 5, dir.string());
  auto spec = compile_script(script, "t.weir");
  streaming_context ctx(make_context_options(spec.settings, over));
  build_pipelines(spec, ctx);
  ctx.run();
}

std::string run_error(const std::string& script, const std::filesystem::path& dir) {
  try {
    run_script(script, dir);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("builder: context options from set statements and overrides", "[dsl]") {
  auto spec = compile_script("set batch_interval = 2s\nset parallelism = 3\nset batch_size = 64\n"
                             "stdin() | print()",
                             "t.weir");
  auto o = make_context_options(spec.settings);
  CHECK(o.batch_interval == 2000ms);
  CHECK(o.parallelism == 3);
  CHECK(o.batch_size == 64);
  CHECK(o.edge_capacity == context_options{}.edge_capacity);
  settings over;
  over.batch_interval = 500ms;
  over.batch_size = 8;
  auto p = make_context_options(spec.settings, over);  // the command line wins
  CHECK(p.batch_interval == 500ms);
  CHECK(p.parallelism == 3);
  CHECK(p.batch_size == 8);
}

TEST_CASE("builder: the example script builds without running", "[dsl]") {
  auto spec = compile_script(R"(set batch_interval = 1s
let errors = generate("access_log", rate = 20000, duration = 5s) | filter(.status >= 500)
errors
  | map((.path, 1))
  | reduce_by_key_and_window(sum, 3s, 1s)
  | print(5)
errors | count() | print()
file("input.txt") | flat_map(split(lower(_), " ")) | filter(_ != "") | map((_, 1)) | reduce_by_key(sum) | write_jsonl("out.jsonl")
)", "pipeline.weir");
  streaming_context ctx(make_context_options(spec.settings));
  CHECK_NOTHROW(build_pipelines(spec, ctx));
}

TEST_CASE("builder: window and slide must be multiples of the batch interval", "[dsl]") {
  auto spec = compile_script("set batch_interval = 2s\nstdin() | map((_, 1)) | "
                             "reduce_by_key_and_window(sum, 3s) | print()",
                             "t.weir");
  streaming_context ctx(make_context_options(spec.settings));
  try {
    build_pipelines(spec, ctx);
    FAIL("expected dsl_error");
  } catch (const dsl_error& e) {
    CHECK(std::string(e.what()) == "t.weir:2:55: window 3s is not a multiple of the batch interval 2s");
  }
  auto spec2 = compile_script("stdin() | map((_, 1)) | reduce_by_key_and_window(sum, 4s, slide = 1500ms) | print()",
                              "t.weir");
  streaming_context ctx2(make_context_options(spec2.settings));
  try {
    build_pipelines(spec2, ctx2);
    FAIL("expected dsl_error");
  } catch (const dsl_error& e) {
    CHECK(std::string(e.what()) == "t.weir:1:67: slide 1500ms is not a multiple of the batch interval 1s");
  }
}

TEST_CASE("builder: word count end to end", "[dsl]") {
  weir::test::temp_dir tmp;
  write_file(tmp.path / "in.txt", "the cat\nThe dog  the end\n");
  run_script(R"(set parallelism = 2
file("{dir}/in.txt")
  | flat_map(split(lower(_), " "))
  | filter(_ != "")
  | map((_, 1))
  | reduce_by_key(sum)
  | write_jsonl("{dir}/out.jsonl"))",
             tmp.path);
  CHECK(sorted(read_lines(tmp.path / "out.jsonl")) ==
        std::vector<std::string>{R"({"time":1000,"record":["cat",1]})",
                                 R"({"time":1000,"record":["dog",1]})",
                                 R"({"time":1000,"record":["end",1]})",
                                 R"({"time":1000,"record":["the",3]})"});
}

TEST_CASE("builder: a let stream used twice fans out", "[dsl]") {
  weir::test::temp_dir tmp;
  write_file(tmp.path / "in.txt", "3\n1\n2\n");
  run_script(R"(let nums = file("{dir}/in.txt") | map(int(_))
nums | count() | write_jsonl("{dir}/count.jsonl")
nums | top(2, by = x => -x) | write_jsonl("{dir}/top.jsonl")
nums | map((_ % 2 == 1, _)) | reduce_by_key((a, b) => a * 10 + b) | map((k, v) => {odd: k, v: v}) | write_jsonl("{dir}/odd.jsonl"))",
             tmp.path);
  CHECK(read_lines(tmp.path / "count.jsonl") == std::vector<std::string>{R"({"time":1000,"record":3})"});
  CHECK(read_lines(tmp.path / "top.jsonl") ==
        std::vector<std::string>{R"({"time":1000,"record":1})", R"({"time":1000,"record":2})"});
  // order of values within a key follows the input: 3 then 1 → 31
  CHECK(sorted(read_lines(tmp.path / "odd.jsonl")) ==
        std::vector<std::string>{R"({"time":1000,"record":{"odd":false,"v":2}})",
                                 R"({"time":1000,"record":{"odd":true,"v":31}})"});
}

TEST_CASE("builder: generated access log with a window", "[dsl]") {
  weir::test::temp_dir tmp;
  run_script(R"(set batch_interval = 100ms
generate("access_log", count = 1000, seed = 1)
  | map((.status >= 400, 1))
  | reduce_by_key_and_window(sum, 200ms)
  | map(_[1])
  | write_jsonl("{dir}/w.jsonl"))",
             tmp.path);
  auto lines = read_lines(tmp.path / "w.jsonl");
  REQUIRE_FALSE(lines.empty());
}

TEST_CASE("builder: runtime errors name the expression's position", "[dsl]") {
  weir::test::temp_dir tmp;
  write_file(tmp.path / "in.txt", "1\n2\n");
  CHECK_THAT(run_error(R"(file("{dir}/in.txt") | map(lower(int(_))) | print())", tmp.path),
             Catch::Contains("t.weir:1:"));
  CHECK_THAT(run_error(R"(file("{dir}/in.txt") | map(lower(int(_))) | print())", tmp.path),
             Catch::Contains("lower() expects a string, got int"));
  CHECK_THAT(run_error(R"(file("{dir}/in.txt") | filter(len(_)) | print())", tmp.path),
             Catch::Contains("filter() expects a bool, got int"));
  CHECK_THAT(run_error(R"(file("{dir}/in.txt") | flat_map(_) | print())", tmp.path),
             Catch::Contains("flat_map() expects an array, got string"));
  CHECK_THAT(run_error(R"(file("{dir}/nope.txt") | print())", tmp.path),
             Catch::Contains("cannot open: No such file or directory"));
}

namespace {

/// Compiles and builds (does not run) `script`; returns the error or "ok".
std::string build_error(const std::string& script, const settings& over = {}) {
  try {
    auto spec = compile_script(script, "-e");
    streaming_context ctx(make_context_options(spec.settings, over));
    build_pipelines(spec, ctx);
  } catch (const dsl_error& e) {
    return e.what();
  }
  return "ok";
}

std::string with_dir(std::string script, const std::filesystem::path& dir) {
  for (std::size_t p; (p = script.find("{dir}")) != std::string::npos;) script.replace(p, 5, dir.string());
  return script;
}

}  // namespace

TEST_CASE("builder: every DStream operation builds through the API", "[dsl]") {
  weir::test::temp_dir tmp;
  write_file(tmp.path / "users.jsonl", "[\"a\", \"Ann\"]\n[\"b\", \"Bob\"]\n");
  write_file(tmp.path / "state.jsonl", "[\"a\", 10]\n");
  const std::string src = "let s = batches(\"in.jsonl\", total = 8)\nlet t = batches(\"other.jsonl\")\n";
  const std::vector<std::string> ops = {
      "map_values(_ + 1)",
      "flat_map_values(split(_, \" \"))",
      "glom()",
      "distinct()",
      "sample(0.5, 7)",
      "sample(0.5, seed = 7)",
      "union(t)",
      "union(t, t)",
      "count_by_value()",
      "reduce(sum)",
      "reduce((a, b) => a + b)",
      "group_by_key()",
      "combine_by_key(v => [v], (c, v) => c + [v], (x, y) => x + y)",
      "sort_by(_[1], ascending = false)",
      "top(2, by = _[1])",
      "count()",
      "reduce_by_key(sum)",
      "window(3s, 1s)",
      "window(3s)",
      "window(4s, slide = 2s)",
      "count_by_window(3s, 1s)",
      "reduce_by_window(sum, 3s, 1s)",
      "reduce_by_window(sum, 3s, 1s, inverse = sub)",
      "reduce_by_key_and_window(sum, 3s, 1s)",
      "reduce_by_key_and_window(sum, 3s, 1s, inverse = sub)",
      "reduce_by_key_and_window(max, 3s, inverse = (a, b) => a - b, filter = _[1] != 0)",
      "group_by_key_and_window(2s)",
      "count_by_value_and_window(2s, 2s)",
      "update_state_by_key((values, state) => len(values) + coalesce(state, 0))",
      "map_with_state((key, value, state) => (key, state.update(value)))",
      "map_with_state((key, value, state) => value, timeout = 5s, initial = \"{dir}/state.jsonl\")",
      "map_with_state((k, v, st) => v) | state_snapshots()",
      "join(t)",
      "left_outer_join(t)",
      "right_outer_join(t)",
      "full_outer_join(t)",
      "cogroup(t)",
      "join(table(\"{dir}/users.jsonl\"))",
      "left_outer_join(table(\"{dir}/users.jsonl\"))",
      "right_outer_join(table(\"{dir}/users.jsonl\"))",
      "full_outer_join(table(\"{dir}/users.jsonl\"))",
  };
  for (auto& o : ops) {
    std::string script = with_dir(src + "s | " + o + " | collect(\"out.jsonl\")", tmp.path);
    INFO(script);
    CHECK(build_error(script) == "ok");
  }
  // state_snapshots on a let bound to map_with_state; the mapped stream used too
  CHECK(build_error("let m = batches(\"in.jsonl\") | map_with_state((k, v, s) => v)\n"
                    "m | collect(\"a.jsonl\")\nm | state_snapshots() | collect(\"b.jsonl\")") == "ok");
}

TEST_CASE("builder: windows must be multiples of the batch interval and of the input's slide", "[dsl]") {
  CHECK(build_error("batches(\"in\") | window(1500ms, 1s) | collect(\"o\")") ==
        "-e:1:24: window 1500ms is not a multiple of the batch interval 1s");
  CHECK(build_error("batches(\"in\") | count_by_window(2s, 500ms) | collect(\"o\")") ==
        "-e:1:37: slide 500ms is not a multiple of the batch interval 1s");
  CHECK(build_error("batches(\"in\") | window(2s, 2s) | reduce_by_window(sum, 3s) | collect(\"o\")") ==
        "-e:1:56: window 3s is not a multiple of the input stream's slide 2s");
  CHECK(build_error("batches(\"in\") | window(2s, 2s) | group_by_key_and_window(4s, 3s) | collect(\"o\")") ==
        "-e:1:62: slide 3s is not a multiple of the input stream's slide 2s");
  CHECK(build_error("batches(\"in\") | window(2s, 2s) | count_by_value_and_window(4s) | collect(\"o\")") == "ok");
  settings over;
  over.batch_interval = 2000ms;
  CHECK(build_error("batches(\"in\") | reduce_by_key_and_window(sum, 4s, 1s, inverse = sub) | collect(\"o\")", over) ==
        "-e:1:51: slide 1s is not a multiple of the batch interval 2s");
}

TEST_CASE("builder: streams combined with different slides are an error at the stage", "[dsl]") {
  CHECK(build_error("let a = batches(\"a\") | window(2s, 2s)\nlet b = batches(\"b\")\na | join(b) | collect(\"o\")") ==
        "-e:3:5: join: the streams have different slides (2000ms and 1000ms); Spark combines only streams "
        "with equal slides");
  CHECK(build_error("let a = batches(\"a\") | window(2s, 2s)\nbatches(\"b\") | union(a) | collect(\"o\")") ==
        "-e:2:16: union: the streams have different slides (1000ms and 2000ms); Spark combines only streams "
        "with equal slides");
  CHECK(build_error("let a = batches(\"a\") | window(2s, 2s)\nbatches(\"b\") | cogroup(a) | collect(\"o\")") ==
        "-e:2:16: cogroup: the streams have different slides (1000ms and 2000ms); Spark combines only streams "
        "with equal slides");
  // equal slides are fine
  CHECK(build_error("let a = batches(\"a\") | window(2s, 2s)\nbatches(\"b\") | window(4s, 2s) | "
                    "left_outer_join(a) | collect(\"o\")") == "ok");
}

TEST_CASE("builder: table and initial state files are read at build time", "[dsl]") {
  weir::test::temp_dir tmp;
  write_file(tmp.path / "bad.jsonl", "[\"a\", 1]\n5\n");
  write_file(tmp.path / "broken.jsonl", "[\"a\", 1\n");
  auto err = build_error(with_dir("batches(\"in\") | join(table(\"{dir}/nope.jsonl\")) | collect(\"o\")", tmp.path));
  CHECK_THAT(err, Catch::StartsWith("-e:1:22: table: ") && Catch::Contains("nope.jsonl"));
  CHECK(build_error(with_dir("batches(\"in\") | join(table(\"{dir}/bad.jsonl\")) | collect(\"o\")", tmp.path)) ==
        "-e:1:22: table: " + (tmp.path / "bad.jsonl").string() + ": record 2 is not a [key, value] pair: 5");
  err = build_error(with_dir("batches(\"in\") | join(table(\"{dir}/broken.jsonl\")) | collect(\"o\")", tmp.path));
  CHECK_THAT(err, Catch::StartsWith("-e:1:22: table: ") && Catch::Contains("broken.jsonl:1"));
  CHECK(build_error(with_dir("batches(\"in\") | map_with_state((k, v, s) => v, initial = \"{dir}/bad.jsonl\") "
                             "| collect(\"o\")",
                             tmp.path)) ==
        "-e:1:58: map_with_state initial state: " + (tmp.path / "bad.jsonl").string() +
            ": record 2 is not a [key, value] pair: 5");
  // a table in a `let` that is never used is not read (unused streams are not built)
  CHECK(build_error(with_dir("let unused = batches(\"in\") | join(table(\"{dir}/nope.jsonl\"))\n"
                             "batches(\"in\") | collect(\"o\")",
                             tmp.path)) == "ok");
}

TEST_CASE("builder: DStream operations end to end", "[dsl]") {
  weir::test::temp_dir tmp;
  write_file(tmp.path / "in.jsonl", "[[\"a\", 1], [\"b\", 1]]\n[[\"a\", 1]]\n[]\n[[\"b\", 2]]\n[]\n");
  write_file(tmp.path / "users.jsonl", "[\"a\", \"Ann\"]\n");
  write_file(tmp.path / "state.jsonl", "[\"a\", 10]\n");
  settings over;
  over.parallelism = 2;
  run_script(R"(let s = batches("{dir}/in.jsonl", total = 8)
s | reduce_by_key_and_window(sum, 3s, 1s, inverse = sub) | collect("{dir}/rkw.jsonl")
s | left_outer_join(table("{dir}/users.jsonl")) | collect("{dir}/join.jsonl")
let m = s | map_with_state((k, v, st) => (k, st.update(coalesce(st.get(), 0) + v)), initial = "{dir}/state.jsonl")
m | collect("{dir}/mapped.jsonl")
m | state_snapshots() | collect("{dir}/snap.jsonl")
s | update_state_by_key((values, state) => len(values) + coalesce(state, 0)) | collect("{dir}/usk.jsonl")
s | map(_[1]) | count_by_window(2s) | collect("{dir}/cbw.jsonl"))",
             tmp.path, over);
  // one line per batch; records within a batch compared as multisets
  auto batches_of = [&](const char* file) {
    std::vector<std::string> out;
    for (auto& line : read_lines(tmp.path / file)) {
      auto v = weir::io::parse_json(line);
      std::vector<std::string> recs;
      for (auto& r : v.find("records")->as_array()) recs.push_back(r.to_json());
      std::sort(recs.begin(), recs.end());
      std::string joined = std::to_string(v.find("time")->as_int()) + ":";
      for (auto& r : recs) joined += " " + r;
      out.push_back(joined);
    }
    return out;
  };
  CHECK(batches_of("rkw.jsonl") == std::vector<std::string>{
                                       R"(1000: ["a",1] ["b",1])", R"(2000: ["a",2] ["b",1])",
                                       R"(3000: ["a",2] ["b",1])", R"(4000: ["a",1] ["b",2])",
                                       R"(5000: ["a",0] ["b",2])", R"(6000: ["a",0] ["b",2])",
                                       R"(7000: ["a",0] ["b",0])", R"(8000: ["a",0] ["b",0])"});
  CHECK(batches_of("join.jsonl") == std::vector<std::string>{
                                        R"(1000: ["a",[1,"Ann"]] ["b",[1,null]])", R"(2000: ["a",[1,"Ann"]])",
                                        "3000:", R"(4000: ["b",[2,null]])", "5000:", "6000:", "7000:", "8000:"});
  CHECK(batches_of("mapped.jsonl") == std::vector<std::string>{R"(1000: ["a",11] ["b",1])", R"(2000: ["a",12])",
                                                               "3000:", R"(4000: ["b",3])", "5000:", "6000:",
                                                               "7000:", "8000:"});
  auto snap = batches_of("snap.jsonl");
  REQUIRE(snap.size() == 8);
  CHECK(snap[0] == R"(1000: ["a",11] ["b",1])");
  CHECK(snap[3] == R"(4000: ["a",12] ["b",3])");
  CHECK(snap[7] == R"(8000: ["a",12] ["b",3])");
  CHECK(batches_of("usk.jsonl") == std::vector<std::string>{
                                       R"(1000: ["a",1] ["b",1])", R"(2000: ["a",2] ["b",1])",
                                       R"(3000: ["a",2] ["b",1])", R"(4000: ["a",2] ["b",2])",
                                       R"(5000: ["a",2] ["b",2])", R"(6000: ["a",2] ["b",2])",
                                       R"(7000: ["a",2] ["b",2])", R"(8000: ["a",2] ["b",2])"});
  // count_by_window(2s): [] until the first element, then the count (also 0)
  CHECK(batches_of("cbw.jsonl") == std::vector<std::string>{"1000: 2", "2000: 3", "3000: 1", "4000: 1",
                                                            "5000: 1", "6000: 0", "7000: 0", "8000: 0"});
}
