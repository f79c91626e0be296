// Receivers in running pipelines: custom C++ receivers (API and DSL),
// backpressure reaching a TCP sender, real data through socket, listen and dir.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "io/net_test_util.hpp"
#include "support/test_data.hpp"
#include "weir/api/dstream.hpp"
#include "weir/cli/pipeline_builder.hpp"
#include "weir/cli/stages/sources.hpp"
#include "weir/io/json.hpp"

using namespace weir;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool instrumented = true;
#else
constexpr bool instrumented = false;
#endif

namespace {

/// Generates records {"n": i} for i = 1..count from its own thread, then finishes.
class numbers final : public weir::receiver {
public:
  numbers(std::int64_t count, std::size_t buffer) : receiver(buffer), count_(count) {}
  void on_start() override {
    thread_ = std::thread([this] {
      for (std::int64_t i = 1; i <= count_; ++i) {
        if (!store(value::object({{value("n"), value(i)}}))) return;  // stopped
      }
      finish();
    });
  }
  void on_stop() override {
    if (thread_.joinable()) thread_.join();
  }
  std::string describe() const override { return "numbers(" + std::to_string(count_) + ")"; }

private:
  std::int64_t count_;
  std::thread thread_;
};

/// Stores numbers in batches of 100 until stopped (an unbounded receiver).
class endless final : public weir::receiver {
public:
  endless() : receiver(64) {}
  void on_start() override {
    thread_ = std::thread([this] {
      std::int64_t i = 0;
      for (;;) {
        records batch;
        for (int k = 0; k < 100; ++k) batch.emplace_back(value(++i));
        if (!store(std::move(batch))) return;
      }
    });
  }
  void on_stop() override {
    if (thread_.joinable()) thread_.join();
  }

private:
  std::thread thread_;
};

/// A receiver that fails.
class failing final : public weir::receiver {
public:
  void on_start() override {
    thread_ = std::thread([this] {
      store(value(1));
      report_error("sensor offline after 1 record");
    });
  }
  void on_stop() override {
    if (thread_.joinable()) thread_.join();
  }
  std::string describe() const override { return "sensor"; }

private:
  std::thread thread_;
};

void register_test_receivers() {
  static std::once_flag once;
  std::call_once(once, [] {
    weir::register_receiver("numbers", [](const std::vector<value>& args) -> weir::receiver_ptr {
      if (args.size() != 1 || !args[0].is_int() || args[0].as_int() < 0)
        throw pipeline_error("numbers expects one argument, a count >= 0");
      return std::make_unique<numbers>(args[0].as_int(), 16);
    });
  });
}

/// Polls `cond` until true (a hang guard of 30 s, not a timing assertion).
template <class F>
bool wait_until(F cond) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

/// Lines and whitespace-separated words of `text`, counted independently.
std::pair<std::uint64_t, std::uint64_t> count_lines_words(const std::string& text) {
  std::uint64_t lines = 0, words = 0;
  bool in_word = false;
  for (char c : text) {
    if (c == '\n') ++lines;
    bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return {lines, words};
}

std::uint64_t words_of(std::string_view s) {
  std::uint64_t n = 0;
  bool in_word = false;
  for (char c : s) {
    bool space = c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

struct counts {
  std::atomic<std::uint64_t> lines{0}, words{0};
};

}  // namespace

TEST_CASE("custom receiver via the C++ API: every stored record once - backpressure via a bounded buffer",
          "[io][receiver]") {
  context_options o;
  o.batch_interval = 100ms;
  o.batch_size = 64;
  o.edge_capacity = 2;
  streaming_context ctx(o);
  std::mutex m;
  std::vector<std::int64_t> seen;
  const std::int64_t n = 20000;
  ctx.receiver_stream([n] { return std::make_unique<numbers>(n, 16); }, "numbers")
      .map([](const value& v) { return *v.find("n"); })
      .for_each_batch([&](std::int64_t, records& batch) {
        std::lock_guard lk(m);
        for (auto& v : batch) seen.push_back(v.as_int());
      });
  auto stats = ctx.run();  // ends when the receiver calls finish()
  CHECK(stats.source_records == static_cast<std::uint64_t>(n));
  REQUIRE(seen.size() == static_cast<std::size_t>(n));
  bool in_order = true;  // one source, one chain: order is kept
  for (std::size_t i = 0; i < seen.size(); ++i) in_order = in_order && seen[i] == static_cast<std::int64_t>(i + 1);
  CHECK(in_order);
}

TEST_CASE("custom receiver: stop() ends an unbounded receiver - a blocked store returns false", "[io][receiver]") {
  context_options o;
  o.batch_interval = 50ms;
  o.batch_size = 32;
  o.edge_capacity = 1;
  streaming_context ctx(o);
  std::atomic<std::uint64_t> got{0};
  std::atomic<std::int64_t> last{0};
  std::atomic<bool> gap{false};
  ctx.receiver_stream([] { return std::make_unique<endless>(); }).for_each_batch([&](std::int64_t, records& b) {
    for (auto& v : b) {
      if (v.as_int() != last + 1) gap = true;
      last = v.as_int();
    }
    got += b.size();
  });
  ctx.start();
  REQUIRE(wait_until([&] { return got >= 5000; }));
  ctx.stop();
  auto stats = ctx.await_termination();  // on_stop() joined the receiver thread
  CHECK_FALSE(gap);
  CHECK(stats.sink_records == got.load());
  CHECK(stats.source_records == got.load());
}

TEST_CASE("custom receiver: report_error fails the pipeline with the receiver's name", "[io][receiver]") {
  streaming_context ctx;
  ctx.receiver_stream([] { return std::make_unique<failing>(); }).for_each_batch([](std::int64_t, records&) {});
  CHECK_THROWS_WITH(ctx.run(), Catch::Contains("sensor: sensor offline after 1 record"));
}

TEST_CASE("custom receiver via the DSL: receiver(numbers N) registered from C++", "[io][receiver][dsl]") {
  register_test_receivers();
  weir::test::temp_dir tmp;
  std::string script = "set batch_interval = 100ms\n"
                       "receiver(\"numbers\", 5000) | map(.n * 2) | collect(\"" +
                       (tmp.path / "out.jsonl").string() + "\")\n";
  auto spec = dsl::compile_script(script, "t.weir");
  streaming_context ctx(dsl::make_context_options(spec.settings));
  dsl::build_pipelines(spec, ctx);
  ctx.run();
  std::int64_t sum = 0, count = 0;
  for (auto& batch : io::read_jsonl((tmp.path / "out.jsonl").string()))
    for (auto& v : batch.find("records")->as_array()) {
      sum += v.as_int();
      ++count;
    }
  CHECK(count == 5000);
  CHECK(sum == 5000 * 5001);  // Σ 2i for i = 1..5000

  // unknown names, bad arguments: errors at the place
  CHECK_THROWS_WITH(dsl::compile_script("receiver(\"nubmers\", 3) | print()", "t.weir"),
                    "t.weir:1:10: unknown receiver \"nubmers\" (did you mean 'numbers'?); receivers are "
                    "registered from C++ with weir::register_receiver");
  CHECK_THROWS_WITH(dsl::compile_script("receiver(\"numbers\", n = 3) | print()", "t.weir"),
                    Catch::StartsWith("t.weir:1:21: unknown named argument 'n': receiver() takes positional"));
  auto bad = dsl::compile_script("receiver(\"numbers\", \"x\") | print()", "t.weir");
  streaming_context ctx2;
  dsl::build_pipelines(bad, ctx2);
  CHECK_THROWS_WITH(ctx2.run(), Catch::Contains("numbers expects one argument, a count >= 0"));
  CHECK_THROWS_WITH(weir::register_receiver("numbers", [](const std::vector<value>&) { return nullptr; }),
                    "register_receiver: a receiver named \"numbers\" is already registered");
}

TEST_CASE("DSL receivers: address syntax errors point at the argument", "[io][dsl]") {
  CHECK_THROWS_WITH(dsl::compile_script("socket(\"localhost\") | print()", "t.weir"),
                    "t.weir:1:8: socket(): expected host:port (e.g. \"localhost:9999\"), got \"localhost\"");
  CHECK_THROWS_WITH(dsl::compile_script("listen(\"host\") | print()", "t.weir"),
                    "t.weir:1:8: listen(): expected host:port or :port (e.g. \":9999\"), got \"host\"");
  CHECK_THROWS_WITH(dsl::compile_script("socket(\"h:0\") | print()", "t.weir"),
                    "t.weir:1:8: socket(): bad port \"0\" in \"h:0\" (expected 1-65535)");
  CHECK_THROWS_WITH(dsl::compile_script("dir(\"d\", poll = 0ms) | print()", "t.weir"),
                    "t.weir:1:17: poll must be positive");
  auto spec = dsl::compile_script("socket(\"localhost:9\", reconnect = false, retries = 2, timeout = 500ms) "
                                  "| print()\nlisten(\":9\", connections = 3) | print()\n"
                                  "dir(\"d\", include_existing = true, poll = 1s) | print()",
                                  "t.weir");
  auto& s = spec.pipelines[0].stages[0].as<dsl::receiver_options_stage>();
  CHECK(s.address == "localhost:9");
  CHECK_FALSE(s.socket.reconnect);
  CHECK(s.socket.retries == 2);
  CHECK(s.socket.connect_timeout == 500ms);
  CHECK(spec.pipelines[1].stages[0].as<dsl::receiver_options_stage>().listen.connections == 3);
  CHECK(spec.pipelines[2].stages[0].as<dsl::receiver_options_stage>().dir.include_existing);
  CHECK(spec.pipelines[2].stages[0].as<dsl::receiver_options_stage>().dir.poll == 1000ms);
}

TEST_CASE("socket: tinyshakespeare through a TCP connection - lines and words equal an independent count",
          "[io][socket][data]") {
  auto f = weir::test::data_file("text_tinyshakespeare/input.txt");
  if (!f) {
    WARN("SKIPPED: ../shared/data/text_tinyshakespeare/input.txt not found (set WEIR_DATA)");
    return;
  }
  std::string text = read_text(*f);
  auto [lines, words] = count_lines_words(text);
  CHECK(lines == 40000);   // python3: data.count(b'\n')
  CHECK(words == 202651);  // python3: len(data.split())
  weir::test::tcp_server server;
  std::thread peer([&] {
    int c = server.accept_one();
    weir::test::write_all(c, text);
    ::close(c);
  });
  context_options o;
  o.batch_interval = 100ms;
  streaming_context ctx(o);
  counts got;
  io::socket_options so;
  so.reconnect = false;  // the peer's close ends the stream
  ctx.socket_text_stream(server.address(), so).for_each_batch([&](std::int64_t, records& b) {
    got.lines += b.size();
    for (auto& v : b) got.words += words_of(v.as_string());
  });
  ctx.run();
  peer.join();
  CHECK(got.lines == lines);
  CHECK(got.words == words);
}

TEST_CASE("listen: three concurrent senders of 100000 lines each give 300000 records and a partial line is malformed", "[io][listen][slow]") {
  std::uint16_t port = weir::test::free_port();
  context_options o;
  o.batch_interval = 100ms;
  streaming_context ctx(o);
  std::mutex m;
  std::vector<std::uint32_t> per_sender(3, 0);
  std::atomic<bool> order_ok{true};
  std::vector<std::int64_t> last(3, -1);
  io::listen_options lo;
  lo.connections = 3;
  ctx.listen_text_stream("127.0.0.1:" + std::to_string(port), lo).for_each_batch([&](std::int64_t, records& b) {
    std::lock_guard lk(m);
    for (auto& v : b) {
      auto s = v.as_string();
      int who = s[0] - 'a';
      std::int64_t i = std::stoll(std::string(s.substr(2)));
      if (i != last[static_cast<std::size_t>(who)] + 1) order_ok = false;
      last[static_cast<std::size_t>(who)] = i;
      ++per_sender[static_cast<std::size_t>(who)];
    }
  });
  ctx.start();
  std::vector<std::thread> senders;
  for (int s = 0; s < 3; ++s)
    senders.emplace_back([s, port] {
      int fd = weir::test::connect_to(port);
      std::string buf;
      for (int i = 0; i < 100000; ++i) {
        buf += static_cast<char>('a' + s);
        buf += ' ';
        buf += std::to_string(i);
        buf += '\n';
        if (buf.size() > 60000) {
          weir::test::write_all(fd, buf);
          buf.clear();
        }
      }
      weir::test::write_all(fd, buf);
      if (s == 2) weir::test::write_all(fd, "c 100000 and no newline");  // disconnects mid-line
      ::close(fd);
    });
  for (auto& t : senders) t.join();
  auto stats = ctx.await_termination();  // ends after the 3 connections closed
  CHECK(stats.source_records == 300000);
  CHECK(stats.malformed_records == 1);  // the partial line, and only it
  CHECK(per_sender == std::vector<std::uint32_t>{100000, 100000, 100000});
  CHECK(order_ok);
}

TEST_CASE("dir: tinyshakespeare in 20 files moved in while running - every line once", "[io][dir][data][slow]") {
  auto f = weir::test::data_file("text_tinyshakespeare/input.txt");
  if (!f) {
    WARN("SKIPPED: ../shared/data/text_tinyshakespeare/input.txt not found (set WEIR_DATA)");
    return;
  }
  std::string text = read_text(*f);
  auto [lines, words] = count_lines_words(text);
  weir::test::temp_dir tmp;
  fs::path dir = tmp.path / "in", staging = tmp.path / "staging";
  fs::create_directory(dir);
  fs::create_directory(staging);
  {
    std::ofstream old(dir / "already-there.txt");
    old << "this file was there at start\n";
  }
  context_options o;
  o.batch_interval = 100ms;
  streaming_context ctx(o);
  counts got;
  io::dir_options dopt;
  dopt.poll = 10ms;
  ctx.text_file_stream(dir.string(), dopt).for_each_batch([&](std::int64_t, records& b) {
    for (auto& v : b) got.words += words_of(v.as_string());
    got.lines += b.size();
  });
  ctx.start();
  std::size_t pos = 0, expected = 0;
  const std::size_t per = lines / 20 + 1;
  for (int k = 0; k < 20; ++k) {
    std::size_t start = pos;
    for (std::size_t n = 0; n < per && pos < text.size(); ++pos)
      if (text[pos] == '\n') ++n;
    std::string name = "part-" + std::to_string(k) + ".txt";
    {
      std::ofstream out(staging / name, std::ios::binary);
      out << text.substr(start, pos - start);
    }
    fs::rename(staging / name, dir / name);
    expected += count_lines_words(text.substr(start, pos - start)).first;
    REQUIRE(wait_until([&] { return got.lines >= expected; }));  // read before the next one comes
  }
  ctx.stop();
  ctx.await_termination();
  CHECK(expected == lines);
  CHECK(got.lines == lines);
  CHECK(got.words == words);
}

TEST_CASE("socket: backpressure reaches the TCP sender - no line lost", "[io][socket][backpressure][slow]") {
  // The sink takes 1 ms per wire batch of 256 lines (≈ 16 MB/s at 64-byte
  // lines); the sender writes 48 MB as fast as the socket takes it.
  const std::size_t line_len = 64, total_lines = instrumented ? 200000 : 750000;
  const std::size_t total_bytes = line_len * total_lines;
  weir::test::tcp_server server;
  std::atomic<std::uint64_t> written{0};
  std::atomic<std::uint64_t> stalls{0};
  std::thread sender([&] {
    int c = server.accept_one();
    ::fcntl(c, F_SETFL, ::fcntl(c, F_GETFL) | O_NONBLOCK);
    std::string chunk;
    for (std::size_t i = 0; i < 1024; ++i) {
      std::string l = std::to_string(i);
      l.resize(line_len - 1, '.');
      chunk += l + '\n';
    }
    std::size_t off = 0;
    while (off < total_bytes) {
      std::size_t at = off % chunk.size();
      std::size_t len = std::min(chunk.size() - at, total_bytes - off);
      ssize_t n = ::send(c, chunk.data() + at, len, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        ++stalls;  // the socket buffers are full: the sender is held back
        pollfd p{c, POLLOUT, 0};
        ::poll(&p, 1, -1);
        continue;
      }
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
      written = off;
    }
    ::close(c);
  });
  context_options o;
  o.batch_interval = 100ms;
  o.batch_size = 256;
  o.edge_capacity = 2;
  streaming_context ctx(o);
  std::uint64_t consumed = 0, max_ahead = 0, written_at_tenth = 0;
  io::socket_options so;
  so.reconnect = false;
  struct slow_sink final : stream_operator {
    std::function<void(std::size_t)> on;
    void process(const process_context&, records& in, records&) override {
      std::this_thread::sleep_for(1ms);
      on(in.size());
    }
  };
  auto on = [&](std::size_t n) {
    consumed += n;
    std::uint64_t w = written.load();
    max_ahead = std::max<std::uint64_t>(max_ahead, w - std::min<std::uint64_t>(w, consumed * line_len));
    if (written_at_tenth == 0 && consumed >= total_lines / 10) written_at_tenth = std::max<std::uint64_t>(w, 1);
  };
  ctx.socket_text_stream(server.address(), so).sink("slow", [on] {
    auto s = std::make_unique<slow_sink>();
    s->on = on;
    return s;
  });
  auto stats = ctx.run();
  sender.join();
  CHECK(consumed == total_lines);  // lines in == lines out
  CHECK(stats.source_records == total_lines);
  CHECK(stalls > 0);  // the sender's writes stalled
  // When the sink had consumed 10 % of the lines the sender had not written
  // everything: it was held back by TCP flow control, not buffered in weir.
  CHECK(written_at_tenth < total_bytes);
  INFO("max bytes in flight (kernel buffers + weir): " << max_ahead << ", sender stalls: " << stalls
                                                        << ", bytes written at 10 % consumed: " << written_at_tenth);
  CHECK(max_ahead < total_bytes / 2);
}
