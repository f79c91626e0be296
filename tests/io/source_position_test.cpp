// Source positions for checkpoints: read part of an input in several read()
// calls, snapshot the position, open a NEW reader, restore, read the rest —
// the concatenation must equal one uninterrupted read exactly (records,
// batch ends and origin() descriptions). Corrupt positions throw
// pipeline_error. Expected inputs are built here with plain code.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support/test_data.hpp"
#include "weir/io/bench_generators.hpp"
#include "weir/io/decoders.hpp"
#include "weir/io/receiver.hpp"
#include "weir/io/sources.hpp"
#include "weir/operators/harness.hpp"
#include "weir/operators/snapshot.hpp"

using weir::records;
using weir::value;
using weir::io::read_result;
using weir::io::source_ptr;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

/// One record as read: its value and origin description; a batch end of a
/// logical-clock source is the string "<batch end>" with origin "".
struct item {
  value v;
  std::string origin;
  bool operator==(const item& o) const { return v == o.v && origin == o.origin; }
};

std::ostream& operator<<(std::ostream& os, const item& i) { return os << i.v.to_json() << " @ " << i.origin; }

/// Reads with `max` records per call until `stop` items were collected or
/// the source ends; idle reads are retried (bounded, without sleeping long).
bool read_some(weir::io::source_reader& src, std::size_t max, std::size_t stop, std::vector<item>& out) {
  int idle = 0;
  while (out.size() < stop) {
    records rs;
    read_result r = src.read(rs, max);
    const weir::record_origin* o = src.origin();
    for (std::size_t i = 0; i < rs.size(); ++i) out.push_back({rs[i], o ? o->describe(i) : std::string()});
    if (r.st == read_result::status::batch_end) out.push_back({value("<batch end>"), ""});
    if (r.st == read_result::status::end) return true;
    if (r.st == read_result::status::idle && rs.empty()) {
      if (++idle > 2000) return false;  // a dir source that got nothing new
      std::this_thread::sleep_for(1ms);
    } else {
      idle = 0;
    }
  }
  return false;
}

std::string snapshot(const weir::io::source_reader& src) {
  weir::state_writer w;
  src.snapshot_position(w);
  return w.take();
}

void restore(weir::io::source_reader& src, const std::string& bytes) {
  weir::state_reader r(bytes, "test source");
  src.restore_position(r);
  r.expect_end();
}

/// `make` builds a reader (not opened). Reads everything in one go (`total`
/// items at most), then for each cut: `cut` items in calls of `max`,
/// snapshot, a new reader restored, the rest; the concatenation must match.
std::vector<item> check_cuts(const std::function<source_ptr()>& make, std::size_t total,
                             const std::vector<std::size_t>& cuts, std::size_t max) {
  std::vector<item> ref;
  {
    source_ptr s = make();
    s->open();
    REQUIRE(s->replayable());
    read_some(*s, 1000, total, ref);
    s->close();
  }
  for (std::size_t cut : cuts) {
    INFO("cut after " << cut << " items, reads of " << max);
    std::vector<item> got;
    std::string bytes;
    {
      source_ptr a = make();
      a->open();
      read_some(*a, max, cut, got);
      bytes = snapshot(*a);
      CHECK_FALSE(a->describe_position().empty());
      a->close();
    }
    source_ptr b = make();
    b->open();
    restore(*b, bytes);
    CHECK(snapshot(*b) == bytes);  // the restored position is the same position
    read_some(*b, max, total, got);
    b->close();
    REQUIRE(got.size() == ref.size());
    CHECK(got == ref);
  }
  return ref;
}

/// Every truncation and single-bit flip of `bytes` throws pipeline_error.
void check_corrupt(const std::function<source_ptr()>& make, const std::string& bytes) {
  REQUIRE(bytes.size() > 10);
  std::size_t tried = 0, thrown = 0;
  auto attempt = [&](const std::string& b) {
    source_ptr s = make();
    s->open();
    ++tried;
    try {
      restore(*s, b);
    } catch (const weir::pipeline_error& e) {
      ++thrown;
      CHECK(std::string(e.what()).find("corrupt checkpoint state") != std::string::npos);
    }
    s->close();
  };
  for (std::size_t len = 0; len < bytes.size(); len += 1 + bytes.size() / 100) attempt(bytes.substr(0, len));
  for (std::size_t i = 0; i < bytes.size(); i += 1 + bytes.size() / 100)
    for (int bit = 0; bit < 8; bit += 3) {
      std::string b = bytes;
      b[i] = static_cast<char>(b[i] ^ (1 << bit));
      attempt(b);
    }
  CHECK(thrown == tried);
}

/// Lines "line i <padding>" of a test file; a few empty and CRLF lines; the
/// last one without a newline.
std::vector<std::string> make_lines(int n, int seed) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) {
    if ((i + seed) % 97 == 5) v.emplace_back("");
    else v.push_back("f" + std::to_string(seed) + " line " + std::to_string(i) + std::string(static_cast<std::size_t>(i % 13), 'x'));
  }
  return v;
}

std::string file_text(const std::vector<std::string>& lines) {
  std::string t;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    t += lines[i];
    if (i + 1 < lines.size()) t += (i % 50 == 7) ? "\r\n" : "\n";
  }
  return t;
}

}  // namespace

TEST_CASE("file source resumes at its byte offset and line", "[io][checkpoint]") {
  weir::test::temp_dir dir;
  const fs::path p = dir.path / "input.txt";
  auto lines = make_lines(30000, 1);  // > 256 KiB: several buffer refills
  write_file(p, file_text(lines));
  REQUIRE(fs::file_size(p) > (300u << 10));
  auto make = [&] { return weir::io::make_file_source(p.string()); };
  auto ref = check_cuts(make, lines.size(), {0, 1, 999, 12345, 29999, 30000}, 333);
  // independent: the lines as written, origins "PATH:LINE"
  REQUIRE(ref.size() == lines.size());
  for (std::size_t i = 0; i < lines.size(); i += 1111) {
    CHECK(ref[i].v == value(lines[i]));
    CHECK(ref[i].origin == p.string() + ":" + std::to_string(i + 1));
  }
  CHECK(ref.back().v == value(lines.back()));

  SECTION("a position is described") {
    source_ptr s = make();
    s->open();
    std::vector<item> got;
    read_some(*s, 10, 10, got);
    CHECK(s->describe_position() == p.string() + ": line 10, byte " +
                                        std::to_string(file_text(std::vector<std::string>(lines.begin(), lines.begin() + 10)).size() + 1));
  }
  SECTION("a file now shorter than the offset is an error naming file and offset") {
    source_ptr s = make();
    s->open();
    std::vector<item> got;
    read_some(*s, 500, 20000, got);
    std::string bytes = snapshot(*s);
    s->close();
    fs::resize_file(p, 1000);
    source_ptr t = make();
    t->open();
    try {
      restore(*t, bytes);
      FAIL("restore succeeded on a shorter file");
    } catch (const weir::pipeline_error& e) {
      std::string m = e.what();
      CHECK(m.find(p.string()) != std::string::npos);
      CHECK(m.find("cannot resume at byte") != std::string::npos);
      CHECK(m.find("now has only 1000 bytes") != std::string::npos);
    }
  }
  SECTION("corrupt positions") {
    source_ptr s = make();
    s->open();
    std::vector<item> got;
    read_some(*s, 100, 500, got);
    check_corrupt(make, snapshot(*s));
  }
}

TEST_CASE("file glob resumes in the right file", "[io][checkpoint]") {
  weir::test::temp_dir dir;
  std::vector<std::string> all;
  std::size_t first = 0;
  for (int f = 0; f < 3; ++f) {
    auto lines = make_lines(400 + 100 * f, f);
    write_file(dir.path / ("part-" + std::to_string(f) + ".log"), file_text(lines));
    if (f == 0) first = lines.size();
    all.insert(all.end(), lines.begin(), lines.end());
  }
  std::string pattern = (dir.path / "part-*.log").string();
  auto make = [&] { return weir::io::make_file_source(pattern); };
  auto ref = check_cuts(make, all.size(), {0, 7, first, first + 1, 950, all.size()}, 64);
  REQUIRE(ref.size() == all.size());
  for (std::size_t i = 0; i < all.size(); ++i) REQUIRE(ref[i].v == value(all[i]));
  CHECK(ref[first].origin == (dir.path / "part-1.log").string() + ":1");
  // a file added after the checkpoint is not part of the resumed run (the list is the checkpoint's)
  source_ptr a = make();
  a->open();
  std::vector<item> got;
  read_some(*a, 50, 100, got);
  std::string bytes = snapshot(*a);
  a->close();
  write_file(dir.path / "part-00.log", "new\n");
  source_ptr b = make();
  b->open();
  restore(*b, bytes);
  read_some(*b, 50, all.size() + 10, got);
  CHECK(got.size() == all.size());
  check_corrupt(make, bytes);
}

TEST_CASE("dir source resumes with its file set and the position in the current file", "[io][checkpoint]") {
  weir::test::temp_dir dir;
  std::vector<std::string> all;
  std::size_t first = 0;
  // files with distinct mtimes (arrival order = name order here)
  for (int f = 0; f < 3; ++f) {
    auto lines = make_lines(300 + 50 * f, 10 + f);
    fs::path p = dir.path / ("f" + std::to_string(f) + ".txt");
    write_file(p, file_text(lines));
    fs::last_write_time(p, fs::file_time_type::clock::now() - std::chrono::hours(3 - f));
    if (f == 0) first = lines.size();
    all.insert(all.end(), lines.begin(), lines.end());
  }
  weir::io::dir_options o;
  o.include_existing = true;
  o.poll = 1ms;
  auto make = [&] { return weir::io::make_dir_source(dir.path.string(), o); };
  auto ref = check_cuts(make, all.size(), {1, first - 1, first, 500, all.size()}, 40);
  REQUIRE(ref.size() == all.size());
  for (std::size_t i = 0; i < all.size(); ++i) REQUIRE(ref[i].v == value(all[i]));
  CHECK(ref[first + 2].origin == (dir.path / "f1.txt").string() + ":3");

  SECTION("files that arrive while the job is down are read after the restore, old ones are not") {
    source_ptr a = make();
    a->open();
    std::vector<item> got;
    read_some(*a, 40, first + 10, got);
    std::string bytes = snapshot(*a);
    a->close();
    fs::path late = dir.path / "g.txt";
    write_file(late, "late 1\nlate 2\n");
    source_ptr b = make();
    b->open();
    restore(*b, bytes);
    read_some(*b, 40, all.size() + 2, got);
    REQUIRE(got.size() == all.size() + 2);
    for (std::size_t i = 0; i < all.size(); ++i) REQUIRE(got[i].v == value(all[i]));
    CHECK(got[all.size()].origin == late.string() + ":1");
    CHECK(got[all.size() + 1].v == value("late 2"));
  }
  SECTION("the current file, now shorter, is an error") {
    source_ptr a = make();
    a->open();
    std::vector<item> got;
    read_some(*a, 40, first + 100, got);
    std::string bytes = snapshot(*a);
    a->close();
    fs::resize_file(dir.path / "f1.txt", 10);
    source_ptr b = make();
    b->open();
    CHECK_THROWS_WITH(restore(*b, bytes), Catch::Contains("f1.txt at byte") && Catch::Contains("only 10 bytes"));
  }
  SECTION("corrupt positions") {
    source_ptr a = make();
    a->open();
    std::vector<item> got;
    read_some(*a, 40, first + 10, got);
    check_corrupt(make, snapshot(*a));
  }
}

TEST_CASE("generators continue the identical sequence after a restore", "[io][checkpoint]") {
  SECTION("access_log") {
    weir::io::access_log_options o;
    o.seed = 7;
    o.count = 5000;
    auto make = [&] { return weir::io::make_access_log_generator(o); };
    auto ref = check_cuts(make, 5000, {0, 1, 1234, 4999}, 300);
    CHECK(ref.size() == 5000);
    source_ptr a = make();
    a->open();
    std::vector<item> got;
    read_some(*a, 100, 300, got);
    check_corrupt(make, snapshot(*a));
    // another seed: a clear error
    weir::io::access_log_options o2 = o;
    o2.seed = 8;
    source_ptr b = weir::io::make_access_log_generator(o2);
    b->open();
    CHECK_THROWS_WITH(restore(*b, snapshot(*a)), Catch::Contains("another seed"));
  }
  SECTION("ysb, with its tally") {
    weir::io::ysb_options o;
    o.seed = 3;
    o.count = 6000;
    o.partition = 1;
    o.partitions = 2;
    auto make = [&] { return weir::io::make_ysb_generator(o); };
    auto ref = check_cuts(make, 3000, {0, 17, 1500, 2999}, 256);
    CHECK(ref.size() == 3000);
    // the tally of an interrupted run equals the uninterrupted one's
    auto t1 = std::make_shared<weir::io::ysb_tally>();
    {
      source_ptr s = weir::io::make_ysb_generator(o, t1);
      s->open();
      std::vector<item> got;
      read_some(*s, 1000, 4000, got);
      s->close();
    }
    auto t2 = std::make_shared<weir::io::ysb_tally>();
    std::string bytes;
    {
      source_ptr s = weir::io::make_ysb_generator(o, std::make_shared<weir::io::ysb_tally>());
      s->open();
      std::vector<item> got;
      read_some(*s, 100, 1700, got);
      bytes = snapshot(*s);
    }
    {
      source_ptr s = weir::io::make_ysb_generator(o, t2);
      s->open();
      restore(*s, bytes);
      std::vector<item> got;
      read_some(*s, 1000, 4000, got);
      CHECK(got.size() == 3000 - 1700);
      s->close();
    }
    CHECK(t1->events == 3000);
    CHECK(t2->events == t1->events);
    CHECK(t2->bytes == t1->bytes);
    CHECK(t2->views == t1->views);
    check_corrupt(make, bytes);
  }
  SECTION("nexmark") {
    weir::io::nexmark_options o;
    o.seed = 5;
    o.count = 4000;
    auto make = [&] { return weir::io::make_nexmark_generator(o); };
    auto ref = check_cuts(make, 4000, {0, 50, 3999}, 333);
    CHECK(ref.size() == 4000);
    source_ptr a = make();
    a->open();
    std::vector<item> got;
    read_some(*a, 100, 300, got);
    check_corrupt(make, snapshot(*a));
  }
}

TEST_CASE("batches source resumes at its batch and record", "[io][checkpoint]") {
  weir::test::temp_dir dir;
  fs::path p = dir.path / "batches.jsonl";
  std::string text;
  std::size_t records_total = 0;
  for (int b = 0; b < 20; ++b) {
    text += "[";
    for (int i = 0; i < b % 7; ++i) {
      text += (i ? "," : "") + std::to_string(b * 100 + i);
      ++records_total;
    }
    text += "]\n";
  }
  write_file(p, text);
  auto make = [&] { return weir::io::make_batches_source(p.string(), 25); };
  const std::size_t total = records_total + 25;  // records + one batch end per batch (20 + 5 empty)
  auto ref = check_cuts(make, total, {0, 1, 2, 10, 40, total - 1, total}, 2);
  REQUIRE(ref.size() == total);
  std::size_t ends = 0;
  for (auto& i : ref) ends += i.v == value("<batch end>");
  CHECK(ends == 25);
  source_ptr a = make();
  a->open();
  std::vector<item> got;
  read_some(*a, 2, 30, got);
  check_corrupt(make, snapshot(*a));
}

namespace {

/// A replayable custom receiver: the numbers from its position to `n`.
class numbers final : public weir::io::receiver {
public:
  numbers(std::int64_t n, bool replayable) : receiver(64), n_(n), replayable_(replayable) {}
  void on_start() override {
    t_ = std::thread([this] {
      for (std::int64_t i = next_; i < n_; ++i)
        if (!store(value(i * 3))) return;
      finish();
    });
  }
  void on_stop() override {
    if (t_.joinable()) t_.join();
  }
  std::string describe() const override { return "numbers"; }
  bool replayable() const override { return replayable_; }
  void snapshot_position(std::uint64_t delivered, weir::state_writer& w) const override {
    w.u64(delivered);  // record k is value 3k: the position is the count
  }
  void restore_position(std::uint64_t delivered, weir::state_reader& r) override {
    std::uint64_t d = r.u64();
    if (d != delivered) r.fail("position and count disagree");
    next_ = static_cast<std::int64_t>(d);
  }

private:
  std::int64_t n_;
  bool replayable_;
  std::int64_t next_ = 0;
  std::thread t_;
};

}  // namespace

TEST_CASE("custom receivers opt in to replay", "[io][checkpoint]") {
  auto make = [] {
    return weir::io::make_receiver_source([] { return std::make_unique<numbers>(3000, true); }, "numbers");
  };
  auto ref = check_cuts(make, 3000, {0, 1, 100, 2999}, 50);
  REQUIRE(ref.size() == 3000);
  for (std::size_t i = 0; i < ref.size(); i += 97) {
    CHECK(ref[i].v == value(static_cast<std::int64_t>(3 * i)));
    CHECK(ref[i].origin == "numbers record " + std::to_string(i + 1));
  }
  source_ptr a = make();
  a->open();
  std::vector<item> got;
  read_some(*a, 10, 100, got);
  std::string bytes = snapshot(*a);
  a->close();
  check_corrupt(make, bytes);

  // by default a receiver is not replayable
  source_ptr plain =
      weir::io::make_receiver_source([] { return std::make_unique<numbers>(10, false); }, "numbers");
  plain->open();
  CHECK_FALSE(plain->replayable());
  weir::state_writer w;
  CHECK_THROWS_AS(plain->snapshot_position(w), weir::pipeline_error);
  plain->close();
}

TEST_CASE("stdin is not replayable", "[io][checkpoint]") {
  CHECK_FALSE(weir::io::make_stdin_source()->replayable());
}

TEST_CASE("a CSV record open over a checkpoint continues in the restored decoder", "[io][checkpoint]") {
  // lines of a CSV file with quoted fields spanning lines; decode in pieces,
  // snapshot the decoder at every cut, restore into a new one: same output.
  std::vector<std::string> lines = {"id,text,n", "1,\"multi", "line\",3", "2,plain,4", "3,\"a", "b", "c\"\"d\",5",
                                    "", "4,\"x\",6", "5,\"open", "more"};
  weir::io::csv_options o;
  std::vector<std::string> errors;
  auto make = [&] {
    weir::error_policy p{weir::on_error::dead_letter,
                         [&errors](const weir::bad_record& b) { errors.push_back(b.provenance + ": " + b.reason); }};
    return weir::io::make_csv_decoder(o, p);
  };
  auto to_records = [](const std::vector<std::string>& v, std::size_t a, std::size_t b) {
    records r;
    for (std::size_t i = a; i < b; ++i) r.emplace_back(v[i]);
    return r;
  };
  records ref;
  {
    weir::operator_harness h(make());
    ref = h.push(to_records(lines, 0, lines.size()));
    auto eos = h.end_of_stream();
    CHECK(eos.back().second.empty());
  }
  const auto ref_errors = errors;
  REQUIRE(ref.size() == 4);
  CHECK(*ref[0].find("text") == value("multi\nline"));
  CHECK(*ref[2].find("text") == value("a\nb\nc\"d"));
  REQUIRE(ref_errors.size() == 2);  // the unterminated record's first line at the end, then "more" read again
  for (std::size_t cut = 0; cut <= lines.size(); ++cut) {
    INFO("cut " << cut);
    errors.clear();
    records got;
    std::string bytes;
    {
      weir::operator_harness h(make());
      got = h.push(to_records(lines, 0, cut));
      weir::state_writer w;
      h.op().snapshot_state(1, w);
      bytes = w.take();
    }
    weir::operator_context ctx;
    ctx.checkpointing = ctx.restoring = true;
    weir::operator_harness h(make(), ctx);
    weir::state_reader r(bytes, "csv");
    h.op().restore_state(1, r);
    r.expect_end();
    records more = h.push(to_records(lines, cut, lines.size()));
    got.insert(got.end(), more.begin(), more.end());
    h.end_of_stream();
    CHECK(got == ref);
    CHECK(errors == ref_errors);
    // corrupt decoder state
    for (std::size_t len = 0; len < bytes.size(); ++len) {
      weir::operator_harness c(make(), ctx);
      weir::state_reader cr(std::string_view(bytes).substr(0, len), "csv");
      CHECK_THROWS_AS(c.op().restore_state(1, cr), weir::pipeline_error);
    }
  }
}
