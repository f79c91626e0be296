// file(path): the lines of a text file (see sources.hpp).
#include <cerrno>
#include <optional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weir/io/detail/file_glob.hpp"
#include "weir/io/detail/line_reader.hpp"
#include "weir/io/sources.hpp"

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
    if (fd < 0) throw pipeline_error(describe() + ": cannot open: " + detail::errno_text(errno));
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd);
      throw pipeline_error(describe() + ": cannot open: " + detail::errno_text(EISDIR));
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
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

  /// Record i of the last read is line first_line + i of the file: "PATH:LINE".
  const record_origin* origin() const override { return &origin_; }

private:
  struct line_origin final : record_origin {
    explicit line_origin(const std::string* p) : path(p) {}
    const std::string* path;
    std::uint64_t first_line = 1;  // 1-based line of the last read's first record
    std::string describe(std::size_t i) const override {
      return *path + ":" + std::to_string(first_line + i);
    }
  };

  std::string path_;
  std::size_t max_line_;
  int fd_ = -1;
  std::optional<detail::line_reader> reader_;
  line_origin origin_{&path_};
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
