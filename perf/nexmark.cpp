// NEXMark (nexmark/nexmark's Flink SQL queries) on weir: q0 pass-through, q1
// currency conversion, q2 selection, q3 local item suggestion (incremental
// join), q5 hot items (sliding window + max), q7 highest bid (tumbling
// window max), q8 monitor new users (windowed join). Each run's output is
// compared with a straightforward reference computed from the event function.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>

#include "harness.hpp"
#include "weir/common/time.hpp"
#include "weir/io/bench_generators.hpp"

namespace weir::perf {
namespace {

using namespace std::chrono_literals;
using ev = io::nexmark_event;

/// What a query's output is compared by: the multiset of output records as
/// JSON text (small outputs), or their count and the wrapping sum of their
/// hashes (large outputs: q0, q1).
struct expected {
  std::uint64_t count = 0, hash_sum = 0;
  std::vector<std::string> rows;  ///< sorted; empty when compared by hash
  bool by_rows = true;
};

struct nx_state {
  io::nexmark_options gen;
  expected want;
  std::uint64_t bytes = 0;
};

value obj(std::initializer_list<std::pair<const char*, value>> f) {
  std::vector<field> fs;
  for (auto& [k, v] : f) fs.push_back({value(k), v});
  return value::object(std::move(fs));
}

// ---- query definitions shared by weir and the reference -------------------

value q1_row(std::int64_t auction, std::int64_t bidder, std::int64_t price, std::int64_t t) {
  return obj({{"auction", value(auction)}, {"bidder", value(bidder)}, {"price", value(0.908 * static_cast<double>(price))},
              {"dateTime", value(t)}});
}

bool q3_state(std::string_view s) { return s == "OR" || s == "ID" || s == "CA"; }

std::int64_t floor_to(std::int64_t t, std::int64_t w) { return weir::floor_div(t, w) * w; }

// ---- custom operators ----------------------------------------------------------

/// q3: incremental inner join person ⋈ auction on person.id = auction.seller
/// (both sides kept; Flink's regular join). Input: pairs (id, record).
class q3_join final : public stream_operator {
public:
  void process(const process_context&, records& in, records& out) override {
    for (auto& r : in) {
      auto kv = r.as_array();
      std::int64_t id = kv[0].as_int();
      const value& rec = kv[1];
      if (rec.find("type")->as_string() == "person") {
        auto& p = persons_[id];
        p = {*rec.find("name"), *rec.find("city"), *rec.find("state")};
        auto it = pending_.find(id);
        if (it != pending_.end()) {
          for (auto a : it->second) emit(p, a, out);
          pending_.erase(it);
        }
      } else {
        std::int64_t a = rec.find("id")->as_int();
        auto it = persons_.find(id);
        if (it != persons_.end()) emit(it->second, a, out);
        else pending_[id].push_back(a);
      }
    }
  }

private:
  struct person {
    value name, city, state;
  };
  static void emit(const person& p, std::int64_t a, records& out) {
    out.push_back(value::array({p.name, p.city, p.state, value(a)}, true));
  }
  std::unordered_map<std::int64_t, person> persons_;
  std::unordered_map<std::int64_t, std::vector<std::int64_t>> pending_;
};

/// q5: per window (of the sliding count), the auctions whose count is the
/// window's maximum, emitted when the watermark passes the window's end.
/// Input: the aggregate's {start, end, key, value}. Output: (end, auction, count).
class q5_max final : public stream_operator {
public:
  void process(const process_context&, records& in, records&) override {
    for (auto& r : in) {
      auto& w = windows_[r.find("end")->as_int()];
      std::int64_t n = r.find("value")->as_int();
      if (n > w.max) w.max = n, w.auctions.clear();
      if (n == w.max) w.auctions.push_back(r.find("key")->as_int());
    }
  }
  std::int64_t on_watermark(std::int64_t wm, records& out) override {
    while (!windows_.empty() && windows_.begin()->first <= wm) {
      auto& [end, w] = *windows_.begin();
      for (auto a : w.auctions) out.push_back(value::array({value(end), value(a), value(w.max)}, true));
      windows_.erase(windows_.begin());
    }
    return wm;
  }

private:
  struct win {
    std::int64_t max = 0;
    std::vector<std::int64_t> auctions;
  };
  std::map<std::int64_t, win> windows_;
};

/// q8: persons and auctions in the same 10 s tumbling window, joined on
/// person.id = auction.seller, emitted when the watermark passes the window's
/// end. Input: pairs (id, record). Output: (id, name, window start).
class q8_join final : public stream_operator {
public:
  void process(const process_context&, records& in, records&) override {
    for (auto& r : in) {
      auto kv = r.as_array();
      const value& rec = kv[1];
      std::int64_t start = floor_to(rec.find("dateTime")->as_int(), 10'000);
      if (start + 10'000 <= wm_) {
        ++counters_.late_records;
        continue;
      }
      auto& e = windows_[start][kv[0].as_int()];
      if (rec.find("type")->as_string() == "person") e.name = *rec.find("name"), e.person = true;
      else e.auction = true;
    }
  }
  std::int64_t on_watermark(std::int64_t wm, records& out) override {
    wm_ = std::max(wm_, wm);
    while (!windows_.empty() && windows_.begin()->first + 10'000 <= wm) {
      auto& [start, m] = *windows_.begin();
      for (auto& [id, e] : m)
        if (e.person && e.auction) out.push_back(value::array({value(id), e.name, value(start)}, true));
      windows_.erase(windows_.begin());
    }
    return wm;
  }

private:
  struct entry {
    value name;
    bool person = false, auction = false;
  };
  std::int64_t wm_ = no_watermark;
  std::map<std::int64_t, std::unordered_map<std::int64_t, entry>> windows_;
};

// ---- the reference -----------------------------------------------------------------

expected reference(int q, const io::nexmark_options& g) {
  expected x;
  auto row = [&](const value& v) {
    ++x.count;
    if (x.by_rows) x.rows.push_back(v.to_json());
    else x.hash_sum += v.hash();
  };
  if (q == 0 || q == 1) x.by_rows = false;
  std::map<std::int64_t, std::map<std::int64_t, std::int64_t>> q5_counts;  // window start → auction → bids
  std::map<std::int64_t, std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>>> q7_bids;  // start → bids
  std::map<std::int64_t, std::pair<std::string, std::string>> q3_persons;  // id → (name json, city/state)
  std::vector<std::pair<std::int64_t, std::int64_t>> q3_auctions;          // (seller, auction)
  std::map<std::int64_t, std::map<std::int64_t, std::string>> q8_persons;  // window → id → name
  std::map<std::int64_t, std::set<std::int64_t>> q8_sellers;               // window → sellers
  std::unordered_map<std::int64_t, value> q3_rows;
  for (std::uint64_t i = 0; i < g.count; ++i) {
    const ev e = io::nexmark_event_at(g, i);
    switch (q) {
      case 0: row(io::nexmark_value(e)); break;
      case 1:
        if (e.type == 2) row(q1_row(e.auction, e.bidder, e.price, e.time_ms));
        break;
      case 2:
        if (e.type == 2 && e.auction % 123 == 0) row(value::pair(value(e.auction), value(e.price)));
        break;
      case 3:
        if (e.type == 0 && q3_state(e.state)) {
          value v = io::nexmark_value(e);
          q3_rows[e.person_id] = v;
        } else if (e.type == 1 && e.category == 10) {
          q3_auctions.push_back({e.seller, e.auction_id});
        }
        break;
      case 5:
        if (e.type == 2)
          for (std::int64_t s = floor_to(e.time_ms, 2'000); s > e.time_ms - 10'000; s -= 2'000) ++q5_counts[s][e.auction];
        break;
      case 7:
        if (e.type == 2) q7_bids[floor_to(e.time_ms, 10'000)].push_back({e.price, e.auction, e.bidder});
        break;
      case 8:
        if (e.type == 0) q8_persons[floor_to(e.time_ms, 10'000)][e.person_id] = std::string(e.name_first) + " " + std::string(e.name_last);
        if (e.type == 1) q8_sellers[floor_to(e.time_ms, 10'000)].insert(e.seller);
        break;
    }
  }
  if (q == 3)
    for (auto& [seller, a] : q3_auctions) {
      auto it = q3_rows.find(seller);
      if (it == q3_rows.end()) continue;
      const value& p = it->second;
      row(value::array({*p.find("name"), *p.find("city"), *p.find("state"), value(a)}, true));
    }
  if (q == 5)
    for (auto& [s, m] : q5_counts) {
      std::int64_t mx = 0;
      for (auto& [a, n] : m) mx = std::max(mx, n);
      for (auto& [a, n] : m)
        if (n == mx) row(value::array({value(s + 10'000), value(a), value(n)}, true));
    }
  if (q == 7)
    for (auto& [s, bids] : q7_bids) {
      auto best = *std::max_element(bids.begin(), bids.end());
      row(obj({{"start", value(s)},
               {"end", value(s + 10'000)},
               {"value", value::array({value(std::get<0>(best)), value(std::get<1>(best)), value(std::get<2>(best))}, true)}}));
    }
  if (q == 8)
    for (auto& [s, persons] : q8_persons)
      for (auto& [id, name] : persons)
        if (q8_sellers[s].count(id)) row(value::array({value(id), value(name), value(s)}, true));
  std::sort(x.rows.begin(), x.rows.end());
  return x;
}

// ---- weir --------------------------------------------------------------------------

dstream query(int q, dstream s) {
  auto type_is = [](const char* t) {
    return [t](const value& v) { return v.as_object()[0].val.as_string() == t; };
  };
  watermark_options wm;
  wm.time = [](const value& v) { return *v.find("dateTime"); };
  wm.time_text = ".dateTime";
  switch (q) {
    case 0: return s;
    case 1:
      return s.filter(type_is("bid"), "bids").map([](const value& v) {
        auto f = v.as_object();  // type, auction, bidder, price, channel, dateTime
        return q1_row(f[1].val.as_int(), f[2].val.as_int(), f[3].val.as_int(), f[5].val.as_int());
      }, "to_euro");
    case 2:
      return s.filter([](const value& v) {
                auto f = v.as_object();
                return f[0].val.as_string() == "bid" && f[1].val.as_int() % 123 == 0;
              }, "auction_mod_123")
          .map([](const value& v) { return value::pair(*v.find("auction"), *v.find("price")); }, "project");
    case 3:
      return s.filter([](const value& v) {
                auto t = v.as_object()[0].val.as_string();
                if (t == "person") return q3_state(v.find("state")->as_string());
                return t == "auction" && v.find("category")->as_int() == 10;
              }, "or_id_ca_or_category_10")
          .map([](const value& v) {
            bool person = v.as_object()[0].val.as_string() == "person";
            return value::pair(person ? *v.find("id") : *v.find("seller"), v);
          }, "key_by_person");
    case 5:
      return s.filter(type_is("bid"), "bids").with_watermark(wm).map(
          [](const value& v) { return value::pair(*v.find("auction"), *v.find("dateTime")); }, "key_by_auction");
    case 7:
      return s.filter(type_is("bid"), "bids").with_watermark(wm);
    case 8:
      return s.filter([](const value& v) { return v.as_object()[0].val.as_string() != "bid"; }, "persons_auctions")
          .with_watermark(wm)
          .map([](const value& v) {
            bool person = v.as_object()[0].val.as_string() == "person";
            return value::pair(person ? *v.find("id") : *v.find("seller"), v);
          }, "key_by_person");
  }
  return s;
}

dstream finish(int q, dstream s) {
  switch (q) {
    case 3: return s.transform("q3_join", [] { return std::make_unique<q3_join>(); }, dstream::routing::keyed);
    case 5: {
      event_window_options w;
      w.window = window_spec::sliding(10s, 2s);
      w.agg = aggregation::count();
      w.keyed = true;
      w.time = [](const value& v) { return v; };
      return s.transform("count_per_auction", [w] { return make_event_window(w); }, dstream::routing::keyed)
          .transform("max_per_window", [] { return std::make_unique<q5_max>(); }, dstream::routing::global);
    }
    case 7: {
      event_window_options w;
      w.window = window_spec::tumbling(10s);
      w.agg = aggregation::reduce(reducer::custom(
          [](const value& a, const value& b) { return a < b ? b : a; }, "max_bid"));
      w.value_of = [](const value& v) {
        auto f = v.as_object();
        return value::array({f[3].val, f[1].val, f[2].val}, true);  // (price, auction, bidder)
      };
      w.time = [](const value& v) { return *v.find("dateTime"); };
      return s.aggregate(w);
    }
    case 8: return s.transform("q8_join", [] { return std::make_unique<q8_join>(); }, dstream::routing::keyed);
  }
  return s;
}

run_result run_weir(nx_state& st, int q, int parallelism) {
  context_options o;
  o.parallelism = parallelism;
  streaming_context ctx(o);
  std::vector<dstream> parts;
  for (int p = 0; p < parallelism; ++p) {
    auto g = st.gen;
    g.partition = p;
    g.partitions = parallelism;
    parts.push_back(query(q, ctx.nexmark(g)));
  }
  dstream all = parts[0];
  if (parts.size() > 1) all = all.union_with(std::vector<dstream>(parts.begin() + 1, parts.end()));
  expected got;
  got.by_rows = st.want.by_rows;
  records results;
  finish(q, all).for_each_batch([&](std::int64_t, records& r) {
    if (got.by_rows) {  // small outputs: keep them, check after the run
      for (auto& v : r) results.push_back(std::move(v));
    } else {  // q0, q1: count and hash in the sink
      for (auto& v : r) ++got.count, got.hash_sum += v.hash();
    }
  });
  auto stats = ctx.run();
  for (auto& v : results) ++got.count, got.rows.push_back(v.to_json());
  std::sort(got.rows.begin(), got.rows.end());
  run_result r;
  r.seconds = stats.elapsed_s;
  r.records = stats.source_records;
  r.bytes = st.bytes;
  take_latency(r, stats);
  if (stats.source_records != st.gen.count)
    r.error = "generated " + std::to_string(stats.source_records) + " events, expected " + std::to_string(st.gen.count);
  else if (got.count != st.want.count)
    r.error = "q" + std::to_string(q) + ": " + std::to_string(got.count) + " results, the reference has " +
              std::to_string(st.want.count);
  else if (got.hash_sum != st.want.hash_sum || got.rows != st.want.rows) {
    r.error = "q" + std::to_string(q) + ": results differ from the reference";
    for (std::size_t i = 0; i < got.rows.size(); ++i)
      if (got.rows[i] != st.want.rows[i]) {
        r.error += " (first: " + got.rows[i] + " vs " + st.want.rows[i] + ")";
        break;
      }
  }
  return r;
}

scenario make(const sizes& s, int q) {
  static const char* what[] = {"q0 pass-through", "", "", "", "", "", "", "", ""};
  (void)what;
  auto st = std::make_shared<nx_state>();
  scenario sc;
  sc.name = "nexmark-q" + std::to_string(q);
  sc.unit = "events";
  switch (q) {
    case 0: sc.what = "NEXMark q0: pass-through (all events to the sink)"; break;
    case 1: sc.what = "NEXMark q1: bids with the price in euro (x 0.908)"; break;
    case 2: sc.what = "NEXMark q2: bids of auctions with id % 123 == 0"; break;
    case 3: sc.what = "NEXMark q3: sellers in OR/ID/CA of category-10 auctions (incremental join)"; break;
    case 5: sc.what = "NEXMark q5: hot items, most-bid auctions per 10 s window sliding by 2 s"; break;
    case 7: sc.what = "NEXMark q7: highest bid per 10 s tumbling window"; break;
    case 8: sc.what = "NEXMark q8: new persons who opened an auction in the same 10 s window (windowed join)"; break;
  }
  std::uint64_t n = s.nexmark;
  sc.prepare = [st, n, q] {
    st->gen = {};
    st->gen.count = n;
    st->gen.events_per_second = 100'000;  // event time: 10 s windows of 1 M events
    st->want = reference(q, st->gen);
    std::uint64_t sample = std::min<std::uint64_t>(n, 10'000), b = 0;
    for (std::uint64_t i = 0; i < sample; ++i) b += io::nexmark_value(io::nexmark_event_at(st->gen, i)).to_json().size();
    st->bytes = sample ? b * n / sample : 0;  // as JSON text
  };
  for (int p : {1, 2}) sc.variants.push_back({"C++ API p" + std::to_string(p), p, [st, q, p] { return run_weir(*st, q, p); }});
  return sc;
}

}  // namespace

std::vector<scenario> nexmark_scenarios(const sizes& s) {
  std::vector<scenario> v;
  for (int q : {0, 1, 2, 3, 5, 7, 8}) v.push_back(make(s, q));
  return v;
}

}  // namespace weir::perf
