// weir — the DSL's aggregate (aggregate.hpp): parameters, binding, which
// event time applies, the late-record side output, and the dstream call.
#include "weir/cli/stages/aggregate.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

namespace weir::dsl {

namespace {

using P = param_type;
using bound = std::shared_ptr<const bound_stage>;
using input = std::optional<dstream>;

bound bind_aggregate(const stage_args& a) {
  auto s = std::make_shared<aggregate_stage>();
  a.get("window", s->window);
  const bool has_func = a.get("func", s->agg);
  const bool has_aggs = a.get("aggs", s->aggs);
  if (has_func && has_aggs)
    throw dsl_error(a.loc("aggs"), "aggregate takes a function or aggs = {...}, not both");
  if (!has_func && !has_aggs)
    throw dsl_error(a.call().loc, "wrong number of arguments: aggregate() needs what to compute: a function "
                                  "(count, sum, ...) or aggs = {name: agg, ...}");
  s->has_key = a.get("key", s->key_fn);
  s->has_value = a.get("value", s->value_fn);
  if (has_aggs && s->has_value)
    throw dsl_error(a.loc("value"), "aggregate(value = ...) does not apply to aggs; give each aggregation its "
                                    "value: aggs = {total: sum(.bytes)}");
  if (a.get("time", s->event_time.time)) {
    s->event_time.set = true;
    s->event_time.loc = a.loc("time");
  }
  s->event_time.has_watermark = a.get("watermark", s->event_time.watermark);
  a.get("idle_timeout", s->event_time.idle_timeout);
  a.get("allowed_lateness", s->allowed_lateness);
  a.get("late", s->late);
  a.get("output", s->output);
  if (s->event_time.has_watermark && !s->event_time.set)
    throw dsl_error(a.call().loc, "aggregate(watermark = ...) needs the event time: add time = expr "
                                  "(or set time = and watermark = on the source)");
  return s;
}

/// The late-record side output `late = write_jsonl(path)`: one JSON line per
/// late record, shared by the parallel instances of an aggregate.
class late_writer {
public:
  explicit late_writer(const std::string& path) : f_(std::fopen(path.c_str(), "w")) {
    if (!f_) throw pipeline_error(fmt::format("write_jsonl(\"{}\"): cannot open: {}", path, std::strerror(errno)));
  }
  ~late_writer() {
    if (f_) std::fclose(f_);
  }
  late_writer(const late_writer&) = delete;
  late_writer& operator=(const late_writer&) = delete;
  void write(const value& v) {
    std::string line = v.to_json();
    line += '\n';
    std::lock_guard<std::mutex> lock(m_);
    std::fwrite(line.data(), 1, line.size(), f_);
  }

private:
  std::mutex m_;
  std::FILE* f_;
};

/// The event time: aggregate's own `time =`, else the input stream's, else
/// processing time — unless the input had one that a stage in between lost.
dstream build_aggregate(stage_builder& b, const stage_spec& st, const input& input_stream) {
  const auto& s = st.as<aggregate_stage>();
  const stream_time& time = b.input_time();
  dstream in = *input_stream;
  event_window_options o;
  o.window = s.window;
  o.agg = s.agg;
  o.aggs = s.aggs;
  o.allowed_lateness = s.allowed_lateness;
  o.output = s.output;
  if (s.has_value) o.value_of = s.value_fn;
  if (s.event_time.set) {
    o.time = s.event_time.time;
    o.time_text = fmt::format("time (at {})", s.event_time.loc.str());
    // its own watermark, unless the stream already has one and none is asked for here
    // (after a union of inputs with different event times: theirs, the minimum)
    if (s.event_time.has_watermark || !(time.time || time.watermarked))
      in = in.with_watermark(watermark_of(s.event_time));
  } else if (time.time) {
    o.time = *time.time;
    o.time_text = fmt::format("time (at {})", time.loc.str());
  } else if (!time.lost_why.empty()) {
    throw dsl_error(st.loc, "aggregate: " + time.lost_why);
  } else if (!time.lost_by.empty() && time.loc.line > 0) {
    throw dsl_error(st.loc, fmt::format("aggregate: the event time set at {} does not apply after {}() "
                                        "changed the records; give aggregate(time = ...) here",
                                        time.loc.str(), time.lost_by));
  }  // else: processing time
  if (!s.late.path.empty()) {
    std::shared_ptr<late_writer> w;
    try {
      w = std::make_shared<late_writer>(s.late.path);
    } catch (const pipeline_error& e) {
      throw dsl_error(s.late.loc, e.what());
    }
    o.late = [w](const value& v) { w->write(v); };
  }
  return in.aggregate(std::move(o), s.has_key ? extract_fn(s.key_fn) : extract_fn{});
}

}  // namespace

std::span<const stage_def> aggregate_stages() {
  static const std::vector<stage_def> stages = {
      {"aggregate", stage_role::op,
       {{"window", P::window_shape, true},
        {"func", P::aggregation},
        {"key", P::function, false, "aggregate(key = ...)"},
        {"value", P::function, false, "aggregate(value = ...)"},
        {"time", P::function, false, "aggregate(time = ...)"},
        {"watermark", P::delay, false, "watermark delay"},
        {"idle_timeout", P::delay},
        {"allowed_lateness", P::delay},
        {"late", P::side_sink},
        {"output", P::output_mode},
        {"aggs", P::aggregations}},
       "aggregate(tumbling(1m) | sliding(10m, 1m) | session(30m), count | sum | min | max | avg | "
       "(a, b) => ... | aggs = {name: count | sum(e) | min(e) | max(e) | avg(e) | stddev(e) | "
       "count_distinct(e) | first(e) | last(e) | collect_list(e), ...}, key = expr, value = expr, time = expr, "
       "watermark = 10s, allowed_lateness = 0s, late = write_jsonl(path), output = \"append\" | \"update\")",
       bind_aggregate, build_aggregate, {.event_time = event_time_effect::ends}},
  };
  return stages;
}

}  // namespace weir::dsl
