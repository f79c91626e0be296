// dir(path): Spark textFileStream semantics — new files read once, in order
// of arrival; files present at start ignored; hidden/temp files ignored.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/net_test_util.hpp"
#include "support/test_data.hpp"
#include "weir/io/sources.hpp"

using weir::records;
using weir::io::read_result;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// Writes `text` under staging/name, then renames it into `dir` (atomic move).
void move_in(const fs::path& staging, const fs::path& dir, const std::string& name, const std::string& text) {
  write_file(staging / name, text);
  fs::rename(staging / name, dir / name);
}

std::vector<std::string> strings(const records& r) {
  std::vector<std::string> out;
  for (auto& v : r) out.emplace_back(v.as_string());
  return out;
}

void set_mtime(const fs::path& p, long sec) {
  timespec ts[2] = {{sec, 0}, {sec, 0}};
  REQUIRE(::utimensat(AT_FDCWD, p.c_str(), ts, 0) == 0);
}

}  // namespace

TEST_CASE("dir: 20 files moved in one by one are each read exactly once - in order - files there at start are not",
          "[io][dir]") {
  weir::test::temp_dir tmp;
  fs::path dir = tmp.path / "in", staging = tmp.path / "staging";
  fs::create_directory(dir);
  fs::create_directory(staging);
  write_file(dir / "old.txt", "old 1\nold 2\n");  // present at start: ignored (Spark)

  weir::io::dir_options o;
  o.poll = 1ms;
  auto src = weir::io::make_dir_source(dir.string(), o);
  CHECK(src->describe() == "dir(\"" + dir.string() + "\")");
  src->open();

  records out;
  std::vector<std::string> expected;
  for (int i = 0; i < 20; ++i) {
    std::string name = "part-" + std::to_string(100 + i) + ".txt";
    std::string text;
    for (int j = 1; j <= i % 5 + 1; ++j) {
      text += "file " + std::to_string(i) + " line " + std::to_string(j) + (j % 2 ? "\n" : "\r\n");
      expected.push_back("file " + std::to_string(i) + " line " + std::to_string(j));
    }
    // hidden and temporary names are never read
    write_file(dir / ("." + name + ".tmp"), "hidden\n");
    write_file(dir / ("_COPYING_" + name), "temporary\n");
    move_in(staging, dir, name, text);
    weir::test::pull(*src, out, expected.size());
    REQUIRE(out.size() == expected.size());
  }
  // 1+2+3+4+5 lines per 5 files → 15 × 4 = 60 lines, each once, in order
  CHECK(expected.size() == 60);
  CHECK(strings(out) == expected);

  // Nothing is read again, also after the poll interval passed many times.
  for (int k = 0; k < 20; ++k) {
    auto r = src->read(out, 100);
    CHECK(r.st == read_result::status::idle);
    std::this_thread::sleep_for(1ms);
  }
  CHECK(out.size() == 60);
  src->close();
}

TEST_CASE("dir: provenance names the file and the line", "[io][dir]") {
  weir::test::temp_dir tmp;
  fs::path dir = tmp.path / "in", staging = tmp.path / "staging";
  fs::create_directory(dir);
  fs::create_directory(staging);
  weir::io::dir_options o;
  o.poll = 1ms;
  auto src = weir::io::make_dir_source(dir.string(), o);
  src->open();
  move_in(staging, dir, "a.log", "x\ny\nz\n");
  records out;
  // read 2 records at a time: the second read starts at line 3
  weir::test::pull(*src, out, 2, 2);
  REQUIRE(out.size() == 2);
  REQUIRE(src->origin() != nullptr);
  CHECK(src->origin()->describe(0) == (dir / "a.log").string() + ":1");
  CHECK(src->origin()->describe(1) == (dir / "a.log").string() + ":2");
  out.clear();
  weir::test::pull(*src, out, 1, 2);
  REQUIRE(out.size() == 1);
  CHECK(out[0].as_string() == "z");
  CHECK(src->origin()->describe(0) == (dir / "a.log").string() + ":3");
}

TEST_CASE("dir: include_existing reads the files present at start by mtime - then name", "[io][dir]") {
  weir::test::temp_dir tmp;
  fs::path dir = tmp.path / "in";
  fs::create_directory(dir);
  write_file(dir / "a.txt", "a\n");
  write_file(dir / "b.txt", "b\n");
  write_file(dir / "c.txt", "c1\nc2");  // last line without terminator is a line
  set_mtime(dir / "a.txt", 1'700'000'200);
  set_mtime(dir / "b.txt", 1'700'000'100);  // oldest: first
  set_mtime(dir / "c.txt", 1'700'000'200);  // same time as a: by name after a
  fs::create_directory(dir / "sub");        // directories are skipped
  weir::io::dir_options o;
  o.include_existing = true;
  o.poll = 1ms;
  auto src = weir::io::make_dir_source(dir.string(), o);
  src->open();
  records out;
  weir::test::pull(*src, out, 4);
  CHECK(strings(out) == std::vector<std::string>{"b", "a", "c1", "c2"});
}

TEST_CASE("dir: a new file under an old name is read - a file modified in place is not re-read", "[io][dir]") {
  weir::test::temp_dir tmp;
  fs::path dir = tmp.path / "in", staging = tmp.path / "staging";
  fs::create_directory(dir);
  fs::create_directory(staging);
  weir::io::dir_options o;
  o.poll = 1ms;
  auto src = weir::io::make_dir_source(dir.string(), o);
  src->open();
  records out;
  move_in(staging, dir, "x.txt", "one\n");
  weir::test::pull(*src, out, 1);
  {  // appended in place: same file (inode), not read again (Spark reads a file once)
    std::ofstream app(dir / "x.txt", std::ios::app);
    app << "appended\n";
  }
  move_in(staging, dir, "y.txt", "two\n");  // a marker behind it
  weir::test::pull(*src, out, 2);
  fs::remove(dir / "x.txt");
  for (int k = 0; k < 3; ++k) {  // a listing sees it gone (the inode number may be reused)
    std::this_thread::sleep_for(2ms);
    CHECK(src->read(out, 10).st == read_result::status::idle);
  }
  move_in(staging, dir, "x.txt", "three\n");  // a new file under the old name
  weir::test::pull(*src, out, 3);
  CHECK(strings(out) == std::vector<std::string>{"one", "two", "three"});
}

TEST_CASE("dir: errors name the directory", "[io][dir]") {
  weir::test::temp_dir tmp;
  auto missing = weir::io::make_dir_source((tmp.path / "nope").string());
  CHECK_THROWS_WITH(missing->open(), "dir(\"" + (tmp.path / "nope").string() +
                                         "\"): cannot open: No such file or directory");
  write_file(tmp.path / "f.txt", "x\n");
  auto file = weir::io::make_dir_source((tmp.path / "f.txt").string());
  CHECK_THROWS_WITH(file->open(), "dir(\"" + (tmp.path / "f.txt").string() + "\"): not a directory");
}
