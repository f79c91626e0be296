// generate("access_log"): determinism, schema, distributions, rate control.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "weir/io/sources.hpp"

using weir::records;
using weir::value;
using weir::io::access_log_options;
using weir::io::read_result;

namespace {

// Reads until end (sleeping on idle); `each` sees every batch of records.
template <class F>
std::uint64_t drain(weir::io::source_reader& src, std::size_t max, F&& each) {
  std::uint64_t n = 0;
  records out;
  for (int calls = 0; calls < 100'000'000; ++calls) {
    out.clear();
    auto r = src.read(out, max);
    n += out.size();
    each(out);
    if (r.st == read_result::status::end) return n;
    if (r.st == read_result::status::idle) {
      REQUIRE(out.empty());
      std::this_thread::sleep_for(r.retry_after);
    }
  }
  FAIL("generator did not end");
  return n;
}

records generate(access_log_options o) {
  auto src = weir::io::make_access_log_generator(o);
  src->open();
  records all;
  drain(*src, 4096, [&](records& rs) { all.insert(all.end(), rs.begin(), rs.end()); });
  src->close();
  return all;
}

const value& get(const value& rec, const char* name) {
  const value* v = rec.find(name);
  REQUIRE(v != nullptr);
  return *v;
}

bool is_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t j = s.find('.', i);
    if (j == std::string_view::npos) j = s.size();
    auto part = s.substr(i, j - i);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return false;
    int v = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    if (v > 255) return false;
    ++parts;
    i = j + 1;
  }
  return parts == 4;
}

}  // namespace

TEST_CASE("access log generator: schema and event time", "[io][generator]") {
  access_log_options o;
  o.count = 2000;
  auto recs = generate(o);
  REQUIRE(recs.size() == 2000);
  const std::vector<std::string> names = {"time", "ip", "method", "path", "status", "bytes", "agent"};
  std::size_t get_count = 0;
  for (std::size_t i = 0; i < recs.size(); ++i) {
    const auto& r = recs[i];
    REQUIRE(r.is_object());
    auto fields = r.as_object();
    REQUIRE(fields.size() == names.size());
    for (std::size_t k = 0; k < names.size(); ++k) REQUIRE(fields[k].name.as_string() == names[k]);
    // rate 0: event time advances 0.1 ms per record
    REQUIRE(get(r, "time").is_int());
    REQUIRE(get(r, "time").as_int() == o.start_time_ms + static_cast<std::int64_t>(i / 10));
    REQUIRE(is_ipv4(get(r, "ip").as_string()));
    auto m = get(r, "method").as_string();
    REQUIRE((m == "GET" || m == "POST" || m == "HEAD"));
    get_count += m == "GET";
    REQUIRE(get(r, "path").as_string().substr(0, 1) == "/");
    REQUIRE(get(r, "status").is_int());
    REQUIRE(get(r, "bytes").is_int());
    REQUIRE(get(r, "bytes").as_int() >= 0);
    REQUIRE(get(r, "agent").as_string().size() > 10);
  }
  CHECK(get_count > 1700);  // GET mostly (≈ 92%)
  CHECK(get_count < 2000);  // but POST/HEAD too
}

TEST_CASE("access log generator is deterministic for a seed", "[io][generator]") {
  access_log_options o;
  o.count = 5000;
  o.seed = 7;
  auto a = generate(o);
  auto b = generate(o);
  REQUIRE(a.size() == 5000);
  REQUIRE(a == b);
  CHECK(a[4999].to_json() == b[4999].to_json());

  o.seed = 8;
  auto c = generate(o);
  REQUIRE(c.size() == 5000);
  CHECK(a != c);

  // Reopening restarts the same sequence.
  o.seed = 7;
  auto src = weir::io::make_access_log_generator(o);
  src->open();
  records first;
  src->read(first, 10);
  src->open();
  records again;
  src->read(again, 10);
  CHECK(first == again);
  CHECK(first == records(a.begin(), a.begin() + 10));
}

TEST_CASE("access log generator stops after count records", "[io][generator]") {
  access_log_options o;
  o.count = 1234;
  auto src = weir::io::make_access_log_generator(o);
  CHECK(src->describe() == "generate(\"access_log\")");
  src->open();
  records out;
  std::vector<std::size_t> sizes;
  for (int i = 0; i < 10; ++i) {
    std::size_t before = out.size();
    auto r = src->read(out, 500);
    sizes.push_back(out.size() - before);
    if (r.st == read_result::status::end) break;
  }
  CHECK(sizes == std::vector<std::size_t>{500, 500, 234, 0});
  CHECK(out.size() == 1234);
  CHECK(src->read(out, 500).st == read_result::status::end);
}

TEST_CASE("access log generator: Zipf path popularity", "[io][generator]") {
  access_log_options o;
  o.count = 200'000;
  o.paths = 1000;
  std::unordered_map<std::string, std::uint64_t> freq;
  auto src = weir::io::make_access_log_generator(o);
  src->open();
  drain(*src, 8192, [&](records& rs) {
    for (auto& r : rs) ++freq[std::string(r.find("path")->as_string())];
  });
  CHECK(freq.size() <= 1000);
  CHECK(freq.size() > 500);  // the long tail shows up
  std::vector<std::pair<std::uint64_t, std::string>> byfreq;
  for (auto& [p, n] : freq) byfreq.emplace_back(n, p);
  std::sort(byfreq.rbegin(), byfreq.rend());
  auto top = byfreq.front();
  auto median = byfreq[byfreq.size() / 2].first;
  INFO("top " << top.second << " " << top.first << ", median " << median);
  CHECK(top.second == "/favicon.ico");  // the real log's most requested path
  CHECK(top.first > 50 * median);
  CHECK(top.first > o.count / 10);  // s = 1.1 over 1000 paths: ≈ 19%
  CHECK(top.first < o.count / 3);

  // Fewer distinct paths; zipf_s = 0 is uniform.
  o.count = 20'000;
  o.paths = 10;
  o.zipf_s = 0;
  freq.clear();
  auto uni = weir::io::make_access_log_generator(o);
  uni->open();
  drain(*uni, 8192, [&](records& rs) {
    for (auto& r : rs) ++freq[std::string(r.find("path")->as_string())];
  });
  CHECK(freq.size() == 10);
  for (auto& [p, n] : freq) CHECK((n > 1500 && n < 2500));

  // Many distinct paths are generated without collisions.
  o.paths = 50'000;
  o.count = 1;
  auto many = weir::io::make_access_log_generator(o);
  many->open();
  records one;
  CHECK(many->read(one, 10).st == read_result::status::more);
}

TEST_CASE("access log generator: status mix with 5xx bursts and sizes", "[io][generator]") {
  access_log_options o;
  o.count = 600'000;  // 60 s of event time at rate 0 (0.1 ms per record)
  std::map<std::int64_t, std::uint64_t> status;
  std::map<std::int64_t, std::pair<std::uint64_t, std::uint64_t>> per_second;  // (5xx, all)
  std::vector<std::int64_t> ok_bytes;
  std::uint64_t bad_bytes = 0;
  auto src = weir::io::make_access_log_generator(o);
  src->open();
  drain(*src, 8192, [&](records& rs) {
    for (auto& r : rs) {
      auto s = r.find("status")->as_int();
      auto b = r.find("bytes")->as_int();
      ++status[s];
      auto& sec = per_second[(r.find("time")->as_int() - o.start_time_ms) / 1000];
      sec.first += s >= 500;
      ++sec.second;
      if (s == 200 && r.find("method")->as_string() == "GET") ok_bytes.push_back(b);
      if ((s == 304 && b != 0) || (s != 200 && s != 304 && (b < 200 || b > 1000))) ++bad_bytes;
    }
  });
  const double n = static_cast<double>(o.count);
  auto share = [&](std::int64_t s) { return static_cast<double>(status[s]) / n; };
  INFO("200 " << share(200) << ", 304 " << share(304) << ", 404 " << share(404) << ", 301 "
              << share(301) << ", 500 " << share(500) << ", 503 " << share(503));
  CHECK(status.size() == 6);
  CHECK((share(200) > 0.74 && share(200) < 0.88));
  CHECK((share(304) > 0.06 && share(304) < 0.10));
  CHECK((share(404) > 0.035 && share(404) < 0.065));
  CHECK((share(301) > 0.005 && share(301) < 0.016));
  double err = share(500) + share(503);
  CHECK((err > 0.015 && err < 0.10));

  // Bursts: whole seconds where 30–50% of requests fail, in runs of 2–5 s,
  // while a normal second has about 2%.
  REQUIRE(per_second.size() == 60);
  std::vector<int> burst_seconds;
  std::size_t quiet = 0;
  for (auto& [sec, c] : per_second) {
    double f = static_cast<double>(c.first) / static_cast<double>(c.second);
    if (f > 0.25) burst_seconds.push_back(static_cast<int>(sec));
    if (f < 0.04) ++quiet;
  }
  INFO("burst seconds: " << burst_seconds.size() << ", quiet seconds: " << quiet);
  REQUIRE(!burst_seconds.empty());
  CHECK(burst_seconds.front() >= 19);  // the first burst starts 20–40 s in
  CHECK(burst_seconds.front() <= 41);
  CHECK(burst_seconds.size() <= 2 * 5);  // at most two bursts fit in 60 s
  CHECK(quiet >= 45);

  // No body for 304, small error pages, heavy-tailed 200 bodies.
  CHECK(bad_bytes == 0);
  std::sort(ok_bytes.begin(), ok_bytes.end());
  auto median = ok_bytes[ok_bytes.size() / 2];
  INFO("200 bytes: median " << median << ", max " << ok_bytes.back());
  CHECK(median > 1000);
  CHECK(ok_bytes.back() > 50 * median);
}

TEST_CASE("access log generator: client IPs are skewed", "[io][generator]") {
  access_log_options o;
  o.count = 100'000;
  std::unordered_map<std::string, std::uint64_t> ips;
  std::set<std::pair<std::string, std::string>> ip_agent;
  auto src = weir::io::make_access_log_generator(o);
  src->open();
  drain(*src, 8192, [&](records& rs) {
    for (auto& r : rs) {
      std::string ip(r.find("ip")->as_string());
      ++ips[ip];
      ip_agent.emplace(ip, r.find("agent")->as_string());
    }
  });
  std::uint64_t top = 0;
  for (auto& [ip, c] : ips) top = std::max(top, c);
  CHECK(ips.size() > 1500);     // a few thousand clients
  CHECK(ips.size() <= 3000);
  CHECK(top > o.count / 50);    // busiest client ≈ 5%
  CHECK(ip_agent.size() == ips.size());  // one user agent per client
}

TEST_CASE("access log generator: rate control", "[io][generator]") {
  SECTION("rate 1000/s for 0.3 s of wall time gives about 300 records") {
    access_log_options o;
    o.rate = 1000;
    o.duration = std::chrono::milliseconds(300);
    auto src = weir::io::make_access_log_generator(o);
    src->open();
    auto t0 = std::chrono::steady_clock::now();
    std::size_t idles = 0;
    records all;
    records out;
    for (;;) {
      out.clear();
      auto r = src->read(out, 10'000);
      all.insert(all.end(), out.begin(), out.end());
      if (r.st == read_result::status::end) break;
      if (r.st == read_result::status::idle) {
        ++idles;
        CHECK(out.empty());
        CHECK(r.retry_after <= std::chrono::milliseconds(5));
        CHECK(r.retry_after >= std::chrono::nanoseconds(0));
        std::this_thread::sleep_for(r.retry_after);
      }
    }
    auto wall = std::chrono::steady_clock::now() - t0;
    INFO("records " << all.size() << ", idle calls " << idles);
    CHECK(all.size() >= 150);
    CHECK(all.size() <= 450);
    CHECK(idles > 0);
    CHECK(wall >= std::chrono::milliseconds(290));
    CHECK(wall < std::chrono::seconds(5));
    // event time advances 1000/rate = 1 ms per record
    for (std::size_t i = 0; i < all.size(); ++i)
      REQUIRE(all[i].find("time")->as_int() == o.start_time_ms + static_cast<std::int64_t>(i));
  }
  SECTION("records not yet due are not emitted") {
    access_log_options o;
    o.rate = 100;  // one record every 10 ms
    auto src = weir::io::make_access_log_generator(o);
    src->open();
    records out;
    auto r = src->read(out, 1000);
    CHECK(r.st == read_result::status::more);
    CHECK(out.size() < 10);  // only the first (due at open) and maybe a few more
    std::size_t first = out.size();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    src->read(out, 1000);
    CHECK(out.size() > first);
    CHECK(out.size() < 100);
  }
  SECTION("rate 0 with a duration runs as fast as asked, then ends") {
    access_log_options o;
    o.duration = std::chrono::milliseconds(50);
    auto src = weir::io::make_access_log_generator(o);
    src->open();
    records out;
    CHECK(src->read(out, 5000).st == read_result::status::more);
    CHECK(out.size() == 5000);
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    CHECK(src->read(out, 5000).st == read_result::status::end);
  }
}

TEST_CASE("access log generator rejects invalid options", "[io][generator]") {
  access_log_options o;
  o.rate = -1;
  REQUIRE_THROWS_AS(weir::io::make_access_log_generator(o)->open(), weir::pipeline_error);
  o.rate = 0;
  o.paths = 0;
  REQUIRE_THROWS_AS(weir::io::make_access_log_generator(o)->open(), weir::pipeline_error);
  records out;
  REQUIRE_THROWS_AS(weir::io::make_access_log_generator({})->read(out, 1), weir::pipeline_error);
}

TEST_CASE("access_log generator: progress counts records of count, else ms of duration, else is unknown",
          "[io][generator]") {
  access_log_options o;
  o.count = 1000;
  auto counted = weir::io::make_access_log_generator(o);
  counted->open();
  records out;
  counted->read(out, 300);
  CHECK(counted->progress().done == 300);
  CHECK(counted->progress().total == 1000);
  drain(*counted, 4096, [](records&) {});
  CHECK(counted->progress().done == 1000);

  o = {};
  o.rate = 1000;
  o.duration = std::chrono::milliseconds(300);
  auto timed = weir::io::make_access_log_generator(o);
  timed->open();
  CHECK(timed->progress().total == 300);
  CHECK(timed->progress().done <= 300);
  drain(*timed, 4096, [](records&) {});
  CHECK(timed->progress().done == 300);  // ran its whole duration

  o = {};
  auto endless = weir::io::make_access_log_generator(o);
  endless->open();
  endless->read(out, 10);
  CHECK(endless->progress().total == 0);
}
