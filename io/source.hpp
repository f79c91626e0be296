// weir — the receiver (source) interface (CAF-free).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "weir/operators/snapshot.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir::io {

/// Outcome of one `source_reader::read` call.
struct read_result {
  enum class status {
    more,  ///< records were appended (maybe fewer than asked); call again
    idle,  ///< nothing available now; call again after `retry_after`
    end,   ///< the source is exhausted (bounded source): end of stream
    batch_end,  ///< logical clock: the records so far complete the current batch; end it now
  };
  status st = status::more;
  std::chrono::nanoseconds retry_after{0};  ///< only for idle
  /// The read stopped early at the source's byte bound (about
  /// `read_bytes_bound` bytes of record text, e.g. a few lines of 200 KB):
  /// the runtime sends the wire batches being built right after processing
  /// these records, so that a source wire batch holds at most batch_size
  /// records or about that many bytes of lines, whichever comes first.
  bool bytes_full = false;
};

/// The byte bound of one read of a line source (file, stdin, dir): a read
/// returns at most `max` records and stops after the line that reaches
/// this many bytes of line text (1 MiB; at least one line per read).
inline constexpr std::size_t read_bytes_bound = std::size_t{1} << 20;

/// How far a bounded input has been read: `done` of `total` units (bytes of a
/// file); total 0 = unknown or unbounded.
struct input_progress {
  std::uint64_t done = 0;
  std::uint64_t total = 0;
};

/// A source of records, pulled by its source actor only while the actor has
/// credit (so a reader without credit is simply not called: backpressure).
/// Implementations must never block for long in `read`: return `idle` instead.
/// @thread Called from one actor at a time; never concurrently.
class source_reader {
public:
  virtual ~source_reader() = default;

  /// Opens the input. @errors throws pipeline_error with a one-line message
  /// (e.g. "file(\"x.txt\"): cannot open: No such file or directory").
  virtual void open() {}

  /// Appends up to `max` records to `out`. Records appended on a call that
  /// returns `end` or `idle` are processed too.
  /// @errors throws record_error / pipeline_error on unreadable input.
  virtual read_result read(records& out, std::size_t max) = 0;

  /// Releases the input; called once, also after a failure.
  virtual void close() {}

  /// True for a source on a logical clock (deterministic replay, Spark's
  /// ManualClock in tests): batches end only when read() returns batch_end,
  /// never by the wall clock, and the run ends with the source's last batch —
  /// windows are not drained beyond it.
  virtual bool logical_clock() const { return false; }

  /// Provenance of the records appended by the last read() (record i of that
  /// read → e.g. "input.txt:12"), or nullptr when the source cannot tell. The
  /// runtime hands it to the first operator after the source (a decoder names
  /// the line of a malformed record with it).
  virtual const record_origin* origin() const { return nullptr; }

  /// How much of a bounded input has been read (the dashboard's progress
  /// bar, `weir_source_input_*` metrics). Asked by the source's task after
  /// each read; default: unknown.
  virtual input_progress progress() const { return {}; }

  /// Records the source itself dropped as malformed (e.g. a partial line at a
  /// disconnect); summed into `malformed_records`. Called from the source's actor.
  virtual std::uint64_t malformed_records() const { return 0; }

  // --- checkpoints (docs/architecture.md §6) ---------------------------------------------

  /// True when the source can resume from a recorded position (file, dir,
  /// Kafka, generators). A source that cannot (socket, stdin) makes the
  /// run's guarantee at-most-once for the records in flight at a crash.
  virtual bool replayable() const { return false; }

  /// Writes the position after the records returned by read() so far (file
  /// offset and line, Kafka offsets per partition, generator sequence...).
  /// @errors pipeline_error when the position cannot be taken.
  virtual void snapshot_position(state_writer& /*w*/) const {}

  /// After open(): continue after the position written by snapshot_position
  /// (the records before it are not read again).
  /// @errors pipeline_error for a corrupt position or when the input can no
  ///         longer be positioned there (file shorter than the offset...).
  virtual void restore_position(state_reader& /*r*/) {}

  /// One line for `weir checkpoints inspect`, e.g. "apache_logs: line 4719,
  /// byte 812345"; taken at the same time as snapshot_position.
  virtual std::string describe_position() const { return {}; }

  /// Checkpoint `checkpoint_id` completed (e.g. Kafka commits its offsets to
  /// the broker, for lag monitoring only: weir's own offsets are in the checkpoint).
  virtual void notify_checkpoint_complete(std::uint64_t /*checkpoint_id*/) {}

  /// Human-readable name for errors and plans, e.g. `file("input.txt")`.
  virtual std::string describe() const = 0;
};

using source_ptr = std::unique_ptr<source_reader>;

}  // namespace weir::io
