// The Yahoo Streaming Benchmark event generator (see bench_generators.hpp).
#include <charconv>
#include <cstring>

#include "weir/common/time.hpp"
#include "weir/io/bench_generators.hpp"
#include "weir/io/detail/bench_random.hpp"
#include "weir/operators/sealed_state.hpp"

namespace weir::io {
namespace {

std::string uuid(detail::event_rng& r) {
  // A version-4 UUID: 8-4-4-4-12 lowercase hex digits.
  std::uint64_t hi = r.next(), lo = r.next();
  hi = (hi & ~0xf000ULL) | 0x4000ULL;                        // version 4
  lo = (lo & ~(0xcULL << 60)) | (0x8ULL << 60);              // variant 10xx
  static constexpr char hex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) s.push_back('-');
    std::uint64_t w = i < 16 ? hi : lo;
    s.push_back(hex[(w >> (4 * (15 - i % 16))) & 15]);
  }
  return s;
}

class ysb_generator final : public source_reader {
public:
  ysb_generator(const ysb_options& o, std::shared_ptr<ysb_tally> t) : o_(o), model_(o.seed), tally_(std::move(t)) {}

  void open() override {
    detail::check_partitioning(describe(), o_.partition, o_.partitions, o_.rate, o_.events_per_second);
    base_window_ = floor_div(o_.start_time_ms - 100, ysb_model::window_ms);  // skew may go 50 ms back
    pacer_.start(o_.rate);
  }

  read_result read(records& out, std::size_t max) override {
    read_result res;
    std::size_t n = pacer_.allowance(emitted_, max, res);
    const auto parts = static_cast<std::uint64_t>(o_.partitions);
    for (std::size_t k = 0; k < n; ++k) {
      const std::uint64_t i = static_cast<std::uint64_t>(o_.partition) + emitted_ * parts;
      if (o_.count > 0 && i >= o_.count) {
        flush();
        return {read_result::status::end, {}};
      }
      const ysb_event e = ysb_event_at(o_, i);
      if (e.event_type == 0) {
        auto w = static_cast<std::size_t>(floor_div(e.time_ms, ysb_model::window_ms) - base_window_);
        if (w >= views_.size()) views_.resize(w + 1);
        ++views_[w][e.ad / ysb_model::ads_per_campaign];
      }
      if (o_.binary) {
        out.push_back(ysb_binary(e));
        bytes_ += 7 * 8;
      } else {
        text_.clear();
        ysb_json(model_, e, text_);
        bytes_ += text_.size();
        out.emplace_back(std::string_view(text_));
      }
      ++emitted_;
    }
    if (o_.count > 0 && static_cast<std::uint64_t>(o_.partition) + emitted_ * parts >= o_.count) {
      flush();
      return {read_result::status::end, {}};
    }
    return res;
  }

  void close() override { flush(); }

  std::string describe() const override {
    return "generate(\"ysb\") partition " + std::to_string(o_.partition) + "/" + std::to_string(o_.partitions);
  }

  // Checkpoints: events are a function of (seed, index), so the position is
  // the count emitted; the tally (views per window and campaign, bytes) is
  // kept too, so that a restored run reports the uninterrupted run's tally.
  bool replayable() const override { return true; }

  void snapshot_position(state_writer& w) const override {
    write_sealed(w, 1, [&](state_writer& s) {
      s.u64(o_.seed);
      s.varint(static_cast<std::uint64_t>(o_.partition));
      s.varint(static_cast<std::uint64_t>(o_.partitions));
      s.u64(emitted_);
      s.u64(bytes_);
      s.i64(base_window_);
      s.varint(views_.size());
      for (auto& win : views_) {
        std::uint64_t nz = 0;
        for (auto c : win) nz += c > 0;
        s.varint(nz);
        for (std::size_t c = 0; c < win.size(); ++c)
          if (win[c] > 0) {
            s.varint(c);
            s.u64(win[c]);
          }
      }
    });
  }

  void restore_position(state_reader& r) override {
    read_sealed(r, 1, "source " + describe(), [&](state_reader& s) {
      if (s.u64() != o_.seed || s.varint() != static_cast<std::uint64_t>(o_.partition) ||
          s.varint() != static_cast<std::uint64_t>(o_.partitions))
        s.fail("the position is of a generator with another seed or partitioning");
      emitted_ = s.u64();
      bytes_ = s.u64();
      if (s.i64() != base_window_) s.fail("the position is of a generator with another start time");
      const std::uint64_t nw = s.varint();
      if (nw > (std::uint64_t{1} << 24)) s.fail("too many windows (" + std::to_string(nw) + ")");
      views_.assign(static_cast<std::size_t>(nw), {});
      for (auto& win : views_)
        for (std::uint64_t k = 0, nz = s.varint(); k < nz; ++k) {
          const std::uint64_t c = s.varint();
          if (c >= win.size()) s.fail("campaign index " + std::to_string(c));
          win[static_cast<std::size_t>(c)] = s.u64();
        }
    });
    pacer_.resume(o_.rate, emitted_);
  }

  std::string describe_position() const override { return describe() + ": " + std::to_string(emitted_) + " events emitted"; }

private:
  void flush() {
    if (flushed_ || !tally_) return;
    flushed_ = true;
    for (std::size_t w = 0; w < views_.size(); ++w)
      for (int c = 0; c < ysb_model::campaigns; ++c)
        if (views_[w][static_cast<std::size_t>(c)] > 0)
          tally_->views[{c, (base_window_ + static_cast<std::int64_t>(w)) * ysb_model::window_ms}] +=
              views_[w][static_cast<std::size_t>(c)];
    tally_->events += emitted_;
    tally_->bytes += bytes_;
  }

  ysb_options o_;
  ysb_model model_;
  std::shared_ptr<ysb_tally> tally_;
  detail::pacer pacer_;
  std::uint64_t emitted_ = 0, bytes_ = 0;
  std::int64_t base_window_ = 0;
  std::vector<std::array<std::uint64_t, ysb_model::campaigns>> views_;
  std::string text_;
  bool flushed_ = false;
};

}  // namespace

ysb_model::ysb_model(std::uint64_t seed) {
  detail::event_rng r(seed ^ 0x7973625f6d6f6465ULL, 0);
  for (int i = 0; i < campaigns; ++i) campaign_ids.push_back(uuid(r));
  for (int i = 0; i < ads; ++i) ad_ids.push_back(uuid(r));
  for (int i = 0; i < users; ++i) user_ids.push_back(uuid(r));
  for (int i = 0; i < pages; ++i) page_ids.push_back(uuid(r));
}

ysb_event ysb_event_at(const ysb_options& o, std::uint64_t i) noexcept {
  detail::event_rng r(o.seed, i);
  const std::uint64_t h = r.next();
  ysb_event e;
  e.user = static_cast<std::uint16_t>((h & 0xffff) % ysb_model::users);
  e.page = static_cast<std::uint16_t>(((h >> 16) & 0xffff) % ysb_model::pages);
  e.ad = static_cast<std::uint16_t>(((h >> 32) & 0xffff) % ysb_model::ads);
  e.ad_type = static_cast<std::uint8_t>(((h >> 48) & 0xff) % ysb_model::ad_types.size());
  e.event_type = static_cast<std::uint8_t>((h >> 56) % ysb_model::event_types.size());
  e.time_ms = o.start_time_ms + static_cast<std::int64_t>(static_cast<double>(i) * (1000.0 / o.events_per_second));
  if (o.skew) e.time_ms += static_cast<std::int64_t>(r.below(100)) - 50;
  return e;
}

void ysb_json(const ysb_model& m, const ysb_event& e, std::string& out) {
  out += "{\"user_id\": \"";
  out += m.user_ids[e.user];
  out += "\", \"page_id\": \"";
  out += m.page_ids[e.page];
  out += "\", \"ad_id\": \"";
  out += m.ad_ids[e.ad];
  out += "\", \"ad_type\": \"";
  out += ysb_model::ad_types[e.ad_type];
  out += "\", \"event_type\": \"";
  out += ysb_model::event_types[e.event_type];
  out += "\", \"event_time\": \"";
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, e.time_ms);
  out.append(buf, r.ptr);
  out += "\", \"ip_address\": \"1.2.3.4\"}";
}

value ysb_binary(const ysb_event& e) {
  const std::int64_t items[] = {e.user, e.page, e.ad, e.ad_type, e.event_type, e.time_ms, 0x01020304};
  return value::int_array(items, true);
}

void ysb_tally::merge(const ysb_tally& o) {
  for (auto& [k, n] : o.views) views[k] += n;
  events += o.events;
  bytes += o.bytes;
}

source_ptr make_ysb_generator(const ysb_options& o, std::shared_ptr<ysb_tally> tally) {
  return std::make_unique<ysb_generator>(o, std::move(tally));
}

}  // namespace weir::io
