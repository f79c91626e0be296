// batches(path, total): deterministic replay of a JSON-lines file, one line =
// one batch, on a logical clock.
#include <fstream>

#include "weir/io/json.hpp"
#include "weir/io/sources.hpp"

namespace weir::io {
namespace {

class batches_source final : public source_reader {
public:
  batches_source(std::string path, std::int64_t total) : path_(std::move(path)), total_(total) {}

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
      batches_.emplace_back(l.as_array().begin(), l.as_array().end());
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
  std::string describe() const override { return "batches(\"" + path_ + "\")"; }

private:
  std::string path_;
  std::int64_t total_;
  std::vector<records> batches_;
  std::int64_t batch_ = 0;  ///< index of the batch being read
  std::size_t pos_ = 0;     ///< next record within it
};

}  // namespace

source_ptr make_batches_source(std::string path, std::int64_t total) {
  return std::make_unique<batches_source>(std::move(path), total);
}

}  // namespace weir::io
