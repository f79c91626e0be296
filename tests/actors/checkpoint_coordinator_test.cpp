// The checkpoint coordinator's bookkeeping with an injected clock and a
// recording transport: triggers on the interval, completes on the last ack,
// times out, aborts on a decline, counts, recycles, and ends with the final
// checkpoint. No threads, no sleeps.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include "weir/actors/checkpoint_coordinator.hpp"
#include "weir/checkpoint/checkpoint.hpp"

using namespace weir;
using namespace weir::actors;
using namespace std::chrono_literals;

namespace {

struct manual_clock final : coordinator_clock {
  steady::time_point t{};
  steady::time_point now() override { return t; }
  std::int64_t wall_ms() override { return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count(); }
};

struct recording_transport final : coordinator_transport {
  std::vector<std::pair<std::uint64_t, std::int64_t>> triggers;
  std::vector<std::pair<std::uint64_t, abort_reason>> aborts;
  std::vector<std::uint64_t> completes;
  std::vector<std::size_t> recycled;
  void trigger(std::uint64_t id, std::int64_t at) override { triggers.emplace_back(id, at); }
  void abort(std::uint64_t id, abort_reason why) override { aborts.emplace_back(id, why); }
  void complete(std::uint64_t id) override { completes.push_back(id); }
  void recycle(std::size_t task, snapshot_ptr) override { recycled.push_back(task); }
};

snapshot_ptr snap(int stage, int instance, bool finished = false) {
  auto s = std::make_shared<checkpoint::task_snapshot>();
  s->stage = stage;
  s->instance = instance;
  s->finished = finished;
  s->operators.push_back({"op", "state"});
  return s;
}

struct fixture {
  manual_clock clock;
  recording_transport transport;
  checkpoint_counters counters;
  std::vector<checkpoint::checkpoint_data> written;
  bool fail_writes = false;
  checkpoint_coordinator co;
  fixture()
      : co(setup(), [this](const checkpoint::checkpoint_data& d) -> std::uint64_t {
          if (fail_writes) throw std::runtime_error("disk full");
          written.push_back(d);
          return 100;
        }, transport, clock, counters) {}
  coordinator_setup setup() {
    coordinator_setup s;
    s.interval = 100ms;
    s.timeout = 1000ms;
    s.batch_interval_ms = 50;
    s.clock_origin = clock.t;
    s.plan = "plan";
    s.first_id = 7;
    s.tasks = {{0, 0}, {1, 0}};  // a source task and a sink task
    s.sources = {true, false};
    s.live = {std::make_shared<live_metrics>(), std::make_shared<live_metrics>()};
    return s;
  }
};

}  // namespace

TEST_CASE("coordinator: triggers every interval, completes on the last ack, hands buffers back",
          "[actors][checkpoint]") {
  fixture f;
  f.co.start();
  CHECK(f.co.poll() == f.clock.t + 100ms);
  CHECK(f.transport.triggers.empty());
  f.clock.t += 100ms;
  f.co.poll();
  REQUIRE(f.transport.triggers.size() == 1);
  CHECK(f.transport.triggers[0].first == 7);
  CHECK(f.transport.triggers[0].second == 200);  // the batch end after next: (100 / 50 + 2) · 50
  CHECK(f.co.in_flight() == 7);
  f.clock.t += 100ms;
  f.co.poll();
  CHECK(f.transport.triggers.size() == 1);  // one in flight at most
  f.co.on_ack(7, snap(0, 0));
  CHECK(f.written.empty());
  f.co.on_ack(6, snap(1, 0));  // not the one in flight: ignored
  CHECK(f.written.empty());
  f.co.on_ack(7, snap(1, 0));
  REQUIRE(f.written.size() == 1);
  CHECK(f.written[0].id == 7);
  CHECK(f.written[0].tasks.size() == 2);
  CHECK(f.transport.completes == std::vector<std::uint64_t>{7});
  CHECK(f.transport.recycled == std::vector<std::size_t>{0, 1});
  auto c = f.counters.get();
  CHECK(c.completed == 1);
  CHECK(c.last_id == 7);
  CHECK(c.last_bytes == 100);
}

TEST_CASE("coordinator: a checkpoint not complete within the timeout is aborted and counted", "[actors][checkpoint]") {
  fixture f;
  f.co.start();
  f.clock.t += 100ms;
  f.co.poll();
  REQUIRE(f.co.in_flight() == 7);
  f.co.on_ack(7, snap(0, 0));
  f.clock.t += 999ms;
  f.co.poll();
  CHECK(f.transport.aborts.empty());
  f.clock.t += 1ms;
  f.co.poll();
  REQUIRE(f.transport.aborts.size() == 1);
  CHECK(f.transport.aborts[0] == std::pair<std::uint64_t, abort_reason>{7, abort_reason::timed_out});
  CHECK(f.co.last_abort() == abort_reason::timed_out);
  CHECK(f.counters.get().aborted == 1);
  f.co.on_ack(7, snap(1, 0));  // too late
  CHECK(f.written.empty());
  CHECK(f.co.in_flight() == 0);
  f.clock.t += 99ms;  // the interval restarted at the last (skipped) trigger, 1,099 ms
  f.co.poll();
  CHECK(f.co.in_flight() == 8);
}

TEST_CASE("coordinator: a declined checkpoint is aborted with the task's reason, and a failed write is counted",
          "[actors][checkpoint]") {
  fixture f;
  f.co.start();
  f.clock.t += 100ms;
  f.co.poll();
  f.co.on_decline(7, abort_reason::misaligned);
  REQUIRE(f.transport.aborts.size() == 1);
  CHECK(f.transport.aborts[0].second == abort_reason::misaligned);
  CHECK(f.counters.get().aborted == 1);
  f.clock.t += 100ms;
  f.co.poll();
  REQUIRE(f.co.in_flight() == 8);
  f.fail_writes = true;
  f.co.on_ack(8, snap(0, 0));
  f.co.on_ack(8, snap(1, 0));
  CHECK(f.counters.get().failed == 1);
  REQUIRE(f.transport.aborts.size() == 2);
  CHECK(f.transport.aborts[1] == std::pair<std::uint64_t, abort_reason>{8, abort_reason::write_failed});
  CHECK(f.transport.completes.empty());
}

TEST_CASE("coordinator: a finished task's final state stands in for its ack, and no triggers without live sources",
          "[actors][checkpoint]") {
  fixture f;
  f.co.start();
  f.clock.t += 100ms;
  f.co.poll();
  f.co.on_final(snap(1, 0, true));  // the sink finished
  f.co.on_ack(7, snap(0, 0));
  REQUIRE(f.written.size() == 1);
  CHECK(f.written[0].tasks[1].finished);
  f.co.on_final(snap(0, 0, true));  // the source finished too
  f.clock.t += 100ms;
  f.co.poll();
  CHECK(f.transport.triggers.size() == 1);  // no source left to trigger
  CHECK(f.co.write_final({snap(0, 0, true), snap(1, 0, true)}));
  REQUIRE(f.written.size() == 2);
  CHECK(f.written[1].final);
  CHECK(f.written[1].id == 8);
}

TEST_CASE("coordinator: halted, it triggers no more", "[actors][checkpoint]") {
  fixture f;
  f.co.start();
  f.co.halt();
  f.clock.t += 500ms;
  f.co.poll();
  CHECK(f.transport.triggers.empty());
}
