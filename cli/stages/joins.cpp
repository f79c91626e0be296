// weir — the DSL's two-stream operators (joins.hpp): parameters, binding,
// and the dstream call each one builds; a table is read when built.
#include "weir/cli/stages/joins.hpp"

namespace weir::dsl {

namespace {

using P = param_type;
using bound = std::shared_ptr<const bound_stage>;
using input = std::optional<dstream>;

bound bind_join(const stage_args& a) {
  auto s = std::make_shared<join_stage>();
  a.get("other", s->other);
  return s;
}

template <join_kind K>
dstream build_join(stage_builder& b, const stage_spec& st, const input& in) {
  const auto& o = st.as<join_stage>().other;
  if (o.is_table) return in->join_table(load_pairs(o.table, o.table_loc, "table"), K);
  return in->join(b.stream(o.stream.name), K);
}

}  // namespace

std::span<const stage_def> join_stages() {
  static const std::vector<stage_def> stages = {
      {"join", stage_role::op, {{"other", P::stream_or_table, true}}, "join(stream or table(path))", bind_join,
       build_join<join_kind::inner>},
      {"left_outer_join", stage_role::op, {{"other", P::stream_or_table, true}},
       "left_outer_join(stream or table(path))", bind_join, build_join<join_kind::left_outer>},
      {"right_outer_join", stage_role::op, {{"other", P::stream_or_table, true}},
       "right_outer_join(stream or table(path))", bind_join, build_join<join_kind::right_outer>},
      {"full_outer_join", stage_role::op, {{"other", P::stream_or_table, true}},
       "full_outer_join(stream or table(path))", bind_join, build_join<join_kind::full_outer>},
      {"cogroup", stage_role::op, {{"other", P::stream, true}}, "cogroup(stream)", bind_join,
       [](stage_builder& b, const stage_spec& st, const input& in) {
         return in->cogroup(b.stream(st.as<join_stage>().other.stream.name));
       }},
  };
  return stages;
}

}  // namespace weir::dsl
