// print, jsonl and batch sinks.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_data.hpp"
#include "weir/io/sinks.hpp"

using weir::field;
using weir::records;
using weir::value;

namespace {

const std::string dashes = "-------------------------------------------\n";

std::string header(std::int64_t t) { return dashes + "Time: " + std::to_string(t) + " ms\n" + dashes; }

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

weir::operator_context ctx(int interval_ms) {
  weir::operator_context c;
  c.batch_interval = std::chrono::milliseconds(interval_ms);
  return c;
}

}  // namespace

TEST_CASE("print sink uses Spark's pprint layout", "[io][sinks]") {
  std::ostringstream os;
  auto sink = weir::io::make_print_sink(10, &os);
  sink->open(ctx(1000));
  records out;

  // Batch 1000: empty, still printed.
  sink->on_batch_end(1000, out);
  CHECK(os.str() == header(1000) + "\n");

  // Batch 2000: three records of different kinds, given in two parts.
  os.str("");
  records in = {value::pair("a", 1), value(2.0)};
  sink->process({}, in, out);
  records in2 = {value("hello world"), };
  sink->process({}, in2, out);
  sink->on_batch_end(2000, out);
  CHECK(os.str() == header(2000) + "(a,1)\n2.0\nhello world\n\n");

  // Batch 3000: 12 records, only the first 10 are shown, then "...".
  os.str("");
  records twelve;
  for (int i = 0; i < 12; ++i) twelve.push_back(value::pair(value("w" + std::to_string(i)), i * 0.5));
  sink->process({}, twelve, out);
  sink->on_batch_end(3000, out);
  std::string expected = header(3000);
  for (int i = 0; i < 10; ++i) {
    std::string d = std::to_string(i / 2) + (i % 2 ? ".5" : ".0");
    expected += "(w" + std::to_string(i) + "," + d + ")\n";
  }
  expected += "...\n\n";
  CHECK(os.str() == expected);

  // Exactly n records: no "...". Nested values and null.
  os.str("");
  records ten;
  for (int i = 0; i < 9; ++i) ten.push_back(value(i));
  ten.push_back(value::pair(value(), value::array({1, "x"})));
  sink->process({}, ten, out);
  sink->on_batch_end(4000, out);
  CHECK(os.str() == header(4000) + "0\n1\n2\n3\n4\n5\n6\n7\n8\n(null,[1,\"x\"])\n\n");

  sink->on_end_of_stream(out);
  CHECK(out.empty());  // sinks emit nothing
}

TEST_CASE("print sink with n = 0 prints only the header and ...", "[io][sinks]") {
  std::ostringstream os;
  auto sink = weir::io::make_print_sink(0, &os);
  sink->open(ctx(500));
  records out, in = {value(1)};
  sink->process({}, in, out);
  sink->on_batch_end(500, out);
  CHECK(os.str() == header(500) + "...\n\n");
}

TEST_CASE("jsonl sink writes one object per record and renames at end of stream", "[io][sinks]") {
  weir::test::temp_dir dir;
  auto path = dir.path / "out.jsonl";
  auto tmp = dir.path / "out.jsonl.tmp";
  auto sink = weir::io::make_jsonl_sink(path.string());
  sink->open(ctx(500));
  CHECK(std::filesystem::exists(tmp));
  records out;

  records b1 = {value::object({{"w", "a"}, {"n", 1}}), value::pair("k", 2.5)};
  sink->process({}, b1, out);
  sink->on_batch_end(500, out);
  sink->on_batch_end(1000, out);  // empty batch: no lines
  records b3 = {value("bad \xff byte"), value("quote \" and \\ and \n")};
  sink->process({}, b3, out);
  records b3b = {value(nullptr)};
  sink->process({}, b3b, out);
  sink->on_batch_end(1500, out);

  // Not published before end of stream; the batches already reached the .tmp file.
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(lines_of(read_file(tmp)).size() == 5);

  sink->on_end_of_stream(out);
  CHECK(out.empty());
  CHECK(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(tmp));
  auto lines = lines_of(read_file(path));
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == R"({"time":500,"record":{"w":"a","n":1}})");
  CHECK(lines[1] == R"({"time":500,"record":["k",2.5]})");
  CHECK(lines[2] == "{\"time\":1500,\"record\":\"bad \xEF\xBF\xBD byte\"}");  // U+FFFD
  CHECK(lines[3] == R"({"time":1500,"record":"quote \" and \\ and \n"})");
  CHECK(lines[4] == R"({"time":1500,"record":null})");
  CHECK(read_file(path).back() == '\n');
}

TEST_CASE("jsonl sink: large and empty output", "[io][sinks]") {
  weir::test::temp_dir dir;
  SECTION("more than the write buffer in one batch") {
    auto path = dir.path / "big.jsonl";
    auto sink = weir::io::make_jsonl_sink(path.string());
    sink->open(ctx(1000));
    records out;
    const std::string payload(100, 'p');
    for (int part = 0; part < 5; ++part) {
      records in;
      for (int i = 0; i < 10000; ++i) in.push_back(value::pair(part * 10000 + i, payload));
      sink->process({}, in, out);
    }
    // > 1 MiB written already, before the batch ended
    CHECK(std::filesystem::file_size(dir.path / "big.jsonl.tmp") > 1'000'000);
    sink->on_batch_end(1000, out);
    sink->on_end_of_stream(out);
    auto lines = lines_of(read_file(path));
    REQUIRE(lines.size() == 50000);
    CHECK(lines[49999] == "{\"time\":1000,\"record\":[49999,\"" + payload + "\"]}");
  }
  SECTION("no records gives an empty file") {
    auto path = dir.path / "empty.jsonl";
    auto sink = weir::io::make_jsonl_sink(path.string());
    sink->open(ctx(1000));
    records out;
    sink->on_batch_end(1000, out);
    sink->on_end_of_stream(out);
    CHECK(std::filesystem::exists(path));
    CHECK(std::filesystem::file_size(path) == 0);
  }
}

TEST_CASE("jsonl sink errors name the path and the system error", "[io][sinks]") {
  weir::test::temp_dir dir;
  SECTION("cannot create") {
    auto path = (dir.path / "no-such-dir" / "out.jsonl").string();
    auto sink = weir::io::make_jsonl_sink(path);
    REQUIRE_THROWS_AS(sink->open(ctx(1000)), weir::pipeline_error);
    REQUIRE_THROWS_WITH(sink->open(ctx(1000)),
                        "jsonl(\"" + path + "\"): cannot create \"" + path +
                            ".tmp\": No such file or directory");
  }
  SECTION("write failure (ENOSPC via /dev/full)") {
    if (!std::filesystem::exists("/dev/full")) {
      WARN("SKIPPED: /dev/full not available");
      return;
    }
    auto path = (dir.path / "full.jsonl").string();
    std::filesystem::create_symlink("/dev/full", path + ".tmp");
    auto sink = weir::io::make_jsonl_sink(path);
    sink->open(ctx(1000));
    records out, in = {value("x")};
    sink->process({}, in, out);
    try {
      sink->on_batch_end(1000, out);
      sink->on_end_of_stream(out);
      FAIL("no error");
    } catch (const weir::pipeline_error& e) {
      CHECK(std::string(e.what()) == "jsonl(\"" + path + "\"): cannot write \"" + path +
                                         ".tmp\": No space left on device");
    }
    CHECK_FALSE(std::filesystem::exists(path));
  }
}

TEST_CASE("batch sink calls fn once per batch including empty batches", "[io][sinks]") {
  std::vector<std::pair<std::int64_t, records>> calls;
  auto sink = weir::io::make_batch_sink(
      [&](std::int64_t t, records& rs) { calls.emplace_back(t, std::move(rs)); });
  sink->open(ctx(200));
  records out;
  records a = {value(1), value(2)}, b = {value(3)};
  sink->process({}, a, out);
  sink->process({}, b, out);
  sink->on_batch_end(200, out);
  sink->on_batch_end(400, out);
  records c = {value("x")};
  sink->process({}, c, out);
  sink->on_batch_end(600, out);
  sink->on_end_of_stream(out);
  CHECK(out.empty());
  REQUIRE(calls.size() == 3);
  CHECK(calls[0].first == 200);
  CHECK(calls[0].second == records{value(1), value(2), value(3)});
  CHECK(calls[1].first == 400);
  CHECK(calls[1].second.empty());
  CHECK(calls[2].first == 600);
  CHECK(calls[2].second == records{value("x")});
}
