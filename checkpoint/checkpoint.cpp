// TEMPORARY local stub of the store (replaced by the ckstore branch).
#include "weir/checkpoint/checkpoint.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "weir/operators/snapshot.hpp"

namespace weir::checkpoint {
namespace fs = std::filesystem;
store::store(store_options o) : o_(std::move(o)) { fs::create_directories(o_.dir); }
static std::string folder(const std::string& dir, std::uint64_t id) {
  char b[32];
  std::snprintf(b, sizeof b, "chk-%012llu", static_cast<unsigned long long>(id));
  return dir + "/" + b;
}
std::uint64_t store::write(const checkpoint_data& c) {
  state_writer w;
  w.varint(c.id); w.i64(c.timestamp_ms); w.str(c.plan); w.boolean(c.final); w.varint(c.tasks.size());
  for (auto& t : c.tasks) {
    w.varint(static_cast<std::uint64_t>(t.stage)); w.varint(static_cast<std::uint64_t>(t.instance)); w.str(t.name); w.boolean(t.finished);
    w.str(t.runtime); w.str(t.source_position); w.str(t.source_describe); w.varint(t.operators.size());
    for (auto& o : t.operators) { w.str(o.name); w.str(o.bytes); }
  }
  auto f = folder(o_.dir, c.id);
  fs::create_directories(f);
  crash_point("after_snapshot_write");
  { std::ofstream out(f + "/MANIFEST.tmp", std::ios::binary); out << w.bytes(); }
  crash_point("before_manifest_rename");
  fs::rename(f + "/MANIFEST.tmp", f + "/MANIFEST");
  return w.size();
}
std::optional<checkpoint_data> store::load_latest(const std::function<void(const std::string&)>&) {
  std::uint64_t best = 0;
  for (auto& e : fs::directory_iterator(o_.dir)) {
    auto n = e.path().filename().string();
    if (n.rfind("chk-", 0) == 0 && fs::exists(e.path() / "MANIFEST")) best = std::max<std::uint64_t>(best, std::stoull(n.substr(4)));
  }
  if (best == 0) return std::nullopt;
  return load(best);
}
checkpoint_data store::load(std::uint64_t id) const {
  std::ifstream in(folder(o_.dir, id) + "/MANIFEST", std::ios::binary);
  std::stringstream ss; ss << in.rdbuf(); std::string s = ss.str();
  state_reader r(s, "stub");
  checkpoint_data c;
  c.id = r.varint(); c.timestamp_ms = r.i64(); c.plan = r.str(); c.final = r.boolean();
  auto n = r.varint();
  for (std::uint64_t i = 0; i < n; ++i) {
    task_snapshot t;
    t.stage = static_cast<int>(r.varint()); t.instance = static_cast<int>(r.varint()); t.name = r.str(); t.finished = r.boolean();
    t.runtime = r.str(); t.source_position = r.str(); t.source_describe = r.str();
    auto k = r.varint();
    for (std::uint64_t j = 0; j < k; ++j) { operator_section o; o.name = r.str(); o.bytes = r.str(); t.operators.push_back(std::move(o)); }
    c.tasks.push_back(std::move(t));
  }
  return c;
}
std::vector<checkpoint_info> store::list() const { return {}; }
bool store::empty() const { return !fs::exists(o_.dir) || fs::is_empty(o_.dir); }
std::uint64_t store::next_id() const {
  std::uint64_t best = 0;
  for (auto& e : fs::directory_iterator(o_.dir)) {
    auto n = e.path().filename().string();
    if (n.rfind("chk-", 0) == 0) best = std::max<std::uint64_t>(best, std::stoull(n.substr(4)));
  }
  return best + 1;
}
std::string plan_fingerprint(const std::vector<std::pair<std::string, int>>& stages) {
  std::string s;
  for (auto& [n, p] : stages) s += n + "x" + std::to_string(p) + ";";
  return s;
}
}  // namespace weir::checkpoint
