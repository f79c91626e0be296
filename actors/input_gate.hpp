// weir — a task's input gate: its input channels and their queues, the
// round-robin choice of the next item, batch-end alignment across inputs
// (Spark: a multi-input stage processes batch t once every input ended it),
// end of stream per channel, and the combination of the channels'
// watermarks (Flink: the minimum over the inputs, an idle input excluded).
// CAF-free; the receiving side of the credit protocol is the task's (it
// returns a credit per consumed wire batch).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "weir/actors/protocol.hpp"

namespace weir::actors {

/// One input channel (one sender instance).
struct in_channel {
  int input = 0;  ///< which input of the first chain operator it feeds
  std::deque<item> queue;
  bool marked = false;  ///< delivered the current batch end; held until all inputs have
  std::int64_t mark_time = 0;
  bool eos = false;
  bool drain = true;    ///< with eos: whether the sender drained (wall-clock run)
  std::int64_t wm = no_watermark;  ///< the channel's watermark, ms
  watermark_status status = watermark_status::active;  ///< idle: the sender's input went idle
  bool barrier = false;  ///< delivered the barrier being aligned; held until all inputs have (barrier_aligner)
  bool idle() const noexcept { return status == watermark_status::idle; }
};

/// The result of combining the channels' watermarks.
struct watermark_update {
  enum class kind : std::uint8_t {
    none,     ///< nothing new for the operators
    advance,  ///< the combined watermark advanced to `wm`
    idle,     ///< every live input went idle: the idle status passes on
  };
  kind k = kind::none;
  std::int64_t wm = no_watermark;
  bool operator==(const watermark_update&) const = default;
};

/// A task's input channels.
/// @thread Single-threaded (the task's).
class input_gate {
public:
  /// Adds a channel feeding input `input` of the first operator; returns its index.
  std::size_t add_channel(int input);
  std::size_t size() const noexcept { return chans_.size(); }
  in_channel& channel(std::size_t i) { return chans_.at(i); }
  const in_channel& channel(std::size_t i) const { return chans_.at(i); }
  std::vector<in_channel>& channels() noexcept { return chans_; }
  const std::vector<in_channel>& channels() const noexcept { return chans_; }

  /// Queues `it` that arrived on channel `ch`. @errors std::out_of_range for an unknown channel.
  void push(std::size_t ch, item it);
  /// Items waiting in all queues.
  std::uint64_t queued() const noexcept { return queued_; }

  /// Takes the next item, round robin over the channels that are neither
  /// held (batch end or barrier delivered) nor ended; false when none.
  bool next(std::size_t& ch, item& it);

  /// Channel `ch` delivered the batch end at `t` ms: it is held.
  void mark(std::size_t ch, std::int64_t t);
  /// When every live channel delivered its batch end: releases them and
  /// returns the batch time (all inputs align; the last one's time).
  std::optional<std::int64_t> aligned_batch_end();

  /// Channel `ch` ended its stream (`drain`: its sender drained its windows).
  void end(std::size_t ch, bool drain);
  /// Every channel ended.
  bool all_ended() const;
  /// Every channel ended with drain.
  bool all_drained() const;

  /// Channel `ch` delivered watermark `wm` (ms): it is active again, its
  /// watermark the max of both.
  void watermark(std::size_t ch, std::int64_t wm);
  /// Channel `ch` delivered records (it is active again) or the idle status.
  void set_status(std::size_t ch, watermark_status st) { chans_[ch].status = st; }
  /// The combined watermark: the minimum over channels neither ended nor
  /// idle. Returns advance when it moved past the last one returned, idle
  /// when every live channel is idle (once, until one is active again).
  /// With every channel ended: none (the end of stream delivers the final
  /// watermark).
  watermark_update combine();

  /// The last combined watermark (ms; no_watermark = none) and idle status:
  /// part of a task's checkpointed runtime state.
  std::int64_t combined() const noexcept { return wm_; }
  bool combined_idle() const noexcept { return idle_; }
  void restore_combined(std::int64_t wm, bool idle) noexcept {
    wm_ = wm;
    idle_ = idle;
  }

private:
  std::vector<in_channel> chans_;
  std::size_t rr_ = 0;          ///< round-robin pointer
  std::uint64_t queued_ = 0;
  std::int64_t wm_ = no_watermark;
  bool idle_ = false;           ///< every live input is idle (announced downstream)
};

}  // namespace weir::actors
