// Sources for runtime tests.
#pragma once

#include <string>
#include <vector>

#include "weir/io/source.hpp"

namespace weir::test {

/// Emits the given records, at most `chunk` per read, then ends.
class vector_source final : public io::source_reader {
public:
  vector_source(records data, std::size_t chunk) : data_(std::move(data)), chunk_(chunk) {}
  io::read_result read(records& out, std::size_t max) override {
    std::size_t n = std::min({max, chunk_, data_.size() - pos_});
    for (std::size_t i = 0; i < n; ++i) out.push_back(data_[pos_++]);
    if (pos_ == data_.size()) return {io::read_result::status::end, {}};
    return {io::read_result::status::more, {}};
  }
  std::string describe() const override { return "vector_source"; }

private:
  records data_;
  std::size_t chunk_;
  std::size_t pos_ = 0;
};

/// Emits the integers 0, 1, 2, … forever (until stopped).
class counter_source final : public io::source_reader {
public:
  io::read_result read(records& out, std::size_t max) override {
    for (std::size_t i = 0; i < max; ++i) out.emplace_back(next_++);
    return {io::read_result::status::more, {}};
  }
  std::string describe() const override { return "counter_source"; }

private:
  std::int64_t next_ = 0;
};

}  // namespace weir::test
