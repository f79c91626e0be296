// generate("access_log"): a deterministic, realistic web-access-log event
// generator (see sources.hpp). It imitates the real Apache log in
// shared/data/apache_access_elastic: the same site layout (blog, articles,
// presentations, projects, feeds), Zipf-popular paths, a skewed client
// population with a fixed user agent per client, a 200/304/404/301/5xx
// status mix with bursts of 5xx errors, and heavy-tailed response sizes.
//
// Everything random comes from xoshiro256** seeded by splitmix64 (no
// std::*_distribution, whose output differs between standard libraries), so
// the records are a pure function of the options and the record index.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "weir/common/hash.hpp"
#include "weir/io/sources.hpp"
#include "weir/operators/sealed_state.hpp"

namespace weir::io {
namespace {

using clock_type = std::chrono::steady_clock;

/// xoshiro256** (Blackman & Vigna), seeded with splitmix64.
class rng {
public:
  explicit rng(std::uint64_t seed) noexcept {
    for (auto& w : s_) w = splitmix64(seed);
  }
  std::uint64_t next() noexcept {
    std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  /// Uniform in [0, 1).
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [0, n) (n > 0; the modulo bias is negligible here).
  std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }
  /// Standard normal (Box–Muller); used only while building tables.
  double normal() noexcept {
    double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  /// The generator's state (checkpoints).
  const std::array<std::uint64_t, 4>& state() const noexcept { return s_; }
  void set_state(const std::array<std::uint64_t, 4>& s) noexcept { s_ = s; }

private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> s_{};
};

/// Cumulative weights k^-s for k = 1..n; sampled by binary search.
class zipf_table {
public:
  zipf_table() = default;
  zipf_table(std::size_t n, double s) : cdf_(n) {
    double sum = 0;
    for (std::size_t k = 0; k < n; ++k) {
      sum += std::pow(static_cast<double>(k + 1), -s);
      cdf_[k] = sum;
    }
  }
  std::size_t sample(rng& r) const noexcept {
    double u = r.uniform() * cdf_.back();
    auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
    return std::min(static_cast<std::size_t>(it - cdf_.begin()), cdf_.size() - 1);
  }

private:
  std::vector<double> cdf_;
};

// The most requested paths of the real log, most popular first.
constexpr std::string_view head_paths[] = {
    "/favicon.ico",
    "/style2.css",
    "/reset.css",
    "/images/jordan-80.png",
    "/images/web/2009/banner.png",
    "/blog/tags/puppet?flav=rss20",
    "/projects/xdotool/",
    "/?flav=rss20",
    "/",
    "/robots.txt",
    "/projects/xdotool/xdotool.xhtml",
    "/?flav=atom",
    "/articles/dynamic-dns-with-dhcp/",
    "/presentations/logstash-scale11x/images/ahhh___rage_face_by_samusmmx-d5g5zap.png",
    "/images/googledotcom.png",
    "/blog/geekery/ssl-latency.html",
    "/files/logstash/logstash-1.3.2-monolithic.jar",
    "/blog/tags/firefox?flav=rss20",
    "/articles/ssh-security/",
    "/presentations/logstash-puppetconf-2012/",
    "/images/logstash_OSCON.pdf",
    "/blog/geekery/xvfb-firefox.html",
    "/presentations/logstash-scale11x/images/logstash.png",
    "/blog/geekery/installing-windows-8-consumer-preview.html",
    "/projects/keynav/",
    "/blog/tags/puppet",
    "/images/logo.png",
    "/blog/tags/ruby",
    "/articles/",
    "/projects/grok/",
};

constexpr std::string_view words[] = {
    "puppet",   "logstash", "kibana",    "ruby",     "python",   "linux",    "ubuntu",  "firefox",
    "xdotool",  "keynav",   "grok",      "fpm",      "ssh",      "ssl",      "dns",     "dhcp",
    "nagios",   "vim",      "zsh",       "tmux",     "screen",   "git",      "debian",  "solaris",
    "freebsd",  "apache",   "nginx",     "mysql",    "redis",    "jruby",    "java",    "monitoring",
    "latency",  "security", "scaling",   "logging",  "metrics",  "graphite", "statsd",  "collectd",
    "packaging", "testing", "deploy",    "config",   "backup",   "cron",     "regex",   "patterns",
    "xvfb",     "x11",      "vnc",       "battery",  "laptop",   "kernel",   "network", "firewall",
    "perl",     "bash",     "sysadmin",  "devops",   "events",   "pipelines", "sockets", "threads",
};
constexpr std::string_view topics[] = {"geekery", "tips", "projects", "ops", "code", "howto"};
constexpr std::string_view confs[] = {"scale11x", "puppetconf-2012", "monorama-2013", "velocity-2012",
                                      "oscon-2013", "devopsdays-2013", "lisa-2012", "fosdem-2014"};
constexpr std::string_view projects[] = {"logstash", "fpm", "xdotool", "keynav", "grok", "cabin",
                                         "ruby-metrics", "xdo", "eventdb", "pleaserun"};
constexpr std::string_view image_exts[] = {".png", ".jpg", ".gif"};

// Real user agents of the log with rough weights (each client keeps one).
struct agent_def {
  std::string_view text;
  double weight;
};
constexpr agent_def agents[] = {
    {"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.107 Safari/537.36", 24},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/33.0.1750.91 Safari/537.36", 11},
    {"Mozilla/5.0 (Windows NT 6.1; WOW64; rv:27.0) Gecko/20100101 Firefox/27.0", 10},
    {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.107 Safari/537.36", 8},
    {"Mozilla/5.0 (Windows NT 6.3; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.107 Safari/537.36", 8},
    {"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:27.0) Gecko/20100101 Firefox/27.0", 8},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 7_0_4 like Mac OS X) AppleWebKit/537.51.1 (KHTML, like Gecko) Version/7.0 Mobile/11B554a Safari/9537.53", 6},
    {"UniversalFeedParser/4.2-pre-314-svn +http://feedparser.org/", 5},
    {"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", 5},
    {"Tiny Tiny RSS/1.11 (http://tt-rss.org/)", 4},
    {"Mozilla/5.0 (compatible; archive.org_bot +http://www.archive.org/details/archive.org_bot)", 3},
    {"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", 3},
};

constexpr std::size_t client_count = 3000;
constexpr double client_zipf_s = 0.8;  // top client ≈ 5% of requests, as in the real log

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool reserved_ipv4(std::uint32_t a) {
  unsigned o1 = a >> 24, o2 = (a >> 16) & 255;
  return o1 == 0 || o1 == 10 || o1 == 127 || o1 >= 224 || (o1 == 100 && o2 >= 64 && o2 < 128) ||
         (o1 == 169 && o2 == 254) || (o1 == 172 && o2 >= 16 && o2 < 32) ||
         (o1 == 192 && o2 == 168) || (o1 == 198 && (o2 == 18 || o2 == 19)) || (a & 255) == 0 ||
         (a & 255) == 255;
}

class access_log_generator final : public source_reader {
public:
  explicit access_log_generator(const access_log_options& o) : opts_(o) {}

  void open() override {
    if (!(opts_.rate >= 0) || !std::isfinite(opts_.rate))
      throw pipeline_error(describe() + ": rate must be a finite number >= 0");
    if (opts_.paths == 0) throw pipeline_error(describe() + ": paths must be > 0");
    if (!std::isfinite(opts_.zipf_s)) throw pipeline_error(describe() + ": zipf_s must be finite");
    if (opts_.duration.count() < 0) throw pipeline_error(describe() + ": duration must be >= 0");
    build_tables();
    rng_ = rng(opts_.seed);
    burst_rng_ = rng(opts_.seed ^ 0x5bd1e9955bd1e995ULL);
    emitted_ = 0;
    burst_start_ = burst_end_ = 0;
    schedule_burst(0);
    opened_ = true;
    open_time_ = clock_type::now();
  }

  read_result read(records& out, std::size_t max) override {
    if (!opened_) throw pipeline_error(describe() + ": read before open");
    if (opts_.count > 0 && emitted_ >= opts_.count) return {read_result::status::end, {}};
    auto now = clock_type::now();
    auto elapsed = now - open_time_;
    if (opts_.duration.count() > 0 && elapsed >= opts_.duration)
      return {read_result::status::end, {}};
    std::uint64_t n = max;
    if (opts_.count > 0) n = std::min<std::uint64_t>(n, opts_.count - emitted_);
    if (opts_.rate > 0) {
      // Record i is due at open + i/rate s: records [0, due) are due now.
      double el_s = std::chrono::duration<double>(elapsed).count();
      double d = el_s * opts_.rate + 1.0;
      std::uint64_t due = d >= 1.8e19 ? std::numeric_limits<std::uint64_t>::max()
                                      : static_cast<std::uint64_t>(d);
      if (due <= emitted_) {
        double next_s = static_cast<double>(emitted_) / opts_.rate;
        auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::duration<double>(next_s - el_s));
        wait = std::clamp<std::chrono::nanoseconds>(wait, std::chrono::nanoseconds(0),
                                                    std::chrono::milliseconds(5));
        return {read_result::status::idle, wait};
      }
      n = std::min(n, due - emitted_);
    }
    out.reserve(out.size() + n);
    for (std::uint64_t k = 0; k < n; ++k) out.push_back(make_record());
    return {read_result::status::more, {}};
  }

  std::string describe() const override { return "generate(\"access_log\")"; }

  /// A bounded generator's progress: records emitted of `count`, else ms run
  /// of `duration`; unbounded: unknown.
  input_progress progress() const override {
    if (opts_.count > 0) return {std::min(emitted_, opts_.count), opts_.count};
    if (opts_.duration.count() > 0 && opened_) {
      const auto total = static_cast<std::uint64_t>(opts_.duration.count());
      const auto ran = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - open_time_).count();
      return {std::min(static_cast<std::uint64_t>(std::max<std::int64_t>(ran, 0)), total), total};
    }
    return {};
  }

  // Checkpoints: the records emitted, both xoshiro states, the burst
  // schedule and the run time so far (pacing and `duration` continue from
  // it). The seed, rate and table sizes are checked: they shape the sequence.
  bool replayable() const override { return true; }

  void snapshot_position(state_writer& w) const override {
    if (!opened_) throw pipeline_error(describe() + ": position taken before open");
    write_sealed(w, 1, [&](state_writer& s) {
      s.u64(opts_.seed);
      s.f64(opts_.rate);
      s.u64(opts_.paths);
      s.u64(emitted_);
      for (auto x : rng_.state()) s.u64(x);
      for (auto x : burst_rng_.state()) s.u64(x);
      s.i64(burst_start_);
      s.i64(burst_end_);
      s.f64(burst_frac_);
      // the run time matters only for pacing and `duration` (0 otherwise: a
      // position then depends on the records emitted alone)
      const bool timed = opts_.rate > 0 || opts_.duration.count() > 0;
      s.i64(timed ? std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - open_time_).count() : 0);
    });
  }

  void restore_position(state_reader& r) override {
    if (!opened_) throw pipeline_error(describe() + ": position restored before open");
    read_sealed(r, 1, "source " + describe(), [&](state_reader& s) {
      if (s.u64() != opts_.seed || s.f64() != opts_.rate || s.u64() != opts_.paths)
        s.fail("the position is of a generator with another seed, rate or paths");
      emitted_ = s.u64();
      std::array<std::uint64_t, 4> a{}, b{};
      for (auto& x : a) x = s.u64();
      for (auto& x : b) x = s.u64();
      rng_.set_state(a);
      burst_rng_.set_state(b);
      burst_start_ = s.i64();
      burst_end_ = s.i64();
      burst_frac_ = s.f64();
      const std::int64_t elapsed = s.i64();
      if (elapsed < 0) s.fail("negative run time");
      open_time_ = clock_type::now() - std::chrono::nanoseconds(elapsed);
    });
  }

  std::string describe_position() const override { return describe() + ": " + std::to_string(emitted_) + " records emitted"; }

private:
  struct path_info {
    value path;
    std::int64_t size;  // body size of a 200 response
    bool dynamic;       // generated page: size varies a little per request
  };

  void build_tables() {
    rng r(opts_.seed ^ 0x243f6a8885a308d3ULL);

    // Paths: the real log's favourites, then synthesized ones of the same site.
    paths_.clear();
    paths_.reserve(opts_.paths);
    std::unordered_set<std::string> seen;
    auto add_path = [&](std::string p) {
      if (!seen.insert(p).second) return false;
      paths_.push_back({value(p), size_for(p, r), is_dynamic(p)});
      return true;
    };
    for (auto p : head_paths) {
      if (paths_.size() >= opts_.paths) break;
      add_path(std::string(p));
    }
    auto pick = [&](const auto& arr) { return std::string(arr[r.below(std::size(arr))]); };
    while (paths_.size() < opts_.paths) {
      std::size_t idx = paths_.size();
      std::string w1 = pick(words), w2 = pick(words), p;
      switch (r.below(8)) {
        case 0: p = "/blog/geekery/" + w1 + "-" + w2 + ".html"; break;
        case 1: p = "/articles/" + w1 + "-" + w2 + "/"; break;
        case 2:
          p = "/presentations/" + pick(projects) + "-" + pick(confs) + "/images/" + w1 + "-" + w2 +
              pick(image_exts);
          break;
        case 3: p = "/blog/tags/" + w1 + (r.below(3) == 0 ? "?flav=rss20" : ""); break;
        case 4: p = "/projects/" + w1 + "-" + w2 + "/"; break;
        case 5: {
          auto proj = pick(projects);
          p = "/files/" + proj + "/" + proj + "-" + std::to_string(r.below(3)) + "." +
              std::to_string(r.below(10)) + "." + std::to_string(r.below(20)) +
              (r.below(2) ? ".tar.gz" : ".jar");
          break;
        }
        case 6: p = "/images/" + w1 + "-" + w2 + pick(image_exts); break;
        default: p = "/blog/" + pick(topics) + "/" + w1 + "-" + w2 + ".html"; break;
      }
      // Collisions (likely once the word combinations run out) get a unique number.
      if (!add_path(p)) add_path("/articles/" + w1 + "-" + w2 + "-" + std::to_string(idx) + "/");
    }
    path_zipf_ = zipf_table(paths_.size(), opts_.zipf_s);

    // Clients: distinct public IPv4 addresses, each with one user agent.
    double agent_total = 0;
    for (auto& a : agents) agent_total += a.weight;
    agent_values_.clear();
    for (auto& a : agents) agent_values_.emplace_back(a.text);
    clients_.clear();
    clients_.reserve(client_count);
    std::unordered_set<std::uint32_t> ips;
    while (clients_.size() < client_count) {
      auto a = static_cast<std::uint32_t>(r.next() >> 32);
      if (reserved_ipv4(a) || !ips.insert(a).second) continue;
      std::string ip = std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
                       std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
      double u = r.uniform() * agent_total;
      std::size_t ag = 0;
      while (ag + 1 < std::size(agents) && u >= agents[ag].weight) u -= agents[ag++].weight;
      clients_.push_back({value(ip), ag});
    }
    client_zipf_ = zipf_table(clients_.size(), client_zipf_s);

    for (std::size_t i = 0; i < names_.size(); ++i) names_[i] = value(name_text[i]);
    get_ = value("GET");
    post_ = value("POST");
    head_ = value("HEAD");
  }

  static bool is_dynamic(std::string_view p) {
    return p.back() == '/' || p.find('?') != std::string_view::npos || ends_with(p, ".html");
  }

  // Body size of a 200 response: lognormal around a per-type median, with a
  // Pareto tail for downloads (heavy-tailed overall, like the real log).
  static std::int64_t size_for(std::string_view p, rng& r) {
    if (p == "/favicon.ico") return 3638;
    if (p == "/robots.txt") return 128;
    double median, sigma = 0.8;
    if (ends_with(p, ".png") || ends_with(p, ".jpg") || ends_with(p, ".gif")) {
      median = 30000, sigma = 1.2;
    } else if (ends_with(p, ".css") || ends_with(p, ".js")) {
      median = 6000;
    } else if (ends_with(p, ".pdf") || ends_with(p, ".jar") || ends_with(p, ".tar.gz")) {
      // Pareto(x_m = 500 KB, alpha = 1.2), capped at 70 MB (the real log's largest is 69 MB)
      double x = 500000.0 / std::pow(1.0 - r.uniform(), 1.0 / 1.2);
      return static_cast<std::int64_t>(std::min(x, 70e6));
    } else if (p.find('?') != std::string_view::npos) {
      median = 40000, sigma = 0.5;  // feeds
    } else {
      median = 12000;
    }
    return std::max<std::int64_t>(64, static_cast<std::int64_t>(median * std::exp(sigma * r.normal())));
  }

  void schedule_burst(std::int64_t after_ms) {
    burst_start_ = after_ms + static_cast<std::int64_t>(burst_rng_.uniform(20000, 40000));
    burst_end_ = burst_start_ + static_cast<std::int64_t>(burst_rng_.uniform(2000, 5000));
    burst_frac_ = burst_rng_.uniform(0.3, 0.5);
  }

  value make_record() {
    std::uint64_t i = emitted_++;
    std::int64_t t = opts_.rate > 0
                         ? static_cast<std::int64_t>(static_cast<double>(i) * 1000.0 / opts_.rate)
                         : static_cast<std::int64_t>(i / 10);
    while (t >= burst_end_) schedule_burst(burst_end_);
    bool burst = t >= burst_start_;

    const auto& client = clients_[client_zipf_.sample(rng_)];
    const auto& path = paths_[path_zipf_.sample(rng_)];

    double um = rng_.uniform();
    const value& method = um < 0.92 ? get_ : um < 0.97 ? post_ : head_;

    std::int64_t status;
    double us = rng_.uniform();
    if (burst && rng_.uniform() < burst_frac_) {
      status = us < 0.6 ? 500 : 503;
    } else if (us < 0.84) {
      status = 200;
    } else if (us < 0.92) {
      status = 304;
    } else if (us < 0.97) {
      status = 404;
    } else if (us < 0.98) {
      status = 301;
    } else if (us < 0.99) {
      status = 500;
    } else {
      status = 503;
    }

    std::uint64_t rb = rng_.next();
    std::int64_t bytes;
    switch (status) {
      case 200:
        bytes = path.size;
        if (path.dynamic) bytes += static_cast<std::int64_t>(rb % (bytes / 16 + 1)) - bytes / 32;
        if (&method == &head_) bytes = 0;  // HEAD: headers only
        break;
      case 304: bytes = 0; break;
      case 301: bytes = 320 + static_cast<std::int64_t>(rb % 30); break;
      case 404: bytes = 280 + static_cast<std::int64_t>(rb % 90); break;
      case 500: bytes = 480 + static_cast<std::int64_t>(rb % 160); break;
      default: bytes = 290 + static_cast<std::int64_t>(rb % 40); break;
    }

    std::vector<field> f;
    f.reserve(7);
    f.push_back({names_[0], value(opts_.start_time_ms + t)});
    f.push_back({names_[1], client.ip});
    f.push_back({names_[2], method});
    f.push_back({names_[3], path.path});
    f.push_back({names_[4], value(status)});
    f.push_back({names_[5], value(bytes)});
    f.push_back({names_[6], agent_values_[client.agent]});
    return value::object(std::move(f));
  }

  struct client_info {
    value ip;
    std::size_t agent;
  };
  static constexpr std::array<std::string_view, 7> name_text{"time",   "ip",    "method", "path",
                                                             "status", "bytes", "agent"};

  access_log_options opts_;
  bool opened_ = false;
  clock_type::time_point open_time_{};
  rng rng_{0}, burst_rng_{0};
  std::uint64_t emitted_ = 0;
  std::int64_t burst_start_ = 0, burst_end_ = 0;
  double burst_frac_ = 0;
  std::vector<path_info> paths_;
  zipf_table path_zipf_;
  std::vector<client_info> clients_;
  zipf_table client_zipf_;
  std::vector<value> agent_values_;
  std::array<value, 7> names_;
  value get_, post_, head_;
};

}  // namespace

source_ptr make_access_log_generator(const access_log_options& opts) {
  return std::make_unique<access_log_generator>(opts);
}

}  // namespace weir::io
