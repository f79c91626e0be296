#include "weir/api/dstream.hpp"


#include "weir/actors/graph.hpp"
#include "weir/io/sinks.hpp"
#include "weir/operators/window_operators.hpp"

namespace weir {

// --- dstream -------------------------------------------------------------------

dstream dstream::add(std::string name, std::function<operator_ptr()> make, plan::routing r,
                     bool sink) const {
  plan::node n;
  n.name = std::move(name);
  n.inputs = {node_};
  n.make_operator = std::move(make);
  n.route = r;
  n.sink = sink;
  int id = graph_->add(std::move(n));
  return dstream(graph_, id);
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

dstream dstream::count() const {
  return add("count", [] { return make_count(); }, plan::routing::global, false);
}

dstream dstream::reduce_by_key(reducer r) const {
  return add("reduce_by_key", [r] { return make_reduce_by_key(r); }, plan::routing::keyed, false);
}

dstream dstream::reduce_by_key_and_window(reducer r, std::chrono::milliseconds window,
                                          std::chrono::milliseconds slide) const {
  if (slide.count() == 0) slide = graph_->batch_interval;
  check_window("reduce_by_key_and_window", window, slide, graph_->batch_interval);
  return add("reduce_by_key_and_window",
             [r, window, slide] { return make_reduce_by_key_and_window(r, window, slide); },
             plan::routing::keyed, false);
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

dstream dstream::transform(std::string name, std::function<operator_ptr()> make, routing r) const {
  plan::routing pr = r == routing::keyed    ? plan::routing::keyed
                     : r == routing::global ? plan::routing::global
                                            : plan::routing::chained;
  return add(std::move(name), std::move(make), pr, false);
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
}

streaming_context::~streaming_context() = default;  // job's destructor stops and joins

dstream streaming_context::source(std::string name, std::function<io::source_ptr()> make) {
  plan::node n;
  n.name = std::move(name);
  n.make_source = std::move(make);
  int id = graph_->add(std::move(n));
  return dstream(graph_, id);
}

dstream streaming_context::text_file(std::string path) {
  return source("file", [path] { return io::make_file_source(path); });
}

dstream streaming_context::stdin_lines() {
  return source("stdin", [] { return io::make_stdin_source(); });
}

dstream streaming_context::access_log(io::access_log_options o) {
  return source("generate", [o] { return io::make_access_log_generator(o); });
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
  return rt_->job->wait();
}

run_stats streaming_context::run() {
  start();
  return await_termination();
}

void streaming_context::stop() {
  if (rt_) rt_->job->stop();
}

}  // namespace weir
