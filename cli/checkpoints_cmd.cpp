// weir — `weir checkpoints list|inspect DIR` (see checkpoints_cmd.hpp).
#include "weir/cli/checkpoints_cmd.hpp"

#include <ctime>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "weir/checkpoint/checkpoint.hpp"

namespace weir::cli {

namespace {

namespace ck = weir::checkpoint;

/// "2026-11-21T17:07:05.123Z"
std::string iso_utc(std::int64_t ms) {
  std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  auto frac = static_cast<int>(ms - secs * 1000);
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return std::to_string(ms) + " ms";
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

int list(const ck::store& s, const checkpoints_args& a, std::FILE* out) {
  auto infos = s.list();
  if (infos.empty()) {
    fmt::print(out, "no checkpoints in {}\n", a.dir);
    return 0;
  }
  fmt::print(out, "{:<12}  {:<24}  {:>12}  {:>5}  {}\n", "ID", "TIME (UTC)", "BYTES", "TASKS", "STATUS");
  for (auto& i : infos) {
    bool has_manifest = i.manifest;
    std::string status = i.valid ? (i.final ? "valid, final" : "valid") : "invalid: " + i.problem;
    fmt::print(out, "{:<12}  {:<24}  {:>12}  {:>5}  {}\n", i.id, has_manifest ? iso_utc(i.timestamp_ms) : "-",
               i.bytes, has_manifest ? std::to_string(i.tasks) : "-", status);
  }
  return 0;
}

int inspect(ck::store& s, const checkpoints_args& a, std::FILE* out, std::FILE* err) {
  ck::checkpoint_data c;
  if (a.id) {
    const std::string& t = *a.id;
    bool digits = !t.empty() && t.size() <= 12 && t.find_first_not_of("0123456789") == std::string::npos;
    if (!digits) {
      fmt::print(err, "weir checkpoints: {}: bad checkpoint id '{}' (expected a number, e.g. 7)\n", a.dir, t);
      return 1;
    }
    std::uint64_t id = std::stoull(t);
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::path(a.dir) / fmt::format("chk-{:012}", id), ec)) {
      fmt::print(err, "weir checkpoints: {}: no checkpoint {}\n", a.dir, id);
      return 1;
    }
    c = s.load(id);  // throws checkpoint_error when invalid
  } else {
    auto latest = s.load_latest(
        [&](const std::string& w) { fmt::print(err, "weir checkpoints: {}: warning: {}\n", a.dir, w); });
    if (!latest) {
      fmt::print(err, "weir checkpoints: {}: no valid checkpoint\n", a.dir);
      return 1;
    }
    c = std::move(*latest);
  }
  auto folder = std::filesystem::path(a.dir) / fmt::format("chk-{:012}", c.id);
  std::uint64_t bytes = 0;  // on disk, as `list` counts them
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    if (it->is_regular_file(e2)) bytes += it->file_size(e2);
  }
  fmt::print(out, "checkpoint {}: {}\n", c.id, folder.string());
  fmt::print(out, "time:  {}\n", iso_utc(c.timestamp_ms));
  fmt::print(out, "plan:  {}\n", c.plan);
  fmt::print(out, "final: {}\n", c.final ? "yes" : "no");
  fmt::print(out, "size:  {} bytes, {} tasks\n", bytes, c.tasks.size());
  for (auto& t : c.tasks) {
    fmt::print(out, "task {}-{} \"{}\": finished {}, runtime state {} bytes\n", t.stage, t.instance, t.name,
               t.finished ? "yes" : "no", t.runtime.size());
    if (!t.source_position.empty() || !t.source_describe.empty())
      fmt::print(out, "  source position: {} ({} bytes)\n", t.source_describe.empty() ? "-" : t.source_describe,
                 t.source_position.size());
    for (auto& o : t.operators) fmt::print(out, "  operator {}: {} bytes\n", o.name, o.bytes.size());
  }
  return 0;
}

}  // namespace

int run_checkpoints(const checkpoints_args& a, std::FILE* out, std::FILE* err) {
  try {
    std::error_code ec;
    auto st = std::filesystem::status(a.dir, ec);
    if (!std::filesystem::exists(st)) {
      fmt::print(err, "weir checkpoints: {}: no such directory\n", a.dir);
      return 1;
    }
    if (!std::filesystem::is_directory(st)) {
      fmt::print(err, "weir checkpoints: {}: not a directory\n", a.dir);
      return 1;
    }
    ck::store_options o;
    o.dir = a.dir;
    ck::store s(o);
    if (a.action == "list") return list(s, a, out);
    if (a.action == "inspect") return inspect(s, a, out, err);
    fmt::print(err, "weir checkpoints: {}: unknown action '{}' (list or inspect)\n", a.dir, a.action);
    return 1;
  } catch (const std::exception& e) {
    fmt::print(err, "weir checkpoints: {}: {}\n", a.dir, e.what());
    return 1;
  }
}

}  // namespace weir::cli
