// weir — the CAF side of the wire protocol (actors/protocol.hpp): the atoms
// of every message between tasks, the job and the checkpoint coordinator,
// and the message types CAF may carry without serialization. Included only
// by the runtime's .cpp files that talk CAF (task_actor, coordinator_thread,
// job); no header outside them includes CAF.
//
//   task → task          data(ch, batch)  mark(ch, t)  barrier(ch, id)  eos(ch, drain)
//   task → sender task   credit(edge, ch, n)
//   task → itself        tick  linger  timer
//   job → task           init  start  stop
//   task → job           done(report)  fail(text)
//   coordinator → task   trigger(id, at)  abort(id, reason)  complete(id)  recycle(buffers)
//   task → coordinator   ack(id, snapshot)  abort(id, reason)  final(snapshot)
//   job → coordinator    stop
#pragma once

#include <caf/all.hpp>

#include "weir/actors/protocol.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(weir::actors::batch_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(weir::actors::task_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(weir::actors::snapshot_ptr)

namespace weir::actors {

using data_atom = caf::atom_constant<caf::atom("data")>;
using mark_atom = caf::atom_constant<caf::atom("mark")>;
using eos_atom = caf::atom_constant<caf::atom("eos")>;
using credit_atom = caf::atom_constant<caf::atom("credit")>;
using init_atom = caf::atom_constant<caf::atom("init")>;
using start_atom = caf::atom_constant<caf::atom("start")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using fail_atom = caf::atom_constant<caf::atom("fail")>;
using linger_atom = caf::atom_constant<caf::atom("linger")>;
using timer_atom = caf::atom_constant<caf::atom("timer")>;
using barrier_atom = caf::atom_constant<caf::atom("barrier")>;
using trigger_atom = caf::atom_constant<caf::atom("trigger")>;
using ack_atom = caf::atom_constant<caf::atom("ack")>;
using abort_atom = caf::atom_constant<caf::atom("abort")>;
using complete_atom = caf::atom_constant<caf::atom("complete")>;
using recycle_atom = caf::atom_constant<caf::atom("recycle")>;
using final_atom = caf::atom_constant<caf::atom("final")>;

}  // namespace weir::actors
