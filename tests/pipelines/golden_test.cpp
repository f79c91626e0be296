// Golden pipeline tests (DuckDB sqllogictest style): every file in
// tests/pipelines/golden/*.test is a DSL pipeline, its input batches and the
// expected output batches, worked out by hand from Spark's rules. Each file
// runs through the `weir` binary at --parallelism 1, 2 and 4.
//
// File format (sections start at the beginning of a line):
//   # comments; at least one line "# rule: <the Spark rule it checks>"
//   pipeline: <DSL text, may continue over several lines>
//   options: --batch-interval 1s          (optional, extra CLI arguments)
//   ordered: true                         (optional: compare records in order)
//   input [NAME]:                         (a JSON-lines file, one batch per line;
//   <lines>                                the pipeline names it $NAME, default $IN)
//   expected [NAME]:                      (the collect("$NAME") output, default $OUT)
//   <lines>
//   exit: 2                               (optional: expected exit code, default 0)
//   stderr: <text>                        (optional: expected substring of stderr;
//                                          $FILE stands for the -e source name)
//
// Records within a batch are compared as multisets unless `ordered: true`:
// ordering inside a batch is not guaranteed after a shuffle (docs/architecture.md §4).
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "support/test_data.hpp"
#include "support/weir_process.hpp"
#include "weir/io/json.hpp"

using namespace weir;
using namespace weir::test;
namespace fs = std::filesystem;

namespace {

struct golden {
  std::string name;
  std::vector<std::string> rules;
  std::string pipeline;
  std::vector<std::string> options;
  bool ordered = false;
  std::map<std::string, std::string> inputs;    // NAME -> file text
  std::map<std::string, std::string> expected;  // NAME -> collect output
  int exit_code = 0;
  std::string stderr_text;
};

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

golden parse_golden(const fs::path& p) {
  golden g;
  g.name = p.stem().string();
  std::string* target = nullptr;
  for (auto& raw : [&] {
         std::vector<std::string> lines;
         std::istringstream in(slurp(p));
         for (std::string l; std::getline(in, l);) lines.push_back(l);
         return lines;
       }()) {
    std::string line = raw;
    auto starts = [&](const char* kw) { return line.rfind(kw, 0) == 0; };
    auto section_name = [&](const char* kw, const char* def) {
      std::string rest = trim(line.substr(std::string(kw).size()));
      if (!rest.empty() && rest.back() == ':') rest.pop_back();
      rest = trim(rest);
      return rest.empty() ? std::string(def) : rest;
    };
    if (starts("#")) {
      auto pos = line.find("rule:");
      if (pos != std::string::npos) g.rules.push_back(trim(line.substr(pos + 5)));
      continue;
    }
    if (starts("pipeline:")) {
      g.pipeline = trim(line.substr(9));
      target = &g.pipeline;
    } else if (starts("options:")) {
      std::istringstream ss(line.substr(8));
      for (std::string w; ss >> w;) g.options.push_back(w);
      target = nullptr;
    } else if (starts("ordered:")) {
      g.ordered = trim(line.substr(8)) == "true";
      target = nullptr;
    } else if (starts("input")) {
      target = &g.inputs[section_name("input", "IN")];
    } else if (starts("expected")) {
      target = &g.expected[section_name("expected", "OUT")];
    } else if (starts("exit:")) {
      g.exit_code = std::stoi(trim(line.substr(5)));
      target = nullptr;
    } else if (starts("stderr:")) {
      g.stderr_text = trim(line.substr(7));
      target = nullptr;
    } else if (target) {
      if (trim(line).empty()) continue;
      if (target == &g.pipeline) {
        *target += "\n" + line;
      } else {
        *target += line + "\n";
      }
    }
  }
  return g;
}

struct batch {
  std::int64_t time = 0;
  records recs;
};

std::vector<batch> parse_batches(const std::string& text, bool ordered) {
  std::vector<batch> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (trim(line).empty()) continue;
    value v = io::parse_json(line);
    REQUIRE(v.is_object());
    REQUIRE(v.find("time") != nullptr);
    REQUIRE(v.find("records") != nullptr);
    batch b;
    b.time = v.find("time")->as_int();
    auto r = v.find("records")->as_array();
    b.recs.assign(r.begin(), r.end());
    if (!ordered) std::sort(b.recs.begin(), b.recs.end());
    out.push_back(std::move(b));
  }
  return out;
}

std::string show(const std::vector<batch>& bs) {
  std::string s;
  for (auto& b : bs) s += std::to_string(b.time) + ": " + value::array(b.recs).to_json() + "\n";
  return s;
}

std::string substitute(std::string text, const std::map<std::string, fs::path>& files) {
  // longest names first, so that $IN does not match inside $INV
  std::vector<std::pair<std::string, fs::path>> by_length(files.begin(), files.end());
  std::sort(by_length.begin(), by_length.end(),
            [](auto& a, auto& b) { return a.first.size() > b.first.size(); });
  for (auto& [name, path] : by_length) {
    std::string key = "$" + name;
    for (auto pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos))
      text.replace(pos, key.size(), path.string()), pos += path.string().size();
  }
  return text;
}

}  // namespace

TEST_CASE("golden pipelines give Spark's answers at parallelism 1, 2 and 4", "[pipelines][golden]") {
  fs::path dir = fs::path(WEIR_SOURCE_DIR) / "tests" / "pipelines" / "golden";
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".test") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 30);
  for (auto& f : files) DYNAMIC_SECTION(f.filename().string()) {
    golden g = parse_golden(f);
    INFO("golden test " << f.filename().string() << "\n" << g.pipeline);
    CHECK_FALSE(g.rules.empty());  // every test cites the rule it checks
    REQUIRE_FALSE(g.pipeline.empty());
    for (const char* par : {"1", "2", "4"}) {
      INFO("--parallelism " << par);
      temp_dir tmp;
      std::map<std::string, fs::path> paths;
      for (auto& [name, text] : g.inputs) {
        paths[name] = tmp.path / (name + ".jsonl");
        write_file(paths[name], text);
      }
      for (auto& [name, text] : g.expected) paths[name] = tmp.path / (name + ".out.jsonl");
      std::vector<std::string> args = {"run", "-e", substitute(g.pipeline, paths), "--parallelism", par};
      for (auto& o : g.options) args.push_back(substitute(o, paths));
      auto r = run_weir(args, tmp.path);
      INFO("stderr: " << r.err);
      REQUIRE(r.exit_code == g.exit_code);
      if (!g.stderr_text.empty()) CHECK(r.err.find(g.stderr_text) != std::string::npos);
      if (g.exit_code == 2) CHECK(r.err.rfind("-e:", 0) == 0);  // a DSL error names the place
      for (auto& [name, text] : g.expected) {
        INFO("output " << name);
        REQUIRE(fs::exists(paths[name]));
        auto want = parse_batches(text, g.ordered);
        auto got = parse_batches(slurp(paths[name]), g.ordered);
        INFO("expected:\n" << show(want) << "got:\n" << show(got));
        REQUIRE(got.size() == want.size());
        for (std::size_t i = 0; i < want.size(); ++i) {
          CHECK(got[i].time == want[i].time);
          CHECK(got[i].recs == want[i].recs);
        }
      }
    }
  }
}
