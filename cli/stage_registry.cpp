// weir — the list of stage families (the registry's order is the order in
// which "did you mean" prefers names on ties), the lookup, and the helpers
// stages share when they are built.
#include "weir/cli/stage_registry.hpp"

#include <fmt/format.h>

#include "weir/cli/stages/aggregate.hpp"
#include "weir/cli/stages/formats.hpp"
#include "weir/cli/stages/joins.hpp"
#include "weir/cli/stages/kafka.hpp"
#include "weir/cli/stages/per_batch.hpp"
#include "weir/cli/stages/sinks.hpp"
#include "weir/cli/stages/sources.hpp"
#include "weir/cli/stages/state.hpp"
#include "weir/cli/stages/windows.hpp"
#include "weir/io/json.hpp"

namespace weir::dsl {

namespace {

std::vector<const stage_def*> make_registry() {
  std::vector<const stage_def*> all;
  for (auto family : {source_stages(), per_batch_stages(), window_stages(), state_stages(), join_stages(),
                      sink_stages(), aggregate_stages(), format_stages(), kafka_stages()})
    for (auto& d : family) all.push_back(&d);
  return all;
}

[[noreturn]] void fail_at(const element_function& fn, const std::string& msg) {
  throw record_error(fn.where().str() + ": " + msg);
}

}  // namespace

std::span<const stage_def* const> all_stages() {
  static const std::vector<const stage_def*> registry = make_registry();
  return registry;
}

const stage_def* find_stage(std::string_view name) {
  for (auto* d : all_stages())
    if (d->name == name) return d;
  return nullptr;
}

const stage_def& stream_ref_def() {
  static const stage_def d{
      "let stream", stage_role::source, {}, "NAME",
      [](const stage_args&) -> std::shared_ptr<const bound_stage> { return std::make_shared<no_args>(); },
      [](stage_builder& b, const stage_spec& st, const std::optional<dstream>&) { return b.stream(st.name); }};
  return d;
}

bool stage_spec::is(std::string_view stage) const { return def && def != &stream_ref_def() && def->name == stage; }

std::shared_ptr<const bound_stage> bind_no_args(const stage_args&) { return std::make_shared<no_args>(); }

std::vector<std::string> source_names() {
  std::vector<std::string> out;
  for (auto* d : all_stages())
    if (d->role == stage_role::source) out.emplace_back(d->name);
  return out;
}

std::vector<std::string> operator_names() {
  std::vector<std::string> out;
  for (auto* d : all_stages())
    if (d->role != stage_role::source) out.emplace_back(d->name);
  return out;
}

// ---- helpers for build -------------------------------------------------------

watermark_options watermark_of(const event_time_spec& et) {
  watermark_options o;
  o.time = et.time;
  o.time_text = fmt::format("time (at {})", et.loc.str());
  o.delay = et.watermark;
  o.idle_timeout = et.idle_timeout;
  return o;
}

records load_pairs(const std::string& path, const source_location& loc, std::string_view what) {
  records recs;
  try {
    recs = io::read_jsonl(path);
  } catch (const std::exception& e) {
    throw dsl_error(loc, fmt::format("{}: {}", what, e.what()));
  }
  for (std::size_t i = 0; i < recs.size(); ++i) {
    const value& r = recs[i];
    if (!r.is_array() || r.as_array().size() != 2) {
      std::string shown = r.to_json();
      if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
      throw dsl_error(loc, fmt::format("{}: {}: record {} is not a [key, value] pair: {}", what, path, i + 1,
                                       shown));
    }
  }
  return recs;
}

filter_fn bool_function(const element_function& fn, std::string what) {
  return [fn, what](const value& v) {
    value r = fn(v);
    if (!r.is_bool()) fail_at(fn, fmt::format("{} expects a bool, got {}", what, kind_name(r.type())));
    return r.as_bool();
  };
}

flat_map_fn array_function(const element_function& fn, std::string what) {
  return [fn, what](const value& v, records& out) {
    value r = fn(v);
    if (r.is_null()) return;
    if (!r.is_array()) fail_at(fn, fmt::format("{} expects an array, got {}", what, kind_name(r.type())));
    for (auto& x : r.as_array()) out.push_back(x);
  };
}

}  // namespace weir::dsl
