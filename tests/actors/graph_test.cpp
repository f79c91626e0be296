#include <catch2/catch.hpp>

#include "weir/actors/graph.hpp"
#include "weir/api/dstream.hpp"

using namespace weir;

namespace {
plan::node src(const char* name) {
  plan::node n;
  n.name = name;
  n.make_source = [] { return io::source_ptr(); };
  return n;
}
plan::node op(const char* name, int in, plan::routing r, bool sink = false) {
  plan::node n;
  n.name = name;
  n.inputs = {in};
  n.make_operator = [] { return operator_ptr(); };
  n.route = r;
  n.sink = sink;
  return n;
}
}  // namespace

TEST_CASE("stateless operators chain into the source and keyed ones get parallel stages", "[actors][plan]") {
  plan::logical_graph g;
  int s = g.add(src("file"));
  int fm = g.add(op("flat_map", s, plan::routing::chained));
  int m = g.add(op("map", fm, plan::routing::chained));
  int r = g.add(op("reduce_by_key", m, plan::routing::keyed));
  int m2 = g.add(op("map", r, plan::routing::chained));
  g.add(op("print", m2, plan::routing::global, true));
  auto p = plan::make_physical(g, 3);
  REQUIRE(p.stages.size() == 3);
  CHECK(p.stages[0].name == "file -> flat_map -> map");
  CHECK(p.stages[0].parallelism == 1);
  CHECK(p.stages[1].name == "reduce_by_key -> map");
  CHECK(p.stages[1].parallelism == 3);
  CHECK(p.stages[2].name == "print");
  CHECK(p.stages[2].parallelism == 1);
  REQUIRE(p.edges.size() == 2);
  CHECK(p.edges[0].kind == plan::edge_kind::hash);
  CHECK(p.edges[1].kind == plan::edge_kind::gather);
}

TEST_CASE("a global operator behind a single-instance stage is chained", "[actors][plan]") {
  plan::logical_graph g;
  int s = g.add(src("generate"));
  int c = g.add(op("count", s, plan::routing::global));
  g.add(op("print", c, plan::routing::global, true));
  auto p = plan::make_physical(g, 2);
  REQUIRE(p.stages.size() == 1);
  CHECK(p.stages[0].name == "generate -> count -> print");
}

TEST_CASE("fan-out ends the chain, a plan needs a sink and a stream without one is not computed",
          "[actors][plan]") {
  plan::logical_graph g;
  int s = g.add(src("generate"));
  int f = g.add(op("filter", s, plan::routing::chained));
  g.add(op("print", f, plan::routing::global, true));
  g.add(op("write_jsonl", f, plan::routing::global, true));
  auto p = plan::make_physical(g, 2);
  REQUIRE(p.stages.size() == 3);
  CHECK(p.stages[0].name == "generate -> filter");
  CHECK(p.edges.size() == 2);

  plan::logical_graph dangling;
  int s2 = dangling.add(src("file"));
  dangling.add(op("map", s2, plan::routing::chained));
  CHECK_THROWS_WITH(plan::make_physical(dangling, 1), Catch::Contains("no sink"));
  int m = dangling.add(op("map", s2, plan::routing::chained));
  int pr = dangling.add(op("print", m, plan::routing::global, true));
  // the first map leads to no sink: it is not computed (Spark runs only what
  // output operations need), and the source feeds the other map alone, chained
  auto pruned = plan::make_physical(dangling, 2);
  REQUIRE(pruned.stages.size() == 1);
  CHECK(pruned.stages[0].name == "file -> map -> print");
  CHECK(pruned.stages[0].source_node == s2);
  CHECK(pruned.stages[0].chain == std::vector<int>{m, pr});
  CHECK(pruned.edges.empty());
}
