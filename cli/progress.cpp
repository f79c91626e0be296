// weir — the live status line of `weir run` (progress.hpp).
#include "weir/cli/progress.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "weir/operators/log.hpp"

namespace weir::cli {

progress_totals totals_of(const std::vector<task_metrics>& tasks) {
  progress_totals t;
  for (auto& m : tasks) {
    if (m.source) {
      t.in += m.records_in;
      t.source_bp_s += m.backpressured_s;
      ++t.sources;
    }
    if (m.sink) t.out += m.sink_records;
  }
  return t;
}

namespace {

std::string rate_text(double r) {
  if (r >= 1e6) return fmt::format("{:.1f}M", r / 1e6);
  if (r >= 1e3) return fmt::format("{:.1f}k", r / 1e3);
  return fmt::format("{:.0f}", r);
}

std::string grouped(std::uint64_t v) {
  std::string s = std::to_string(v), out;
  int n = 0;
  for (auto it = s.rbegin(); it != s.rend(); ++it) {
    if (n > 0 && n % 3 == 0) out += ',';
    out += *it;
    ++n;
  }
  return {out.rbegin(), out.rend()};
}

}  // namespace

std::string format_progress(const progress_totals& prev, const progress_totals& cur, double dt,
                            double elapsed_s) {
  double in_rate = dt > 0 ? static_cast<double>(cur.in - prev.in) / dt : 0;
  double out_rate = dt > 0 ? static_cast<double>(cur.out - prev.out) / dt : 0;
  double bp = (dt > 0 && cur.sources > 0) ? (cur.source_bp_s - prev.source_bp_s) / (dt * cur.sources) : 0;
  bp = std::clamp(bp, 0.0, 1.0);
  std::string cp = "checkpoints: off";
  if (cur.checkpointing) {
    const auto& c = cur.checkpoints;
    if (c.last_id == 0)
      cp = "checkpoints: none yet";
    else
      cp = fmt::format("checkpoint {}, {:.1f} s ago", c.last_id,
                       static_cast<double>(std::max<std::int64_t>(0, cur.now_ms - c.last_completed_ms)) / 1e3);
    if (c.failed > 0) cp += fmt::format(", {} failed", c.failed);
    if (c.aborted > 0) cp += fmt::format(", {} aborted", c.aborted);
  }
  return fmt::format("weir: {:.1f} s | in {} rec/s ({}) | out {} rec/s ({} to sinks) | backpressure {:.0f}% | {}",
                     elapsed_s, rate_text(in_rate), grouped(cur.in), rate_text(out_rate), grouped(cur.out),
                     bp * 100, cp);
}

struct progress_display::impl {
  std::function<std::vector<task_metrics>()> poll;
  std::function<checkpoint_stats()> poll_checkpoints;
  std::chrono::milliseconds interval;

  progress_totals totals() const {
    progress_totals t = totals_of(poll());
    if (poll_checkpoints) {
      t.checkpointing = true;
      t.checkpoints = poll_checkpoints();
      t.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
    }
    return t;
  }
  std::mutex mtx;
  std::condition_variable cv;
  bool done = false;
  std::thread thread;

  void loop() {
    using clock = std::chrono::steady_clock;
    auto start = clock::now(), last = start;
    progress_totals prev = totals();
    std::unique_lock<std::mutex> lock(mtx);
    while (!cv.wait_for(lock, interval, [this] { return done; })) {
      lock.unlock();
      auto now = clock::now();
      progress_totals cur = totals();
      double dt = std::chrono::duration<double>(now - last).count();
      set_status_line(format_progress(prev, cur, dt, std::chrono::duration<double>(now - start).count()));
      prev = cur;
      last = now;
      lock.lock();
    }
  }
};

progress_display::progress_display(std::function<std::vector<task_metrics>()> poll,
                                   std::function<checkpoint_stats()> poll_checkpoints,
                                   std::chrono::milliseconds interval)
    : impl_(std::make_unique<impl>()) {
  impl_->poll = std::move(poll);
  impl_->poll_checkpoints = std::move(poll_checkpoints);
  impl_->interval = interval;
  impl_->thread = std::thread([this] { impl_->loop(); });
}

progress_display::~progress_display() {
  {
    std::lock_guard<std::mutex> lock(impl_->mtx);
    impl_->done = true;
  }
  impl_->cv.notify_all();
  impl_->thread.join();
  set_status_line("");
}

}  // namespace weir::cli
