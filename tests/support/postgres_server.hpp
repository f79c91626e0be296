// Test helper: a throw-away PostgreSQL server from Debian's package
// (postgresql-15): `initdb` into a temporary directory (as the `postgres`
// user when the test runs as root, which initdb refuses), `pg_ctl start` on a
// free port of 127.0.0.1 with its socket in the same directory, and `pg_ctl
// stop` plus removal of the directory when the test process ends, however it
// ends (a watchdog process waits for the end of a pipe the test process
// holds, so an abort or a kill leaves no server behind). Settings are for
// tests: no fsync (the tests kill weir, never the server). Queries go
// through libpq.
//
// A test file starts one server (shared_postgres(), registered with
// weir_test(... ONE_PROCESS)); each test case works in a fresh database of
// its own (postgres_database), dropped at its end.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace weir::test {

/// The directory of initdb and pg_ctl (the newest /usr/lib/postgresql/N/bin,
/// or $WEIR_PG_BIN), nullopt when PostgreSQL is not installed.
inline std::optional<std::filesystem::path> postgres_bin_dir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("WEIR_PG_BIN"); env && *env) {
    if (fs::exists(fs::path(env) / "initdb")) return fs::path(env);
    return std::nullopt;
  }
  std::error_code ec;
  std::vector<fs::path> found;
  for (auto& d : fs::directory_iterator("/usr/lib/postgresql", ec))
    if (fs::exists(d.path() / "bin" / "initdb") && fs::exists(d.path() / "bin" / "pg_ctl"))
      found.push_back(d.path() / "bin");
  if (found.empty()) return std::nullopt;
  std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) {
    return std::atoi(a.parent_path().filename().c_str()) < std::atoi(b.parent_path().filename().c_str());
  });
  return found.back();
}

/// The message a test that needs PostgreSQL shows when it is absent.
inline const char* postgres_missing =
    "SKIPPED: PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; scripts/setup.sh installs "
    "postgresql)";

/// In a test case that needs PostgreSQL: warns (postgres_missing) and ends
/// the test case, passed, when it is not installed.
#define REQUIRE_POSTGRES()                         \
  do {                                             \
    if (!weir::test::postgres_bin_dir()) {         \
      WARN(weir::test::postgres_missing);          \
      return;                                      \
    }                                              \
  } while (0)

/// Rows of a query result, as text (NULL as "NULL").
using pg_rows = std::vector<std::vector<std::string>>;

class postgres_server {
public:
  explicit postgres_server(std::vector<std::string> settings = {}) : settings_(std::move(settings)) {
    namespace fs = std::filesystem;
    auto bin = postgres_bin_dir();
    REQUIRE(bin);
    bin_ = *bin;
    char tmpl[] = "/tmp/weir-pg-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    data_ = dir_ / "data";
    as_postgres_ = ::geteuid() == 0;
    if (as_postgres_) {
      passwd* pw = ::getpwnam("postgres");
      REQUIRE(pw != nullptr);
      REQUIRE(::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) == 0);
    }
    REQUIRE(run({(bin_ / "initdb").string(), "-D", data_.string(), "-U", "postgres", "-A", "trust", "-N", "-E",
                 "UTF8", "--locale=C"},
                dir_ / "initdb.log") == 0);
    start_watchdog();
    start();
  }

  /// Stops the server and removes its directory (through the watchdog).
  ~postgres_server() {
    ::close(watchdog_pipe_);
    int status = 0;
    ::waitpid(watchdog_, &status, 0);
  }
  postgres_server(const postgres_server&) = delete;
  postgres_server& operator=(const postgres_server&) = delete;

  /// Starts the server (again) on a free port; the port changes.
  void start() {
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = free_port();
      std::string opts = "-p " + std::to_string(port_) + " -k " + dir_.string() +
                         " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                         " -c full_page_writes=off -c max_connections=40";
      for (auto& s : settings_) opts += " -c " + s;
      if (run({(bin_ / "pg_ctl").string(), "-D", data_.string(), "-o", opts, "-l", (dir_ / "server.log").string(),
               "-w", "-t", "60", "start"},
              dir_ / "pg_ctl.log") == 0) {
        running_ = true;
        return;
      }
    }
    FAIL("pg_ctl start failed: " << slurp(dir_ / "pg_ctl.log") << slurp(dir_ / "server.log"));
  }

  /// Stops the server at once (connections are cut).
  void stop() {
    if (!running_) return;
    run({(bin_ / "pg_ctl").string(), "-D", data_.string(), "-m", "immediate", "-w", "stop"}, dir_ / "stop.log");
    running_ = false;
  }

  int port() const { return port_; }
  /// The URL of database `db` as user postgres.
  std::string url(const std::string& db = "postgres") const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + db;
  }

  /// Runs `sql` in database `db`; the rows of the last statement. Fails the
  /// test on an error.
  pg_rows query(const std::string& sql, const std::string& db = "postgres") const {
    PGconn* c = PQconnectdb(url(db).c_str());
    if (PQstatus(c) != CONNECTION_OK) {
      std::string msg = PQerrorMessage(c);
      PQfinish(c);
      FAIL("cannot connect to the test server: " << msg);
    }
    PGresult* r = PQexec(c, sql.c_str());
    ExecStatusType st = PQresultStatus(r);
    pg_rows rows;
    if (st == PGRES_TUPLES_OK)
      for (int i = 0; i < PQntuples(r); ++i) {
        rows.emplace_back();
        for (int j = 0; j < PQnfields(r); ++j)
          rows.back().push_back(PQgetisnull(r, i, j) ? "NULL" : PQgetvalue(r, i, j));
      }
    std::string err = PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(c);
    INFO(sql);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) FAIL("query failed: " << err);
    return rows;
  }

  /// The single value of a one-row, one-column query.
  std::string scalar(const std::string& sql, const std::string& db = "postgres") const {
    auto rows = query(sql, db);
    REQUIRE(rows.size() == 1);
    REQUIRE(rows[0].size() == 1);
    return rows[0][0];
  }

  /// A free port of 127.0.0.1 (nothing listens on it).
  static int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
  }

private:
  /// A shell that reads the pipe's end until EOF (the test process closed it
  /// or died), then stops the server and removes the directory. It execs at
  /// once after the fork (the test process may have threads).
  void start_watchdog() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    std::string stop = "pg_ctl -D '" + data_.string() + "' -m immediate -w stop";
    if (as_postgres_) stop = "runuser -u postgres -- " + (bin_ / "").string() + stop;
    else stop = (bin_ / "").string() + stop;
    std::string script = "cat > /dev/null; " + stop + " > /dev/null 2>&1; rm -rf '" + dir_.string() + "'";
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::dup2(fds[0], 0);
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      for (int i = 3; i < 1024; ++i) ::close(i);
      ::setsid();  // not in the test's process group: a signal to the group reaches the test only
      ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[0]);
    watchdog_ = pid;
    watchdog_pipe_ = fds[1];
  }

  static std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }


  /// Runs a PostgreSQL program (as postgres when root) with its output in `log`.
  int run(std::vector<std::string> args, const std::filesystem::path& log) const {
    if (as_postgres_) args.insert(args.begin(), {"runuser", "-u", "postgres", "--"});
    pid_t pid = ::fork();
    if (pid == 0) {
      int fd = ::open("/dev/null", O_RDONLY);
      ::dup2(fd, 0);
      // the log is written by the child (as root before runuser drops privileges)
      FILE* f = std::fopen(log.c_str(), "w");
      if (f) {
        ::dup2(::fileno(f), 1);
        ::dup2(::fileno(f), 2);
      }
      // the server must not hold the test's other descriptors (e.g. a parent's pipes)
      for (int i = 3; i < 1024; ++i) ::close(i);
      ::chdir(dir_.c_str());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::vector<std::string> settings_;
  std::filesystem::path bin_, dir_, data_;
  bool as_postgres_ = false;
  bool running_ = false;
  int port_ = 0;
  pid_t watchdog_ = -1;
  int watchdog_pipe_ = -1;
};

/// The server of this test process, started at the first call, stopped when
/// the process ends.
inline postgres_server& shared_postgres() {
  static postgres_server server;
  return server;
}

/// A fresh database on the shared server for one test case (its tables, and
/// weir's own weir_sink_epochs, are its alone), dropped at the end.
class postgres_database {
public:
  postgres_database() : server_(shared_postgres()) {
    static std::atomic<int> counter{0};
    name_ = "weir_test_" + std::to_string(++counter);
    server_.query("CREATE DATABASE " + name_);
  }
  ~postgres_database() {
    PGconn* c = PQconnectdb(server_.url().c_str());
    if (PQstatus(c) == CONNECTION_OK) PQclear(PQexec(c, ("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)").c_str()));
    PQfinish(c);
  }
  postgres_database(const postgres_database&) = delete;
  postgres_database& operator=(const postgres_database&) = delete;

  const std::string& name() const { return name_; }
  std::string url() const { return server_.url(name_); }
  pg_rows query(const std::string& sql) const { return server_.query(sql, name_); }
  std::string scalar(const std::string& sql) const { return server_.scalar(sql, name_); }

private:
  postgres_server& server_;
  std::string name_;
};

}  // namespace weir::test
