// `weir explain` and streaming_context::explain: the physical plan as text
// and as Graphviz DOT, built through the API without running anything.
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/cwd_guard.hpp"
#include "support/test_data.hpp"
#include "support/weir_process.hpp"
#include "weir/api/dstream.hpp"
#include "weir/io/bench_generators.hpp"
#include "weir/io/json.hpp"
#include "weir/io/regex.hpp"

namespace fs = std::filesystem;
using namespace weir::test;

namespace {

const std::string word_count =
    R"(file("x") | flat_map(split(_, " ")) | map((_, 1)) | reduce_by_key(sum) | print())";

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

/// Checks that `dot` is a well-formed weir DOT graph with `stages` nodes and
/// `edges` edges: the header, one statement per line, balanced quotes.
void check_dot_structure(const std::string& dot, int stages, int edges) {
  REQUIRE(!dot.empty());
  CHECK(dot.back() == '\n');
  auto lines = lines_of(dot);
  REQUIRE(lines.size() >= 2);
  CHECK(lines.front() == "digraph weir {");
  CHECK(lines.back() == "}");
  static const weir::io::regex node_re(R"(  s(\d+) \[label="[^\n]*"(, shape=box3d)?\];)", "node");
  static const weir::io::regex edge_re(R"(  s(\d+) -> s(\d+) \[label="[^\n]*"(, style=(bold|dashed))?\];)", "edge");
  static const weir::io::regex attr_re(R"(  (graph|node|edge) \[.*\];)", "attr");
  int nodes = 0, arrows = 0;
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    const auto& l = lines[i];
    INFO("line " << i + 1 << ": " << l);
    // Quotes balance once \" escapes are skipped.
    int quotes = 0;
    for (std::size_t c = 0; c < l.size(); ++c) {
      if (l[c] == '\\') {
        ++c;
        continue;
      }
      quotes += l[c] == '"';
    }
    CHECK(quotes % 2 == 0);
    if (node_re.full_match(l)) {
      ++nodes;
    } else if (edge_re.full_match(l)) {
      ++arrows;
    } else {
      CHECK(attr_re.full_match(l));
    }
  }
  CHECK(nodes == stages);
  CHECK(arrows == edges);
}

bool have_dot() { return std::system("command -v dot >/dev/null 2>&1") == 0; }

}  // namespace

TEST_CASE("cli: explain prints the physical plan of a word count", "[cli]") {
  weir::test::temp_dir tmp;
  // file("x") does not exist: explain opens no source.
  auto r = run_weir({"explain", "-e", word_count, "--parallelism", "2"}, tmp.path);
  CHECK(r.err.empty());
  CHECK(r.exit_code == 0);
  CHECK(r.out ==
        "physical plan: 3 stages (5 actors), 2 edges (6 channels)\n"
        "batch interval 1s, batch size 1024 records, edge capacity 8 batches per channel\n"
        "stage 0 x2: file -> flat_map -> map -> reduce_by_key.combine\n"
        "  source file x2: splits planned at start (now file(\"x\"): cannot open: No such file or directory)\n"
        "stage 1 x2: reduce_by_key\n"
        "stage 2 x1: print\n"
        "edge 0 -> 1 hash(key): 4 channels x 8 batches\n"
        "edge 1 -> 2 gather: 2 channels x 8 batches\n");

  // At parallelism 1 the sink chains into the keyed stage.
  auto one = run_weir({"explain", "-e", word_count, "--parallelism", "1"}, tmp.path);
  CHECK(one.exit_code == 0);
  CHECK(one.out ==
        "physical plan: 2 stages (2 actors), 1 edge (1 channel)\n"
        "batch interval 1s, batch size 1024 records, edge capacity 8 batches per channel\n"
        "stage 0 x1: file -> flat_map -> map -> reduce_by_key.combine\n"
        "  source file x1: whole, in order (now file(\"x\"): cannot open: No such file or directory)\n"
        "stage 1 x1: reduce_by_key -> print\n"
        "edge 0 -> 1 hash(key): 1 channel x 8 batches\n");
}

TEST_CASE("cli: explain shows a file source's instances and splits", "[cli]") {
  weir::test::temp_dir tmp;
  write_file(tmp.path / "big.txt", std::string(20'000'000, 'a') + "\n");
  write_file(tmp.path / "small.csv", "a,b\n1,2\n");
  const std::string big = (tmp.path / "big.txt").string(), csv_file = (tmp.path / "small.csv").string();
  auto r = run_weir({"explain", "-e", "file(\"" + big + "\") | count() | print()", "--parallelism", "4"}, tmp.path);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("stage 0 x4: file -> count.combine\n"
                                    "  source file x4: 4 splits of ~5 MB over 1 file\n"));
  auto own = run_weir({"explain", "-e", "file(\"" + big + "\", parallelism = 2) | count() | print()", "--parallelism", "4"},
                      tmp.path);
  CHECK_THAT(own.out, Catch::Contains("  source file x2: 2 splits of ~10 MB over 1 file\n"));
  // parse_csv reads its file at one instance
  auto csv = run_weir({"explain", "-e", "file(\"" + csv_file + "\") | parse_csv(header = true) | print()", "--parallelism", "4"},
                      tmp.path);
  CHECK_THAT(csv.out, Catch::Contains("stage 0 x1: file -> parse_csv -> print\n"
                                      "  source file x1: whole over 1 file (8 bytes), in order\n"));
  auto bad = run_weir({"explain", "-e", "file(\"" + csv_file + "\", parallelism = 2) | parse_csv() | print()"}, tmp.path);
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("parse_csv reads file(...) as one instance"));
}

TEST_CASE("cli: explain of a script with a fan-out and a join honours the options", "[cli]") {
  weir::test::temp_dir tmp;
  write_file(tmp.path / "p.weir",
             "set batch_interval = 2s\n"
             "let clicks = stdin()\n"
             "let users = batches(\"users.jsonl\")\n"
             "clicks | map((_, 1)) | join(users) | count() | print()\n"
             "clicks | distinct() | print()\n");
  auto r = run_weir({"explain", (tmp.path / "p.weir").string(), "--parallelism", "3", "--batch-size", "64",
                     "--batch-interval", "500ms"},
                    tmp.path);
  CHECK(r.err.empty());
  CHECK(r.exit_code == 0);
  CHECK(r.out ==
        "physical plan: 7 stages (11 actors), 6 edges (16 channels)\n"
        "batch interval 500ms, batch size 64 records, edge capacity 8 batches per channel\n"
        "stage 0 x1: stdin\n"
        "stage 1 x1: map\n"
        "stage 2 x1: batches\n"
        "stage 3 x3: join -> count.combine\n"
        "stage 4 x1: count -> print\n"
        "stage 5 x3: distinct\n"
        "stage 6 x1: print\n"
        "edge 0 -> 1 forward: 1 channel x 8 batches\n"
        "edge 1 -> 3 hash(key): 3 channels x 8 batches\n"
        "edge 2 -> 3 hash(key) (input 1): 3 channels x 8 batches\n"
        "edge 3 -> 4 gather: 3 channels x 8 batches\n"
        "edge 0 -> 5 hash(record): 3 channels x 8 batches\n"
        "edge 5 -> 6 gather: 3 channels x 8 batches\n");
}

TEST_CASE("cli: explain --dot prints a Graphviz graph that dot renders", "[cli]") {
  weir::test::temp_dir tmp;
  auto r = run_weir({"explain", "--dot", "-e", word_count, "--parallelism", "2"}, tmp.path);
  CHECK(r.err.empty());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "digraph weir {\n"
        "  graph [rankdir=LR, labelloc=t, fontname=\"Helvetica\", label=\"physical plan: 3 stages (5 actors), "
        "2 edges (6 channels)\\nbatch interval 1s, batch size 1024 records, edge capacity 8 batches per "
        "channel\"];\n"
        "  node [shape=box, fontname=\"Helvetica\"];\n"
        "  edge [fontname=\"Helvetica\"];\n"
        "  s0 [label=\"stage 0 x2\\nfile\\n-> flat_map\\n-> map\\n-> reduce_by_key.combine\", shape=box3d];\n"
        "  s1 [label=\"stage 1 x2\\nreduce_by_key\", shape=box3d];\n"
        "  s2 [label=\"stage 2 x1\\nprint\"];\n"
        "  s0 -> s1 [label=\"hash(key)\\n4 channels x 8 batches\", style=bold];\n"
        "  s1 -> s2 [label=\"gather\\n2 channels x 8 batches\", style=dashed];\n"
        "}\n");
  check_dot_structure(r.out, 3, 2);

  // The shipped examples: structure always; rendering when Graphviz is installed.
  const bool dot = have_dot();
  if (!dot) WARN("Graphviz 'dot' is not installed: DOT output checked for structure only");
  for (auto& entry : fs::directory_iterator(fs::path(WEIR_SOURCE_DIR) / "examples")) {
    if (entry.path().extension() != ".weir") continue;
    INFO(entry.path());
    // from the repository root, where the examples' relative paths (tables) resolve
    cwd_guard in_root(WEIR_SOURCE_DIR);
    auto e = run_weir({"explain", "--dot", entry.path().string(), "--parallelism", "2"}, tmp.path);
    REQUIRE(e.exit_code == 0);
    auto text = run_weir({"explain", entry.path().string(), "--parallelism", "2"}, tmp.path);
    REQUIRE(text.exit_code == 0);
    int stages = 0, edges = 0;
    for (auto& l : lines_of(text.out)) {
      stages += l.rfind("stage ", 0) == 0;
      edges += l.rfind("edge ", 0) == 0;
    }
    CHECK(stages > 0);
    check_dot_structure(e.out, stages, edges);
    if (dot) {
      auto gv = tmp.path / "plan.dot", png = tmp.path / "plan.png";
      write_file(gv, e.out);
      std::string cmd = "dot -Tpng '" + gv.string() + "' -o '" + png.string() + "' 2>'" +
                        (tmp.path / "dot.err").string() + "'";
      CHECK(std::system(cmd.c_str()) == 0);
      CHECK(slurp(tmp.path / "dot.err").empty());
      CHECK(slurp(png).rfind("\x89PNG\r\n\x1a\n", 0) == 0);
    }
  }
}

TEST_CASE("cli: explain errors and help", "[cli]") {
  weir::test::temp_dir tmp;
  auto h = run_weir({"--help"}, tmp.path);
  CHECK_THAT(h.out, Catch::Contains("explain"));
  auto eh = run_weir({"explain", "--help"}, tmp.path);
  CHECK(eh.exit_code == 0);
  CHECK_THAT(eh.out, Catch::Contains("--dot") && Catch::Contains("--parallelism") &&
                         Catch::Contains("--batch-size") && Catch::Contains("--batch-interval"));
  auto none = run_weir({"explain"}, tmp.path);
  CHECK(none.exit_code == 2);
  CHECK(none.err == "weir: error: give a script file or -e 'PIPELINE' (see weir --help)\n");
  auto bad = run_weir({"explain", "-e", "file(\"x\") | reduce_by_kye(sum) | print()"}, tmp.path);
  CHECK(bad.exit_code == 2);
  CHECK(bad.err == "-e:1:13: unknown operator 'reduce_by_kye' (did you mean 'reduce_by_key'?)\n");
  CHECK(bad.out.empty());
  CHECK(run_weir({"explain", "-e", word_count, "--stats"}, tmp.path).exit_code == 2);  // run only
}

TEST_CASE("api: streaming_context::explain plans without opening sources", "[cli]") {
  weir::streaming_context ssc({.batch_interval = std::chrono::milliseconds(250), .parallelism = 2,
                               .batch_size = 100, .edge_capacity = 4});
  auto s = ssc.source("custom", []() -> weir::io::source_ptr {
    throw std::logic_error("explain must not create sources");
  });
  CHECK_THROWS_AS(ssc.explain(), weir::pipeline_error);  // no sink yet
  s.map([](const weir::value& v) { return weir::value::pair(v, 1); })
      .reduce_by_key(weir::reducer::sum())
      .for_each_batch([](std::int64_t, weir::records&) {});
  CHECK(ssc.explain() ==
        "physical plan: 3 stages (4 actors), 2 edges (4 channels)\n"
        "batch interval 250ms, batch size 100 records, edge capacity 4 batches per channel\n"
        "stage 0 x1: custom -> map -> reduce_by_key.combine\n"
        "stage 1 x2: reduce_by_key\n"
        "stage 2 x1: for_each_batch\n"
        "edge 0 -> 1 hash(key): 2 channels x 4 batches\n"
        "edge 1 -> 2 gather: 2 channels x 4 batches\n");
  const std::string dot = ssc.explain(true);
  check_dot_structure(dot, 3, 2);
  CHECK_THAT(dot, Catch::Contains("s1 [label=\"stage 1 x2\\nreduce_by_key\", shape=box3d];"));
}

TEST_CASE("cli: the YSB example (examples/ysb.weir): its plan shows the join and window stages, its counts "
          "equal the generator's",
          "[cli]") {
  temp_dir tmp;
  const fs::path root(WEIR_SOURCE_DIR);
  std::optional<cwd_guard> in_root(std::in_place, root);  // the example's table path is relative to it
  auto plan = run_weir({"explain", "examples/ysb.weir", "--parallelism", "2"}, tmp.path);
  in_root.reset();
  REQUIRE(plan.exit_code == 0);
  CHECK_THAT(plan.out, Catch::Contains("stage 0 x2: generate -> parse_json -> with_watermark -> filter -> map\n"));
  CHECK_THAT(plan.out, Catch::Contains("x2: join_table"));
  CHECK_THAT(plan.out, Catch::Contains("x2: aggregate(tumbling(10s))"));
  CHECK_THAT(plan.out, Catch::Contains("hash(key)"));

  // run it on 200,000 events from a scratch directory (table path made absolute)
  std::string script = slurp(root / "examples/ysb.weir");
  auto at = script.find("\"examples/ysb_ads.jsonl\"");
  REQUIRE(at != std::string::npos);
  script.replace(at, std::string("\"examples/ysb_ads.jsonl\"").size(),
                 "\"" + (root / "examples/ysb_ads.jsonl").string() + "\"");
  at = script.find("count = 1000000");
  REQUIRE(at != std::string::npos);
  script.replace(at, std::string("count = 1000000").size(), "count = 200000");
  at = script.find("\"ysb_counts.jsonl\"");
  REQUIRE(at != std::string::npos);
  script.replace(at, std::string("\"ysb_counts.jsonl\"").size(), "\"" + (tmp.path / "ysb_counts.jsonl").string() + "\"");
  write_file(tmp.path / "ysb.weir", script);
  auto r = run_weir({"run", (tmp.path / "ysb.weir").string(), "--parallelism", "2"}, tmp.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);

  // the shipped table is the generator's ad -> campaign data for seed 42
  {
    weir::io::ysb_model m(42);
    auto table = weir::io::read_jsonl((root / "examples/ysb_ads.jsonl").string());
    REQUIRE(table.size() == static_cast<std::size_t>(weir::io::ysb_model::ads));
    for (int a = 0; a < weir::io::ysb_model::ads; ++a) {
      auto kv = table[static_cast<std::size_t>(a)].as_array();
      CHECK(kv[0].as_string() == m.ad_ids[static_cast<std::size_t>(a)]);
      CHECK(kv[1].as_string() == m.campaign_ids[static_cast<std::size_t>(weir::io::ysb_model::campaign_of(a))]);
    }
  }
  // expected: the generator's events, counted here without the pipeline
  weir::io::ysb_options o;
  o.seed = 42;
  o.count = 200000;
  weir::io::ysb_model model(42);
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> expected, got;
  for (std::uint64_t i = 0; i < o.count; ++i) {
    auto e = weir::io::ysb_event_at(o, i);
    if (e.event_type != 0) continue;
    auto w = e.time_ms - e.time_ms % weir::io::ysb_model::window_ms;
    ++expected[{model.campaign_ids[static_cast<std::size_t>(weir::io::ysb_model::campaign_of(e.ad))], w}];
  }
  for (auto& rec : weir::io::read_jsonl((tmp.path / "ysb_counts.jsonl").string())) {
    const weir::value* w = rec.find("record");
    REQUIRE(w);
    got[{std::string(w->find("key")->as_string()), w->find("start")->as_int()}] += w->find("value")->as_int();
  }
  CHECK(got.size() == expected.size());
  CHECK(got == expected);
}
