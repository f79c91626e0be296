// weir-perf's DSL scenarios: each runs its `.weir` program through the same
// code path as `weir run` (compile_script → make_context_options →
// build_pipelines on a streaming_context, in-process) beside a hand-written
// single-threaded loop over the same input (docs/architecture.md §8).
//
// - ysb-file: YSB from a JSON-lines file (examples/ysb.weir's pipeline with
//   file(...) for generate(...)); every (campaign, window) count is checked
//   against a direct count from the generator's event function.
// - wordcount-file: windowed word count, processing time
//   (reduce_by_key_and_window(sum, 30s, 10s)), over English text re-flowed to
//   80 columns from the text_* data sets; every word's counts over all
//   windows must add up to 3 × its count in the text (each batch lies in
//   window / slide = 3 windows, the drain at the end included).
// - latency-dsl: record mode, linger 0, generate("access_log") → filter →
//   map → aggregate(update) → sink, at half the maximum throughput measured
//   just before; p50 / p99 at the sink.
//
// The inputs are generated once into the cache directory (--cache DIR,
// default perf-cache/) under names that carry their size, and reused.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include <simdjson.h>
#include <xxhash.h>

#include "harness.hpp"
#include "word_table.hpp"
#include "weir/cli/pipeline_builder.hpp"
#include "weir/io/bench_generators.hpp"

namespace weir::perf {
namespace {

namespace fs = std::filesystem;

/// compile_script + build_pipelines + run, as `weir run` does (without signals and metrics).
run_stats run_script(const std::string& text, int parallelism) {
  dsl::pipeline_spec spec = dsl::compile_script(text, "<weir-perf>");
  dsl::settings over;
  over.parallelism = parallelism;
  streaming_context ctx(dsl::make_context_options(spec.settings, over));
  dsl::build_pipelines(spec, ctx);
  return ctx.run();
}

/// A DSL string literal for `s` (paths).
std::string quoted(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

/// Writes `path` by `fill(out)` unless it exists; via a temporary name, so an
/// interrupted generation is never reused.
template <class F>
void generate_once(const fs::path& path, F&& fill) {
  if (fs::exists(path)) return;
  fs::create_directories(path.parent_path());
  fs::path tmp = path;
  tmp += ".partial." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw pipeline_error("cannot write " + tmp.string());
    fill(out);
    out.flush();
    if (!out) throw pipeline_error("cannot write " + tmp.string() + " (disk full?)");
  }
  fs::rename(tmp, path);
}

/// Reads `path` in chunks, calling line(ptr, len, room) for every line
/// without its '\n'; `room` >= len + SIMDJSON_PADDING bytes are readable
/// from ptr (for simdjson's padded_string_view). Returns the bytes read.
template <class F>
std::uint64_t for_each_line(const std::string& path, F&& line) {
  constexpr std::size_t chunk = 4 << 20;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw pipeline_error("cannot open " + path);
  std::vector<char> buf(2 * chunk + simdjson::SIMDJSON_PADDING);
  std::size_t have = 0;
  std::uint64_t total = 0;
  for (;;) {
    if (buf.size() - simdjson::SIMDJSON_PADDING - have < chunk) buf.resize(have + chunk + simdjson::SIMDJSON_PADDING);
    ssize_t n = ::read(fd, buf.data() + have, chunk);
    if (n < 0) {
      ::close(fd);
      throw pipeline_error("cannot read " + path);
    }
    total += static_cast<std::uint64_t>(n);
    std::size_t end = have + static_cast<std::size_t>(n);
    std::size_t start = 0;
    for (;;) {
      auto* nl = static_cast<char*>(std::memchr(buf.data() + start, '\n', end - start));
      if (!nl) break;
      std::size_t len = static_cast<std::size_t>(nl - (buf.data() + start));
      line(buf.data() + start, len, buf.size() - start);
      start += len + 1;
    }
    if (n == 0) {
      if (start < end) line(buf.data() + start, end - start, buf.size() - start);
      break;
    }
    std::memmove(buf.data(), buf.data() + start, end - start);
    have = end - start;
  }
  ::close(fd);
  return total;
}

/// The write_jsonl output of a run: every {"time": t, "record": r}.
template <class F>
void read_jsonl_output(const std::string& path, F&& each) {
  simdjson::ondemand::parser parser;
  std::size_t lineno = 0;
  for_each_line(path, [&](const char* p, std::size_t len, std::size_t room) {
    ++lineno;
    if (len == 0) return;
    auto doc = parser.iterate(simdjson::padded_string_view(p, len, room));
    std::int64_t t = doc["time"].get_int64();
    each(t, doc["record"], lineno);
  });
}

// ---- ysb-file ----------------------------------------------------------------

using tally_map = std::map<std::pair<int, std::int64_t>, std::uint64_t>;  // (campaign, window start) → views

struct ysb_file_state {
  std::string dir;
  std::uint64_t events = 0;
  io::ysb_options gen;
  std::unique_ptr<io::ysb_model> model;
  std::string file, ads, out;
  std::unordered_map<std::string, int> campaign_index, ad_campaign;
  tally_map reference;
  std::uint64_t bytes = 0;
};

std::int64_t window_of(std::int64_t t) {
  std::int64_t w = io::ysb_model::window_ms;
  return (t / w - ((t % w != 0) && (t < 0))) * w;
}

std::string compare(const tally_map& want, const tally_map& got, const char* who) {
  if (want == got) return {};
  for (auto& [k, n] : want) {
    auto it = got.find(k);
    if (it == got.end() || it->second != n)
      return std::string(who) + ": wrong count for campaign " + std::to_string(k.first) + " window " +
             std::to_string(k.second) + ": expected " + std::to_string(n) + ", got " +
             (it == got.end() ? std::string("none") : std::to_string(it->second));
  }
  return std::string(who) + ": " + std::to_string(got.size()) + " window counts, expected " +
         std::to_string(want.size());
}

void prepare_ysb_file(ysb_file_state& st) {
  st.gen = {};
  st.gen.seed = 42;
  st.gen.count = st.events;
  st.gen.events_per_second = 100'000;  // 10 s windows of 1 M events
  st.model = std::make_unique<io::ysb_model>(st.gen.seed);
  const auto& m = *st.model;
  st.file = st.dir + "/ysb-" + std::to_string(st.events) + ".jsonl";
  st.ads = st.dir + "/ysb-ads-42.jsonl";
  st.out = st.dir + "/ysb-out." + std::to_string(::getpid()) + ".jsonl";
  generate_once(st.file, [&](std::ofstream& out) {
    std::string buf;
    for (std::uint64_t i = 0; i < st.events; ++i) {
      io::ysb_json(m, io::ysb_event_at(st.gen, i), buf);
      buf.push_back('\n');
      if (buf.size() > (1 << 20)) out.write(buf.data(), static_cast<std::streamsize>(buf.size())), buf.clear();
    }
    out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  });
  generate_once(st.ads, [&](std::ofstream& out) {
    for (int a = 0; a < io::ysb_model::ads; ++a)
      out << "[\"" << m.ad_ids[static_cast<std::size_t>(a)] << "\",\""
          << m.campaign_ids[static_cast<std::size_t>(io::ysb_model::campaign_of(a))] << "\"]\n";
  });
  for (int c = 0; c < io::ysb_model::campaigns; ++c) st.campaign_index[m.campaign_ids[static_cast<std::size_t>(c)]] = c;
  for (int a = 0; a < io::ysb_model::ads; ++a)
    st.ad_campaign[m.ad_ids[static_cast<std::size_t>(a)]] = io::ysb_model::campaign_of(a);
  st.reference.clear();
  for (std::uint64_t i = 0; i < st.events; ++i) {
    auto e = io::ysb_event_at(st.gen, i);
    if (e.event_type == 0) ++st.reference[{io::ysb_model::campaign_of(e.ad), window_of(e.time_ms)}];
  }
  st.bytes = fs::file_size(st.file);
}

std::string ysb_script(const ysb_file_state& st) {
  return "file(" + quoted(st.file) + ")\n"
         "  | parse_json(fields = [\".ad_id\", \".event_type\", \".event_time\"], time = int(.event_time), watermark = 0s)\n"
         "  | filter(.event_type == \"view\")\n"
         "  | map((.ad_id, int(.event_time)))\n"
         "  | join(table(" + quoted(st.ads) + "))\n"
         "  | aggregate(tumbling(10s), count, key = _[1][1], time = _[1][0], watermark = 0s)\n"
         "  | write_jsonl(" + quoted(st.out) + ")\n";
}

run_result run_ysb_dsl(ysb_file_state& st, int parallelism) {
  auto stats = run_script(ysb_script(st), parallelism);
  run_result r;
  r.seconds = stats.elapsed_s;
  r.records = stats.source_records;
  r.bytes = st.bytes;
  tally_map got;
  read_jsonl_output(st.out, [&](std::int64_t, simdjson::ondemand::value rec, std::size_t line) {
    std::string_view key = rec["key"].get_string();
    std::int64_t start = rec["start"].get_int64();
    std::int64_t n = rec["value"].get_int64();
    auto it = st.campaign_index.find(std::string(key));
    int c = it == st.campaign_index.end() ? -1 : it->second;
    if (!got.emplace(std::pair{c, start}, static_cast<std::uint64_t>(n)).second && r.error.empty())
      r.error = st.out + ":" + std::to_string(line) + ": window emitted twice";
  });
  fs::remove(st.out);
  if (r.error.empty()) r.error = compare(st.reference, got, "weir (DSL) vs the reference");
  if (r.error.empty() && stats.source_records != st.events)
    r.error = "the file source read " + std::to_string(stats.source_records) + " lines, expected " +
              std::to_string(st.events);
  return r;
}

/// One thread: read the file in 4 MB chunks, simdjson On-Demand on each line
/// in place, filter, join (xxh3 open addressing), count per window in a flat array.
run_result run_ysb_limit(ysb_file_state& st) {
  using clk = std::chrono::steady_clock;
  // ad uuid → campaign, open addressing over string_views into the model
  std::vector<std::pair<std::string_view, int>> slots(4096);
  std::vector<std::uint64_t> hashes(4096);
  const std::size_t mask = slots.size() - 1;
  for (int a = 0; a < io::ysb_model::ads; ++a) {
    std::string_view k = st.model->ad_ids[static_cast<std::size_t>(a)];
    std::uint64_t h = XXH3_64bits(k.data(), k.size());
    std::size_t i = h & mask;
    while (!slots[i].first.empty()) i = (i + 1) & mask;
    slots[i] = {k, io::ysb_model::campaign_of(a)};
    hashes[i] = h;
  }
  auto campaign = [&](std::string_view k) {
    std::uint64_t h = XXH3_64bits(k.data(), k.size());
    for (std::size_t i = h & mask; !slots[i].first.empty(); i = (i + 1) & mask)
      if (hashes[i] == h && slots[i].first == k) return slots[i].second;
    return -1;
  };
  const std::int64_t base = window_of(st.gen.start_time_ms) / io::ysb_model::window_ms - 1;
  std::vector<std::array<std::uint64_t, io::ysb_model::campaigns>> counts;
  simdjson::ondemand::parser parser;
  std::uint64_t lines = 0;
  std::string error;
  auto t0 = clk::now();
  std::uint64_t bytes = for_each_line(st.file, [&](const char* p, std::size_t len, std::size_t room) {
    ++lines;
    auto doc = parser.iterate(simdjson::padded_string_view(p, len, room));
    std::string_view ad = doc["ad_id"].get_string();
    std::string_view type = doc["event_type"].get_string();
    if (type != "view") return;
    std::string_view ts = doc["event_time"].get_string();
    std::int64_t t = 0;
    std::from_chars(ts.data(), ts.data() + ts.size(), t);
    int c = campaign(ad);
    if (c < 0) {
      error = "limit: unknown ad " + std::string(ad);
      return;
    }
    auto w = static_cast<std::size_t>(t / io::ysb_model::window_ms - base);
    if (w >= counts.size()) counts.resize(w + 1);
    ++counts[w][static_cast<std::size_t>(c)];
  });
  run_result r;
  r.seconds = std::chrono::duration<double>(clk::now() - t0).count();
  r.records = lines;
  r.bytes = bytes;
  tally_map got;
  for (std::size_t w = 0; w < counts.size(); ++w)
    for (int c = 0; c < io::ysb_model::campaigns; ++c)
      if (counts[w][static_cast<std::size_t>(c)])
        got[{c, (base + static_cast<std::int64_t>(w)) * io::ysb_model::window_ms}] = counts[w][static_cast<std::size_t>(c)];
  r.error = error.empty() ? compare(st.reference, got, "limit vs the reference") : error;
  return r;
}

// ---- wordcount-file --------------------------------------------------------------

struct wc_file_state {
  std::string dir, data_dir, file, out;
  std::uint64_t target_bytes = 0, words = 0, bytes = 0;
  std::unordered_map<std::string, std::int64_t> reference;
};

/// English text re-flowed to lines of at most 80 columns from the text_*
/// data sets (their README and LICENSE files left out), repeated until
/// `target` bytes. Words are the text's runs of non-blank bytes.
void generate_text80(std::ofstream& out, const std::string& data_dir, std::uint64_t target) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto& d : fs::directory_iterator(data_dir, ec)) {
    if (!d.is_directory() || d.path().filename().string().rfind("text_", 0) != 0) continue;
    for (auto& f : fs::directory_iterator(d.path(), ec)) {
      auto name = f.path().filename().string();
      if (f.is_regular_file() && name.find("README") == std::string::npos && name.find("LICENSE") == std::string::npos)
        files.push_back(f.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> words;
  for (auto& p : files) {
    std::ifstream in(p);
    for (std::string w; in >> w;) words.push_back(std::move(w));
  }
  if (words.empty()) throw pipeline_error("no text_* files under " + data_dir + " (skipped)");
  std::string line, buf;
  std::uint64_t written = 0;
  for (std::size_t i = 0; written < target; i = (i + 1) % words.size()) {
    const std::string& w = words[i];
    if (!line.empty() && line.size() + 1 + w.size() > 80) {
      buf += line;
      buf += '\n';
      written += line.size() + 1;
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += w;
    if (buf.size() > (1 << 20)) out.write(buf.data(), static_cast<std::streamsize>(buf.size())), buf.clear();
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
}

void prepare_wc_file(wc_file_state& st) {
  st.file = st.dir + "/text80-" + std::to_string(st.target_bytes) + ".txt";
  st.out = st.dir + "/wordcount-out." + std::to_string(::getpid()) + ".jsonl";
  generate_once(st.file, [&](std::ofstream& out) { generate_text80(out, st.data_dir, st.target_bytes); });
  st.reference.clear();
  st.words = 0;
  st.bytes = for_each_line(st.file, [&](const char* p, std::size_t len, std::size_t) {
    split_words(std::string_view(p, len), [&](std::string_view w) {
      ++st.reference[std::string(w)];
      ++st.words;
    });
  });
}

std::string wc_script(const wc_file_state& st) {
  return "file(" + quoted(st.file) + ")\n"
         "  | flat_map(split(_, \" \"))\n"
         "  | filter(_ != \"\")\n"
         "  | map((_, 1))\n"
         "  | reduce_by_key_and_window(sum, 30s, 10s)\n"
         "  | write_jsonl(" + quoted(st.out) + ")\n";
}

run_result run_wc_dsl(wc_file_state& st, int parallelism) {
  auto stats = run_script(wc_script(st), parallelism);
  run_result r;
  r.seconds = stats.elapsed_s;
  r.records = st.words;
  r.bytes = st.bytes;
  std::unordered_map<std::string, std::int64_t> sums;
  std::map<std::pair<std::int64_t, std::string>, int> seen;
  read_jsonl_output(st.out, [&](std::int64_t t, simdjson::ondemand::value rec, std::size_t line) {
    auto a = rec.get_array();
    auto it = a.begin();
    std::string w(std::string_view((*it).get_string()));
    ++it;
    std::int64_t n = (*it).get_int64();
    sums[w] += n;
    if (++seen[{t, w}] > 1 && r.error.empty())
      r.error = st.out + ":" + std::to_string(line) + ": word '" + w + "' emitted twice for window " + std::to_string(t);
  });
  fs::remove(st.out);
  if (r.error.empty())
    for (auto& [w, n] : st.reference) {
      auto it = sums.find(w);
      std::int64_t got = it == sums.end() ? 0 : it->second;
      if (got != 3 * n) {
        r.error = "weir (DSL): word '" + w + "' counted " + std::to_string(got) + " times over all windows, expected 3 x " +
                  std::to_string(n);
        break;
      }
    }
  if (r.error.empty() && sums.size() != st.reference.size())
    r.error = "weir (DSL): " + std::to_string(sums.size()) + " distinct words, expected " +
              std::to_string(st.reference.size());
  return r;
}

/// One thread: read the file in 4 MB chunks, split on spaces, count in an
/// xxh3 open-addressing table (keys copied into an arena: the chunk is reused).
run_result run_wc_limit(wc_file_state& st) {
  using clk = std::chrono::steady_clock;
  word_table counts(1 << 16);
  std::vector<std::unique_ptr<char[]>> arena;
  std::size_t arena_left = 0;
  char* arena_at = nullptr;
  auto t0 = clk::now();
  std::uint64_t words = 0;
  std::uint64_t bytes = for_each_line(st.file, [&](const char* p, std::size_t len, std::size_t) {
    split_words(std::string_view(p, len), [&](std::string_view w) {
      ++words;
      counts.add(w, 1, [&](std::string_view k) {
        if (arena_left < k.size()) {
          arena.emplace_back(new char[1 << 20]);
          arena_at = arena.back().get();
          arena_left = 1 << 20;
        }
        std::memcpy(arena_at, k.data(), k.size());
        std::string_view kept(arena_at, k.size());
        arena_at += k.size();
        arena_left -= k.size();
        return kept;
      });
    });
  });
  run_result r;
  r.seconds = std::chrono::duration<double>(clk::now() - t0).count();
  r.records = words;
  r.bytes = bytes;
  std::size_t distinct = 0;
  counts.for_each([&](std::string_view w, std::int64_t n) {
    ++distinct;
    auto it = st.reference.find(std::string(w));
    if (r.error.empty() && (it == st.reference.end() || it->second != n))
      r.error = "limit: word '" + std::string(w) + "' counted " + std::to_string(n) + ", expected " +
                (it == st.reference.end() ? std::string("none") : std::to_string(it->second));
  });
  if (r.error.empty() && distinct != st.reference.size())
    r.error = "limit: " + std::to_string(distinct) + " distinct words, expected " + std::to_string(st.reference.size());
  return r;
}

// ---- latency-dsl -------------------------------------------------------------------

std::string latency_script(double rate, std::uint64_t count, double seconds) {
  std::string src = "generate(\"access_log\", seed = 42";
  if (rate > 0) src += ", rate = " + std::to_string(static_cast<std::uint64_t>(rate));
  if (count > 0) src += ", count = " + std::to_string(count);
  if (seconds > 0) src += ", duration = " + std::to_string(static_cast<std::uint64_t>(seconds * 1000)) + "ms";
  src += ")";
  return "set mode = \"record\"\n"
         "set linger = 0ms\n" +
         src +
         "\n"
         "  | filter(.status != 404)\n"
         "  | map({path: .path, time: .time})\n"
         "  | aggregate(tumbling(1s), count, key = .path, time = .time, watermark = 1s, output = \"update\")\n"
         "  | write_jsonl(\"/dev/null\")\n";
}

run_result run_latency_dsl(int parallelism, double seconds) {
  auto max = run_script(latency_script(0, 1'000'000, 0), parallelism);
  double half = static_cast<double>(max.source_records) / max.elapsed_s / 2;
  auto st = run_script(latency_script(half, 0, seconds), parallelism);
  run_result r;
  r.seconds = st.elapsed_s;
  r.records = st.source_records;
  take_latency(r, st);
  if (st.latency_samples == 0) r.error = "no latency samples at the sink";
  if (st.sink_records == 0) r.error = "the sink saw no records";
  return r;
}

}  // namespace

std::vector<scenario> dsl_scenarios(const sizes& s) {
  std::vector<scenario> out;
  {
    auto st = std::make_shared<ysb_file_state>();
    st->dir = s.cache_dir;
    st->events = s.ysb_file_events;
    scenario sc;
    sc.name = "ysb-file";
    sc.unit = "events";
    sc.what = "YSB from a JSON-lines file through the DSL (examples/ysb.weir with file(...)): parse_json, filter views, "
              "join ad->campaign, count per campaign per 10 s event-time window";
    sc.prepare = [st] { prepare_ysb_file(*st); };
    sc.variants.push_back({"limit", 0, [st] { return run_ysb_limit(*st); }});
    for (int p : {1, 2}) sc.variants.push_back({"weir p" + std::to_string(p), p, [st, p] { return run_ysb_dsl(*st, p); }});
    out.push_back(std::move(sc));
  }
  {
    auto st = std::make_shared<wc_file_state>();
    st->dir = s.cache_dir;
    st->data_dir = s.data_dir;
    st->target_bytes = s.text_file_bytes;
    scenario sc;
    sc.name = "wordcount-file";
    sc.unit = "words";
    sc.what = "windowed word count through the DSL: file | flat_map(split(_, \" \")) | filter(_ != \"\") | map((_, 1)) | "
              "reduce_by_key_and_window(sum, 30s, 10s) | write_jsonl, 80-column English text";
    sc.prepare = [st] { prepare_wc_file(*st); };
    sc.variants.push_back({"limit", 0, [st] { return run_wc_limit(*st); }});
    for (int p : {1, 2}) sc.variants.push_back({"weir p" + std::to_string(p), p, [st, p] { return run_wc_dsl(*st, p); }});
    out.push_back(std::move(sc));
  }
  {
    scenario sc;
    sc.name = "latency-dsl";
    sc.unit = "events";
    sc.what = "record mode through the DSL, linger 0, at half of the maximum throughput: generate(\"access_log\") -> "
              "filter -> map -> aggregate(update) -> write_jsonl";
    double secs = s.latency_seconds;
    sc.prepare = [] {};
    for (int p : {1, 2})
      sc.variants.push_back({"weir p" + std::to_string(p), p, [p, secs] { return run_latency_dsl(p, secs); }});
    out.push_back(std::move(sc));
  }
  return out;
}

}  // namespace weir::perf
