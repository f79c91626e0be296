// weir — sample (declared in basic_operators.hpp): Spark's
// `sample(withReplacement = false, fraction, seed)` on each batch, with a
// decision per record that is a pure function of the seed, the batch time
// and the record's position, so that a run is reproducible
// (docs/architecture.md §4).
#include <cstdint>
#include <string>

#include <xxhash.h>

#include "weir/operators/basic_operators.hpp"
#include "weir/operators/detail/state_codec.hpp"

namespace weir {

namespace {

/// Bernoulli sampling without replacement. The decision for a record is a
/// pure function of (seed, batch time, position of the record among the
/// records this instance received in the batch): u = XXH3_64(time, position;
/// seed) mapped to [0, 1) with 53 bits; the record is kept if u < fraction.
/// The batch time is the one of the batch being filled: the last batch end
/// seen plus the input slide (ctx.input_slide()). A rerun with the same seed
/// and the same input split keeps the same records (Spark's sampler is seeded
/// per partition in the same spirit; its exact PRNG sequence is not reproduced).
class sample_op final : public stream_operator {
public:
  sample_op(double fraction, std::uint64_t seed) : fraction_(fraction), seed_(seed) {}
  void open(const operator_context& ctx) override {
    slide_ = ctx.input_slide().count();
    time_ = slide_;
  }
  void process(const process_context&, records& in, records& out) override {
    for (auto& r : in) {
      std::int64_t key[2] = {time_, pos_++};
      std::uint64_t h = XXH3_64bits_withSeed(key, sizeof(key), seed_);
      double u = static_cast<double>(h >> 11) * 0x1.0p-53;
      if (u < fraction_) out.push_back(std::move(r));
    }
  }
  void on_batch_end(std::int64_t t, records&) override {
    time_ = t + slide_;
    pos_ = 0;
  }
  /// State: the PRNG's position, (time of the batch being filled, position
  /// in it), plus fraction and seed to check that the pipeline is the same.
  void snapshot_state(std::uint64_t, state_writer& w) override {
    detail::write_state(w, "sample", 1, [&](state_writer& w) {
      w.f64(fraction_);
      w.u64(seed_);
      w.i64(time_);
      w.i64(pos_);
    });
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    std::int64_t time = 0, pos = 0;
    detail::read_state(r, "sample", 1, [&](state_reader& r) {
      const double fraction = r.f64();
      const std::uint64_t seed = r.u64();
      if (!(fraction == fraction_) || seed != seed_)
        r.fail(error_code::state_mismatch,
               "state of sample(" + std::to_string(fraction) + ", seed " + std::to_string(seed) +
                   "), restored into sample(" + std::to_string(fraction_) + ", seed " + std::to_string(seed_) + ")");
      time = r.i64();
      pos = r.i64();
      if (pos < 0) r.fail("negative record position " + std::to_string(pos));
    });
    time_ = time;
    pos_ = pos;
  }

private:
  double fraction_;
  std::uint64_t seed_;
  std::int64_t slide_ = 1000;
  std::int64_t time_ = 1000;  ///< time of the batch being filled
  std::int64_t pos_ = 0;      ///< position of the next record in this batch
};

}  // namespace

operator_ptr make_sample(double fraction, std::uint64_t seed) { return std::make_unique<sample_op>(fraction, seed); }

}  // namespace weir
