// weir — internal: what the three event-time window operators share
// (fixed_windows.cpp, session_windows.cpp, count_panes.cpp; public API in
// operators/event_time.hpp): the record loop (key and body of a keyed
// record, event time or processing time, malformed records under the
// on_error policy), the watermark and processing-time plumbing, late
// records, result records, and the frame of their checkpoint state. The
// shapes themselves (where a record goes, what fires at a watermark, what
// the state holds) are the derived class's, bound statically (CRTP) so that
// the record path has no virtual call per record. Not part of the public API.
//
// Checkpoint state of a window operator (docs/architecture.md §6): a sealed
// frame (sealed_state.hpp) of format `window_state_format`, whose payload
// starts with the operator's tag ("event_window.fixed", ".session",
// ".count_panes"), a shape byte (window kind, keying, output mode, time
// domain), the records seen, the watermark (or processing time) reached and
// the late/malformed counters, followed by the derived class's body. A state
// of another tag or shape is refused as "a different window operator"; a
// state of format 1 (before each shape had a state of its own) is refused
// as written by an earlier weir.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "weir/common/time.hpp"
#include "weir/operators/basic_operators.hpp"
#include "weir/operators/event_time.hpp"
#include "weir/operators/hash_memo.hpp"
#include "weir/operators/sealed_state.hpp"
#include "weir/operators/snapshot.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir::detail {

/// The sealed-frame format of every window operator's state (format 1 was
/// one state for all shapes, told apart by a bitmask).
inline constexpr std::uint8_t window_state_format = 2;

/// The operators behind make_event_window (options validated by it).
operator_ptr make_fixed_windows(event_window_options o);
operator_ptr make_session_windows(event_window_options o);
operator_ptr make_count_panes(event_window_options o);

/// Reads a hash table's capacity, then its entry count, checked against
/// each other (a power of two >= 16, load <= 0.7, not oversized), so that a
/// corrupt state cannot make a restore allocate without bound.
/// @errors pipeline_error (corrupt_state).
inline std::uint64_t read_table_size(state_reader& s, std::size_t& cap_out) {
  const std::uint64_t cap = s.varint();
  const std::uint64_t n = s.varint();
  if (cap < 16 || (cap & (cap - 1)) != 0 || n > (std::uint64_t{1} << 40) || cap > std::max<std::uint64_t>(16, 4 * n) ||
      n * 10 > cap * 7)
    s.fail("bad hash table capacity " + std::to_string(cap) + " for " + std::to_string(n) + " entries");
  cap_out = static_cast<std::size_t>(cap);
  return n;
}

/// Base of a window operator `Derived`, which provides:
///   static constexpr const char* tag;                   its snapshot tag
///   void add(const value& key, std::int64_t ts, const value& body, records& out);
///   void fire(std::int64_t wm, records& out);           the watermark advanced to wm
///   std::optional<std::int64_t> first_due() const;      earliest window end (processing time)
///   void save(state_writer&) const; void load(state_reader&);  its part of the state
/// @thread One instance per parallel partition; one thread at a time.
template <class Derived>
class event_window_base : public stream_operator {
public:
  explicit event_window_base(event_window_options o) : o_(std::move(o)) {}

  void process(const process_context& ctx, records& in, records& out) override {
    const bool proc_time = !o_.time;
    const std::int64_t now = proc_time ? wall_ms() : 0;
    // the keyed edge's routing hashes of the keys, when it passes them
    const std::uint64_t* hashes = o_.keyed ? ctx.key_hashes : nullptr;
    const value* recs = in.data();  // `in` does not change here: no reload per record
    const std::size_t n = in.size();
    for (std::size_t i = 0; i < n; ++i) {
      const value& rec = recs[i];
      key_hash_ = hashes ? hashes + i : nullptr;
      ++seen_;
      const value* key = &null_;
      const value* body = &rec;
      if (o_.keyed) {
        std::span<const value> kv;
        if (rec.is_array() && (kv = rec.as_array()).size() == 2) {
          key = &kv[0];
          body = &kv[1];
        } else {
          auto p = as_pair(rec, "aggregate");  // throws the error
          key = p.first;
          body = p.second;
        }
      }
      std::int64_t ts = now;
      if (!proc_time) {
        try {
          const value t = o_.time(*body);
          ts = t.is_int() ? t.as_int() : event_time_of(t, o_.time_text);
        } catch (const record_error& e) {
          std::string raw = body->is_string() ? std::string(body->as_string()) : body->to_json();
          handle_bad_record(o_.on_error, bad_record{raw, e.what(), "record " + std::to_string(seen_)},
                            counters_.malformed_records);
          continue;
        }
      }
      self().add(*key, ts, *body, out);
    }
  }

  std::int64_t on_watermark(std::int64_t wm, records& out) override {
    if (!o_.time && wm != end_watermark) return wm;  // processing time: upstream watermarks do not apply
    advance(wm, out);
    return wm;
  }

  /// Processing-time windows: the end of the first window (or session)
  /// still to fire or purge; event time: none.
  std::optional<std::int64_t> next_timer() const override {
    if (o_.time) return std::nullopt;
    return self().first_due();
  }

  void on_processing_time(const process_context&, std::int64_t now, records& out) override {
    if (!o_.time) advance(now, out);
  }

  // Checkpoints: the frame and header described at the top of this file,
  // then the derived class's windows. Processing-time timers are the window
  // ends themselves, so they come back with the windows.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    write_sealed(w, window_state_format, [&](state_writer& s) {
      s.str(Derived::tag);
      s.u8(shape());
      s.u64(seen_);
      s.i64(wm_);
      s.u64(counters_.late_records);
      s.u64(counters_.malformed_records);
      self().save(s);
    });
  }

  void restore_state(std::uint64_t, state_reader& r) override {
    if (r.remaining() > 0 && static_cast<std::uint8_t>(r.data()[r.position()]) == 1)
      r.fail(error_code::state_version,
             "event window state of format 1, written by an earlier weir (this build reads format " +
                 std::to_string(window_state_format) + "): start this pipeline without the checkpoint");
    read_sealed(r, window_state_format, "event window " + o_.window.describe(), [&](state_reader& s) {
      const std::string tag = s.str();
      if (tag != Derived::tag)
        s.fail(error_code::state_mismatch, "the state is of a different window operator (" + shown_tag(tag) +
                                               ", restored into " + Derived::tag + ")");
      if (s.u8() != shape())
        s.fail(error_code::state_mismatch,
               "the state is of a different window operator (window kind, keying, output mode or time domain "
               "changed)");
      seen_ = s.u64();
      wm_ = s.i64();
      counters_.late_records = s.u64();
      counters_.malformed_records = s.u64();
      self().load(s);
    });
  }

protected:
  /// The output record of window [start, end) (and key): an object
  /// {"start", "end", "key" (keyed only), "value"}.
  value result(std::int64_t start, std::int64_t end, const value& key, value v) const {
    std::vector<field> f;
    f.reserve(4);
    f.push_back({value("start"), value(start)});
    f.push_back({value("end"), value(end)});
    if (o_.keyed) f.push_back({value("key"), key});
    f.push_back({value("value"), std::move(v)});
    return value::object(std::move(f));
  }

  /// The hash of the current record's key: the one the keyed edge passed
  /// (process_context::key_hashes), else computed (through the memo).
  std::uint64_t key_hash(const value& key) { return key_hash_ ? *key_hash_ : hash_(key); }

  /// A record none of whose windows is open any more: counted, and handed
  /// to the late-record side output if there is one.
  void late(const value& body) {
    ++counters_.late_records;
    if (o_.late) o_.late(body);
  }

  /// Distance between window starts: the slide (sliding), the size (tumbling).
  std::int64_t slide_ms() const {
    return o_.window.type == window_spec::kind::sliding ? o_.window.slide_ms : o_.window.size_ms;
  }

  event_window_options o_;
  std::uint64_t seen_ = 0;          ///< records processed (numbers malformed ones: "record N")
  std::int64_t wm_ = no_watermark;  ///< the watermark (or processing time) reached

private:
  Derived& self() { return static_cast<Derived&>(*this); }
  const Derived& self() const { return static_cast<const Derived&>(*this); }

  void advance(std::int64_t wm, records& out) {
    if (wm <= wm_) return;
    wm_ = wm;
    self().fire(wm, out);
  }

  /// What the layout depends on besides the tag: window kind, keyed,
  /// output mode, time domain.
  std::uint8_t shape() const {
    return static_cast<std::uint8_t>(static_cast<int>(o_.window.type) | (o_.keyed ? 4 : 0) |
                                     (o_.output == output_mode::update ? 8 : 0) | (o_.time ? 0 : 16));
  }

  static std::string shown_tag(const std::string& t) { return t.size() > 40 ? t.substr(0, 40) + "..." : t; }

  value null_;
  hash_memo hash_;                           ///< key → hash, for the keys seen again and again
  const std::uint64_t* key_hash_ = nullptr;  ///< process(): the current record's key hash, if the edge passed it
};

}  // namespace weir::detail
