// Acceptance: word count on ../shared/data/text_tinyshakespeare through the
// `weir` binary equals an independent count, at parallelism 1 and 2 (and over a
// file split into byte ranges at 1, 2 and 4); generators partitioned over instances.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>

#include "jsonl_counts.hpp"
#include "support/test_data.hpp"
#include "support/weir_process.hpp"

using namespace weir::test;

namespace {

/// The independent computation: ASCII lower-case, split on ' ', drop empty words.
std::map<std::string, std::int64_t> count_words(const std::filesystem::path& file) {
  std::map<std::string, std::int64_t> m;
  std::ifstream in(file, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    for (auto& c : line)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    std::size_t pos = 0;
    while (pos <= line.size()) {
      auto sp = line.find(' ', pos);
      if (sp == std::string::npos) sp = line.size();
      if (sp > pos) ++m[line.substr(pos, sp - pos)];
      pos = sp + 1;
    }
  }
  return m;
}

std::string word_count_pipeline(const std::filesystem::path& in, const std::filesystem::path& out) {
  return "file(\"" + in.string() + "\")\n"
         "  | flat_map(split(lower(_), \" \"))\n"
         "  | filter(_ != \"\")\n"
         "  | map((_, 1))\n"
         "  | reduce_by_key(sum)\n"
         "  | write_jsonl(\"" + out.string() + "\")";
}

}  // namespace

TEST_CASE("word count over tinyshakespeare equals an independent count at parallelism 1 and 2",
          "[pipelines][data]") {
  auto file = data_file("text_tinyshakespeare/input.txt");
  if (!file) {
    WARN("skipped: ../shared/data/text_tinyshakespeare/input.txt not found (set WEIR_DATA)");
    return;
  }
  auto expect = count_words(*file);
  REQUIRE(expect.size() > 10000);
  CHECK(expect["the"] > 5000);

  temp_dir tmp;
  std::map<std::string, std::int64_t> first;
  for (const char* par : {"1", "2"}) {
    INFO("parallelism " << par);
    auto out = tmp.path / (std::string("out-") + par + ".jsonl");
    auto r = run_weir({"run", "-e", word_count_pipeline(*file, out), "--parallelism", par}, tmp.path);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto got = sum_word_counts(out);
    CHECK(got.counts == expect);
    CHECK(got.lines >= expect.size());  // one line per (word, batch) pair
    for (auto t : got.times) CHECK(t % 1000 == 0);
    if (first.empty()) first = got.counts;
    else CHECK(got.counts == first);
  }
}

TEST_CASE("word count over a file split into byte ranges equals an independent count at parallelism 1, 2 and 4",
          "[pipelines][data]") {
  auto file = data_file("text_tinyshakespeare/input.txt");
  if (!file) {
    WARN("skipped: ../shared/data/text_tinyshakespeare/input.txt not found (set WEIR_DATA)");
    return;
  }
  // ~13 MB: at parallelism 2 and 4 the file is cut into 2 and 3 splits (4 MB at least each),
  // whose boundaries fall inside lines
  temp_dir tmp;
  const auto big = tmp.path / "big.txt";
  {
    const std::string text = slurp(*file);
    std::ofstream out(big, std::ios::binary);
    for (int i = 0; i < 12; ++i) out << text;
    out << "a last line without a newline";
  }
  auto expect = count_words(big);
  for (const char* par : {"1", "2", "4"}) {
    INFO("parallelism " << par);
    auto out = tmp.path / (std::string("out-") + par + ".jsonl");
    auto r = run_weir({"run", "-e", word_count_pipeline(big, out), "--parallelism", par}, tmp.path);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(sum_word_counts(out).counts == expect);
  }
}

TEST_CASE("generate(\"ysb\") and generate(\"nexmark\") emit the same events at parallelism 1 and 3",
          "[pipelines]") {
  temp_dir tmp;
  for (const char* kind : {"ysb", "nexmark"}) {
    std::vector<std::string> first;
    for (const char* par : {"1", "3"}) {
      INFO(kind << ", parallelism " << par);
      auto out = tmp.path / (std::string(kind) + "-" + par + ".jsonl");
      auto r = run_weir({"run", "-e",
                         std::string("generate(\"") + kind + "\", count = 5000, seed = 9) | write_jsonl(\"" +
                             out.string() + "\")",
                         "--parallelism", par},
                        tmp.path);
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      std::vector<std::string> events;
      std::ifstream in(out);
      for (std::string line; std::getline(in, line);) events.push_back(line.substr(line.find("\"record\"")));
      std::sort(events.begin(), events.end());
      CHECK(events.size() == 5000);
      if (first.empty()) first = events;
      else CHECK(events == first);
    }
  }
  auto bad = run_weir({"run", "-e", "generate(\"access_log\", count = 10, parallelism = 2) | print()"}, tmp.path);
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("generate(\"access_log\") runs as one instance"));
}
