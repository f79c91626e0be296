// Decoders against hostile input: nesting that would exhaust the stack,
// patterns that would backtrack for ever, damage after the fields a lazy
// read needs, a stray CSV quote, bytes that are not UTF-8. Each is a bad
// record under the stage's on_error policy (or decodes), never a crash or a
// hang.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "support/test_data.hpp"
#include "weir/io/dead_letter.hpp"
#include "weir/io/decoders.hpp"
#include "weir/io/regex.hpp"
#include "weir/operators/harness.hpp"

using namespace weir;
using namespace weir::io;
namespace fs = std::filesystem;

namespace {

records strings(const std::vector<std::string>& v) {
  records r;
  for (auto& s : v) r.emplace_back(s);
  return r;
}

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

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

json_options fields(std::initializer_list<const char*> paths, bool validate = true) {
  json_options o;
  for (auto p : paths) o.fields.push_back(json_path::parse(p));
  o.validate = validate;
  return o;
}

}  // namespace

// ------------------------------------------------------------------ parse_json

TEST_CASE("parse_json: a document nested 50,000 deep is a bad record - not a stack overflow",
          "[io][decoders][json][hostile]") {
  const std::string deep = nested(50000);
  for (auto o : {json_options{}, fields({".a"}), fields({".a"}, false), fields({".a.b", "[0]"})}) {
    collected c;
    operator_harness h(make_json_decoder(o, c.policy()));
    records out = h.push(strings({deep, "{\"a\":" + deep + "}", "[1]"}));
    INFO("fields " << o.fields.size() << " validate " << o.validate);
    // the last document is fine in every mode; the deep ones are refused
    // where they are read (the fast mode skips a deep value it does not need)
    REQUIRE(!out.empty());
    CHECK(c.reason.size() + out.size() == 3);
    for (auto& r : c.reason) CHECK_THAT(r, Catch::Contains("arrays and objects nested deeper than 1024"));
  }
  // exactly at the limit: fine; one deeper: refused, with the offset
  value v;
  std::string why;
  CHECK(parse_json_document(nested(1024), v, why));
  CHECK_FALSE(parse_json_document(nested(1025), v, why));
  CHECK(why == "byte offset 1024: arrays and objects nested deeper than 1024");
}

TEST_CASE("parse_json with fields rejects documents damaged after the fields it reads - unless validate = false",
          "[io][decoders][json][hostile]") {
  // valid up to and beyond ".type"; the damage comes after it
  const std::vector<std::string> bad = {
      std::string("{\"type\":\"B\",\"p\":true\0,\"x\":1}", 28),
      "{\"type\":\"B\",\"p\":tru,\"x\":1}",
      "{\"type\":\"B\",\"p\":1.2.3}",
      "{\"type\":\"B\",\"p\":\"\\q\"}",
      "{\"type\":\"B\",\"p\":[1,2}",
      "{\"type\":\"B\",\"p\":{\"q\" 1}}",
      "{\"type\":\"B\",\"p\":1",      // truncated
      "{\"type\":\"B\",\"p\":[1,2,",  // truncated
      "{\"type\":\"B\"} trailing",
      "{\"type\":\"B\",\"p\":" + nested(2000) + "}",
  };
  for (bool top_level : {true, false}) {
    json_options o = top_level ? fields({".type"}) : fields({".type", ".p[0].q"});
    collected c;
    operator_harness h(make_json_decoder(o, c.policy()));
    records out = h.push(strings(bad));
    INFO("top level " << top_level);
    CHECK(out.empty());
    CHECK(c.reason.size() == bad.size());
    // the whole-document mode agrees on every one
    for (auto& doc : bad) {
      value v;
      std::string why;
      CHECK_FALSE(parse_json_document(doc, v, why));
    }
    // good documents still decode, with their fields
    records good = h.push(strings({"{\"type\":\"A\",\"p\":[{\"q\":1}],\"x\":{\"y\":[true,null,\"\\u00e9\"]}}"}));
    REQUIRE(good.size() == 1);
    CHECK(good[0].find("type")->as_string() == "A");
  }
  // the fast mode reads only up to the field: damage to the values after it
  // passes (simdjson's first stage still sees unbalanced brackets and
  // content after the document)
  collected fast;
  operator_harness h(make_json_decoder(fields({".type"}, false), fast.policy()));
  for (std::size_t i = 0; i < bad.size(); ++i) {
    INFO(bad[i]);
    const bool passes = i <= 3 || i == 5 || i == 9;
    CHECK(h.push(strings({bad[i]})).size() == (passes ? 1u : 0u));
  }
}

TEST_CASE("parse_json with fields: a path into a scalar or past the document's kind is null - as a missing key",
          "[io][decoders][json][hostile]") {
  // found by fuzzing: a valid document whose root is a scalar was a bad
  // record with fields (simdjson calls the pointer invalid there)
  for (bool validate : {true, false}) {
    collected c;
    operator_harness h(make_json_decoder(fields({".a", "[1]", ".a.b"}, validate), c.policy()));
    records out = h.push(strings({"\"just a string\"", "12", "null", "[1,2]", "{\"a\":3}", "{\"a\":{\"b\":4}}"}));
    INFO("validate " << validate);
    CHECK(c.reason.empty());
    REQUIRE(out.size() == 6);
    CHECK(out[0].to_json() == R"({"a":null,"[1]":null,"a.b":null})");
    CHECK(out[3].to_json() == R"({"a":null,"[1]":2,"a.b":null})");
    CHECK(out[4].to_json() == R"({"a":3,"[1]":null,"a.b":null})");
    CHECK(out[5].to_json() == R"({"a":{"b":4},"[1]":null,"a.b":4})");
  }
}

// ------------------------------------------------------------------ parse_regex (RE2)

TEST_CASE("parse_regex: lines the old engine's recursion could not take decode",
          "[io][decoders][regex][hostile]") {
  collected c;
  operator_harness a(make_regex_decoder("^(?<x>(a|b)*)$", c.policy()));
  records out = a.push(strings({std::string(15000, 'a'), std::string(300000, 'b')}));
  REQUIRE(out.size() == 2);
  CHECK(out[0].find("x")->as_string().size() == 15000);
  CHECK(out[1].find("x")->as_string().size() == 300000);
  operator_harness p(make_regex_decoder("(?<path>([^ ]|%20)*)", c.policy()));
  std::string line;
  while (line.size() < 18000) line += "a%20b";
  out = p.push(strings({line + " rest"}));
  REQUIRE(out.size() == 1);
  CHECK(out[0].find("path")->as_string() == line);
  CHECK(c.reason.empty());
}

TEST_CASE("parse_regex: nested quantifiers run in linear time - no catastrophic backtracking",
          "[io][decoders][regex][hostile]") {
  // a backtracking engine tries 2^100 ways before it gives up on each line
  collected c;
  operator_harness h(make_regex_decoder("^(?<x>(a+)+)$", c.policy()));
  records out = h.push(strings({std::string(100, 'a') + "b", std::string(100, 'a')}));
  REQUIRE(out.size() == 1);
  CHECK(out[0].find("x")->as_string().size() == 100);
  REQUIRE(c.reason.size() == 1);
  CHECK(c.reason[0] == "does not match the pattern /^(?<x>(a+)+)$/");
  operator_harness e(make_regex_decoder("(?<x>(x+x+)+y)", c.policy()));
  CHECK(e.push(strings({std::string(5000, 'x')})).empty());
}

TEST_CASE("parse_regex: patterns RE2 cannot run are refused with a clear message",
          "[io][decoders][regex]") {
  CHECK_THROWS_WITH(make_regex_decoder("(?<a>x)\\1"),
                    "parse_regex: invalid pattern /(?<a>x)\\1/: backreference \\1 at character 8 is not supported: "
                    "weir's regex engine (RE2) runs in linear time and has no backreferences");
  CHECK_THROWS_WITH(make_regex_decoder("(?<a>x)(?=y)"),
                    Catch::Contains("lookahead '(?=' at character 8 is not supported") &&
                        Catch::Contains("has no lookaround"));
  CHECK_THROWS_WITH(make_regex_decoder("(?<a>x)(?!y)"), Catch::Contains("negative lookahead '(?!'"));
  CHECK_THROWS_WITH(make_regex_decoder("(?<=y)(?<a>x)"), Catch::Contains("lookbehind '(?<='"));
  CHECK_THROWS_WITH(make_regex_decoder("(?<!y)(?<a>x)"), Catch::Contains("negative lookbehind '(?<!'"));
  CHECK_THROWS_WITH(make_regex_decoder("(?<a>x)\\k<a>"), Catch::Contains("backreference \\k"));
  // escaped or inside a class they are plain characters
  operator_harness h(make_regex_decoder(R"(^(?<a>[(?=]+)\(\?=$)"));
  CHECK(h.push(strings({"(?==(?="}))[0].to_json() == R"({"a":"(?=="})");
  // RE2's own errors name the pattern
  CHECK_THROWS_WITH(make_regex_decoder("(?<a>x"), "parse_regex: invalid pattern /(?<a>x/: missing ): (?P<a>x");
  CHECK_THROWS_WITH(make_regex_decoder("(?<a>\\pL{1000})"),
                    Catch::Contains("the pattern is too large (its compiled program exceeds RE2's 8 MiB budget"));
}

TEST_CASE("regex: search gives each group's span - null for a group that took no part", "[io][regex]") {
  regex re("(?<a>x+)|(?P<b>y+)", "test");
  REQUIRE(re.groups() == 2);
  REQUIRE(re.names().size() == 2);
  CHECK(re.names()[0] == std::pair<std::string, std::size_t>{"a", 1});
  CHECK(re.names()[1] == std::pair<std::string, std::size_t>{"b", 2});
  std::vector<std::string_view> s(3);
  REQUIRE(re.search("--yy--", s));
  CHECK(s[0] == "yy");
  CHECK(s[1].data() == nullptr);
  CHECK(s[2] == "yy");
  // found by fuzzing: without a match, no span is left from an earlier one
  CHECK_FALSE(re.search("--", s));
  for (auto& x : s) CHECK(x.data() == nullptr);
  CHECK(re.contains("axb"));
  CHECK_FALSE(re.contains("ab"));
  // UTF-8: '.' is one character
  regex dot("^(?<c>.)$", "test");
  CHECK(dot.search("\xc3\xa9", s));
}

// ------------------------------------------------------------------ parse_csv

TEST_CASE("parse_csv: one stray quote costs one record - the lines after it are read again",
          "[io][decoders][csv][hostile]") {
  // 4,901 lines: a header, then rows; row 2 has a quote that never closes
  std::vector<std::string> lines = {"id,name,comment"};
  for (int i = 1; i <= 4900; ++i)
    lines.push_back(std::to_string(i) + ",name " + std::to_string(i) + (i == 2 ? ",\"oops" : ",fine"));
  for (std::size_t per_call : {std::size_t{1}, std::size_t{7}, lines.size()}) {
    INFO("lines per call " << per_call);
    collected c;
    operator_harness h(make_csv_decoder({}, c.policy()));
    records out;
    for (std::size_t i = 0; i < lines.size(); i += per_call) {
      std::vector<std::string> part(lines.begin() + static_cast<std::ptrdiff_t>(i),
                                    lines.begin() + static_cast<std::ptrdiff_t>(std::min(lines.size(), i + per_call)));
      records r = h.push(strings(part));
      out.insert(out.end(), r.begin(), r.end());
    }
    for (auto& [t, r] : h.end_of_stream()) out.insert(out.end(), r.begin(), r.end());
    CHECK(out.size() == 4899);
    REQUIRE(c.raw.size() == 1);
    CHECK(c.raw[0] == "2,name 2,\"oops");
    CHECK(c.provenance[0] == "record 3");
    CHECK(c.reason[0] == "unterminated quoted field (opened at line 1, column 10 of the record) at end of input "
                         "(a record from this line on; the 4898 lines after it are read again)");
    CHECK(out[0].find("id")->as_string() == "1");
    CHECK(out[1].find("id")->as_string() == "3");
    CHECK(out.back().find("id")->as_string() == "4900");
  }
}

TEST_CASE("parse_csv: max_record_bytes bounds a quoted field spanning lines", "[io][decoders][csv][hostile]") {
  CHECK(csv_options{}.max_record_bytes == 1u << 20);
  csv_options o;
  o.max_record_bytes = 64;
  collected c;
  operator_harness h(make_csv_decoder(o, c.policy()));
  // a legitimate multi-line field within the limit
  records out = h.push(strings({"k,v", "1,\"two", "lines\"", "2,\"open"}));
  REQUIRE(out.size() == 1);
  CHECK(out[0].find("v")->as_string() == "two\nlines");
  // the open field grows past 64 bytes: its first line is the bad record and
  // parsing resumes at the next line
  std::vector<std::string> more;
  for (int i = 3; i < 20; ++i) more.push_back(std::to_string(i) + ",row " + std::to_string(i));
  out = h.push(strings(more));
  REQUIRE(c.raw.size() == 1);
  CHECK(c.raw[0] == "2,\"open");
  CHECK_THAT(c.reason[0], Catch::StartsWith("record longer than 64 bytes (max_record_bytes): unterminated quoted field "
                                            "(opened at line 1, column 3 of the record) (a record from this line on; the "));
  for (auto& [t, r] : h.end_of_stream()) out.insert(out.end(), r.begin(), r.end());
  CHECK(c.raw.size() == 1);
  REQUIRE(out.size() == 17);
  CHECK(out.front().to_json() == R"({"k":"3","v":"row 3"})");
  CHECK(out.back().to_json() == R"({"k":"19","v":"row 19"})");
}

TEST_CASE("parse_csv: an error on a later line of a record costs its first line", "[io][decoders][csv][hostile]") {
  collected c;
  operator_harness h(make_csv_decoder(csv_options{false, ',', '"'}, c.policy()));
  // a stray quote on line 1 is closed by the quoted field of line 3, then 'x' follows the quote
  records out = h.push(strings({"a,\"b,c", "d,e", "\"f\"x,g", "h,i"}));
  REQUIRE(c.raw.size() == 2);
  CHECK(c.raw[0] == "a,\"b,c");
  CHECK(c.reason[0] == "line 3, column 2: expected ',' or end of record after a closing '\"', found 'f' "
                       "(a record from this line on; the 2 lines after it are read again)");
  CHECK(c.provenance[0] == "record 1");
  CHECK(c.raw[1] == "\"f\"x,g");
  CHECK(c.provenance[1] == "record 3");
  REQUIRE(out.size() == 2);
  CHECK(out[0].to_json() == R"(["d","e"])");
  CHECK(out[1].to_json() == R"(["h","i"])");
}

// ------------------------------------------------------------------ dead letters

TEST_CASE("dead_letter: raw bytes that are not UTF-8 are kept exactly in raw_base64", "[io][decoders][hostile]") {
  test::temp_dir tmp;
  const auto path = tmp.path / "bad.jsonl";
  {
    dead_letter_file f(path.string());
    f.write(bad_record{std::string_view("ok \xc3\xa9", 5), "r1", "p1"});
    f.write(bad_record{std::string_view("a\xff\xfe\0z", 5), "r2", "p2"});
    f.write(bad_record{std::string_view("\xc3", 1), "r3", "p3"});
  }
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "{\"raw\":\"ok \xc3\xa9\",\"reason\":\"r1\",\"provenance\":\"p1\"}");
  // "a\xff\xfe\0z" = 61 ff fe 00 7a → Yf/+AHo=
  CHECK(lines[1] ==
        "{\"raw\":\"a\xef\xbf\xbd\xef\xbf\xbd\\u0000z\",\"raw_base64\":\"Yf/+AHo=\",\"reason\":\"r2\",\"provenance\":\"p2\"}");
  CHECK(lines[2] == "{\"raw\":\"\xef\xbf\xbd\",\"raw_base64\":\"ww==\",\"reason\":\"r3\",\"provenance\":\"p3\"}");
}
