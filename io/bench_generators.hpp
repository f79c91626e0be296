// weir — benchmark generators: the Yahoo Streaming Benchmark (YSB) ad events
// and the NEXMark auction events, as sources (source_reader) and as plain
// functions of the event index, so that a hand-written loop and a reference
// implementation can compute exactly the same events without the framework.
//
// Both are deterministic: event i is a pure function of (seed, i). A source
// may be one partition of P (`partition`, `partitions`): partition p emits the
// events i ≡ p (mod P) in increasing order, so the union of the P partitions
// is the same event set whatever P, and event time is non-decreasing within a
// partition.
//
// Semantics sources:
// - YSB: yahoo/streaming-benchmarks, data/src/setup/core.clj
//   (`make-kafka-event-at`, `gen-ads`): 100 campaigns × 10 ads, 100 user ids,
//   100 page ids (random UUIDs), ad_type uniform over banner, modal,
//   sponsored-search, mail, mobile; event_type uniform over view, click,
//   purchase; event_time = ms as a *string*; optional skew of −50..+49 ms
//   (the original's `with-skew?`, without its rare 60 s late events).
// - NEXMark: nexmark/nexmark (Flink; after Beam's NexmarkGenerator):
//   Person : Auction : Bid = 1 : 3 : 46 per 50 events; hot auctions (ratio
//   2), hot bidders (4), hot sellers (4); 100 auctions in flight, 1,000
//   active people; event time = base + i × inter-event delay. Randomness is
//   splitmix64 of (seed, i), not Java's Random, so the values differ from the
//   Java generator's while following the same distributions.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weir/io/source.hpp"

namespace weir::io {

// --- YSB ----------------------------------------------------------------------

/// The static data of the benchmark (Redis in the original): campaign ids,
/// ad ids (10 per campaign), user ids and page ids, all UUID strings (36
/// chars), derived from the seed.
struct ysb_model {
  static constexpr int campaigns = 100, ads_per_campaign = 10, ads = campaigns * ads_per_campaign;
  static constexpr int users = 100, pages = 100;
  static constexpr std::int64_t window_ms = 10'000;  ///< the benchmark's 10 s time divisor
  static constexpr std::array<std::string_view, 5> ad_types = {"banner", "modal", "sponsored-search", "mail",
                                                               "mobile"};
  static constexpr std::array<std::string_view, 3> event_types = {"view", "click", "purchase"};

  explicit ysb_model(std::uint64_t seed = 1);
  std::vector<std::string> campaign_ids, ad_ids, user_ids, page_ids;
  /// ad index → campaign index (ad a belongs to campaign a / 10).
  static int campaign_of(int ad) noexcept { return ad / ads_per_campaign; }
};

/// One YSB event as indexes into the model (the "binary" form).
struct ysb_event {
  std::uint16_t user = 0, page = 0, ad = 0;
  std::uint8_t ad_type = 0, event_type = 0;  ///< event_type 0 = view
  std::int64_t time_ms = 0;
};

struct ysb_options {
  std::uint64_t seed = 1;
  std::uint64_t count = 0;  ///< events over all partitions; 0 = unbounded
  int partition = 0, partitions = 1;
  /// Event-time spacing: event i has time start + floor(i × 1000 / events_per_second) (+ skew).
  double events_per_second = 1'000'000;
  std::int64_t start_time_ms = 1'700'000'000'000;
  bool skew = false;  ///< −50..+49 ms per event (watermark delay must be >= 50 ms)
  bool binary = false;  ///< emit ysb_binary() tuples instead of JSON text
  double rate = 0;      ///< wall-clock records/s of this partition; 0 = as fast as credit allows
};

/// Event i (a pure function of seed and i).
ysb_event ysb_event_at(const ysb_options& o, std::uint64_t i) noexcept;
/// The original's JSON text: {"user_id": "…", "page_id": "…", "ad_id": "…",
/// "ad_type": "…", "event_type": "…", "event_time": "<ms>", "ip_address": "1.2.3.4"};
/// appended to `out` (about 240 bytes).
void ysb_json(const ysb_model& m, const ysb_event& e, std::string& out);
/// The binary form: a tuple of ints (user, page, ad, ad_type, event_type, event_time ms, ip).
value ysb_binary(const ysb_event& e);

/// The generator's own tally: views per (campaign index, 10 s window start).
/// Each source partition adds what it emitted; read it after the run.
/// @thread Written by one source actor; read after the run has ended.
struct ysb_tally {
  std::map<std::pair<int, std::int64_t>, std::uint64_t> views;
  std::uint64_t events = 0, bytes = 0;
  void merge(const ysb_tally& o);
};

/// The generator as a source: JSON strings or binary tuples, `count` events
/// over all partitions (this partition's share), paced at `rate` if set.
/// Counts into `tally` (may be null) what it emits.
/// Checkpoints: replayable (the count emitted, and the tally so far, which a
/// restored source carries on).
/// @errors pipeline_error at open for partitions < 1, a partition out of
///         range, a rate < 0 or events_per_second <= 0.
source_ptr make_ysb_generator(const ysb_options& o, std::shared_ptr<ysb_tally> tally = nullptr);

// --- NEXMark --------------------------------------------------------------------

struct nexmark_options {
  std::uint64_t seed = 1;
  std::uint64_t count = 0;  ///< events over all partitions; 0 = unbounded
  int partition = 0, partitions = 1;
  double events_per_second = 10'000;  ///< nexmark's firstEventRate: event-time spacing
  std::int64_t start_time_ms = 1'700'000'000'000;
  double rate = 0;  ///< wall-clock records/s of this partition; 0 = as fast as credit allows
};

/// NEXMark constants (nexmark/nexmark NexmarkConfiguration defaults).
struct nexmark_model {
  static constexpr int person_proportion = 1, auction_proportion = 3, bid_proportion = 46;
  static constexpr int proportion_denominator = 50;
  static constexpr std::int64_t first_person_id = 1000, first_auction_id = 1000, first_category_id = 10;
  static constexpr int num_categories = 5;
  static constexpr std::int64_t num_active_people = 1000, num_in_flight_auctions = 100;
  static constexpr int hot_auction_ratio = 2, hot_bidder_ratio = 4, hot_seller_ratio = 4;
  static constexpr std::int64_t person_id_lead = 10, auction_id_lead = 10;
};

/// One NEXMark event as plain fields (type 0 = person, 1 = auction, 2 = bid).
struct nexmark_event {
  int type = 0;
  std::int64_t time_ms = 0;
  // person
  std::int64_t person_id = 0;
  std::string_view name_first, name_last, city, state;
  std::uint64_t email = 0, card = 0;
  // auction
  std::int64_t auction_id = 0, seller = 0, category = 0, initial_bid = 0, reserve = 0, expires = 0;
  std::uint64_t item = 0;
  // bid
  std::int64_t auction = 0, bidder = 0, price = 0;
  int channel = 0;
};

nexmark_event nexmark_event_at(const nexmark_options& o, std::uint64_t i) noexcept;

/// The event as a weir object (field order fixed):
/// person  {type: "person", id, name, emailAddress, creditCard, city, state, dateTime}
/// auction {type: "auction", id, itemName, initialBid, reserve, dateTime, expires, seller, category}
/// bid     {type: "bid", auction, bidder, price, channel, dateTime}
/// (nexmark's `extra` padding and `description`/`url` are left out.)
value nexmark_value(const nexmark_event& e);

/// The generator as a source of nexmark_value() objects.
/// @errors pipeline_error at open for bad partitions, rate or events_per_second.
/// Checkpoints: replayable (the count emitted: event i is a function of seed and i).
source_ptr make_nexmark_generator(const nexmark_options& o);

}  // namespace weir::io
