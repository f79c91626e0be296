// weir — Kafka receiver and sink through librdkafka's C API (CAF-free).
//
// The receiver is Spark's "direct approach" (KafkaUtils.createDirectStream):
// no receiver thread and no write-ahead log. Each source instance is assigned
// (rd_kafka_assign, no consumer-group rebalancing) a fixed share of the
// topics' partitions and reads from explicit per-partition offsets that weir
// keeps itself (offsets()), so that checkpoints can store and
// restore them. This header does not include <librdkafka/rdkafka.h>.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "weir/io/source.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir::io {

/// Where a partition starts when the source opens.
enum class kafka_start {
  earliest,   ///< the partition's low watermark (oldest retained message)
  latest,     ///< the partition's high watermark at open: only messages produced later
  committed,  ///< the group's committed offset; the low watermark when there is none
};

/// One partition's position: the offset of the next message to read
/// (Kafka's committed-offset convention: last processed + 1).
struct kafka_partition_offset {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t next_offset = 0;
  friend bool operator==(const kafka_partition_offset&, const kafka_partition_offset&) = default;
};

/// Progress shared by the source instances of one kafka stream and the
/// streaming_context that runs them: read positions, commits, pauses.
/// @thread All members are thread-safe.
class kafka_progress {
public:
  kafka_progress();
  ~kafka_progress();  ///< closes consumers left by close() without committing
  kafka_progress(const kafka_progress&) = delete;
  kafka_progress& operator=(const kafka_progress&) = delete;

  /// Next offsets read, every partition of every instance, sorted by topic, partition.
  std::vector<kafka_partition_offset> offsets() const;
  /// Each partition's high watermark (the offset after its last message) as
  /// last seen in the consumer's fetch responses (next_offset holds it), sorted;
  /// lag = high watermark − next offset read. Partitions not fetched yet are absent.
  std::vector<kafka_partition_offset> high_watermarks() const;
  /// Offsets weir last committed to the group (periodic and final commits), sorted.
  std::vector<kafka_partition_offset> committed() const;
  std::uint64_t records() const;  ///< records read, all instances
  std::uint64_t pauses() const;   ///< times a consumer paused its partitions for backpressure
  std::uint64_t resumes() const;  ///< times it resumed them
  std::uint64_t commits() const;  ///< successful commit requests

  /// After a successful run: commits every closed instance's final offsets
  /// and closes its consumer. streaming_context calls it when
  /// await_termination() succeeds; after a failure the consumers are closed
  /// without this commit (at-least-once: the next run re-reads).
  /// @errors pipeline_error naming the group and the broker error.
  void commit_final();

  /// Internal: the source instances report here.
  struct impl;
  impl& state() noexcept { return *impl_; }

private:
  std::unique_ptr<impl> impl_;
};

/// Options of `kafka(topics, brokers = ..., group = ..., start = ..., ...)`.
struct kafka_options {
  std::vector<std::string> topics;            ///< one or more topics (all must exist)
  std::string brokers = "localhost:9092";     ///< bootstrap.servers, "host:port,host:port"
  std::string group = "weir";                 ///< group.id the offsets are committed under
  kafka_start start = kafka_start::latest;    ///< Structured Streaming's startingOffsets default
  /// Records are objects {topic, partition, offset, key, value, timestamp (ms
  /// since the epoch, the message's CreateTime/LogAppendTime)} instead of the
  /// message value as a string. key is null for a message without a key.
  bool metadata = false;
  /// Bounded input: stop at each partition's high watermark as of open()
  /// (messages produced later are not read); the stream ends when every
  /// assigned partition reached it.
  bool until_end = false;
  /// Share of the partitions: this instance reads the partitions whose index
  /// in (topic order, partition order) is ≡ instance (mod parallelism).
  int instance = 0;
  int parallelism = 1;
  /// Periodic commit: at each interval end, the offsets of the records read
  /// before the previous interval end are committed (0 = only the final
  /// commit). Negative: streaming_context::kafka_stream sets the batch
  /// interval (a reader used directly takes 1 s).
  std::chrono::milliseconds commit_interval{-1};
  /// Bound for reaching the brokers and reading metadata/watermarks at open.
  std::chrono::milliseconds timeout{10000};
  /// Backpressure: when read() has not been called for this long (the source
  /// has no credit), the consumer pauses its partitions (librdkafka stops
  /// fetching); the next read() resumes them at weir's offsets. A resume costs
  /// about 1 s before data flows again (librdkafka 2.0.2, measured), so only
  /// a stall this long pauses; shorter credit gaps are bounded by the
  /// prefetch limits below.
  std::chrono::milliseconds pause_after{1000};
  /// librdkafka's prefetch bounds (queued.max.messages.kbytes, queued.min.messages):
  /// memory held by the consumer stays below about this much while running.
  std::size_t prefetch_kbytes = 4096;
  std::size_t prefetch_messages = 10000;
  /// Extra librdkafka properties (name, value), applied last.
  std::vector<std::pair<std::string, std::string>> config;
  /// Where the instances report progress (optional; streaming_context sets one).
  std::shared_ptr<kafka_progress> progress;
};

/// Parses "earliest" | "latest" | "committed". @errors pipeline_error naming the option.
kafka_start parse_kafka_start(const std::string& s);

/// The Kafka receiver (one instance). read() never blocks: it drains what
/// librdkafka has prefetched (rd_kafka_consume_batch_queue, timeout 0).
/// Guarantee: at-least-once — offsets are committed only after the records
/// were read at least one commit interval earlier (periodic) or after a
/// successful run (final); checkpoints will own the offsets.
/// @errors open() throws pipeline_error (one line naming the option, topic
///         or brokers) for an unknown topic, unreachable brokers within
///         `timeout`, bad options; read() for a partition error (e.g. offset
///         out of range: never silently skips).
/// @thread read/open/close from one thread at a time; a helper thread owned
///         by the reader only pauses partitions (thread-safe librdkafka calls).
class kafka_reader final : public source_reader {
public:
  explicit kafka_reader(kafka_options opts);
  ~kafka_reader() override;
  void open() override;
  read_result read(records& out, std::size_t max) override;
  void close() override;
  const record_origin* origin() const override;
  std::string describe() const override;

  /// Checkpoints: the position is the next offset of every assigned
  /// partition (and, with until_end, the end offsets fixed at the first
  /// open). restore_position (after open) re-assigns the partitions at those
  /// offsets; @errors pipeline_error when this instance's partition set
  /// differs from the checkpoint's (topics, partition count or parallelism
  /// changed) or for a corrupt position.
  bool replayable() const override;
  void snapshot_position(state_writer& w) const override;
  void restore_position(state_reader& r) override;
  std::string describe_position() const override;  ///< "kafka(\"t\"): t/0@12, t/1@9"
  /// Commits the offsets of the last snapshot_position to the group with
  /// rd_kafka_commit (asynchronous; for lag monitoring only — weir resumes
  /// from the checkpoint, not from the group). From then on the periodic
  /// commits stop: checkpoints drive the commits. Assumes at most one
  /// checkpoint in flight (the coordinator's rule).
  void notify_checkpoint_complete(std::uint64_t checkpoint_id) override;

  /// Next offset per assigned partition (this instance), sorted.
  std::vector<kafka_partition_offset> offsets() const;
  bool paused() const;             ///< partitions currently paused for backpressure
  std::uint64_t pauses() const;    ///< pauses so far
  /// Messages librdkafka holds prefetched for this consumer (rd_kafka_queue_length).
  std::size_t prefetched() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

source_ptr make_kafka_source(kafka_options opts);

/// Options of `kafka_out(topic, brokers = ..., key = expr)`.
struct kafka_sink_options {
  std::string topic;
  std::string brokers = "localhost:9092";
  /// Message key from the record (string → its bytes, other values → JSON
  /// text, null → no key); empty = no key (librdkafka's partitioner spreads).
  std::function<value(const value&)> key;
  /// Bound for open (metadata) and for each flush (message.timeout.ms).
  std::chrono::milliseconds timeout{30000};
  std::vector<std::pair<std::string, std::string>> config;  ///< extra librdkafka properties
  /// transactional.id of a checkpointed run's producer; empty =
  /// "weir-<topic>-<instance>". Must be stable across restarts of the job
  /// and unique among running producers.
  std::string transactional_id;
};

/// The Kafka sink: one message per record, value = the record's bytes for a
/// string, its JSON text otherwise. Flushed at every batch end and at end of
/// stream; a delivery error fails the pipeline ("kafka_out(\"t\"): delivery
/// failed for 3 records: <broker error>"). Guarantee without checkpoints:
/// at-least-once (a restart may produce again what was delivered).
///
/// With checkpoints (operator_context::checkpointing): two-phase commit with
/// Kafka transactions, one per epoch (the output between two checkpoint
/// barriers). Nothing is produced before the epoch's checkpoint completes:
/// the epoch's messages are held in memory and written into the checkpoint
/// (memory and checkpoint size: the encoded key and value bytes of every
/// message of the epochs not yet committed, about one checkpoint interval
/// of output, plus 2–4 bytes per message), then produced and committed in a
/// transaction by notify_checkpoint_complete (or by restore_state after a
/// crash). Each transaction also commits offset <checkpoint id> of
/// partition (topic, 0) for the group "weir-sink-<transactional.id>"
/// (send_offsets_to_transaction); restore reads it back and skips epochs
/// already committed. Guarantee on a real Kafka broker (transactions need
/// Kafka >= 0.11 and a replication factor the transaction log accepts):
/// exactly-once for read_committed consumers, provided checkpoint ids are
/// never reused; after a fallback to an older checkpoint (newest one
/// corrupt), epochs of the lost checkpoints already committed in Kafka
/// cannot be taken back (duplicates). On librdkafka 2.0.2's mock cluster
/// the guarantee is at-least-once: it accepts the transactional requests
/// but does not store TxnOffsetCommit offsets (restore finds no marker and
/// produces again the epochs of the restored checkpoint that had already
/// been committed) and its Fetch ignores isolation.level (read_committed
/// consumers also see aborted messages).
/// @errors pipeline_error "kafka_out(\"t\"): cannot commit the transaction of
///         checkpoint N: <librdkafka error>" (the transaction is aborted when
///         it must be).
/// @errors open() throws pipeline_error for unreachable brokers or an unknown topic.
operator_ptr make_kafka_sink(kafka_sink_options opts);

}  // namespace weir::io
