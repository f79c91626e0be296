// weir — the public pipeline API: streaming_context and dstream.
//
// Spark Streaming's entry point, for values of the dynamic `weir::value` type
// (the DSL's record type). The `weir` CLI builds every pipeline through this
// API.
//
//   weir::streaming_context ssc({.batch_interval = 1s});
//   ssc.text_file("input.txt")
//      .flat_map([](const value& line, records& out) { ... })
//      .map([](const value& w) { return value::pair(w, 1); })
//      .reduce_by_key(weir::reducer::sum())
//      .print();
//   ssc.run();   // bounded sources: returns after end of stream
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "weir/actors/runtime.hpp"
#include "weir/io/decoders.hpp"
#include "weir/io/sinks.hpp"
#include "weir/io/receiver.hpp"
#include "weir/io/source.hpp"
#include "weir/io/kafka.hpp"
#include "weir/io/postgres.hpp"
#include "weir/io/sources.hpp"
#include "weir/operators/error_policy.hpp"
#include "weir/operators/basic_operators.hpp"
#include "weir/operators/event_time.hpp"
#include "weir/operators/join_operators.hpp"
#include "weir/operators/reducer.hpp"
#include "weir/operators/state_operators.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir {

namespace io {
// The benchmark generators (io/bench_generators.hpp): a program that builds
// their streams includes that header for the options.
struct ysb_options;
struct ysb_tally;
struct nexmark_options;
}  // namespace io

class streaming_context;

/// A stream of values, Spark's DStream. Cheap to copy (a handle into the
/// context's logical graph); each operator call adds a node and returns the
/// new stream. Using one stream twice fans it out.
/// @thread Build pipelines from one thread, before `start()`.
class dstream {
public:
  /// Spark `map`.
  dstream map(map_fn f, std::string name = "map") const;
  /// Spark `flatMap`: f appends zero or more records.
  dstream flat_map(flat_map_fn f, std::string name = "flat_map") const;
  /// Spark `filter`.
  dstream filter(filter_fn f, std::string name = "filter") const;
  /// Spark `count`: one record per batch, the number of records ([0] for an empty batch).
  dstream count() const;
  /// Spark `reduceByKey` on pairs (key, value); keyed, runs `parallelism`
  /// instances routed by xxh3 of the key. Output order within a batch is unspecified.
  /// @errors record_error for a record that is not a pair.
  dstream reduce_by_key(reducer r) const;
  /// Spark `reduceByKeyAndWindow(func, windowDuration, slideDuration)`:
  /// emits at every batch time t that is a multiple of `slide`, the reduction
  /// over batches with time in (t - window, t]; a key absent from the window
  /// is absent from the output. slide = 0 means the batch interval.
  /// @errors pipeline_error if window or slide is not a positive multiple of the batch interval.
  dstream reduce_by_key_and_window(reducer r, std::chrono::milliseconds window,
                                   std::chrono::milliseconds slide = {}) const;
  /// Per batch, the n records with the largest `by(record)`, in descending
  /// order (ties: the smaller record first). Spark `transform(_.top(n))`.
  dstream top(std::size_t n, map_fn by) const;

  // --- Spark DStream operations (see the operator factories for exact semantics)

  dstream map_values(map_fn f) const;                 ///< Spark `mapValues`
  dstream flat_map_values(flat_map_fn f) const;       ///< Spark `flatMapValues`
  dstream glom() const;                               ///< Spark `glom`
  dstream distinct() const;                           ///< Spark `transform(_.distinct())`
  dstream sample(double fraction, std::uint64_t seed) const;  ///< Spark `sample(false, f, seed)`
  /// Spark `union`: this stream and `others` (all with the same slide).
  /// @errors pipeline_error if the slides differ.
  dstream union_with(const std::vector<dstream>& others) const;
  dstream count_by_value() const;                     ///< Spark `countByValue`
  dstream reduce(reducer r) const;                    ///< Spark `reduce`
  dstream group_by_key() const;                       ///< Spark `groupByKey`
  dstream combine_by_key(map_fn create, binary_fn merge_value, binary_fn merge_combiners) const;
  dstream sort_by(map_fn key, bool ascending = true) const;  ///< Spark `transform(_.sortBy(…))`

  // Windows: window and slide must be multiples of the batch interval (and of
  // this stream's slide); slide 0 = this stream's slide.
  // @errors pipeline_error otherwise, naming the operator.
  dstream window(std::chrono::milliseconds window, std::chrono::milliseconds slide = {}) const;
  dstream count_by_window(std::chrono::milliseconds window, std::chrono::milliseconds slide = {}) const;
  dstream reduce_by_window(reducer r, std::chrono::milliseconds window,
                           std::chrono::milliseconds slide = {},
                           std::optional<reducer> inverse = std::nullopt) const;
  /// With an inverse and optional filter (Spark's incremental form).
  dstream reduce_by_key_and_window(reducer r, std::chrono::milliseconds window,
                                   std::chrono::milliseconds slide, std::optional<reducer> inverse,
                                   filter_fn filter = {}) const;
  dstream group_by_key_and_window(std::chrono::milliseconds window,
                                  std::chrono::milliseconds slide = {}) const;
  dstream count_by_value_and_window(std::chrono::milliseconds window,
                                    std::chrono::milliseconds slide = {}) const;

  // State
  /// Spark `updateStateByKey(updateFunc, partitioner, initialRDD)`: f(values,
  /// state) for every key in the state and in the batch, the whole state
  /// emitted every batch; `o.initial` is the state before the first batch.
  dstream update_state_by_key(update_state_fn f, update_state_options o = {}) const;
  /// The same with Spark's time-aware `(Time, K, Seq[V], Option[S]) => Option[S]`:
  /// f(batch time in ms, key, values, state).
  dstream update_state_by_key(update_state_time_fn f, update_state_options o = {}) const;
  /// Spark `mapWithState`; `o.tagged` is set by the API.
  dstream map_with_state(map_with_state_fn f, map_with_state_options o = {}) const;
  /// Spark `stateSnapshots()`: on a stream returned by map_with_state, the
  /// (key, state) pairs of the whole state, every batch.
  /// @errors pipeline_error on any other stream.
  dstream state_snapshots() const;

  // Two streams, same batch time only. @errors pipeline_error if the slides differ.
  dstream join(const dstream& other, join_kind kind = join_kind::inner) const;
  dstream left_outer_join(const dstream& other) const { return join(other, join_kind::left_outer); }
  dstream right_outer_join(const dstream& other) const { return join(other, join_kind::right_outer); }
  dstream full_outer_join(const dstream& other) const { return join(other, join_kind::full_outer); }
  dstream cogroup(const dstream& other) const;
  /// Join with a static table of (k, w) pairs (Spark `transform(_.join(table))`).
  dstream join_table(records table, join_kind kind = join_kind::inner) const;

  // Event time (docs/architecture.md §5)
  /// Gives the stream event time and a watermark (Flink
  /// `assignTimestampsAndWatermarks` with bounded out-of-orderness, Spark
  /// `withWatermark`): records pass unchanged, the watermark max event time −
  /// `o.delay` flows in-band. Chained: one watermark per upstream instance
  /// (= source partition). @errors pipeline_error for a negative delay.
  dstream with_watermark(watermark_options o) const;
  /// Event-time (or, without `o.time`, processing-time) window aggregation
  /// (Flink `keyBy(key).window(w).aggregate(agg)`, Structured Streaming
  /// `groupBy(window(...), key).agg(...)`). With `key`, records go to
  /// `parallelism` instances by hash of key(record); without, one instance
  /// sees the whole stream. Output: objects {start, end, key, value}, or
  /// with `o.aggs` {start, end, key, <name>: value, ...}; see event_time.hpp
  /// for firing, lateness and output modes.
  /// @errors pipeline_error for invalid window sizes or lateness.
  dstream aggregate(event_window_options o, extract_fn key = {}) const;

  /// Slide of this stream, ms (Spark `slideDuration`).
  std::chrono::milliseconds slide() const;

  /// Sink: one JSON line per batch, also for empty ones:
  /// {"time": <ms>, "records": [...]} (the deterministic-test sink).
  void collect(std::string path) const;

  /// Sink: Spark `print(n)` layout to stdout.
  void print(std::size_t n = 10) const;
  /// Sink: one JSON object per record, {"time": ms, "record": value}.
  void write_jsonl(std::string path) const;
  /// Sink: Spark `foreachRDD`; fn(batch time ms, records of the batch).
  void for_each_batch(std::function<void(std::int64_t, records&)> fn) const;
  /// Sink from a custom operator factory (one instance; parallelism 1).
  void sink(std::string name, std::function<operator_ptr()> make) const;
  /// Sink: each record to a Kafka topic (io::make_kafka_sink: a string as its
  /// bytes, other values as JSON text; key from `o.key`), flushed at every
  /// batch end. At-least-once. @errors pipeline_error at start for
  /// unreachable brokers or an unknown topic; during the run for a failed delivery.
  void kafka_out(io::kafka_sink_options o) const;
  /// Sink: rows of a PostgreSQL table (io::make_postgres_sink): an object's
  /// fields as columns, appended with COPY, or upserted by `o.key`; the table
  /// created from the first record when missing (`o.create`). One instance.
  /// Without checkpoints at-least-once; with checkpoints exactly-once (rows
  /// staged in a weir-owned table, each epoch moved into the target in one
  /// transaction with its number in `weir_sink_epochs`).
  /// @errors pipeline_error at start for an unreachable server (within
  ///         `o.timeout`) or a missing table with create = false; during
  ///         the run for a failed statement or a row under on_error = fail.
  void write_postgres(io::postgres_sink_options o) const;

  // --- decoders (io/decoders.hpp) and the bad-record policy (docs/architecture.md §9).
  // `on_error`: fail (default) stops the pipeline with the record's provenance
  // and the reason; skip drops and counts it (run_stats::malformed_records);
  // io::dead_letter_policy(path) also writes it to a dead-letter file.

  /// Apache access-log lines → objects (io::parse_access_log). Stateless, chained.
  dstream parse_log(io::log_format fmt, error_policy on_error = {}) const;
  /// CSV lines → records, quoted fields spanning lines (RFC 4180). One
  /// instance (global), chained right after a line source; see io::make_csv_decoder.
  dstream parse_csv(io::csv_options o = {}, error_policy on_error = {}) const;
  /// JSON documents (one per record) → values, or only some paths (simdjson On-Demand).
  dstream parse_json(io::json_options o = {}, error_policy on_error = {}) const;
  /// Lines → objects of the pattern's named groups (RE2 syntax, io/regex.hpp; linear time).
  /// @errors pipeline_error for an invalid pattern or one without named groups.
  dstream parse_regex(const std::string& pattern, error_policy on_error = {}) const;
  /// map / flat_map / filter whose record errors follow `on_error` (io/guarded.hpp).
  dstream map(map_fn f, error_policy on_error, std::string name = "map") const;
  dstream flat_map(flat_map_fn f, error_policy on_error, std::string name = "flat_map") const;
  dstream filter(filter_fn f, error_policy on_error, std::string name = "filter") const;

  /// Sink: Spark `saveAsTextFiles(prefix, suffix)` layout: per batch a folder
  /// `dir/prefix-<batch time ms>.suffix` (`prefix-<ms>` if suffix is empty),
  /// in it one file `part-NNNNN` per parallel instance of the stream (the
  /// sink is chained into the stage before it), one record per line in
  /// Spark's text form (value::to_text). See io::make_text_files_sink.
  void write_text(std::string dir, std::string prefix = "out", std::string suffix = "txt") const;
  /// Sink: one CSV file (RFC 4180 quoting); see io::make_csv_sink.
  void write_csv(std::string path) const;
  /// Sink: one line per record to standard output (io::make_stdout_sink).
  void to_stdout(io::stdout_format format = io::stdout_format::jsonl) const;

  /// Adds a custom operator. `keyed`: records are pairs routed by key;
  /// `global`: a single instance sees the whole stream; neither: chained.
  enum class routing { chained, keyed, global };
  dstream transform(std::string name, std::function<operator_ptr()> make, routing r) const;

private:
  friend class streaming_context;
  dstream add(std::string name, std::function<operator_ptr()> make, plan::routing r, bool sink,
              std::vector<int> extra_inputs = {}, std::int64_t slide_ms = 0) const;
  /// The chained map-side combine node `name`.combine before an aggregation.
  dstream combined(std::string name, std::function<operator_ptr()> combine) const;
  std::chrono::milliseconds resolve_slide(const char* op, std::chrono::milliseconds window,
                                          std::chrono::milliseconds slide) const;
  dstream(std::shared_ptr<plan::logical_graph> g, int node) : graph_(std::move(g)), node_(node) {}
  std::shared_ptr<plan::logical_graph> graph_;
  int node_ = -1;
};

/// Spark's StreamingContext: owns the logical graph and, once started, the
/// actor system that runs it. The destructor stops the run and joins.
/// @thread Not thread-safe except `stop()`, which may be called from any thread.
class streaming_context {
public:
  explicit streaming_context(context_options opts = {});
  ~streaming_context();
  streaming_context(const streaming_context&) = delete;
  streaming_context& operator=(const streaming_context&) = delete;

  const context_options& options() const noexcept { return opts_; }

  /// Spark `textFileStream` for a single file (or a glob): its lines.
  /// `parallelism` 1 (the default): one source instance reads the file(s)
  /// in order. P > 1, or 0 for the job's parallelism: P instances each read
  /// byte-range splits of the files, about the same number of bytes each
  /// (Spark's `textFile` partitions, Flink's FileSource splits; see
  /// io::make_file_source_parts), and run the stateless operators chained
  /// after the source; the order of lines across instances is not kept. A
  /// parse_csv behind such a source makes it one instance (a quoted field
  /// may span lines).
  /// @errors pipeline_error for parallelism < 0; at start for a file that
  ///         cannot be opened.
  dstream text_file(std::string path, int parallelism = 1);
  /// Lines of standard input.
  dstream stdin_lines();
  /// The built-in web-access-log generator (see io::access_log_options).
  dstream access_log(io::access_log_options opts = {});
  /// The Yahoo Streaming Benchmark event generator (io::make_ysb_generator,
  /// io/bench_generators.hpp): JSON text lines, or with `o.binary` tuples of
  /// ints; one source instance (partition `o.partition` of `o.partitions`).
  /// `tally`, if given, receives the views per (campaign, 10 s window) the
  /// generator emitted.
  /// With `parallelism` P > 1 (0: the job's parallelism), P instances
  /// each emit partition i of P (events i ≡ p mod P; the same multiset of
  /// events as one instance) at o.rate / P each; o.partition/partitions are
  /// then set per instance.
  dstream ysb(const io::ysb_options& o, std::shared_ptr<io::ysb_tally> tally = nullptr, int parallelism = 1);
  /// The NEXMark event generator (io::make_nexmark_generator,
  /// io/bench_generators.hpp): person, auction and bid objects in the
  /// proportion 1 : 3 : 46. `parallelism` as for ysb().
  dstream nexmark(const io::nexmark_options& o, int parallelism = 1);
  /// Spark's deterministic replay (`queueStream` on a manual clock): a
  /// JSON-lines file, one line = one batch's elements (a JSON array), one batch
  /// per batch interval on a logical clock, as fast as possible; after the
  /// last line, empty batches until `total` batches have run (total 0 = as
  /// many as lines). With `partitions` P > 1, P source instances each read
  /// one partition of every batch, the way Spark's makeRDD slices a sequence
  /// (partition i holds items [i·n/P, (i+1)·n/P)), visible to glom() and
  /// the operators chained after the source.
  /// @errors pipeline_error at start for a missing file or a malformed line
  /// (file:line:column); for partitions < 1 at once.
  dstream batches(std::string path, std::int64_t total = 0, int partitions = 1);
  /// A custom receiver; `make` is called once when the run starts.
  dstream source(std::string name, std::function<io::source_ptr()> make);
  /// A partitioned source of `parallelism` instances: make(i, parallelism)
  /// builds instance i (e.g. a share of Kafka's partitions). Each instance
  /// keeps its own watermark; downstream takes the minimum. `parallelism` 0:
  /// as many instances as the job's parallelism (context_options).
  /// @errors pipeline_error for parallelism < 0.
  dstream source(std::string name, std::function<io::source_ptr(int instance, int parallelism)> make,
                 int parallelism);
  /// Kafka topics, Spark's direct approach (KafkaUtils.createDirectStream;
  /// see io::kafka_reader): explicit partition assignment, offsets kept by
  /// weir. A negative `o.commit_interval` becomes the batch interval. Offsets
  /// are committed periodically (records read more than one batch interval
  /// ago) and, after await_termination() succeeds, the final ones (so a
  /// bounded run with until_end commits exactly the partition ends). Set
  /// `o.progress` to observe offsets, commits and pauses; one is made if unset.
  /// The runtime runs one source instance, which reads every partition.
  /// @errors pipeline_error at start (unknown topic, unreachable brokers, bad options).
  dstream kafka_stream(io::kafka_options o);

  // --- receivers (see io/sources.hpp and io/receiver.hpp) ---------

  /// Spark `textFileStream(dir)`: lines of the files that appear in `dir`
  /// after start, each read once, in order of arrival; runs until stop().
  /// @errors pipeline_error at start if `dir` is not a readable directory.
  /// `parallelism` P > 1 (0: the job's parallelism): P instances, each
  /// reading the files whose name hashes to it (io::dir_options::instance).
  dstream text_file_stream(std::string dir, io::dir_options o = {}, int parallelism = 1);
  /// Spark `socketTextStream`: connects to "host:port" and yields its lines
  /// (reconnect policy: io::socket_options).
  /// @errors pipeline_error now for a bad address ("expected host:port"); at
  ///         start for an unknown host; at run time when the first connection fails.
  dstream socket_text_stream(std::string address, io::socket_options o = {});
  /// A TCP server on ":port" / "host:port": the lines of every connection.
  /// @errors pipeline_error now for a bad address; at start when the address
  ///         cannot be bound ("Address already in use").
  dstream listen_text_stream(std::string address, io::listen_options o = {});
  /// Spark `receiverStream(receiver)`: a custom receiver (io::receiver);
  /// `make` runs when the run starts.
  dstream receiver_stream(std::function<io::receiver_ptr()> make, std::string name = "receiver");
  /// A receiver registered with register_receiver(name, factory), made with `args`.
  /// @errors pipeline_error now for an unregistered name.
  dstream receiver_stream(const std::string& registered_name, std::vector<value> args);

  /// The physical plan that start() would run, without running anything (no
  /// source is opened, no actor spawned): stages with their chained operators
  /// and parallel instances, edges with their kind (forward, hash(key),
  /// hash(record), gather), channels and capacity. Text (plan::describe), or
  /// with `dot` a Graphviz DOT digraph (plan::to_dot). `weir explain` prints it.
  /// @errors pipeline_error for an invalid graph (no sink, a stream no sink
  ///         consumes) or invalid options, as start() would.
  std::string explain(bool dot = false) const;
  /// The same plan as data: stages (chains of node names, parallel
  /// instances) and edges, in the order metrics() lists tasks (each stage's
  /// instances in order). Nothing runs. @errors as explain().
  plan::physical_graph physical_plan() const;

  /// Builds the actors and starts the sources.
  /// @errors pipeline_error for an invalid graph (no sink, bad window) or a
  ///         source that cannot open.
  void start();
  /// Blocks until every sink has seen end of stream, or a failure.
  /// @errors pipeline_error with the failing operator and reason.
  run_stats await_termination();
  /// start() + await_termination().
  run_stats run();
  /// Spark `stop(stopGracefully)`. Graceful (default): asks the sources to end
  /// their streams; everything in flight drains and sinks flush. Not
  /// graceful: the actors are killed at once, records in flight are dropped,
  /// sinks do not flush, and await_termination() returns the statistics of
  /// the tasks that finished (possibly none). Safe from any thread and from
  /// signal-handling threads.
  void stop(bool graceful = true);

  /// Live metrics of every task (actor) of the running job, in stage order:
  /// records in/out, backpressured time, queue depth and capacity, malformed
  /// and late records, watermark. Empty before start().
  /// @thread Safe from any thread once start() has returned.
  std::vector<task_metrics> metrics() const;

  /// Checkpoint counters so far (see weir::checkpoint_stats); zeros before
  /// start() or without checkpoint options. @thread Safe from any thread.
  checkpoint_stats checkpoints() const;

  /// The progress objects (read offsets, commits, pauses) of the context's
  /// Kafka streams, in the order kafka_stream() was called (for metrics).
  /// @thread The vector: build thread, before start(); each kafka_progress is thread-safe.
  const std::vector<std::shared_ptr<io::kafka_progress>>& kafka_sources() const noexcept {
    return kafka_progress_;
  }

private:
  struct runtime;
  context_options opts_;
  std::shared_ptr<plan::logical_graph> graph_;
  std::unique_ptr<runtime> rt_;
  /// Run after await_termination() succeeds (kafka: commit the final offsets).
  std::vector<std::function<void()>> on_success_;
  /// The Kafka streams' progress (kafka_sources()).
  std::vector<std::shared_ptr<io::kafka_progress>> kafka_progress_;
};

// Custom receivers (io/receiver.hpp) in the public namespace: derive from
// weir::receiver, register with weir::register_receiver("name", factory).
using io::receiver;
using io::receiver_factory;
using io::receiver_ptr;
using io::register_receiver;

}  // namespace weir
