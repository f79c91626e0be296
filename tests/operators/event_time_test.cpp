#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "weir/operators/event_time.hpp"
#include "weir/operators/harness.hpp"

using namespace weir;
using namespace std::chrono_literals;

namespace {

value ev(std::int64_t t, std::string_view user = "u") {
  return value::object({{value("t"), value(t)}, {value("user"), value(user)}});
}
value keyed(std::string_view k, std::int64_t t) { return value::pair(value(k), ev(t, k)); }

extract_fn field_t() {
  return [](const value& v) {
    const value* t = v.find("t");
    return t ? *t : value();
  };
}

/// (start, end, key, value) of a window result object.
std::tuple<std::int64_t, std::int64_t, std::string, value> row(const value& r) {
  const value* k = r.find("key");
  return {r.find("start")->as_int(), r.find("end")->as_int(), k ? std::string(k->as_string()) : "",
          *r.find("value")};
}

std::vector<std::tuple<std::int64_t, std::int64_t, std::string, value>> rows(const records& rs) {
  std::vector<std::tuple<std::int64_t, std::int64_t, std::string, value>> out;
  for (auto& r : rs) out.push_back(row(r));
  std::sort(out.begin(), out.end());
  return out;
}

event_window_options tumbling_count(std::chrono::milliseconds size) {
  event_window_options o;
  o.window = window_spec::tumbling(size);
  o.agg = aggregation::count();
  o.keyed = true;
  o.time = field_t();
  return o;
}

}  // namespace

TEST_CASE("the assigner emits the watermark before every record behind it", "[operators][event_time]") {
  watermark_options o;
  o.time = field_t();
  o.delay = 5ms;
  operator_harness h(make_watermark_assigner(o));
  records out = h.push({ev(10), ev(5), ev(20), ev(12), ev(30)});
  CHECK(out.size() == 5);  // records pass through unchanged
  auto marks = h.take_watermarks();
  // ev(5) is behind the watermark 10-5 = 5; ev(12) behind 20-5 = 15; the run ends with 30-5
  REQUIRE(marks.size() == 3);
  CHECK((marks[0].pos == 1 && marks[0].wm == 5));
  CHECK((marks[1].pos == 3 && marks[1].wm == 15));
  CHECK((marks[2].pos == 5 && marks[2].wm == 25));
  // a run that does not advance the watermark emits none (29 is not behind 25)
  h.push({ev(29)});
  CHECK(h.take_watermarks().empty());
  // 20 is behind 25, but 25 was already emitted
  h.push({ev(20)});
  CHECK(h.take_watermarks().empty());
}

TEST_CASE("the assigner applies the on_error policy to a bad time field", "[operators][event_time]") {
  watermark_options o;
  o.time = field_t();
  o.time_text = "time = _.t";
  SECTION("fail names the record and the expression") {
    operator_harness h(make_watermark_assigner(o));
    try {
      h.push({ev(1), value::object({{value("x"), value(1)}})});
      FAIL("no error");
    } catch (const record_error& e) {
      CHECK(std::string(e.what()) == "record 2: time = _.t: expected the event time in ms (an int), got null");
    }
  }
  SECTION("a string time hints at parse_time") {
    operator_harness h(make_watermark_assigner(o));
    CHECK_THROWS_WITH(h.push({value::object({{value("t"), value("2015-05-17")}})}),
                      Catch::Contains("got string \"2015-05-17\"; parse strings with parse_time(s, format)"));
  }
  SECTION("skip counts") {
    o.on_error.action = on_error::skip;
    operator_harness h(make_watermark_assigner(o));
    auto out = h.push({ev(1), value(3), ev(2)});
    CHECK(out.size() == 2);
    CHECK(h.op().counters().malformed_records == 1);
  }
  SECTION("a negative delay is rejected") {
    o.delay = -5ms;
    CHECK_THROWS_WITH(make_watermark_assigner(o), "watermark delay must not be negative, got -5ms");
  }
}

TEST_CASE("tumbling windows fire when the watermark reaches their end", "[operators][event_time]") {
  operator_harness h(make_event_window(tumbling_count(10ms)));
  CHECK(h.push({keyed("a", 1), keyed("b", 3), keyed("a", 9), keyed("a", 10)}).empty());
  CHECK(h.watermark(9).empty());          // [0,10) still open at watermark 9
  auto fired = rows(h.watermark(10));     // closes at 10
  CHECK(fired == decltype(fired){{0, 10, "a", value(2)}, {0, 10, "b", value(1)}});
  CHECK(h.forwarded() == 10);
  // a record of the closed window is late: counted and dropped
  CHECK(h.push({keyed("a", 7)}).empty());
  CHECK(h.op().counters().late_records == 1);
  h.push({keyed("c", 15)});
  auto rest = rows(h.watermark(end_watermark));
  CHECK(rest == decltype(rest){{10, 20, "a", value(1)}, {10, 20, "c", value(1)}});
}

TEST_CASE("allowed lateness keeps a window and re-fires it", "[operators][event_time]") {
  auto o = tumbling_count(10ms);
  o.allowed_lateness = 5ms;
  records late;
  o.late = [&](const value& v) { late.push_back(v); };
  operator_harness h(make_event_window(o));
  h.push({keyed("a", 1)});
  CHECK(rows(h.watermark(12)) == decltype(rows({})){{0, 10, "a", value(1)}});
  // within the lateness: the result is emitted again, updated
  CHECK(rows(h.push({keyed("a", 2)})) == decltype(rows({})){{0, 10, "a", value(2)}});
  h.watermark(15);  // end + lateness: purged
  CHECK(h.push({keyed("a", 3)}).empty());
  CHECK(h.op().counters().late_records == 1);
  CHECK(late == records{ev(3, "a")});
}

TEST_CASE("a late-but-allowed record fires its window at once, also as the window's first record",
          "[operators][event_time]") {
  // Flink's EventTimeTrigger.onElement: FIRE when the watermark is past the
  // window's end. The same for counts (panes), any aggregation (per-window
  // tables) and sessions.
  auto panes = tumbling_count(10ms);  // count in append mode: count_panes.cpp
  auto tables = tumbling_count(10ms);
  tables.agg = aggregation::sum();  // a sum of 1s: fixed_windows.cpp
  tables.value_of = [](const value&) { return value(1); };
  for (auto o : {panes, tables}) {
    o.allowed_lateness = 50ms;
    operator_harness h(make_event_window(o));
    h.push({keyed("a", 1)});
    CHECK(rows(h.watermark(12)) == decltype(rows({})){{0, 10, "a", value(1)}});
    // key b's first record of [0, 10): fires at once (its key's row), not at the next watermark
    CHECK(rows(h.push({keyed("b", 3)})) == decltype(rows({})){{0, 10, "b", value(1)}});
    CHECK(rows(h.push({keyed("b", 4)})) == decltype(rows({})){{0, 10, "b", value(2)}});
    // window [-10, 0) had no record at all: its first record fires it
    CHECK(rows(h.push({keyed("c", -5)})) == decltype(rows({})){{-10, 0, "c", value(1)}});
    // nothing fires again when the watermark moves
    CHECK(h.watermark(20).empty());
    CHECK(h.op().counters().late_records == 0);
  }
  event_window_options s;
  s.window = window_spec::session(10ms);
  s.agg = aggregation::count();
  s.keyed = true;
  s.time = field_t();
  s.allowed_lateness = 50ms;
  operator_harness h(make_event_window(s));
  h.push({keyed("a", 100)});
  h.watermark(85);
  // a new session [30, 40) of key b, already due: fires on arrival
  CHECK(rows(h.push({keyed("b", 30)})) == decltype(rows({})){{30, 40, "b", value(1)}});
  CHECK(h.watermark(95).empty());
}

TEST_CASE("sliding windows count a record in every window holding it", "[operators][event_time]") {
  event_window_options o;
  o.window = window_spec::sliding(10ms, 5ms);
  o.agg = aggregation::sum();
  o.time = field_t();
  o.value_of = field_t();
  operator_harness h(make_event_window(o));
  h.push({ev(7), ev(12)});
  auto r = rows(h.watermark(end_watermark));
  // 7 ∈ [0,10), [5,15); 12 ∈ [5,15), [10,20)
  CHECK(r == decltype(r){{0, 10, "", value(7)}, {5, 15, "", value(19)}, {10, 20, "", value(12)}});
}

TEST_CASE("session windows merge records closer than the gap", "[operators][event_time]") {
  event_window_options o;
  o.window = window_spec::session(10ms);
  o.agg = aggregation::count();
  o.keyed = true;
  o.time = field_t();
  operator_harness h(make_event_window(o));
  // a: 0 and 5 form [0,15); 30 starts a new session (30 - 5 >= the gap)
  h.push({keyed("a", 0), keyed("a", 5), keyed("a", 30), keyed("b", 1)});
  CHECK(rows(h.watermark(15)) == decltype(rows({})){{0, 15, "a", value(2)}, {1, 11, "b", value(1)}});
  h.push({keyed("a", 34), keyed("a", 22)});  // 22: [22,32) overlaps [30,44) → merged [22,44)
  auto r = rows(h.watermark(end_watermark));
  CHECK(r == decltype(r){{22, 44, "a", value(3)}});
  CHECK(h.op().counters().late_records == 0);
}

TEST_CASE("update mode emits the changed result after every record", "[operators][event_time]") {
  auto o = tumbling_count(10ms);
  o.output = output_mode::update;
  operator_harness h(make_event_window(o));
  auto r = rows(h.push({keyed("a", 1), keyed("a", 2)}));
  CHECK(r == decltype(r){{0, 10, "a", value(1)}, {0, 10, "a", value(2)}});
  CHECK(h.watermark(10).empty());  // nothing more at the close
}

TEST_CASE("avg, min, max and a lambda aggregate the values", "[operators][event_time]") {
  auto run = [](aggregation a) {
    event_window_options o;
    o.window = window_spec::tumbling(100ms);
    o.agg = std::move(a);
    o.time = field_t();
    o.value_of = field_t();
    operator_harness h(make_event_window(o));
    h.push({ev(1), ev(2), ev(6)});
    auto r = h.watermark(end_watermark);
    REQUIRE(r.size() == 1);
    return *r[0].find("value");
  };
  CHECK(run(aggregation::avg()) == value(3.0));
  CHECK(run(aggregation::min()) == value(1));
  CHECK(run(aggregation::max()) == value(6));
  CHECK(run(aggregation::reduce(reducer::custom([](const value& a, const value& b) {
          return value(a.as_int() * b.as_int());
        }))) == value(12));
}

TEST_CASE("processing-time windows fire by timers", "[operators][event_time]") {
  event_window_options o;
  o.window = window_spec::tumbling(1000ms);
  o.agg = aggregation::count();
  operator_harness h(make_event_window(o));
  h.push({value(1), value(2)});
  REQUIRE(h.op().next_timer());
  std::int64_t t = *h.op().next_timer();
  CHECK(t % 1000 == 0);
  CHECK(h.processing_time(t - 1).empty());
  auto r = h.processing_time(t);
  REQUIRE(r.size() == 1);
  CHECK(*r[0].find("value") == value(2));
  CHECK(!h.op().next_timer());
}

TEST_CASE("session windows with allowed lateness re-fire and then purge", "[operators][event_time]") {
  event_window_options o;
  o.window = window_spec::session(10ms);
  o.agg = aggregation::count();
  o.keyed = true;
  o.time = field_t();
  o.allowed_lateness = 20ms;
  operator_harness h(make_event_window(o));
  h.push({keyed("a", 0), keyed("a", 5), keyed("b", 100)});
  CHECK(rows(h.watermark(15)) == decltype(rows({})){{0, 15, "a", value(2)}});
  // within the lateness (15 + 20 > 20): merges into the fired session and re-emits it
  CHECK(rows(h.push({keyed("a", 8)})) == decltype(rows({})){{0, 18, "a", value(3)}});
  CHECK(h.watermark(30).empty());  // the re-fired session was already emitted
  h.watermark(38);                 // 18 + 20: purged
  CHECK(h.push({keyed("a", 5)}).empty());  // [5, 15) + 20 <= 38: late
  CHECK(h.op().counters().late_records == 1);
  // a long session of one key: many records, one result
  for (int t = 200; t < 400; t += 5) h.push({keyed("c", t)});
  auto r = rows(h.watermark(end_watermark));
  CHECK(r == decltype(r){{100, 110, "b", value(1)}, {200, 405, "c", value(40)}});
}

namespace {

named_aggregation named(std::string name, named_aggregation::kind k, const char* field = "p") {
  named_aggregation a;
  a.name = std::move(name);
  a.type = k;
  if (field) {
    std::string f = field;
    a.value = [f](const value& v) {
      const value* x = v.find(f);
      return x ? *x : value();
    };
  }
  return a;
}

value quote(std::int64_t t, value price) {
  return value::object({{value("t"), value(t)}, {value("p"), std::move(price)}});
}
value tick(std::int64_t t, value price, std::string_view sym = "s") {
  return value::pair(value(sym), quote(t, std::move(price)));
}

/// The JSON of a result without its "sd" field (compared on its own, to a tolerance).
std::string without_sd(const value& r) {
  std::vector<field> f;
  for (auto& x : r.as_object())
    if (x.name != value("sd")) f.push_back(x);
  return value::object(std::move(f)).to_json();
}

event_window_options ohlc(window_spec w) {
  using K = named_aggregation::kind;
  event_window_options o;
  o.window = w;
  o.keyed = true;
  o.time = field_t();
  o.aggs = {named("open", K::first),        named("high", K::max),   named("low", K::min),
            named("close", K::last),        named("n", K::count, nullptr), named("sum", K::sum),
            named("avg", K::avg),           named("sd", K::stddev),  named("distinct", K::count_distinct),
            named("all", K::collect_list),  named("prices", K::count)};
  return o;
}

}  // namespace

TEST_CASE("aggs: many named aggregations per window and key", "[operators][event_time]") {
  operator_harness h(make_event_window(ohlc(window_spec::tumbling(10ms))));
  // arrival order, not event-time order, decides first and last; null is skipped by all but first/last/count
  h.push({tick(5, value(3)), tick(1, value(7)), tick(8, value()), tick(2, value(1)), tick(9, value(3)),
          tick(12, value(4), "t")});
  auto r = h.watermark(end_watermark);
  std::sort(r.begin(), r.end(), [](const value& a, const value& b) { return a.to_json() < b.to_json(); });
  REQUIRE(r.size() == 2);
  CHECK(r[0].find("sd")->as_number() == Approx(std::sqrt(19.0 / 3)));  // the sample deviation of 3, 7, 1, 3
  CHECK(without_sd(r[0]) ==
        R"({"start":0,"end":10,"key":"s","open":3,"high":7,"low":1,"close":3,"n":5,"sum":14,"avg":3.5,)"
        R"("distinct":3,"all":[3,7,1,3],"prices":4})");
  CHECK(r[1].to_json() ==
        R"({"start":10,"end":20,"key":"t","open":4,"high":4,"low":4,"close":4,"n":1,"sum":4,"avg":4.0,)"
        R"("sd":null,"distinct":1,"all":[4],"prices":1})");
}

TEST_CASE("aggs: the result has no key field without a key, and last may be null", "[operators][event_time]") {
  using K = named_aggregation::kind;
  event_window_options o;
  o.window = window_spec::sliding(10ms, 5ms);
  o.time = field_t();
  o.aggs = {named("n", K::count, nullptr), named("last", K::last)};
  operator_harness h(make_event_window(o));
  h.push({quote(7, value(1)), value::object({{value("t"), value(12)}})});
  auto r = h.watermark(end_watermark);
  std::vector<std::string> got;
  for (auto& x : r) got.push_back(x.to_json());
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<std::string>{R"({"start":0,"end":10,"n":1,"last":1})",
                                        R"({"start":10,"end":20,"n":1,"last":null})",
                                        R"({"start":5,"end":15,"n":2,"last":null})"});
}

TEST_CASE("aggs: merged sessions keep arrival order and combine every aggregation", "[operators][event_time]") {
  operator_harness h(make_event_window(ohlc(window_spec::session(10ms))));
  // two sessions [0,10) and [18,30), then a record at 9 ([9,19)) bridges them: [0,30)
  h.push({tick(0, value(5)), tick(18, value(9)), tick(20, value(2))});
  h.push({tick(9, value(6))});
  auto r = h.watermark(end_watermark);
  REQUIRE(r.size() == 1);
  CHECK(r[0].find("sd")->as_number() == Approx(std::sqrt(25.0 / 3)));  // of 5, 9, 2, 6
  CHECK(without_sd(r[0]) ==
        R"({"start":0,"end":30,"key":"s","open":5,"high":9,"low":2,"close":6,"n":4,"sum":22,"avg":5.5,)"
        R"("distinct":4,"all":[5,9,2,6],"prices":4})");
}

TEST_CASE("aggs: update mode and type errors", "[operators][event_time]") {
  using K = named_aggregation::kind;
  auto o = ohlc(window_spec::tumbling(10ms));
  o.output = output_mode::update;
  operator_harness h(make_event_window(o));
  auto r = h.push({tick(1, value(2)), tick(2, value(4))});
  REQUIRE(r.size() == 2);
  CHECK(r[1].find("close")->as_int() == 4);
  CHECK(*r[1].find("avg") == value(3.0));
  CHECK(h.watermark(10).empty());

  event_window_options bad;
  bad.window = window_spec::tumbling(10ms);
  bad.time = field_t();
  bad.aggs = {named("total", K::sum)};
  operator_harness h2(make_event_window(bad));
  try {
    h2.push({quote(1, value("x"))});
    FAIL("expected record_error");
  } catch (const record_error& e) {
    CHECK(std::string(e.what()) == "aggs.total: expected a number to aggregate, got string \"x\"");
  }
  auto reserved = bad;
  reserved.aggs = {named("key", K::sum)};
  CHECK_THROWS_WITH(make_event_window(reserved),
                    "aggs: an aggregation cannot be named \"key\" (the result has start, end and key)");
  auto twice = bad;
  twice.aggs = {named("a", K::sum), named("a", K::max)};
  CHECK_THROWS_WITH(make_event_window(twice), "aggs: the name \"a\" is used twice");
  auto novalue = bad;
  novalue.aggs = {named("a", K::max, nullptr)};
  CHECK_THROWS_WITH(make_event_window(novalue), "aggs.a: this aggregation needs a value");
}
