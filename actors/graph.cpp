#include "weir/actors/graph.hpp"

#include <string>

namespace weir::plan {

physical_graph make_physical(const logical_graph& g, int parallelism) {
  if (parallelism < 1) throw pipeline_error("parallelism must be >= 1, got " + std::to_string(parallelism));
  physical_graph p;
  std::vector<int> consumers(g.nodes.size(), 0);
  bool has_sink = false;
  for (auto& n : g.nodes) {
    for (int in : n.inputs) ++consumers[static_cast<std::size_t>(in)];
    has_sink = has_sink || n.sink;
  }
  if (!has_sink) throw pipeline_error("the pipeline has no sink (add print(), write_jsonl(...), ...)");
  for (auto& n : g.nodes)
    if (!n.sink && consumers[static_cast<std::size_t>(n.id)] == 0)
      throw pipeline_error("stream '" + n.name + "' is not consumed by any sink");

  std::vector<int> stage_of(g.nodes.size(), -1);
  auto new_stage = [&](int par) -> stage& {
    stage s;
    s.id = static_cast<int>(p.stages.size());
    s.parallelism = par;
    p.stages.push_back(std::move(s));
    return p.stages.back();
  };
  auto connect = [&](int from, int to, edge_kind k) {
    edge e{static_cast<int>(p.edges.size()), from, to, k};
    p.edges.push_back(e);
    p.stages[static_cast<std::size_t>(from)].out_edges.push_back(e.id);
    p.stages[static_cast<std::size_t>(to)].in_edges.push_back(e.id);
  };

  for (auto& n : g.nodes) {
    auto idx = static_cast<std::size_t>(n.id);
    if (n.inputs.empty()) {
      if (!n.make_source) throw pipeline_error("node '" + n.name + "' has neither input nor source");
      stage& s = new_stage(1);
      s.source_node = n.id;
      s.name = n.name;
      stage_of[idx] = s.id;
      continue;
    }
    if (n.inputs.size() != 1)
      throw pipeline_error(n.name + ": operators with several inputs are not supported yet");
    int in = n.inputs[0];
    int from = stage_of[static_cast<std::size_t>(in)];
    int from_par = p.stages[static_cast<std::size_t>(from)].parallelism;
    bool single = consumers[static_cast<std::size_t>(in)] == 1;
    int target = -1;
    switch (n.route) {
      case routing::chained:
        if (single) {
          target = from;
        } else {
          target = new_stage(from_par).id;
          connect(from, target, edge_kind::forward);
        }
        break;
      case routing::keyed:
        target = new_stage(parallelism).id;
        connect(from, target, edge_kind::hash);
        break;
      case routing::global:
        if (single && from_par == 1) {
          target = from;
        } else {
          target = new_stage(1).id;
          connect(from, target, from_par == 1 ? edge_kind::forward : edge_kind::gather);
        }
        break;
    }
    stage& s = p.stages[static_cast<std::size_t>(target)];
    s.chain.push_back(n.id);
    s.name += s.name.empty() ? n.name : " -> " + n.name;
    stage_of[idx] = target;
  }
  return p;
}

std::string describe(const logical_graph& g, const physical_graph& p) {
  std::string out;
  for (auto& s : p.stages) {
    out += "stage " + std::to_string(s.id) + " x" + std::to_string(s.parallelism) + ": " + s.name + "\n";
  }
  for (auto& e : p.edges) {
    const char* k = e.kind == edge_kind::forward ? "forward" : e.kind == edge_kind::hash ? "hash(key)" : "gather";
    out += "edge " + std::to_string(e.from) + " -> " + std::to_string(e.to) + " " + k + "\n";
  }
  (void)g;
  return out;
}

}  // namespace weir::plan
