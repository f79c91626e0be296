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
  return fmt::format("weir: {:.1f} s | in {} rec/s ({}) | out {} rec/s ({} to sinks) | backpressure {:.0f}% | "
                     "checkpoints: none",
                     elapsed_s, rate_text(in_rate), grouped(cur.in), rate_text(out_rate), grouped(cur.out),
                     bp * 100);
}

struct progress_display::impl {
  std::function<std::vector<task_metrics>()> poll;
  std::chrono::milliseconds interval;
  std::mutex mtx;
  std::condition_variable cv;
  bool done = false;
  std::thread thread;

  void loop() {
    using clock = std::chrono::steady_clock;
    auto start = clock::now(), last = start;
    progress_totals prev = totals_of(poll());
    std::unique_lock<std::mutex> lock(mtx);
    while (!cv.wait_for(lock, interval, [this] { return done; })) {
      lock.unlock();
      auto now = clock::now();
      progress_totals cur = totals_of(poll());
      double dt = std::chrono::duration<double>(now - last).count();
      set_status_line(format_progress(prev, cur, dt, std::chrono::duration<double>(now - start).count()));
      prev = cur;
      last = now;
      lock.lock();
    }
  }
};

progress_display::progress_display(std::function<std::vector<task_metrics>()> poll,
                                   std::chrono::milliseconds interval)
    : impl_(std::make_unique<impl>()) {
  impl_->poll = std::move(poll);
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
