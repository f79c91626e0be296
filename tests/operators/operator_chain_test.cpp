// The operator chain's drain loop on its own: records through chained
// operators, watermarks delivered once and in order, generated watermarks at
// their position, batch ends only to the operators whose slide divides the
// time, processing-time timers on an injected time. No actors, no clocks.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "weir/operators/operator_chain.hpp"

using namespace weir;

namespace {

/// Collects what leaves the chain: records, and "wm:<t>" / "idle" in their place.
struct collect final : chain_output {
  std::vector<std::string> seen;
  std::size_t sinked = 0;
  void emit(records& out) override {
    for (auto& r : out) seen.push_back(std::to_string(r.as_int()));
    out.clear();
  }
  void emit_watermark(std::int64_t wm, watermark_status st) override {
    seen.push_back(st == watermark_status::idle ? "idle" : "wm:" + std::to_string(wm));
  }
  void sink_records(std::size_t n) override { sinked += n; }
};

/// Adds `k` to every record; on a watermark emits -wm (what it "fires").
class add_op final : public stream_operator {
public:
  explicit add_op(std::int64_t k, bool fire = false) : k_(k), fire_(fire) {}
  void process(const process_context&, records& in, records& out) override {
    for (auto& r : in) out.emplace_back(r.as_int() + k_);
  }
  std::int64_t on_watermark(std::int64_t wm, records& out) override {
    ++watermarks;
    if (fire_) out.emplace_back(-wm);
    return wm;
  }
  void on_batch_end(std::int64_t t, records& out) override { ends.push_back(t); }
  int watermarks = 0;
  std::vector<std::int64_t> ends;

private:
  std::int64_t k_;
  bool fire_;
};

/// A timestamp assigner: passes records on, a watermark after each record
/// equal to the record (an idle mark after a 0).
class assigner final : public stream_operator {
public:
  void process(const process_context& ctx, records& in, records& out) override {
    for (auto& r : in) {
      out.push_back(r);
      if (r.as_int() == 0)
        ctx.emit_idle(out);
      else
        ctx.emit_watermark(out, r.as_int());
    }
  }
};

/// Holds records until its processing-time timer at `due` ms fires.
class timer_op final : public stream_operator {
public:
  void process(const process_context&, records& in, records&) override {
    for (auto& r : in) held_.push_back(r);
  }
  std::optional<std::int64_t> next_timer() const override {
    return held_.empty() ? std::nullopt : std::optional<std::int64_t>(due_);
  }
  void on_processing_time(const process_context&, std::int64_t now, records& out) override {
    if (now < due_) return;
    for (auto& r : held_) out.push_back(r);
    held_.clear();
    due_ += 1000;
  }

private:
  records held_;
  std::int64_t due_ = 1000;
};

}  // namespace

TEST_CASE("operator chain: records run through every operator, and the last one's output leaves", "[operators]") {
  operator_chain c;
  collect out;
  c.set_output(&out);
  c.add({std::make_unique<add_op>(1), "a", false, {}});
  c.add({std::make_unique<add_op>(10), "b", true, {}});
  records in{value(1), value(2)};
  c.run(in);
  CHECK(in.empty());
  CHECK(out.seen == std::vector<std::string>{"12", "13"});
  CHECK(out.sinked == 2);  // the sink operator's input
}

TEST_CASE("operator chain: a watermark reaches each operator once, fired records before it", "[operators]") {
  operator_chain c;
  collect out;
  c.set_output(&out);
  auto a = std::make_unique<add_op>(0, true);
  auto* pa = a.get();
  c.add({std::move(a), "a", false, {}});
  c.add({std::make_unique<add_op>(100), "b", false, {}});
  c.watermark(0, 5);
  c.watermark(0, 5);  // not past the last one: nothing
  c.watermark(0, 3);
  CHECK(pa->watermarks == 1);
  CHECK(out.seen == std::vector<std::string>{"95", "wm:5"});  // -5 + 100, then the watermark
  CHECK(c.fired_records() == 1);
  CHECK(c.delivered_watermarks() == std::vector<std::int64_t>{5, 5});
}

TEST_CASE("operator chain: generated watermarks take effect at their position", "[operators]") {
  operator_chain c;
  collect out;
  c.set_output(&out);
  c.add({std::make_unique<assigner>(), "assign", false, {}});
  c.add({std::make_unique<add_op>(0, true), "fire", false, {}});
  records in{value(7), value(9), value(0)};
  c.run(in);
  CHECK(out.seen == std::vector<std::string>{"7", "-7", "wm:7", "9", "-9", "wm:9", "0", "idle"});
}

TEST_CASE("operator chain: a batch end reaches the first n operators, and the rest get their output", "[operators]") {
  operator_chain c;
  collect out;
  c.set_output(&out);
  auto a = std::make_unique<add_op>(1);
  auto b = std::make_unique<add_op>(2);
  auto* pa = a.get();
  auto* pb = b.get();
  c.add({std::move(a), "a", false, {}});
  c.add({std::move(b), "b", true, {}});
  int sink_ends = 0;
  c.batch_end(100, 1, [&] { ++sink_ends; });
  CHECK(pa->ends == std::vector<std::int64_t>{100});
  CHECK(pb->ends.empty());
  c.batch_end(200, 2, [&] { ++sink_ends; });
  CHECK(pb->ends == std::vector<std::int64_t>{200});
  CHECK(sink_ends == 1);
}

TEST_CASE("operator chain: processing-time timers fire when due on the time given", "[operators]") {
  operator_chain c;
  collect out;
  c.set_output(&out);
  c.add({std::make_unique<timer_op>(), "timer", false, {}});
  c.add({std::make_unique<add_op>(1000), "after", false, {}});
  CHECK(c.next_timer() == end_watermark);
  records in{value(1), value(2)};
  c.run(in);
  CHECK(c.next_timer() == 1000);
  c.processing_time(999);
  CHECK(out.seen.empty());
  c.processing_time(1000);
  CHECK(out.seen == std::vector<std::string>{"1001", "1002"});
  CHECK(c.next_timer() == end_watermark);
}
