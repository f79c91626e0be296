// weir — the window rule (window_rule.hpp): positive multiples of the batch
// interval and of the input stream's slide.
#include "weir/operators/window_rule.hpp"

#include <string>

#include "weir/operators/errors.hpp"

namespace weir {

window_fault check_window_length(std::chrono::milliseconds d, std::chrono::milliseconds batch_interval,
                                 std::chrono::milliseconds input_slide) noexcept {
  if (d.count() <= 0) return window_fault::not_positive;
  if (batch_interval.count() > 0 && d.count() % batch_interval.count() != 0)
    return window_fault::not_batch_multiple;
  if (input_slide.count() > 0 && d.count() % input_slide.count() != 0)
    return window_fault::not_input_slide_multiple;
  return window_fault::none;
}

void check_window(const char* op, std::chrono::milliseconds window, std::chrono::milliseconds slide,
                  std::chrono::milliseconds batch_interval, std::chrono::milliseconds input_slide) {
  auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; };
  auto fail = [&](const std::string& what) {
    throw pipeline_error(error_code::invalid_argument, std::string(op) + ": " + what);
  };
  const window_fault faults[] = {check_window_length(window, batch_interval, input_slide),
                                 check_window_length(slide, batch_interval, input_slide)};
  const char* names[] = {"window", "slide"};
  const std::chrono::milliseconds lengths[] = {window, slide};
  for (int i = 0; i < 2; ++i) {
    if (faults[i] == window_fault::not_positive)
      fail(std::string(names[i]) + " must be positive, got " + ms(lengths[i]));
    if (faults[i] == window_fault::not_batch_multiple)
      fail(std::string(names[i]) + " " + ms(lengths[i]) + " is not a multiple of the batch interval " +
           ms(batch_interval));
  }
  if (faults[0] == window_fault::not_input_slide_multiple || faults[1] == window_fault::not_input_slide_multiple)
    fail("window " + ms(window) + " and slide " + ms(slide) + " must be multiples of the input stream's slide " +
         ms(input_slide));
}

}  // namespace weir
