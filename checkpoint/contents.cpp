// weir — what a checkpoint folder's files hold, before framing: the folder
// and file names, a task file's content (task_snapshot) and the MANIFEST's
// (detail/contents.hpp; the byte layout is in format.hpp).
#include "weir/checkpoint/detail/contents.hpp"

#include <cinttypes>
#include <cstdio>
#include <set>

#include "weir/checkpoint/detail/file_io.hpp"
#include "weir/checkpoint/format.hpp"
#include "weir/operators/snapshot.hpp"

namespace weir::checkpoint::detail {

std::string folder_name(std::uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "chk-%012" PRIu64, id);
  return buf;
}

std::optional<std::uint64_t> parse_folder_name(const std::string& n) {
  if (n.size() != 16 || n.compare(0, 4, "chk-") != 0) return std::nullopt;
  std::uint64_t id = 0;
  for (std::size_t i = 4; i < n.size(); ++i) {
    if (n[i] < '0' || n[i] > '9') return std::nullopt;
    id = id * 10 + static_cast<std::uint64_t>(n[i] - '0');
  }
  return id;
}

std::string task_file_name(int stage, int instance) {
  return "task-" + std::to_string(stage) + "-" + std::to_string(instance) + ".bin";
}

bool parse_task_file_name(const std::string& n, int& stage, int& instance) {
  if (n.size() < 10 || n.compare(0, 5, "task-") != 0 || n.compare(n.size() - 4, 4, ".bin") != 0) return false;
  std::string mid = n.substr(5, n.size() - 9);
  auto dash = mid.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == mid.size()) return false;
  auto num = [](const std::string& s, int& out) {
    if (s.size() > 9) return false;
    long v = 0;
    for (char ch : s) {
      if (ch < '0' || ch > '9') return false;
      v = v * 10 + (ch - '0');
    }
    out = static_cast<int>(v);
    return true;
  };
  return num(mid.substr(0, dash), stage) && num(mid.substr(dash + 1), instance);
}

std::string encode_manifest(const manifest& m) {
  state_writer w;
  w.u64(m.id);
  w.i64(m.timestamp_ms);
  w.str(m.plan);
  w.boolean(m.final);
  w.varint(m.files.size());
  for (auto& f : m.files) {
    w.str(f.file);
    w.u64(f.size);
    w.u64(f.sum);
  }
  return w.take();
}

manifest read_manifest(const fs::path& folder, std::uint64_t id) {
  std::string file = read_file(folder / manifest_name, manifest_name, max_manifest_bytes);
  std::string content = format::unframe(file, format::flag_manifest, manifest_name);
  manifest m;
  try {
    state_reader r(content, "MANIFEST");
    m.id = r.u64();
    m.timestamp_ms = r.i64();
    m.plan = r.str();
    m.final = r.boolean();
    std::uint64_t n = r.varint();
    if (n > content.size()) r.fail("count of " + std::to_string(n) + " task files runs past the end");
    std::set<std::string> seen;
    for (std::uint64_t i = 0; i < n; ++i) {
      manifest_entry e;
      e.file = r.str();
      e.size = r.u64();
      e.sum = r.u64();
      int s = 0, in = 0;
      if (!parse_task_file_name(e.file, s, in)) r.fail("bad task file name '" + e.file + "'");
      if (!seen.insert(e.file).second) r.fail("task file '" + e.file + "' listed twice");
      m.files.push_back(std::move(e));
    }
    r.expect_end();
  } catch (const pipeline_error& e) {
    throw checkpoint_error(std::string("MANIFEST: ") + e.what());
  }
  if (m.id != id)
    throw checkpoint_error("MANIFEST: belongs to checkpoint " + std::to_string(m.id) + ", found in the folder of " +
                           std::to_string(id));
  return m;
}


std::vector<std::string_view> task_pieces(const task_snapshot& t, std::vector<std::string>& owned) {
  owned.clear();
  owned.reserve(t.operators.size() + 1);  // no reallocation: the views stay valid
  std::vector<std::string_view> content;
  state_writer w;
  w.varint(static_cast<std::uint64_t>(t.stage));
  w.varint(static_cast<std::uint64_t>(t.instance));
  w.str(t.name);
  w.boolean(t.finished);
  w.str(t.runtime);
  w.str(t.source_position);
  w.str(t.source_describe);
  w.varint(t.operators.size());
  for (auto& o : t.operators) {
    w.str(o.name);
    w.varint(o.bytes.size());
    owned.push_back(w.take());
    content.push_back(owned.back());
    content.push_back(o.bytes);
    w = state_writer();
  }
  if (w.size()) {
    owned.push_back(w.take());
    content.push_back(owned.back());
  }
  return content;
}

std::string encode_task(const task_snapshot& t) {
  std::vector<std::string> owned;
  auto pieces = task_pieces(t, owned);
  std::string out;
  std::size_t n = 0;
  for (auto p : pieces) n += p.size();
  out.reserve(n);
  for (auto p : pieces) out.append(p);
  return out;
}

task_snapshot decode_task(const std::string& content, const std::string& name) {
  task_snapshot t;
  try {
    state_reader r(content, name);
    std::uint64_t stage = r.varint(), instance = r.varint();
    if (stage > 0x7fffffff || instance > 0x7fffffff) r.fail("stage or instance out of range");
    t.stage = static_cast<int>(stage);
    t.instance = static_cast<int>(instance);
    t.name = r.str();
    t.finished = r.boolean();
    t.runtime = r.str();
    t.source_position = r.str();
    t.source_describe = r.str();
    std::uint64_t n = r.varint();
    if (n > content.size()) r.fail("count of " + std::to_string(n) + " operators runs past the end");
    t.operators.reserve(static_cast<std::size_t>(n));
    for (std::uint64_t i = 0; i < n; ++i) {
      operator_section s;
      s.name = r.str();
      s.bytes = r.str();
      t.operators.push_back(std::move(s));
    }
    r.expect_end();
  } catch (const pipeline_error& e) {
    throw checkpoint_error(e.what());
  }
  return t;
}

}  // namespace weir::checkpoint::detail
