// file(path) with a glob pattern: matching files in name order, one after the other.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "io/net_test_util.hpp"
#include "support/test_data.hpp"
#include "weir/io/sources.hpp"

using weir::records;
namespace fs = std::filesystem;

namespace {
void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}
}  // namespace

TEST_CASE("file: a glob reads the matching files sorted by name", "[io][file][glob]") {
  weir::test::temp_dir tmp;
  fs::create_directory(tmp.path / "logs");
  write_file(tmp.path / "logs" / "b.log", "b1\nb2\n");
  write_file(tmp.path / "logs" / "a.log", "a1\n");
  write_file(tmp.path / "logs" / "c.log", "c1\nc2\nc3");  // no final newline
  write_file(tmp.path / "logs" / "notes.txt", "not matched\n");
  write_file(tmp.path / "logs" / "empty.log", "");
  fs::create_directory(tmp.path / "logs" / "dir.log");  // a directory: skipped
  std::string pattern = (tmp.path / "logs" / "*.log").string();
  auto src = weir::io::make_file_source(pattern);
  CHECK(src->describe() == "file(\"" + pattern + "\")");
  src->open();
  records out;
  CHECK(weir::test::pull(*src, out) == weir::io::read_result::status::end);
  std::vector<std::string> got;
  for (auto& v : out) got.emplace_back(v.as_string());
  CHECK(got == std::vector<std::string>{"a1", "b1", "b2", "c1", "c2", "c3"});
  src->close();
}

TEST_CASE("file: a glob matching nothing is a clear error", "[io][file][glob]") {
  weir::test::temp_dir tmp;
  std::string pattern = (tmp.path / "*.log").string();
  CHECK_THROWS_WITH(weir::io::make_file_source(pattern)->open(),
                    "file(\"" + pattern + "\"): no file matches the pattern");
}

TEST_CASE("file: a glob over the shared data reads every line once", "[io][file][glob]") {
  auto f = weir::test::data_file("text_tinyshakespeare/input.txt");
  if (!f) {
    WARN("SKIPPED: ../shared/data/text_tinyshakespeare/input.txt not found (set WEIR_DATA)");
    return;
  }
  // Split the text into 7 files (part-0..part-6), read them back with a glob.
  weir::test::temp_dir tmp;
  std::ifstream in(*f, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  std::size_t lines = 0, pos = 0;
  for (char ch : text) lines += ch == '\n';
  std::size_t per = lines / 7 + 1;
  for (int k = 0; k < 7; ++k) {
    std::size_t start = pos;
    for (std::size_t n = 0; n < per && pos < text.size(); ++pos)
      if (text[pos] == '\n') ++n;
    write_file(tmp.path / ("part-" + std::to_string(k)), text.substr(start, pos - start));
  }
  auto src = weir::io::make_file_source((tmp.path / "part-?").string());
  src->open();
  records out;
  weir::test::pull(*src, out);
  CHECK(lines == 40000);  // python3: open(...,'rb').read().count(b'\n')
  REQUIRE(out.size() == lines);
  std::string joined;
  for (auto& v : out) (joined += v.as_string()) += '\n';
  CHECK(joined == text);
}
