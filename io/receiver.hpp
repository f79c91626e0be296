// weir — custom receivers from C++ (Spark Streaming's `Receiver`), and the
// registry that lets the DSL name them: `receiver("name", args...)`.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "weir/io/source.hpp"

namespace weir::io {

/// A custom receiver, Spark's `Receiver[T]`: `on_start()` starts the
/// receiver's own thread(s), which call `store(record)` / `store(records)`;
/// `on_stop()` stops and joins them.
///
///   class numbers final : public weir::receiver {
///     std::thread t_;
///     void on_start() override {
///       t_ = std::thread([this] {
///         for (int i = 0; i < 1000 && store(weir::value(i)); ++i) {}
///         finish();  // end of stream (a bounded receiver)
///       });
///     }
///     void on_stop() override { if (t_.joinable()) t_.join(); }
///     std::string describe() const override { return "numbers"; }
///   };
///
/// Records pass through a bounded buffer of `buffer_records` records: store()
/// blocks while it is full — backpressure reaches the receiver's thread, as a
/// full TCP window reaches a socket sender (Spark's receivers instead rely on
/// a rate limiter). The runtime drains the buffer only while it has credit.
///
/// Lifecycle: on_start() once when the run starts (must not block: start a
/// thread and return); on_stop() once when the run ends, is stopped, or
/// fails — after is_stopped() became true and every blocked store() returned
/// false. The stream ends when the receiver calls finish() (and the buffer is
/// drained), fails when it calls report_error(), and otherwise runs until the
/// context is stopped.
/// @thread store(), finish(), report_error() and is_stopped() are safe from
///         any thread; on_start()/on_stop() are called from the runtime.
class receiver {
public:
  explicit receiver(std::size_t buffer_records = 8192);
  virtual ~receiver();
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;

  /// Start receiving (Spark `onStart`): start a thread and return at once.
  /// @errors may throw; the run fails to start with the message.
  virtual void on_start() = 0;
  /// Stop receiving (Spark `onStop`): stop and join the threads on_start made.
  virtual void on_stop() = 0;
  /// A name for errors and plans, e.g. `numbers(1000)`.
  virtual std::string describe() const { return "receiver"; }

  /// Adds one record; blocks while the buffer is full. Returns false (and
  /// drops nothing that was accepted before) once the receiver is stopped.
  bool store(value record);
  /// Adds several records, in order; blocks until all fit. Returns false if
  /// the receiver was stopped before all were added (the rest is not stored).
  bool store(records batch);
  /// The receiver has no more data (Spark: `stop("done")`): the stream ends
  /// once the buffered records are processed. store() after finish() returns false.
  void finish();
  /// The receiver failed (Spark `reportError` + `stop`): the pipeline fails
  /// with "<describe()>: <message>".
  void report_error(std::string message);
  /// True once the run is stopping (the receiver thread should return).
  bool is_stopped() const;

  // --- checkpoints (opt-in; docs/architecture.md §6) -----------------------------------------
  //
  // A receiver that can re-deliver its input from a position (a replayable
  // upstream: a log, a queue with offsets) overrides these; otherwise the
  // run's guarantee for its records is at-most-once for what was in flight
  // at a crash. Positions count records delivered to the pipeline, not
  // records stored: records still in the buffer at a checkpoint are not
  // covered by it and must be stored again after a restore.

  /// True when the receiver can resume after its first `delivered` records.
  /// A replayable receiver's on_start() runs at the first read, after a
  /// restore if there is one (not in open()).
  virtual bool replayable() const { return false; }
  /// Writes what the receiver needs to continue after record `delivered`
  /// (1-based count over the run, as in its provenance). Called from the
  /// runtime while the receiver's thread may be running.
  virtual void snapshot_position(std::uint64_t /*delivered*/, state_writer& /*w*/) const {}
  /// Before on_start(): the next store() must be record `delivered` + 1.
  /// @errors pipeline_error when it cannot (corrupt position: state_reader throws).
  virtual void restore_position(std::uint64_t /*delivered*/, state_reader& /*r*/) {}
  /// Checkpoint `checkpoint_id` completed (e.g. acknowledge upstream).
  virtual void notify_checkpoint_complete(std::uint64_t /*checkpoint_id*/) {}

  struct shared;  ///< the buffer and flags (receiver.cpp)

private:
  friend class receiver_adapter;
  std::unique_ptr<shared> sh_;
};

using receiver_ptr = std::unique_ptr<receiver>;

/// The source_reader that drains a receiver's buffer: `make` runs at open()
/// (when the run starts), then on_start(); close() calls on_stop(). `name`
/// names the source until the receiver exists (then its describe()).
/// Provenance: "<describe()> record N" (1-based, over the whole run).
source_ptr make_receiver_source(std::function<receiver_ptr()> make, std::string name = "receiver");

/// Makes a registered receiver from the DSL's arguments: `receiver("numbers",
/// 1000)` → factory({1000}). The factory checks its arguments and throws
/// pipeline_error with a one-line message for bad ones.
using receiver_factory = std::function<receiver_ptr(const std::vector<value>& args)>;

/// Registers `factory` under `name` (a DSL identifier: letters, digits, `_`)
/// for `receiver("name", ...)` in the DSL and
/// `streaming_context::receiver_stream("name", args)`.
/// @errors pipeline_error for a bad or already registered name.
/// @thread Safe from any thread (a mutex guards the registry).
void register_receiver(const std::string& name, receiver_factory factory);

/// Names registered so far, sorted.
std::vector<std::string> registered_receivers();

/// The factory registered under `name`, or nullptr.
receiver_factory find_receiver(const std::string& name);

/// A registered receiver as a source; the factory runs with `args` at open().
/// @errors pipeline_error now for an unknown name: "unknown receiver \"x\"
///         (registered: a, b; register it with weir::register_receiver)".
source_ptr make_registered_receiver_source(const std::string& name, std::vector<value> args);

}  // namespace weir::io
