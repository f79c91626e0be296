// Fuzz-ish robustness of the checkpoint reader: 2,000 random mutations of a
// valid checkpoint's files (bit flips, truncation, extension, overwrites,
// deletions, and mutations re-sealed with correct checksums so that the
// decoders themselves see garbage) never crash (ASan/UBSan builds check
// memory) and either load or throw checkpoint_error / pipeline_error.
#include <optional>
#include <random>

#include "checkpoint/checkpoint_test_util.hpp"
#include "support/test_data.hpp"

using namespace weir::test::ck;
using weir::test::temp_dir;

namespace {

std::string random_bytes(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

/// Mutates `f` in place; returns true when checksums should be re-sealed.
bool mutate(std::string& f, std::mt19937_64& rng, bool& deleted) {
  auto pick = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
  switch (rng() % 10) {
    case 0:  // flip 1..4 bits anywhere
      for (int i = 0, n = 1 + static_cast<int>(rng() % 4); i < n && !f.empty(); ++i)
        f[pick(f.size())] ^= static_cast<char>(1 << (rng() % 8));
      return false;
    case 1:  // truncate
      f.resize(pick(f.size()));
      return false;
    case 2:  // extend
      f += random_bytes(rng, 1 + pick(64));
      return false;
    case 3:  // overwrite a range
      if (!f.empty()) {
        std::size_t at = pick(f.size()), n = std::min<std::size_t>(f.size() - at, 1 + pick(32));
        f.replace(at, n, random_bytes(rng, n));
      }
      return false;
    case 4:  // delete the file
      deleted = true;
      return false;
    case 5:  // replace by random bytes
      f = random_bytes(rng, pick(200));
      return false;
    case 6:  // content flips, checksums re-sealed: the decoders see garbage
    case 7:
      if (f.size() > 48)
        for (int i = 0, n = 1 + static_cast<int>(rng() % 8); i < n; ++i)
          f[40 + pick(f.size() - 48)] ^= static_cast<char>(1 << (rng() % 8));
      return true;
    case 8:  // content truncated or extended inside the frame, re-sealed
      if (f.size() >= 48) {
        std::string stored = f.substr(40, f.size() - 48);
        if (rng() % 2)
          stored.resize(pick(stored.size()));
        else
          stored += random_bytes(rng, 1 + pick(16));
        f = f.substr(0, 40) + stored + f.substr(f.size() - 8);
        put_le64(f, 24, stored.size());
        if (!(static_cast<unsigned char>(f[12]) & 1)) put_le64(f, 16, stored.size());
      }
      return true;
    default:  // header fields (raw size, flags, version) set to odd values, re-sealed
      if (f.size() >= 48) {
        switch (rng() % 4) {
          case 0: put_le64(f, 16, rng()); break;                                  // huge raw size
          case 1: put_le64(f, 16, rng() % (1u << 24)); break;                      // wrong raw size
          case 2: put_le32(f, 12, static_cast<std::uint32_t>(rng() % 8)); break;  // flags
          default: put_le32(f, 8, static_cast<std::uint32_t>(rng() % 3)); break;  // version 0..2
        }
      }
      return true;
  }
}

/// Re-seals a framed file: header checksum and content checksum.
void reseal(std::string& f) {
  if (f.size() < 48) return;
  put_le64(f, 24, f.size() - 48);
  reseal_header(f);
  put_le64(f, f.size() - 8, XXH3_64bits(f.data() + 40, f.size() - 48));
}

}  // namespace

TEST_CASE("checkpoint reader: 2000 random mutations never crash", "[checkpoint]") {
  temp_dir tmp;
  auto dir = tmp.path;
  std::mt19937_64 rng(20261121);
  int loaded = 0, refused = 0, resealed_loaded = 0;
  for (bool compress : {false, true}) {
    // The pristine checkpoint, kept in memory.
    auto pristine_dir = dir / (compress ? "pristine-z" : "pristine");
    {
      store_options o;
      o.dir = pristine_dir.string();
      o.compress = compress;
      store(o).write(make_checkpoint(1, 3, 300));
    }
    std::map<std::string, std::string> files;
    for (auto& e : fs::directory_iterator(pristine_dir / folder(1)))
      files[e.path().filename().string()] = read_bytes(e.path());
    REQUIRE(files.size() == 4);
    const auto original = make_checkpoint(1, 3, 300);

    std::map<std::string, std::optional<std::string>> on_disk;
    fs::remove_all(dir / "work");
    for (int iter = 0; iter < 1000; ++iter) {
      auto work = dir / "work";
      fs::create_directories(work / folder(1));  // the files are all rewritten below
      std::string victim = std::next(files.begin(), static_cast<long>(rng() % files.size()))->first;
      bool changed = false, resealed = false;
      for (auto& [name, bytes] : files) {
        std::string f = bytes;
        bool deleted = false;
        if (name == victim) {
          resealed = mutate(f, rng, deleted);
          if (resealed) {
            reseal(f);
            if (name != "MANIFEST") {
              // Keep the MANIFEST's size and checksum of this file right, so the
              // task file's own framing and decoding are what gets tested.
              std::vector<manifest_entry> entries;
              for (auto& [n2, b2] : files)
                if (n2 != "MANIFEST") {
                  const std::string& cur = n2 == name ? f : b2;
                  entries.push_back({n2, cur.size(), XXH3_64bits(cur.data(), cur.size())});
                }
              std::string content =
                  manifest_content(original.id, original.timestamp_ms, original.plan, original.final, entries);
              write_bytes(work / folder(1) / "MANIFEST.forged", forge(content, 1, 2, content.size()));
            }
          }
          changed = deleted || f != bytes;
        }
        // Only what differs from the previous iteration is rewritten (fewer
        // file system operations; the test is I/O-bound otherwise).
        auto& cur = on_disk[name];
        if (deleted) {
          fs::remove(work / folder(1) / name);
          cur.reset();
        } else if (cur != f) {
          write_bytes(work / folder(1) / name, f);
          cur = f;
        }
      }
      if (fs::exists(work / folder(1) / "MANIFEST.forged")) {
        fs::rename(work / folder(1) / "MANIFEST.forged", work / folder(1) / "MANIFEST");
        on_disk["MANIFEST"].reset();  // rewritten next time
      }

      INFO("iteration " << iter << " compress " << compress << " file " << victim);
      store_options o;
      o.dir = work.string();
      store s(o);
      std::vector<std::string> warnings;
      try {
        auto c = s.load_latest([&](const std::string& w) { warnings.push_back(w); });
        if (c) {
          ++loaded;
          if (!changed) require_equal(*c, original);
          // Only a re-sealed mutation can load with different content.
          if (changed) {
            CHECK(resealed);
            ++resealed_loaded;
          }
        } else {
          ++refused;
          CHECK(warnings.size() == 1);
        }
      } catch (const checkpoint_error&) {
        ++refused;  // e.g. a re-sealed MANIFEST with a version from the future
      } catch (const weir::pipeline_error&) {
        ++refused;
      }
      // list() and load() go through the same checks and never crash either.
      auto infos = s.list();
      REQUIRE(infos.size() == 1);
      try {
        s.load(1);
      } catch (const checkpoint_error&) {
      } catch (const weir::pipeline_error&) {
      }
    }
  }
  INFO("loaded " << loaded << ", refused " << refused << ", re-sealed yet loaded " << resealed_loaded);
  CHECK(loaded + refused == 2000);
  CHECK(refused > 1500);  // nearly every mutation is caught
  CHECK(loaded > 0);      // some mutations change nothing (a byte set to its own value)
}
