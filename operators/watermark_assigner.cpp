// weir — the timestamp/watermark assigner (make_watermark_assigner,
// operators/event_time.hpp): Flink's WatermarkStrategy with bounded
// out-of-orderness and an idle timeout (WatermarkStatus.IDLE), emitting its
// watermarks in-band through process_context::emit_watermark.
// docs/architecture.md §5.
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <utility>

#include "weir/common/time.hpp"
#include "weir/operators/event_time.hpp"
#include "weir/operators/sealed_state.hpp"
#include "weir/operators/snapshot.hpp"

namespace weir {

namespace {

class watermark_assigner final : public stream_operator {
public:
  explicit watermark_assigner(watermark_options o) : o_(std::move(o)) {}

  bool stateless() const override { return true; }

  // The records stay where they are (in `in`, at their final positions)
  // and move to `out` in one piece at the end; after a malformed record the
  // ones before it move and the rest follow one by one.
  void process(const process_context& ctx, records& in, records& out) override {
    const bool had_input = !in.empty();
    const std::int64_t delay = o_.delay.count();
    const std::size_t base = out.size();
    bool in_place = true;
    value* recs = in.data();  // `in` keeps its size here: no reload per record
    const std::size_t n = in.size();
    for (std::size_t i = 0; i < n; ++i) {
      value& r = recs[i];
      ++seen_;
      std::int64_t ts;
      try {
        const value t = o_.time(r);
        ts = t.is_int() ? t.as_int() : event_time_of(t, o_.time_text);
      } catch (const record_error& e) {
        if (in_place) {
          out.insert(out.end(), std::make_move_iterator(in.begin()), std::make_move_iterator(in.begin() + static_cast<std::ptrdiff_t>(i)));
          in_place = false;
        }
        std::string raw = r.is_string() ? std::string(r.as_string()) : r.to_json();
        std::string where = ctx.origin ? ctx.origin->describe(i) : "record " + std::to_string(seen_);
        handle_bad_record(o_.on_error, bad_record{raw, e.what(), where}, counters_.malformed_records);
        continue;
      }
      // exact where it matters: a record behind the pending watermark sees it
      if (ts <= pending_ && pending_ > emitted_) {
        if (ctx.watermarks)
          ctx.watermarks->emplace_back(static_cast<std::uint32_t>(in_place ? base + i : out.size()), pending_);
        emitted_ = pending_;
      }
      if (!in_place) out.push_back(std::move(r));
      if (ts > max_ts_) {
        max_ts_ = ts;
        pending_ = ts > no_watermark + delay ? ts - delay : no_watermark + 1;  // the least watermark above none
      }
    }
    if (in_place) {
      if (out.empty())
        out.swap(in);
      else
        out.insert(out.end(), std::make_move_iterator(in.begin()), std::make_move_iterator(in.end()));
    }
    if (pending_ > emitted_) {
      ctx.emit_watermark(out, pending_);
      emitted_ = pending_;
    }
    if (o_.idle_timeout.count() > 0 && had_input) {
      last_record_ = wall_ms();
      idle_ = false;
    }
  }

  std::int64_t on_watermark(std::int64_t wm, records&) override {
    return wm == end_watermark ? end_watermark : no_watermark;  // upstream watermarks are replaced
  }

  std::optional<std::int64_t> next_timer() const override {
    if (o_.idle_timeout.count() <= 0 || idle_) return std::nullopt;
    if (last_record_ == 0) return wall_ms() + o_.idle_timeout.count();
    return last_record_ + o_.idle_timeout.count();
  }

  void on_processing_time(const process_context& ctx, std::int64_t now, records& out) override {
    if (o_.idle_timeout.count() <= 0 || idle_) return;
    if (last_record_ == 0) last_record_ = now;
    if (now - last_record_ >= o_.idle_timeout.count()) {
      idle_ = true;
      ctx.emit_idle(out);
      // the next watermark re-activates the input
      emitted_ = no_watermark;
    }
  }

  // Checkpoints: the records seen, the max event time, the pending and last
  // emitted watermark, the idle state and the wall-clock time of the last
  // record (the idle timer continues from it), the malformed count.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    write_sealed(w, 1, [&](state_writer& s) {
      s.u64(seen_);
      s.i64(max_ts_);
      s.i64(pending_);
      s.i64(emitted_);
      s.i64(last_record_);
      s.boolean(idle_);
      s.u64(counters_.malformed_records);
    });
  }

  void restore_state(std::uint64_t, state_reader& r) override {
    read_sealed(r, 1, "watermark assigner", [&](state_reader& s) {
      seen_ = s.u64();
      max_ts_ = s.i64();
      pending_ = s.i64();
      emitted_ = s.i64();
      last_record_ = s.i64();
      idle_ = s.boolean();
      counters_.malformed_records = s.u64();
    });
  }

private:
  watermark_options o_;
  std::uint64_t seen_ = 0;
  std::int64_t max_ts_ = no_watermark;
  std::int64_t pending_ = no_watermark, emitted_ = no_watermark;
  std::int64_t last_record_ = 0;
  bool idle_ = false;
};

}  // namespace

operator_ptr make_watermark_assigner(watermark_options opts) {
  if (!opts.time)
    throw pipeline_error(error_code::invalid_argument, "a watermark needs an event-time expression (time = ...)");
  if (opts.delay.count() < 0)
    throw pipeline_error(error_code::invalid_argument,
                         "watermark delay must not be negative, got " + std::to_string(opts.delay.count()) + "ms");
  if (opts.idle_timeout.count() < 0)
    throw pipeline_error(error_code::invalid_argument,
                         "idle timeout must not be negative, got " + std::to_string(opts.idle_timeout.count()) + "ms");
  return std::make_unique<watermark_assigner>(std::move(opts));
}

}  // namespace weir
