// file("logs/*.log"): the lines of the files matching a glob, in name order.
#include <algorithm>
#include <cerrno>
#include <vector>

#include <glob.h>
#include <unistd.h>

#include "weir/common/errno_text.hpp"
#include "weir/common/hash.hpp"
#include "weir/io/detail/file_glob.hpp"
#include "weir/io/detail/line_reader.hpp"
#include "weir/io/sources.hpp"
#include "weir/operators/sealed_state.hpp"

namespace weir::io::detail {

std::vector<std::string> expand_glob(const std::string& pattern, const std::string& what) {
  std::vector<std::string> files;
  glob_t g{};
  int rc = ::glob(pattern.c_str(), GLOB_MARK, nullptr, &g);
  if (rc != 0 && rc != GLOB_NOMATCH) {
    ::globfree(&g);
    throw pipeline_error(what + ": cannot expand the pattern: " + (rc == GLOB_NOSPACE ? "out of memory" : "read error"));
  }
  for (std::size_t i = 0; i < g.gl_pathc; ++i) {
    std::string p = g.gl_pathv[i];
    if (!p.empty() && p.back() == '/') continue;  // GLOB_MARK: a directory
    files.push_back(std::move(p));
  }
  ::globfree(&g);
  if (files.empty() && ::access(pattern.c_str(), F_OK) == 0) files.push_back(pattern);  // a literal '[' or '*'
  if (files.empty()) throw pipeline_error(what + ": no file matches the pattern");
  std::sort(files.begin(), files.end());
  return files;
}
namespace {

class glob_file_source final : public source_reader {
public:
  glob_file_source(std::string pattern, std::size_t max_line_bytes)
      : pattern_(std::move(pattern)), max_line_(max_line_bytes) {}
  ~glob_file_source() override { close(); }

  void open() override {
    close();
    files_ = expand_glob(pattern_, describe());
    next_ = 0;
    open_next();  // errors of the first file surface at start
  }

  read_result read(records& out, std::size_t max) override {
    done_.reset();  // the previous call's records are processed
    for (;;) {
      if (!cur_) {
        if (next_ >= files_.size()) return {read_result::status::end, {}};
        open_next();
      }
      std::size_t before = out.size();
      auto r = cur_->read(out, max);
      if (r.st != read_result::status::end) return r;
      cur_->close();
      done_ = std::move(cur_);  // keeps the origin of this call's records
      done_path_ = files_[next_ - 1];
      // Records of one call come from one file only (origin()).
      if (out.size() > before) return {read_result::status::more, {}};
      done_.reset();
    }
  }

  void close() override {
    if (cur_) cur_->close();
  }

  /// One origin for the whole run (the runtime takes it once): it speaks
  /// for the file whose lines the last read returned.
  const record_origin* origin() const override { return &origin_; }

  std::string describe() const override { return "file(\"" + pattern_ + "\")"; }

  // Checkpoints: the file list as expanded by the first run (files matching
  // later are not added, so a replay reads the same input), the index of the
  // file being read and its position, or of the next file to open.
  bool replayable() const override { return true; }

  void snapshot_position(state_writer& w) const override {
    write_sealed(w, 1, [&](state_writer& s) {
      s.str(pattern_);
      s.varint(files_.size());
      for (auto& f : files_) s.str(f);
      s.boolean(cur_ != nullptr);
      if (cur_) {
        s.varint(next_ - 1);
        cur_->snapshot_position(s);
      } else {
        s.varint(next_);
      }
    });
  }

  void restore_position(state_reader& r) override {
    read_sealed(r, 1, "source " + describe(), [&](state_reader& s) {
      if (s.str() != pattern_) s.fail("the position is of another pattern than \"" + pattern_ + "\"");
      const std::uint64_t n = s.varint();
      std::vector<std::string> files;
      for (std::uint64_t i = 0; i < n; ++i) files.push_back(s.str());
      if (files.empty()) s.fail("no file in the list");
      const bool open_file = s.boolean();
      const std::uint64_t index = s.varint();
      if (index > files.size() || (open_file && index >= files.size()))
        s.fail("file index " + std::to_string(index) + " of " + std::to_string(files.size()) + " files");
      close();
      cur_.reset();
      done_.reset();
      files_ = std::move(files);
      next_ = static_cast<std::size_t>(index);
      if (open_file) {
        open_next();  // a file of the list that is gone: its open error
        cur_->restore_position(s);
      }
    });
  }

  std::string describe_position() const override {
    if (cur_) return "file " + std::to_string(next_) + " of " + std::to_string(files_.size()) + ": " + cur_->describe_position();
    return "file " + std::to_string(next_ + 1) + " of " + std::to_string(files_.size()) + " next";
  }

private:
  /// The origin of the file the last read's records came from, if that
  /// file's source offers lent lines.
  const lines_origin* file_origin() const {
    const source_reader* s = cur_ ? cur_.get() : done_.get();
    return s ? dynamic_cast<const lines_origin*>(s->origin()) : nullptr;
  }

  struct forward_origin final : lines_origin {
    explicit forward_origin(glob_file_source* s) : src(s) {}
    glob_file_source* src;
    std::string describe(std::size_t i) const override {
      const lines_origin* o = src->file_origin();
      return o ? o->describe(i) : src->pattern_ + ": record " + std::to_string(i + 1);
    }
    void lend_lines() const override {
      src->lend_ = true;
      if (const lines_origin* o = src->file_origin()) o->lend_lines();
    }
    std::span<const std::string_view> lent() const override {
      const lines_origin* o = src->file_origin();
      return o ? o->lent() : std::span<const std::string_view>{};
    }
    // a file is a part: parse_csv(header = true) reads one header per file
    std::uint64_t part(std::size_t) const override {
      if (src->cur_) return xxh3_64(src->files_[src->next_ - 1]);
      return src->done_ ? xxh3_64(src->done_path_) : 0;
    }
  };

  void open_next() {
    cur_ = make_plain_file_source(files_[next_++], max_line_);
    cur_->open();
    if (lend_)
      if (const lines_origin* o = file_origin()) o->lend_lines();
  }

  std::string pattern_;
  std::size_t max_line_;
  std::vector<std::string> files_;
  std::size_t next_ = 0;
  source_ptr cur_, done_;
  bool lend_ = false;  // the first operator reads the lines in place
  std::string done_path_;  // the file done_ read
  forward_origin origin_{this};
};

}  // namespace

bool has_glob(std::string_view path) noexcept {
  return path.find_first_of("*?[") != std::string_view::npos;
}

source_ptr make_glob_file_source(std::string pattern, std::size_t max_line_bytes) {
  return std::make_unique<glob_file_source>(std::move(pattern), max_line_bytes);
}

}  // namespace weir::io::detail
