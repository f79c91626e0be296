// Windowed word count on event time (30 s windows sliding by 10 s), over
// generated text and over the text files of the data directory ($WEIR_DATA,
// its text_* folders).
// Lines carry event times (line i at start + i × 1000 / lines_per_second ms).
// weir: source → flat_map (word, time) → watermark → keyed sliding-window
// count. The limit: one thread, panes of 10 s in an open-addressing table
// (xxh3), three panes summed per window. The reference: std::unordered_map
// per pane, summed per window; every variant must match it exactly.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>

#include "harness.hpp"
#include "word_table.hpp"

namespace weir::perf {
namespace {

constexpr std::int64_t window_ms = 30'000, slide_ms = 10'000, start_ms = 1'700'000'000'000;
using counts = std::map<std::pair<std::int64_t, std::string>, std::int64_t>;  // (window start, word)

struct wc_state {
  std::vector<std::string> lines;
  std::uint64_t words = 0, bytes = 0;
  double lines_per_second = 20'000;
  counts reference;
  std::int64_t time_of(std::size_t line) const {
    return start_ms + static_cast<std::int64_t>(static_cast<double>(line) * (1000.0 / lines_per_second));
  }
};

void generate_text(wc_state& st, std::uint64_t lines) {
  // Zipf-ish vocabulary of 5,000 words, 4..12 words per line (as bench_wordcount).
  std::vector<std::string> vocab;
  for (int i = 0; i < 5000; ++i) vocab.push_back("w" + std::to_string(i * 7919 % 100003));
  std::uint64_t x = 42;
  for (std::uint64_t l = 0; l < lines; ++l) {
    std::string line;
    int n = 4 + static_cast<int>(l % 9);
    for (int w = 0; w < n; ++w) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      double u = static_cast<double>(x >> 11) / 9007199254740992.0;
      auto idx = static_cast<std::size_t>(5000.0 * u * u * u);
      if (!line.empty()) line.push_back(' ');
      line += vocab[std::min<std::size_t>(idx, 4999)];
    }
    st.lines.push_back(std::move(line));
  }
}

/// The text files of the data directory's text_* folders (not README/LICENSE), lines
/// replayed until `words` words; tabs and CRs become spaces. False if none.
bool load_files(wc_state& st, const std::string& dir, std::uint64_t words) {
  std::vector<std::string> base;
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  for (auto& d : fs::directory_iterator(dir, ec)) {
    if (!d.is_directory() || d.path().filename().string().rfind("text_", 0) != 0) continue;
    for (auto& f : fs::directory_iterator(d.path(), ec)) {
      auto name = f.path().filename().string();
      if (f.is_regular_file() && name.find("README") == std::string::npos && name.find("LICENSE") == std::string::npos)
        files.push_back(f.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (auto& p : files) {
    std::ifstream in(p);
    std::string line;
    while (std::getline(in, line)) {
      for (auto& c : line)
        if (c == '\t' || c == '\r') c = ' ';
      base.push_back(line);
    }
  }
  std::uint64_t per_pass = 0;
  for (auto& l : base) split_words(l, [&](std::string_view) { ++per_pass; });
  if (per_pass == 0) return false;
  std::uint64_t got = 0;
  while (got < words)
    for (auto& l : base) {
      st.lines.push_back(l);
      split_words(l, [&](std::string_view) { ++got; });
      if (got >= words) break;
    }
  return true;
}

void finish_prepare(wc_state& st) {
  st.words = st.bytes = 0;
  // Reference: word counts per 10 s pane (std::unordered_map), summed into the 3 windows covering each pane.
  std::map<std::int64_t, std::unordered_map<std::string, std::int64_t>> panes;
  for (std::size_t i = 0; i < st.lines.size(); ++i) {
    st.bytes += st.lines[i].size() + 1;
    std::int64_t pane = st.time_of(i) / slide_ms * slide_ms;
    auto& m = panes[pane];
    split_words(st.lines[i], [&](std::string_view w) {
      ++m[std::string(w)];
      ++st.words;
    });
  }
  st.reference.clear();
  for (auto& [pane, m] : panes)
    for (std::int64_t start = pane; start > pane - window_ms; start -= slide_ms)
      for (auto& [w, n] : m) st.reference[{start, w}] += n;
}

std::string compare(const counts& want, const counts& got, const char* who) {
  if (want == got) return {};
  for (auto& [k, n] : want) {
    auto it = got.find(k);
    if (it == got.end() || it->second != n)
      return std::string(who) + ": window " + std::to_string(k.first) + " word '" + k.second + "': expected " +
             std::to_string(n) + ", got " + (it == got.end() ? std::string("none") : std::to_string(it->second));
  }
  return std::string(who) + ": " + std::to_string(got.size()) + " (window, word) counts, expected " +
         std::to_string(want.size());
}

/// Partition p of P: lines i ≡ p (mod P) as (time, line) tuples.
class lines_source final : public io::source_reader {
public:
  lines_source(const wc_state& st, int p, int parts) : st_(st), i_(static_cast<std::size_t>(p)), step_(static_cast<std::size_t>(parts)) {}
  io::read_result read(records& out, std::size_t max) override {
    for (std::size_t k = 0; k < max && i_ < st_.lines.size(); ++k, i_ += step_)
      out.push_back(value::pair(value(st_.time_of(i_)), value(st_.lines[i_])));
    return {i_ >= st_.lines.size() ? io::read_result::status::end : io::read_result::status::more, {}};
  }
  std::string describe() const override { return "text lines"; }

private:
  const wc_state& st_;
  std::size_t i_, step_;
};

run_result run_weir(wc_state& st, int parallelism) {
  context_options o;
  o.parallelism = parallelism;
  streaming_context ctx(o);
  std::vector<dstream> parts;
  for (int p = 0; p < parallelism; ++p) {
    watermark_options wm;
    wm.time = [](const value& v) { return v.as_array()[1]; };
    wm.time_text = "_[1]";
    parts.push_back(ctx.source("lines", [&st, p, parallelism] { return std::make_unique<lines_source>(st, p, parallelism); })
                        .flat_map(
                            [](const value& v, records& out) {
                              auto f = v.as_array();
                              const value& t = f[0];
                              split_words(f[1].as_string(),
                                          [&](std::string_view w) { out.push_back(value::pair(value(w), t)); });
                            },
                            "split")
                        .with_watermark(wm));
  }
  dstream all = parts[0];
  if (parts.size() > 1) all = all.union_with(std::vector<dstream>(parts.begin() + 1, parts.end()));
  event_window_options w;
  w.window = window_spec::sliding(std::chrono::milliseconds(window_ms), std::chrono::milliseconds(slide_ms));
  w.agg = aggregation::count();
  w.keyed = true;
  w.time = [](const value& v) { return v; };
  counts got;
  std::string dup;
  records results;
  all.transform("count_per_word_window", [w] { return make_event_window(w); }, dstream::routing::keyed)
      .for_each_batch([&](std::int64_t, records& r) {  // keep the results; check them after the run
        for (auto& x : r) results.push_back(std::move(x));
      });
  auto stats = ctx.run();
  for (auto& x : results)
    if (!got.emplace(std::pair{x.find("start")->as_int(), std::string(x.find("key")->as_string())},
                     x.find("value")->as_int())
             .second)
      dup = x.to_json();
  run_result r;
  r.seconds = stats.elapsed_s;
  r.records = st.words;
  r.bytes = st.bytes;
  take_latency(r, stats);
  r.error = dup.empty() ? compare(st.reference, got, "weir vs the reference") : "weir emitted a window twice: " + dup;
  return r;
}

/// A pane's words: string_views into the text.
using pane_table = word_table;

run_result run_limit(wc_state& st) {
  using clk = std::chrono::steady_clock;
  auto t0 = clk::now();
  // Count words per 10 s pane; when a pane is complete, sum the window that ends with it (3 panes).
  std::vector<std::pair<std::int64_t, pane_table>> done;
  std::int64_t cur = -1;
  pane_table* t = nullptr;
  std::vector<std::tuple<std::int64_t, std::string_view, std::int64_t>> out;  // (window start, word, count)
  auto emit_window = [&](std::int64_t start) {
    pane_table win;
    for (auto& [pane, tab] : done)
      if (pane >= start && pane < start + window_ms) tab.for_each([&](std::string_view w, std::int64_t n) { win.add(w, n); });
    win.for_each([&](std::string_view w, std::int64_t n) { out.emplace_back(start, w, n); });
  };
  for (std::size_t i = 0; i < st.lines.size(); ++i) {
    std::int64_t pane = st.time_of(i) / slide_ms * slide_ms;
    if (pane != cur) {
      if (t) emit_window(cur + slide_ms - window_ms);  // the window ending with pane cur is complete
      done.emplace_back(pane, pane_table{});
      if (done.size() > 3) done.erase(done.begin());
      t = &done.back().second;
      cur = pane;
    }
    split_words(st.lines[i], [&](std::string_view w) { t->add(w); });
  }
  if (t)
    for (std::int64_t start = cur + slide_ms - window_ms; start <= cur; start += slide_ms) emit_window(start);
  run_result r;
  r.seconds = std::chrono::duration<double>(clk::now() - t0).count();
  r.records = st.words;
  r.bytes = st.bytes;
  counts got;
  for (auto& [start, w, n] : out)
    if (!got.emplace(std::pair{start, std::string(w)}, n).second) r.error = "limit emitted a window twice";
  if (r.error.empty()) r.error = compare(st.reference, got, "limit vs the reference");
  return r;
}

scenario make(const sizes& s, bool files) {
  auto st = std::make_shared<wc_state>();
  scenario sc;
  sc.name = files ? "wordcount-files" : "wordcount";
  sc.unit = "words";
  sc.what = files ? "windowed word count (30 s / 10 s) over the text files of the data directory "
                    "($WEIR_DATA, text_*; replayed)"
                  : "windowed word count (30 s / 10 s) over generated Zipf text";
  auto sz = s;
  sc.prepare = [st, sz, files] {
    if (files) {
      if (!load_files(*st, sz.data_dir, sz.wc_file_words))
        throw pipeline_error("no text_* files under " + sz.data_dir + " (skipped)");
    } else {
      generate_text(*st, sz.wc_lines);
    }
    finish_prepare(*st);
  };
  sc.variants.push_back({"limit", 0, [st] { return run_limit(*st); }});
  for (int p : {1, 2}) sc.variants.push_back({"C++ API p" + std::to_string(p), p, [st, p] { return run_weir(*st, p); }});
  return sc;
}

}  // namespace

std::vector<scenario> wordcount_scenarios(const sizes& s) { return {make(s, false), make(s, true)}; }

}  // namespace weir::perf
