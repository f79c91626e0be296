// weir — streaming_context and dstream (dstream.hpp): each operator call adds a
// node to the logical graph; start() hands the graph to the actor runtime.
#include "weir/api/dstream.hpp"

#include "weir/actors/graph.hpp"
#include "weir/io/bench_generators.hpp"
#include "weir/io/decoders.hpp"
#include "weir/io/guarded.hpp"
#include "weir/io/sinks.hpp"
#include "weir/operators/combine_operators.hpp"
#include "weir/operators/window_operators.hpp"
#include "weir/operators/window_rule.hpp"

namespace weir {

// --- dstream -------------------------------------------------------------------

namespace {

std::string ms(std::int64_t v) { return std::to_string(v) + "ms"; }

}  // namespace

dstream dstream::add(std::string name, std::function<operator_ptr()> make, plan::routing r, bool sink,
                     std::vector<int> extra_inputs, std::int64_t slide_ms) const {
  plan::node n;
  n.inputs = {node_};
  n.inputs.insert(n.inputs.end(), extra_inputs.begin(), extra_inputs.end());
  // Spark: streams combined by union/join/cogroup must have the same slide.
  const std::int64_t in_slide = graph_->slide_of(node_);
  for (int other : extra_inputs)
    if (graph_->slide_of(other) != in_slide)
      throw pipeline_error(name + ": the streams have different slides (" + ms(in_slide) + " and " +
                           ms(graph_->slide_of(other)) + "); Spark combines only streams with equal slides");
  n.name = std::move(name);
  n.make_operator = std::move(make);
  n.route = r;
  n.sink = sink;
  n.slide_ms = slide_ms > 0 ? slide_ms : in_slide;
  int id = graph_->add(std::move(n));
  return dstream(graph_, id);
}

std::chrono::milliseconds dstream::slide() const { return std::chrono::milliseconds(graph_->slide_of(node_)); }

std::chrono::milliseconds dstream::resolve_slide(const char* op, std::chrono::milliseconds window,
                                                 std::chrono::milliseconds slide) const {
  const auto parent = this->slide();
  slide = resolve_window_slide(slide, parent);
  check_window(op, window, slide, graph_->batch_interval, parent);
  return slide;
}

dstream dstream::map(map_fn f, std::string name) const {
  return add(std::move(name), [f] { return make_map(f); }, plan::routing::chained, false);
}

dstream dstream::flat_map(flat_map_fn f, std::string name) const {
  return add(std::move(name), [f] { return make_flat_map(f); }, plan::routing::chained, false);
}

dstream dstream::filter(filter_fn f, std::string name) const {
  return add(std::move(name), [f] { return make_filter(f); }, plan::routing::chained, false);
}

dstream dstream::with_watermark(watermark_options o) const {
  make_watermark_assigner(o);  // validates now: errors surface while building
  return add("with_watermark", [o] { return make_watermark_assigner(o); }, plan::routing::chained, false);
}

dstream dstream::aggregate(event_window_options o, extract_fn key) const {
  o.keyed = static_cast<bool>(key);
  make_event_window(o);  // validates now
  std::string name = "aggregate(" + o.window.describe() + ")";
  if (!key) return add(std::move(name), [o] { return make_event_window(o); }, plan::routing::global, false);
  dstream keyed = map([key](const value& v) { return value::pair(key(v), v); }, "key_by");
  return keyed.add(std::move(name), [o] { return make_event_window(o); }, plan::routing::keyed, false);
}

// Map-side combine (docs/architecture.md §4, operators/combine_operators.hpp):
// a chained `NAME.combine` node runs in every upstream instance and the
// aggregation after the exchange merges its partials.
dstream dstream::combined(std::string name, std::function<operator_ptr()> combine) const {
  return add(std::move(name) + ".combine", std::move(combine), plan::routing::chained, false);
}

dstream dstream::count() const {
  if (graph_->map_side_combine)
    return combined("count", [] { return make_combine_count(); })
        .add("count", [] { return make_merge_counts(); }, plan::routing::global, false);
  return add("count", [] { return make_count(); }, plan::routing::global, false);
}

dstream dstream::reduce_by_key(reducer r) const {
  if (graph_->map_side_combine) {
    reducer m = merge_reducer(r);
    return combined("reduce_by_key", [r] { return make_combine_by_key_reducer(r, "reduce_by_key"); })
        .add("reduce_by_key", [m] { return make_reduce_by_key(m); }, plan::routing::keyed, false);
  }
  return add("reduce_by_key", [r] { return make_reduce_by_key(r); }, plan::routing::keyed, false);
}

dstream dstream::reduce_by_key_and_window(reducer r, std::chrono::milliseconds window,
                                          std::chrono::milliseconds slide) const {
  return reduce_by_key_and_window(std::move(r), window, slide, std::nullopt);
}

dstream dstream::reduce_by_key_and_window(reducer r, std::chrono::milliseconds window,
                                          std::chrono::milliseconds slide, std::optional<reducer> inverse,
                                          filter_fn filter) const {
  slide = resolve_slide("reduce_by_key_and_window", window, slide);
  if (graph_->map_side_combine) {
    reducer m = merge_reducer(r);
    return combined("reduce_by_key_and_window",
                    [r] { return make_combine_by_key_reducer(r, "reduce_by_key_and_window"); })
        .add("reduce_by_key_and_window",
             [=] { return make_reduce_by_key_and_window(m, window, slide, inverse, filter); },
             plan::routing::keyed, false, {}, slide.count());
  }
  return add("reduce_by_key_and_window",
             [=] { return make_reduce_by_key_and_window(r, window, slide, inverse, filter); },
             plan::routing::keyed, false, {}, slide.count());
}

// --- per batch

dstream dstream::map_values(map_fn f) const {
  return add("map_values", [f] { return make_map_values(f); }, plan::routing::chained, false);
}

dstream dstream::flat_map_values(flat_map_fn f) const {
  return add("flat_map_values", [f] { return make_flat_map_values(f); }, plan::routing::chained, false);
}

dstream dstream::glom() const {
  return add("glom", [] { return make_glom(); }, plan::routing::chained, false);
}

dstream dstream::distinct() const {
  return add("distinct", [] { return make_distinct(); }, plan::routing::by_record, false);
}

dstream dstream::sample(double fraction, std::uint64_t seed) const {
  if (!(fraction >= 0.0 && fraction <= 1.0))
    throw pipeline_error("sample: fraction must be in [0, 1], got " + std::to_string(fraction));
  return add("sample", [fraction, seed] { return make_sample(fraction, seed); }, plan::routing::chained, false);
}

dstream dstream::union_with(const std::vector<dstream>& others) const {
  std::vector<int> extra;
  for (auto& o : others) {
    if (o.graph_ != graph_) throw pipeline_error("union: the streams belong to different streaming contexts");
    extra.push_back(o.node_);
  }
  return add("union", [] { return make_union(); }, plan::routing::chained, false, extra);
}

dstream dstream::count_by_value() const {
  if (graph_->map_side_combine)
    return combined("count_by_value", [] { return make_combine_count_by_value(); })
        .add("count_by_value", [] { return make_reduce_by_key(reducer::sum()); }, plan::routing::keyed, false);
  return add("count_by_value", [] { return make_count_by_value(); }, plan::routing::by_record, false);
}

dstream dstream::reduce(reducer r) const {
  if (graph_->map_side_combine) {
    reducer m = merge_reducer(r);
    return combined("reduce", [r] { return make_combine_reduce(r); })
        .add("reduce", [m] { return make_reduce(m); }, plan::routing::global, false);
  }
  return add("reduce", [r] { return make_reduce(r); }, plan::routing::global, false);
}

dstream dstream::group_by_key() const {
  return add("group_by_key", [] { return make_group_by_key(); }, plan::routing::keyed, false);
}

dstream dstream::combine_by_key(map_fn create, binary_fn merge_value, binary_fn merge_combiners) const {
  if (graph_->map_side_combine) {
    reducer m = reducer::custom(merge_combiners, "merge_combiners");
    return combined("combine_by_key", [=] { return make_combine_combiners(create, merge_value); })
        .add("combine_by_key", [m] { return make_reduce_by_key(m); }, plan::routing::keyed, false);
  }
  return add("combine_by_key", [=] { return make_combine_by_key(create, merge_value, merge_combiners); },
             plan::routing::keyed, false);
}

dstream dstream::sort_by(map_fn key, bool ascending) const {
  return add("sort_by", [key, ascending] { return make_sort_by(key, ascending); }, plan::routing::global, false);
}

// --- windows

dstream dstream::window(std::chrono::milliseconds w, std::chrono::milliseconds s) const {
  s = resolve_slide("window", w, s);
  return add("window", [w, s] { return make_window(w, s); }, plan::routing::chained, false, {}, s.count());
}

dstream dstream::count_by_window(std::chrono::milliseconds w, std::chrono::milliseconds s) const {
  s = resolve_slide("count_by_window", w, s);
  if (graph_->map_side_combine)  // Spark: countByWindow = map(_ => 1).reduceByWindow(_ + _, _ - _, w, s)
    return combined("count_by_window", [] { return make_combine_count(); })
        .add("count_by_window", [w, s] { return make_reduce_by_window(reducer::sum(), w, s, reducer::sub()); },
             plan::routing::global, false, {}, s.count());
  return add("count_by_window", [w, s] { return make_count_by_window(w, s); }, plan::routing::global, false, {},
             s.count());
}

dstream dstream::reduce_by_window(reducer r, std::chrono::milliseconds w, std::chrono::milliseconds s,
                                  std::optional<reducer> inverse) const {
  s = resolve_slide("reduce_by_window", w, s);
  if (graph_->map_side_combine) {
    reducer m = merge_reducer(r);
    return combined("reduce_by_window", [r] { return make_combine_reduce(r); })
        .add("reduce_by_window", [=] { return make_reduce_by_window(m, w, s, inverse); }, plan::routing::global,
             false, {}, s.count());
  }
  return add("reduce_by_window", [=] { return make_reduce_by_window(r, w, s, inverse); }, plan::routing::global,
             false, {}, s.count());
}

dstream dstream::group_by_key_and_window(std::chrono::milliseconds w, std::chrono::milliseconds s) const {
  s = resolve_slide("group_by_key_and_window", w, s);
  return add("group_by_key_and_window", [w, s] { return make_group_by_key_and_window(w, s); },
             plan::routing::keyed, false, {}, s.count());
}

dstream dstream::count_by_value_and_window(std::chrono::milliseconds w, std::chrono::milliseconds s) const {
  s = resolve_slide("count_by_value_and_window", w, s);
  return add("count_by_value_and_window", [w, s] { return make_count_by_value_and_window(w, s); },
             plan::routing::by_record, false, {}, s.count());
}

// --- state

dstream dstream::update_state_by_key(update_state_fn f, update_state_options o) const {
  return add("update_state_by_key", [f, o] { return make_update_state_by_key(f, o); }, plan::routing::keyed, false);
}

dstream dstream::update_state_by_key(update_state_time_fn f, update_state_options o) const {
  return add("update_state_by_key", [f, o] { return make_update_state_by_key(f, o); }, plan::routing::keyed, false);
}

namespace {

// map_with_state's operator emits (0, mapped) and (1, (key, state)); these
// chained nodes split the two streams apart.
flat_map_fn untag(std::int64_t tag) {
  return [tag](const value& v, records& out) {
    auto a = v.as_array();
    if (a[0].as_int() == tag) out.push_back(a[1]);
  };
}

constexpr const char* mapped_name = "map_with_state.mapped";
constexpr const char* snapshots_name = "state_snapshots";

}  // namespace

dstream dstream::map_with_state(map_with_state_fn f, map_with_state_options o) const {
  o.tagged = true;
  auto used = std::make_shared<bool>(false);  // set by state_snapshots() before the run starts
  dstream tagged = add(
      "map_with_state",
      [f, o, used] {
        auto oo = o;
        oo.snapshots = *used;
        return make_map_with_state(f, std::move(oo));
      },
      plan::routing::keyed, false);
  graph_->nodes[static_cast<std::size_t>(tagged.node_)].state_snapshots_used = used;
  return tagged.flat_map(untag(0), mapped_name);
}

dstream dstream::state_snapshots() const {
  const auto& n = graph_->nodes[static_cast<std::size_t>(node_)];
  if (n.name != mapped_name)
    throw pipeline_error("state_snapshots: applies only to the stream returned by map_with_state");
  auto& tagged = graph_->nodes[static_cast<std::size_t>(n.inputs[0])];
  if (tagged.state_snapshots_used) *tagged.state_snapshots_used = true;
  return dstream(graph_, n.inputs[0]).flat_map(untag(1), snapshots_name);
}

// --- two streams

dstream dstream::join(const dstream& other, join_kind kind) const {
  if (other.graph_ != graph_) throw pipeline_error("join: the streams belong to different streaming contexts");
  const char* name = kind == join_kind::inner        ? "join"
                     : kind == join_kind::left_outer ? "left_outer_join"
                     : kind == join_kind::right_outer ? "right_outer_join"
                                                      : "full_outer_join";
  return add(name, [kind] { return make_join(kind); }, plan::routing::keyed, false, {other.node_});
}

dstream dstream::cogroup(const dstream& other) const {
  if (other.graph_ != graph_) throw pipeline_error("cogroup: the streams belong to different streaming contexts");
  return add("cogroup", [] { return make_cogroup(); }, plan::routing::keyed, false, {other.node_});
}

dstream dstream::join_table(records table, join_kind kind) const {
  return add("join_table", [table, kind] { return make_table_join(table, kind); }, plan::routing::keyed, false);
}

void dstream::collect(std::string path) const {
  add("collect", [path] { return io::make_collect_sink(path); }, plan::routing::global, true);
}

dstream dstream::top(std::size_t n, map_fn by) const {
  return add("top", [n, by] { return make_top(n, by); }, plan::routing::global, false);
}

void dstream::print(std::size_t n) const {
  add("print", [n] { return io::make_print_sink(n); }, plan::routing::global, true);
}

void dstream::write_jsonl(std::string path) const {
  add("write_jsonl", [path] { return io::make_jsonl_sink(path); }, plan::routing::global, true);
}

void dstream::for_each_batch(std::function<void(std::int64_t, records&)> fn) const {
  add("for_each_batch", [fn] { return io::make_batch_sink(fn); }, plan::routing::global, true);
}

void dstream::sink(std::string name, std::function<operator_ptr()> make) const {
  add(std::move(name), std::move(make), plan::routing::global, true);
}

void dstream::kafka_out(io::kafka_sink_options o) const {
  add("kafka_out", [o] { return io::make_kafka_sink(o); }, plan::routing::global, true);
}

void dstream::write_postgres(io::postgres_sink_options o) const {
  add("write_postgres", [o] { return io::make_postgres_sink(o); }, plan::routing::global, true);
}

dstream dstream::transform(std::string name, std::function<operator_ptr()> make, routing r) const {
  plan::routing pr = r == routing::keyed    ? plan::routing::keyed
                     : r == routing::global ? plan::routing::global
                                            : plan::routing::chained;
  return add(std::move(name), std::move(make), pr, false);
}

// --- decoders and the bad-record policy

dstream dstream::parse_log(io::log_format fmt, error_policy on_error) const {
  return add("parse_log", [fmt, on_error] { return io::make_log_decoder(fmt, on_error); },
             plan::routing::chained, false);
}

dstream dstream::parse_csv(io::csv_options o, error_policy on_error) const {
  // Stateful across lines (a quoted field may span them, the header is a
  // file's first line): one instance, and a file source it reads from is
  // not split (a split could start inside a quoted field), like Spark's CSV
  // reader with multiLine.
  std::vector<int> todo = {node_};
  std::vector<bool> seen(graph_->nodes.size(), false);
  while (!todo.empty()) {
    const int id = todo.back();
    todo.pop_back();
    if (seen[static_cast<std::size_t>(id)]) continue;
    seen[static_cast<std::size_t>(id)] = true;
    auto& n = graph_->nodes[static_cast<std::size_t>(id)];
    if (n.line_splits) {
      if (n.source_parallelism > 1)
        throw pipeline_error("parse_csv reads " + n.name + "(...) as one instance (a quoted field may span lines, "
                             "so the file cannot be split); it was given parallelism " +
                             std::to_string(n.source_parallelism));
      n.source_parallelism = 1;
    }
    todo.insert(todo.end(), n.inputs.begin(), n.inputs.end());
  }
  return add("parse_csv", [o, on_error] { return io::make_csv_decoder(o, on_error); }, plan::routing::global,
             false);
}

dstream dstream::parse_json(io::json_options o, error_policy on_error) const {
  return add("parse_json", [o, on_error] { return io::make_json_decoder(o, on_error); },
             plan::routing::chained, false);
}

dstream dstream::parse_regex(const std::string& pattern, error_policy on_error) const {
  (void)io::make_regex_decoder(pattern);  // an invalid pattern fails now, not at start
  return add("parse_regex", [pattern, on_error] { return io::make_regex_decoder(pattern, on_error); },
             plan::routing::chained, false);
}

dstream dstream::map(map_fn f, error_policy on_error, std::string name) const {
  if (on_error.action == weir::on_error::fail) return map(std::move(f), std::move(name));
  return add(std::move(name), [f, on_error] { return io::make_guarded_map(f, on_error); },
             plan::routing::chained, false);
}

dstream dstream::flat_map(flat_map_fn f, error_policy on_error, std::string name) const {
  if (on_error.action == weir::on_error::fail) return flat_map(std::move(f), std::move(name));
  return add(std::move(name), [f, on_error] { return io::make_guarded_flat_map(f, on_error); },
             plan::routing::chained, false);
}

dstream dstream::filter(filter_fn f, error_policy on_error, std::string name) const {
  if (on_error.action == weir::on_error::fail) return filter(std::move(f), std::move(name));
  return add(std::move(name), [f, on_error] { return io::make_guarded_filter(f, on_error); },
             plan::routing::chained, false);
}

void dstream::write_text(std::string dir, std::string prefix, std::string suffix) const {
  // chained: one part file per parallel instance of the stage before (Spark: per partition)
  add("write_text", [dir, prefix, suffix] { return io::make_text_files_sink(dir, prefix, suffix); },
      plan::routing::chained, true);
}

void dstream::write_csv(std::string path) const {
  add("write_csv", [path] { return io::make_csv_sink(path); }, plan::routing::global, true);
}

void dstream::to_stdout(io::stdout_format format) const {
  add("stdout", [format] { return io::make_stdout_sink(format); }, plan::routing::global, true);
}

// --- streaming_context ---------------------------------------------------------

struct streaming_context::runtime {
  std::unique_ptr<actors::job> job;
  bool waited = false;
};

streaming_context::streaming_context(context_options opts)
    : opts_(opts), graph_(std::make_shared<plan::logical_graph>()) {
  if (opts_.batch_interval.count() <= 0)
    throw pipeline_error("batch interval must be positive, got " +
                         std::to_string(opts_.batch_interval.count()) + "ms");
  graph_->batch_interval = opts_.batch_interval;
  graph_->map_side_combine = opts_.map_side_combine;
}

streaming_context::~streaming_context() = default;  // job's destructor stops and joins

dstream streaming_context::source(std::string name, std::function<io::source_ptr(int, int)> make_part,
                                  int parallelism) {
  if (parallelism < 0) throw pipeline_error(name + ": parallelism must be >= 1 (or 0: the job's), got " + std::to_string(parallelism));
  plan::node n;
  n.name = std::move(name);
  n.make_source_part = std::move(make_part);
  n.source_parallelism = parallelism;
  int id = graph_->add(std::move(n));
  return dstream(graph_, id);
}

dstream streaming_context::source(std::string name, std::function<io::source_ptr()> make) {
  plan::node n;
  n.name = std::move(name);
  n.make_source = std::move(make);
  int id = graph_->add(std::move(n));
  return dstream(graph_, id);
}

dstream streaming_context::text_file_stream(std::string dir, io::dir_options o, int parallelism) {
  if (parallelism == 1) return source("dir", [dir, o] { return io::make_dir_source(dir, o); });
  return source(
      "dir",
      [dir, o](int i, int n) {
        io::dir_options part = o;
        part.instance = i;
        part.instances = n;
        return io::make_dir_source(dir, part);
      },
      parallelism);
}

dstream streaming_context::socket_text_stream(std::string address, io::socket_options o) {
  io::parse_endpoint(address, false, "socket(\"" + address + "\")");  // syntax errors now
  return source("socket", [address, o] { return io::make_socket_source(address, o); });
}

dstream streaming_context::listen_text_stream(std::string address, io::listen_options o) {
  io::parse_endpoint(address, true, "listen(\"" + address + "\")");
  return source("listen", [address, o] { return io::make_listen_source(address, o); });
}

dstream streaming_context::receiver_stream(std::function<io::receiver_ptr()> make, std::string name) {
  return source(name, [make, name] { return io::make_receiver_source(make, name); });
}

dstream streaming_context::receiver_stream(const std::string& registered_name, std::vector<value> args) {
  io::make_registered_receiver_source(registered_name, args);  // unknown names fail now
  return source(registered_name, [registered_name, args] {
    return io::make_registered_receiver_source(registered_name, args);
  });
}

dstream streaming_context::text_file(std::string path, int parallelism) {
  if (parallelism == 1) return source("file", [path] { return io::make_file_source(path); });
  dstream d = source("file", io::make_file_source_parts(path), parallelism);
  auto& n = graph_->nodes[static_cast<std::size_t>(d.node_)];
  n.line_splits = true;
  n.describe_source = [path](int instances) { return io::describe_file_splits(path, instances); };
  return d;
}

dstream streaming_context::batches(std::string path, std::int64_t total, int partitions) {
  if (partitions < 1) throw pipeline_error("batches: partitions must be >= 1, got " + std::to_string(partitions));
  if (partitions == 1) return source("batches", [path, total] { return io::make_batches_source(path, total); });
  return source(
      "batches", [path, total](int i, int n) { return io::make_batches_source(path, total, i, n); }, partitions);
}

dstream streaming_context::stdin_lines() {
  return source("stdin", [] { return io::make_stdin_source(); });
}

dstream streaming_context::kafka_stream(io::kafka_options o) {
  if (o.commit_interval.count() < 0) o.commit_interval = opts_.batch_interval;
  if (!o.progress) o.progress = std::make_shared<io::kafka_progress>();
  on_success_.push_back([p = o.progress] { p->commit_final(); });
  kafka_progress_.push_back(o.progress);
  if (o.parallelism <= 1) return source("kafka", [o] { return io::make_kafka_source(o); });
  // the partitions spread over `o.parallelism` source instances
  return source(
      "kafka",
      [o](int instance, int parallelism) {
        io::kafka_options part = o;
        part.instance = instance;
        part.parallelism = parallelism;
        return io::make_kafka_source(part);
      },
      o.parallelism);
}

dstream streaming_context::ysb(const io::ysb_options& o, std::shared_ptr<io::ysb_tally> tally, int parallelism) {
  if (parallelism == 1) return source("generate", [o, tally] { return io::make_ysb_generator(o, tally); });
  return source(
      "generate",
      [o, tally](int i, int n) {
        io::ysb_options part = o;
        part.partition = i;
        part.partitions = n;
        part.rate = o.rate / n;
        return io::make_ysb_generator(part, tally);
      },
      parallelism);
}

dstream streaming_context::nexmark(const io::nexmark_options& o, int parallelism) {
  if (parallelism == 1) return source("generate", [o] { return io::make_nexmark_generator(o); });
  return source(
      "generate",
      [o](int i, int n) {
        io::nexmark_options part = o;
        part.partition = i;
        part.partitions = n;
        part.rate = o.rate / n;
        return io::make_nexmark_generator(part);
      },
      parallelism);
}

dstream streaming_context::access_log(io::access_log_options o) {
  return source("generate", [o] { return io::make_access_log_generator(o); });
}

std::string streaming_context::explain(bool dot) const {
  // job's constructor validates the options and plans, exactly as start()
  // does; it spawns nothing (actors and sources come with job::start()).
  actors::job planned(*graph_, opts_);
  const plan::render_options ro{opts_.batch_size, opts_.edge_capacity};
  return dot ? plan::to_dot(*graph_, planned.physical(), ro) : plan::describe(*graph_, planned.physical(), ro);
}

plan::physical_graph streaming_context::physical_plan() const {
  if (rt_ && rt_->job) return rt_->job->physical();
  actors::job planned(*graph_, opts_);
  return planned.physical();
}

void streaming_context::start() {
  if (rt_) throw pipeline_error("the streaming context was already started");
  auto rt = std::make_unique<runtime>();
  rt->job = std::make_unique<actors::job>(*graph_, opts_);
  rt->job->start();
  rt_ = std::move(rt);
}

run_stats streaming_context::await_termination() {
  if (!rt_) throw pipeline_error("the streaming context was not started");
  run_stats stats = rt_->job->wait();
  for (auto& f : on_success_) f();
  return stats;
}

run_stats streaming_context::run() {
  start();
  return await_termination();
}

std::vector<task_metrics> streaming_context::metrics() const {
  if (!rt_ || !rt_->job) return {};
  return rt_->job->metrics();
}

checkpoint_stats streaming_context::checkpoints() const {
  if (!rt_ || !rt_->job) return {};
  return rt_->job->checkpoints();
}

void streaming_context::stop(bool graceful) {
  if (rt_) rt_->job->stop(graceful);
}

}  // namespace weir
