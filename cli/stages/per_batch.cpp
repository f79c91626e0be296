// weir — the DSL's per-batch operators (per_batch.hpp): parameters, binding,
// and the dstream call each one builds.
#include "weir/cli/stages/per_batch.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace weir::dsl {

namespace {

using P = param_type;
using bound = std::shared_ptr<const bound_stage>;
using input = std::optional<dstream>;
constexpr std::int64_t max_int = std::numeric_limits<std::int64_t>::max();

constexpr param_def on_error{"on_error", P::on_error};

bound bind_element(const stage_args& a) {
  auto s = std::make_shared<element_stage>();
  a.get("f", s->fn);
  return s;
}

bound bind_sample(const stage_args& a) {
  auto s = std::make_shared<sample_stage>();
  a.get("fraction", s->fraction);
  a.get("seed", s->seed);
  return s;
}

/// union(s1, s2, ...): every argument a `let` stream.
bound bind_union(const stage_args& a) {
  const ast::stage& s = a.call();
  if (!s.named.empty())
    throw dsl_error(s.named.front().loc, fmt::format("unknown named argument '{}' for union() (usage: {})",
                                                     s.named.front().name, a.def().usage));
  if (s.args.empty())
    throw dsl_error(s.loc, fmt::format("wrong number of arguments: union() needs at least one stream "
                                       "(usage: {})",
                                       a.def().usage));
  auto u = std::make_shared<union_stage>();
  for (auto& e : s.args) {
    if (e->kind == ast::expr_kind::call && e->name == "table")
      throw dsl_error(e->loc, "union cannot take a table(...): it combines streams; bind the other "
                              "streams with 'let' and name them");
    u->others.push_back(a.stream_name(*e, false));
  }
  return u;
}

/// The event time after a union (the records are unchanged): the inputs'
/// one when every input has the same `time =` expression; else, when every
/// input has a watermark, none (aggregate needs its own `time =`) but the
/// watermark stays the minimum of the inputs' (Flink); else none.
stream_time union_time(const std::vector<stream_time>& in, const source_location& at) {
  bool same = true, all_watermarked = true;
  for (auto& t : in) {
    same = same && t.time && t.form == in.front().form;
    all_watermarked = all_watermarked && (t.time || t.watermarked);
  }
  if (same) return in.front();
  stream_time out;
  out.watermarked = all_watermarked;
  auto timed = std::find_if(in.begin(), in.end(), [](const stream_time& t) { return t.time.has_value(); });
  if (timed == in.end()) return out;  // no input has an event time
  out.lost_by = "union";
  out.loc = timed->loc;
  std::string times;
  for (auto& t : in) {
    if (!times.empty()) times += ", ";
    times += t.time ? "time at " + t.loc.str() : std::string("none");
  }
  out.lost_why = fmt::format("the inputs of union() at {} have different event times ({}); give aggregate(time = "
                             "...) here{}",
                             at.str(), times,
                             all_watermarked ? " (the watermark stays the minimum of the inputs')" : "");
  return out;
}

bound bind_reduce(const stage_args& a) {
  auto s = std::make_shared<reduce_stage>();
  a.get("func", s->reduce);
  return s;
}

bound bind_combine(const stage_args& a) {
  auto s = std::make_shared<combine_stage>();
  a.get("create", s->create);
  a.get("merge_value", s->merge_value);
  a.get("merge_combiners", s->merge_combiners);
  return s;
}

bound bind_sort(const stage_args& a) {
  auto s = std::make_shared<sort_stage>();
  a.get("key", s->key);
  a.get("ascending", s->ascending);
  return s;
}

bound bind_top(const stage_args& a) {
  auto s = std::make_shared<top_stage>();
  a.get("n", s->n);
  s->has_by = a.get("by", s->by);
  return s;
}

const element_function& fn_of(const stage_spec& st) { return st.as<element_stage>().fn; }

}  // namespace

std::span<const stage_def> per_batch_stages() {
  static const std::vector<stage_def> stages = {
      {"map", stage_role::op, {{"f", P::function, true}, on_error}, "map(expr, on_error = fail)", bind_element,
       [](stage_builder& b, const stage_spec& st, const input& in) {
         return in->map(fn_of(st), b.policy(st.on_error), "map");
       }},
      {"flat_map", stage_role::op, {{"f", P::function, true}, on_error}, "flat_map(expr, on_error = fail)",
       bind_element,
       [](stage_builder& b, const stage_spec& st, const input& in) {
         return in->flat_map(array_function(fn_of(st), "flat_map()"), b.policy(st.on_error), "flat_map");
       }},
      {"filter", stage_role::op, {{"f", P::function, true}, on_error}, "filter(expr, on_error = fail)",
       bind_element,
       [](stage_builder& b, const stage_spec& st, const input& in) {
         return in->filter(bool_function(fn_of(st), "filter()"), b.policy(st.on_error), "filter");
       },
       {.event_time = event_time_effect::keeps}},
      {"map_values", stage_role::op, {{"f", P::function, true}}, "map_values(expr)", bind_element,
       [](stage_builder&, const stage_spec& st, const input& in) { return in->map_values(fn_of(st)); }},
      {"flat_map_values", stage_role::op, {{"f", P::function, true}}, "flat_map_values(expr)", bind_element,
       [](stage_builder&, const stage_spec& st, const input& in) {
         return in->flat_map_values(array_function(fn_of(st), "flat_map_values()"));
       }},
      {"glom", stage_role::op, {}, "glom()", bind_no_args,
       [](stage_builder&, const stage_spec&, const input& in) { return in->glom(); }},
      {"distinct", stage_role::op, {}, "distinct()", bind_no_args,
       [](stage_builder&, const stage_spec&, const input& in) { return in->distinct(); }},
      {"sample", stage_role::op,
       {{"fraction", P::fraction, true}, {"seed", P::integer, false, {}, 0, max_int}},
       "sample(fraction, seed = 0)", bind_sample,
       [](stage_builder&, const stage_spec& st, const input& in) {
         const auto& s = st.as<sample_stage>();
         return in->sample(s.fraction, s.seed);
       }},
      {"union", stage_role::op, {{"streams", P::stream, true}}, "union(stream, ...)", bind_union,
       [](stage_builder& b, const stage_spec& st, const input& in) {
         std::vector<dstream> others;
         std::vector<stream_time> times{b.input_time()};
         for (auto& o : st.as<union_stage>().others) {
           others.push_back(b.stream(o.name));
           times.push_back(b.time_of(o.name));
         }
         b.set_output_time(union_time(times, st.loc));
         return in->union_with(others);
       },
       {.own_arguments = true, .event_time = event_time_effect::sets_itself}},
      {"count", stage_role::op, {}, "count()", bind_no_args,
       [](stage_builder&, const stage_spec&, const input& in) { return in->count(); }},
      {"count_by_value", stage_role::op, {}, "count_by_value()", bind_no_args,
       [](stage_builder&, const stage_spec&, const input& in) { return in->count_by_value(); }},
      {"reduce", stage_role::op, {{"func", P::reducer, true}}, "reduce(func)", bind_reduce,
       [](stage_builder&, const stage_spec& st, const input& in) {
         return in->reduce(st.as<reduce_stage>().reduce);
       }},
      {"reduce_by_key", stage_role::op, {{"func", P::reducer, true}}, "reduce_by_key(func)", bind_reduce,
       [](stage_builder&, const stage_spec& st, const input& in) {
         return in->reduce_by_key(st.as<reduce_stage>().reduce);
       }},
      {"group_by_key", stage_role::op, {}, "group_by_key()", bind_no_args,
       [](stage_builder&, const stage_spec&, const input& in) { return in->group_by_key(); }},
      {"combine_by_key", stage_role::op,
       {{"create", P::function, true},
        {"merge_value", P::merge, true, {}, 0, 0, "(combiner, value)", "(c, v) => c + 1"},
        {"merge_combiners", P::merge, true, {}, 0, 0, "(combiner1, combiner2)", "(a, b) => a + b"}},
       "combine_by_key(create, merge_value, merge_combiners)", bind_combine,
       [](stage_builder&, const stage_spec& st, const input& in) {
         const auto& s = st.as<combine_stage>();
         return in->combine_by_key(s.create, s.merge_value, s.merge_combiners);
       }},
      {"sort_by", stage_role::op, {{"key", P::function, true}, {"ascending", P::boolean}},
       "sort_by(expr, ascending = true)", bind_sort,
       [](stage_builder&, const stage_spec& st, const input& in) {
         const auto& s = st.as<sort_stage>();
         return in->sort_by(s.key, s.ascending);
       }},
      {"top", stage_role::op, {{"n", P::integer, true, {}, 1, 1 << 30}, {"by", P::function}},
       "top(n, by = expr)", bind_top,
       [](stage_builder&, const stage_spec& st, const input& in) {
         const auto& s = st.as<top_stage>();
         if (s.has_by) return in->top(s.n, s.by);
         return in->top(s.n, [](const value& v) { return v; });
       }},
  };
  return stages;
}

}  // namespace weir::dsl
