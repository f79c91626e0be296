// Reads a write_jsonl output of (word, count) records and adds up the counts per word.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <simdjson.h>

#include <catch2/catch.hpp>

namespace weir::test {

struct jsonl_totals {
  std::map<std::string, std::int64_t> counts;
  std::size_t lines = 0;
  std::set<std::int64_t> times;
};

/// Each line must be {"time": <ms>, "record": [<word>, <count>]}.
inline jsonl_totals sum_word_counts(const std::filesystem::path& p) {
  jsonl_totals t;
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in.good());
  simdjson::ondemand::parser parser;
  std::string line;
  while (std::getline(in, line)) {
    ++t.lines;
    simdjson::padded_string ps(line);
    auto doc = parser.iterate(ps);
    std::int64_t time = doc["time"].get_int64().value();
    t.times.insert(time);
    auto rec = doc["record"].get_array().value();
    auto it = rec.begin().value();
    std::string word(std::string_view((*it).get_string().value()));
    ++it;
    std::int64_t n = (*it).get_int64().value();
    t.counts[word] += n;
  }
  return t;
}

}  // namespace weir::test
