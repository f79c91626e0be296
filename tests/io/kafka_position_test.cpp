// Kafka source positions for checkpoints, against librdkafka's mock cluster
// in a helper process (as kafka_test.cpp): read part of a topic, snapshot,
// a NEW reader restores and reads the rest — per partition, the records and
// their origins equal the topic's content exactly (the interleaving of
// partitions is the broker's, so it is compared per partition). Offsets of
// a completed checkpoint are committed to the group; a changed partition
// set and corrupt positions are clear errors.
#include <algorithm>
#include <fstream>
#include <map>
#include <thread>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include <catch2/catch.hpp>

#include "support/kafka_consumer.hpp"
#include "support/kafka_mock_process.hpp"
#include "support/test_data.hpp"
#include "weir/io/kafka.hpp"
#include "weir/operators/snapshot.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using weir::value;

using mock_cluster = weir::test::kafka_mock_process;
using weir::test::committed_offsets;
using weir::test::plain_consumer;




/// (payload, origin) per partition, in read order.
using by_partition = std::map<std::int32_t, std::vector<std::pair<std::string, std::string>>>;

/// Reads until `stop` records or the end; appends to `got`. Returns the count read.
std::size_t read_until(weir::io::kafka_reader& r, std::size_t stop, by_partition& got, std::size_t max = 100) {
  std::size_t n = 0;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (n < stop) {
    weir::records recs;
    auto res = r.read(recs, max);
    for (std::size_t i = 0; i < recs.size(); ++i) {
      std::string origin = r.origin()->describe(i);  // "topic/partition/offset"
      auto a = origin.find('/'), b = origin.find('/', a + 1);
      got[std::stoi(origin.substr(a + 1, b - a - 1))].emplace_back(std::string(recs[i].as_string()), origin);
    }
    n += recs.size();
    if (res.st == weir::io::read_result::status::end) break;
    if (res.st == weir::io::read_result::status::idle) std::this_thread::sleep_for(res.retry_after);
    REQUIRE(std::chrono::steady_clock::now() < deadline);
  }
  return n;
}

std::string snapshot(const weir::io::source_reader& s) {
  weir::state_writer w;
  s.snapshot_position(w);
  return w.take();
}

void restore(weir::io::source_reader& s, const std::string& bytes) {
  weir::state_reader r(bytes, "kafka test");
  s.restore_position(r);
  r.expect_end();
}

}  // namespace

TEST_CASE("kafka: a restored reader continues every partition at its checkpointed offset", "[kafka][checkpoint]") {
  weir::test::temp_dir dir;
  const int n = 3000;
  auto in = dir.path / "in.txt";
  {
    std::ofstream f(in);
    for (int i = 0; i < n; ++i) f << "m" << i << '\n';
  }
  mock_cluster mc({"--topic", "t:3", "--produce", "t=" + in.string()});
  // expected, from the producer's rule: line i in partition i mod 3, at offset i / 3
  by_partition expect;
  for (int i = 0; i < n; ++i)
    expect[i % 3].emplace_back("m" + std::to_string(i), "t/" + std::to_string(i % 3) + "/" + std::to_string(i / 3));

  auto options = [&] {
    weir::io::kafka_options o;
    o.topics = {"t"};
    o.brokers = mc.brokers;
    o.group = "ckpt";
    o.start = weir::io::kafka_start::earliest;
    o.until_end = true;
    o.commit_interval = 0ms;
    return o;
  };

  for (std::size_t cut : {std::size_t{1}, std::size_t{700}, std::size_t{2500}}) {
    INFO("cut after " << cut << " records");
    by_partition got;
    std::string bytes;
    std::vector<weir::io::kafka_partition_offset> at_snapshot;
    {
      weir::io::kafka_reader a(options());
      a.open();
      REQUIRE(a.replayable());
      read_until(a, cut, got, 50);
      bytes = snapshot(a);
      at_snapshot = a.offsets();
      CHECK(a.describe_position().find("t/0@") != std::string::npos);
      a.close();
    }
    weir::io::kafka_reader b(options());
    b.open();
    restore(b, bytes);
    CHECK(b.offsets() == at_snapshot);
    read_until(b, n + 1, got, 100);
    b.close();
    CHECK(got == expect);
  }
}

TEST_CASE("kafka: a completed checkpoint commits its offsets to the group", "[kafka][checkpoint]") {
  weir::test::temp_dir dir;
  auto in = dir.path / "in.txt";
  {
    std::ofstream f(in);
    for (int i = 0; i < 900; ++i) f << "m" << i << '\n';
  }
  mock_cluster mc({"--topic", "t:3", "--produce", "t=" + in.string()});
  weir::io::kafka_options o;
  o.topics = {"t"};
  o.brokers = mc.brokers;
  o.group = "lag";
  o.start = weir::io::kafka_start::earliest;
  o.commit_interval = 0ms;
  weir::io::kafka_reader a(o);
  a.open();
  by_partition got;
  read_until(a, 400, got, 50);
  std::string bytes = snapshot(a);
  std::vector<std::int64_t> want;
  for (auto& p : a.offsets()) want.push_back(p.next_offset);
  read_until(a, 100, got, 50);  // read on after the barrier: not committed
  a.notify_checkpoint_complete(1);
  // the commit is asynchronous: poll the broker (bounded)
  std::vector<std::int64_t> have;
  for (int i = 0; i < 200; ++i) {
    weir::records sink;
    a.read(sink, 1);
    have = committed_offsets(mc.brokers, "lag", "t", 3);
    if (have == want) break;
    std::this_thread::sleep_for(20ms);
  }
  CHECK(have == want);
  std::int64_t sum = 0;
  for (auto x : want) sum += x;
  CHECK(sum >= 400);
  CHECK(sum < 500);
  a.close();
}

TEST_CASE("kafka: a changed partition set or a corrupt position is a clear error", "[kafka][checkpoint]") {
  weir::test::temp_dir dir;
  auto in = dir.path / "in.txt";
  {
    std::ofstream f(in);
    for (int i = 0; i < 300; ++i) f << "m" << i << '\n';
  }
  mock_cluster mc({"--topic", "t:3", "--topic", "u:2", "--produce", "t=" + in.string()});
  weir::io::kafka_options o;
  o.topics = {"t"};
  o.brokers = mc.brokers;
  o.start = weir::io::kafka_start::earliest;
  o.commit_interval = 0ms;
  std::string bytes;
  {
    weir::io::kafka_reader a(o);
    a.open();
    by_partition got;
    read_until(a, 50, got, 10);
    bytes = snapshot(a);
    a.close();
  }
  SECTION("another parallelism") {
    auto o2 = o;
    o2.parallelism = 2;
    weir::io::kafka_reader b(o2);
    b.open();
    CHECK_THROWS_WITH(restore(b, bytes), Catch::Contains("the partitions changed since the checkpoint") &&
                                             Catch::Contains("t/0, t/1, t/2") && Catch::Contains("assigned t/0, t/2"));
  }
  SECTION("another topic") {
    auto o2 = o;
    o2.topics = {"u"};
    weir::io::kafka_reader b(o2);
    b.open();
    CHECK_THROWS_WITH(restore(b, bytes), Catch::Contains("assigned u/0, u/1"));
  }
  SECTION("truncated and bit-flipped positions") {
    weir::io::kafka_reader b(o);
    b.open();
    for (std::size_t len = 0; len < bytes.size(); len += 1 + bytes.size() / 8)
      CHECK_THROWS_WITH(restore(b, bytes.substr(0, len)), Catch::Contains("corrupt checkpoint state"));
    for (std::size_t i = 0; i < bytes.size(); i += 1 + bytes.size() / 8) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(bad[i] ^ 0x10);
      CHECK_THROWS_WITH(restore(b, bad), Catch::Contains("corrupt checkpoint state"));
    }
  }
}
