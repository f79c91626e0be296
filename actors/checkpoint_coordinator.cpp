// weir — the checkpoint coordinator's bookkeeping (see checkpoint_coordinator.hpp).
#include "weir/actors/checkpoint_coordinator.hpp"

#include <algorithm>
#include <ctime>

#include "weir/checkpoint/checkpoint.hpp"
#include "weir/common/test_hooks.hpp"
#include "weir/operators/log.hpp"

namespace weir::actors {

namespace {
class real_clock final : public coordinator_clock {
public:
  steady::time_point now() override { return steady::now(); }
  std::int64_t wall_ms() override { return actors::wall_ms(); }
};
}  // namespace

coordinator_clock& system_coordinator_clock() {
  static real_clock c;
  return c;
}

checkpoint_coordinator::checkpoint_coordinator(coordinator_setup setup, checkpoint_writer write,
                                               coordinator_transport& transport, coordinator_clock& clock,
                                               checkpoint_counters& counters)
    : setup_(std::move(setup)),
      write_(std::move(write)),
      transport_(transport),
      clock_(clock),
      counters_(counters),
      next_id_(setup_.first_id),
      acks_(setup_.tasks.size()),
      finals_(setup_.tasks.size()) {}

void checkpoint_coordinator::start() { next_trigger_ = clock_.now() + setup_.interval; }

steady::time_point checkpoint_coordinator::poll() {
  const auto now = clock_.now();
  if (in_flight_ != 0 && now - in_flight_since_ >= setup_.timeout) abort_in_flight(abort_reason::timed_out);
  if (now >= next_trigger_ && !halted_) trigger();
  auto until = next_trigger_;
  if (in_flight_ != 0) until = std::min(until, in_flight_since_ + setup_.timeout);
  return until;
}

std::size_t checkpoint_coordinator::index_of(const snapshot_ptr& snap) const {
  for (std::size_t i = 0; i < setup_.tasks.size(); ++i)
    if (setup_.tasks[i] == std::pair<int, int>{snap->stage, snap->instance}) return i;
  return setup_.tasks.size();
}

void checkpoint_coordinator::trigger() {
  next_trigger_ = clock_.now() + setup_.interval;
  if (in_flight_ != 0) return;
  std::size_t live = 0;
  for (std::size_t i = 0; i < setup_.tasks.size(); ++i)
    if (setup_.sources[i] && !finals_[i]) ++live;
  if (live == 0) return;
  in_flight_ = next_id_++;
  in_flight_since_ = clock_.now();
  in_flight_wall_ms_ = clock_.wall_ms();
  // the batch end every source puts the barrier after: the next but one,
  // so that no source has passed it when the trigger arrives
  const std::int64_t b = setup_.batch_interval_ms;
  const std::int64_t elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - setup_.clock_origin).count();
  const std::int64_t at = (elapsed / b + 2) * b;
  transport_.trigger(in_flight_, at);
}

void checkpoint_coordinator::abort_in_flight(abort_reason why) {
  if (in_flight_ == 0) return;
  std::string text = describe(why);
  if (why == abort_reason::timed_out) text = "not complete within " + std::to_string(setup_.timeout.count()) + "ms";
  log_message(log_level::warning, "checkpoint " + std::to_string(in_flight_) + " aborted: " + text);
  last_abort_ = why;
  transport_.abort(in_flight_, why);
  counters_.update([](checkpoint_stats& c) { ++c.aborted; });
  in_flight_ = 0;
  std::fill(acks_.begin(), acks_.end(), nullptr);
}

void checkpoint_coordinator::on_ack(std::uint64_t id, snapshot_ptr snap) {
  if (id != in_flight_ || !snap) return;
  const std::size_t i = index_of(snap);
  if (i == acks_.size()) return;
  acks_[i] = std::move(snap);
  maybe_complete();
}

void checkpoint_coordinator::on_decline(std::uint64_t id, abort_reason why) {
  if (id == in_flight_) abort_in_flight(why);
}

void checkpoint_coordinator::on_final(snapshot_ptr snap) {
  if (!snap) return;
  const std::size_t i = index_of(snap);
  if (i == finals_.size()) return;
  finals_[i] = std::move(snap);
  maybe_complete();
}

void checkpoint_coordinator::maybe_complete() {
  if (in_flight_ == 0) return;
  std::vector<snapshot_ptr> parts(acks_.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    parts[i] = acks_[i] ? acks_[i] : finals_[i];
    if (!parts[i]) return;
  }
  if (std::all_of(finals_.begin(), finals_.end(), [](auto& f) { return f != nullptr; }))
    return;  // everything finished: the final checkpoint replaces it
  const std::uint64_t id = in_flight_;
  in_flight_ = 0;
  std::fill(acks_.begin(), acks_.end(), nullptr);
  if (write(id, in_flight_wall_ms_, false, parts, true)) {
    crash_point("after_manifest_before_commit");
    transport_.complete(id);
  } else {
    last_abort_ = abort_reason::write_failed;
    transport_.abort(id, abort_reason::write_failed);
  }
}

bool checkpoint_coordinator::write_final(const std::vector<snapshot_ptr>& finals) {
  return write(next_id_++, clock_.wall_ms(), true, finals, false);
}

void checkpoint_coordinator::sum_snapshot_time() {
  std::int64_t ns = 0;
  for (auto& l : setup_.live) ns += l->snapshot_ns.load(relaxed);
  counters_.update([&](checkpoint_stats& c) { c.snapshot_s = static_cast<double>(ns) / 1e9; });
}

bool checkpoint_coordinator::write(std::uint64_t id, std::int64_t wall, bool final,
                                   const std::vector<snapshot_ptr>& parts, bool recycle) {
  checkpoint::checkpoint_data d;
  d.id = id;
  d.timestamp_ms = wall;
  d.plan = setup_.plan;
  d.final = final;
  // A snapshot is moved, never copied (state can be ~100 MB), when it
  // belongs to this checkpoint alone: an acknowledged snapshot (even while
  // the ack message that brought the last one still holds a reference), or
  // any part of the final checkpoint (nothing reads the final states after
  // it; the finished task's report still holds a reference). A final state
  // in a periodic checkpoint is reused by the later ones: copied unless held
  // here only.
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto& p = parts[i];
    const bool ack = recycle && !finals_[i];
    d.tasks.push_back(ack || final || p.use_count() == 1 ? std::move(*p) : *p);
  }
  // hand each task's buffers back for its next snapshot (snapshot_buffers)
  auto give_back = [&] {
    if (!recycle) return;
    for (std::size_t i = 0; i < parts.size() && i < d.tasks.size(); ++i) {
      if (finals_[i] || d.tasks[i].operators.empty()) continue;
      auto back = std::make_shared<checkpoint::task_snapshot>();
      back->operators = std::move(d.tasks[i].operators);
      transport_.recycle(i, std::move(back));
    }
  };
  struct thread_cpu {  // the write's CPU time, added to write_cpu_s however it ends
    checkpoint_coordinator& co;
    double t0 = now();
    static double now() {
      timespec ts{};
      ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    }
    ~thread_cpu() {
      const double s = now() - t0;
      co.counters_.update([&](checkpoint_stats& c) { c.write_cpu_s += s; });
      co.sum_snapshot_time();
    }
  } cpu{*this};
  try {
    auto bytes = write_(d);
    give_back();
    const std::int64_t done_ms = clock_.wall_ms();
    counters_.update([&](checkpoint_stats& c) {
      ++c.completed;
      c.last_id = id;
      c.last_completed_ms = done_ms;
      c.last_duration_s = static_cast<double>(done_ms - wall) / 1e3;
      c.last_bytes = bytes;
    });
    return true;
  } catch (const std::exception& e) {
    give_back();
    log_message(log_level::warning, "checkpoint " + std::to_string(id) + " failed: " + e.what());
    counters_.update([](checkpoint_stats& c) { ++c.failed; });
    return false;
  }
}

}  // namespace weir::actors
