// Typed errors (operators/errors.hpp): every code has its own name and
// message, the exceptions carry the code of their kind, and the operators
// throw the specific code at their throw sites, so that a caller tells
// kinds apart without reading the text. Also the in-band watermark mark's
// explicit idle status.
#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <string>

#include "weir/operators/basic_operators.hpp"
#include "weir/operators/detail/state_codec.hpp"
#include "weir/operators/errors.hpp"
#include "weir/operators/event_time.hpp"
#include "weir/operators/harness.hpp"
#include "weir/operators/reducer.hpp"
#include "weir/operators/state_operators.hpp"

using namespace weir;
using namespace std::chrono_literals;

namespace {

const error_code all_codes[] = {
    error_code::bad_record,      error_code::type_mismatch,    error_code::arithmetic_overflow,
    error_code::malformed_record, error_code::state_misuse,    error_code::pipeline_failed,
    error_code::invalid_argument, error_code::corrupt_state,   error_code::state_mismatch,
    error_code::state_version,
};

/// The code of the coded_error `f` throws (fails when it throws none).
template <class F>
error_code code_of(F&& f) {
  try {
    f();
  } catch (const coded_error& e) {
    return e.code();
  }
  FAIL("no error thrown");
  return error_code::bad_record;
}

}  // namespace

TEST_CASE("every error code has its own name and message", "[operators][errors]") {
  std::set<std::string> names, messages;
  for (error_code c : all_codes) {
    const std::string n = error_name(c), m = error_message(c);
    INFO(n);
    CHECK(!m.empty());
    CHECK(n != "unknown_error");
    names.insert(n);
    messages.insert(m);
  }
  CHECK(names.size() == std::size(all_codes));
  CHECK(messages.size() == std::size(all_codes));
  CHECK(std::string(error_name(error_code::corrupt_state)) == "corrupt_state");
  CHECK(std::string(error_name(static_cast<error_code>(200))) == "unknown_error");
}

TEST_CASE("the exceptions keep their message and carry a code, by default the generic one of their kind",
          "[operators][errors]") {
  record_error r("record 3: no field x");
  CHECK(r.code() == error_code::bad_record);
  CHECK(std::string(r.what()) == "record 3: no field x");
  pipeline_error p("no sink");
  CHECK(p.code() == error_code::pipeline_failed);
  pipeline_error q(error_code::invalid_argument, "delay must not be negative");
  CHECK(q.code() == error_code::invalid_argument);
  CHECK(std::string(q.what()) == "delay must not be negative");
  // still the standard exceptions callers catch
  const std::runtime_error& base = q;
  CHECK(std::string(base.what()) == "delay must not be negative");
}

TEST_CASE("operators throw the code of the failure's kind", "[operators][errors]") {
  SECTION("a record that is not a pair") {
    operator_harness h(make_reduce_by_key(reducer::sum()));
    CHECK(code_of([&] { h.push({value(1)}); }) == error_code::type_mismatch);
  }
  SECTION("values an aggregation cannot combine") {
    CHECK(code_of([] { add(value("a"), value(1)); }) == error_code::type_mismatch);
    CHECK(code_of([] { add(value(INT64_MAX), value(1)); }) == error_code::arithmetic_overflow);
  }
  SECTION("an event time that is not a number, under on_error = fail") {
    watermark_options o;
    o.time = [](const value& v) { return v; };
    operator_harness h(make_watermark_assigner(o));
    try {
      h.push({value("noon")});
      FAIL("accepted a string time");
    } catch (const record_error& e) {
      CHECK(e.code() == error_code::malformed_record);
      CHECK(std::string(e.what()).find("record 1: time: expected the event time in ms") == 0);
    }
  }
  SECTION("an operator parameter out of range") {
    watermark_options o;
    o.time = [](const value& v) { return v; };
    o.delay = -1ms;
    CHECK(code_of([&] { make_watermark_assigner(o); }) == error_code::invalid_argument);
    event_window_options w;
    w.window = window_spec::session(0ms);
    CHECK(code_of([&] { make_event_window(w); }) == error_code::invalid_argument);
  }
  SECTION("keyed state used where Spark forbids it") {
    auto f = [](const value&, const value&, state_handle& s) {
      s.remove();
      s.remove();
      return value();
    };
    operator_harness h(make_map_with_state(f));
    CHECK(code_of([&] { h.push({value::pair(value("k"), value(1))}); }) == error_code::state_misuse);
  }
}

TEST_CASE("a checkpoint state that cannot be restored says why by its code", "[operators][errors][checkpoint]") {
  operator_harness count(make_count());
  count.push({1, 2, 3});
  const std::string bytes = count.snapshot();
  SECTION("another operator's state") {
    operator_harness other(make_glom(), operator_harness::restoring_context());
    CHECK(code_of([&] { other.restore(bytes, 0); }) == error_code::state_mismatch);
  }
  SECTION("a format this build does not read") {
    std::string future = bytes;
    future[6] = 2;
    detail::reseal_state(future);
    operator_harness c(make_count(), operator_harness::restoring_context());
    CHECK(code_of([&] { c.restore(future, 0); }) == error_code::state_version);
  }
  SECTION("damaged bytes") {
    operator_harness c(make_count(), operator_harness::restoring_context());
    CHECK(code_of([&] { c.restore(bytes.substr(0, bytes.size() - 3), 0); }) == error_code::corrupt_state);
  }
  SECTION("another configuration of the same operator") {
    operator_harness s(make_sample(0.5, 7));
    s.push({1, 2, 3});
    const std::string sb = s.snapshot();
    operator_harness other(make_sample(0.5, 8), operator_harness::restoring_context());
    CHECK(code_of([&] { other.restore(sb, 0); }) == error_code::state_mismatch);
  }
}

TEST_CASE("a watermark mark says idle by its status, not by a watermark value", "[operators][event_time]") {
  static_assert(sizeof(watermark_mark) == 16, "a mark stays 16 bytes in the wire batch");
  const watermark_mark m(3, 1200);
  CHECK(m.pos == 3);
  CHECK(m.wm == 1200);
  CHECK(!m.idle());
  const watermark_mark i = watermark_mark::idle_at(5);
  CHECK(i.pos == 5);
  CHECK(i.idle());
  // the assigner goes idle after its timeout: an idle mark, then a
  // watermark again with the next record
  watermark_options o;
  o.time = [](const value& v) { return v; };
  o.idle_timeout = 1000ms;
  operator_harness h(make_watermark_assigner(o));
  h.push({value(std::int64_t{10})});
  auto first = h.take_watermarks();
  REQUIRE(first.size() == 1);
  CHECK(!first[0].idle());
  CHECK(first[0].wm == 10);
  REQUIRE(h.op().next_timer());
  h.processing_time(*h.op().next_timer());
  auto idle = h.take_watermarks();
  REQUIRE(idle.size() == 1);
  CHECK(idle[0].idle());
  CHECK(!h.op().next_timer());  // idle: no timer until data comes
  h.push({value(std::int64_t{4})});
  auto again = h.take_watermarks();
  REQUIRE(again.size() == 1);
  CHECK(!again[0].idle());
  CHECK(again[0].wm == 10);
}
