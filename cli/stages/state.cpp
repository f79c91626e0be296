// weir — the DSL's state operators (state.hpp): parameters, binding, and the
// dstream call each one builds.
#include "weir/cli/stages/state.hpp"

namespace weir::dsl {

namespace {

using P = param_type;
using bound = std::shared_ptr<const bound_stage>;
using input = std::optional<dstream>;

bound bind_update_state(const stage_args& a) {
  auto s = std::make_shared<update_state_stage>();
  a.get("f", s->update);
  if (a.get("initial", s->initial_path)) s->initial_loc = a.loc("initial");
  return s;
}

bound bind_map_with_state(const stage_args& a) {
  auto s = std::make_shared<map_with_state_stage>();
  a.get("f", s->fn);
  a.get("timeout", s->timeout);
  if (a.get("initial", s->initial_path)) s->initial_loc = a.loc("initial");
  return s;
}

}  // namespace

std::span<const stage_def> state_stages() {
  static const std::vector<stage_def> stages = {
      {"update_state_by_key", stage_role::op,
       {{"f", P::state_update, true, {}, 0, 0, "(values, state)"}, {"initial", P::path, false, "initial state path"}},
       "update_state_by_key((values, state) => expr | (time, key, values, state) => expr, initial = path)",
       bind_update_state,
       [](stage_builder&, const stage_spec& st, const input& in) {
         const auto& s = st.as<update_state_stage>();
         update_state_options o;
         if (!s.initial_path.empty())
           o.initial = load_pairs(s.initial_path, s.initial_loc, "update_state_by_key initial state");
         if (s.update.timed) return in->update_state_by_key(s.update.timed, std::move(o));
         return in->update_state_by_key(s.update.values_state, std::move(o));
       }},
      {"map_with_state", stage_role::op,
       {{"f", P::state_function, true, {}, 0, 0, "(key, value, state)"},
        {"timeout", P::duration},
        {"initial", P::path, false, "initial state path"}},
       "map_with_state((key, value, state) => expr, timeout = D, initial = path)", bind_map_with_state,
       [](stage_builder&, const stage_spec& st, const input& in) {
         const auto& s = st.as<map_with_state_stage>();
         map_with_state_options o;
         o.timeout = s.timeout;
         if (!s.initial_path.empty())
           o.initial = load_pairs(s.initial_path, s.initial_loc, "map_with_state initial state");
         return in->map_with_state(s.fn, std::move(o));
       },
       {.yields_state_stream = true}},
      {"state_snapshots", stage_role::op, {}, "state_snapshots()", bind_no_args,
       [](stage_builder&, const stage_spec&, const input& in) { return in->state_snapshots(); },
       {.needs_state_stream = true}},
  };
  return stages;
}

}  // namespace weir::dsl
