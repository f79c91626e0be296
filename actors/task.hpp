// weir — a task: one parallel instance of a stage, the logic its actor runs
// (docs/architecture.md §3-§6). Composes the input gate (queues, batch-end
// alignment, watermark combination), the barrier aligner, the operator
// chain, the output gate (credit, wire batches) and the source driver, and
// takes the task's snapshots. CAF-free: it talks to its actor through a
// task_host (actors/task_actor.cpp) and can be driven without threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "weir/actors/barrier_aligner.hpp"
#include "weir/actors/input_gate.hpp"
#include "weir/actors/live_metrics.hpp"
#include "weir/actors/output_gate.hpp"
#include "weir/actors/protocol.hpp"
#include "weir/actors/source_driver.hpp"
#include "weir/actors/task_snapshot.hpp"
#include "weir/api/options.hpp"
#include "weir/operators/operator_chain.hpp"

namespace weir::actors {

/// What a task asks of the actor that runs it. Sends are asynchronous
/// messages; the wake-ups arrive later as on_tick / on_linger / on_timer.
class task_host : public channel_sender {
public:
  /// Returns one credit on input channel `ch` to its sender.
  virtual void return_credit(std::size_t ch) = 0;
  enum class wakeup : std::uint8_t { tick, linger, timer };
  /// Calls back after `delay` (a tick with zero delay: as the next message).
  virtual void wake(wakeup w, steady::duration delay) = 0;
  /// To the checkpoint coordinator: the snapshot for checkpoint `id`.
  virtual void ack(std::uint64_t id, snapshot_ptr snap) = 0;
  /// To the checkpoint coordinator: this task aborts checkpoint `id`.
  virtual void decline(std::uint64_t id, abort_reason why) = 0;
  /// The task has finished: its report to the job (and its final state to
  /// the coordinator); the actor quits.
  virtual void finished(task_report report) = 0;
};

/// One task.
/// @thread Single-threaded: its actor's; live() is read from any thread.
class task final : public chain_output {
public:
  task(task_identity who, const context_options& opts, bool checkpointing);

  // --- building (the job, before the task runs) ------------------------------
  operator_chain& chain() noexcept { return chain_; }
  output_gate& output() noexcept { return out_; }
  input_gate& input() noexcept { return in_; }
  source_driver& source() noexcept { return src_; }
  const source_driver& source() const noexcept { return src_; }
  /// The slide of each chain operator's input stream and of the stage's
  /// output stream, ms (Spark's slideDuration): an operator sees batch ends
  /// only at multiples of its input's slide.
  void set_slides(std::vector<std::int64_t> in, std::int64_t out);
  /// Resumes from a checkpoint's runtime state (`finished`: a final state;
  /// the task then only passes the end of stream on).
  void restore(const runtime_state& s, bool finished);
  void set_host(task_host* h) noexcept {
    host_ = h;
    out_.set_sender(h);
  }
  /// Called once the chain is complete: sinks keep a latency histogram.
  void chain_complete();

  const task_identity& identity() const noexcept { return who_; }
  const std::string& name() const noexcept { return who_.name; }
  std::int64_t last_mark() const noexcept { return last_mark_; }
  const std::shared_ptr<live_metrics>& live() const noexcept { return live_; }
  /// The task reported (finished or failed): it handles nothing more.
  bool reported() const noexcept { return reported_; }
  void set_failed() noexcept { reported_ = true; }

  // --- messages ---------------------------------------------------------------
  void on_start() { src_.start(*this); }
  void on_tick() { src_.step(*this); }
  void on_linger() { flush_building(); }
  void on_timer();
  void on_stop() { src_.stop(*this); }
  /// An item on input channel `ch` (data, batch end, barrier, end of stream).
  void on_item(std::size_t ch, item it);
  void on_credit(std::size_t edge, std::size_t chan, std::int32_t n);
  /// The coordinator triggers checkpoint `id` on a source: its barrier
  /// follows the batch end at `at` ms (0 = the next one).
  void on_trigger(std::uint64_t id, std::int64_t at);
  void on_abort(std::uint64_t id, abort_reason why);
  void on_complete(std::uint64_t id);
  void on_recycle(snapshot_ptr snap) { buffers_.recycled = std::move(snap); }
  /// After every message handled: publishes counters, lingers or flushes
  /// (record mode), schedules the operators' processing-time timers.
  void after_activation();
  /// The run ended with the final checkpoint: operators and source commit
  /// (notify_checkpoint_complete(final_checkpoint_id)). Called by the job
  /// once the task's actor is gone.
  void commit_final();

  // --- chain_output -------------------------------------------------------------
  void emit(records& out) override;
  void emit_watermark(std::int64_t wm, watermark_status st) override;
  void sink_records(std::size_t n) override;

  // --- used by the source driver ----------------------------------------------
  bool blocked() const { return out_.blocked(); }
  bool inputs_done() const noexcept { return inputs_done_; }
  bool restored_finished() const noexcept { return restored_finished_; }
  bool eos_drain() const noexcept { return eos_drain_; }
  task_host& host() noexcept { return *host_; }
  const context_options& options() const noexcept { return opts_; }
  /// Records read by the source at ingestion time `ingest_ns`, through the chain.
  void ingest(records& recs, std::int64_t ingest_ns);
  /// Batch t is complete (see task.cpp).
  void fire_batch_end(std::int64_t t);
  /// All input seen: drains, flushes, sends end of stream.
  void finish_stream(bool drain);
  /// Sends the wire batches being built now (a source read stopped by bytes).
  void flush_output() { flush_building(); }

private:
  void pump();
  void consume(in_channel& c, wire_batch& b);
  void combine_watermarks();
  void check_alignment();
  void check_barrier();
  void checkpoint_here(std::uint64_t id);
  void flush_building();
  void maybe_complete();
  std::string encode_runtime() const;
  /// The task's snapshot, its time added to live().snapshot_ns.
  snapshot_ptr take_task_snapshot_timed(std::uint64_t id, bool finished);

  task_identity who_;
  context_options opts_;
  task_host* host_ = nullptr;
  operator_chain chain_;
  input_gate in_;
  barrier_aligner aligner_;
  output_gate out_;
  source_driver src_;
  std::vector<std::int64_t> in_slide_;  ///< slide of each chain operator's input stream, ms
  std::int64_t out_slide_ = 0;          ///< slide of the stage's output stream, ms

  std::int64_t last_mark_ = 0;          ///< last batch end fired
  std::uint64_t fired_at_mark_ = 0;     ///< chain_.fired_records() at the last batch end
  bool inputs_done_ = false;            ///< end of stream processed, eos queued downstream
  bool reported_ = false;
  task_report report_;
  records in_seg_;                      ///< consume(): the segment of a wire batch between two watermarks, reused
  std::int64_t cur_ingest_ = 0;         ///< ingestion time of the data being processed (steady ns)
  bool linger_pending_ = false;         ///< record mode: a flush is scheduled
  std::int64_t timer_at_ = end_watermark;  ///< scheduled processing-time timer (ms since epoch)
  std::shared_ptr<live_metrics> live_ = std::make_shared<live_metrics>();
  bool held_ = false;                   ///< holding input for want of credit (non-source)
  steady::time_point held_since_{};

  // checkpoints (docs/architecture.md §6)
  bool checkpointing_ = false;
  bool restored_finished_ = false;      ///< restored from a final state: only passes end of stream on
  bool eos_drain_ = true;               ///< the drain flag of the end of stream it sent
  snapshot_buffers buffers_;
};

}  // namespace weir::actors
