// weir — the task actor: CAF message handlers over a task, and the
// task_host that turns the task's requests into CAF messages.
#include "weir/actors/task_actor.hpp"

#include <exception>
#include <string>

namespace weir::actors {

namespace {

/// The task's requests as CAF messages.
class caf_host final : public task_host {
public:
  caf_host(caf::event_based_actor* self, task_links& links) : self_(self), links_(links) {}

  void send(std::size_t edge, std::size_t chan, item&& it) override {
    const auto& [target, ch] = links_.out[edge][chan];
    switch (it.kind) {
      case item_kind::data: self_->send(target, data_atom::value, ch, std::move(it.data)); break;
      case item_kind::mark: self_->send(target, mark_atom::value, ch, it.time); break;
      case item_kind::eos: self_->send(target, eos_atom::value, ch, it.time != 0); break;
      case item_kind::barrier:
        self_->send(target, barrier_atom::value, ch, static_cast<std::uint64_t>(it.time));
        break;
    }
  }
  void return_credit(std::size_t ch) override {
    const auto& [sender, edge, chan] = links_.in[ch];
    self_->send(sender, credit_atom::value, edge, chan, std::int32_t{1});
  }
  void wake(wakeup w, steady::duration delay) override;
  void ack(std::uint64_t id, snapshot_ptr snap) override {
    self_->send(links_.coordinator, ack_atom::value, id, std::move(snap));
  }
  void decline(std::uint64_t id, abort_reason why) override {
    self_->send(links_.coordinator, abort_atom::value, id, static_cast<std::uint8_t>(why));
  }
  void finished(task_report report) override {
    if (report.final_state && links_.coordinator) self_->send(links_.coordinator, final_atom::value, report.final_state);
    self_->send(links_.job, done_atom::value, std::move(report));
    self_->quit();
  }

private:
  caf::event_based_actor* self_;
  task_links& links_;
};

struct task_holder {
  task_ptr cell;
  std::unique_ptr<caf_host> host;
  bool ready = false;  ///< wiring complete (init received)
};

void caf_host::wake(wakeup w, steady::duration delay) {
  switch (w) {
    case wakeup::tick:
      if (delay == steady::duration::zero())
        self_->send(self_, tick_atom::value);
      else
        self_->delayed_send(self_, delay, tick_atom::value);
      break;
    case wakeup::linger: self_->delayed_send(self_, delay, linger_atom::value); break;
    case wakeup::timer: self_->delayed_send(self_, delay, timer_atom::value); break;
  }
}

// The cell is passed at spawn (spawning without arguments trips UBSan inside
// CAF 0.17's init_fun_factory); the task is complete once `init` arrives.
caf::behavior task_actor(caf::stateful_actor<task_holder>* self, task_ptr cell) {
  self->state.cell = std::move(cell);
  self->state.host = std::make_unique<caf_host>(self, self->state.cell->links);
  self->state.cell->logic.set_host(self->state.host.get());
  // Runs a handler unless the task is not wired yet or has reported; a
  // handler's exception fails the task: the job hears "<task>: <reason>".
  auto guarded = [self](auto&& fn) {
    task& t = self->state.cell->logic;
    if (!self->state.ready || t.reported()) return;
    try {
      fn(t);
      if (!t.reported()) t.after_activation();
    } catch (const std::exception& e) {
      t.set_failed();
      t.source().close(true);
      self->send(self->state.cell->links.job, fail_atom::value, t.name() + ": " + e.what());
      self->quit();
    }
  };
  auto in = [](std::int32_t ch) { return static_cast<std::size_t>(ch); };
  return {
      [self](init_atom) { self->state.ready = true; },
      [guarded](start_atom) { guarded([](task& t) { t.on_start(); }); },
      [guarded](tick_atom) { guarded([](task& t) { t.on_tick(); }); },
      [guarded](linger_atom) { guarded([](task& t) { t.on_linger(); }); },
      [guarded](timer_atom) { guarded([](task& t) { t.on_timer(); }); },
      [guarded](stop_atom) { guarded([](task& t) { t.on_stop(); }); },
      [guarded, in](data_atom, std::int32_t ch, const batch_ptr& b) {
        guarded([&](task& t) { t.on_item(in(ch), {item_kind::data, 0, b}); });
      },
      [guarded, in](mark_atom, std::int32_t ch, std::int64_t time) {
        guarded([&](task& t) { t.on_item(in(ch), {item_kind::mark, time, nullptr}); });
      },
      [guarded, in](eos_atom, std::int32_t ch, bool drain) {
        guarded([&](task& t) { t.on_item(in(ch), {item_kind::eos, drain ? 1 : 0, nullptr}); });
      },
      [guarded, in](barrier_atom, std::int32_t ch, std::uint64_t id) {
        guarded([&](task& t) { t.on_item(in(ch), {item_kind::barrier, static_cast<std::int64_t>(id), nullptr}); });
      },
      [guarded](credit_atom, std::int32_t edge, std::int32_t ch, std::int32_t n) {
        guarded([&](task& t) {
          if (edge < 0 || ch < 0) throw std::out_of_range("credit for channel " + std::to_string(ch));
          t.on_credit(static_cast<std::size_t>(edge), static_cast<std::size_t>(ch), n);
        });
      },
      [guarded](trigger_atom, std::uint64_t id, std::int64_t at) {
        guarded([&](task& t) { t.on_trigger(id, at); });
      },
      [guarded](abort_atom, std::uint64_t id, std::uint8_t why) {
        guarded([&](task& t) { t.on_abort(id, static_cast<abort_reason>(why)); });
      },
      [guarded](complete_atom, std::uint64_t id) { guarded([&](task& t) { t.on_complete(id); }); },
      [guarded](recycle_atom, const snapshot_ptr& snap) { guarded([&](task& t) { t.on_recycle(snap); }); },
  };
}

}  // namespace

caf::actor spawn_task(caf::actor_system& sys, task_ptr cell) { return sys.spawn(task_actor, std::move(cell)); }

}  // namespace weir::actors
