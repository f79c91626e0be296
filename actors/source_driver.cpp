// weir — the source driver: reads, batch clock, pauses, end of stream (see source_driver.hpp).
#include "weir/actors/source_driver.hpp"

#include <algorithm>

#include "weir/actors/task.hpp"

namespace weir::actors {

void source_driver::schedule(task& t) {
  if (scheduled_) return;
  scheduled_ = true;
  t.host().wake(task_host::wakeup::tick, steady::duration::zero());
}

void source_driver::step(task& t) {
  scheduled_ = false;
  if (t.inputs_done()) return;
  if (t.blocked()) {
    if (!waiting_credit_) {
      waiting_credit_ = true;
      blocked_since_ = steady::now();
    }
    return;
  }
  if (t.restored_finished()) {
    t.finish_stream(t.eos_drain());
    return;
  }
  const std::int64_t b = t.options().batch_interval.count();
  const bool logical = source_->logical_clock();
  while (!logical && elapsed_ms() >= next_mark_) {
    t.fire_batch_end(next_mark_);
    next_mark_ += b;
  }
  if (stop_requested_) {
    end(t);
    return;
  }
  records& buf = t.chain().input_buffer();
  buf.clear();
  const std::int64_t ingest = steady_ns();
  auto res = source_->read(buf, t.options().batch_size);
  live_metrics& live = *t.live();
  if (!buf.empty()) {
    add(live.records_in, buf.size());
    add(live.batches_in, 1);
    read_any_ = true;
  }
  const io::input_progress pr = source_->progress();  // one virtual call per read, not per record
  live.input_done.store(pr.done, relaxed);
  live.input_total.store(pr.total, relaxed);
  t.ingest(buf, ingest);
  if (res.bytes_full) t.flush_output();  // a wire batch holds about read_bytes_bound bytes of lines at most
  switch (res.st) {
    case io::read_result::status::more: schedule(t); break;
    case io::read_result::status::idle: {
      auto until_mark = std::chrono::milliseconds(std::max<std::int64_t>(0, next_mark_ - elapsed_ms()));
      auto wait = std::min<steady::duration>(res.retry_after, until_mark);
      if (wait <= steady::duration::zero()) {
        schedule(t);
      } else {
        scheduled_ = true;
        t.host().wake(task_host::wakeup::tick, wait);
      }
      break;
    }
    case io::read_result::status::end: end(t); break;
    case io::read_result::status::batch_end:
      t.fire_batch_end(next_mark_);
      next_mark_ += b;
      schedule(t);
      break;
  }
}

void source_driver::end(task& t) {
  if (source_->logical_clock()) {
    // every batch was ended by the source; the run ends with its last one
    t.finish_stream(false);
    return;
  }
  // an instance that ends before its first batch end without a record (a
  // file split instance with nothing to read) is idle: it holds back no
  // watermark downstream while its end of stream waits for the batch end
  // (Flink marks a source subtask without splits idle)
  if (!read_any_ && t.last_mark() == 0) t.emit_watermark(no_watermark, watermark_status::idle);
  // the batch being read ends now, without waiting for the clock
  t.fire_batch_end(next_mark_);
  next_mark_ += t.options().batch_interval.count();
  t.finish_stream(true);
}

void source_driver::stop(task& t) {
  stop_requested_ = true;
  if (!waiting_credit_) schedule(t);
}

void source_driver::resume(task& t) {
  if (!waiting_credit_) return;
  waiting_credit_ = false;
  const auto now = steady::now();
  backpressure_s_ += std::chrono::duration<double>(now - blocked_since_).count();
  t.live()->backpressured_ns.fetch_add(
      std::chrono::duration_cast<std::chrono::nanoseconds>(now - blocked_since_).count(), relaxed);
  schedule(t);
}

bool source_driver::trigger(std::int64_t last_mark, std::uint64_t id, std::int64_t at) {
  if (at != 0 && !source_->logical_clock() && last_mark >= at) return false;  // past the agreed batch end
  cp_pending_ = id;
  cp_at_ = at;
  return true;
}

std::uint64_t source_driver::barrier_after(std::int64_t t, bool at_output_slide) {
  if (cp_pending_ == 0 || !at_output_slide || !(cp_at_ == 0 || source_->logical_clock() || t >= cp_at_)) return 0;
  const std::uint64_t id = cp_pending_;
  cp_pending_ = 0;
  return id;
}

void source_driver::close(bool quiet) {
  if (!source_) return;
  if (!quiet) {
    source_->close();
    return;
  }
  try {
    source_->close();
  } catch (...) {
  }
}

}  // namespace weir::actors
