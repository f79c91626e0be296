// batches(path, total): deterministic replay of a JSON-lines file, one line =
// one batch, on a logical clock.
#include <fstream>

#include "weir/io/json.hpp"
#include "weir/io/sources.hpp"
#include "weir/operators/sealed_state.hpp"

namespace weir::io {
namespace {

class batches_source final : public source_reader {
public:
  batches_source(std::string path, std::int64_t total, int part, int parts)
      : path_(std::move(path)), total_(total), part_(part), parts_(parts) {}

  void open() override {
    std::ifstream probe(path_);
    if (!probe) throw pipeline_error("batches(\"" + path_ + "\"): cannot open: No such file or directory");
    records lines;
    try {
      lines = read_jsonl(path_);
    } catch (const pipeline_error& e) {
      throw pipeline_error("batches(\"" + path_ + "\"): " + e.what());
    }
    std::size_t k = 0;
    for (auto& l : lines) {
      ++k;
      if (!l.is_array())
        throw pipeline_error("batches(\"" + path_ + "\"): batch " + std::to_string(k) +
                             ": expected a JSON array of the batch's elements, got " +
                             std::string(kind_name(l.type())));
      // partition part_ of parts_ holds items [i·n/P, (i+1)·n/P) (Spark's
      // ParallelCollectionRDD.slice, as makeRDD / queueStream inputs are cut)
      auto items = l.as_array();
      const auto n = static_cast<std::int64_t>(items.size());
      const auto lo = static_cast<std::ptrdiff_t>(part_ * n / parts_);
      const auto hi = static_cast<std::ptrdiff_t>((part_ + 1) * n / parts_);
      batches_.emplace_back(items.begin() + lo, items.begin() + hi);
    }
    if (total_ <= 0) total_ = static_cast<std::int64_t>(batches_.size());
  }

  read_result read(records& out, std::size_t max) override {
    if (batch_ >= total_) return {read_result::status::end, {}};
    auto k = static_cast<std::size_t>(batch_);
    if (k < batches_.size()) {
      auto& b = batches_[k];
      while (pos_ < b.size() && max-- > 0) out.push_back(b[pos_++]);
      if (pos_ < b.size()) return {read_result::status::more, {}};
    }
    ++batch_;
    pos_ = 0;
    return {read_result::status::batch_end, {}};
  }

  bool logical_clock() const override { return true; }

  // Checkpoints: the batch being read (= the logical clock: batch k ends
  // at its k-th batch_end) and the next record within it.
  bool replayable() const override { return true; }

  void snapshot_position(state_writer& w) const override {
    write_sealed(w, 1, [&](state_writer& s) {
      s.str(path_);
      s.i64(batch_);
      s.u64(pos_);
    });
  }

  void restore_position(state_reader& r) override {
    read_sealed(r, 1, "source " + describe(), [&](state_reader& s) {
      if (s.str() != path_) s.fail("the position is of another file than \"" + path_ + "\"");
      const std::int64_t b = s.i64();
      const std::uint64_t p = s.u64();
      if (b < 0 || b > total_) s.fail("batch " + std::to_string(b) + " of " + std::to_string(total_));
      const auto k = static_cast<std::size_t>(b);
      if (p > 0 && (k >= batches_.size() || p > batches_[k].size()))
        s.fail("record " + std::to_string(p) + " of batch " + std::to_string(b + 1) + " (the file changed?)");
      batch_ = b;
      pos_ = static_cast<std::size_t>(p);
    });
  }

  std::string describe_position() const override {
    return describe() + ": batch " + std::to_string(batch_ + 1) + ", record " + std::to_string(pos_);
  }
  std::string describe() const override {
    return "batches(\"" + path_ + "\")" +
           (parts_ > 1 ? " partition " + std::to_string(part_ + 1) + " of " + std::to_string(parts_) : "");
  }

private:
  std::string path_;
  std::int64_t total_;
  std::int64_t part_, parts_;     ///< this instance's partition of each batch
  std::vector<records> batches_;  ///< this partition's items of each batch
  std::int64_t batch_ = 0;  ///< index of the batch being read
  std::size_t pos_ = 0;     ///< next record within it
};

}  // namespace

source_ptr make_batches_source(std::string path, std::int64_t total, int part, int parts) {
  if (parts < 1 || part < 0 || part >= parts)
    throw pipeline_error("batches(\"" + path + "\"): partition " + std::to_string(part) + " of " +
                         std::to_string(parts));
  return std::make_unique<batches_source>(std::move(path), total, part, parts);
}

}  // namespace weir::io
