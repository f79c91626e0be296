// The `weir` executable against hostile input, as a user meets it: deeply
// nested records and scripts, patterns that backtrack, a stray CSV quote,
// damaged JSON after the wanted fields, a client flooding listen() with one
// line, and GNU timeout's double SIGTERM. Nothing may crash (exit 139),
// hang, or lose output.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support/cwd_guard.hpp"
#include "support/test_data.hpp"
#include "support/weir_process.hpp"

namespace fs = std::filesystem;
using namespace weir::test;

namespace {

std::string q(const fs::path& p) { return "\"" + p.string() + "\""; }

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

/// The sum of the counts a `count() | write_jsonl(path)` pipeline wrote
/// (one {"time": T, "record": N} line per batch).
std::int64_t counted(const fs::path& p) {
  std::int64_t n = 0;
  std::istringstream in(slurp(p));
  for (std::string l; std::getline(in, l);) {
    auto at = l.find("\"record\":");
    REQUIRE(at != std::string::npos);
    n += std::stoll(l.substr(at + 9));
  }
  return n;
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

/// A blocking TCP listener on 127.0.0.1 (kernel-chosen port).
struct listener {
  int fd = -1;
  std::uint16_t port = 0;
  listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 8) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~listener() { close(); }
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

int connect_to(std::uint16_t port) {
  for (int i = 0; i < 2000; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

bool send_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

/// Runs `argv` (found on PATH) with stdout and stderr in dir/TAG.out and dir/TAG.err.
pid_t spawn_program(const std::vector<std::string>& args, const fs::path& dir, const std::string& tag) {
  std::vector<std::string> a = args;
  std::vector<char*> argv;
  for (auto& s : a) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  std::string out = (dir / (tag + ".out")).string(), err = (dir / (tag + ".err")).string();
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  return pid;
}

}  // namespace

TEST_CASE("weir run: JSON nested 50,000 deep is a malformed record - exit 0, not 139", "[cli][hostile]") {
  temp_dir tmp;
  cwd_guard cwd(tmp.path);  // the scripts name files relative to it
  write_file(tmp.path / "a.txt", std::string(50000, '[') + std::string(50000, ']') + "\n" + "{\"a\":" +
                                     std::string(50000, '[') + std::string(50000, ']') + "}\n[1]\n");
  for (std::string args : {"", "fields = [\".a\"], "}) {
    INFO(args);
    auto r = run_weir({"run", "--stats", "-e", "file(\"a.txt\") | parse_json(" + args + "on_error = skip) | count() | write_jsonl(\"n.jsonl\")"},
                      tmp.path);
    CHECK(r.exit_code == 0);
    CHECK(counted(tmp.path / "n.jsonl") == 1);
    CHECK_THAT(r.err, Catch::Contains("malformed_records = 2,"));
  }
  auto r = run_weir({"run", "-e", "file(\"a.txt\") | parse_json() | count() | write_jsonl(\"n.jsonl\")"}, tmp.path);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("a.txt:1: byte offset 1024: arrays and objects nested deeper than 1024"));
}

TEST_CASE("weir run: parse_regex takes long lines and nested quantifiers in linear time", "[cli][hostile]") {
  temp_dir tmp;
  cwd_guard cwd(tmp.path);  // the scripts name files relative to it
  write_file(tmp.path / "r.txt", std::string(15000, 'a') + "\n" + std::string(100, 'a') + "b\n");
  auto r = run_weir({"run", "--stats", "-e",
                     "file(\"r.txt\") | parse_regex(\"^(?<x>(a|b)*)$\", on_error = skip) | count() | write_jsonl(\"n.jsonl\")"},
                    tmp.path);
  CHECK(r.exit_code == 0);
  CHECK(counted(tmp.path / "n.jsonl") == 2);
  // a backtracking engine tries 2^100 ways on the second line
  r = run_weir({"run", "--stats", "-e",
                "file(\"r.txt\") | parse_regex(\"^(?<x>(a+)+)$\", on_error = skip) | count() | write_jsonl(\"n.jsonl\")"},
               tmp.path);
  CHECK(r.exit_code == 0);
  CHECK(counted(tmp.path / "n.jsonl") == 1);
  CHECK_THAT(r.err, Catch::Contains("malformed_records = 1,"));
  // a pattern RE2 cannot run is a DSL error at its place
  r = run_weir({"check", "-e", "file(\"r.txt\") | parse_regex(\"(?<x>a)\\\\1\") | print()"}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("-e:1:29: parse_regex: invalid pattern /(?<x>a)\\1/: backreference \\1"));
}

TEST_CASE("weir check: scripts nested deeper than 1000 are refused - not a crash", "[cli][hostile]") {
  temp_dir tmp;
  cwd_guard cwd(tmp.path);  // the scripts name files relative to it
  const std::vector<std::string> exprs = {
      repeat("(", 7000) + "1" + repeat(")", 7000), repeat("[", 10000) + repeat("]", 10000),
      repeat("{a:", 10000) + "1" + repeat("}", 10000), repeat("not ", 100000) + "true", "1" + repeat("+1", 50000),
      "_" + repeat(".a", 100000)};
  for (auto& e : exprs) {
    write_file(tmp.path / "deep.weir", "file(\"a\") | map(" + e + ") | print()\n");
    for (const char* cmd : {"check", "run"}) {
      auto r = run_weir({cmd, (tmp.path / "deep.weir").string()}, tmp.path);
      INFO(cmd << " " << e.substr(0, 20));
      CHECK(r.exit_code == 2);
      CHECK_THAT(r.err, Catch::StartsWith((tmp.path / "deep.weir").string() + ":1:") &&
                            Catch::EndsWith(": nesting deeper than 1000\n"));
    }
  }
}

TEST_CASE("weir run: one stray CSV quote costs one record", "[cli][hostile]") {
  temp_dir tmp;
  cwd_guard cwd(tmp.path);  // the scripts name files relative to it
  std::string csv = "id,name\n";
  for (int i = 1; i <= 4900; ++i) csv += std::to_string(i) + (i == 7 ? ",\"stray\n" : ",n\n");
  write_file(tmp.path / "t.csv", csv);
  auto r = run_weir({"run", "--stats", "-e", "file(\"t.csv\") | parse_csv(on_error = skip) | count() | write_jsonl(\"n.jsonl\")"},
                    tmp.path);
  CHECK(r.exit_code == 0);
  CHECK(counted(tmp.path / "n.jsonl") == 4899);
  CHECK_THAT(r.err, Catch::Contains("malformed_records = 1,"));
}

TEST_CASE("weir run: parse_json(fields) rejects records damaged after the fields", "[cli][hostile]") {
  temp_dir tmp;
  cwd_guard cwd(tmp.path);  // the scripts name files relative to it
  // 100 certainly-bad records, each valid JSON up to and beyond ".type"
  const std::vector<std::string> damage = {"true\x01", "tru", "1.2.3", "\"\\x\"", "[1,}", "{\"q\" 1}",
                                           "nul", "-", "\"a\" \"b\"", "[" + std::string(1100, '[') + "]"};
  std::string in;
  for (int i = 0; i < 100; ++i)
    in += "{\"type\":\"B\",\"n\":" + std::to_string(i) + ",\"p\":" + damage[static_cast<std::size_t>(i) % damage.size()] +
          ",\"x\":1}\n";
  in += "{\"type\":\"A\",\"p\":[1,{\"q\":null}],\"x\":1}\n";
  write_file(tmp.path / "e.ndjson", in);
  auto r = run_weir({"run", "--stats", "-e",
                     "file(\"e.ndjson\") | parse_json(fields = [\".type\"], on_error = skip) | count() | write_jsonl(\"n.jsonl\")"},
                    tmp.path);
  CHECK(r.exit_code == 0);
  CHECK(counted(tmp.path / "n.jsonl") == 1);
  CHECK_THAT(r.err, Catch::Contains("malformed_records = 100,"));
}

TEST_CASE("weir run: parse_json(validate = false) and parse_csv(max_record_bytes) from the DSL", "[cli][hostile]") {
  temp_dir tmp;
  cwd_guard cwd(tmp.path);
  write_file(tmp.path / "e.ndjson", "{\"type\":\"B\",\"p\":tru}\n{\"type\":\"A\"}\n");
  auto r = run_weir({"run", "--stats", "-e",
                     "file(\"e.ndjson\") | parse_json(fields = [\".type\"], validate = false, on_error = skip) | "
                     "count() | write_jsonl(\"n.jsonl\")"},
                    tmp.path);
  CHECK(r.exit_code == 0);
  CHECK(counted(tmp.path / "n.jsonl") == 2);  // the fast mode does not read past .type
  // a quote opened on line 2 is still open after 150 bytes
  write_file(tmp.path / "t.csv", "k,v\n1,\"" + std::string(100, 'x') + "\n" + std::string(100, 'y') + "\n2,z\n");
  fs::remove(tmp.path / "n.jsonl");
  r = run_weir({"run", "--stats", "-e",
                "file(\"t.csv\") | parse_csv(max_record_bytes = 150, on_error = skip) | count() | "
                "write_jsonl(\"n.jsonl\")"},
               tmp.path);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("malformed_records = 2,"));  // the record's first line, then "yyy..." alone
  CHECK(counted(tmp.path / "n.jsonl") == 1);
  r = run_weir({"check", "-e", "file(\"t.csv\") | parse_csv(max_record_bytes = 0) | print()"}, tmp.path);
  CHECK(r.exit_code == 2);
}

TEST_CASE("weir run: dead-letter raw keeps bytes that are not UTF-8", "[cli][hostile]") {
  temp_dir tmp;
  cwd_guard cwd(tmp.path);  // the scripts name files relative to it
  write_file(tmp.path / "in.txt", std::string("ok\n\xff\xfe{\n", 6));
  auto r = run_weir({"run", "-e",
                     "file(\"in.txt\") | parse_json(on_error = dead_letter(\"bad.jsonl\")) | count() | write_jsonl(\"n.jsonl\")"},
                    tmp.path);
  CHECK(r.exit_code == 0);
  const std::string dl = slurp(tmp.path / "bad.jsonl");
  CHECK(count_lines(dl) == 2);
  CHECK_THAT(dl, Catch::Contains("{\"raw\":\"ok\",\"reason\""));
  CHECK_THAT(dl, Catch::Contains("\"raw_base64\":\"//57\""));  // ff fe 7b
}

TEST_CASE("weir run: a script starting with a UTF-8 byte order mark runs", "[cli][hostile]") {
  temp_dir tmp;
  cwd_guard cwd(tmp.path);  // the scripts name files relative to it
  write_file(tmp.path / "bom.weir", "\xEF\xBB\xBF# saved by a Windows editor\nfile(\"in.txt\") | count() | write_jsonl(\"n.jsonl\")\n");
  write_file(tmp.path / "in.txt", "a\nb\n");
  auto r = run_weir({"run", (tmp.path / "bom.weir").string()}, tmp.path);
  CHECK(r.exit_code == 0);
  CHECK(counted(tmp.path / "n.jsonl") == 2);
}

TEST_CASE("weir check: an overflowing duration says so", "[cli][hostile]") {
  temp_dir tmp;
  cwd_guard cwd(tmp.path);  // the scripts name files relative to it
  auto r = run_weir({"check", "-e", "set batch_interval = 9999999999999h\nfile(\"a\") | print()"}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "-e:1:22: duration '9999999999999h' is out of range (at most 9223372036854775807 ms, "
                 "about 292 million years)\n");
}

TEST_CASE("weir run: a listen() client sending 64 MiB without a newline loses its connection, not the run",
          "[cli][hostile]") {
  temp_dir tmp;
  cwd_guard cwd(tmp.path);  // the scripts name files relative to it
  listener probe;  // a free port
  const std::uint16_t port = probe.port;
  probe.close();
  auto out = tmp.path / "out.jsonl";
  pid_t pid = spawn_weir({"run", "-e",
                          "listen(\"127.0.0.1:" + std::to_string(port) + "\", connections = 2) | write_jsonl(" +
                              q(out) + ")"},
                         tmp.path);
  int a = connect_to(port);
  int b = connect_to(port);
  REQUIRE(a >= 0);
  REQUIRE(b >= 0);
  REQUIRE(send_all(a, "a1\na2\n"));
  REQUIRE(send_all(b, "b1\nb2\n"));
  // b floods: 64 MiB and more without a newline, until weir closes it
  std::thread flood([b] {
    const std::string chunk(1 << 20, 'x');
    for (int i = 0; i < 80 && send_all(b, chunk); ++i) {
    }
  });
  flood.join();
  REQUIRE(send_all(a, "a3\n"));
  ::close(a);
  ::close(b);
  CHECK(wait_exit(pid, std::chrono::seconds(120)) == 0);
  const std::string got = slurp(out);
  CHECK(count_lines(got) == 5);
  for (auto l : {"a1", "a2", "a3", "b1", "b2"}) CHECK_THAT(got, Catch::Contains(std::string("\"") + l + "\""));
  CHECK_THAT(slurp(tmp.path / "stderr.txt"), Catch::Contains("line 3: line longer than 67108864 bytes; closing that connection"));
}

TEST_CASE("weir run: timeout's two SIGTERMs drain once - a socket source in back-off commits its output",
          "[cli][hostile]") {
  // GNU timeout sends SIGTERM to weir, then to its whole process group:
  // the second one arrives while the first is draining
  for (int round = 0; round < 3; ++round) {  // the two signals race: try it a few times
  INFO("round " << round);
  temp_dir tmp;
  cwd_guard cwd(tmp.path);  // the scripts name files relative to it
  listener server;
  auto out = tmp.path / "out.jsonl";
  std::thread peer([&] {
    int c = ::accept4(server.fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    std::string lines;
    for (int i = 0; i < 100; ++i) lines += "line " + std::to_string(i) + "\n";
    send_all(c, lines);
    ::close(c);
    server.close();  // reconnecting is refused from now on: weir backs off and retries
  });
  // long enough for weir to start (and handle signals) on a loaded machine
  pid_t pid = spawn_program({"timeout", "--preserve-status", "-s", "TERM", "6", weir_binary(), "run", "-e",
                             "socket(\"127.0.0.1:" + std::to_string(server.port) + "\") | write_jsonl(" + q(out) +
                                 ")"},
                            tmp.path, "timeout");
  peer.join();
  const int rc = wait_exit(pid, std::chrono::seconds(60));
  INFO(slurp(tmp.path / "timeout.err"));
  CHECK(rc == 0);  // weir's own exit code: drained and committed
  CHECK_FALSE(fs::exists(out.string() + ".tmp"));
  REQUIRE(fs::exists(out));
  CHECK(count_lines(slurp(out)) == 100);
  }
}

TEST_CASE("weir run: a repeated SIGTERM while draining is the same request - a second SIGINT or a third signal exits now",
          "[cli][hostile]") {
  // hundreds of thousands of keys held until the batch ends: the drain after
  // the first signal writes them all, which takes a while
  const std::string script = "set batch_interval = 60s\ngenerate(\"access_log\") | map((_, 1)) | reduce_by_key(sum) | "
                             "write_jsonl(\"out.jsonl\")";
  struct signals_case {
    std::vector<int> then;  // after the first SIGTERM, while it drains
    int exit_code;          // 0: drained and committed
  };
  for (auto& c : {signals_case{{SIGTERM}, 0}, signals_case{{SIGINT}, 128 + SIGINT},
                  signals_case{{SIGTERM, SIGTERM}, 128 + SIGTERM}, signals_case{{SIGTERM, SIGINT}, 128 + SIGINT}}) {
    INFO("then " << c.then.size() << " more, the last " << c.then.back());
    temp_dir tmp;
    cwd_guard cwd(tmp.path);
    pid_t pid = spawn_weir({"run", "-e", script}, tmp.path);
    // running (its signals handled) once the sink has opened its file
    for (int i = 0; i < 6000 && !fs::exists(tmp.path / "out.jsonl.tmp"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(fs::exists(tmp.path / "out.jsonl.tmp"));
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ::kill(pid, SIGTERM);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (wait_for(pid, std::chrono::milliseconds(0))) {
      WARN("the drain ended within 50 ms: nothing to interrupt");
      continue;
    }
    for (int sig : c.then) {
      ::kill(pid, sig);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const int rc = wait_exit(pid, std::chrono::seconds(120));
    CHECK(rc == c.exit_code);
    const std::string err = slurp(tmp.path / "stderr.txt");
    if (c.exit_code == 0) {
      CHECK(err.empty());
      CHECK_FALSE(fs::exists(tmp.path / "out.jsonl.tmp"));
      CHECK(count_lines(slurp(tmp.path / "out.jsonl")) > 1000);
    } else {
      CHECK(err == "weir: interrupted again, exiting now\n");
    }
  }
}
