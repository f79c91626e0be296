// write_text (Spark saveAsTextFiles layout), write_csv and stdout sinks.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "support/test_data.hpp"
#include "weir/io/decoders.hpp"
#include "weir/io/sinks.hpp"
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

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> out;
  for (auto& e : fs::recursive_directory_iterator(dir)) out.push_back(fs::relative(e.path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("write_text: a folder per batch - a part file per instance - Spark's text form", "[io][sinks]") {
  test::temp_dir tmp;
  auto dir = tmp.path / "out";
  operator_context ctx;
  ctx.instance = 1;
  ctx.parallelism = 2;
  operator_harness h(make_text_files_sink(dir.string(), "counts", "txt"), ctx);
  h.push({value::pair("a", 1), value("plain"), value(2.0)});
  // while the batch runs, nothing is under a final name
  CHECK(listing(dir) == std::vector<std::string>{".counts-part-00001.inflight"});
  h.end_batch();
  h.end_batch();  // an empty batch still gets its (empty) part file
  h.push({value::array({value(1), value("x")})});
  h.end_batch();
  h.end_of_stream();
  CHECK(listing(dir) == std::vector<std::string>{"counts-1000.txt", "counts-1000.txt/part-00001", "counts-2000.txt",
                                                 "counts-2000.txt/part-00001", "counts-3000.txt",
                                                 "counts-3000.txt/part-00001"});
  CHECK(slurp(dir / "counts-1000.txt/part-00001") == "(a,1)\nplain\n2.0\n");
  CHECK(slurp(dir / "counts-2000.txt/part-00001").empty());
  CHECK(slurp(dir / "counts-3000.txt/part-00001") == "[1,\"x\"]\n");
}

TEST_CASE("write_text: empty suffix gives prefix-TIME - an unwritable folder is a clear error", "[io][sinks]") {
  test::temp_dir tmp;
  {
    operator_harness h(make_text_files_sink(tmp.path.string(), "b", ""));
    h.batch({value(1)});
    h.end_of_stream();
    CHECK(slurp(tmp.path / "b-1000/part-00000") == "1\n");
  }
  auto sink = make_text_files_sink("/proc/no/such", "x", "txt");
  CHECK_THROWS_WITH(sink->open({}), "write_text(\"/proc/no/such\"): cannot create \"/proc/no/such\": No such file or directory");
}

TEST_CASE("write_csv: header from the first object - RFC 4180 quoting - read back by parse_csv", "[io][sinks][csv]") {
  test::temp_dir tmp;
  auto p = tmp.path / "out.csv";
  std::vector<field> f1 = {{value("name"), value("a,b")}, {value("n"), value(1)}, {value("note"), value("say \"hi\"\nbye")}};
  std::vector<field> f2 = {{value("n"), value(2.5)}, {value("name"), value("plain")}};
  {
    operator_harness h(make_csv_sink(p.string()));
    h.batch({value::object(f1), value::object(f2)});
    CHECK_FALSE(fs::exists(p));  // written as out.csv.tmp until the end
    h.end_of_stream();
  }
  std::string text = slurp(p);
  CHECK(text == "name,n,note\n\"a,b\",1,\"say \"\"hi\"\"\nbye\"\nplain,2.5,\n");
  // round trip through the CSV decoder
  std::vector<std::string> lines;
  std::istringstream in(text);
  records rs;
  for (std::string l; std::getline(in, l);) rs.emplace_back(l);
  operator_harness d(make_csv_decoder({}));
  records back = d.push(rs);
  REQUIRE(back.size() == 2);
  CHECK(back[0].find("note")->as_string() == "say \"hi\"\nbye");
  CHECK(back[1].find("name")->as_string() == "plain");
  // arrays and scalars
  auto q = tmp.path / "rows.csv";
  operator_harness h(make_csv_sink(q.string()));
  h.batch({value::pair("k", 3), value("x"), value(), value::array({value::array({value(1), value(2)}), value(true)})});
  h.end_of_stream();
  CHECK(slurp(q) == "k,3\nx\n\n\"[1,2]\",true\n");
}

TEST_CASE("stdout sink: jsonl and text - one line per record", "[io][sinks]") {
  std::ostringstream js, tx;
  operator_harness a(make_stdout_sink(stdout_format::jsonl, &js));
  operator_harness b(make_stdout_sink(stdout_format::text, &tx));
  records rs = {value::pair("a", 1), value("s"), value(1.0)};
  a.batch(rs);
  b.batch(rs);
  a.batch({});
  CHECK(js.str() == "[\"a\",1]\n\"s\"\n1.0\n");
  CHECK(tx.str() == "(a,1)\ns\n1.0\n");
}
