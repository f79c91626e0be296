// Every ```weir block of docs/DSL.md compiles and builds (docs stay runnable).
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "support/test_data.hpp"
#include "weir/cli/pipeline_builder.hpp"

using namespace weir;
using namespace weir::dsl;

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
  REQUIRE(blocks.size() >= 4);
  for (auto& [at, text] : blocks) {
    INFO("docs/DSL.md block at line " << at << ":\n" << text);
    auto spec = compile_script(text, "DSL.md");
    streaming_context ctx(make_context_options(spec.settings));
    CHECK_NOTHROW(build_pipelines(spec, ctx));
  }
}
