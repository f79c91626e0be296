// Bad input through the `weir` binary: invalid UTF-8, 1 MB lines, missing files.
#include <catch2/catch.hpp>

#include "jsonl_counts.hpp"
#include "support/test_data.hpp"
#include "support/weir_process.hpp"

using namespace weir::test;

TEST_CASE("invalid UTF-8 and 1 MB lines neither crash nor hang and lose nothing", "[pipelines][io]") {
  temp_dir tmp;
  auto in = tmp.path / "bad.txt";
  std::string text;
  text += "caf\xC3\xA9 ok\n";              // valid UTF-8
  text += "bad\xFF\xFE word ok\n";         // invalid bytes
  text += std::string("\xC3", 1) + "\n";   // truncated sequence alone on a line
  std::string big;
  for (int i = 0; i < 100000; ++i) big += "longword ";  // 900 KB of words
  big += std::string(200000, 'x');                      // and one 200 KB word
  text += big + "\n";
  text += "ok\r\n";
  write_file(in, text);
  auto out = tmp.path / "out.jsonl";
  std::string pipeline = "file(\"" + in.string() + "\") | flat_map(split(_, \" \")) | filter(_ != \"\")"
                         " | map((_, 1)) | reduce_by_key(sum) | write_jsonl(\"" + out.string() + "\")";
  auto r = run_weir({"run", "-e", pipeline}, tmp.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto got = sum_word_counts(out);
  CHECK(got.counts["ok"] == 3);
  CHECK(got.counts["word"] == 1);
  CHECK(got.counts["longword"] == 100000);
  CHECK(got.counts[std::string(200000, 'x')] == 1);
  CHECK(got.counts["caf\xC3\xA9"] == 1);
  CHECK(got.counts["bad\xEF\xBF\xBD\xEF\xBF\xBD"] == 1);  // each invalid byte -> U+FFFD in JSON
  CHECK(got.counts["\xEF\xBF\xBD"] == 1);
  std::int64_t total = 0;
  for (auto& [w, n] : got.counts) total += n;
  CHECK(total == 2 + 3 + 1 + 100001 + 1);
}

TEST_CASE("a missing input file is a one-line error with a non-zero exit", "[pipelines][io]") {
  temp_dir tmp;
  auto r = run_weir({"run", "-e", "file(\"/no/such/dir/in.txt\") | print()"}, tmp.path);
  CHECK(r.exit_code == 1);
  CHECK(r.err == "weir: error: file(\"/no/such/dir/in.txt\"): cannot open: No such file or directory\n");
  CHECK(r.out.empty());
}

TEST_CASE("a DSL name error names file:line:column and exits 2", "[pipelines][dsl]") {
  temp_dir tmp;
  auto script = tmp.path / "pipeline.weir";
  write_file(script, "# word count\nfile(\"x.txt\")\n  | map((_, 1))\n  | reduce_by_kye(sum)\n  | print()\n");
  auto r = run_weir({"run", script.string()}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(script.string() + ":4:5: unknown operator 'reduce_by_kye' (did you mean 'reduce_by_key'?)") !=
        std::string::npos);
  auto syntax = run_weir({"run", "-e", "file(\"x.txt\") | map((_, 1) | print()"}, tmp.path);
  CHECK(syntax.exit_code == 2);
  CHECK(syntax.err.rfind("-e:1:", 0) == 0);
  CHECK(syntax.err.find("expected") != std::string::npos);
}
