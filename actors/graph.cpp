// weir — the physical planner (operator chaining, stages, edges) and the
// plan's text and DOT renderings (graph.hpp).
#include "weir/actors/graph.hpp"

#include <string>
#include <vector>

#include "weir/common/time.hpp"

namespace weir::plan {

physical_graph make_physical(const logical_graph& g, int parallelism) {
  if (parallelism < 1) throw pipeline_error("parallelism must be >= 1, got " + std::to_string(parallelism));
  physical_graph p;
  // Only what a sink needs runs (Spark computes only what output operations
  // need): a node is live when it is a sink or feeds a live node. Inputs
  // precede their consumers, so one backward pass finds them.
  std::vector<bool> live(g.nodes.size(), false);
  bool has_sink = false;
  for (std::size_t i = g.nodes.size(); i-- > 0;) {
    const auto& n = g.nodes[i];
    if (n.sink) live[i] = has_sink = true;
    if (live[i])
      for (int in : n.inputs) live[static_cast<std::size_t>(in)] = true;
  }
  if (!has_sink) throw pipeline_error("the pipeline has no sink (add print(), write_jsonl(...), ...)");
  std::vector<int> consumers(g.nodes.size(), 0);
  for (auto& n : g.nodes)
    if (live[static_cast<std::size_t>(n.id)])
      for (int in : n.inputs) ++consumers[static_cast<std::size_t>(in)];

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
    if (!live[idx]) continue;  // leads to no sink: not computed
    if (n.inputs.empty()) {
      if (!n.make_source && !n.make_source_part)
        throw pipeline_error("node '" + n.name + "' has neither input nor source");
      int s = new_stage(!n.make_source_part         ? 1
                        : n.source_parallelism > 0 ? n.source_parallelism
                                                   : parallelism);
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

namespace {

const char* kind_name(edge_kind k) {
  switch (k) {
    case edge_kind::forward: return "forward";
    case edge_kind::hash: return "hash(key)";
    case edge_kind::hash_record: return "hash(record)";
    case edge_kind::gather: return "gather";
  }
  return "?";
}

/// "1 stage", "2 stages"; "1 batch", "8 batches".
std::string count_of(long n, const std::string& noun) {
  const bool es = !noun.empty() && (noun.back() == 'h' || noun.back() == 's');
  return std::to_string(n) + " " + noun + (n == 1 ? "" : es ? "es" : "s");
}

/// The first header line of a plan: stages, actors, edges, channels.
std::string totals(const physical_graph& p) {
  long actors = 0, channels = 0;
  for (auto& s : p.stages) actors += s.parallelism;
  for (auto& e : p.edges) channels += channels_of(p, e);
  return "physical plan: " + count_of(static_cast<long>(p.stages.size()), "stage") + " (" +
         count_of(actors, "actor") + "), " + count_of(static_cast<long>(p.edges.size()), "edge") + " (" +
         count_of(channels, "channel") + ")";
}

/// The second header line: the batch interval and the channel settings.
std::string settings(const logical_graph& g, const render_options& o) {
  return "batch interval " + duration_text(g.batch_interval.count()) + ", batch size " +
         count_of(static_cast<long>(o.batch_size), "record") + ", edge capacity " +
         count_of(static_cast<long>(o.edge_capacity), "batch") + " per channel";
}

std::string channels_text(const physical_graph& p, const edge& e, const render_options& o) {
  return count_of(channels_of(p, e), "channel") + " x " + count_of(static_cast<long>(o.edge_capacity), "batch");
}

/// A DOT double-quoted string's contents.
std::string dot_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

int channels_of(const physical_graph& p, const edge& e) {
  const int senders = p.stages[static_cast<std::size_t>(e.from)].parallelism;
  const int receivers = p.stages[static_cast<std::size_t>(e.to)].parallelism;
  switch (e.kind) {
    case edge_kind::hash:
    case edge_kind::hash_record: return senders * receivers;
    case edge_kind::forward:
    case edge_kind::gather: return senders;
  }
  return senders;
}

std::string describe(const logical_graph& g, const physical_graph& p, const render_options& o) {
  std::string out = totals(p) + "\n" + settings(g, o) + "\n";
  for (auto& s : p.stages) {
    out += "stage " + std::to_string(s.id) + " x" + std::to_string(s.parallelism) + ": " + s.name + "\n";
    if (s.source_node >= 0)
      if (auto& d = g.nodes[static_cast<std::size_t>(s.source_node)].describe_source) out += "  source " + d(s.parallelism) + "\n";
  }
  for (auto& e : p.edges) {
    out += "edge " + std::to_string(e.from) + " -> " + std::to_string(e.to) + " " + kind_name(e.kind);
    if (e.input > 0) out += " (input " + std::to_string(e.input) + ")";
    out += ": " + channels_text(p, e, o) + "\n";
  }
  return out;
}

std::string to_dot(const logical_graph& g, const physical_graph& p, const render_options& o) {
  std::string out = "digraph weir {\n";
  out += "  graph [rankdir=LR, labelloc=t, fontname=\"Helvetica\", label=\"" +
         dot_escape(totals(p) + "\n" + settings(g, o)) + "\"];\n";
  out += "  node [shape=box, fontname=\"Helvetica\"];\n";
  out += "  edge [fontname=\"Helvetica\"];\n";
  for (auto& s : p.stages) {
    std::string label = "stage " + std::to_string(s.id) + " x" + std::to_string(s.parallelism);
    std::vector<int> nodes;
    if (s.source_node >= 0) nodes.push_back(s.source_node);
    nodes.insert(nodes.end(), s.chain.begin(), s.chain.end());
    for (std::size_t i = 0; i < nodes.size(); ++i)
      label += (i == 0 ? "\n" : "\n-> ") + g.nodes[static_cast<std::size_t>(nodes[i])].name;
    out += "  s" + std::to_string(s.id) + " [label=\"" + dot_escape(label) + "\"";
    if (s.parallelism > 1) out += ", shape=box3d";
    out += "];\n";
  }
  for (auto& e : p.edges) {
    std::string label = kind_name(e.kind);
    if (e.input > 0) label += " (input " + std::to_string(e.input) + ")";
    label += "\n" + channels_text(p, e, o);
    out += "  s" + std::to_string(e.from) + " -> s" + std::to_string(e.to) + " [label=\"" + dot_escape(label) + "\"";
    if (e.kind == edge_kind::hash || e.kind == edge_kind::hash_record) out += ", style=bold";
    if (e.kind == edge_kind::gather) out += ", style=dashed";
    out += "];\n";
  }
  out += "}\n";
  return out;
}

}  // namespace weir::plan
