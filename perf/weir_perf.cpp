// weir-perf: the performance harness (docs/architecture.md §8).
//
// Runs named scenarios — YSB from a JSON-lines file, windowed word count
// over a text file and record-mode latency through the DSL (perf/dsl.cpp, the
// headline "weir pN" variants: the program `weir run` would run), and YSB
// from JSON and binary records, NEXMark queries, windowed word count and
// record-mode latency as pipelines built with the C++ API ("C++ API pN") —
// each beside the hand-written single-threaded limit ("limit"), at
// parallelism 1 and 2. Every (scenario, variant) runs in its own child process (fork), so
// that its peak resident memory and CPU time are its own (wait4's rusage);
// inside, the inputs and reference results are prepared untimed, then one
// warm-up run and R measured runs. Every run's output is checked against a
// reference; a wrong count fails the run and the harness exits non-zero.
//
//   build/perf/weir-perf [--quick] [--runs R] [--warmup W] [--only NAME,...]
//                        [--variant NAME] [--out DIR] [--data DIR] [--cache DIR]
//                        [--ysb-events N] [--text-mb N]
//
// Writes DIR/results.json, DIR/throughput.dat and DIR/latency.dat (for
// perf/plot), and prints a table.
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"
#include "weir/common/errno_text.hpp"

#ifdef WEIR_USE_MIMALLOC
#include <mimalloc-new-delete.h>
#endif

namespace weir::perf {

void take_latency(run_result& r, const run_stats& st) {
  if (st.latency_samples == 0) return;
  r.has_latency = true;
  r.p50_us = st.latency_p50_us;
  r.p99_us = st.latency_p99_us;
  r.p999_us = st.latency_p999_us;
}

namespace {

struct measured_run {
  run_result r;
  double cpu_s = 0;
  double rate() const { return r.seconds > 0 ? static_cast<double>(r.records) / r.seconds : 0; }
};

struct variant_result {
  std::string name;
  int parallelism = 0;
  std::vector<measured_run> runs;
  std::string error, skipped;
  double peak_rss_mb = 0;
  double median_rate = 0, min_rate = 0, max_rate = 0, median_mb_s = 0, cpu_s = 0;
  bool has_latency = false;
  double p50 = 0, p99 = 0, p999 = 0;
};

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string one_line(std::string s) {
  for (auto& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

/// In the child: prepare, warm up, run; one line per event on `fd`.
[[noreturn]] void child(const scenario& sc, const variant& v, int runs, int warmup, int fd) {
  FILE* out = fdopen(fd, "w");
  try {
    sc.prepare();
  } catch (const std::exception& e) {
    std::fprintf(out, "skip %s\n", one_line(e.what()).c_str());
    std::fclose(out);
    _exit(0);
  }
  for (int i = 0; i < warmup + runs; ++i) {
    double c0 = cpu_seconds();
    run_result r;
    try {
      r = v.run();
    } catch (const std::exception& e) {
      r.error = e.what();
    }
    double cpu = cpu_seconds() - c0;
    if (!r.error.empty()) {
      std::fprintf(out, "error %s\n", one_line(r.error).c_str());
      std::fclose(out);
      _exit(1);
    }
    if (i >= warmup)
      std::fprintf(out, "run %.9f %llu %llu %d %.3f %.3f %.3f %.6f\n", r.seconds,
                   static_cast<unsigned long long>(r.records), static_cast<unsigned long long>(r.bytes),
                   r.has_latency ? 1 : 0, r.p50_us, r.p99_us, r.p999_us, cpu);
    std::fflush(out);
  }
  std::fclose(out);
  _exit(0);
}

variant_result run_variant(const scenario& sc, const variant& v, int runs, int warmup) {
  variant_result vr;
  vr.name = v.name;
  vr.parallelism = v.parallelism;
  int fds[2];
  if (pipe(fds) != 0) {
    vr.error = std::string("pipe: ") + weir::errno_text(errno);
    return vr;
  }
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    vr.error = std::string("fork: ") + weir::errno_text(errno);
    return vr;
  }
  if (pid == 0) {
    close(fds[0]);
    child(sc, v, runs, warmup, fds[1]);
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  vr.peak_rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string tag;
    ls >> tag;
    if (tag == "run") {
      measured_run m;
      int lat = 0;
      ls >> m.r.seconds >> m.r.records >> m.r.bytes >> lat >> m.r.p50_us >> m.r.p99_us >> m.r.p999_us >> m.cpu_s;
      m.r.has_latency = lat != 0;
      vr.runs.push_back(m);
    } else if (tag == "error") {
      vr.error = line.substr(6);
    } else if (tag == "skip") {
      vr.skipped = line.substr(5);
    }
  }
  if (vr.error.empty() && vr.skipped.empty()) {
    if (WIFSIGNALED(status))
      vr.error = "the run died of signal " + std::to_string(WTERMSIG(status));
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      vr.error = "the run exited with status " + std::to_string(WEXITSTATUS(status));
    else if (static_cast<int>(vr.runs.size()) != runs)
      vr.error = "expected " + std::to_string(runs) + " runs, got " + std::to_string(vr.runs.size());
  }
  if (!vr.runs.empty()) {
    auto sorted = vr.runs;
    std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.rate() < b.rate(); });
    const auto& med = sorted[sorted.size() / 2];
    vr.median_rate = med.rate();
    vr.min_rate = sorted.front().rate();
    vr.max_rate = sorted.back().rate();
    vr.median_mb_s = med.r.seconds > 0 ? static_cast<double>(med.r.bytes) / med.r.seconds / 1e6 : 0;
    double cpu = 0;
    for (auto& m : vr.runs) cpu += m.cpu_s;
    vr.cpu_s = cpu / static_cast<double>(vr.runs.size());
    vr.has_latency = med.r.has_latency;
    vr.p50 = med.r.p50_us;
    vr.p99 = med.r.p99_us;
    vr.p999 = med.r.p999_us;
  }
  return vr;
}

struct scenario_result {
  const scenario* sc;
  std::vector<variant_result> variants;
};

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      o += ' ';
      continue;
    }
    o += c;
  }
  return o + "\"";
}

const variant_result* find(const scenario_result& s, const std::string& name) {
  for (auto& v : s.variants)
    if (v.name == name && v.error.empty() && v.skipped.empty()) return &v;
  return nullptr;
}

std::string fmt(const char* f, double x) {
  char b[64];
  std::snprintf(b, sizeof b, f, x);
  return b;
}

}  // namespace
}  // namespace weir::perf

int main(int argc, char** argv) {
  using namespace weir::perf;
  sizes sz;
  int runs = 3, warmup = 1;
  bool runs_set = false, warmup_set = false, ysb_set = false, text_set = false;
  std::string only, only_variant, out_dir = "perf-results";
  const char* env_data = std::getenv("WEIR_DATA");
  // The data directory: $WEIR_DATA, else its documented default (as tests/support/test_data.hpp),
  // from here or from the source tree.
  sz.data_dir = env_data ? env_data : "../shared/data";
  if (!env_data && !std::filesystem::exists(sz.data_dir)) sz.data_dir = WEIR_SOURCE_DIR "/../shared/data";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "weir-perf: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--quick") sz.quick = true;
    else if (a == "--runs") runs = std::atoi(next().c_str()), runs_set = true;
    else if (a == "--warmup") warmup = std::atoi(next().c_str()), warmup_set = true;
    else if (a == "--only") only = next();
    else if (a == "--variant") only_variant = next();
    else if (a == "--out") out_dir = next();
    else if (a == "--data") sz.data_dir = next();
    else if (a == "--cache") sz.cache_dir = next();
    else if (a == "--ysb-events") sz.ysb_file_events = std::strtoull(next().c_str(), nullptr, 10), ysb_set = true;
    else if (a == "--text-mb") sz.text_file_bytes = std::strtoull(next().c_str(), nullptr, 10) * 1'000'000, text_set = true;
    else {
      std::fprintf(stderr,
                   "usage: weir-perf [--quick] [--runs R] [--warmup W] [--only NAME,...]\n"
                   "                 [--variant limit|\"weir p1\"|\"weir p2\"|\"C++ API p1\"|\"C++ API p2\"]\n"
                   "                 [--out DIR] [--data DIR] [--cache DIR] [--ysb-events N] [--text-mb N]\n"
                   "scenarios (DSL): ysb-file wordcount-file latency-dsl\n"
                   "scenarios (C++ API): ysb-json ysb-binary wordcount wordcount-files nexmark-q0 q1 q2 q3 q5 q7 q8 latency-record\n");
      return 2;
    }
  }
  if (sz.quick) {
    sz.ysb_json /= 20, sz.ysb_binary /= 20, sz.wc_lines /= 20, sz.wc_file_words /= 20, sz.nexmark /= 20;
    if (!ysb_set) sz.ysb_file_events /= 20;
    if (!text_set) sz.text_file_bytes /= 20;
    sz.latency_seconds = 1;
    if (!runs_set) runs = 1;
    if (!warmup_set) warmup = 0;
  }
  if (sz.ysb_file_events == 0 || sz.text_file_bytes == 0) {
    std::fprintf(stderr, "weir-perf: --ysb-events and --text-mb must be >= 1\n");
    return 2;
  }
  if (runs < 1 || warmup < 0) {
    std::fprintf(stderr, "weir-perf: --runs must be >= 1 and --warmup >= 0\n");
    return 2;
  }
  std::vector<scenario> all;
  for (auto* make : {dsl_scenarios, ysb_scenarios, wordcount_scenarios, nexmark_scenarios, latency_scenarios})
    for (auto& s : make(sz)) all.push_back(std::move(s));
  std::vector<std::string> wanted;
  {
    std::stringstream ss(only);
    for (std::string w; std::getline(ss, w, ',');)
      if (!w.empty()) wanted.push_back(w);
  }
  auto selected = [&](const std::string& name) {
    if (wanted.empty()) return true;
    for (auto& w : wanted)
      if (name == w || name == "nexmark-" + w || name.rfind(w, 0) == 0) return true;
    return false;
  };

  std::printf("weir-perf: %d run(s) after %d warm-up(s) per variant%s; each variant in its own process\n", runs,
              warmup, sz.quick ? " (quick: 1/20 of the sizes)" : "");
  std::vector<scenario_result> results;
  bool failed = false;
  auto t_start = std::chrono::steady_clock::now();
  for (auto& sc : all) {
    if (!selected(sc.name)) continue;
    scenario_result sr{&sc, {}};
    std::printf("\n%s — %s\n", sc.name.c_str(), sc.what.c_str());
    std::fflush(stdout);
    for (auto& v : sc.variants) {
      if (!only_variant.empty() && v.name != only_variant) continue;
      auto vr = run_variant(sc, v, runs, warmup);
      if (!vr.skipped.empty()) {
        std::printf("  %-10s skipped: %s\n", vr.name.c_str(), vr.skipped.c_str());
      } else if (!vr.error.empty()) {
        failed = true;
        std::printf("  %-10s FAILED: %s\n", vr.name.c_str(), vr.error.c_str());
      } else {
        std::printf("  %-10s %8.2f M %s/s (%.2f..%.2f)  %7.1f MB/s  rss %6.1f MB  cpu %6.2f s", vr.name.c_str(),
                    vr.median_rate / 1e6, sc.unit.c_str(), vr.min_rate / 1e6, vr.max_rate / 1e6, vr.median_mb_s,
                    vr.peak_rss_mb, vr.cpu_s);
        if (vr.has_latency) std::printf("  latency p50 %.0f p99 %.0f p99.9 %.0f us", vr.p50, vr.p99, vr.p999);
        std::printf("\n");
      }
      std::fflush(stdout);
      sr.variants.push_back(std::move(vr));
    }
    results.push_back(std::move(sr));
  }
  double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();

  // ---- the table
  std::printf("\n| scenario | variant | M %s/s median (min..max) | MB/s | weir / limit | p2 / p1 | latency p50 / p99 / p99.9 (µs) | peak RSS MB | CPU s |\n",
              "rec");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  for (auto& sr : results) {
    const auto* limit = find(sr, "limit");
    for (auto& v : sr.variants) {
      if (!v.skipped.empty()) {
        std::printf("| %s | %s | skipped: %s | | | | | | |\n", sr.sc->name.c_str(), v.name.c_str(), v.skipped.c_str());
        continue;
      }
      if (!v.error.empty()) {
        std::printf("| %s | %s | FAILED | | | | | | |\n", sr.sc->name.c_str(), v.name.c_str());
        continue;
      }
      std::string of_limit = limit && v.parallelism > 0 ? fmt("%.0f %%", 100 * v.median_rate / limit->median_rate) : "";
      // p2 / p1 within a family ("weir", "C++ API")
      const auto* p1 = v.parallelism == 2 ? find(sr, v.name.substr(0, v.name.size() - 1) + "1") : nullptr;
      std::string speedup = p1 ? fmt("%.2fx", v.median_rate / p1->median_rate) : "";
      std::string lat = v.has_latency ? fmt("%.0f", v.p50) + " / " + fmt("%.0f", v.p99) + " / " + fmt("%.0f", v.p999) : "";
      std::printf("| %s | %s | %.2f (%.2f..%.2f) %s | %s | %s | %s | %s | %.0f | %.2f |\n", sr.sc->name.c_str(),
                  v.name.c_str(), v.median_rate / 1e6, v.min_rate / 1e6, v.max_rate / 1e6, sr.sc->unit.c_str(),
                  v.median_mb_s > 0 ? fmt("%.0f", v.median_mb_s).c_str() : "", of_limit.c_str(), speedup.c_str(),
                  lat.c_str(), v.peak_rss_mb, v.cpu_s);
    }
  }
  std::printf("\ntotal %.0f s; %s\n", total_s, failed ? "SOME RUNS FAILED (wrong output or crash)" : "every output checked");

  // ---- files
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  {
    std::ofstream js(out_dir + "/results.json");
    js << "{\"quick\": " << (sz.quick ? "true" : "false") << ", \"runs\": " << runs << ", \"warmup\": " << warmup
       << ", \"cores\": " << weir::default_cores() << ", \"total_s\": " << total_s
       << ", \"ok\": " << (failed ? "false" : "true") << ", \"scenarios\": [";
    bool first_s = true;
    for (auto& sr : results) {
      js << (first_s ? "" : ",") << "\n {\"name\": " << json_str(sr.sc->name) << ", \"unit\": " << json_str(sr.sc->unit)
         << ", \"what\": " << json_str(sr.sc->what) << ", \"variants\": [";
      first_s = false;
      bool first_v = true;
      for (auto& v : sr.variants) {
        js << (first_v ? "" : ",") << "\n  {\"name\": " << json_str(v.name) << ", \"parallelism\": " << v.parallelism;
        first_v = false;
        if (!v.skipped.empty()) {
          js << ", \"skipped\": " << json_str(v.skipped) << "}";
          continue;
        }
        if (!v.error.empty()) js << ", \"error\": " << json_str(v.error);
        js << ", \"median_per_s\": " << v.median_rate << ", \"min_per_s\": " << v.min_rate
           << ", \"max_per_s\": " << v.max_rate << ", \"median_mb_s\": " << v.median_mb_s
           << ", \"peak_rss_mb\": " << v.peak_rss_mb << ", \"cpu_s_per_run\": " << v.cpu_s;
        if (v.has_latency)
          js << ", \"latency_us\": {\"p50\": " << v.p50 << ", \"p99\": " << v.p99 << ", \"p999\": " << v.p999 << "}";
        js << ", \"runs\": [";
        for (std::size_t i = 0; i < v.runs.size(); ++i)
          js << (i ? ", " : "") << "{\"seconds\": " << v.runs[i].r.seconds << ", \"records\": " << v.runs[i].r.records
             << ", \"bytes\": " << v.runs[i].r.bytes << ", \"cpu_s\": " << v.runs[i].cpu_s << "}";
        js << "]}";
      }
      js << "]}";
    }
    js << "\n]}\n";
    std::ofstream tp(out_dir + "/throughput.dat"), lt(out_dir + "/latency.dat");
    tp << "# scenario limit weir_p1 weir_p2 (M records/s, median; 0 = not run; the DSL's, else the C++ API's)\n";
    lt << "# label p50_us p99_us p999_us\n";
    for (auto& sr : results) {
      auto rate = [&](const char* n) {
        auto* v = find(sr, n);
        if (!v && std::string(n).rfind("weir ", 0) == 0) v = find(sr, "C++ API " + std::string(n).substr(5));
        return v ? v->median_rate / 1e6 : 0.0;
      };
      tp << sr.sc->name << " " << rate("limit") << " " << rate("weir p1") << " " << rate("weir p2") << "\n";
      for (auto& v : sr.variants)
        if (v.has_latency && v.error.empty())
          lt << sr.sc->name << ":" << (v.name.size() > 2 && v.name[v.name.size() - 2] == 'p' ? v.name.substr(v.name.size() - 2) : v.name) << " "
             << std::max(v.p50, 0.5) << " " << std::max(v.p99, 0.5) << " " << std::max(v.p999, 0.5) << "\n";
    }
  }
  std::printf("results: %s/results.json (plot: perf/plot %s)\n", out_dir.c_str(), out_dir.c_str());
  return failed ? 1 : 0;
}
