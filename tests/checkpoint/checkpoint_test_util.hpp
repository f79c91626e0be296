// Helpers of the checkpoint store tests: generated checkpoints, file
// access, and an independent re-implementation of the documented on-disk
// framing (checkpoint/format.hpp's table) to forge files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <xxhash.h>

#include <catch2/catch.hpp>

#include "weir/checkpoint/checkpoint.hpp"
#include "weir/operators/snapshot.hpp"
#include "weir/operators/value.hpp"

namespace weir::test::ck {

namespace fs = std::filesystem;
using namespace weir::checkpoint;

inline std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_bytes(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(s.data(), static_cast<std::streamsize>(s.size()));
}

inline std::string folder(std::uint64_t id) {
  std::string digits = std::to_string(id);
  return "chk-" + std::string(12 - digits.size(), '0') + digits;
}

/// Sum of the sizes of the regular files under `p` (independent of the store).
inline std::uint64_t disk_bytes(const fs::path& p) {
  std::uint64_t total = 0;
  for (auto& e : fs::recursive_directory_iterator(p))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

/// Values of every kind, nested, with the tuple flag and odd strings.
inline std::vector<value> every_kind_values(int seed) {
  std::vector<value> v;
  v.push_back(value());
  v.push_back(value(true));
  v.push_back(value(false));
  v.push_back(value(static_cast<std::int64_t>(seed) * 1000003 - 7));
  v.push_back(value(std::numeric_limits<std::int64_t>::min()));
  v.push_back(value(std::numeric_limits<std::int64_t>::max()));
  v.push_back(value(-0.5 + seed));
  v.push_back(value(1e300));
  v.push_back(value(std::string("zero\0byte", 9)));
  v.push_back(value("héllo wörld " + std::to_string(seed)));
  v.push_back(value(""));
  v.push_back(value::array({value(1), value("a"), value()}, false));
  v.push_back(value::array({value("key"), value(static_cast<std::int64_t>(seed))}, true));
  v.push_back(value::array({}, false));
  v.push_back(value::object({{value("name"), value("x")},
                             {value("nested"), value::array({value::object({{value("k"), value(2.25)}})}, true)}}));
  return v;
}

/// An operator section holding `every_kind_values(seed)` plus `pad` bytes of
/// compressible padding (a string of repeated text).
inline std::string encode_values(int seed, std::size_t pad = 0) {
  state_writer w;
  auto vals = every_kind_values(seed);
  w.varint(vals.size());
  for (auto& x : vals) w.val(x);
  std::string padding;
  while (padding.size() < pad) padding += "key-" + std::to_string(padding.size() % 97) + ";";
  w.str(padding);
  w.i64(-42);
  w.f64(3.5);
  return w.take();
}

/// A checkpoint of `tasks` tasks (stage i, instance i % 2), deterministic in `id`.
inline checkpoint_data make_checkpoint(std::uint64_t id, int tasks = 3, std::size_t pad = 0) {
  checkpoint_data c;
  c.id = id;
  c.timestamp_ms = 1700000000123 + static_cast<std::int64_t>(id) * 1000;
  c.plan = plan_fingerprint({{"file -> map", 1}, {"reduce_by_key -> print", 2}});
  c.final = id % 2 == 0;
  for (int i = 0; i < tasks; ++i) {
    task_snapshot t;
    t.stage = i;
    t.instance = i % 2;
    t.name = "stage" + std::to_string(i) + " -> reduce_by_key[" + std::to_string(i % 2) + "]";
    t.finished = i == 0;
    state_writer rt;
    rt.i64(static_cast<std::int64_t>(id) * 100 + i);
    rt.i64(-1);
    t.runtime = rt.take();
    if (i == 0) {
      state_writer sp;
      sp.str("in.txt");
      sp.u64(12345 + id);
      t.source_position = sp.take();
      t.source_describe = "in.txt: line " + std::to_string(100 + id) + ", byte " + std::to_string(12345 + id);
    }
    t.operators.push_back({"map", ""});
    t.operators.push_back({"reduce_by_key", encode_values(static_cast<int>(id) * 10 + i, pad)});
    c.tasks.push_back(std::move(t));
  }
  return c;
}

inline void require_equal(const checkpoint_data& a, const checkpoint_data& b) {
  REQUIRE(a.id == b.id);
  CHECK(a.timestamp_ms == b.timestamp_ms);
  CHECK(a.plan == b.plan);
  CHECK(a.final == b.final);
  REQUIRE(a.tasks.size() == b.tasks.size());
  for (std::size_t i = 0; i < a.tasks.size(); ++i) {
    auto &x = a.tasks[i], &y = b.tasks[i];
    CHECK(x.stage == y.stage);
    CHECK(x.instance == y.instance);
    CHECK(x.name == y.name);
    CHECK(x.finished == y.finished);
    CHECK(x.runtime == y.runtime);
    CHECK(x.source_position == y.source_position);
    CHECK(x.source_describe == y.source_describe);
    REQUIRE(x.operators.size() == y.operators.size());
    for (std::size_t j = 0; j < x.operators.size(); ++j) {
      CHECK(x.operators[j].name == y.operators[j].name);
      CHECK(x.operators[j].bytes == y.operators[j].bytes);
    }
  }
}

// ---- the documented framing, re-implemented for forging files ----------

inline std::uint64_t le64(const std::string& s, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}
inline void put_le64(std::string& s, std::size_t at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
inline void put_le32(std::string& s, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

/// Recomputes the header checksum (bytes 32..39 = xxh3 of bytes 0..31).
inline void reseal_header(std::string& f) { put_le64(f, 32, XXH3_64bits(f.data(), 32)); }

/// A whole file around `stored` content with the given header fields, every
/// checksum correct.
inline std::string forge(const std::string& stored, std::uint32_t version, std::uint32_t flags,
                         std::uint64_t raw_size) {
  std::string f(40, '\0');
  f.replace(0, 8, "WEIRCKPT");
  put_le32(f, 8, version);
  put_le32(f, 12, flags);
  put_le64(f, 16, raw_size);
  put_le64(f, 24, stored.size());
  reseal_header(f);
  f += stored;
  std::string sum(8, '\0');
  put_le64(sum, 0, XXH3_64bits(stored.data(), stored.size()));
  return f + sum;
}

struct manifest_entry {
  std::string file;
  std::uint64_t size, sum;
};

/// A MANIFEST's content as documented (u64 id, i64 ts, str plan, bool final, entries).
inline std::string manifest_content(std::uint64_t id, std::int64_t ts, const std::string& plan, bool final,
                                    const std::vector<manifest_entry>& files) {
  state_writer w;
  w.u64(id);
  w.i64(ts);
  w.str(plan);
  w.boolean(final);
  w.varint(files.size());
  for (auto& e : files) {
    w.str(e.file);
    w.u64(e.size);
    w.u64(e.sum);
  }
  return w.take();
}

/// Rewrites DIR/chk-id/MANIFEST to list every task file with its current size
/// and checksum (after a test changed a task file on purpose).
inline void rewrite_manifest(const fs::path& chk, const checkpoint_data& c) {
  std::vector<manifest_entry> files;
  for (auto& t : c.tasks) {
    std::string name = "task-" + std::to_string(t.stage) + "-" + std::to_string(t.instance) + ".bin";
    std::string bytes = read_bytes(chk / name);
    files.push_back({name, bytes.size(), XXH3_64bits(bytes.data(), bytes.size())});
  }
  std::string content = manifest_content(c.id, c.timestamp_ms, c.plan, c.final, files);
  write_bytes(chk / "MANIFEST", forge(content, 1, 2, content.size()));
}

}  // namespace weir::test::ck
