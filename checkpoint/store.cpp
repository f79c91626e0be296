// weir — the checkpoint store (checkpoint.hpp): the order in which a
// checkpoint's files are written (task files, MANIFEST.tmp, rename, fsyncs),
// retention, validation of a folder, loading with fallback to an older
// checkpoint, listing. The files' contents are in contents.cpp, their framing
// in format.cpp, the I/O in file_io.cpp.
#include "weir/checkpoint/checkpoint.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "weir/checkpoint/detail/contents.hpp"
#include "weir/checkpoint/detail/file_io.hpp"
#include "weir/checkpoint/format.hpp"
#include "weir/common/errno_text.hpp"
#include "weir/common/file_lock.hpp"
#include "weir/common/test_hooks.hpp"
#include "weir/operators/snapshot.hpp"

namespace weir::checkpoint {

namespace fs = std::filesystem;
using namespace detail;

namespace {

/// Loads and checks every file of the folder: the manifest, then each task
/// file (size, whole-file checksum, framing, content).
/// @errors checkpoint_error naming the file (format::future_version_error
///         for a manifest from a newer weir).
checkpoint_data load_folder(const fs::path& folder, std::uint64_t id) {
  manifest m = read_manifest(folder, id);
  checkpoint_data c;
  c.id = m.id;
  c.timestamp_ms = m.timestamp_ms;
  c.plan = m.plan;
  c.final = m.final;
  for (auto& e : m.files) {
    std::error_code ec;
    auto on_disk = fs::file_size(folder / e.file, ec);
    if (!ec && on_disk != e.size)
      throw checkpoint_error(e.file + ": " + (on_disk < e.size ? "truncated (" : "") + std::to_string(on_disk) +
                             " bytes, the MANIFEST says " + std::to_string(e.size) + (on_disk < e.size ? ")" : ""));
    std::string file = read_file(folder / e.file, e.file, e.size);
    if (file.size() != e.size)
      throw checkpoint_error(e.file + ": truncated (" + std::to_string(file.size()) + " bytes, the MANIFEST says " +
                             std::to_string(e.size) + ")");
    if (format::checksum(file) != e.sum) throw checkpoint_error(e.file + ": checksum mismatch");
    std::string content;
    try {
      content = format::unframe(file, 0, e.file);
    } catch (const format::future_version_error& fe) {
      throw checkpoint_error(fe.what());  // a task file alone from the future: corrupt
    }
    task_snapshot t = decode_task(content, e.file);
    int s = 0, in = 0;
    parse_task_file_name(e.file, s, in);
    if (t.stage != s || t.instance != in)
      throw checkpoint_error(e.file + ": holds the state of task " + std::to_string(t.stage) + "-" +
                             std::to_string(t.instance));
    c.tasks.push_back(std::move(t));
  }
  return c;
}

/// Checkpoint folders (and stray files with a checkpoint name) by id.
std::map<std::uint64_t, fs::path> scan(const std::string& dir) {
  std::map<std::uint64_t, fs::path> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  if (ec) return out;
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    if (auto id = parse_folder_name(it->path().filename().string())) out[*id] = it->path();
  }
  return out;
}

/// Cheap completeness check for retention: a readable manifest of our
/// version and every listed file present with its size (no checksums).
bool complete(const fs::path& folder, std::uint64_t id) {
  try {
    manifest m = read_manifest(folder, id);
    for (auto& e : m.files) {
      std::error_code ec;
      auto s = fs::file_size(folder / e.file, ec);
      if (ec || s != e.size) return false;
    }
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool manifest_from_future(const fs::path& folder, std::uint64_t id) {
  try {
    read_manifest(folder, id);
  } catch (const format::future_version_error&) {
    return true;
  } catch (const std::exception&) {
  }
  return false;
}

}  // namespace

store::~store() = default;
store::store(store&&) noexcept = default;
store& store::operator=(store&&) noexcept = default;

store::store(store_options o) : o_(std::move(o)) {
  if (o_.dir.empty()) throw checkpoint_error("checkpoint directory: empty path");
  if (o_.retain < 1) throw checkpoint_error("checkpoint retention must keep at least 1 checkpoint, got " +
                                            std::to_string(o_.retain));
  std::error_code ec;
  auto st = fs::status(o_.dir, ec);
  if (!ec && fs::exists(st) && !fs::is_directory(st))
    throw checkpoint_error("checkpoint directory " + o_.dir + ": exists and is not a directory");
}

void store::claim() {
  if (lock_) return;
  const std::string label = "checkpoint directory " + o_.dir;
  std::error_code ec;
  fs::create_directories(o_.dir, ec);
  if (ec) throw checkpoint_error("cannot create " + label + ": " + ec.message());
  // a file can be created here: the checkpoints' folders and files can too.
  // An unnamed file (O_TMPFILE) leaves nothing behind even if the process
  // is killed now; a file system without it gets a named probe file.
  int fd = ::open(o_.dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    const std::string probe = (fs::path(o_.dir) / (probe_prefix + std::to_string(::getpid()))).string();
    fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) ::unlink(probe.c_str());
  }
  if (fd < 0) throw checkpoint_error(label + " is not writable: " + errno_text(errno));
  ::close(fd);
  try {
    lock_ = std::make_unique<file_lock>((fs::path(o_.dir) / lock_file_name).string());
  } catch (const file_lock::busy& e) {
    throw checkpoint_error(label + " is in use by another weir process" +
                           (e.pid > 0 ? " (pid " + std::to_string(e.pid) + ")" : std::string()));
  } catch (const std::runtime_error& e) {
    throw checkpoint_error(label + ": " + e.what());
  }
}

std::uint64_t store::write(const checkpoint_data& c) {
  const std::string label = "checkpoint " + std::to_string(c.id);
  if (c.id > max_id) throw checkpoint_error(label + ": id above " + std::to_string(max_id));
  quota q;
  q.limit = o_.max_bytes;
  q.source = "store_options::max_bytes";
  if (q.limit == 0) {
    if (auto hook = installed_test_hooks().checkpoint_quota) {  // full-disk tests (common/test_hooks.hpp)
      try {
        q.limit = hook(q.source);
      } catch (const std::exception& e) {
        throw checkpoint_error(label + ": " + e.what());
      }
    }
  }

  // Every task file name once (two tasks with one name would overwrite).
  std::set<std::pair<int, int>> ids;
  for (auto& t : c.tasks) {
    if (t.stage < 0 || t.instance < 0)
      throw checkpoint_error(label + ": negative stage or instance in task '" + t.name + "'");
    if (!ids.insert({t.stage, t.instance}).second)
      throw checkpoint_error(label + ": two tasks with stage " + std::to_string(t.stage) + " instance " +
                             std::to_string(t.instance));
  }

  std::error_code ec;
  fs::create_directories(o_.dir, ec);
  if (ec) throw checkpoint_error("cannot create checkpoint directory " + o_.dir + ": " + ec.message());
  if (q.limit) q.used = folder_bytes(o_.dir);

  fs::path folder = fs::path(o_.dir) / folder_name(c.id);
  if (::mkdir(folder.c_str(), 0755) != 0) {
    int e = errno;
    if (e == EEXIST) throw checkpoint_error(label + ": " + folder.string() + " already exists");
    throw checkpoint_error("cannot create " + folder.string() + ": " + errno_text(e));
  }
  std::uint64_t bytes = 0;
  try {
    manifest m;
    m.id = c.id;
    m.timestamp_ms = c.timestamp_ms;
    m.plan = c.plan;
    m.final = c.final;
    for (auto& t : c.tasks) {
      std::string name = task_file_name(t.stage, t.instance);
      if (o_.compress) {
        std::string file = format::frame(encode_task(t), 0, true);
        write_whole_file(folder / name, file, q, o_.durable);
        bytes += file.size();
        m.files.push_back({name, file.size(), format::checksum(file)});
      } else {
        auto [size, sum] = write_task_file(folder / name, t, q, o_.durable);
        bytes += size;
        m.files.push_back({name, size, sum});
      }
    }
    crash_point("after_snapshot_write");
    std::string mf = format::frame(encode_manifest(m), format::flag_manifest, false);
    write_whole_file(folder / manifest_tmp_name, mf, q, o_.durable);
    bytes += mf.size();
    crash_point("before_manifest_rename");
    if (::rename((folder / manifest_tmp_name).c_str(), (folder / manifest_name).c_str()) != 0)
      throw checkpoint_error("cannot rename " + (folder / manifest_tmp_name).string() + " to MANIFEST: " +
                             errno_text(errno));
    // The folder's entries (task files, MANIFEST) and the folder's own entry.
    // No fsync of the folder is needed before the rename: a MANIFEST that
    // became durable before a task file's entry names a missing file, which
    // loading reports as corrupt (never silently wrong).
    fsync_path(folder, "checkpoint folder", o_.durable);
    fsync_path(o_.dir, "checkpoint directory", o_.durable);
  } catch (const checkpoint_error& e) {
    fs::remove_all(folder, ec);
    throw checkpoint_error(label + " failed: " + e.what());
  } catch (...) {
    fs::remove_all(folder, ec);
    throw;
  }

  // Retention: keep the newest `retain` complete checkpoints; delete older
  // complete ones and every incomplete folder older than the newest complete
  // one (failed or crashed attempts). A manifest from a newer weir is left
  // alone. Deletion failures do not fail the checkpoint just written.
  auto folders = scan(o_.dir);
  int kept = 0;
  std::optional<std::uint64_t> newest_complete;
  for (auto it = folders.rbegin(); it != folders.rend(); ++it) {
    auto [id, path] = *it;
    if (complete(path, id)) {
      if (!newest_complete) newest_complete = id;
      if (++kept > o_.retain) fs::remove_all(path, ec);
    } else if (newest_complete && id < *newest_complete && fs::is_directory(path, ec) &&
               !manifest_from_future(path, id)) {
      fs::remove_all(path, ec);
    }
  }
  return bytes;
}

checkpoint_data store::load(std::uint64_t id) const {
  fs::path folder = fs::path(o_.dir) / folder_name(id);
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) throw checkpoint_error("checkpoint " + std::to_string(id) + " not found in " + o_.dir);
  try {
    return load_folder(folder, id);
  } catch (const format::future_version_error& e) {
    throw format::future_version_error("checkpoint " + std::to_string(id) + " was written by a newer weir (format " +
                                           std::to_string(e.version) + " > " + std::to_string(format_version) + ")",
                                       e.version);
  } catch (const checkpoint_error& e) {
    throw checkpoint_error("checkpoint " + std::to_string(id) + " is invalid: " + e.what());
  }
}

std::optional<checkpoint_data> store::load_latest(const std::function<void(const std::string&)>& warn) {
  auto folders = scan(o_.dir);
  std::vector<std::pair<std::uint64_t, std::string>> skipped;  // id, problem
  std::optional<checkpoint_data> found;
  for (auto it = folders.rbegin(); it != folders.rend() && !found; ++it) {
    auto [id, path] = *it;
    std::error_code ec;
    if (!fs::is_directory(path, ec)) {
      skipped.push_back({id, "not a directory"});
      continue;
    }
    try {
      found = load_folder(path, id);
    } catch (const format::future_version_error& e) {
      throw checkpoint_error("checkpoint " + std::to_string(id) + " was written by a newer weir (format " +
                             std::to_string(e.version) + " > " + std::to_string(format_version) + ")");
    } catch (const checkpoint_error& e) {
      skipped.push_back({id, e.what()});
    }
  }
  if (warn) {
    std::string tail = found ? "; using " + std::to_string(found->id) : "; no valid checkpoint left";
    for (auto& [id, problem] : skipped) {
      bool incomplete = problem == std::string(manifest_name) + " missing";
      warn("checkpoint " + std::to_string(id) + (incomplete ? " is incomplete (" : " is corrupt (") + problem + ")" +
           tail);
    }
  }
  return found;
}

std::vector<checkpoint_info> store::list() const {
  std::vector<checkpoint_info> out;
  for (auto& [id, path] : scan(o_.dir)) {
    checkpoint_info i;
    i.id = id;
    i.path = path.string();
    i.bytes = folder_bytes(path);
    std::error_code ec;
    if (!fs::is_directory(path, ec)) {
      i.problem = "not a directory";
    } else {
      try {
        checkpoint_data c = load_folder(path, id);
        i.timestamp_ms = c.timestamp_ms;
        i.tasks = c.tasks.size();
        i.final = c.final;
        i.valid = true;
        i.manifest = true;
      } catch (const checkpoint_error& e) {
        i.problem = e.what();
        // What the manifest says, when it is readable (time, tasks).
        try {
          manifest m = read_manifest(path, id);
          i.timestamp_ms = m.timestamp_ms;
          i.tasks = m.files.size();
          i.final = m.final;
          i.manifest = true;
        } catch (const std::exception&) {
        }
      }
    }
    out.push_back(std::move(i));
  }
  return out;
}

bool store::empty() const {
  std::error_code ec;
  fs::directory_iterator it(o_.dir, ec), end;
  if (ec) return true;
  for (; it != end; it.increment(ec)) {
    if (ec) return false;
    if (!is_lock_file(it->path().filename().string())) return false;
  }
  return true;
}

bool is_lock_file(const std::string& name) {
  return name == lock_file_name || name.rfind(probe_prefix, 0) == 0;
}

std::uint64_t store::next_id() const {
  const auto folders = scan(o_.dir);
  std::uint64_t id = 1;
  for (auto it = folders.rbegin(); it != folders.rend(); ++it) {
    std::error_code ec;
    if (!fs::is_directory(it->second, ec)) continue;
    try {
      read_manifest(it->second, it->first);
    } catch (const format::future_version_error&) {
    } catch (const std::exception&) {
      continue;  // no readable MANIFEST: does not decide the id
    }
    id = it->first + 1;
    break;
  }
  while (folders.count(id)) ++id;  // never reuse a folder's name
  return id;
}

std::uint64_t store::free_id_from(std::uint64_t id) const {
  std::error_code ec;
  while (fs::exists(fs::path(o_.dir) / folder_name(id), ec) || ec) {
    if (ec) break;  // unreadable directory: the write reports it
    ++id;
  }
  return id;
}

std::string plan_fingerprint(const std::vector<std::pair<std::string, int>>& stages) {
  state_writer w;
  w.varint(stages.size());
  for (auto& [name, par] : stages) {
    w.str(name);
    w.varint(static_cast<std::uint64_t>(par < 0 ? 0 : par));
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%zu stages, xxh3 %016" PRIx64, stages.size(), format::checksum(w.bytes()));
  return buf;
}

std::string plan_difference(const checkpoint_data& cp, const std::vector<std::pair<std::string, int>>& stages) {
  // each stage's instances and name as the checkpoint's tasks show them
  std::map<int, std::pair<std::string, int>> had;
  for (auto& t : cp.tasks) {
    auto& h = had[t.stage];
    h.second = std::max(h.second, t.instance + 1);
    if (h.first.empty()) {
      h.first = t.name;
      if (!h.first.empty() && h.first.back() == ']') h.first.erase(h.first.rfind('['));  // "name[i]"
    }
  }
  for (std::size_t i = 0; i < stages.size(); ++i) {
    auto it = had.find(static_cast<int>(i));
    if (it == had.end()) break;
    const auto& [name, par] = stages[i];
    if (it->second.first == name && it->second.second != par)
      return "stage " + std::to_string(i) + " (" + name + ") ran at parallelism " + std::to_string(it->second.second) +
             " in the checkpoint, this run has parallelism " + std::to_string(par);
  }
  if (had.size() != stages.size())
    return "the checkpoint has " + std::to_string(had.size()) + " stages, this run " + std::to_string(stages.size());
  for (std::size_t i = 0; i < stages.size(); ++i) {
    auto it = had.find(static_cast<int>(i));
    if (it != had.end() && it->second.first != stages[i].first)
      return "stage " + std::to_string(i) + " was \"" + it->second.first + "\", now \"" + stages[i].first + "\"";
  }
  return "stages or parallelism changed";
}

}  // namespace weir::checkpoint
