// Decoders (parse_log, parse_csv, parse_json, parse_regex), the bad-record
// policy and the file source's record provenance.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "support/test_data.hpp"
#include "weir/io/dead_letter.hpp"
#include "weir/io/decoders.hpp"
#include "weir/io/guarded.hpp"
#include "weir/io/json.hpp"
#include "weir/io/sources.hpp"
#include "weir/operators/harness.hpp"

using namespace weir;
using namespace weir::io;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

records strings(const std::vector<std::string>& v) {
  records r;
  for (auto& s : v) r.emplace_back(s);
  return r;
}

error_policy skip_policy() {
  error_policy p;
  p.action = on_error::skip;
  return p;
}

// A policy collecting the bad records (a dead-letter function in memory).
struct collected {
  std::vector<std::string> raw, reason, provenance;
  error_policy policy() {
    error_policy p;
    p.action = on_error::dead_letter;
    p.dead_letter = [this](const bad_record& r) {
      raw.emplace_back(r.raw);
      reason.push_back(r.reason);
      provenance.push_back(r.provenance);
    };
    return p;
  }
};

/// Reads the whole file through file(path), handing every read's records
/// with the source's origin to `op`, as the runtime does.
records run_after_file(const fs::path& p, stream_operator& op, std::size_t max = 1024) {
  auto src = make_file_source(p.string());
  src->open();
  op.open({});
  op.input_origin = src->origin();
  records out;
  for (;;) {
    records in;
    auto r = src->read(in, max);
    if (!in.empty()) op.process(in, out);
    if (r.st == read_result::status::end) break;
  }
  op.on_end_of_stream(out);
  src->close();
  return out;
}

}  // namespace

// ------------------------------------------------------------------ parse_log

TEST_CASE("parse_access_log reads every field of a combined line", "[io][decoders]") {
  value v;
  std::string why;
  REQUIRE(parse_access_log(R"L(83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /a/b.png HTTP/1.1" 200 203023 "http://x/" "Mozilla/5.0 (Mac)")L",
                           log_format::combined, v, why));
  CHECK(v.to_json() ==
        R"L({"ip":"83.149.9.216","user":"-","time":1431857103000,"method":"GET","path":"/a/b.png","protocol":"HTTP/1.1","status":200,"bytes":203023,"referrer":"http://x/","agent":"Mozilla/5.0 (Mac)"})L");
  // 1431857103 = date -u -d '2015-05-17 10:05:03' +%s
}

TEST_CASE("parse_access_log honours the zone offset, '-' bytes and escaped quotes", "[io][decoders]") {
  value v;
  std::string why;
  // 12:05:03 at +0200 is 10:05:03 UTC
  REQUIRE(parse_access_log(R"(1.2.3.4 - bob [17/May/2015:12:05:03 +0200] "GET /q?a=\"x\" HTTP/1.0" 304 - "-" "say \"hi\"")",
                           log_format::combined, v, why));
  CHECK(v.find("time")->as_int() == 1431857103000);
  CHECK(v.find("user")->as_string() == "bob");
  CHECK(v.find("bytes")->as_int() == 0);
  CHECK(v.find("path")->as_string() == "/q?a=\"x\"");
  CHECK(v.find("agent")->as_string() == "say \"hi\"");
  // -0530 : local 04:35:03 is 10:05:03 UTC; across a year boundary too
  REQUIRE(parse_access_log(R"(::1 - - [17/May/2015:04:35:03 -0530] "GET / HTTP/1.1" 200 1 "-" "-")",
                           log_format::combined, v, why));
  CHECK(v.find("time")->as_int() == 1431857103000);
  REQUIRE(parse_access_log(R"(::1 - - [31/Dec/2015:23:30:00 -0100] "GET / HTTP/1.1" 200 1 "-" "-")",
                           log_format::combined, v, why));
  CHECK(v.find("time")->as_int() == civil_to_epoch_ms(2016, 1, 1, 0, 30, 0));
  CHECK(civil_to_epoch_ms(1970, 1, 1, 0, 0, 0) == 0);
  CHECK(civil_to_epoch_ms(2000, 3, 1, 0, 0, 0) == 951868800000);  // leap year 2000
}

TEST_CASE("parse_access_log common format has no referrer or agent", "[io][decoders]") {
  value v;
  std::string why;
  REQUIRE(parse_access_log(R"(10.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326)",
                           log_format::common, v, why));
  CHECK(v.to_json() ==
        R"({"ip":"10.0.0.1","user":"frank","time":971211336000,"method":"GET","path":"/apache_pb.gif","protocol":"HTTP/1.0","status":200,"bytes":2326})");
  CHECK(v.find("agent") == nullptr);
  // a request line that is not "METHOD PATH PROTOCOL" keeps its text in method
  REQUIRE(parse_access_log(R"(10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "-" 408 -)", log_format::common, v, why));
  CHECK(v.find("method")->as_string() == "-");
  CHECK(v.find("path")->as_string() == "");
  // combined requires referrer and agent
  CHECK_FALSE(parse_access_log(R"(10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 5)",
                               log_format::combined, v, why));
  CHECK(why == "column 65: expected a space after the response size, found end of line");
}

TEST_CASE("parse_access_log errors name the column and what was expected", "[io][decoders]") {
  value v;
  std::string why;
  auto fails = [&](const std::string& line) {
    bool ok = parse_access_log(line, log_format::combined, v, why);
    CHECK_FALSE(ok);
    return why;
  };
  CHECK(fails("") == "column 1: expected the client address, found end of line");
  CHECK(fails("1.2.3.4 - - 17/May/2015:10:05:03 +0000]") == "column 13: expected '[' opening the time, found '1'");
  CHECK(fails(R"(1.2.3.4 - - [17/Mai/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "-")") ==
        "column 17: expected a month name (Jan ... Dec), found 'M'");
  CHECK(fails(R"(1.2.3.4 - - [17/May/2015:10:05:03] "GET / HTTP/1.1" 200 1 "-" "-")") ==
        "column 34: expected a space before the zone offset, found ']'");
  CHECK(fails(R"(1.2.3.4 - - [31/Apr/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "-")") ==
        "column 14: invalid date or time 31/Apr/2015:10:05:03 +0000");
  CHECK(fails(R"(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" OK 1 "-" "-")") ==
        "column 59: expected the status code, found 'O'");
  CHECK(fails(R"(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 x "-" "-")") ==
        "column 63: expected the response size (digits or '-'), found 'x'");
  CHECK(fails(R"(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "Mozilla)") ==
        "column 77: expected '\"' closing the user agent, found end of line");
  CHECK(fails(R"(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "-"x)") ==
        "column 72: expected a space or end of line after the user agent, found 'x'");
  // binary junk is shown as a byte, never crashes
  CHECK(fails(std::string("\x01\xff ", 3)) == "column 4: expected the identity (%l), found end of line");
  // extra fields after the agent are allowed (%D etc.)
  CHECK(parse_access_log(R"(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "-" 1234)",
                         log_format::combined, v, why));
}

TEST_CASE("parse_log decoder: fail names the record, skip counts, dead_letter keeps it", "[io][decoders]") {
  records in = strings({R"(1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "-")", "garbage",
                        R"(1.2.3.4 - - [17/May/2015:10:05:04 +0000] "GET /b HTTP/1.1" 404 1 "-" "-")"});
  SECTION("fail") {
    operator_harness h(make_log_decoder(log_format::combined));
    h.push({in[0]});
    CHECK_THROWS_WITH(h.push({in[0], in[1]}),
                      "record 3: column 8: expected a space after the client address, found end of line");
  }
  SECTION("skip") {
    operator_harness h(make_log_decoder(log_format::combined, skip_policy()));
    records out = h.push(in);
    REQUIRE(out.size() == 2);
    CHECK(out[1].find("status")->as_int() == 404);
    CHECK(h.op().counters.malformed_records == 1);
  }
  SECTION("dead_letter") {
    collected c;
    operator_harness h(make_log_decoder(log_format::combined, c.policy()));
    CHECK(h.push(in).size() == 2);
    CHECK(h.push({value(42)}).empty());
    CHECK(h.op().counters.malformed_records == 2);
    CHECK(c.raw == std::vector<std::string>{"garbage", "42"});
    CHECK(c.provenance == std::vector<std::string>{"record 2", "record 4"});
    CHECK(c.reason[1] == "expected a string record, got int");
  }
}

TEST_CASE("file(path) origin names PATH:LINE of every record of the last read", "[io][decoders]") {
  test::temp_dir tmp;
  auto p = tmp.path / "in.txt";
  write_file(p, "a\nb\r\nc\n\nd");
  auto src = make_file_source(p.string());
  src->open();
  REQUIRE(src->origin() != nullptr);
  records out;
  src->read(out, 2);
  CHECK(src->origin()->describe(0) == p.string() + ":1");
  CHECK(src->origin()->describe(1) == p.string() + ":2");
  out.clear();
  src->read(out, 10);
  REQUIRE(out.size() == 3);
  CHECK(src->origin()->describe(0) == p.string() + ":3");
  CHECK(src->origin()->describe(2) == p.string() + ":5");
}

TEST_CASE("real data: the Elastic Apache log through parse_log", "[io][decoders][data]") {
  auto p = test::data_file("apache_access_elastic/apache_logs");
  if (!p) {
    WARN("SKIPPED: ../shared/data/apache_access_elastic/apache_logs not found (set WEIR_DATA)");
    return;
  }
  // independent count: a well-formed combined line has exactly 6 double quotes
  // here (no escaped quotes in this file); status = first token after the 2nd quote
  std::vector<std::size_t> bad_lines;
  std::map<std::int64_t, std::int64_t> statuses;
  std::int64_t bytes = 0;
  {
    std::ifstream in(*p, std::ios::binary);
    std::size_t n = 0;
    for (std::string l; std::getline(in, l);) {
      ++n;
      if (std::count(l.begin(), l.end(), '"') != 6) {
        bad_lines.push_back(n);
        continue;
      }
      std::istringstream rest(l.substr(l.find('"', l.find('"') + 1) + 1));
      std::string st, by;
      rest >> st >> by;
      ++statuses[std::stoll(st)];
      bytes += by == "-" ? 0 : std::stoll(by);
    }
  }
  REQUIRE(bad_lines == std::vector<std::size_t>{8899});

  SECTION("skip: 9,999 records, one malformed") {
    auto op = make_log_decoder(log_format::combined, skip_policy());
    records out = run_after_file(*p, *op);
    CHECK(out.size() == 9999);
    CHECK(op->counters.malformed_records == 1);
    std::map<std::int64_t, std::int64_t> got;
    std::int64_t got_bytes = 0;
    for (auto& r : out) {
      ++got[r.find("status")->as_int()];
      got_bytes += r.find("bytes")->as_int();
    }
    CHECK(got == statuses);
    CHECK(got_bytes == bytes);
    CHECK(out.front().find("time")->as_int() == 1431857103000);  // 17/May/2015:10:05:03 +0000
  }
  SECTION("fail: stops at line 8899") {
    auto op = make_log_decoder(log_format::combined);
    CHECK_THROWS_WITH(run_after_file(*p, *op, 100),
                      Catch::StartsWith(p->string() + ":8899: column 183: expected '\"' closing the user agent"));
  }
  SECTION("dead_letter: exactly that line, with its line number") {
    test::temp_dir tmp;
    auto dl = tmp.path / "bad.jsonl";
    auto op = make_log_decoder(log_format::combined, dead_letter_policy(dl.string()));
    records out = run_after_file(*p, *op, 333);
    CHECK(out.size() == 9999);
    op.reset();  // releases the dead-letter file
    auto lines = lines_of(slurp(dl));
    REQUIRE(lines.size() == 1);
    value rec = parse_json(lines[0]);
    std::ifstream in(*p, std::ios::binary);
    std::string line;
    for (int i = 0; i < 8899; ++i) std::getline(in, line);
    CHECK(rec.find("raw")->as_string() == line);
    CHECK(rec.find("provenance")->as_string() == p->string() + ":8899");
    CHECK(rec.find("reason")->as_string() == "column 183: expected '\"' closing the user agent, found end of line");
  }
}
