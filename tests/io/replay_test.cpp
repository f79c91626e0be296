// JSON parsing, the batches() replay source and the collect() sink.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "support/test_data.hpp"
#include "weir/io/json.hpp"
#include "weir/io/sinks.hpp"
#include "weir/io/sources.hpp"

using namespace weir;
using weir::test::temp_dir;

namespace {

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("parse_json maps JSON onto values", "[io][json]") {
  CHECK(io::parse_json("[1, 2.5, \"a\", true, null]") == value::array({1, 2.5, "a", true, value()}));
  CHECK(io::parse_json("1").is_int());
  CHECK(io::parse_json("1.0").is_real());
  CHECK(io::parse_json("18446744073709551615").is_real());  // beyond int64
  auto obj = io::parse_json(R"({"b": 1, "a": {"c": [2]}})");
  REQUIRE(obj.is_object());
  CHECK(obj.as_object()[0].name.as_string() == "b");  // field order kept
  CHECK(obj.find("a")->find("c")->as_array()[0] == value(2));
  CHECK(io::parse_json(R"("caf\u00e9")").as_string() == "caf\xC3\xA9");
  CHECK_THROWS_AS(io::parse_json("[1, 2"), record_error);
  CHECK_THROWS_AS(io::parse_json("nul"), record_error);
}

TEST_CASE("read_jsonl names the line of malformed JSON", "[io][json]") {
  temp_dir tmp;
  auto p = tmp.path / "x.jsonl";
  std::ofstream(p) << "[1]\n\n{\"a\": 2}\r\n[3,\n";
  try {
    io::read_jsonl(p.string());
    FAIL("expected an error");
  } catch (const pipeline_error& e) {
    CHECK(std::string(e.what()).rfind(p.string() + ":4: malformed JSON: ", 0) == 0);
  }
  std::ofstream(p) << "[1]\n\n{\"a\": 2}\r\n";
  auto r = io::read_jsonl(p.string());
  REQUIRE(r.size() == 2);
  CHECK(r[1].find("a")->as_int() == 2);
}

TEST_CASE("batches replays one line per batch on a logical clock", "[io][replay]") {
  temp_dir tmp;
  auto p = tmp.path / "in.jsonl";
  std::ofstream(p) << "[1, 2, 3]\n[]\n[4]\n";
  auto src = io::make_batches_source(p.string(), 5);
  REQUIRE(src->logical_clock());
  src->open();
  using st = io::read_result::status;
  records out;
  // batch 1 in chunks of 2, then its end
  CHECK(src->read(out, 2).st == st::more);
  CHECK(out == records{1, 2});
  CHECK(src->read(out, 2).st == st::batch_end);
  CHECK(out == records{1, 2, 3});
  out.clear();
  CHECK(src->read(out, 10).st == st::batch_end);  // the empty batch 2
  CHECK(out.empty());
  CHECK(src->read(out, 10).st == st::batch_end);  // batch 3
  CHECK(out == records{4});
  out.clear();
  CHECK(src->read(out, 10).st == st::batch_end);  // total = 5: two more empty batches
  CHECK(src->read(out, 10).st == st::batch_end);
  CHECK(out.empty());
  CHECK(src->read(out, 10).st == st::end);
}

TEST_CASE("batches without total runs one batch per line and rejects bad lines", "[io][replay]") {
  temp_dir tmp;
  auto p = tmp.path / "in.jsonl";
  std::ofstream(p) << "[1]\n[2]\n";
  auto src = io::make_batches_source(p.string(), 0);
  src->open();
  records out;
  int ends = 0;
  while (src->read(out, 10).st == io::read_result::status::batch_end) ++ends;
  CHECK(ends == 2);
  CHECK(out == records{1, 2});

  std::ofstream(p) << "[1]\n{\"not\": \"an array\"}\n";
  auto bad = io::make_batches_source(p.string(), 0);
  CHECK_THROWS_WITH(bad->open(), Catch::Contains("batch 2: expected a JSON array of the batch's elements, got object"));
  std::ofstream(p) << "[1]\n[2,\n";
  auto broken = io::make_batches_source(p.string(), 0);
  CHECK_THROWS_WITH(broken->open(), Catch::Contains(p.string() + ":2: malformed JSON"));
  auto missing = io::make_batches_source((tmp.path / "nope.jsonl").string(), 0);
  CHECK_THROWS_WITH(missing->open(), Catch::Contains("cannot open"));
}

TEST_CASE("collect writes one line per batch and also empty batches", "[io][replay]") {
  temp_dir tmp;
  auto p = tmp.path / "out.jsonl";
  auto sink = io::make_collect_sink(p.string());
  operator_context ctx;
  sink->open(ctx);
  records none;
  records b1{value::pair("a", 1), value("x")};
  sink->process({}, b1, none);
  sink->on_batch_end(1000, none);
  sink->on_batch_end(2000, none);
  CHECK_FALSE(std::filesystem::exists(p));  // written as .tmp until the end
  sink->on_end_of_stream(none);
  CHECK(read_all(p) == "{\"time\":1000,\"records\":[[\"a\",1],\"x\"]}\n{\"time\":2000,\"records\":[]}\n");
}
