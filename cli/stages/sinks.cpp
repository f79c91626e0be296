// weir — the DSL's own sinks (sinks.hpp): parameters, binding, and the
// dstream call each one builds.
#include "weir/cli/stages/sinks.hpp"

namespace weir::dsl {

namespace {

using P = param_type;
using bound = std::shared_ptr<const bound_stage>;
using input = std::optional<dstream>;

bound bind_print(const stage_args& a) {
  auto s = std::make_shared<print_stage>();
  a.get("n", s->n);
  return s;
}

bound bind_path(const stage_args& a) {
  auto s = std::make_shared<path_sink_stage>();
  a.get("path", s->path);
  return s;
}

}  // namespace

std::span<const stage_def> sink_stages() {
  static const std::vector<stage_def> stages = {
      {"print", stage_role::sink, {{"n", P::integer, false, {}, 0, 1 << 30}}, "print(n = 10)", bind_print,
       [](stage_builder&, const stage_spec& st, const input& in) {
         in->print(st.as<print_stage>().n);
         return *in;
       }},
      {"write_jsonl", stage_role::sink, {{"path", P::path, true}}, "write_jsonl(path)", bind_path,
       [](stage_builder&, const stage_spec& st, const input& in) {
         in->write_jsonl(st.as<path_sink_stage>().path);
         return *in;
       }},
      {"collect", stage_role::sink, {{"path", P::path, true}}, "collect(path)", bind_path,
       [](stage_builder&, const stage_spec& st, const input& in) {
         in->collect(st.as<path_sink_stage>().path);
         return *in;
       }},
  };
  return stages;
}

}  // namespace weir::dsl
