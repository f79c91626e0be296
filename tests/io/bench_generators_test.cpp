// The benchmark generators (io/bench_generators.hpp): YSB and NEXMark event
// shapes and proportions, partitioning, the YSB tally, checked against
// straightforward counts; and parse_json's top-level-fields path used by YSB.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>

#include "weir/api/dstream.hpp"
#include "weir/io/bench_generators.hpp"
#include "weir/io/decoders.hpp"
#include "weir/io/regex.hpp"

using namespace weir;

namespace {

records read_all(io::source_reader& s) {
  records out;
  s.open();
  for (int guard = 0; guard < 1'000'000; ++guard) {
    auto r = s.read(out, 1000);
    if (r.st == io::read_result::status::end) break;
  }
  s.close();
  return out;
}

}  // namespace

TEST_CASE("ysb: model has 100 campaigns of 10 ads, distinct UUIDs", "[ysb]") {
  io::ysb_model m(7);
  io::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", "uuid");
  std::set<std::string> all;
  for (auto* v : {&m.campaign_ids, &m.ad_ids, &m.user_ids, &m.page_ids})
    for (auto& id : *v) {
      CHECK(uuid.full_match(id));
      all.insert(id);
    }
  CHECK(m.campaign_ids.size() == 100);
  CHECK(m.ad_ids.size() == 1000);
  CHECK(all.size() == 1300);
  CHECK(io::ysb_model::campaign_of(999) == 99);
}

TEST_CASE("ysb: JSON events parse and carry the event's fields", "[ysb]") {
  io::ysb_options o;
  o.count = 3000;
  o.events_per_second = 1000;  // one event per ms
  io::ysb_model m(o.seed);
  auto src = io::make_ysb_generator(o);
  records recs = read_all(*src);
  REQUIRE(recs.size() == 3000);
  std::map<std::string, int> types;
  for (std::size_t i = 0; i < recs.size(); ++i) {
    value v;
    std::string reason;
    REQUIRE(io::parse_json_document(recs[i].as_string(), v, reason));
    auto e = io::ysb_event_at(o, i);
    CHECK(v.find("ad_id")->as_string() == m.ad_ids[e.ad]);
    CHECK(v.find("user_id")->as_string() == m.user_ids[e.user]);
    CHECK(v.find("event_time")->as_string() == std::to_string(o.start_time_ms + static_cast<std::int64_t>(i)));
    CHECK(v.find("ip_address")->as_string() == "1.2.3.4");
    CHECK(v.as_object().size() == 7);
    ++types[std::string(v.find("event_type")->as_string())];
  }
  // uniform over view / click / purchase: each about 1000 of 3000 (binomial sd ≈ 26)
  REQUIRE(types.size() == 3);
  for (auto& [t, n] : types) CHECK((n > 850 && n < 1150));
  CHECK(recs[0].as_string().substr(0, 13) == "{\"user_id\": \"");
}

TEST_CASE("ysb: partitions together give every event once and the tally matches a direct count", "[ysb]") {
  io::ysb_options o;
  o.count = 25'000;
  o.binary = true;
  o.events_per_second = 1000;
  o.skew = true;
  std::map<std::pair<int, std::int64_t>, std::uint64_t> direct;
  for (std::uint64_t i = 0; i < o.count; ++i) {
    auto e = io::ysb_event_at(o, i);
    if (e.event_type == 0) {
      std::int64_t w = e.time_ms / 10'000 * 10'000;  // times are positive
      ++direct[{e.ad / 10, w}];
    }
  }
  io::ysb_tally total;
  std::multiset<std::int64_t> times;
  for (int p = 0; p < 3; ++p) {
    auto g = o;
    g.partition = p;
    g.partitions = 3;
    auto t = std::make_shared<io::ysb_tally>();
    auto src = io::make_ysb_generator(g, t);
    records recs = read_all(*src);
    std::int64_t last = 0;
    for (auto& r : recs) {
      auto f = r.as_array();
      REQUIRE(f.size() == 7);
      times.insert(f[5].as_int());
      CHECK(f[5].as_int() >= last - 100);  // non-decreasing up to the ±50 ms skew
      last = std::max(last, f[5].as_int());
    }
    total.merge(*t);
  }
  CHECK(total.events == 25'000);
  CHECK(times.size() == 25'000);
  CHECK(total.views == direct);
  std::uint64_t views = 0;
  for (auto& [k, n] : direct) views += n;
  CHECK((views > 7800 && views < 8900));  // a third of 25,000
}

TEST_CASE("ysb: bad partitioning is a clear error at open", "[ysb]") {
  io::ysb_options o;
  o.partition = 2;
  o.partitions = 2;
  auto src = io::make_ysb_generator(o);
  CHECK_THROWS_WITH(src->open(), Catch::Contains("partition 2 is outside 0..1"));
}

TEST_CASE("ysb: the API pipeline counts views per campaign window like the tally", "[ysb][pipeline]") {
  for (int par : {1, 2}) {
    context_options c;
    c.parallelism = par;
    streaming_context ctx(c);
    io::ysb_options o;
    o.count = 20'000;
    o.events_per_second = 1000;  // 20 windows of 10 s
    auto tally = std::make_shared<io::ysb_tally>();
    io::ysb_model m(o.seed);
    std::map<std::string, int> campaign;
    for (int i = 0; i < 100; ++i) campaign[m.campaign_ids[static_cast<std::size_t>(i)]] = i;
    io::json_options jo;
    for (auto f : {".ad_id", ".event_type", ".event_time"}) jo.fields.push_back(io::json_path::parse(f));
    watermark_options wm;
    wm.time = [](const value& v) { return v.as_array()[1]; };
    event_window_options w;
    w.window = window_spec::tumbling(std::chrono::milliseconds(10'000));
    w.agg = aggregation::count();
    w.time = [](const value& v) { return v.as_array()[1]; };
    std::map<std::pair<int, std::int64_t>, std::uint64_t> got;
    ctx.ysb(o, tally)
        .parse_json(jo)
        .filter([](const value& v) { return v.find("event_type")->as_string() == "view"; })
        .map([&](const value& v) {
          std::string ad(v.find("ad_id")->as_string());
          int a = 0;
          while (m.ad_ids[static_cast<std::size_t>(a)] != ad) ++a;
          return value::array({value(m.campaign_ids[static_cast<std::size_t>(a / 10)]),
                               value(std::stoll(std::string(v.find("event_time")->as_string())))});
        })
        .with_watermark(wm)
        .aggregate(w, [](const value& v) { return v.as_array()[0]; })
        .for_each_batch([&](std::int64_t, records& r) {
          for (auto& x : r)
            got[{campaign.at(std::string(x.find("key")->as_string())), x.find("start")->as_int()}] +=
                static_cast<std::uint64_t>(x.find("value")->as_int());
        });
    auto st = ctx.run();
    CHECK(st.source_records == 20'000);
    CHECK(tally->events == 20'000);
    CHECK(got == tally->views);
  }
}

TEST_CASE("nexmark: person, auction, bid in the proportion 1 : 3 : 46 with consecutive ids", "[nexmark]") {
  io::nexmark_options o;
  o.count = 50'000;
  int n[3] = {0, 0, 0};
  std::int64_t next_person = 1000, next_auction = 1000, last_time = 0;
  int hot_bids = 0;
  for (std::uint64_t i = 0; i < o.count; ++i) {
    auto e = io::nexmark_event_at(o, i);
    ++n[e.type];
    CHECK(e.time_ms >= last_time);
    last_time = e.time_ms;
    if (e.type == 0) CHECK(e.person_id == next_person++);
    if (e.type == 1) {
      CHECK(e.auction_id == next_auction++);
      CHECK((e.category >= 10 && e.category < 15));
      CHECK(e.expires > e.time_ms);
      CHECK(e.reserve > e.initial_bid);
      CHECK(e.seller < next_person + 10);  // at most PERSON_ID_LEAD ahead
    }
    if (e.type == 2) {
      CHECK(e.auction < next_auction + 10);  // at most AUCTION_ID_LEAD ahead
      CHECK(e.auction >= 1000);
      CHECK(e.price >= 100);
      if (e.auction == ((next_auction - 1000 - 1) / 2) * 2 + 1000) ++hot_bids;
    }
  }
  CHECK(n[0] == 1000);
  CHECK(n[1] == 3000);
  CHECK(n[2] == 46000);
  // hot auctions: a bid goes to the current hot auction with probability 1/2 (plus chance)
  CHECK((hot_bids > 46000 * 0.45 && hot_bids < 46000 * 0.6));
  // event-time spacing: 10,000 events/s → event i at start + i/10 ms
  CHECK(io::nexmark_event_at(o, 49'999).time_ms == o.start_time_ms + 4999);
}

TEST_CASE("nexmark: values have the documented fields and partitions cover every event once", "[nexmark]") {
  io::nexmark_options o;
  o.count = 5000;
  std::map<std::string, int> types;
  std::uint64_t total = 0;
  for (int p = 0; p < 2; ++p) {
    auto g = o;
    g.partition = p;
    g.partitions = 2;
    auto src = io::make_nexmark_generator(g);
    records recs = read_all(*src);
    total += recs.size();
    for (auto& r : recs) {
      std::string t(r.find("type")->as_string());
      ++types[t];
      REQUIRE(r.find("dateTime") != nullptr);
      if (t == "bid") CHECK(r.as_object().size() == 6);
      if (t == "auction") CHECK(r.find("seller")->is_int());
      if (t == "person") CHECK(r.find("state")->as_string().size() == 2);
    }
  }
  CHECK(total == 5000);
  CHECK(types["person"] == 100);
  CHECK(types["auction"] == 300);
  CHECK(types["bid"] == 4600);
}

TEST_CASE("parse_json top-level fields: first duplicate wins, missing is null, non-object root gives nulls", "[json]") {
  io::json_options jo;
  jo.fields = {io::json_path::parse(".a"), io::json_path::parse(".b")};
  auto op = io::make_json_decoder(jo);
  records in = {value(R"({"b": [1, {"c": 2}], "x": 1, "a": "x", "a": "y"})"), value(R"({"a": 1.5})"),
                value("[1, 2]"), value(R"({"z": {"a": 1}, "a": null})")};
  records out;
  op->process({}, in, out);
  REQUIRE(out.size() == 4);
  CHECK(out[0].to_json() == R"({"a":"x","b":[1,{"c":2}]})");
  CHECK(out[1].to_json() == R"({"a":1.5,"b":null})");
  CHECK(out[2].to_json() == R"({"a":null,"b":null})");
  CHECK(out[3].to_json() == R"({"a":null,"b":null})");
  records bad = {value(R"({"a": tru})")};
  records o2;
  CHECK_THROWS_WITH(op->process({}, bad, o2), Catch::Contains("record 5"));
}
