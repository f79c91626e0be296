// The Yahoo Streaming Benchmark (yahoo/streaming-benchmarks): filter views →
// join ad → campaign → count per campaign per 10 s tumbling event-time
// window. From JSON text (weir's parse_json) and from binary records. Every
// window count is checked against the generator's own tally and against a
// straightforward reference tally; the hand-written limit is checked too.
#include <charconv>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include <simdjson.h>
#include <xxhash.h>

#include "harness.hpp"
#include "weir/io/bench_generators.hpp"

namespace weir::perf {
namespace {

using namespace std::chrono_literals;
using tally_map = std::map<std::pair<int, std::int64_t>, std::uint64_t>;

/// Open addressing (linear probing, xxh3) from a string to a small int: the
/// ad → campaign table of the limit and of weir's join.
class string_index {
public:
  void insert(std::string_view k, int v) {
    if ((n_ + 1) * 2 > slots_.size()) grow();
    put(k, v);
  }
  int find(std::string_view k) const noexcept {
    if (slots_.empty()) return -1;
    const std::uint64_t h = XXH3_64bits(k.data(), k.size());
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const slot& s = slots_[i];
      if (s.v < 0) return -1;
      if (s.h == h && s.k == k) return s.v;
    }
  }

private:
  struct slot {
    std::uint64_t h = 0;
    std::string_view k;
    int v = -1;
  };
  void put(std::string_view k, int v) {
    const std::uint64_t h = XXH3_64bits(k.data(), k.size());
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].v < 0) {
        slots_[i] = {h, k, v};
        ++n_;
        return;
      }
      if (slots_[i].h == h && slots_[i].k == k) {
        slots_[i].v = v;
        return;
      }
    }
  }
  void grow() {
    auto old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, slot{});
    mask_ = slots_.size() - 1;
    n_ = 0;
    for (auto& s : old)
      if (s.v >= 0) put(s.k, s.v);
  }
  std::vector<slot> slots_;
  std::size_t mask_ = 0, n_ = 0;
};

struct ysb_state {
  io::ysb_options gen;
  std::unique_ptr<io::ysb_model> model;
  string_index ad_to_campaign;           // ad uuid → campaign index
  std::vector<value> campaign_values;    // campaign index → its uuid as a value
  std::unordered_map<std::string, int> campaign_index;
  tally_map reference;                   // views per (campaign, window start), straightforward
  std::uint64_t reference_bytes = 0;
};

std::int64_t window_of(std::int64_t t) {
  std::int64_t w = io::ysb_model::window_ms;
  return (t / w - ((t % w != 0) && (t < 0))) * w;
}

std::string compare(const tally_map& want, const tally_map& got, const char* who) {
  if (want == got) return {};
  std::uint64_t sw = 0, sg = 0;
  for (auto& [k, n] : want) sw += n;
  for (auto& [k, n] : got) sg += n;
  for (auto& [k, n] : want) {
    auto it = got.find(k);
    if (it == got.end() || it->second != n)
      return std::string(who) + ": wrong count for campaign " + std::to_string(k.first) + " window " +
             std::to_string(k.second) + ": expected " + std::to_string(n) + ", got " +
             (it == got.end() ? std::string("none") : std::to_string(it->second)) + " (totals " +
             std::to_string(sw) + " vs " + std::to_string(sg) + ")";
  }
  return std::string(who) + ": " + std::to_string(got.size()) + " window counts, expected " +
         std::to_string(want.size()) + " (totals " + std::to_string(sw) + " vs " + std::to_string(sg) + ")";
}

void prepare(ysb_state& st, std::uint64_t count, bool binary) {
  st.gen = {};
  st.gen.count = count;
  st.gen.binary = binary;
  st.gen.events_per_second = 100'000;  // event time: 10 s windows of 1 M events
  st.model = std::make_unique<io::ysb_model>(st.gen.seed);
  for (int a = 0; a < io::ysb_model::ads; ++a)
    st.ad_to_campaign.insert(st.model->ad_ids[static_cast<std::size_t>(a)], io::ysb_model::campaign_of(a));
  for (int c = 0; c < io::ysb_model::campaigns; ++c) {
    st.campaign_values.emplace_back(st.model->campaign_ids[static_cast<std::size_t>(c)]);
    st.campaign_index[st.model->campaign_ids[static_cast<std::size_t>(c)]] = c;
  }
  // The reference: straightforward, from the event function (not the source).
  st.reference.clear();
  for (std::uint64_t i = 0; i < count; ++i) {
    auto e = io::ysb_event_at(st.gen, i);
    if (io::ysb_model::event_types[e.event_type] == "view")
      ++st.reference[{e.ad / io::ysb_model::ads_per_campaign, window_of(e.time_ms)}];
  }
}

/// weir: P generator partitions, each with its chain (parse → filter → join →
/// watermark), unioned into the keyed window count.
run_result run_weir(ysb_state& st, int parallelism) {
  context_options o;
  o.parallelism = parallelism;
  streaming_context ctx(o);
  std::vector<std::shared_ptr<io::ysb_tally>> tallies;
  std::vector<dstream> parts;
  for (int p = 0; p < parallelism; ++p) {
    auto g = st.gen;
    g.partition = p;
    g.partitions = parallelism;
    auto t = std::make_shared<io::ysb_tally>();
    tallies.push_back(t);
    dstream s = ctx.ysb(g, t);
    watermark_options wm;
    wm.time = [](const value& v) { return v.as_array()[1]; };
    wm.time_text = "_[1]";
    if (!g.binary) {
      io::json_options jo;
      for (auto f : {".ad_id", ".event_type", ".event_time"}) jo.fields.push_back(io::json_path::parse(f));
      s = s.parse_json(jo)
              .filter([](const value& v) { return v.as_object()[1].val.as_string() == "view"; }, "filter_views")
              .map(
                  [&st](const value& v) {
                    auto f = v.as_object();
                    int c = st.ad_to_campaign.find(f[0].val.as_string());
                    if (c < 0) throw record_error("unknown ad_id " + std::string(f[0].val.as_string()));
                    auto ts = f[2].val.as_string();
                    std::int64_t t = 0;
                    auto r = std::from_chars(ts.data(), ts.data() + ts.size(), t);
                    if (r.ec != std::errc() || r.ptr != ts.data() + ts.size())
                      throw record_error("event_time is not a number: " + std::string(ts));
                    return value::pair(st.campaign_values[static_cast<std::size_t>(c)], value(t));
                  },
                  "join_campaign");
    } else {
      s = s.filter([](const value& v) { return v.as_array()[4].as_int() == 0; }, "filter_views")
              .map(
                  [&st](const value& v) {
                    auto f = v.as_array();
                    auto c = static_cast<std::size_t>(io::ysb_model::campaign_of(static_cast<int>(f[2].as_int())));
                    return value::pair(st.campaign_values[c], f[5]);
                  },
                  "join_campaign");
    }
    parts.push_back(s.with_watermark(wm));
  }
  dstream all = parts[0];
  if (parts.size() > 1) all = all.union_with(std::vector<dstream>(parts.begin() + 1, parts.end()));
  event_window_options w;
  w.window = window_spec::tumbling(std::chrono::milliseconds(io::ysb_model::window_ms));
  w.agg = aggregation::count();
  w.keyed = true;
  w.time = [](const value& v) { return v; };
  w.time_text = "event_time";
  tally_map got;
  std::string dup;
  records results;
  all.transform("count_per_campaign_window", [w] { return make_event_window(w); }, dstream::routing::keyed)
      .for_each_batch([&](std::int64_t, records& r) {  // keep the results; check them after the run
        for (auto& x : r) results.push_back(std::move(x));
      });
  auto stats = ctx.run();
  for (auto& x : results) {
    auto it = st.campaign_index.find(std::string(x.find("key")->as_string()));
    std::pair<int, std::int64_t> k{it == st.campaign_index.end() ? -1 : it->second, x.find("start")->as_int()};
    if (!got.emplace(k, static_cast<std::uint64_t>(x.find("value")->as_int())).second) dup = x.to_json();
  }
  io::ysb_tally total;
  for (auto& t : tallies) total.merge(*t);
  run_result r;
  r.seconds = stats.elapsed_s;
  r.records = total.events;
  r.bytes = total.bytes;
  take_latency(r, stats);
  if (!dup.empty()) r.error = "weir emitted a window twice: " + dup;
  if (r.error.empty()) r.error = compare(total.views, got, "weir vs the generator's tally");
  if (r.error.empty()) r.error = compare(st.reference, total.views, "generator's tally vs the reference");
  if (r.error.empty() && total.events != st.gen.count)
    r.error = "generator emitted " + std::to_string(total.events) + " events, expected " + std::to_string(st.gen.count);
  return r;
}

/// The limit: one thread, no framework: generate, parse with simdjson
/// On-Demand, filter, join with an open-addressing table, count in a flat
/// array per window.
run_result run_limit(ysb_state& st) {
  using clk = std::chrono::steady_clock;
  const auto& m = *st.model;
  const std::int64_t base = window_of(st.gen.start_time_ms) / io::ysb_model::window_ms - 1;
  std::vector<std::array<std::uint64_t, io::ysb_model::campaigns>> counts;
  std::uint64_t bytes = 0;
  simdjson::ondemand::parser parser;
  std::string buf;
  buf.reserve(1024);
  auto t0 = clk::now();
  for (std::uint64_t i = 0; i < st.gen.count; ++i) {
    const auto e = io::ysb_event_at(st.gen, i);
    int c = -1;
    std::int64_t t = 0;
    if (st.gen.binary) {
      bytes += 7 * 8;
      if (e.event_type != 0) continue;
      c = io::ysb_model::campaign_of(e.ad);
      t = e.time_ms;
    } else {
      buf.clear();
      io::ysb_json(m, e, buf);
      bytes += buf.size();
      simdjson::padded_string_view in(buf.data(), buf.size(), buf.capacity());
      auto doc = parser.iterate(in);
      std::string_view ad = doc["ad_id"].get_string();
      std::string_view type = doc["event_type"].get_string();
      if (type != "view") continue;
      std::string_view ts = doc["event_time"].get_string();
      std::from_chars(ts.data(), ts.data() + ts.size(), t);
      c = st.ad_to_campaign.find(ad);
    }
    auto w = static_cast<std::size_t>(t / io::ysb_model::window_ms - base);
    if (w >= counts.size()) counts.resize(w + 1);
    ++counts[w][static_cast<std::size_t>(c)];
  }
  run_result r;
  r.seconds = std::chrono::duration<double>(clk::now() - t0).count();
  r.records = st.gen.count;
  r.bytes = bytes;
  tally_map got;
  for (std::size_t w = 0; w < counts.size(); ++w)
    for (int c = 0; c < io::ysb_model::campaigns; ++c)
      if (counts[w][static_cast<std::size_t>(c)])
        got[{c, (base + static_cast<std::int64_t>(w)) * io::ysb_model::window_ms}] = counts[w][static_cast<std::size_t>(c)];
  r.error = compare(st.reference, got, "limit vs the reference");
  return r;
}

scenario make(const sizes& s, bool binary) {
  auto st = std::make_shared<ysb_state>();
  scenario sc;
  sc.name = binary ? "ysb-binary" : "ysb-json";
  sc.unit = "events";
  sc.what = binary ? "YSB from binary tuples: filter views, join ad->campaign, count per campaign per 10 s window"
                   : "YSB from JSON text (parse_json): filter views, join ad->campaign, count per campaign per 10 s window";
  std::uint64_t n = binary ? s.ysb_binary : s.ysb_json;
  sc.prepare = [st, n, binary] { prepare(*st, n, binary); };
  sc.variants.push_back({"limit", 0, [st] { return run_limit(*st); }});
  for (int p : {1, 2}) sc.variants.push_back({"C++ API p" + std::to_string(p), p, [st, p] { return run_weir(*st, p); }});
  return sc;
}

}  // namespace

std::vector<scenario> ysb_scenarios(const sizes& s) { return {make(s, false), make(s, true)}; }

}  // namespace weir::perf
