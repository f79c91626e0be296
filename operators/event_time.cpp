// weir — event time (operators/event_time.hpp): the window operators'
// factory (it checks the options and picks the operator for the shape),
// window_spec, and event_time_of. The operators live one per file:
// watermark_assigner.cpp, fixed_windows.cpp, session_windows.cpp,
// count_panes.cpp, on detail/event_window_base.hpp and
// detail/window_aggregator.hpp. docs/architecture.md §5.
#include "weir/operators/event_time.hpp"

#include <string>
#include <utility>

#include "weir/common/time.hpp"
#include "weir/operators/detail/event_window_base.hpp"
#include "weir/operators/detail/window_aggregator.hpp"

namespace weir {

std::int64_t event_time_of(const value& v, const std::string& what) {
  if (v.is_int()) return v.as_int();
  if (v.is_real()) {
    double d = v.as_real();
    if (d >= -9.2e18 && d <= 9.2e18) return static_cast<std::int64_t>(d);
  }
  std::string hint = v.is_string() ? "; parse strings with parse_time(s, format)" : "";
  throw record_error(error_code::type_mismatch, what + ": expected the event time in ms (an int), got " +
                     std::string(kind_name(v.type())) + (v.is_null() ? "" : " " + detail::shown(v)) + hint);
}

operator_ptr make_event_window(event_window_options o) {
  const auto& w = o.window;
  if (w.type == window_spec::kind::session) {
    if (w.gap_ms <= 0)
      throw pipeline_error(error_code::invalid_argument,
                           "session gap must be positive, got " + std::to_string(w.gap_ms) + "ms");
  } else {
    if (w.size_ms <= 0) throw pipeline_error("window size must be positive, got " + std::to_string(w.size_ms) + "ms");
    if (w.type == window_spec::kind::sliding && (w.slide_ms <= 0 || w.slide_ms > w.size_ms))
      throw pipeline_error("sliding window slide must be positive and at most the size, got " +
                           duration_text(w.slide_ms) + " for size " + duration_text(w.size_ms));
  }
  if (o.allowed_lateness.count() < 0)
    throw pipeline_error(error_code::invalid_argument,
                         "allowed lateness must not be negative, got " + std::to_string(o.allowed_lateness.count()) +
                             "ms");
  // Panes (Li et al. 2005, "No pane, no gain"): counts in append mode are
  // exact whatever the grouping, so each record is counted once, in its
  // gcd(size, slide) pane, and a window sums its panes when it fires. The
  // other aggregations keep the per-window operator: regrouping a
  // floating-point sum changes its last bits, a reduce function need not be
  // associative and commutative, min/max keep the first of equal values in
  // arrival order; update mode wants every window's result after every record.
  for (std::size_t i = 0; i < o.aggs.size(); ++i) {
    const auto& a = o.aggs[i];
    if (a.name.empty() || a.name == "start" || a.name == "end" || a.name == "key")
      throw pipeline_error(error_code::invalid_argument,
                           "aggs: an aggregation cannot be named \"" + a.name + "\" (the result has start, end and key)");
    for (std::size_t j = 0; j < i; ++j)
      if (o.aggs[j].name == a.name)
        throw pipeline_error(error_code::invalid_argument, "aggs: the name \"" + a.name + "\" is used twice");
    if (!a.value && a.type != named_aggregation::kind::count)
      throw pipeline_error(error_code::invalid_argument, "aggs." + a.name + ": this aggregation needs a value");
  }
  if (w.type == window_spec::kind::session) return detail::make_session_windows(std::move(o));
  if (o.aggs.empty() && o.agg.type == aggregation::kind::count && o.output == output_mode::append)
    return detail::make_count_panes(std::move(o));
  return detail::make_fixed_windows(std::move(o));
}

window_spec window_spec::tumbling(std::chrono::milliseconds size) {
  window_spec w;
  w.type = kind::tumbling;
  w.size_ms = size.count();
  return w;
}

window_spec window_spec::sliding(std::chrono::milliseconds size, std::chrono::milliseconds slide) {
  window_spec w;
  w.type = kind::sliding;
  w.size_ms = size.count();
  w.slide_ms = slide.count();
  return w;
}

window_spec window_spec::session(std::chrono::milliseconds gap) {
  window_spec w;
  w.type = kind::session;
  w.gap_ms = gap.count();
  return w;
}

std::string window_spec::describe() const {
  switch (type) {
    case kind::tumbling: return "tumbling(" + duration_text(size_ms) + ")";
    case kind::sliding: return "sliding(" + duration_text(size_ms) + ", " + duration_text(slide_ms) + ")";
    case kind::session: return "session(" + duration_text(gap_ms) + ")";
  }
  return "window";
}

}  // namespace weir
