// Every ```weir block of docs/DSL.md compiles and builds (docs stay runnable).
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "support/test_data.hpp"
#include "weir/cli/pipeline_builder.hpp"
#include "weir/io/regex.hpp"

using namespace weir;
using namespace weir::dsl;

namespace {

/// Runs in `dir` while alive (files named by the examples are relative).
class scoped_cwd {
public:
  explicit scoped_cwd(const std::filesystem::path& dir) : old_(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  ~scoped_cwd() { std::filesystem::current_path(old_); }
  scoped_cwd(const scoped_cwd&) = delete;
  scoped_cwd& operator=(const scoped_cwd&) = delete;

private:
  std::filesystem::path old_;
};

}  // namespace

TEST_CASE("docs/DSL.md: every weir example compiles and builds", "[dsl]") {
  std::ifstream in(std::string(WEIR_SOURCE_DIR) + "/docs/DSL.md");
  REQUIRE(in);
  std::vector<std::pair<int, std::string>> blocks;  // (line, text)
  std::string line, block;
  int lineno = 0, start = 0;
  bool inside = false;
  while (std::getline(in, line)) {
    ++lineno;
    if (!inside && line == "```weir") {
      inside = true;
      start = lineno + 1;
      block.clear();
    } else if (inside && line == "```") {
      inside = false;
      blocks.emplace_back(start, block);
    } else if (inside) {
      block += line + "\n";
    }
  }
  REQUIRE(blocks.size() >= 8);
  // Files read at build time (join tables, map_with_state's initial state)
  // must exist: give each one a [key, value] pair, in a scratch directory.
  weir::test::temp_dir tmp;
  scoped_cwd cwd(tmp.path);
  static const weir::io::regex build_time_file(R"((?:table\(|initial\s*=\s*)\"([^\"]+)\")", "build_time_file");
  for (auto& [at, text] : blocks) {
    std::string_view m[2];
    for (std::string_view rest = text; build_time_file.search(rest, m);
         rest.remove_prefix(static_cast<std::size_t>(m[0].data() + m[0].size() - rest.data())))
      std::ofstream(tmp.path / std::string(m[1])) << "[\"a\", 1]\n";
    INFO("docs/DSL.md block at line " << at << ":\n" << text);
    auto spec = compile_script(text, "DSL.md");
    streaming_context ctx(make_context_options(spec.settings));
    CHECK_NOTHROW(build_pipelines(spec, ctx));
  }
}

TEST_CASE("docs/DSL.md: every stage of the registry and every function is documented", "[dsl]") {
  std::ifstream in(std::string(WEIR_SOURCE_DIR) + "/docs/DSL.md");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  std::vector<std::string> names = source_names();
  for (auto& n : operator_names()) names.push_back(n);
  for (auto& n : function_names()) names.push_back(n);
  REQUIRE(names.size() > 70);
  for (auto& n : names) {
    INFO("`" << n << "(` is not in docs/DSL.md");
    CHECK(doc.find("`" + n + "(") != std::string::npos);
  }
}
