// The runtime's parts without actors, threads or sleeps: the output gate's
// credit protocol, the input gate's batch-end alignment and watermark
// combination, barrier alignment, and a whole task driven through a fake
// task_host.
#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "weir/actors/barrier_aligner.hpp"
#include "weir/actors/input_gate.hpp"
#include "weir/actors/output_gate.hpp"
#include "weir/actors/task.hpp"
#include "weir/checkpoint/checkpoint.hpp"

using namespace weir;
using namespace weir::actors;

namespace {

/// Records what an output gate sends, per (edge, channel).
struct recording_sender final : channel_sender {
  std::map<std::pair<std::size_t, std::size_t>, std::vector<item>> sent;
  void send(std::size_t edge, std::size_t chan, item&& it) override { sent[{edge, chan}].push_back(std::move(it)); }
  std::size_t data(std::size_t e = 0, std::size_t c = 0) {
    std::size_t n = 0;
    for (auto& it : sent[{e, c}]) n += it.kind == item_kind::data ? 1 : 0;
    return n;
  }
};

records ints(std::int64_t from, std::int64_t n) {
  records r;
  for (std::int64_t i = 0; i < n; ++i) r.emplace_back(from + i);
  return r;
}

}  // namespace

TEST_CASE("output gate: a channel without credit holds its output, and returned credit releases it in order",
          "[actors][credit]") {
  output_gate g(4);  // 4 records per wire batch
  recording_sender s;
  g.set_sender(&s);
  g.add_edge(plan::edge_kind::forward, "next");
  g.add_channel(0, 2);  // 2 credits
  auto r = ints(0, 16);  // 4 full wire batches
  g.emit(r, 0);
  CHECK(s.data() == 2);  // as many as credits
  CHECK(g.blocked());
  g.emit_signal(item_kind::mark, 100, 0);  // the batch end waits behind the held data
  CHECK(s.sent[{0, 0}].size() == 2);
  g.on_credit(0, 0, 1);
  CHECK(s.data() == 3);
  CHECK(g.blocked());
  g.on_credit(0, 0, 1);
  CHECK(!g.blocked());
  auto& items = s.sent[{0, 0}];
  REQUIRE(items.size() == 5);
  CHECK(items.back().kind == item_kind::mark);  // control signals need no credit, but keep their place
  CHECK(items.back().time == 100);
  std::int64_t next = 0;
  for (std::size_t i = 0; i < 4; ++i)
    for (auto& v : items[i].data->recs) CHECK(v.as_int() == next++);
}

TEST_CASE("output gate: in-flight wire batches never exceed the credits, and held output is what one emit made",
          "[actors][credit]") {
  const std::int64_t credit = 3;
  output_gate g(8);
  recording_sender s;
  g.set_sender(&s);
  g.add_edge(plan::edge_kind::forward, "next");
  g.add_channel(0, credit);
  std::size_t consumed = 0;  // wire batches the receiver consumed (and returned credit for)
  for (int round = 0; round < 50; ++round) {
    if (!g.blocked()) {  // the task emits only while not blocked (a source reads nothing else)
      auto r = ints(round * 16, 16);
      g.emit(r, 0);
    }
    const std::size_t in_flight = s.data() - consumed;
    CHECK(in_flight <= static_cast<std::size_t>(credit));
    std::size_t held = 0;
    for (auto& e : g.edges())
      for (auto& c : e.chans) held += c.outbox.size();
    CHECK(held <= 2);  // one emit of 16 records = 2 wire batches at most
    if (round % 3 == 0 && in_flight > 0) {  // a slow receiver: one batch every third round
      ++consumed;
      g.on_credit(0, 0, 1);
    }
  }
  CHECK(s.data() == consumed + static_cast<std::size_t>(credit));  // it sent exactly what credit allowed
}

TEST_CASE("output gate: keyed edges route by key hash and carry the hashes", "[actors][credit]") {
  output_gate g(1024);
  recording_sender s;
  g.set_sender(&s);
  g.add_edge(plan::edge_kind::hash, "reduce_by_key");
  g.add_channel(0, 8);
  g.add_channel(0, 8);
  records r;
  for (int i = 0; i < 100; ++i) r.push_back(value::pair(value(i % 10), value(1)));
  g.emit(r, 0);
  g.flush_building(0);
  std::size_t total = 0;
  for (std::size_t c = 0; c < 2; ++c)
    for (auto& it : s.sent[{0, c}]) {
      REQUIRE(it.data->key_hashes.size() == it.data->recs.size());
      for (std::size_t i = 0; i < it.data->recs.size(); ++i)
        CHECK(it.data->key_hashes[i] == it.data->recs[i].as_array()[0].hash());
      total += it.data->recs.size();
    }
  CHECK(total == 100);
  records bad{value(1)};
  CHECK_THROWS_WITH(g.emit(bad, 0), Catch::Contains("reduce_by_key"));
}

TEST_CASE("input gate: the combined watermark is the minimum over active inputs", "[actors][watermark]") {
  input_gate g;
  g.add_channel(0);
  g.add_channel(0);
  g.add_channel(1);
  using k = watermark_update::kind;
  g.watermark(0, 100);
  g.watermark(1, 50);
  CHECK(g.combine().k == k::none);  // channel 2 has none yet
  g.watermark(2, 70);
  CHECK(g.combine() == watermark_update{k::advance, 50});
  g.watermark(1, 200);
  CHECK(g.combine() == watermark_update{k::advance, 70});
  g.watermark(0, 90);  // a channel's watermark never goes back
  CHECK(g.channel(0).wm == 100);
  CHECK(g.combine().k == k::none);
  // an idle input is excluded: the others alone decide
  g.set_status(2, watermark_status::idle);
  CHECK(g.combine() == watermark_update{k::advance, 100});
  // an ended input is excluded too
  g.end(0, true);
  CHECK(g.combine() == watermark_update{k::advance, 200});
  CHECK(g.combined() == 200);
}

TEST_CASE("input gate: all inputs idle -> idle once, and an active one resumes the minimum", "[actors][watermark]") {
  input_gate g;
  g.add_channel(0);
  g.add_channel(0);
  using k = watermark_update::kind;
  g.watermark(0, 10);
  g.watermark(1, 20);
  CHECK(g.combine() == watermark_update{k::advance, 10});
  g.set_status(0, watermark_status::idle);
  CHECK(g.combine() == watermark_update{k::advance, 20});
  g.set_status(1, watermark_status::idle);
  CHECK(g.combine().k == k::idle);
  CHECK(g.combined_idle());
  CHECK(g.combine().k == k::none);  // announced once
  g.watermark(1, 30);               // active again
  CHECK(g.combine() == watermark_update{k::advance, 30});
  CHECK(!g.combined_idle());
  g.end(0, true);
  g.end(1, true);
  CHECK(g.combine().k == k::none);  // all ended: the end of stream delivers the final watermark
}

TEST_CASE("input gate: batch ends align across inputs, and a held channel is not read", "[actors]") {
  input_gate g;
  g.add_channel(0);
  g.add_channel(0);
  g.push(0, {item_kind::mark, 1000, nullptr});
  g.push(0, {item_kind::data, 0, std::make_shared<wire_batch>()});
  g.push(1, {item_kind::data, 0, std::make_shared<wire_batch>()});
  std::size_t ch = 9;
  item it;
  REQUIRE(g.next(ch, it));
  CHECK(ch == 0);
  CHECK(it.kind == item_kind::mark);
  g.mark(0, it.time);
  CHECK(!g.aligned_batch_end());  // channel 1 has not ended batch 1000
  REQUIRE(g.next(ch, it));
  CHECK(ch == 1);  // channel 0 is held by its batch end
  CHECK(it.kind == item_kind::data);
  CHECK(!g.next(ch, it));  // channel 0 still held, channel 1 empty
  CHECK(g.queued() == 1);
  g.push(1, {item_kind::mark, 1000, nullptr});
  REQUIRE(g.next(ch, it));
  g.mark(1, it.time);
  CHECK(g.aligned_batch_end() == 1000);
  REQUIRE(g.next(ch, it));  // released
  CHECK(ch == 0);
  CHECK(g.queued() == 0);
}

TEST_CASE("barrier alignment: channels that delivered the barrier block until the last one does",
          "[actors][checkpoint]") {
  input_gate g;
  for (int i = 0; i < 3; ++i) g.add_channel(0);
  barrier_aligner a;
  CHECK(a.check(g).k == alignment::kind::pending);
  REQUIRE(a.on_barrier(g, 0, 5));
  CHECK(a.aligning() == 5);
  CHECK(a.check(g).k == alignment::kind::pending);
  g.push(0, {item_kind::data, 0, std::make_shared<wire_batch>()});
  g.push(2, {item_kind::data, 0, std::make_shared<wire_batch>()});
  std::size_t ch = 9;
  item it;
  REQUIRE(g.next(ch, it));
  CHECK(ch == 2);  // channel 0 is blocked behind its barrier
  CHECK(!g.next(ch, it));
  REQUIRE(a.on_barrier(g, 2, 5));
  CHECK(a.check(g).k == alignment::kind::pending);
  g.end(1, true);  // an ended channel owes no barrier
  const alignment done = a.check(g);
  CHECK(done.k == alignment::kind::aligned);
  CHECK(done.id == 5);
  CHECK(a.aligning() == 0);
  REQUIRE(g.next(ch, it));  // released
  CHECK(ch == 0);
}

TEST_CASE("barrier alignment: barriers after different batch ends abort with their reason", "[actors][checkpoint]") {
  input_gate g;
  g.add_channel(0);
  g.add_channel(0);
  barrier_aligner a;
  REQUIRE(a.on_barrier(g, 0, 3));
  g.mark(1, 2000);  // channel 1 ended a batch that needs channel 0, which is held by the barrier
  const alignment r = a.check(g);
  CHECK(r.k == alignment::kind::aborted);
  CHECK(r.id == 3);
  CHECK(r.reason == abort_reason::misaligned);
  CHECK(!g.channel(0).barrier);  // released
  CHECK(!a.on_barrier(g, 1, 3));  // its late barrier is dropped
  CHECK(!g.channel(1).barrier);
  CHECK(a.on_barrier(g, 1, 4));  // a newer checkpoint aligns again
}

TEST_CASE("barrier alignment: a cancelled checkpoint releases its channels and keeps the reason",
          "[actors][checkpoint]") {
  input_gate g;
  g.add_channel(0);
  g.add_channel(0);
  barrier_aligner a;
  REQUIRE(a.on_barrier(g, 0, 7));
  CHECK(!a.cancel(g, 6, abort_reason::timed_out));  // an older one: the alignment goes on
  CHECK(g.channel(0).barrier);
  CHECK(a.cancel(g, 7, abort_reason::timed_out));
  CHECK(a.last_abort() == abort_reason::timed_out);
  CHECK(!g.channel(0).barrier);
  CHECK(a.aligning() == 0);
  CHECK(a.dropped_up_to() == 7);
  CHECK(!a.on_barrier(g, 1, 7));
  CHECK(std::string(describe(abort_reason::timed_out)).find("timeout") != std::string::npos);
}

// --- a whole task, driven through a fake host ------------------------------------

namespace {

/// What a task asked for: sends, credits, wake-ups, acks, its report.
struct fake_host final : task_host {
  std::vector<item> out;  // edge 0, channel 0
  std::vector<std::size_t> credits;
  std::vector<std::pair<std::uint64_t, snapshot_ptr>> acks;
  std::vector<std::pair<std::uint64_t, abort_reason>> declines;
  std::optional<task_report> report;
  void send(std::size_t, std::size_t, item&& it) override { out.push_back(std::move(it)); }
  void return_credit(std::size_t ch) override { credits.push_back(ch); }
  void wake(wakeup, steady::duration) override {}
  void ack(std::uint64_t id, snapshot_ptr s) override { acks.emplace_back(id, std::move(s)); }
  void decline(std::uint64_t id, abort_reason why) override { declines.emplace_back(id, why); }
  void finished(task_report r) override { report = std::move(r); }
  /// The watermarks (active) that left the task, in order.
  std::vector<std::int64_t> watermarks() const {
    std::vector<std::int64_t> w;
    for (auto& it : out)
      if (it.kind == item_kind::data)
        for (auto& m : it.data->marks)
          if (!m.idle()) w.push_back(m.wm);
    return w;
  }
};

/// Passes records on, and its watermarks.
class pass final : public stream_operator {
public:
  void process(const process_context&, records& in, records& out) override {
    for (auto& r : in) out.push_back(std::move(r));
  }
};

batch_ptr batch(records recs, std::vector<watermark_mark> marks = {}) {
  auto b = std::make_shared<wire_batch>();
  b->recs = std::move(recs);
  b->marks = std::move(marks);
  return b;
}

/// A task with one pass-through operator, `inputs` input channels and one output channel.
struct task_fixture {
  fake_host host;
  context_options o;
  std::unique_ptr<task> t;
  explicit task_fixture(int inputs, bool checkpointing = false) {
    o.batch_interval = std::chrono::milliseconds(100);
    o.batch_size = 1024;
    t = std::make_unique<task>(task_identity{1, 0, "pass"}, o, checkpointing);
    t->chain().add({std::make_unique<pass>(), "pass", false, {}});
    t->chain_complete();
    t->set_slides({100}, 100);
    for (int i = 0; i < inputs; ++i) t->input().add_channel(0);
    t->output().add_edge(plan::edge_kind::forward, "next");
    t->output().add_channel(0, 8);
    t->set_host(&host);
  }
  void deliver(std::size_t ch, item it) {
    t->on_item(ch, std::move(it));
    t->after_activation();
  }
};

}  // namespace

TEST_CASE("task: a quiet input holds the watermark back until it goes idle", "[actors][watermark]") {
  task_fixture f(2);
  f.deliver(0, {item_kind::data, 0, batch(ints(0, 3), {{3, 500}})});
  f.deliver(1, {item_kind::data, 0, batch({}, {{0, 100}})});
  f.deliver(0, {item_kind::data, 0, batch({}, {{0, 900}})});
  f.deliver(0, {item_kind::mark, 100, nullptr});
  f.deliver(1, {item_kind::mark, 100, nullptr});  // batch 100 ends on both: the output flushes
  CHECK(f.host.watermarks() == std::vector<std::int64_t>{100});  // held at the quiet input's 100
  CHECK(f.host.credits.size() == 3);  // one credit back per wire batch consumed
  f.deliver(1, {item_kind::data, 0, batch({}, {watermark_mark::idle_at(0)})});  // the quiet input goes idle
  f.deliver(0, {item_kind::mark, 200, nullptr});
  f.deliver(1, {item_kind::mark, 200, nullptr});
  CHECK(f.host.watermarks() == std::vector<std::int64_t>{100, 900});
  // the end of stream on both: the task finishes and reports
  f.deliver(0, {item_kind::eos, 1, nullptr});
  CHECK(!f.host.report);
  f.deliver(1, {item_kind::eos, 1, nullptr});
  REQUIRE(f.host.report);
  CHECK(f.host.out.back().kind == item_kind::eos);
}

TEST_CASE("task: barriers align across inputs, the snapshot precedes the forwarded barrier", "[actors][checkpoint]") {
  task_fixture f(2, true);
  f.deliver(0, {item_kind::barrier, 4, nullptr});
  f.deliver(0, {item_kind::data, 0, batch(ints(10, 2))});  // after the barrier: held
  CHECK(f.host.credits.empty());
  f.deliver(1, {item_kind::data, 0, batch(ints(0, 2))});  // before the barrier on channel 1
  CHECK(f.host.acks.empty());
  f.deliver(1, {item_kind::barrier, 4, nullptr});
  REQUIRE(f.host.acks.size() == 1);
  CHECK(f.host.acks[0].first == 4);
  CHECK(f.host.acks[0].second->operators.size() == 1);
  CHECK(f.host.credits.size() == 2);  // channel 0's held batch is consumed after the snapshot
  f.t->on_linger();  // flushes the partly filled wire batch
  // downstream: channel 1's records, the barrier, then channel 0's
  std::vector<std::int64_t> order;
  for (auto& it : f.host.out) {
    if (it.kind == item_kind::barrier) order.push_back(-it.time);
    if (it.kind == item_kind::data)
      for (auto& v : it.data->recs) order.push_back(v.as_int());
  }
  CHECK(order == std::vector<std::int64_t>{0, 1, -4, 10, 11});
}

TEST_CASE("task: a checkpoint aborted while aligning releases the held input", "[actors][checkpoint]") {
  task_fixture f(2, true);
  f.deliver(0, {item_kind::barrier, 2, nullptr});
  f.deliver(0, {item_kind::data, 0, batch(ints(0, 1))});
  CHECK(f.host.credits.empty());
  f.t->on_abort(2, abort_reason::timed_out);
  CHECK(f.host.credits.size() == 1);
  f.deliver(1, {item_kind::barrier, 2, nullptr});  // late barrier of the aborted checkpoint: dropped
  CHECK(f.host.acks.empty());
  f.deliver(0, {item_kind::data, 0, batch(ints(1, 1))});
  CHECK(f.host.credits.size() == 2);  // channel 1's late barrier holds nothing
}
