// file(path): the lines of a text file (see sources.hpp).
#include <algorithm>
#include <cerrno>
#include <optional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weir/io/detail/file_glob.hpp"
#include "weir/io/detail/line_reader.hpp"
#include "weir/io/sources.hpp"
#include "weir/operators/sealed_state.hpp"

namespace weir::io {
namespace {

class file_source final : public source_reader {
public:
  file_source(std::string path, std::size_t max_line_bytes)
      : path_(std::move(path)), max_line_(max_line_bytes) {}
  ~file_source() override { close(); }

  void open() override {
    close();
    int fd;
    do fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) throw pipeline_error(describe() + ": cannot open: " + errno_text(errno));
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd);
      throw pipeline_error(describe() + ": cannot open: " + errno_text(EISDIR));
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    size_ = static_cast<std::uint64_t>(st.st_size);
    fd_ = fd;
    reader_.emplace(describe(), path_, max_line_);
    reader_->attach(fd_);
  }

  read_result read(records& out, std::size_t max) override {
    if (!reader_) throw pipeline_error(describe() + ": read before open");
    origin_.first_line = reader_->lines() + 1;
    return reader_->read(out, max, /*poll_first=*/false);
  }

  void close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::string describe() const override { return "file(\"" + path_ + "\")"; }

  /// Bytes read of the file's size at open.
  input_progress progress() const override {
    return {reader_ ? std::min<std::uint64_t>(reader_->offset(), size_) : 0, size_};
  }

  // Checkpoints: the byte offset after the last line returned and the line
  // count, so provenance ("PATH:LINE") continues right after a restore.
  bool replayable() const override { return true; }

  void snapshot_position(state_writer& w) const override {
    if (!reader_) throw pipeline_error(describe() + ": position taken before open");
    write_sealed(w, 1, [&](state_writer& s) {
      s.str(path_);
      s.u64(reader_->offset());
      s.u64(reader_->lines());
    });
  }

  void restore_position(state_reader& r) override {
    if (!reader_) throw pipeline_error(describe() + ": position restored before open");
    std::uint64_t offset = 0, lines = 0;
    read_sealed(r, 1, "source " + describe(), [&](state_reader& s) {
      std::string p = s.str();
      if (p != path_) s.fail("the position is of file \"" + p + "\", not \"" + path_ + "\"");
      offset = s.u64();
      lines = s.u64();
      if (lines > offset) s.fail("more lines (" + std::to_string(lines) + ") than bytes (" + std::to_string(offset) + ")");
    });
    struct stat st {};
    if (::fstat(fd_, &st) != 0) throw pipeline_error(describe() + ": cannot stat: " + errno_text(errno));
    if (static_cast<std::uint64_t>(st.st_size) < offset)
      throw pipeline_error(describe() + ": cannot resume at byte " + std::to_string(offset) + " (line " +
                           std::to_string(lines + 1) + "): the file " + path_ + " now has only " +
                           std::to_string(st.st_size) + " bytes");
    if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0)
      throw pipeline_error(describe() + ": cannot seek to byte " + std::to_string(offset) + ": " +
                           errno_text(errno));
    reader_->restart_at(offset, lines);
    origin_.first_line = lines + 1;
  }

  std::string describe_position() const override {
    if (!reader_) return path_ + ": not open";
    return path_ + ": line " + std::to_string(reader_->lines()) + ", byte " + std::to_string(reader_->offset());
  }

  /// Record i of the last read is line first_line + i of the file: "PATH:LINE".
  const record_origin* origin() const override { return &origin_; }

private:
  struct line_origin final : detail::lines_origin {
    explicit line_origin(file_source* s) : src(s) {}
    file_source* src;
    std::uint64_t first_line = 1;  // 1-based line of the last read's first record
    std::string describe(std::size_t i) const override {
      return src->path_ + ":" + std::to_string(first_line + i);
    }
    void lend_lines() const override {
      if (src->reader_) src->reader_->lend_lines();
    }
    std::span<const std::string_view> lent() const override {
      return src->reader_ ? src->reader_->lent() : std::span<const std::string_view>{};
    }
  };

  std::string path_;
  std::size_t max_line_;
  std::uint64_t size_ = 0;  ///< bytes of the file at open
  int fd_ = -1;
  std::optional<detail::line_reader> reader_;
  line_origin origin_{this};
};

}  // namespace

source_ptr make_file_source(std::string path, std::size_t max_line_bytes) {
  if (detail::has_glob(path)) return detail::make_glob_file_source(std::move(path), max_line_bytes);
  return std::make_unique<file_source>(std::move(path), max_line_bytes);
}

source_ptr detail::make_plain_file_source(std::string path, std::size_t max_line_bytes) {
  return std::make_unique<file_source>(std::move(path), max_line_bytes);
}

}  // namespace weir::io
