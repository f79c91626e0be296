// weir — a task's logic: input handling, batch ends, watermarks, barriers,
// snapshots and the end of stream (see task.hpp).
#include "weir/actors/task.hpp"

#include <algorithm>

#include "weir/checkpoint/checkpoint.hpp"
#include "weir/operators/log.hpp"

namespace weir::actors {

task::task(task_identity who, const context_options& opts, bool checkpointing)
    : who_(std::move(who)), opts_(opts), out_(opts.batch_size), checkpointing_(checkpointing) {
  chain_.set_output(this);
  src_.set_next_mark(opts.batch_interval.count());
}

void task::set_slides(std::vector<std::int64_t> in, std::int64_t out) {
  in_slide_ = std::move(in);
  out_slide_ = out;
}

void task::chain_complete() {
  for (auto& l : chain_.links())
    if (l.sink && !report_.latency) report_.latency = std::make_shared<latency_histogram>();
}

void task::restore(const runtime_state& s, bool finished) {
  last_mark_ = s.last_mark;
  src_.set_next_mark(s.next_mark);
  in_.restore_combined(s.in_wm, s.in_idle);
  live_->watermark.store(s.out_wm, relaxed);
  eos_drain_ = s.eos_drain;
  chain_.delivered_watermarks() = s.delivered;
  for (std::size_t i = 0; i < s.channels.size(); ++i) {
    auto& c = in_.channel(i);
    c.wm = s.channels[i].first;
    c.status = s.channels[i].second ? watermark_status::idle : watermark_status::active;
  }
  restored_finished_ = finished;
}

// --- output ---------------------------------------------------------------------

void task::emit(records& out) {
  if (out.empty()) return;
  if (!out_.empty()) add(live_->records_out, out.size());
  out_.emit(out, cur_ingest_);
}

void task::emit_watermark(std::int64_t wm, watermark_status st) {
  if (st == watermark_status::active && wm > live_->watermark.load(relaxed)) live_->watermark.store(wm, relaxed);
  out_.emit_watermark(wm, st);
}

void task::sink_records(std::size_t n) {
  report_.sink_records += n;
  add(live_->sink_records, n);
  if (report_.latency) report_.latency->add(steady_ns() - cur_ingest_, n);
}

void task::flush_building() {
  linger_pending_ = false;
  out_.flush_building(cur_ingest_);
}

void task::after_activation() {
  {  // counters other threads read
    std::uint64_t malformed = src_ ? src_.source()->malformed_records() : 0;
    const operator_counters c = chain_.counters();
    live_->malformed.store(malformed + c.malformed_records, relaxed);
    live_->late.store(c.late_records, relaxed);
    live_->queue_depth.store(in_.queued(), relaxed);
  }
  // record mode: partly filled wire batches go now (linger 0) or after the
  // linger bound, like Kafka's linger.ms
  if (opts_.mode == execution_mode::record && out_.pending()) {
    if (opts_.linger.count() <= 0) {
      flush_building();
    } else if (!linger_pending_) {
      linger_pending_ = true;
      host_->wake(task_host::wakeup::linger, opts_.linger);
    }
  }
  // the earliest processing-time timer of the chain's operators
  const std::int64_t t = chain_.next_timer();
  if (t < timer_at_) {
    timer_at_ = t;
    host_->wake(task_host::wakeup::timer, std::chrono::milliseconds(std::max<std::int64_t>(0, t - wall_ms())));
  }
}

void task::on_timer() {
  timer_at_ = end_watermark;
  if (inputs_done_) return;
  cur_ingest_ = steady_ns();
  chain_.processing_time(wall_ms());
}

// --- batch ends and the end of stream --------------------------------------------

void task::ingest(records& recs, std::int64_t ingest_ns) {
  cur_ingest_ = ingest_ns;
  report_.source_records += recs.size();
  if (!recs.empty()) chain_.run(recs);
}

// Batch t is complete. Operators whose input stream has a slide that does
// not divide t (behind a window) see no batch end at t, and downstream
// stages see none either.
void task::fire_batch_end(std::int64_t t) {
  last_mark_ = t;
  fired_at_mark_ = chain_.fired_records();
  std::size_t n = 0;
  while (n < chain_.size() && t % in_slide_[n] == 0) ++n;
  chain_.batch_end(t, n, [&] { ++report_.batches; });
  const bool at_slide = t % out_slide_ == 0;
  if (at_slide) out_.emit_signal(item_kind::mark, t, cur_ingest_);
  // a source's barrier follows a batch end (docs/architecture.md §6: in
  // micro-batch mode the barrier coincides with a batch boundary), the same
  // one on every source, so that multi-input tasks can align barriers and
  // batch ends together
  if (src_)
    if (std::uint64_t id = src_.barrier_after(t, at_slide)) checkpoint_here(id);
}

// All input seen: keep ending logical batches until every operator has
// emitted what it holds (unless the run is on a logical clock), flush, and
// send end of stream.
void task::finish_stream(bool drain) {
  if (restored_finished_) {  // its output was produced before the checkpoint
    out_.emit_signal(item_kind::eos, eos_drain_ ? 1 : 0, cur_ingest_);
    inputs_done_ = true;
    maybe_complete();
    return;
  }
  eos_drain_ = drain;
  // bounded input: every event-time window fires (Flink's final MAX watermark)
  cur_ingest_ = steady_ns();
  const std::uint64_t fired_before = chain_.fired_records();
  chain_.watermark(0, end_watermark);
  const std::int64_t b = opts_.batch_interval.count();
  std::int64_t t = last_mark_;
  if (chain_.fired_records() != fired_before || (drain && chain_.fired_records() != fired_at_mark_)) {
    // the windows the final watermark closed (or, on the wall clock, the
    // end of one of several inputs did after the last batch end) belong to one more batch, so
    // that batch operators after them (count, top, collect, ...) see them
    // (docs/architecture.md §5); downstream tasks get its batch end too
    t += b;
    fire_batch_end(t);
  }
  for (; drain;) {
    const std::int64_t h = chain_.drain_horizon(t);
    if (h <= t) break;
    while (t < h) {
      t += b;
      fire_batch_end(t);
    }
  }
  chain_.end_of_stream();
  out_.emit_signal(item_kind::eos, drain ? 1 : 0, cur_ingest_);
  inputs_done_ = true;
  maybe_complete();
}

void task::maybe_complete() {
  if (!inputs_done_ || reported_ || blocked()) return;
  reported_ = true;
  const operator_counters c = chain_.counters();
  report_.malformed_records += c.malformed_records;
  report_.late_records += c.late_records;
  report_.backpressure_s = src_.backpressure_s();
  if (src_) report_.malformed_records += src_.source()->malformed_records();
  if (checkpointing_) report_.final_state = take_task_snapshot_timed(final_checkpoint_id, true);
  live_->malformed.store(report_.malformed_records, relaxed);
  live_->late.store(report_.late_records, relaxed);
  live_->queue_depth.store(0, relaxed);
  live_->done.store(true, relaxed);
  if (src_) src_.close(false);
  host_->finished(report_);
}

void task::commit_final() {
  for (auto& l : chain_.links()) l.op->notify_checkpoint_complete(final_checkpoint_id);
  if (src_) src_.source()->notify_checkpoint_complete(final_checkpoint_id);
}

// --- checkpoints ----------------------------------------------------------------

std::string task::encode_runtime() const {
  runtime_state s;
  s.last_mark = last_mark_;
  // a source snapshots inside fire_batch_end(t), before its driver moves
  // next_mark past t: the batch to fire after a restore is the one after t
  s.next_mark = std::max(src_.next_mark(), last_mark_ + opts_.batch_interval.count());
  s.in_wm = in_.combined();
  s.in_idle = in_.combined_idle();
  s.out_wm = live_->watermark.load(relaxed);
  s.eos_drain = eos_drain_;
  s.delivered = chain_.delivered_watermarks();
  for (auto& c : in_.channels()) s.channels.emplace_back(c.wm, c.idle());
  return encode_runtime_state(s);
}

snapshot_ptr task::take_task_snapshot_timed(std::uint64_t id, bool finished) {
  const std::int64_t t0 = steady_ns();
  struct timed {
    live_metrics& l;
    std::int64_t t0;
    ~timed() { l.snapshot_ns.fetch_add(steady_ns() - t0, relaxed); }
  } timer{*live_, t0};
  return take_task_snapshot(who_, id, finished, encode_runtime(), src_.source(), chain_, buffers_);
}

// Every record and signal before barrier `id` is processed and none after
// it: snapshot, acknowledge to the coordinator, forward the barrier.
void task::checkpoint_here(std::uint64_t id) {
  snapshot_ptr snap;
  try {
    snap = take_task_snapshot_timed(id, false);
  } catch (const std::exception& e) {
    // e.g. a sink could not pre-commit (disk full): the checkpoint fails, the run goes on
    log_message(log_level::warning, who_.name + ": checkpoint " + std::to_string(id) + " failed: " + e.what());
    aligner_.cancel(in_, id, abort_reason::snapshot_failed);
    host_->decline(id, abort_reason::snapshot_failed);
    return;
  }
  host_->ack(id, std::move(snap));
  out_.emit_signal(item_kind::barrier, static_cast<std::int64_t>(id), cur_ingest_);
}

void task::check_barrier() {
  if (inputs_done_) return;
  const alignment a = aligner_.check(in_);
  if (a.k == alignment::kind::aligned) {
    checkpoint_here(a.id);
  } else if (a.k == alignment::kind::aborted) {
    log_message(log_level::warning,
                who_.name + ": checkpoint " + std::to_string(a.id) + " aborted: " + describe(a.reason));
    host_->decline(a.id, a.reason);
  }
}

void task::on_trigger(std::uint64_t id, std::int64_t at) {
  if (inputs_done_ || !src_) return;
  if (!src_.trigger(last_mark_, id, at)) host_->decline(id, abort_reason::source_passed);
}

void task::on_abort(std::uint64_t id, abort_reason why) {
  src_.cancel(id);
  if (aligner_.cancel(in_, id, why)) pump();
}

void task::on_complete(std::uint64_t id) {
  for (auto& l : chain_.links()) l.op->notify_checkpoint_complete(id);
  if (src_) src_.source()->notify_checkpoint_complete(id);
}

// --- inputs ---------------------------------------------------------------------

void task::on_item(std::size_t ch, item it) {
  in_.push(ch, std::move(it));
  pump();
}

void task::check_alignment() {
  if (auto t = in_.aligned_batch_end()) fire_batch_end(*t);
}

void task::pump() {
  std::size_t ch = 0;
  item it;
  while (!inputs_done_ && !blocked() && in_.next(ch, it)) {
    in_channel& c = in_.channel(ch);
    switch (it.kind) {
      case item_kind::data:
        host_->return_credit(ch);
        consume(c, *it.data);
        break;
      case item_kind::mark:
        cur_ingest_ = steady_ns();
        in_.mark(ch, it.time);
        check_alignment();
        check_barrier();
        break;
      case item_kind::barrier:
        if (aligner_.on_barrier(in_, ch, static_cast<std::uint64_t>(it.time))) check_barrier();
        break;
      case item_kind::eos:
        in_.end(ch, it.time != 0);
        cur_ingest_ = steady_ns();
        combine_watermarks();
        if (in_.all_ended()) {
          finish_stream(in_.all_drained());
        } else {
          check_alignment();
          check_barrier();
        }
        break;
    }
    it.data.reset();
  }
  if (!inputs_done_ && blocked() && in_.queued() > 0 && !held_) {
    held_ = true;
    held_since_ = steady::now();
  }
}

// A wire batch from channel c: its records in order, each watermark taking
// effect at its position (min over the live, non-idle inputs).
void task::consume(in_channel& c, wire_batch& b) {
  cur_ingest_ = b.ingest_ns;
  add(live_->records_in, b.recs.size());
  add(live_->batches_in, 1);
  if (!b.recs.empty()) c.status = watermark_status::active;
  // the routing hashes of a keyed edge go to the first operator with its records
  const bool hashed = !b.key_hashes.empty() && !chain_.empty() && b.key_hashes.size() == b.recs.size();
  process_context* first = chain_.empty() ? nullptr : &chain_[0].ctx;
  struct reset_hashes {  // the pointer is valid during this batch only
    process_context* ctx;
    ~reset_hashes() {
      if (ctx) ctx->key_hashes = nullptr;
    }
  } reset{hashed ? first : nullptr};
  auto hashes_from = [&](std::size_t pos) {
    if (hashed) first->key_hashes = b.key_hashes.data() + pos;
  };
  if (b.marks.empty()) {
    hashes_from(0);
    chain_.run(b.recs, c.input);
    return;
  }
  // b.recs is consumed when it runs whole (run clears it): positions use `total`
  const std::size_t total = b.recs.size();
  std::size_t prev = 0;
  auto run = [&](records& r, std::size_t from) {
    hashes_from(from);
    chain_.run(r, c.input);
  };
  for (auto& m : b.marks) {
    const std::size_t end = std::min<std::size_t>(m.pos, total);
    if (end > prev) c.status = watermark_status::active;
    operator_chain::run_range(b.recs, total, prev, end, in_seg_, run);
    if (m.idle()) {
      c.status = watermark_status::idle;
    } else {
      c.status = watermark_status::active;
      c.wm = std::max(c.wm, m.wm);
    }
    combine_watermarks();
  }
  operator_chain::run_range(b.recs, total, prev, total, in_seg_, run);
}

void task::combine_watermarks() {
  const watermark_update u = in_.combine();
  if (u.k == watermark_update::kind::idle)
    emit_watermark(no_watermark, watermark_status::idle);  // the idle status passes through to the outputs
  else if (u.k == watermark_update::kind::advance)
    chain_.watermark(0, u.wm);
}

void task::on_credit(std::size_t edge, std::size_t chan, std::int32_t n) {
  out_.on_credit(edge, chan, n);
  if (blocked()) return;
  if (held_) {
    held_ = false;
    live_->backpressured_ns.fetch_add(
        std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - held_since_).count(), relaxed);
  }
  if (inputs_done_) {
    maybe_complete();
    return;
  }
  if (src_)
    src_.resume(*this);
  else
    pump();
}

}  // namespace weir::actors
