// weir — internal: what every decoder (and guarded map/filter/flat_map)
// shares: the error policy, record provenance and bad-record handling.
// Not part of the public API.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "weir/operators/sealed_state.hpp"
#include "weir/operators/error_policy.hpp"
#include "weir/operators/snapshot.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir::io::detail {

class decoder_base : public stream_operator {
public:
  explicit decoder_base(error_policy p) : policy_(std::move(p)) {}

  /// Takes the provenance of the input from the call's context and decodes.
  void process(const process_context& ctx, records& in, records& out) final {
    origin_ = ctx.origin;
    struct reset {  // the origin is valid during this call only
      const record_origin*& o;
      ~reset() { o = nullptr; }
    } r{origin_};
    decode(in, out);
  }

  /// Checkpoints: the record count (provenance "record N" continues), the
  /// malformed count, then what save_more() adds (a decoder with state
  /// across process() calls, e.g. a CSV record open over several lines).
  void snapshot_state(std::uint64_t, state_writer& w) override {
    write_sealed(w, state_format(), [&](state_writer& s) {
      s.u64(seen_);
      s.u64(counters_.malformed_records);
      save_more(s);
    });
  }

  void restore_state(std::uint64_t, state_reader& r) override {
    if (r.remaining() > 0 && static_cast<std::uint8_t>(r.data()[r.position()]) < state_format())
      r.fail(error_code::state_version,
             "decoder state of format " + std::to_string(static_cast<unsigned>(r.data()[r.position()])) +
                 ", written by an earlier weir (this build reads format " + std::to_string(state_format()) +
                 "): start this pipeline without the checkpoint");
    read_sealed(r, state_format(), "decoder", [&](state_reader& s) {
      seen_ = s.u64();
      counters_.malformed_records = s.u64();
      load_more(s);
    });
  }

protected:
  /// Decodes the records of one process() call (as process() would).
  virtual void decode(records& in, records& out) = 0;

  virtual void save_more(state_writer&) const {}
  virtual void load_more(state_reader&) {}
  /// The sealed-frame format of this decoder's state; a decoder bumps it
  /// when what save_more() writes changes (an older state is then refused).
  virtual std::uint8_t state_format() const { return 1; }

  /// Provenance of record `i` (0-based) of the current process() input: the
  /// source's (e.g. "apache_logs:8899") when known, else "record N" with N
  /// the 1-based count of records this instance has seen.
  std::string provenance(std::size_t i) const {
    if (origin_) return origin_->describe(i);
    return "record " + std::to_string(seen_ + i + 1);
  }

  /// Applies the policy to a bad record. @errors record_error for `fail`.
  void bad(std::string_view raw, std::string reason, std::string prov) {
    handle_bad_record(policy_, bad_record{raw, std::move(reason), std::move(prov)},
                      counters_.malformed_records);
  }

  /// Call at the end of process() with the number of input records.
  void consumed(std::size_t n) noexcept { seen_ += n; }

  /// The record's kind when it is not a string, for "expected a string record, got int".
  static std::string not_a_string(const value& v) {
    return std::string("expected a string record, got ").append(kind_name(v.type()));
  }

  error_policy policy_;
  std::uint64_t seen_ = 0;  ///< input records seen before the current process() call
  const record_origin* origin_ = nullptr;  ///< the current call's process_context::origin
};

}  // namespace weir::io::detail
