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
  auto new_stage = [&](int par) -> int {
    stage s;
    s.id = static_cast<int>(p.stages.size());
    s.parallelism = par;
    p.stages.push_back(std::move(s));
    return p.stages.back().id;
  };
  auto connect = [&](int from, int to, edge_kind k, int input) {
    edge e{static_cast<int>(p.edges.size()), from, to, k, input};
    p.edges.push_back(e);
    p.stages[static_cast<std::size_t>(from)].out_edges.push_back(e.id);
    p.stages[static_cast<std::size_t>(to)].in_edges.push_back(e.id);
  };
  auto par_of = [&](int stage_id) { return p.stages[static_cast<std::size_t>(stage_id)].parallelism; };

  for (auto& n : g.nodes) {
    auto idx = static_cast<std::size_t>(n.id);
    if (n.inputs.empty()) {
      if (!n.make_source) throw pipeline_error("node '" + n.name + "' has neither input nor source");
      int s = new_stage(1);
      p.stages[static_cast<std::size_t>(s)].source_node = n.id;
      p.stages[static_cast<std::size_t>(s)].name = n.name;
      stage_of[idx] = s;
      continue;
    }
    std::vector<int> from;
    for (int in : n.inputs) from.push_back(stage_of[static_cast<std::size_t>(in)]);
    // A single-input node runs inside its input's stage when it needs no
    // repartitioning and its input has no other consumer (operator chaining).
    bool single = n.inputs.size() == 1 && consumers[static_cast<std::size_t>(n.inputs[0])] == 1;
    int target = -1;
    switch (n.route) {
      case routing::chained:
        if (single) {
          target = from[0];
        } else {
          bool same = true;
          for (int f : from) same = same && par_of(f) == par_of(from[0]);
          target = new_stage(same ? par_of(from[0]) : 1);
          for (std::size_t i = 0; i < from.size(); ++i)
            connect(from[i], target, same ? edge_kind::forward : edge_kind::gather, static_cast<int>(i));
        }
        break;
      case routing::keyed:
      case routing::by_record:
        target = new_stage(parallelism);
        for (std::size_t i = 0; i < from.size(); ++i)
          connect(from[i], target, n.route == routing::keyed ? edge_kind::hash : edge_kind::hash_record,
                  static_cast<int>(i));
        break;
      case routing::global:
        if (single && par_of(from[0]) == 1) {
          target = from[0];
        } else {
          target = new_stage(1);
          for (std::size_t i = 0; i < from.size(); ++i)
            connect(from[i], target, par_of(from[i]) == 1 ? edge_kind::forward : edge_kind::gather,
                    static_cast<int>(i));
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
  for (auto& s : p.stages)
    out += "stage " + std::to_string(s.id) + " x" + std::to_string(s.parallelism) + ": " + s.name + "\n";
  for (auto& e : p.edges) {
    const char* k = e.kind == edge_kind::forward       ? "forward"
                    : e.kind == edge_kind::hash        ? "hash(key)"
                    : e.kind == edge_kind::hash_record ? "hash(record)"
                                                       : "gather";
    out += "edge " + std::to_string(e.from) + " -> " + std::to_string(e.to) + " " + k;
    if (e.input > 0) out += " (input " + std::to_string(e.input) + ")";
    out += "\n";
  }
  (void)g;
  return out;
}

}  // namespace weir::plan
