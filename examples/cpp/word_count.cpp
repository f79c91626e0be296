// Word count over a socket — Spark's NetworkWordCount with weir's C++ API.
//
//   word_count HOST:PORT [BATCH_MS]
//
// Connects to HOST:PORT (e.g. `nc -lk 9999`), splits every line on
// whitespace and counts the words per batch (reduce_by_key) — printed per
// batch on stderr — and in total. The stream ends when the server closes the
// connection (socket_options::reconnect = false; Spark's receiver would
// reconnect); then the totals are printed on stdout, "word count" per line,
// sorted by word. Written with the typed API (weir::stream<T>).
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <weir/api/stream.hpp>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: word_count HOST:PORT [BATCH_MS]\n");
    return 2;
  }
  long batch_ms = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 1000;
  if (batch_ms <= 0) {
    std::fprintf(stderr, "word_count: BATCH_MS must be a positive number of milliseconds\n");
    return 2;
  }

  std::mutex mtx;
  std::map<std::string, std::int64_t> totals;
  try {
    weir::streaming_context ssc({.batch_interval = std::chrono::milliseconds(batch_ms)});
    weir::io::socket_options so;
    so.reconnect = false;  // end of stream when the server closes
    // The typed API (weir/api/stream.hpp): lambdas over C++ types.
    using word_count = std::pair<std::string, std::int64_t>;
    weir::as_stream<std::string>(ssc.socket_text_stream(argv[1], so))
        .flat_map([](const std::string& line) {
          std::vector<std::string> words;
          std::size_t i = 0;
          while (i < line.size()) {
            while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
            std::size_t j = i;
            while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
            if (j > i) words.push_back(line.substr(i, j - i));
            i = j;
          }
          return words;
        })
        .map([](const std::string& w) { return word_count{w, 1}; })
        .reduce_by_key([](std::int64_t a, std::int64_t b) { return a + b; })
        .for_each_batch([&](std::int64_t time_ms, const std::vector<word_count>& batch) {
          std::int64_t words = 0;
          std::lock_guard<std::mutex> lock(mtx);
          for (auto& [w, n] : batch) {
            totals[w] += n;
            words += n;
          }
          if (!batch.empty())
            std::fprintf(stderr, "batch %lld: %lld words, %zu distinct\n", static_cast<long long>(time_ms),
                         static_cast<long long>(words), batch.size());
        });
    weir::run_stats stats = ssc.run();
    std::fprintf(stderr, "word_count: %llu lines, %zu distinct words\n",
                 static_cast<unsigned long long>(stats.source_records), totals.size());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "word_count: %s\n", e.what());
    return 1;
  }
  for (auto& [w, n] : totals) std::printf("%s %lld\n", w.c_str(), static_cast<long long>(n));
  return 0;
}
