// weir — the DSL's window operators (windows.hpp): parameters, binding, the
// window rule with the DSL's messages, and the dstream call each one builds.
#include "weir/cli/stages/windows.hpp"

#include <fmt/format.h>

#include "weir/operators/window_rule.hpp"

namespace weir::dsl {

namespace {

using P = param_type;
using bound = std::shared_ptr<const bound_stage>;
using input = std::optional<dstream>;

constexpr param_def func{"func", P::reducer, true};
constexpr param_def window{"window", P::duration, true};
constexpr param_def slide{"slide", P::duration};
constexpr param_def inverse{"inverse", P::reducer};

bound bind_window(const stage_args& a) {
  auto s = std::make_shared<window_stage>();
  if (a.takes("func")) a.get("func", s->reduce);
  if (a.get("window", s->window)) s->window_loc = a.loc("window");
  if (a.get("slide", s->slide)) s->slide_loc = a.loc("slide");
  if (a.takes("inverse")) a.get("inverse", s->inverse);
  if (a.takes("filter")) s->has_filter = a.get("filter", s->filter);
  return s;
}

/// One length against the window rule, at its argument.
void check_length(std::chrono::milliseconds d, const source_location& loc, std::string_view what,
                  std::chrono::milliseconds batch_interval, std::chrono::milliseconds input_slide) {
  switch (check_window_length(d, batch_interval, input_slide)) {
    case window_fault::none: return;
    case window_fault::not_positive: throw dsl_error(loc, fmt::format("{} must be positive", what));
    case window_fault::not_batch_multiple:
      throw dsl_error(loc, fmt::format("{} {} is not a multiple of the batch interval {}", what,
                                       format_duration(d), format_duration(batch_interval)));
    case window_fault::not_input_slide_multiple:
      throw dsl_error(loc, fmt::format("{} {} is not a multiple of the input stream's slide {}", what,
                                       format_duration(d), format_duration(input_slide)));
  }
}

/// The window, and the slide if given (else it is the input's), against the
/// batch interval and the input stream's slide.
const window_stage& checked(stage_builder& b, const stage_spec& st, const dstream& in) {
  const auto& s = st.as<window_stage>();
  const auto batch = b.context().options().batch_interval;
  check_length(s.window, s.window_loc, "window", batch, in.slide());
  if (s.slide.count() > 0) check_length(s.slide, s.slide_loc, "slide", batch, in.slide());
  return s;
}

}  // namespace

std::span<const stage_def> window_stages() {
  static const std::vector<stage_def> stages = {
      {"window", stage_role::op, {window, slide}, "window(window, slide)", bind_window,
       [](stage_builder& b, const stage_spec& st, const input& in) {
         const auto& s = checked(b, st, *in);
         return in->window(s.window, s.slide);
       }},
      {"count_by_window", stage_role::op, {window, slide}, "count_by_window(window, slide)", bind_window,
       [](stage_builder& b, const stage_spec& st, const input& in) {
         const auto& s = checked(b, st, *in);
         return in->count_by_window(s.window, s.slide);
       }},
      {"reduce_by_window", stage_role::op, {func, window, slide, inverse},
       "reduce_by_window(func, window, slide, inverse = func)", bind_window,
       [](stage_builder& b, const stage_spec& st, const input& in) {
         const auto& s = checked(b, st, *in);
         return in->reduce_by_window(s.reduce, s.window, s.slide, s.inverse);
       }},
      {"reduce_by_key_and_window", stage_role::op,
       {func, window, slide, inverse, {"filter", P::function, false, "reduce_by_key_and_window(filter = ...)"}},
       "reduce_by_key_and_window(func, window, slide, inverse = func, filter = expr)", bind_window,
       [](stage_builder& b, const stage_spec& st, const input& in) {
         const auto& s = checked(b, st, *in);
         return in->reduce_by_key_and_window(
             s.reduce, s.window, s.slide, s.inverse,
             s.has_filter ? bool_function(s.filter, "reduce_by_key_and_window(filter = ...)") : filter_fn{});
       }},
      {"group_by_key_and_window", stage_role::op, {window, slide}, "group_by_key_and_window(window, slide)",
       bind_window,
       [](stage_builder& b, const stage_spec& st, const input& in) {
         const auto& s = checked(b, st, *in);
         return in->group_by_key_and_window(s.window, s.slide);
       }},
      {"count_by_value_and_window", stage_role::op, {window, slide}, "count_by_value_and_window(window, slide)",
       bind_window,
       [](stage_builder& b, const stage_spec& st, const input& in) {
         const auto& s = checked(b, st, *in);
         return in->count_by_value_and_window(s.window, s.slide);
       }},
  };
  return stages;
}

}  // namespace weir::dsl
