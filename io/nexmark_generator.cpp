// The NEXMark event generator (see bench_generators.hpp), after
// nexmark/nexmark's NexmarkGenerator / PersonGenerator / AuctionGenerator /
// BidGenerator (themselves after Apache Beam's).
#include <algorithm>
#include <cmath>

#include "weir/io/bench_generators.hpp"
#include "weir/io/detail/bench_random.hpp"
#include "weir/operators/sealed_state.hpp"

namespace weir::io {
namespace {

using M = nexmark_model;

constexpr std::string_view first_names[] = {"Peter", "Paul", "Luke", "John", "Saul", "Vicky",
                                            "Kate",  "Julie", "Sarah", "Deiter", "Walter"};
constexpr std::string_view last_names[] = {"Shultz", "Abrams", "Spencer", "White", "Bartels",
                                           "Walton", "Smith",  "Jones",   "Noris"};
constexpr std::string_view us_states[] = {"AZ", "CA", "ID", "OR", "WA", "WY"};
constexpr std::string_view us_cities[] = {"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
                                          "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
constexpr std::string_view hot_channels[] = {"Google", "Facebook", "Baidu", "Apple"};
constexpr int hot_channels_ratio = 2, channels_number = 10'000;

std::int64_t last_base0_person_id(std::int64_t event_id) {
  std::int64_t epoch = event_id / M::proportion_denominator, offset = event_id % M::proportion_denominator;
  if (offset >= M::person_proportion) offset = M::person_proportion - 1;
  return epoch * M::person_proportion + offset;
}

std::int64_t last_base0_auction_id(std::int64_t event_id) {
  std::int64_t epoch = event_id / M::proportion_denominator, offset = event_id % M::proportion_denominator;
  if (offset < M::person_proportion) {
    --epoch;
    offset = M::auction_proportion - 1;
  } else if (offset >= M::person_proportion + M::auction_proportion) {
    offset = M::auction_proportion - 1;
  } else {
    offset -= M::person_proportion;
  }
  return epoch * M::auction_proportion + offset;
}

std::int64_t next_base0_person_id(std::int64_t event_id, detail::event_rng& r) {
  std::int64_t num_people = last_base0_person_id(event_id) + 1;
  std::int64_t active = std::min(num_people, M::num_active_people);
  auto n = static_cast<std::int64_t>(r.below(static_cast<std::uint64_t>(active + M::person_id_lead)));
  return num_people - active + n;
}

std::int64_t next_base0_auction_id(std::int64_t event_id, detail::event_rng& r) {
  std::int64_t max_auction = last_base0_auction_id(event_id);
  std::int64_t min_auction = std::max<std::int64_t>(max_auction - M::num_in_flight_auctions, 0);
  return min_auction + static_cast<std::int64_t>(r.below(
                           static_cast<std::uint64_t>(max_auction - min_auction + 1 + M::auction_id_lead)));
}

std::int64_t next_price(detail::event_rng& r) {
  return std::llround(std::pow(10.0, r.uniform() * 6.0) * 100.0);
}

std::int64_t timestamp_for(const nexmark_options& o, std::uint64_t i) {
  return o.start_time_ms + static_cast<std::int64_t>(static_cast<double>(i) * (1000.0 / o.events_per_second));
}

class nexmark_generator final : public source_reader {
public:
  explicit nexmark_generator(const nexmark_options& o) : o_(o) {}
  void open() override {
    detail::check_partitioning(describe(), o_.partition, o_.partitions, o_.rate, o_.events_per_second);
    pacer_.start(o_.rate);
  }
  read_result read(records& out, std::size_t max) override {
    read_result res;
    std::size_t n = pacer_.allowance(emitted_, max, res);
    const auto parts = static_cast<std::uint64_t>(o_.partitions);
    for (std::size_t k = 0; k < n; ++k) {
      const std::uint64_t i = static_cast<std::uint64_t>(o_.partition) + emitted_ * parts;
      if (o_.count > 0 && i >= o_.count) return {read_result::status::end, {}};
      out.push_back(nexmark_value(nexmark_event_at(o_, i)));
      ++emitted_;
    }
    if (o_.count > 0 && static_cast<std::uint64_t>(o_.partition) + emitted_ * parts >= o_.count)
      return {read_result::status::end, {}};
    return res;
  }
  std::string describe() const override {
    return "generate(\"nexmark\") partition " + std::to_string(o_.partition) + "/" + std::to_string(o_.partitions);
  }

  // Checkpoints: events are a function of (seed, index): the count emitted.
  bool replayable() const override { return true; }

  void snapshot_position(state_writer& w) const override {
    write_sealed(w, 1, [&](state_writer& s) {
      s.u64(o_.seed);
      s.varint(static_cast<std::uint64_t>(o_.partition));
      s.varint(static_cast<std::uint64_t>(o_.partitions));
      s.u64(emitted_);
    });
  }

  void restore_position(state_reader& r) override {
    read_sealed(r, 1, "source " + describe(), [&](state_reader& s) {
      if (s.u64() != o_.seed || s.varint() != static_cast<std::uint64_t>(o_.partition) ||
          s.varint() != static_cast<std::uint64_t>(o_.partitions))
        s.fail("the position is of a generator with another seed or partitioning");
      emitted_ = s.u64();
    });
    pacer_.resume(o_.rate, emitted_);
  }

  std::string describe_position() const override { return describe() + ": " + std::to_string(emitted_) + " events emitted"; }

private:
  nexmark_options o_;
  detail::pacer pacer_;
  std::uint64_t emitted_ = 0;
};

value str(std::string_view s) { return value(s); }

}  // namespace

nexmark_event nexmark_event_at(const nexmark_options& o, std::uint64_t i) noexcept {
  detail::event_rng r(o.seed, i);
  const auto id = static_cast<std::int64_t>(i);
  nexmark_event e;
  e.time_ms = timestamp_for(o, i);
  const std::int64_t rem = id % M::proportion_denominator;
  if (rem < M::person_proportion) {
    e.type = 0;
    e.person_id = last_base0_person_id(id) + M::first_person_id;
    e.name_first = first_names[r.below(std::size(first_names))];
    e.name_last = last_names[r.below(std::size(last_names))];
    e.email = r.next();
    e.card = r.next();
    e.city = us_cities[r.below(std::size(us_cities))];
    e.state = us_states[r.below(std::size(us_states))];
  } else if (rem < M::person_proportion + M::auction_proportion) {
    e.type = 1;
    e.auction_id = last_base0_auction_id(id) + M::first_auction_id;
    e.seller = (r.below(M::hot_seller_ratio) > 0
                    ? (last_base0_person_id(id) / M::hot_seller_ratio) * M::hot_seller_ratio
                    : next_base0_person_id(id, r)) +
               M::first_person_id;
    e.category = M::first_category_id + static_cast<std::int64_t>(r.below(M::num_categories));
    e.initial_bid = next_price(r);
    // nextAuctionLengthMs: up to twice the time until the auction that many events later starts.
    const std::uint64_t events_for_auctions =
        static_cast<std::uint64_t>((M::num_in_flight_auctions * M::proportion_denominator) / M::auction_proportion);
    const std::int64_t horizon = timestamp_for(o, i + events_for_auctions) - e.time_ms;
    e.expires = e.time_ms + 1 + static_cast<std::int64_t>(r.below(static_cast<std::uint64_t>(std::max<std::int64_t>(horizon * 2, 1))));
    e.reserve = e.initial_bid + next_price(r);
    e.item = r.next();
  } else {
    e.type = 2;
    e.auction = (r.below(M::hot_auction_ratio) > 0
                     ? (last_base0_auction_id(id) / M::hot_auction_ratio) * M::hot_auction_ratio
                     : next_base0_auction_id(id, r)) +
                M::first_auction_id;
    e.bidder = (r.below(M::hot_bidder_ratio) > 0
                    ? (last_base0_person_id(id) / M::hot_bidder_ratio) * M::hot_bidder_ratio + 1
                    : next_base0_person_id(id, r)) +
               M::first_person_id;
    e.price = next_price(r);
    e.channel = r.below(hot_channels_ratio) > 0 ? static_cast<int>(r.below(std::size(hot_channels)))
                                                : 4 + static_cast<int>(r.below(channels_number));
  }
  return e;
}

value nexmark_value(const nexmark_event& e) {
  std::vector<field> f;
  f.reserve(9);
  switch (e.type) {
    case 0: {
      f.push_back({str("type"), str("person")});
      f.push_back({str("id"), value(e.person_id)});
      std::string name(e.name_first);
      name += ' ';
      name += e.name_last;
      f.push_back({str("name"), value(name)});
      f.push_back({str("emailAddress"), value("u" + std::to_string(e.email % 100000) + "@x" +
                                              std::to_string(e.email / 100000 % 1000) + ".com")});
      std::string card = std::to_string(1000 + e.card % 9000) + " " + std::to_string(1000 + e.card / 9000 % 9000) +
                         " " + std::to_string(1000 + e.card / 81000000 % 9000) + " " +
                         std::to_string(1000 + e.card / 729000000000ULL % 9000);
      f.push_back({str("creditCard"), value(card)});
      f.push_back({str("city"), str(e.city)});
      f.push_back({str("state"), str(e.state)});
      f.push_back({str("dateTime"), value(e.time_ms)});
      break;
    }
    case 1:
      f.push_back({str("type"), str("auction")});
      f.push_back({str("id"), value(e.auction_id)});
      f.push_back({str("itemName"), value("item-" + std::to_string(e.item % 1000000))});
      f.push_back({str("initialBid"), value(e.initial_bid)});
      f.push_back({str("reserve"), value(e.reserve)});
      f.push_back({str("dateTime"), value(e.time_ms)});
      f.push_back({str("expires"), value(e.expires)});
      f.push_back({str("seller"), value(e.seller)});
      f.push_back({str("category"), value(e.category)});
      break;
    default:
      f.push_back({str("type"), str("bid")});
      f.push_back({str("auction"), value(e.auction)});
      f.push_back({str("bidder"), value(e.bidder)});
      f.push_back({str("price"), value(e.price)});
      f.push_back({str("channel"), e.channel < 4 ? str(hot_channels[static_cast<std::size_t>(e.channel)])
                                                  : value("channel-" + std::to_string(e.channel - 4))});
      f.push_back({str("dateTime"), value(e.time_ms)});
      break;
  }
  return value::object(std::move(f));
}

source_ptr make_nexmark_generator(const nexmark_options& o) { return std::make_unique<nexmark_generator>(o); }

}  // namespace weir::io
