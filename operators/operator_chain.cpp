// weir — the operator chain's drain loop: records, watermarks and timers
// through the chained operators of a task (see operator_chain.hpp).
#include "weir/operators/operator_chain.hpp"

#include <algorithm>

namespace weir {

void operator_chain::add(chain_link link) {
  links_.push_back(std::move(link));
  scratch_.resize(links_.size() + 1);
  wm_scratch_.resize(links_.size() + 1);
  seg_scratch_.resize(links_.size() + 1);
  fwd_wm_.push_back(no_watermark);
  // the buffers may have moved: every operator's watermark output again
  for (std::size_t i = 0; i < links_.size(); ++i) links_[i].ctx.watermarks = &wm_scratch_[i + 1];
}

void operator_chain::run_from(std::size_t i, records& in, int input) {
  if (i == links_.size()) {
    out_->emit(in);
    return;
  }
  if (in.empty()) return;
  auto& l = links_[i];
  if (l.sink) out_->sink_records(in.size());
  if (i == 0)
    l.op->process_input(l.ctx, input, in, scratch_[1]);
  else
    l.op->process(l.ctx, in, scratch_[i + 1]);
  in.clear();
  after(i);
}

void operator_chain::after(std::size_t i) {
  records& out = scratch_[i + 1];
  auto& marks = wm_scratch_[i + 1];
  if (marks.empty()) {
    run_from(i + 1, out);
    return;
  }
  std::vector<watermark_mark> ms;
  ms.swap(marks);
  // Operator i writes nothing more while its output runs through the
  // operators after it, so `out` is handed back with its capacity at the
  // end; segments go through a reused buffer, the whole output (one
  // watermark at its end, the usual case) without a copy.
  records all;
  all.swap(out);
  const std::size_t total = all.size();
  records& seg = seg_scratch_[i + 1];
  std::size_t prev = 0;
  auto run = [&](records& r, std::size_t) { run_from(i + 1, r); };
  for (auto& m : ms) {
    run_range(all, total, prev, std::min<std::size_t>(m.pos, total), seg, run);
    mark(i + 1, m);
  }
  run_range(all, total, prev, total, seg, run);
  all.clear();
  if (out.empty()) out.swap(all);
  ms.clear();
  if (marks.empty()) marks.swap(ms);
}

void operator_chain::watermark(std::size_t j, std::int64_t wm) {
  if (j == links_.size()) {
    out_->emit_watermark(wm, watermark_status::active);
    return;
  }
  if (wm <= fwd_wm_[j]) return;
  fwd_wm_[j] = wm;
  std::int64_t fwd = links_[j].op->on_watermark(wm, scratch_[j + 1]);
  fired_ += scratch_[j + 1].size();
  after(j);
  if (fwd != no_watermark) watermark(j + 1, fwd);
}

void operator_chain::mark(std::size_t j, const watermark_mark& m) {
  if (m.idle())
    out_->emit_watermark(no_watermark, watermark_status::idle);
  else
    watermark(j, m.wm);
}

void operator_chain::processing_time(std::int64_t now_ms) {
  for (std::size_t i = 0; i < links_.size(); ++i) {
    auto& op = *links_[i].op;
    if (op.next_timer().value_or(end_watermark) > now_ms) continue;
    op.on_processing_time(links_[i].ctx, now_ms, scratch_[i + 1]);
    after(i);
  }
}

std::int64_t operator_chain::next_timer() const {
  std::int64_t t = end_watermark;
  for (auto& l : links_) t = std::min(t, l.op->next_timer().value_or(end_watermark));
  return t;
}

std::int64_t operator_chain::drain_horizon(std::int64_t t) const {
  std::int64_t h = t;
  for (auto& l : links_) h = std::max(h, l.op->drain_horizon(t));
  return h;
}

operator_counters operator_chain::counters() const {
  operator_counters c;
  for (auto& l : links_) {
    c.malformed_records += l.op->counters().malformed_records;
    c.late_records += l.op->counters().late_records;
  }
  return c;
}

}  // namespace weir
