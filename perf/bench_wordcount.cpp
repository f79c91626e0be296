// Word count: weir (actors, parallelism 1 and 2) against a hand-written
// single-threaded loop on the same generated text. Reports the median of
// several runs in words/s and checks that every run's counts are equal.
//
//   build/perf/weir-bench-wordcount [--lines N] [--runs R]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "weir/api/dstream.hpp"

#ifdef WEIR_USE_MIMALLOC
#include <mimalloc-new-delete.h>
#endif

using namespace weir;
using clk = std::chrono::steady_clock;

namespace {

std::vector<std::string> make_text(std::size_t lines, std::size_t& words) {
  // Zipf-ish vocabulary of 5,000 words, 8 words per line on average.
  std::vector<std::string> vocab;
  for (int i = 0; i < 5000; ++i) vocab.push_back("w" + std::to_string(i * 7919 % 100003));
  std::vector<std::string> out;
  std::uint64_t x = 42;
  words = 0;
  for (std::size_t l = 0; l < lines; ++l) {
    std::string line;
    int n = 4 + static_cast<int>(l % 9);
    for (int w = 0; w < n; ++w) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      double u = static_cast<double>(x >> 11) / 9007199254740992.0;
      auto idx = static_cast<std::size_t>(5000.0 * u * u * u);  // skewed
      if (!line.empty()) line.push_back(' ');
      line += vocab[std::min<std::size_t>(idx, 4999)];
      ++words;
    }
    out.push_back(std::move(line));
  }
  return out;
}

/// The limit: one thread, no framework, string_view splitting, one hash map.
std::unordered_map<std::string_view, std::int64_t> hand_written(const std::vector<std::string>& text) {
  std::unordered_map<std::string_view, std::int64_t> counts;
  counts.reserve(8192);
  for (auto& line : text) {
    std::string_view s(line);
    std::size_t pos = 0;
    while (pos < s.size()) {
      auto sp = s.find(' ', pos);
      if (sp == std::string_view::npos) sp = s.size();
      if (sp > pos) ++counts[s.substr(pos, sp - pos)];
      pos = sp + 1;
    }
  }
  return counts;
}

class text_source final : public io::source_reader {
public:
  explicit text_source(const std::vector<std::string>& t) : t_(t) {}
  io::read_result read(records& out, std::size_t max) override {
    std::size_t n = std::min(max, t_.size() - pos_);
    for (std::size_t i = 0; i < n; ++i) out.emplace_back(std::string_view(t_[pos_++]));
    return {pos_ == t_.size() ? io::read_result::status::end : io::read_result::status::more, {}};
  }
  std::string describe() const override { return "text"; }

private:
  const std::vector<std::string>& t_;
  std::size_t pos_ = 0;
};

std::int64_t run_weir(const std::vector<std::string>& text, int parallelism, std::size_t& distinct) {
  context_options o;
  o.parallelism = parallelism;
  o.batch_interval = std::chrono::milliseconds(1000);
  streaming_context ssc(o);
  std::int64_t total = 0;
  distinct = 0;
  ssc.source("text", [&] { return std::make_unique<text_source>(text); })
      .flat_map([](const value& line, records& out) {
        auto s = line.as_string();
        std::size_t pos = 0;
        while (pos < s.size()) {
          auto sp = s.find(' ', pos);
          if (sp == std::string_view::npos) sp = s.size();
          if (sp > pos) out.emplace_back(value::pair(value(s.substr(pos, sp - pos)), 1));
          pos = sp + 1;
        }
      })
      .reduce_by_key(reducer::sum())
      .for_each_batch([&](std::int64_t, records& r) {
        for (auto& kv : r) total += kv.as_array()[1].as_int();
      });
  ssc.run();
  return total;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t lines = 2'000'000;
  int runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--lines")) lines = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[i + 1]);
  }
  std::size_t words = 0;
  auto text = make_text(lines, words);
  std::printf("word count over %zu generated lines, %zu words; median of %d runs\n", lines, words, runs);

  std::vector<double> t_limit;
  std::int64_t limit_total = 0;
  for (int r = 0; r < runs; ++r) {
    auto t0 = clk::now();
    auto c = hand_written(text);
    t_limit.push_back(std::chrono::duration<double>(clk::now() - t0).count());
    limit_total = 0;
    for (auto& [w, n] : c) limit_total += n;
  }
  if (limit_total != static_cast<std::int64_t>(words)) {
    std::fprintf(stderr, "hand-written count is wrong: %lld\n", static_cast<long long>(limit_total));
    return 1;
  }
  double limit = static_cast<double>(words) / median(t_limit);
  std::printf("%-28s %12.2f M words/s\n", "hand-written loop (1 core)", limit / 1e6);

  for (int par : {1, 2}) {
    std::vector<double> t;
    for (int r = 0; r < runs; ++r) {
      std::size_t distinct = 0;
      auto t0 = clk::now();
      auto total = run_weir(text, par, distinct);
      t.push_back(std::chrono::duration<double>(clk::now() - t0).count());
      if (total != static_cast<std::int64_t>(words)) {
        std::fprintf(stderr, "weir count is wrong at parallelism %d: %lld\n", par, static_cast<long long>(total));
        return 1;
      }
    }
    double rate = static_cast<double>(words) / median(t);
    std::printf("weir, parallelism %d %*s %12.2f M words/s  (%.0f%% of the loop)\n", par, 9, "",
                rate / 1e6, 100.0 * rate / limit);
  }
  return 0;
}
