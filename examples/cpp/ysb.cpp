// The Yahoo Streaming Benchmark (YSB) pipeline with weir's C++ API,
// self-contained and self-checking.
//
//   ysb [--events N] [--campaigns C] [--seed S] [--parallelism P]
//
// A seeded generator (a custom source) emits N ad events
// {user_id, page_id, ad_id, ad_type, event_type, event_time, ip}, event times
// 1 ms apart from 2024-01-01T00:00:00Z. The YSB query: keep "view" events,
// project (ad_id, event_time), look up each ad's campaign (YSB's Redis join;
// here an in-memory table, 10 ads per campaign) and count views per campaign
// in 10 s tumbling event-time windows. Every (window, campaign) count is
// compared with a plain loop over the same events; prints a summary and the
// first windows, exits 1 on any difference.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <weir/api/dstream.hpp>

namespace {

constexpr std::int64_t start_ms = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
constexpr std::int64_t window_ms = 10'000;
const char* const event_types[] = {"view", "click", "purchase"};
const char* const ad_types[] = {"banner", "modal", "sponsored-search", "mail", "mobile"};

std::uint64_t splitmix(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct event {
  std::int64_t user, page, ad, time;
  int ad_type, event_type;
};

/// The i-th event of the seeded sequence (both the source and the check use it).
struct ysb_events {
  std::uint64_t state;
  std::int64_t ads, i = 0;
  event next() {
    event e;
    e.user = static_cast<std::int64_t>(splitmix(state) % 100000);
    e.page = static_cast<std::int64_t>(splitmix(state) % 100000);
    e.ad = static_cast<std::int64_t>(splitmix(state) % static_cast<std::uint64_t>(ads));
    e.ad_type = static_cast<int>(splitmix(state) % 5);
    e.event_type = static_cast<int>(splitmix(state) % 3);
    e.time = start_ms + i++;
    return e;
  }
};

/// The YSB generator as a weir source: JSON-like objects, `max` per read.
class ysb_source final : public weir::io::source_reader {
public:
  ysb_source(std::int64_t n, std::int64_t ads, std::uint64_t seed) : n_(n), gen_{seed, ads} {}
  weir::io::read_result read(weir::records& out, std::size_t max) override {
    for (; emitted_ < n_ && max > 0; --max, ++emitted_) {
      event e = gen_.next();
      out.push_back(weir::value::object({
          {"user_id", weir::value(e.user)},
          {"page_id", weir::value(e.page)},
          {"ad_id", weir::value(e.ad)},
          {"ad_type", weir::value(ad_types[e.ad_type])},
          {"event_type", weir::value(event_types[e.event_type])},
          {"event_time", weir::value(e.time)},
          {"ip", weir::value("10.0.0.1")},
      }));
    }
    using st = weir::io::read_result::status;
    return {emitted_ == n_ ? st::end : st::more, {}};
  }
  std::string describe() const override { return "ysb_generator"; }

private:
  std::int64_t n_, emitted_ = 0;
  ysb_events gen_;
};

}  // namespace

int main(int argc, char** argv) {
  std::int64_t n = 200000, campaigns = 100;
  std::uint64_t seed = 1;
  int parallelism = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--events") n = std::strtoll(argv[i + 1], nullptr, 10);
    else if (a == "--campaigns") campaigns = std::strtoll(argv[i + 1], nullptr, 10);
    else if (a == "--seed") seed = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--parallelism") parallelism = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "ysb: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (n <= 0 || campaigns <= 0) {
    std::fprintf(stderr, "ysb: --events and --campaigns must be positive\n");
    return 2;
  }
  const std::int64_t ads = campaigns * 10;
  // ad -> campaign (YSB keeps this in Redis)
  auto campaign_of = std::make_shared<std::vector<std::int64_t>>(static_cast<std::size_t>(ads));
  for (std::int64_t a = 0; a < ads; ++a) (*campaign_of)[static_cast<std::size_t>(a)] = a / 10;

  using window_key = std::pair<std::int64_t, std::int64_t>;  // (window start, campaign)
  std::mutex mtx;
  std::map<window_key, std::int64_t> got;
  weir::run_stats stats;
  try {
    weir::streaming_context ssc({.batch_interval = std::chrono::milliseconds(200), .parallelism = parallelism});
    weir::watermark_options wm;
    wm.time = [](const weir::value& r) { return r.as_array()[1]; };
    weir::event_window_options w;
    w.window = weir::window_spec::tumbling(std::chrono::milliseconds(window_ms));
    w.agg = weir::aggregation::count();
    w.time = [](const weir::value& r) { return r.as_array()[1]; };
    ssc.source("ysb_generator", [=] { return std::make_unique<ysb_source>(n, ads, seed); })
        .filter([](const weir::value& e) { return e.find("event_type")->as_string() == "view"; })
        .map([](const weir::value& e) {  // projection: (ad_id, event_time)
          return weir::value::pair(*e.find("ad_id"), *e.find("event_time"));
        })
        .map([campaign_of](const weir::value& p) {  // join with the campaigns: (campaign, event_time)
          auto ad = static_cast<std::size_t>(p.as_array()[0].as_int());
          return weir::value::pair(weir::value((*campaign_of)[ad]), p.as_array()[1]);
        })
        .with_watermark(wm)
        .aggregate(w, [](const weir::value& p) { return p.as_array()[0]; })
        .for_each_batch([&](std::int64_t, weir::records& batch) {
          std::lock_guard<std::mutex> lock(mtx);
          for (auto& r : batch) got[{r.find("start")->as_int(), r.find("key")->as_int()}] += r.find("value")->as_int();
        });
    stats = ssc.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ysb: %s\n", e.what());
    return 1;
  }

  // The same query as a plain loop.
  std::map<window_key, std::int64_t> expected;
  ysb_events gen{seed, ads};
  std::int64_t views = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    event e = gen.next();
    if (e.event_type != 0) continue;
    ++views;
    std::int64_t start = e.time - (e.time % window_ms);
    ++expected[{start, (*campaign_of)[static_cast<std::size_t>(e.ad)]}];
  }
  std::int64_t counted = 0;
  for (auto& [k, c] : got) counted += c;
  std::size_t shown = 0;
  for (auto& [k, c] : got) {
    if (shown++ == 5) break;
    std::printf("window %lld campaign %lld views %lld\n", static_cast<long long>(k.first),
                static_cast<long long>(k.second), static_cast<long long>(c));
  }
  std::printf("ysb: %lld events, %lld views, %zu (window, campaign) counts, %llu late\n", static_cast<long long>(n),
              static_cast<long long>(counted), got.size(), static_cast<unsigned long long>(stats.late_records));
  if (got != expected || stats.source_records != static_cast<std::uint64_t>(n)) {
    std::fprintf(stderr, "ysb: MISMATCH: %zu counts expected (%lld views), %zu got (%lld views); %llu source records\n",
                 expected.size(), static_cast<long long>(views), got.size(), static_cast<long long>(counted),
                 static_cast<unsigned long long>(stats.source_records));
    return 1;
  }
  std::printf("ysb: all counts match the reference loop\n");
  return 0;
}
