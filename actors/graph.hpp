// weir — logical pipeline graph and its physical plan (CAF-free).
//
// The public API appends nodes to a logical_graph; `physical_plan` turns it
// into stages — one actor per parallel instance of a stage — by operator
// chaining (Flink): a stateless node with a single input, whose input has no
// other consumer, runs inside its input's stage; so does a global node (count,
// top, sinks) behind a single-instance stage. Keyed nodes start a stage of
// `parallelism` instances fed by a hash edge (xxh3 of the key).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "weir/io/source.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir::plan {

/// How records reach a node.
enum class routing {
  chained,    ///< runs where its input runs (no repartitioning)
  keyed,      ///< pairs routed to `parallelism` instances by hash of the key
  by_record,  ///< records routed to `parallelism` instances by hash of the whole record
  global,     ///< a single instance sees the whole stream
};

struct node {
  int id = -1;
  std::string name;                              ///< "map", "reduce_by_key", "print", …
  std::vector<int> inputs;                       ///< node ids; empty for sources
  std::function<io::source_ptr()> make_source;   ///< set for sources
  /// A partitioned source: instance i of `source_parallelism` (Kafka's
  /// partitions spread over the instances); used instead of make_source.
  std::function<io::source_ptr(int instance, int parallelism)> make_source_part;
  /// Instances of a partitioned source; 0 = the job's parallelism (a
  /// data-parallel source such as file(...) in the DSL).
  int source_parallelism = 1;
  /// A source whose instances read byte ranges of lines (file(...)
  /// splits): a parse_csv behind it makes it one instance (dstream::parse_csv).
  bool line_splits = false;
  /// A source's line for `weir explain` given its instances (e.g. "file x2:
  /// 6 splits of ~32 MB over 1 file"); empty function = none.
  std::function<std::string(int instances)> describe_source;
  std::function<operator_ptr()> make_operator;   ///< set for operators and sinks
  routing route = routing::chained;
  bool sink = false;
  /// Slide of this node's output stream, ms (Spark `slideDuration`): the
  /// batch interval, or a window's slide, inherited downstream.
  std::int64_t slide_ms = 0;
  /// map_with_state: set by dstream::state_snapshots() when a stream
  /// consumes the state snapshots (read by the operator factory at start).
  std::shared_ptr<bool> state_snapshots_used;
};

/// Nodes in creation order (which is a topological order).
struct logical_graph {
  std::vector<node> nodes;
  std::chrono::milliseconds batch_interval{1000};  ///< for validating windows while building
  bool map_side_combine = true;  ///< the API chains partial aggregation before exchanges (context_options)
  int add(node n) {
    n.id = static_cast<int>(nodes.size());
    nodes.push_back(std::move(n));
    return nodes.back().id;
  }
  /// Slide of a node's output stream, ms: its slide_ms, or the batch interval.
  std::int64_t slide_of(int node_id) const {
    std::int64_t s = nodes[static_cast<std::size_t>(node_id)].slide_ms;
    return s > 0 ? s : batch_interval.count();
  }
};

/// How records cross from one stage to the next.
enum class edge_kind {
  forward,      ///< instance i -> instance i (same parallelism)
  hash,         ///< pairs by partition_of(hash of the key)
  hash_record,  ///< records by partition_of(hash of the record)
  gather,       ///< every instance -> the single instance 0
};

struct stage {
  int id = -1;
  int parallelism = 1;
  int source_node = -1;         ///< node id of the source, or -1
  std::vector<int> chain;       ///< operator node ids run in order
  std::vector<int> in_edges;    ///< edge ids
  std::vector<int> out_edges;   ///< edge ids
  std::string name;             ///< "file -> flat_map -> map" for errors and plans
};

struct edge {
  int id = -1;
  int from = -1, to = -1;  ///< stage ids
  edge_kind kind = edge_kind::forward;
  int input = 0;  ///< which input of the target stage's first node it feeds
};

struct physical_graph {
  std::vector<stage> stages;  ///< in topological order
  std::vector<edge> edges;
};

/// Plans `g` with keyed parallelism `parallelism` (>= 1). Nodes from which
/// no sink can be reached are left out of the plan (Spark computes only what
/// output operations need): a stream without a sink is not computed.
/// @errors pipeline_error if the graph has no sink at all.
physical_graph make_physical(const logical_graph& g, int parallelism);

/// The run settings a rendered plan shows besides the graph (see
/// weir::context_options): every channel of every edge holds up to
/// `edge_capacity` wire batches of up to `batch_size` records.
struct render_options {
  std::size_t batch_size = 1024;  ///< max records per wire batch
  std::size_t edge_capacity = 8;  ///< credits (wire batches in flight) per channel
};

/// Number of channels of edge `e`: one per (sender instance, receiver
/// instance) pair its kind connects (forward and gather: one per sender
/// instance; hash: senders x receivers).
int channels_of(const physical_graph& p, const edge& e);

/// Text rendering of a physical plan (`weir explain`): a header with the
/// totals and the channel settings, then one line per stage
/// ("stage 1 x2: reduce_by_key", its chained operators joined by " -> "),
/// after a source's stage its node's describe_source line, indented
/// ("  source file x2: 2 splits of ~100 MB over 1 file"), and
/// one per edge ("edge 1 -> 2 gather: 2 channels, capacity 8 batches each").
std::string describe(const logical_graph& g, const physical_graph& p, const render_options& o = {});

/// The same plan as a Graphviz DOT digraph (`weir explain --dot`): one box per
/// stage (a 3-D box when it runs several instances), one labelled arrow per edge.
std::string to_dot(const logical_graph& g, const physical_graph& p, const render_options& o = {});

}  // namespace weir::plan
