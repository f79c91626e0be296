// Access-log alarm: the share of server errors (5xx) over a sliding
// event-time window, with an alarm above a threshold.
//
//   access_log_alarm [LOG_FILE] [--window-min 10] [--slide-min 5] [--threshold-pct 0.5]
//
// LOG_FILE: an Apache combined log (e.g. apache_access_elastic/apache_logs of the
// data directory, $WEIR_DATA);
// without it, 20 s of the built-in generator (seeded). Flink/Structured
// Streaming style: event time from the log's timestamps, a watermark 60 s
// behind the largest time seen (the file is up to 59 s out of order), sliding
// windows [k·slide, k·slide + window) each reduced to (errors, requests).
// Prints one line per window, in window order:
//   <start ISO> <end ISO> requests=N errors=E rate=R% [ALARM]
// and exits 0. Malformed lines are skipped and counted (on_error = skip).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include <weir/api/dstream.hpp>

namespace {

std::string iso(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  long window_min = 10, slide_min = 5;
  double threshold_pct = 0.5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "access_log_alarm: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--window-min") window_min = std::strtol(next(), nullptr, 10);
    else if (a == "--slide-min") slide_min = std::strtol(next(), nullptr, 10);
    else if (a == "--threshold-pct") threshold_pct = std::strtod(next(), nullptr);
    else path = a;
  }
  if (window_min <= 0 || slide_min <= 0 || slide_min > window_min) {
    std::fprintf(stderr, "access_log_alarm: need 0 < --slide-min <= --window-min\n");
    return 2;
  }

  struct window_result {
    std::int64_t start, end, errors, requests;
  };
  std::mutex mtx;
  std::vector<window_result> windows;
  weir::run_stats stats;
  try {
    weir::streaming_context ssc({.batch_interval = std::chrono::milliseconds(500)});
    weir::dstream logs = path.empty()
                             ? ssc.access_log({.seed = 42, .rate = 5000, .duration = std::chrono::seconds(20)})
                             : ssc.text_file(path).parse_log(weir::io::log_format::combined,
                                                             weir::error_policy{weir::on_error::skip});
    weir::watermark_options wm;
    wm.time = [](const weir::value& r) { return *r.find("time"); };
    wm.delay = std::chrono::seconds(60);
    weir::event_window_options w;
    w.window = weir::window_spec::sliding(std::chrono::minutes(window_min), std::chrono::minutes(slide_min));
    // each record counts as (errors, requests) = (status >= 500 ? 1 : 0, 1)
    w.value_of = [](const weir::value& r) {
      std::int64_t err = r.find("status")->as_int() >= 500 ? 1 : 0;
      return weir::value::array({weir::value(err), weir::value(1)});
    };
    w.agg = weir::aggregation::reduce(weir::reducer::custom(
        [](const weir::value& a, const weir::value& b) {
          return weir::value::array({weir::value(a.as_array()[0].as_int() + b.as_array()[0].as_int()),
                                     weir::value(a.as_array()[1].as_int() + b.as_array()[1].as_int())});
        },
        "errors_and_requests"));
    w.time = wm.time;
    logs.with_watermark(wm).aggregate(w).for_each_batch([&](std::int64_t, weir::records& batch) {
      std::lock_guard<std::mutex> lock(mtx);
      for (auto& r : batch) {
        auto v = r.find("value")->as_array();
        windows.push_back({r.find("start")->as_int(), r.find("end")->as_int(), v[0].as_int(), v[1].as_int()});
      }
    });
    stats = ssc.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "access_log_alarm: %s\n", e.what());
    return 1;
  }
  std::sort(windows.begin(), windows.end(),
            [](auto& a, auto& b) { return std::tie(a.start, a.end) < std::tie(b.start, b.end); });
  int alarms = 0;
  for (auto& w : windows) {
    double rate = w.requests ? 100.0 * static_cast<double>(w.errors) / static_cast<double>(w.requests) : 0;
    bool alarm = rate > threshold_pct;
    alarms += alarm;
    std::printf("%s %s requests=%lld errors=%lld rate=%.2f%%%s\n", iso(w.start).c_str(), iso(w.end).c_str(),
                static_cast<long long>(w.requests), static_cast<long long>(w.errors), rate, alarm ? " ALARM" : "");
  }
  std::fprintf(stderr, "access_log_alarm: %llu records (%llu malformed, %llu late), %zu windows, %d alarms\n",
               static_cast<unsigned long long>(stats.source_records),
               static_cast<unsigned long long>(stats.malformed_records),
               static_cast<unsigned long long>(stats.late_records), windows.size(), alarms);
  return 0;
}
