// The window rule (operators/window_rule.hpp) that the API, the window
// operators and the DSL share.
#include <catch2/catch.hpp>

#include "weir/operators/errors.hpp"
#include "weir/operators/window_rule.hpp"

using namespace weir;
using namespace std::chrono_literals;

TEST_CASE("window rule: check_window_length names the part of the rule a length breaks", "[operators][window]") {
  CHECK(check_window_length(0ms, 1000ms, 1000ms) == window_fault::not_positive);
  CHECK(check_window_length(-2000ms, 1000ms, 1000ms) == window_fault::not_positive);
  CHECK(check_window_length(1500ms, 1000ms, 1000ms) == window_fault::not_batch_multiple);
  // the batch interval is checked before the input slide
  CHECK(check_window_length(1500ms, 1000ms, 3000ms) == window_fault::not_batch_multiple);
  CHECK(check_window_length(3000ms, 1000ms, 2000ms) == window_fault::not_input_slide_multiple);
  CHECK(check_window_length(4000ms, 1000ms, 2000ms) == window_fault::none);
  // a divisor not known yet (0) is not checked; positivity always is
  CHECK(check_window_length(1500ms, 0ms, 0ms) == window_fault::none);
  CHECK(check_window_length(0ms, 0ms, 0ms) == window_fault::not_positive);
}

TEST_CASE("window rule: a slide of 0 is the input stream's slide", "[operators][window]") {
  CHECK(resolve_window_slide(0ms, 2000ms) == 2000ms);
  CHECK(resolve_window_slide(3000ms, 2000ms) == 3000ms);
}

TEST_CASE("window rule: check_window reports the window before the slide, the batch interval before the input slide",
          "[operators][window]") {
  CHECK_THROWS_WITH(check_window("w", 3000ms, 2000ms, 1000ms, 2000ms),
                    "w: window 3000ms and slide 2000ms must be multiples of the input stream's slide 2000ms");
  CHECK_THROWS_WITH(check_window("w", 2000ms, 3000ms, 1000ms, 2000ms),
                    "w: window 2000ms and slide 3000ms must be multiples of the input stream's slide 2000ms");
  // the window breaks only the input-slide part, the slide the batch part: the slide's is reported
  CHECK_THROWS_WITH(check_window("w", 3000ms, 1500ms, 1000ms, 2000ms),
                    "w: slide 1500ms is not a multiple of the batch interval 1000ms");
  CHECK_THROWS_WITH(check_window("w", 2500ms, 0ms, 1000ms, 1000ms),
                    "w: window 2500ms is not a multiple of the batch interval 1000ms");
  CHECK_THROWS_WITH(check_window("w", 2000ms, 0ms, 1000ms, 1000ms), "w: slide must be positive, got 0ms");
  try {
    check_window("w", 2000ms, 0ms, 1000ms, 1000ms);
    FAIL("no error");
  } catch (const pipeline_error& e) {
    CHECK(e.code() == error_code::invalid_argument);
  }
  CHECK_NOTHROW(check_window("w", 4000ms, 2000ms, 1000ms, 2000ms));
  CHECK_NOTHROW(check_window("w", 3000ms, 1000ms, 1000ms));  // input slide unknown
}
