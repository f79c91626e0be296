// dir(path): Spark's textFileStream — lines of the files that appear in a
// directory after start (see sources.hpp).
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <deque>
#include <map>
#include <optional>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weir/common/hash.hpp"
#include "weir/io/detail/line_reader.hpp"
#include "weir/io/detail/net.hpp"
#include "weir/io/sources.hpp"
#include "weir/operators/sealed_state.hpp"

namespace weir::io {
namespace {

using clock = std::chrono::steady_clock;

class dir_source final : public source_reader {
public:
  dir_source(std::string dir, dir_options o) : dir_(std::move(dir)), opts_(o), origin_(":", /*files=*/true) {
    while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  }
  ~dir_source() override { close(); }

  void open() override {
    struct stat st {};
    if (::stat(dir_.c_str(), &st) != 0)
      throw pipeline_error(describe() + ": cannot open: " + errno_text(errno));
    if (!S_ISDIR(st.st_mode)) throw pipeline_error(describe() + ": not a directory");
    auto found = scan();  // also checks the directory can be listed
    if (opts_.include_existing)
      for (auto& f : found) queue_.push_back(std::move(f));
    next_poll_ = clock::now() + opts_.poll;
  }

  read_result read(records& out, std::size_t max) override {
    origin_.clear();
    std::size_t got = 0;
    while (got < max) {
      if (fd_ < 0) {
        if (queue_.empty()) {
          auto now = clock::now();
          if (now < next_poll_) break;
          next_poll_ = now + opts_.poll;
          for (auto& f : scan()) queue_.push_back(std::move(f));
          if (queue_.empty()) break;
        }
        open_next();
      }
      std::size_t before = out.size();
      std::uint64_t first = reader_->lines() + 1;
      auto r = reader_->read(out, max - got, /*poll_first=*/false);
      std::size_t n = out.size() - before;
      origin_.add(current_, first, n);
      got += n;
      if (r.st == read_result::status::end) close_file();
      if (r.bytes_full) return {read_result::status::more, {}, true};
    }
    if (got > 0) return {read_result::status::more, {}};
    auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(next_poll_ - clock::now());
    return {read_result::status::idle, std::max(wait, std::chrono::nanoseconds(std::chrono::milliseconds(1)))};
  }

  void close() override { close_file(); }

  const record_origin* origin() const override { return &origin_; }

  std::string describe() const override { return "dir(\"" + dir_ + "\")"; }

  // Checkpoints: the files seen (read, being read or queued: name and inode),
  // the queue of files not yet opened, and the file being read with its byte
  // offset and line. Files that appeared after the checkpoint are found by
  // the first listing after the restore.
  bool replayable() const override { return true; }

  void snapshot_position(state_writer& w) const override {
    write_sealed(w, 1, [&](state_writer& s) {
      s.str(dir_);
      s.varint(seen_.size());
      for (auto& [name, ino] : seen_) {
        s.str(name);
        s.u64(static_cast<std::uint64_t>(ino));
      }
      s.varint(queue_.size());
      for (auto& e : queue_) {
        s.str(e.name);
        s.u64(static_cast<std::uint64_t>(e.ino));
        s.i64(static_cast<std::int64_t>(e.mtime.tv_sec));
        s.i64(static_cast<std::int64_t>(e.mtime.tv_nsec));
      }
      const bool reading = fd_ >= 0 && reader_;
      s.boolean(reading);
      if (reading) {
        s.str(current_name_);
        s.u64(reader_->offset());
        s.u64(reader_->lines());
      }
    });
  }

  void restore_position(state_reader& r) override {
    read_sealed(r, 1, "source " + describe(), [&](state_reader& s) {
      if (s.str() != dir_) s.fail("the position is of another directory than \"" + dir_ + "\"");
      std::map<std::string, ino_t> seen;
      for (std::uint64_t i = 0, n = s.varint(); i < n; ++i) {
        std::string name = s.str();
        seen[name] = static_cast<ino_t>(s.u64());
      }
      std::deque<entry> queue;
      for (std::uint64_t i = 0, n = s.varint(); i < n; ++i) {
        entry e;
        e.name = s.str();
        e.ino = static_cast<ino_t>(s.u64());
        e.mtime.tv_sec = static_cast<time_t>(s.i64());
        e.mtime.tv_nsec = static_cast<long>(s.i64());
        queue.push_back(std::move(e));
      }
      close_file();
      reader_.reset();
      seen_ = std::move(seen);
      queue_ = std::move(queue);
      if (s.boolean()) {
        std::string name = s.str();
        const std::uint64_t offset = s.u64(), lines = s.u64();
        if (lines > offset) s.fail("more lines than bytes in " + name);
        queue_.push_front(entry{name, 0, {}});
        open_next();
        struct stat st {};
        if (::fstat(fd_, &st) != 0)
          throw pipeline_error(describe() + ": cannot stat " + *current_ + ": " + errno_text(errno));
        if (static_cast<std::uint64_t>(st.st_size) < offset)
          throw pipeline_error(describe() + ": cannot resume " + *current_ + " at byte " + std::to_string(offset) +
                               ": the file now has only " + std::to_string(st.st_size) + " bytes");
        if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0)
          throw pipeline_error(describe() + ": cannot seek " + *current_ + " to byte " + std::to_string(offset) + ": " +
                               errno_text(errno));
        reader_->restart_at(offset, lines);
      }
    });
    next_poll_ = clock::now();  // list at once: files may have arrived meanwhile
  }

  std::string describe_position() const override {
    std::string s = std::to_string(seen_.size()) + " files seen, " + std::to_string(queue_.size()) + " queued";
    if (fd_ >= 0 && reader_)
      s += ", reading " + current_name_ + " at line " + std::to_string(reader_->lines()) + ", byte " +
           std::to_string(reader_->offset());
    return s;
  }

private:
  struct entry {
    std::string name;
    ino_t ino;
    timespec mtime;
  };

  // New files since the last listing (in arrival order: mtime, then name);
  // remembers every name seen, forgets names that disappeared.
  std::vector<entry> scan() {
    DIR* d = ::opendir(dir_.c_str());
    if (!d) throw pipeline_error(describe() + ": cannot list: " + errno_text(errno));
    std::map<std::string, ino_t> now;
    std::vector<entry> fresh;
    errno = 0;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.empty() || name[0] == '.' || name[0] == '_') continue;
      if (opts_.instances > 1 && xxh3_64(name) % static_cast<std::uint64_t>(opts_.instances) !=
                                     static_cast<std::uint64_t>(opts_.instance))
        continue;  // another instance's file
      struct stat st {};
      if (::fstatat(::dirfd(d), name.c_str(), &st, 0) != 0) continue;  // vanished meanwhile
      if (!S_ISREG(st.st_mode)) continue;
      now.emplace(name, st.st_ino);
      auto it = seen_.find(name);
      if (it != seen_.end() && it->second == st.st_ino) continue;
      fresh.push_back({name, st.st_ino, st.st_mtim});
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) throw pipeline_error(describe() + ": cannot list: " + errno_text(err));
    seen_ = std::move(now);
    std::sort(fresh.begin(), fresh.end(), [](const entry& a, const entry& b) {
      if (a.mtime.tv_sec != b.mtime.tv_sec) return a.mtime.tv_sec < b.mtime.tv_sec;
      if (a.mtime.tv_nsec != b.mtime.tv_nsec) return a.mtime.tv_nsec < b.mtime.tv_nsec;
      return a.name < b.name;
    });
    return fresh;
  }

  void open_next() {
    entry e = std::move(queue_.front());
    queue_.pop_front();
    std::string path = dir_ + "/" + e.name;
    int fd;
    do fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) throw pipeline_error(describe() + ": cannot open " + path + ": " + errno_text(errno));
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    fd_ = fd;
    current_ = std::make_shared<const std::string>(path);
    current_name_ = e.name;
    reader_.emplace("file(\"" + path + "\")", path, opts_.max_line_bytes);
    reader_->attach(fd_);
  }

  void close_file() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::string dir_;
  dir_options opts_;
  std::map<std::string, ino_t> seen_;
  std::deque<entry> queue_;
  clock::time_point next_poll_{};
  int fd_ = -1;
  std::shared_ptr<const std::string> current_;
  std::string current_name_;  // the name of the file being read, in dir_
  std::optional<detail::line_reader> reader_;
  detail::segment_origin origin_;
};

}  // namespace

source_ptr make_dir_source(std::string dir, dir_options opts) {
  if (opts.instances < 1 || opts.instance < 0 || opts.instance >= opts.instances)
    throw pipeline_error("dir(\"" + dir + "\"): instance " + std::to_string(opts.instance) + " of " +
                         std::to_string(opts.instances) + " instances");
  return std::make_unique<dir_source>(std::move(dir), opts);
}

}  // namespace weir::io
