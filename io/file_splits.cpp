// file(path) read by several instances (see sources.hpp): the byte-range
// splits of the matched files (Hadoop's TextInputFormat, Flink's FileSource),
// their assignment to the instances, and the reader of one instance's splits.
#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weir/common/hash.hpp"
#include "weir/io/detail/file_glob.hpp"
#include "weir/io/detail/line_reader.hpp"
#include "weir/io/sources.hpp"
#include "weir/operators/sealed_state.hpp"

namespace weir::io {
namespace {

constexpr std::uint64_t open_end = ~std::uint64_t{0};  // the last split of a file: to its end

/// pread(2) until `n` bytes or the end of the file; returns the bytes read.
std::size_t read_at(int fd, char* buf, std::size_t n, std::uint64_t at, const std::string& what) {
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, buf + got, n - got, static_cast<off_t>(at + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw pipeline_error(what + ": read error: " + errno_text(errno));
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

int open_file(const std::string& path, const std::string& what) {
  int fd;
  do fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) throw pipeline_error(what + ": cannot open: " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw pipeline_error(what + ": cannot open: " + errno_text(EISDIR));
  }
  return fd;
}

std::string file_desc(const std::string& pattern) { return "file(\"" + pattern + "\")"; }

/// The files of `pattern` (a glob or one path), sorted, with their sizes.
void list_files(const std::string& pattern, std::vector<std::string>& files, std::vector<std::uint64_t>& sizes) {
  files.clear();
  sizes.clear();
  if (detail::has_glob(pattern)) {
    files = detail::expand_glob(pattern, file_desc(pattern));
  } else {
    files.push_back(pattern);
  }
  for (auto& f : files) {
    const std::string what = file_desc(detail::has_glob(pattern) ? f : pattern);
    int fd = open_file(f, what);  // the same errors as a single reader's open()
    struct stat st {};
    const int rc = ::fstat(fd, &st);
    const int err = errno;
    ::close(fd);
    if (rc != 0) throw pipeline_error(what + ": cannot stat: " + errno_text(err));
    sizes.push_back(static_cast<std::uint64_t>(st.st_size));
  }
}

std::string mb(double bytes) {
  char buf[32];
  if (bytes >= 1e6) std::snprintf(buf, sizeof buf, "%.0f MB", bytes / 1e6);
  else if (bytes >= 1e3) std::snprintf(buf, sizeof buf, "%.0f KB", bytes / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f bytes", bytes);
  return buf;
}

}  // namespace

file_split_plan plan_file_splits(std::vector<std::string> files, std::vector<std::uint64_t> sizes,
                                 int parallelism, std::uint64_t min_split_bytes) {
  if (parallelism < 1) throw pipeline_error("file splits: parallelism must be >= 1, got " + std::to_string(parallelism));
  file_split_plan p;
  p.files = std::move(files);
  p.sizes = std::move(sizes);
  p.instances.resize(static_cast<std::size_t>(parallelism));
  std::uint64_t total = 0;
  for (auto s : p.sizes) total += s;
  const auto par = static_cast<std::uint64_t>(parallelism);
  p.split_bytes = std::max<std::uint64_t>({min_split_bytes, (total + par - 1) / par, 1});
  std::vector<std::uint64_t> load(p.instances.size(), 0);
  for (std::size_t f = 0; f < p.files.size(); ++f) {
    const std::uint64_t size = p.sizes[f];
    for (std::uint64_t start = 0; start == 0 || start < size; start += p.split_bytes) {
      const bool last = start + p.split_bytes >= size;
      const std::uint64_t bytes = (last ? size : start + p.split_bytes) - start;
      file_split s{f, start, last ? open_end : start + p.split_bytes, bytes};
      // to the instance with the fewest bytes so far (the first on a tie)
      auto it = std::min_element(load.begin(), load.end());
      *it += bytes;
      p.instances[static_cast<std::size_t>(it - load.begin())].push_back(s);
      ++p.splits;
      if (last) break;
    }
  }
  return p;
}

std::string describe_file_splits(const std::string& pattern, int parallelism, std::uint64_t min_split_bytes) {
  const std::string head = "file x" + std::to_string(std::max(parallelism, 1)) + ": ";
  std::vector<std::string> files;
  std::vector<std::uint64_t> sizes;
  try {
    list_files(pattern, files, sizes);
  } catch (const pipeline_error& e) {
    return head + (parallelism <= 1 ? "whole, in order" : "splits planned at start") + " (now " + e.what() + ")";
  }
  std::uint64_t total = 0;
  for (auto s : sizes) total += s;
  const std::string of = " over " + std::to_string(files.size()) + (files.size() == 1 ? " file" : " files");
  if (parallelism <= 1) return head + "whole" + of + " (" + mb(static_cast<double>(total)) + "), in order";
  auto p = plan_file_splits(std::move(files), std::move(sizes), parallelism, min_split_bytes);
  return head + std::to_string(p.splits) + (p.splits == 1 ? " split" : " splits") + " of ~" +
         mb(static_cast<double>(std::min(p.split_bytes, total / std::max<std::uint64_t>(p.splits, 1)))) + of;
}

namespace {

/// One instance's splits, read one after the other.
class split_file_source final : public source_reader {
public:
  split_file_source(std::string pattern, std::shared_ptr<const file_split_plan> plan, int instance,
                    std::size_t max_line_bytes)
      : pattern_(std::move(pattern)), plan_(std::move(plan)), instance_(instance), max_line_(max_line_bytes) {
    splits_ = plan_->instances[static_cast<std::size_t>(instance_)];
    for (auto& s : splits_) total_ += split_size(s);
  }
  ~split_file_source() override { close(); }

  void open() override {
    close();
    next_ = 0;
    done_bytes_ = 0;
  }

  read_result read(records& out, std::size_t max) override {
    for (;;) {
      if (!reader_) {
        if (next_ >= splits_.size()) return {read_result::status::end, {}};
        open_split(next_++, 0, 0);
        if (!reader_) continue;  // an empty split
      }
      origin_.first_line = reader_->lines() + 1;
      auto r = reader_->read(out, max, /*poll_first=*/false);
      if (r.st != read_result::status::end) return r;
      finish_split();
    }
  }

  void close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::string describe() const override { return file_desc(pattern_); }

  input_progress progress() const override {
    std::uint64_t cur = 0;
    if (reader_) cur = std::min(reader_->offset() - cur_.start, split_size(cur_));
    return {done_bytes_ + cur, total_};
  }

  // Checkpoints: this instance's splits (file, size, range), the index of
  // the split being read (or the next one) and, in it, the byte offset after
  // the last line returned, the offset of the split's first line and the
  // lines read since it.
  bool replayable() const override { return true; }

  void snapshot_position(state_writer& w) const override {
    write_sealed(w, 1, [&](state_writer& s) {
      s.str(pattern_);
      s.varint(static_cast<std::uint64_t>(plan_->instances.size()));
      s.varint(static_cast<std::uint64_t>(instance_));
      s.varint(splits_.size());
      for (auto& sp : splits_) {
        s.str(file_of(sp));
        s.u64(sp.start);
        s.u64(sp.end);
        s.u64(sp.bytes);
      }
      s.boolean(reader_.has_value());
      s.varint(reader_ ? next_ - 1 : next_);
      if (reader_) {
        s.u64(reader_->offset());
        s.u64(first_line_at_);
        s.u64(reader_->lines());
      }
      s.u64(done_bytes_);
    });
  }

  void restore_position(state_reader& r) override {
    read_sealed(r, 1, "source " + describe(), [&](state_reader& s) {
      if (s.str() != pattern_) s.fail("the position is of another file than \"" + pattern_ + "\"");
      const std::uint64_t par = s.varint(), inst = s.varint();
      if (par != plan_->instances.size() || inst != static_cast<std::uint64_t>(instance_))
        s.fail("the position is of instance " + std::to_string(inst) + " of " + std::to_string(par) +
               " file source instances (parallelism " + std::to_string(par) + "), this run has parallelism " +
               std::to_string(plan_->instances.size()) + "; restore at parallelism " + std::to_string(par));
      const std::uint64_t n = s.varint();
      std::vector<file_split> splits;
      std::vector<std::string> names;
      for (std::uint64_t i = 0; i < n; ++i) {
        names.push_back(s.str());
        file_split sp;
        sp.file = static_cast<std::size_t>(i);
        sp.start = s.u64();
        sp.end = s.u64();
        sp.bytes = s.u64();
        if (sp.end <= sp.start) s.fail("split " + std::to_string(i) + " ends before it starts");
        splits.push_back(sp);
      }
      const bool open_split_now = s.boolean();
      const std::uint64_t index = s.varint();
      if (index > n || (open_split_now && index >= n))
        s.fail("split index " + std::to_string(index) + " of " + std::to_string(n) + " splits");
      std::uint64_t offset = 0, first = 0, lines = 0;
      if (open_split_now) {
        offset = s.u64();
        first = s.u64();
        lines = s.u64();
        if (offset < first || lines > offset - first)
          s.fail("offset " + std::to_string(offset) + " and " + std::to_string(lines) +
                 " lines do not fit a split whose first line starts at byte " + std::to_string(first));
      }
      const std::uint64_t done = s.u64();
      // the recorded splits replace the plan's (files may have grown since)
      close();
      reader_.reset();
      own_files_ = std::move(names);
      splits_ = std::move(splits);
      total_ = 0;
      for (auto& sp : splits_) total_ += split_size(sp);
      done_bytes_ = done;
      next_ = static_cast<std::size_t>(index);
      if (open_split_now) {
        open_split(next_++, offset, lines, first);
        if (!reader_) s.fail("split " + std::to_string(index) + " is empty now");
      }
    });
  }

  std::string describe_position() const override {
    const std::string head = "instance " + std::to_string(instance_) + " of " + std::to_string(plan_->instances.size()) +
                             ", split ";
    if (!reader_) return head + std::to_string(next_ + 1) + " of " + std::to_string(splits_.size()) + " next";
    return head + std::to_string(next_) + " of " + std::to_string(splits_.size()) + ": " + cur_path() +
           " byte " + std::to_string(reader_->offset());
  }

  const record_origin* origin() const override { return &origin_; }

private:
  const std::string& file_of(const file_split& s) const {
    return own_files_.empty() ? plan_->files[s.file] : own_files_[s.file];
  }
  const std::string& cur_path() const { return file_of(cur_); }
  static std::uint64_t split_size(const file_split& s) { return s.bytes; }

  /// Opens split `i`; a split without a line start leaves reader_ empty.
  /// With `offset` > 0 (a restore), continues there after `lines` lines of
  /// the split whose first line starts at `first`.
  void open_split(std::size_t i, std::uint64_t offset, std::uint64_t lines, std::uint64_t first = 0) {
    cur_ = splits_[i];
    const std::string& path = file_of(cur_);
    const std::string what = file_desc(detail::has_glob(pattern_) ? path : pattern_);
    close();
    fd_ = open_file(path, what);
    if (offset == 0) {
      first = first_line_start(what);
      if (first == open_end || first >= cur_.end) {
        close();
        done_bytes_ += split_size(cur_);
        return;
      }
      offset = first;
    } else {
      struct stat st {};
      if (::fstat(fd_, &st) != 0) throw pipeline_error(what + ": cannot stat: " + errno_text(errno));
      if (static_cast<std::uint64_t>(st.st_size) < offset)
        throw pipeline_error(what + ": cannot resume at byte " + std::to_string(offset) + ": the file " + path +
                             " now has only " + std::to_string(st.st_size) + " bytes");
    }
    if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0)
      throw pipeline_error(what + ": cannot seek to byte " + std::to_string(offset) + ": " + errno_text(errno));
    ::posix_fadvise(fd_, static_cast<off_t>(offset), 0, POSIX_FADV_SEQUENTIAL);
    reader_.emplace(what, path, max_line_);
    reader_->attach(fd_);
    reader_->restart_at(offset, lines);
    reader_->stop_at(cur_.end);
    if (lend_) reader_->lend_lines();
    first_line_at_ = first;
    lines_before_.reset();
  }

  void finish_split() {
    done_bytes_ += split_size(cur_);
    reader_.reset();
    close();
  }

  /// Where the first line of the current split starts: its start, or just
  /// after the first '\n' at or after start - 1; open_end if none.
  std::uint64_t first_line_start(const std::string& what) const {
    if (cur_.start == 0) return 0;
    std::vector<char> buf(1u << 16);
    for (std::uint64_t at = cur_.start - 1;;) {
      const std::size_t n = read_at(fd_, buf.data(), buf.size(), at, what);
      if (n == 0) return open_end;
      if (const void* nl = std::memchr(buf.data(), '\n', n))
        return at + static_cast<std::uint64_t>(static_cast<const char*>(nl) - buf.data()) + 1;
      at += n;
      if (cur_.end != open_end && at >= cur_.end) return open_end;  // no line starts in the split
    }
  }

  /// The lines of the file before the current split's first line (its
  /// '\n's), counted once per split when a record's provenance is asked.
  std::uint64_t lines_before() const {
    if (lines_before_) return *lines_before_;
    std::uint64_t n = 0;
    if (first_line_at_ > 0) {
      const std::string& path = cur_path();
      int fd = open_file(path, file_desc(path));
      std::vector<char> buf(1u << 20);
      try {
        for (std::uint64_t at = 0; at < first_line_at_;) {
          const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), first_line_at_ - at));
          const std::size_t got = read_at(fd, buf.data(), want, at, file_desc(path));
          if (got == 0) break;
          n += static_cast<std::uint64_t>(std::count(buf.data(), buf.data() + got, '\n'));
          at += got;
        }
      } catch (...) {
        ::close(fd);
        throw;
      }
      ::close(fd);
    }
    lines_before_ = n;
    return n;
  }

  struct line_origin final : detail::lines_origin {
    explicit line_origin(split_file_source* s) : src(s) {}
    split_file_source* src;
    std::uint64_t first_line = 1;  // within the split, 1-based, of the last read's first record
    std::string describe(std::size_t i) const override {
      if (!src->reader_) return src->pattern_ + ": record " + std::to_string(i + 1);
      return src->cur_path() + ":" + std::to_string(src->lines_before() + first_line + i);
    }
    void lend_lines() const override {
      src->lend_ = true;
      if (src->reader_) src->reader_->lend_lines();
    }
    std::span<const std::string_view> lent() const override {
      return src->reader_ ? src->reader_->lent() : std::span<const std::string_view>{};
    }
    std::uint64_t part(std::size_t) const override {
      return src->reader_ && detail::has_glob(src->pattern_) ? xxh3_64(src->cur_path()) : 0;
    }
  };

  std::string pattern_;
  std::shared_ptr<const file_split_plan> plan_;
  int instance_;
  std::size_t max_line_;
  std::vector<file_split> splits_;
  std::vector<std::string> own_files_;  // after a restore: the recorded files, indexed by splits_[i].file
  std::uint64_t total_ = 0, done_bytes_ = 0;
  std::size_t next_ = 0;
  file_split cur_{};
  int fd_ = -1;
  std::optional<detail::line_reader> reader_;
  std::uint64_t first_line_at_ = 0;
  mutable std::optional<std::uint64_t> lines_before_;
  bool lend_ = false;
  line_origin origin_{this};
};

}  // namespace

std::function<source_ptr(int, int)> make_file_source_parts(std::string path, std::size_t max_line_bytes,
                                                          std::uint64_t min_split_bytes) {
  // one plan for all the instances of a run, made when the first opens
  struct shared {
    std::mutex m;
    std::shared_ptr<const file_split_plan> plan;
    int parallelism = 0;
  };
  auto sh = std::make_shared<shared>();
  return [path, max_line_bytes, min_split_bytes, sh](int instance, int parallelism) -> source_ptr {
    if (parallelism < 1 || instance < 0 || instance >= parallelism)
      throw pipeline_error(file_desc(path) + ": instance " + std::to_string(instance) + " of " +
                           std::to_string(parallelism));
    if (parallelism == 1) return make_file_source(path, max_line_bytes);
    std::shared_ptr<const file_split_plan> plan;
    {
      std::lock_guard<std::mutex> lock(sh->m);
      // instance 0 is made first by a run: it plans afresh
      if (!sh->plan || sh->parallelism != parallelism || instance == 0) {
        std::vector<std::string> files;
        std::vector<std::uint64_t> sizes;
        list_files(path, files, sizes);
        sh->plan = std::make_shared<const file_split_plan>(
            plan_file_splits(std::move(files), std::move(sizes), parallelism, min_split_bytes));
        sh->parallelism = parallelism;
      }
      plan = sh->plan;
    }
    return std::make_unique<split_file_source>(path, std::move(plan), instance, max_line_bytes);
  };
}

}  // namespace weir::io
