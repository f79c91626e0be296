// weir — the input gate: queues, alignment of batch ends, watermark
// combination (see input_gate.hpp).
#include "weir/actors/input_gate.hpp"

#include <algorithm>

namespace weir::actors {

std::size_t input_gate::add_channel(int input) {
  chans_.emplace_back();
  chans_.back().input = input;
  return chans_.size() - 1;
}

void input_gate::push(std::size_t ch, item it) {
  chans_.at(ch).queue.push_back(std::move(it));
  ++queued_;
}

bool input_gate::next(std::size_t& ch, item& it) {
  const std::size_t n = chans_.size();
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t ci = (rr_ + k) % n;
    in_channel& c = chans_[ci];
    if (c.queue.empty() || c.marked || c.eos || c.barrier) continue;
    rr_ = (ci + 1) % n;
    it = std::move(c.queue.front());
    c.queue.pop_front();
    --queued_;
    ch = ci;
    return true;
  }
  return false;
}

void input_gate::mark(std::size_t ch, std::int64_t t) {
  chans_[ch].marked = true;
  chans_[ch].mark_time = t;
}

std::optional<std::int64_t> input_gate::aligned_batch_end() {
  bool any_live = false;
  std::int64_t t = 0;
  for (auto& c : chans_) {
    if (c.eos) continue;
    if (!c.marked) return std::nullopt;
    any_live = true;
    t = c.mark_time;
  }
  if (!any_live) return std::nullopt;
  for (auto& c : chans_) c.marked = false;
  return t;
}

void input_gate::end(std::size_t ch, bool drain) {
  chans_[ch].eos = true;
  chans_[ch].drain = drain;
}

bool input_gate::all_ended() const {
  return std::all_of(chans_.begin(), chans_.end(), [](auto& c) { return c.eos; });
}

bool input_gate::all_drained() const {
  return std::all_of(chans_.begin(), chans_.end(), [](auto& c) { return c.drain; });
}

void input_gate::watermark(std::size_t ch, std::int64_t wm) {
  auto& c = chans_[ch];
  c.status = watermark_status::active;
  c.wm = std::max(c.wm, wm);
}

watermark_update input_gate::combine() {
  std::int64_t wm = end_watermark;
  bool any = false, all_idle = true;
  for (auto& c : chans_) {
    if (c.eos) continue;
    any = true;
    if (c.idle()) continue;
    all_idle = false;
    wm = std::min(wm, c.wm);
  }
  if (any && all_idle) {
    if (idle_) return {};
    idle_ = true;
    return {watermark_update::kind::idle, no_watermark};
  }
  idle_ = false;
  if (!any) return {};
  if (wm > wm_) {
    wm_ = wm;
    return {watermark_update::kind::advance, wm};
  }
  return {};
}

}  // namespace weir::actors
