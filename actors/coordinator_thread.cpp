// weir — the checkpoint coordinator's thread (see coordinator_thread.hpp).
#include "weir/actors/coordinator_thread.hpp"

#include <chrono>

namespace weir::actors {

namespace {
using halt_atom = caf::atom_constant<caf::atom("halt")>;
}

coordinator_thread::coordinator_thread(caf::actor_system& sys) : sys_(sys) {
  // a blocking actor: CAF runs it on a thread of its own. The owner is a
  // spawn argument: spawning a function without arguments trips UBSan inside
  // CAF 0.17 (init_fun_factory dereferences a null argument tuple).
  actor_ = sys_.spawn<caf::detached>(
      [](caf::blocking_actor* self, coordinator_thread* owner) { owner->run(self); }, this);
}

coordinator_thread::~coordinator_thread() { stop(); }

void coordinator_thread::start(checkpoint_coordinator& co, std::vector<caf::actor> tasks,
                               std::vector<caf::actor> sources) {
  co_ = &co;
  tasks_ = std::move(tasks);
  sources_ = std::move(sources);
  caf::anon_send(actor_, start_atom::value);  // the message orders the handles before their use
}

void coordinator_thread::halt() { caf::anon_send(actor_, halt_atom::value); }

void coordinator_thread::stop() {
  if (stopped_) return;
  stopped_ = true;
  caf::anon_send(actor_, stop_atom::value);
  caf::scoped_actor waiter(sys_);
  waiter->wait_for(actor_);
  actor_ = nullptr;
}

void coordinator_thread::run(caf::blocking_actor* self) {
  self_ = self;
  bool running = true;
  self->receive([&](start_atom) {}, [&](stop_atom) { running = false; });
  if (!running) return;
  co_->start();
  while (running) {
    const auto until = co_->poll();
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now());
    if (wait.count() < 1) wait = std::chrono::milliseconds(1);
    self->receive(
        [&](ack_atom, std::uint64_t id, const snapshot_ptr& snap) { co_->on_ack(id, snap); },
        [&](abort_atom, std::uint64_t id, std::uint8_t why) { co_->on_decline(id, static_cast<abort_reason>(why)); },
        [&](final_atom, const snapshot_ptr& snap) { co_->on_final(snap); },
        [&](halt_atom) { co_->halt(); },
        [&](stop_atom) { running = false; },
        caf::after(wait) >> [] {});
  }
}

void coordinator_thread::trigger(std::uint64_t id, std::int64_t at) {
  for (auto& h : sources_) self_->send(h, trigger_atom::value, id, at);
}

void coordinator_thread::abort(std::uint64_t id, abort_reason why) {
  for (auto& h : tasks_) self_->send(h, abort_atom::value, id, static_cast<std::uint8_t>(why));
}

void coordinator_thread::complete(std::uint64_t id) {
  for (auto& h : tasks_) self_->send(h, complete_atom::value, id);
}

void coordinator_thread::recycle(std::size_t task, snapshot_ptr buffers) {
  self_->send(tasks_[task], recycle_atom::value, std::move(buffers));
}

}  // namespace weir::actors
