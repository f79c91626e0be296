// The checkpoint store (checkpoint/checkpoint.hpp): round trips, retention,
// ids, corruption fallback, garbage in the directory, full disk.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <set>

#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sched.h>

#include "checkpoint/checkpoint_test_util.hpp"
#include "support/test_data.hpp"
#include "weir/common/errno_text.hpp"

using namespace weir::test::ck;
using weir::test::temp_dir;

namespace {

std::vector<std::uint64_t> ids_on_disk(const fs::path& dir) {
  std::vector<std::uint64_t> ids;
  for (auto& e : fs::directory_iterator(dir)) {
    auto n = e.path().filename().string();
    if (n.rfind("chk-", 0) == 0 && n.size() == 16) ids.push_back(std::stoull(n.substr(4)));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

store make_store(const fs::path& dir, int retain = 3, bool compress = false, std::uint64_t max_bytes = 0) {
  store_options o;
  o.dir = dir.string();
  o.retain = retain;
  o.compress = compress;
  o.max_bytes = max_bytes;
  return store(o);
}

struct warnings {
  std::vector<std::string> lines;
  std::function<void(const std::string&)> fn() {
    return [this](const std::string& w) { lines.push_back(w); };
  }
};

}  // namespace

TEST_CASE("checkpoint store: round trip without and with zstd", "[checkpoint]") {
  for (bool compress : {false, true}) {
    INFO("compress = " << compress);
    temp_dir tmp;
    auto dir = tmp.path / "ck";
    auto s = make_store(dir, 3, compress);
    CHECK(s.empty());
    CHECK(s.next_id() == 1);
    auto c = make_checkpoint(1, 3, 200000);  // 200 KB of compressible padding per operator section
    auto written = s.write(c);
    CHECK(!s.empty());
    // What write() returns is what is on disk: 3 task files and the MANIFEST.
    auto chk = dir / folder(1);
    std::set<std::string> names;
    for (auto& e : fs::directory_iterator(chk)) names.insert(e.path().filename().string());
    CHECK(names == std::set<std::string>{"MANIFEST", "task-0-0.bin", "task-1-1.bin", "task-2-0.bin"});
    CHECK(written == disk_bytes(chk));
    // Header of a task file: the magic, version 1, the zstd flag as asked.
    auto f = read_bytes(chk / "task-1-1.bin");
    REQUIRE(f.size() > 48);
    CHECK(f.substr(0, 8) == "WEIRCKPT");
    CHECK(f[8] == 1);
    CHECK((f[12] & 1) == (compress ? 1 : 0));
    if (compress)
      CHECK(f.size() < 20000);  // 200 KB of repeated text compresses far below
    else
      CHECK(f.size() > 200000);

    warnings w;
    auto back = s.load_latest(w.fn());
    REQUIRE(back);
    CHECK(w.lines.empty());
    require_equal(*back, c);
    require_equal(s.load(1), c);
    // Each operator section decodes to the very values written (every kind,
    // tuple flag included: re-encoding gives the same bytes).
    for (std::size_t i = 0; i < back->tasks.size(); ++i) {
      auto& sec = back->tasks[i].operators[1];
      CHECK(sec.name == "reduce_by_key");
      weir::state_reader r(sec.bytes, "test");
      auto expected = every_kind_values(10 + static_cast<int>(i));
      REQUIRE(r.varint() == expected.size());
      for (auto& x : expected) {
        weir::value v = r.val();
        CHECK(v == x);
        weir::state_writer a, b;
        a.val(v);
        b.val(x);
        CHECK(a.bytes() == b.bytes());
      }
      CHECK(r.str().size() >= 200000);
      CHECK(r.i64() == -42);
      CHECK(r.f64() == 3.5);
      r.expect_end();
    }
    CHECK(back->tasks[0].source_describe == "in.txt: line 101, byte 12346");
    CHECK(back->tasks[1].source_position.empty());
    CHECK(back->tasks[0].operators[0].bytes.empty());

    auto infos = s.list();
    REQUIRE(infos.size() == 1);
    CHECK(infos[0].valid);
    CHECK(infos[0].manifest);
    CHECK(infos[0].id == 1);
    CHECK(infos[0].tasks == 3);
    CHECK(infos[0].bytes == written);
    CHECK(infos[0].timestamp_ms == 1700000001123);
    CHECK(!infos[0].final);
  }
}

TEST_CASE("checkpoint store: task files hold the documented bytes (direct I/O, several chunks, odd size)",
          "[checkpoint]") {
  // An uncompressed task file is written straight from the snapshot's buffers
  // (O_DIRECT where the file system allows it, in 8 MB aligned chunks, the
  // last one padded and the file truncated). Its bytes must be exactly the
  // framing of format.hpp around the documented task content, built here
  // independently, and the MANIFEST must carry its size and xxh3.
  temp_dir tmp;
  auto s = make_store(tmp.path);
  checkpoint_data c;
  c.id = 1;
  c.timestamp_ms = 1700000000000;
  c.plan = "p";
  task_snapshot t;
  t.stage = 2;
  t.instance = 1;
  t.name = "file -> map_with_state[1]";
  t.runtime = "rt";
  t.source_position = std::string(300, 'p');
  t.source_describe = "x: line 1";
  std::string big((std::size_t{17} << 20) + 123, '\0');  // crosses two chunks, ends unaligned
  std::mt19937_64 rng(7);
  for (auto& ch : big) ch = static_cast<char>(rng());
  t.operators = {{"map", ""}, {"map_with_state", big}, {"count", "tail"}};
  c.tasks.push_back(t);
  s.write(c);

  weir::state_writer w;  // task content, as documented in format.hpp
  w.varint(2);
  w.varint(1);
  w.str(t.name);
  w.boolean(false);
  w.str("rt");
  w.str(t.source_position);
  w.str("x: line 1");
  w.varint(3);
  for (auto& o : t.operators) {
    w.str(o.name);
    w.str(o.bytes);
  }
  const std::string expected = forge(w.bytes(), 1, 0, w.size());
  const std::string file = read_bytes(tmp.path / folder(1) / "task-2-1.bin");
  REQUIRE(file.size() == expected.size());
  CHECK(file == expected);
  auto infos = s.list();  // validates sizes and checksums against the MANIFEST
  REQUIRE(infos.size() == 1);
  CHECK(infos[0].valid);
  auto back = s.load(1);
  REQUIRE(back.tasks.size() == 1);
  CHECK(back.tasks[0].operators[1].bytes == big);
}

TEST_CASE("checkpoint store: an empty checkpoint and a final one round-trip", "[checkpoint]") {
  temp_dir tmp;
  auto s = make_store(tmp.path);
  checkpoint_data c;
  c.id = 1;
  c.final = true;
  s.write(c);
  auto back = s.load_latest(nullptr);
  REQUIRE(back);
  CHECK(back->final);
  CHECK(back->tasks.empty());
  CHECK(s.next_id() == 2);
}

TEST_CASE("checkpoint store: durable = false (no fsync) writes the same bytes", "[checkpoint]") {
  temp_dir a, b;
  store_options o;
  o.dir = (a.path / "ck").string();
  store(o).write(make_checkpoint(5));
  o.dir = (b.path / "ck").string();
  o.durable = false;
  store s(o);
  s.write(make_checkpoint(5));
  for (auto name : {"MANIFEST", "task-0-0.bin", "task-1-1.bin", "task-2-0.bin"})
    CHECK(read_bytes(a.path / "ck" / folder(5) / name) == read_bytes(b.path / "ck" / folder(5) / name));
  require_equal(*s.load_latest(nullptr), make_checkpoint(5));
}

TEST_CASE("checkpoint store: retention keeps the newest K and removes failed attempts", "[checkpoint]") {
  temp_dir tmp;
  auto dir = tmp.path;
  auto s = make_store(dir, 3);
  for (std::uint64_t id = 1; id <= 6; ++id) {
    REQUIRE(s.next_id() == id);
    s.write(make_checkpoint(id, 2));
  }
  CHECK(ids_on_disk(dir) == std::vector<std::uint64_t>{4, 5, 6});
  // A crashed attempt (task files, no MANIFEST), an unrelated file and folder.
  fs::create_directory(dir / folder(7));
  write_bytes(dir / folder(7) / "task-0-0.bin", "partial");
  write_bytes(dir / "notes.txt", "not ours");
  fs::create_directory(dir / "other");
  CHECK(s.next_id() == 8);  // ids never repeat, even over a failed attempt
  s.write(make_checkpoint(8, 2));
  CHECK(ids_on_disk(dir) == std::vector<std::uint64_t>{5, 6, 8});
  CHECK(fs::exists(dir / "notes.txt"));
  CHECK(fs::is_directory(dir / "other"));
  auto infos = s.list();
  REQUIRE(infos.size() == 3);
  for (auto& i : infos) CHECK(i.valid);

  SECTION("retain 1") {
    auto s1 = make_store(dir, 1);
    s1.write(make_checkpoint(9, 1));
    CHECK(ids_on_disk(dir) == std::vector<std::uint64_t>{9});
  }
  SECTION("retain below 1 is refused") {
    store_options o;
    o.dir = dir.string();
    o.retain = 0;
    CHECK_THROWS_AS(store(o), checkpoint_error);
  }
}

TEST_CASE("checkpoint store: next_id over a missing, empty and odd directory", "[checkpoint]") {
  temp_dir tmp;
  auto s = make_store(tmp.path / "missing");
  CHECK(s.empty());
  CHECK(s.next_id() == 1);
  CHECK(!s.load_latest(nullptr));
  CHECK(s.list().empty());
  CHECK_THROWS_AS(s.load(1), checkpoint_error);

  auto s2 = make_store(tmp.path);
  CHECK(s2.empty());
  write_bytes(tmp.path / "chk-12", "bad name, ignored");
  write_bytes(tmp.path / "chk-00000000004x", "bad name, ignored");
  CHECK(!s2.empty());
  CHECK(s2.next_id() == 1);
  // a file with a checkpoint's name has no MANIFEST: it does not decide the
  // next id, and its name is never reused
  write_bytes(tmp.path / folder(42), "a file with a checkpoint name");
  CHECK(s2.next_id() == 1);
  write_bytes(tmp.path / folder(1), "another");
  CHECK(s2.next_id() == 2);

  write_bytes(tmp.path / "plain-file", "x");
  store_options o;
  o.dir = (tmp.path / "plain-file").string();
  CHECK_THROWS_AS(store(o), checkpoint_error);
}

TEST_CASE("checkpoint store: write refuses an existing id and duplicate tasks", "[checkpoint]") {
  temp_dir tmp;
  auto s = make_store(tmp.path);
  s.write(make_checkpoint(1));
  CHECK_THROWS_WITH(s.write(make_checkpoint(1)), Catch::Contains("already exists"));
  require_equal(*s.load_latest(nullptr), make_checkpoint(1));  // untouched
  auto c = make_checkpoint(2, 2);
  c.tasks[1].stage = c.tasks[0].stage;
  c.tasks[1].instance = c.tasks[0].instance;
  CHECK_THROWS_WITH(s.write(c), Catch::Contains("two tasks with stage 0 instance 0"));
  CHECK(!fs::exists(tmp.path / folder(2)));
}

TEST_CASE("checkpoint store: a corrupt newest checkpoint falls back to the previous", "[checkpoint]") {
  bool compress = GENERATE(false, true);
  INFO("compress = " << compress);
  temp_dir tmp;
  auto dir = tmp.path;
  auto s = make_store(dir, 3, compress);
  for (std::uint64_t id = 1; id <= 3; ++id) s.write(make_checkpoint(id, 3, 5000));
  auto chk3 = dir / folder(3);
  auto task = chk3 / "task-1-1.bin";
  std::string expect_problem;
  bool incomplete = false;

  SECTION("truncated task file") {
    auto f = read_bytes(task);
    write_bytes(task, f.substr(0, f.size() / 2));
    expect_problem = "task-1-1.bin: truncated";
  }
  SECTION("one bit flipped in a task file's content") {
    auto f = read_bytes(task);
    f[40 + (f.size() - 48) / 2] ^= 0x10;
    write_bytes(task, f);
    expect_problem = "task-1-1.bin: checksum mismatch";
  }
  SECTION("one bit flipped in a task file's header") {
    auto f = read_bytes(task);
    f[17] ^= 0x01;  // raw_size
    write_bytes(task, f);
    expect_problem = "task-1-1.bin: checksum mismatch";
  }
  SECTION("a task file's header changed with the MANIFEST updated: the header checksum catches it") {
    auto f = read_bytes(task);
    f[17] ^= 0x01;
    write_bytes(task, f);
    rewrite_manifest(chk3, make_checkpoint(3, 3, 5000));
    expect_problem = "task-1-1.bin: header checksum mismatch";
  }
  SECTION("a task file's content changed with every checksum updated: the decoder catches it") {
    auto f = read_bytes(task);
    std::uint32_t flags = static_cast<unsigned char>(f[12]);
    std::string stored = f.substr(40, f.size() - 48);
    if (compress) {
      stored.resize(stored.size() - 3);  // a truncated zstd frame
      expect_problem = "task-1-1.bin: zstd content is truncated";
    } else {
      stored += "xyz";  // trailing bytes after the task's fields
      expect_problem = "corrupt checkpoint state of task-1-1.bin: 3 unexpected trailing bytes";
    }
    write_bytes(task, forge(stored, 1, flags, compress ? le64(f, 16) : stored.size()));
    rewrite_manifest(chk3, make_checkpoint(3, 3, 5000));
  }
  SECTION("one bit flipped in the MANIFEST's version: corrupt, not a newer format") {
    auto f = read_bytes(chk3 / "MANIFEST");
    f[8] ^= 0x02;  // version 1 -> 3
    write_bytes(chk3 / "MANIFEST", f);
    expect_problem = "MANIFEST: header checksum mismatch";
  }
  SECTION("one bit flipped in the MANIFEST's content") {
    auto f = read_bytes(chk3 / "MANIFEST");
    f[45] ^= 0x40;
    write_bytes(chk3 / "MANIFEST", f);
    expect_problem = "MANIFEST: checksum mismatch";
  }
  SECTION("MANIFEST deleted") {
    fs::remove(chk3 / "MANIFEST");
    expect_problem = "MANIFEST missing";
    incomplete = true;
  }
  SECTION("MANIFEST truncated") {
    auto f = read_bytes(chk3 / "MANIFEST");
    write_bytes(chk3 / "MANIFEST", f.substr(0, 30));
    expect_problem = "MANIFEST: truncated";
  }
  SECTION("MANIFEST left as MANIFEST.tmp (crash before the rename)") {
    fs::rename(chk3 / "MANIFEST", chk3 / "MANIFEST.tmp");
    expect_problem = "MANIFEST missing";
    incomplete = true;
  }
  SECTION("a task file deleted") {
    fs::remove(chk3 / "task-2-0.bin");
    expect_problem = "task-2-0.bin missing";
  }
  SECTION("a task file of another checkpoint put in its place") {
    fs::copy_file(dir / folder(2) / "task-1-1.bin", task, fs::copy_options::overwrite_existing);
    expect_problem = "task-1-1.bin:";
  }

  warnings w;
  auto back = s.load_latest(w.fn());
  REQUIRE(back);
  require_equal(*back, make_checkpoint(2, 3, 5000));
  REQUIRE(w.lines.size() == 1);
  CHECK_THAT(w.lines[0], Catch::StartsWith(std::string("checkpoint 3 is ") + (incomplete ? "incomplete (" : "corrupt (")) &&
                             Catch::Contains(expect_problem) && Catch::EndsWith("; using 2"));
  CHECK_THROWS_AS(s.load(3), checkpoint_error);
  CHECK_THROWS_WITH(s.load(3), Catch::Contains(expect_problem));
  auto infos = s.list();
  REQUIRE(infos.size() == 3);
  CHECK(infos[0].valid);
  CHECK(infos[1].valid);
  CHECK(!infos[2].valid);
  CHECK_THAT(infos[2].problem, Catch::Contains(expect_problem));
  // The next write gets id 4 and retention then removes the corrupt 3 as a failed attempt... only when
  // it is older than the newest complete checkpoint and not complete itself.
  CHECK(s.next_id() == 4);
}

TEST_CASE("checkpoint store: a MANIFEST from a newer weir is refused, never skipped", "[checkpoint]") {
  temp_dir tmp;
  auto s = make_store(tmp.path);
  s.write(make_checkpoint(1));
  s.write(make_checkpoint(2));
  auto m = tmp.path / folder(2) / "MANIFEST";
  auto f = read_bytes(m);
  put_le32(f, 8, 2);  // format version 2, header checksum recomputed: a genuine newer file
  reseal_header(f);
  write_bytes(m, f);
  warnings w;
  CHECK_THROWS_AS(s.load_latest(w.fn()), checkpoint_error);
  CHECK_THROWS_WITH(s.load_latest(w.fn()), "checkpoint 2 was written by a newer weir (format 2 > 1)");
  CHECK_THROWS_WITH(s.load(2), Catch::Contains("newer weir (format 2 > 1)"));
  auto infos = s.list();
  REQUIRE(infos.size() == 2);
  CHECK(!infos[1].valid);
  CHECK_THAT(infos[1].problem, Catch::Contains("newer weir (format 2 > 1)"));

  SECTION("also behind a newer incomplete attempt") {
    fs::create_directory(tmp.path / folder(3));
    CHECK_THROWS_WITH(s.load_latest(w.fn()), "checkpoint 2 was written by a newer weir (format 2 > 1)");
  }
  SECTION("a newer valid checkpoint wins") {
    s.write(make_checkpoint(3));
    auto back = s.load_latest(w.fn());
    REQUIRE(back);
    CHECK(back->id == 3);
    CHECK(fs::exists(m));  // retention leaves a newer weir's checkpoint alone
  }
}

TEST_CASE("checkpoint store: every checkpoint invalid -> nullopt with a warning each", "[checkpoint]") {
  temp_dir tmp;
  auto s = make_store(tmp.path);
  for (std::uint64_t id = 1; id <= 3; ++id) s.write(make_checkpoint(id));
  fs::remove(tmp.path / folder(1) / "MANIFEST");
  write_bytes(tmp.path / folder(2) / "MANIFEST", "garbage");
  auto t = tmp.path / folder(3) / "task-0-0.bin";
  write_bytes(t, read_bytes(t) + "x");
  warnings w;
  CHECK(!s.load_latest(w.fn()));
  REQUIRE(w.lines.size() == 3);
  auto size3 = fs::file_size(t);
  CHECK(w.lines[0] == "checkpoint 3 is corrupt (task-0-0.bin: " + std::to_string(size3) + " bytes, the MANIFEST says " +
                          std::to_string(size3 - 1) + "); no valid checkpoint left");
  CHECK_THAT(w.lines[1], Catch::StartsWith("checkpoint 2 is corrupt (MANIFEST: truncated"));
  CHECK(w.lines[2] == "checkpoint 1 is incomplete (MANIFEST missing); no valid checkpoint left");
  CHECK(!s.empty());
}

TEST_CASE("checkpoint store: garbage in the directory is ignored or reported", "[checkpoint]") {
  temp_dir tmp;
  auto s = make_store(tmp.path);
  s.write(make_checkpoint(1));
  s.write(make_checkpoint(2));
  write_bytes(tmp.path / "README", "hello");
  fs::create_directory(tmp.path / "tmp");
  write_bytes(tmp.path / "tmp" / "MANIFEST", "junk");
  write_bytes(tmp.path / folder(99), "a file, not a folder");
  fs::create_directory(tmp.path / folder(100));
  write_bytes(tmp.path / folder(100) / "MANIFEST.tmp", "half written");
  write_bytes(tmp.path / folder(2) / "stray.txt", "extra file in a checkpoint");
  warnings w;
  auto back = s.load_latest(w.fn());
  REQUIRE(back);
  CHECK(back->id == 2);
  REQUIRE(w.lines.size() == 2);
  CHECK(w.lines[0] == "checkpoint 100 is incomplete (MANIFEST missing); using 2");
  CHECK(w.lines[1] == "checkpoint 99 is corrupt (not a directory); using 2");
  auto infos = s.list();
  REQUIRE(infos.size() == 4);
  CHECK(infos[2].id == 99);
  CHECK(infos[2].problem == "not a directory");
  CHECK(infos[3].id == 100);
  CHECK(infos[3].problem == "MANIFEST missing");
  CHECK(!infos[3].manifest);
  CHECK(s.next_id() == 3);  // folders without a readable MANIFEST do not decide it
  // A manifest's id must match its folder: a copied folder is invalid.
  fs::copy(tmp.path / folder(1), tmp.path / folder(101));
  warnings w2;
  back = s.load_latest(w2.fn());
  REQUIRE(back);
  CHECK(back->id == 2);
  CHECK_THAT(w2.lines[0], Catch::Contains("MANIFEST: belongs to checkpoint 1, found in the folder of 101"));
}

TEST_CASE("checkpoint store: a full disk (quota) fails the checkpoint cleanly", "[checkpoint]") {
  temp_dir tmp;
  auto dir = tmp.path;
  auto s = make_store(dir, 3);
  auto first = s.write(make_checkpoint(1, 3, 20000));
  auto second = s.write(make_checkpoint(2, 3, 20000));
  CHECK(disk_bytes(dir) == first + second);

  SECTION("store_options::max_bytes") {
    // Room for half of a third checkpoint.
    auto full = make_store(dir, 3, false, first + second + first / 2);
    try {
      full.write(make_checkpoint(3, 3, 20000));
      FAIL("the write should have failed");
    } catch (const checkpoint_error& e) {
      std::string what = e.what();
      CHECK_THAT(what, Catch::StartsWith("checkpoint 3 failed: cannot write ") &&
                           Catch::Contains(folder(3) + "/task-") &&
                           Catch::Contains("No space left on device (quota of"));
    }
  }
  SECTION("the quota reached exactly at the MANIFEST") {
    auto full = make_store(dir, 3, false, first + second + first - 10);
    CHECK_THROWS_WITH(full.write(make_checkpoint(3, 3, 20000)),
                      Catch::Contains(folder(3) + "/MANIFEST.tmp: No space left on device"));
  }
  SECTION("WEIR_CHECKPOINT_QUOTA_BYTES") {
    ::setenv("WEIR_CHECKPOINT_QUOTA_BYTES", std::to_string(first + second + 100).c_str(), 1);
    CHECK_THROWS_WITH(s.write(make_checkpoint(3, 3, 20000)),
                      Catch::Contains("No space left on device") && Catch::Contains("WEIR_CHECKPOINT_QUOTA_BYTES"));
    ::setenv("WEIR_CHECKPOINT_QUOTA_BYTES", "lots", 1);
    CHECK_THROWS_WITH(s.write(make_checkpoint(3, 3, 20000)),
                      Catch::Contains("WEIR_CHECKPOINT_QUOTA_BYTES: expected a number of bytes, got 'lots'"));
    ::unsetenv("WEIR_CHECKPOINT_QUOTA_BYTES");
  }
  // The partial folder is gone, earlier checkpoints untouched and loadable.
  CHECK(ids_on_disk(dir) == std::vector<std::uint64_t>{1, 2});
  CHECK(disk_bytes(dir) == first + second);
  warnings w;
  auto back = s.load_latest(w.fn());
  REQUIRE(back);
  require_equal(*back, make_checkpoint(2, 3, 20000));
  CHECK(w.lines.empty());
  // Space returns: the next checkpoint succeeds (with the same id: no folder was left behind).
  CHECK(s.next_id() == 3);
  auto roomy = make_store(dir, 3, false, 10 * (first + second));
  roomy.write(make_checkpoint(3, 3, 20000));
  CHECK(roomy.load_latest(nullptr)->id == 3);
}

// A real full filesystem: a 16 MB tmpfs in a private user + mount namespace
// (no root needed where unprivileged user namespaces are allowed). The work
// runs in a forked child, which reports one line through a pipe.
TEST_CASE("checkpoint store: ENOSPC on a real 16 MB tmpfs", "[checkpoint][slow]") {
  temp_dir tmp;
  auto mnt = tmp.path / "mnt";
  fs::create_directory(mnt);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    auto report = [&](const std::string& msg, int code) {
      [[maybe_unused]] auto n = ::write(fds[1], msg.data(), msg.size());
      ::_exit(code);
    };
    uid_t uid = ::getuid();
    gid_t gid = ::getgid();
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) report(std::string("unshare: ") + weir::errno_text(errno), 3);
    write_bytes("/proc/self/setgroups", "deny");
    write_bytes("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
    write_bytes("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      report(std::string("mount --make-rprivate /: ") + weir::errno_text(errno), 3);
    if (::mount("none", mnt.c_str(), "tmpfs", 0, "size=16m") != 0)
      report(std::string("mount tmpfs: ") + weir::errno_text(errno), 3);
    try {
      // 3 MB of incompressible state per checkpoint.
      std::mt19937_64 rng(7);
      auto big = [&](std::uint64_t id) {
        auto c = make_checkpoint(id, 1);
        std::string noise(3 << 20, '\0');
        for (auto& ch : noise) ch = static_cast<char>(rng());
        c.tasks[0].operators.push_back({"window", noise});
        return c;
      };
      auto s = make_store(mnt / "ck", 3, true);
      s.write(big(1));
      s.write(big(2));
      write_bytes(mnt / "filler", std::string(9 << 20, 'f'));  // 6 + 9 MB of 16
      try {
        s.write(big(3));
        report("the write on a full tmpfs succeeded", 1);
      } catch (const checkpoint_error& e) {
        std::string what = e.what();
        if (what.find("No space left on device") == std::string::npos) report("unexpected error: " + what, 1);
      }
      if (fs::exists(mnt / "ck" / folder(3))) report("the partial folder was left behind", 1);
      auto back = s.load_latest(nullptr);
      if (!back || back->id != 2) report("checkpoint 2 does not load after the failure", 1);
      fs::remove(mnt / "filler");  // space returns
      s.write(big(3));
      back = s.load_latest(nullptr);
      if (!back || back->id != 3 || back->tasks[0].operators.back().bytes.size() != (3u << 20))
        report("checkpoint 3 does not load after space returned", 1);
      report("ok", 0);
    } catch (const std::exception& e) {
      report(std::string("exception: ") + e.what(), 1);
    }
  }
  ::close(fds[1]);
  std::string msg;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) msg.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 3) {
    WARN("SKIPPED: cannot mount a tmpfs in a user namespace here (" << msg << ")");
    return;
  }
  INFO(msg);
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(msg == "ok");
}

TEST_CASE("checkpoint store: free_id_from steps over a gap's later attempts", "[checkpoint]") {
  // After a restore from chk-12 with chk-13 missing and chk-14 a crashed
  // attempt, the run's ids go 13, then 15: never chk-14's name.
  temp_dir tmp;
  auto s = make_store(tmp.path);
  s.write(make_checkpoint(12, 1));
  fs::create_directory(tmp.path / folder(14));
  write_bytes(tmp.path / folder(14) / "task-0-0.bin", "partial");
  write_bytes(tmp.path / folder(15), "a file with a checkpoint name");
  CHECK(s.next_id() == 13);
  CHECK(s.free_id_from(13) == 13);
  CHECK(s.free_id_from(14) == 16);
  CHECK(s.free_id_from(12) == 13);
  CHECK(make_store(tmp.path / "missing").free_id_from(3) == 3);
}
