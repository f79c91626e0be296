// A typed word count with weir's C++ API, built against the installed
// package (find_package(weir) or pkg-config; see tests/install/run.sh) and
// including nothing of weir but the umbrella header <weir/weir.hpp>. Prints
// "word count" lines sorted by word and exits 1 if weir's counts differ from
// a plain loop's.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <weir/weir.hpp>

namespace {

const std::vector<std::string> text = {
    "to be or not to be that is the question",
    "whether tis nobler in the mind to suffer",
    "the slings and arrows of outrageous fortune",
    "or to take arms against a sea of troubles",
    "and by opposing end them",
};

/// A custom receiver: the lines of `text`, at most `max` per read, then end of stream.
class text_source final : public weir::io::source_reader {
public:
  weir::io::read_result read(weir::records& out, std::size_t max) override {
    for (; next_ < text.size() && max > 0; --max) out.emplace_back(text[next_++]);
    using st = weir::io::read_result::status;
    return {next_ == text.size() ? st::end : st::more, {}};
  }
  std::string describe() const override { return "text"; }

private:
  std::size_t next_ = 0;
};

}  // namespace

int main() {
  std::map<std::string, std::int64_t> expected;
  std::size_t words = 0;
  for (auto& line : text) {
    std::istringstream in(line);
    for (std::string w; in >> w; ++words) ++expected[w];
  }

  std::mutex mtx;
  std::map<std::string, std::int64_t> counts;
  weir::run_stats stats;
  std::string plan;
  {
    weir::streaming_context ssc(
        {.batch_interval = std::chrono::milliseconds(200), .parallelism = 2, .batch_size = 4, .threads = 2});
    // the typed API: lambdas over std::string and std::pair<std::string, std::int64_t>
    using word_count = std::pair<std::string, std::int64_t>;
    weir::as_stream<std::string>(ssc.source("text", [] { return std::make_unique<text_source>(); }))
        .flat_map([](const std::string& line) {
          std::vector<std::string> words;
          std::istringstream in(line);
          for (std::string w; in >> w;) words.push_back(w);
          return words;
        })
        .map([](const std::string& w) { return word_count{w, 1}; })
        .reduce_by_key([](std::int64_t a, std::int64_t b) { return a + b; })
        .for_each_batch([&](std::int64_t, const std::vector<word_count>& batch) {
          std::lock_guard<std::mutex> lock(mtx);
          for (auto& [w, n] : batch) counts[w] += n;
        });
    plan = ssc.explain();
    stats = ssc.run();
  }

  for (auto& [w, n] : counts) std::printf("%s %lld\n", w.c_str(), static_cast<long long>(n));
  int rc = 0;
  if (counts != expected) {
    std::fprintf(stderr, "weir_consumer: wrong counts (%zu words counted, %zu expected)\n", counts.size(),
                 expected.size());
    rc = 1;
  }
  if (stats.source_records != text.size()) {
    std::fprintf(stderr, "weir_consumer: %llu source records, expected %zu\n",
                 static_cast<unsigned long long>(stats.source_records), text.size());
    rc = 1;
  }
  if (plan.find("stage 1 x2: reduce_by_key\n") == std::string::npos) {
    std::fprintf(stderr, "weir_consumer: unexpected plan:\n%s", plan.c_str());
    rc = 1;
  }
  std::fprintf(stderr, "weir_consumer: %zu words, %zu distinct, batches: %llu\n", words, counts.size(),
               static_cast<unsigned long long>(stats.batches));
  return rc;
}
