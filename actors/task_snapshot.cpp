// weir — a task's snapshot: runtime state encode/decode and assembly (see task_snapshot.hpp).
#include "weir/actors/task_snapshot.hpp"

#include "weir/checkpoint/checkpoint.hpp"
#include "weir/operators/snapshot.hpp"

namespace weir::actors {

namespace {
constexpr std::uint64_t layout_version = 1;
}

std::string encode_runtime_state(const runtime_state& s) {
  state_writer w;
  w.varint(layout_version);
  w.i64(s.last_mark);
  w.i64(s.next_mark);
  w.i64(s.in_wm);
  w.boolean(s.in_idle);
  w.i64(s.out_wm);
  w.boolean(s.eos_drain);
  w.varint(s.delivered.size());
  for (auto v : s.delivered) w.i64(v);
  w.varint(s.channels.size());
  for (auto& [wm, idle] : s.channels) {
    w.i64(wm);
    w.boolean(idle);
  }
  return w.take();
}

runtime_state decode_runtime_state(std::string_view bytes, const std::string& what, std::size_t chain_length,
                                   std::size_t channels) {
  runtime_state s;
  state_reader r(bytes, what);
  if (r.varint() != layout_version) r.fail("unknown runtime state layout");
  s.last_mark = r.i64();
  s.next_mark = r.i64();
  s.in_wm = r.i64();
  s.in_idle = r.boolean();
  s.out_wm = r.i64();
  s.eos_drain = r.boolean();
  if (r.varint() != chain_length) r.fail("chain length differs");
  s.delivered.resize(chain_length);
  for (auto& v : s.delivered) v = r.i64();
  if (r.varint() != channels) r.fail("number of input channels differs");
  s.channels.resize(channels);
  for (auto& [wm, idle] : s.channels) {
    wm = r.i64();
    idle = r.boolean();
  }
  r.expect_end();
  return s;
}

snapshot_ptr take_task_snapshot(const task_identity& who, std::uint64_t id, bool finished, std::string runtime,
                                io::source_reader* source, operator_chain& chain, snapshot_buffers& buffers) {
  auto snap = std::make_shared<checkpoint::task_snapshot>();
  snap->stage = who.stage;
  snap->instance = who.instance;
  snap->name = who.name;
  snap->finished = finished;
  snap->runtime = std::move(runtime);
  if (source) {
    state_writer w;
    source->snapshot_position(w);
    snap->source_position = w.take();
    snap->source_describe = source->describe_position();
  }
  buffers.bytes.resize(chain.size());
  for (std::size_t i = 0; i < chain.size(); ++i) {
    auto& op = chain[i];
    std::string buf;
    if (buffers.recycled && i < buffers.recycled->operators.size())
      buf = std::move(buffers.recycled->operators[i].bytes);
    state_writer w(std::move(buf));
    // room for the last size + 1/8: no growth by doubling (copies, faults)
    if (w.capacity() < buffers.bytes[i]) w.reserve(buffers.bytes[i] + buffers.bytes[i] / 8);
    op.op->snapshot_state(id, w);
    buffers.bytes[i] = w.size();
    snap->operators.push_back({op.name, w.take()});
  }
  buffers.recycled.reset();
  return snap;
}

}  // namespace weir::actors
