// DSL scripts built through the public API into a streaming_context, and run in-process.
#include <algorithm>
#include <fstream>

#include <catch2/catch.hpp>

#include "support/test_data.hpp"
#include "weir/cli/pipeline_builder.hpp"

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
