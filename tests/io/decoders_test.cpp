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
  process_context ctx;
  ctx.origin = src->origin();
  records out;
  for (;;) {
    records in;
    auto r = src->read(in, max);
    if (!in.empty()) op.process(ctx, in, out);
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

TEST_CASE("parse_access_log honours the zone offset - '-' bytes and escaped quotes", "[io][decoders]") {
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

TEST_CASE("parse_log decoder: fail names the record - skip counts - dead_letter keeps it", "[io][decoders]") {
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
    CHECK(h.op().counters().malformed_records == 1);
  }
  SECTION("dead_letter") {
    collected c;
    operator_harness h(make_log_decoder(log_format::combined, c.policy()));
    CHECK(h.push(in).size() == 2);
    CHECK(h.push({value(42)}).empty());
    CHECK(h.op().counters().malformed_records == 2);
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
    CHECK(op->counters().malformed_records == 1);
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

// ------------------------------------------------------------------ parse_csv

TEST_CASE("parse_csv_record follows RFC 4180 and names line and column of errors", "[io][decoders][csv]") {
  csv_options o;
  std::vector<std::string> f;
  std::string why;
  REQUIRE(parse_csv_record(R"(a,"b,c","say ""hi""",,"")", o, f, why));
  CHECK(f == std::vector<std::string>{"a", "b,c", "say \"hi\"", "", ""});
  REQUIRE(parse_csv_record("\"two\nlines\",x", o, f, why));
  CHECK(f == std::vector<std::string>{"two\nlines", "x"});
  REQUIRE(parse_csv_record("a;\"b;c\"", csv_options{true, ';', '"'}, f, why));
  CHECK(f == std::vector<std::string>{"a", "b;c"});
  REQUIRE(parse_csv_record("'it''s',b", csv_options{true, ',', '\''}, f, why));
  CHECK(f == std::vector<std::string>{"it's", "b"});

  CHECK_FALSE(parse_csv_record(R"(ab"c,d)", o, f, why));
  CHECK(why == "line 1, column 3: unexpected '\"' inside an unquoted field (a field with quotes must be quoted as a whole)");
  CHECK_FALSE(parse_csv_record("\"x\ny\"z,1", o, f, why));
  CHECK(why == "line 2, column 3: expected ',' or end of record after a closing '\"', found 'z'");
  CHECK_FALSE(parse_csv_record("a,\"open\nstill open", o, f, why));
  CHECK(why == "unterminated quoted field (opened at line 1, column 3 of the record)");
}

TEST_CASE("parse_csv decoder: header objects - arrays - fields spanning lines and batches", "[io][decoders][csv]") {
  SECTION("header: objects keyed by column; a quoted field spans lines and process() calls") {
    operator_harness h(make_csv_decoder({}));
    records out = h.push(strings({"id,text", "1,plain", "2,\"first line"}));
    REQUIRE(out.size() == 1);
    CHECK(out[0].to_json() == R"({"id":"1","text":"plain"})");
    out = h.push(strings({"", "third \"\"line\"\"\"", "3,x"}));
    REQUIRE(out.size() == 2);
    CHECK(out[0].find("text")->as_string() == "first line\n\nthird \"line\"");
    CHECK(out[1].to_json() == R"({"id":"3","text":"x"})");
    CHECK(h.end_of_stream().back().second.empty());
  }
  SECTION("no header: arrays of strings; blank lines between records are skipped") {
    operator_harness h(make_csv_decoder(csv_options{false, ',', '"'}));
    records out = h.push(strings({"a,b", "", "c,\"d", "e"}));
    REQUIRE(out.size() == 1);  // the last line is not a record yet: its quote is open
    out = h.push(strings({"f\""}));
    REQUIRE(out.size() == 1);
    CHECK(out[0].to_json() == R"(["c","d\ne\nf"])");
  }
  SECTION("bad records: wrong field count, stray quote, unterminated at end of stream") {
    collected c;
    operator_harness h(make_csv_decoder({}, c.policy()));
    records out = h.push(strings({"a,b", "1,2", "1,2,3", "x\"y,2", "5,6"}));
    CHECK(out.size() == 2);
    out = h.push(strings({"7,\"never", "closed"}));
    CHECK(out.empty());
    h.end_of_stream();
    CHECK(h.op().counters().malformed_records == 4);
    REQUIRE(c.raw.size() == 4);
    CHECK(c.raw[0] == "1,2,3");
    CHECK(c.reason[0] == "expected 2 fields (as the header), got 3");
    CHECK(c.provenance[0] == "record 3");
    CHECK(c.reason[1] == "line 1, column 2: unexpected '\"' inside an unquoted field (a field with quotes must be quoted as a whole)");
    CHECK(c.provenance[1] == "record 4");
    // the record open at the end costs its first line; the line after it is read again
    CHECK(c.raw[2] == "7,\"never");
    CHECK(c.reason[2] == "unterminated quoted field (opened at line 1, column 3 of the record) at end of input "
                         "(a record from this line on; the line after it is read again)");
    CHECK(c.provenance[2] == "record 6");
    CHECK(c.raw[3] == "closed");
    CHECK(c.reason[3] == "expected 2 fields (as the header), got 1");
    CHECK(c.provenance[3] == "record 7");
  }
  SECTION("fail: the error names the record and the reason") {
    operator_harness h(make_csv_decoder({}));
    CHECK_THROWS_WITH(h.push(strings({"a,b", "1"})), "record 2: expected 2 fields (as the header), got 1");
  }
}

TEST_CASE("parse_csv after file(path): a multi-line record is named by its first line", "[io][decoders][csv]") {
  test::temp_dir tmp;
  auto p = tmp.path / "in.csv";
  write_file(p, "k,v\r\n1,\"a\r\nb\"\r\n2,\"c\n\nd\n3,e\n");
  collected c;
  auto op = make_csv_decoder({}, c.policy());
  records out = run_after_file(p, *op, 1);  // one line per read: the record spans reads
  REQUIRE(out.size() == 2);
  CHECK(out[0].find("v")->as_string() == "a\nb");
  // line 4 opens a quote that never closes: that line is the bad record, and
  // lines 5-7 (read in earlier calls) are read again under their own names
  CHECK(out[1].to_json() == R"({"k":"3","v":"e"})");
  REQUIRE(c.provenance.size() == 2);
  CHECK(c.provenance[0] == p.string() + ":4");
  CHECK(c.raw[0] == "2,\"c");
  CHECK(c.provenance[1] == p.string() + ":6");
  CHECK(c.raw[1] == "d");
}

TEST_CASE("real data: the Mayweather-McGregor tweets CSV - quoted fields with newlines", "[io][decoders][csv][data]") {
  auto p = test::data_file("tweets_mayweather_mcgregor/tweets.csv");
  if (!p) {
    WARN("SKIPPED: ../shared/data/tweets_mayweather_mcgregor/tweets.csv not found (set WEIR_DATA)");
    return;
  }
  // independent count: a record ends at a line end where the quotes seen so
  // far are balanced (doubled quotes count twice, so parity still works)
  std::size_t records_seen = 0, multi_line = 0, lines_in_record = 0;
  std::uint64_t quotes = 0;
  {
    std::ifstream in(*p, std::ios::binary);
    for (std::string l; std::getline(in, l);) {
      quotes += static_cast<std::uint64_t>(std::count(l.begin(), l.end(), '"'));
      ++lines_in_record;
      if (quotes % 2 == 0) {
        ++records_seen;
        if (lines_in_record > 1) ++multi_line;
        lines_in_record = 0;
      }
    }
  }
  REQUIRE(records_seen - 1 == 12118);  // minus the header
  auto op = make_csv_decoder({}, skip_policy());
  records out = run_after_file(*p, *op);
  CHECK(out.size() == 12118);
  CHECK(op->counters().malformed_records == 0);
  std::size_t with_newline = 0;
  for (auto& r : out) {
    REQUIRE(r.as_object().size() == 7);
    if (r.find("text")->as_string().find('\n') != std::string_view::npos) ++with_newline;
  }
  CHECK(with_newline == multi_line);
  CHECK(with_newline == 1774);  // the data set's README
  CHECK(out[0].find("screen_name")->as_string() == "aaLiysr");
  CHECK(out.back().find("id")->as_string().size() == 18);
}

// ------------------------------------------------------------------ parse_json

TEST_CASE("json_path parses .a.b(0) paths into JSON pointers", "[io][decoders][json]") {
  CHECK(json_path::parse(".a.b[0]").pointer == "/a/b/0");
  CHECK(json_path::parse(".a.b[0]").name == "a.b[0]");
  CHECK(json_path::parse("[2].x").pointer == "/2/x");
  CHECK(json_path::parse(R"(.["a/b~c"])").pointer == "/a~1b~0c");
  CHECK_THROWS_WITH(json_path::parse(".a..b"), "parse_json: bad path '.a..b' at character 4: expected a field name after '.'");
  CHECK_THROWS_WITH(json_path::parse(".a[x]"), Catch::Contains("expected an array index"));
  CHECK_THROWS_WITH(json_path::parse("a"), Catch::Contains("expected '.' or '['"));
}

TEST_CASE("parse_json_document converts with simdjson On-Demand and reports byte offsets", "[io][decoders][json]") {
  value v;
  std::string why;
  REQUIRE(parse_json_document(R"({"a":[1,-2,3.5,true,null,"x\n"],"b":{"c":9223372036854775807},"u":18446744073709551615})", v, why));
  CHECK(v.to_json() == R"({"a":[1,-2,3.5,true,null,"x\n"],"b":{"c":9223372036854775807},"u":18446744073709551616.0})");
  REQUIRE(parse_json_document("42", v, why));
  CHECK(v.as_int() == 42);
  REQUIRE(parse_json_document(" \"s\" ", v, why));
  CHECK(v.as_string() == "s");
  CHECK_FALSE(parse_json_document(R"({"a": 1, "b": tru})", v, why));
  CHECK_THAT(why, Catch::StartsWith("byte offset 14: "));  // the 't' of tru
  CHECK_FALSE(parse_json_document(R"({"a": 1} x)", v, why));
  CHECK(why == "byte offset 9: content after the end of the JSON document");
  CHECK_FALSE(parse_json_document("[1, 2", v, why));
  CHECK(why == "byte offset 5: the document ends inside an object or array");
  CHECK_FALSE(parse_json_document("  ", v, why));
  CHECK(why == "byte offset 2: empty document (no JSON value)");
  CHECK_FALSE(parse_json_document(R"({"a": "unclosed})", v, why));
  CHECK(why == "byte offset 6: unclosed string");
  CHECK_FALSE(parse_json_document("[1, x]", v, why));
  CHECK_THAT(why, Catch::StartsWith("byte offset 4: "));
  CHECK_FALSE(parse_json_document("{\"a\":1,}", v, why));
  CHECK_THAT(why, Catch::StartsWith("byte offset "));
  CHECK_FALSE(parse_json_document("[1, 2] 3", v, why));
  CHECK(why == "byte offset 7: content after the end of the JSON document");
}

TEST_CASE("parse_json decoder: whole documents - lazy fields - bad records", "[io][decoders][json]") {
  SECTION("whole documents; fail names the record and the byte offset") {
    operator_harness h(make_json_decoder({}));
    records out = h.push(strings({R"({"a":1})", "[1,2]"}));
    REQUIRE(out.size() == 2);
    CHECK(out[0].find("a")->as_int() == 1);
    CHECK_THROWS_WITH(h.push(strings({R"({"a":1,})"})), Catch::StartsWith("record 3: byte offset "));
  }
  SECTION("fields: an object of the paths; a missing path is null") {
    json_options o;
    o.fields = {json_path::parse(".type"), json_path::parse(".p.list[1]"), json_path::parse(".none.x")};
    operator_harness h(make_json_decoder(o, skip_policy()));
    records out = h.push(strings({R"({"type":"Push","p":{"list":[10,{"k":"v"}]}})", "not json", R"({"type":2})"}));
    REQUIRE(out.size() == 2);
    CHECK(out[0].to_json() == R"({"type":"Push","p.list[1]":{"k":"v"},"none.x":null})");
    CHECK(out[1].to_json() == R"({"type":2,"p.list[1]":null,"none.x":null})");
    CHECK(h.op().counters().malformed_records == 1);
  }
}

TEST_CASE("parse_json top-level fields: keys sharing a first byte - empty keys - short after long records", "[io][decoders][json]") {
  json_options o;
  o.fields = {json_path::parse(".ab"), json_path::parse(".a"), json_path::parse(".b")};
  operator_harness h(make_json_decoder(o, skip_policy()));
  // a long record first, so that the shorter ones after it are parsed in a
  // reused buffer holding the rest of the long one past their end
  std::string long_doc = R"({"": 0, "abc": 9, "a": 1, "ab": "x", "b": [1, 2], "pad": ")" + std::string(300, 'p') + R"("})";
  records out = h.push(strings({long_doc, R"({"b":"q","ab":2,"a":3,"a":4})", R"({"aa":1})", R"({"ab": "unclosed})",
                                R"({"":"e"})"}));
  REQUIRE(out.size() == 4);
  CHECK(out[0].to_json() == R"({"ab":"x","a":1,"b":[1,2]})");
  CHECK(out[1].to_json() == R"({"ab":2,"a":3,"b":"q"})");  // the first "a" wins
  CHECK(out[2].to_json() == R"({"ab":null,"a":null,"b":null})");
  CHECK(out[3].to_json() == R"({"ab":null,"a":null,"b":null})");
  CHECK(h.op().counters().malformed_records == 1);  // the unclosed string
}

TEST_CASE("real data: GitHub events NDJSON - counts per .type", "[io][decoders][json][data]") {
  auto p = test::data_file("github_events_2015/2015-01-01-15.first1024.ndjson");
  if (!p) {
    WARN("SKIPPED: ../shared/data/github_events_2015 not found (set WEIR_DATA)");
    return;
  }
  // independent count: the first "type":"..." of each line (top-level, it
  // comes before the payload in every GH Archive event)
  std::map<std::string, std::int64_t> expected;
  std::size_t lines = 0;
  {
    std::ifstream in(*p, std::ios::binary);
    for (std::string l; std::getline(in, l);) {
      ++lines;
      auto at = l.find("\"type\":\"");
      REQUIRE(at != std::string::npos);
      at += 8;
      ++expected[l.substr(at, l.find('"', at) - at)];
    }
  }
  REQUIRE(lines == 1024);
  CHECK(expected["PushEvent"] == 529);  // the data set's README
  for (bool lazy : {false, true}) {
    json_options o;
    if (lazy) o.fields = {json_path::parse(".type")};
    auto op = make_json_decoder(o);
    records out = run_after_file(*p, *op);
    REQUIRE(out.size() == 1024);
    std::map<std::string, std::int64_t> got;
    for (auto& r : out) ++got[std::string(r.find("type")->as_string())];
    CHECK(got == expected);
  }
}

// ------------------------------------------------------------------ parse_regex

TEST_CASE("parse_regex: named groups become fields - errors are clear", "[io][decoders][regex]") {
  collected c;
  operator_harness h(make_regex_decoder(R"(^(?<level>[A-Z]+) \[(\w+)\] (?P<msg>.*?)( \((?<code>\d+)\))?$)", c.policy()));
  records out = h.push(strings({"WARN [db] slow query (42)", "INFO [web] started", "no match here"}));
  REQUIRE(out.size() == 2);
  CHECK(out[0].to_json() == R"({"level":"WARN","msg":"slow query","code":"42"})");
  CHECK(out[1].to_json() == R"({"level":"INFO","msg":"started","code":null})");
  REQUIRE(c.reason.size() == 1);
  CHECK_THAT(c.reason[0], Catch::StartsWith("does not match the pattern /^(?<level>"));
  CHECK(c.provenance[0] == "record 3");
  // a very long line is a bad record, not a stack overflow
  CHECK(h.push(strings({std::string(100000, 'A')})).empty());
  CHECK(c.reason.size() == 2);
  CHECK_THROWS_WITH(make_regex_decoder("(\\d+)"), Catch::Contains("no named groups"));
  CHECK_THROWS_WITH(make_regex_decoder("(?<a>x)(?<a>y)"), Catch::Contains("'a' used twice"));
  CHECK_THROWS_WITH(make_regex_decoder("(?<a>[x)"), Catch::StartsWith("parse_regex: invalid pattern /(?<a>[x)/"));
  // character classes and escapes do not count as groups
  operator_harness h2(make_regex_decoder(R"([(]\((?<in>[^)]*)\))"));
  CHECK(h2.push(strings({"((abc)"}))[0].to_json() == R"({"in":"abc"})");
}

// ------------------------------------------------------------------ guarded map/filter/flat_map

TEST_CASE("map - flat_map and filter with on_error skip and dead_letter", "[io][decoders]") {
  map_fn half = [](const value& v) {
    if (!v.is_int()) throw record_error("expected an int");
    return value(v.as_int() / 2);
  };
  collected c;
  operator_harness m(make_guarded_map(half, c.policy()));
  CHECK(m.push({value(4), value("x"), value(6)}) == records{value(2), value(3)});
  CHECK(c.raw == std::vector<std::string>{"\"x\""});
  CHECK(c.reason == std::vector<std::string>{"expected an int"});
  CHECK(c.provenance == std::vector<std::string>{"record 2"});

  operator_harness f(make_guarded_flat_map(
      [](const value& v, records& out) {
        out.push_back(v);
        if (v.is_string()) throw record_error("no strings");
        out.push_back(v);
      },
      skip_policy()));
  CHECK(f.push({value(1), value("s"), value(2)}) == records{value(1), value(1), value(2), value(2)});
  CHECK(f.op().counters().malformed_records == 1);

  operator_harness g(make_guarded_filter(
      [](const value& v) {
        if (v.is_null()) throw record_error("null");
        return v.as_int() > 1;
      },
      skip_policy()));
  CHECK(g.push({value(1), value(), value(2)}) == records{value(2)});
  CHECK(g.op().counters().malformed_records == 1);
}

TEST_CASE("dead_letter_file: JSON lines - safe from several threads", "[io][decoders]") {
  test::temp_dir tmp;
  auto p = tmp.path / "dl.jsonl";
  auto file = std::make_shared<dead_letter_file>(p.string());
  CHECK_FALSE(fs::exists(p));  // created at the first bad record
  error_policy pol = dead_letter_policy(file);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&pol, t] {
      std::uint64_t n = 0;
      for (int i = 0; i < 500; ++i)
        handle_bad_record(pol, bad_record{"raw \"q\" \xff", "reason " + std::to_string(t), "record " + std::to_string(i)}, n);
    });
  for (auto& th : threads) th.join();
  CHECK(file->written() == 2000);
  auto lines = lines_of(slurp(p));
  REQUIRE(lines.size() == 2000);
  std::map<std::string, int> per_reason;
  for (auto& l : lines) {
    value v = parse_json(l);  // every line is complete JSON
    CHECK(v.find("raw")->as_string() == "raw \"q\" \xEF\xBF\xBD");
    ++per_reason[std::string(v.find("reason")->as_string())];
  }
  CHECK(per_reason == std::map<std::string, int>{{"reason 0", 500}, {"reason 1", 500}, {"reason 2", 500}, {"reason 3", 500}});
  dead_letter_file bad("/no/such/dir/x.jsonl");
  CHECK_THROWS_WITH(bad.write(bad_record{"r", "x", "y"}),
                    "dead_letter(\"/no/such/dir/x.jsonl\"): cannot create: No such file or directory");
}
