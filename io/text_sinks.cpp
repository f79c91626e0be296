// write_text (Spark saveAsTextFiles), write_csv and stdout sinks (see sinks.hpp).
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weir/io/detail/errno_text.hpp"
#include "weir/io/detail/file_writer.hpp"
#include "weir/io/sinks.hpp"

namespace weir::io {
namespace {

void fsync_dir(const std::string& dir) {
  int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d >= 0) {
    ::fsync(d);  // best effort: some file systems refuse fsync on a directory
    ::close(d);
  }
}

// ---------------------------------------------------------------- write_text

class text_files_sink final : public stream_operator {
public:
  text_files_sink(std::string dir, std::string prefix, std::string suffix)
      : dir_(std::move(dir)), prefix_(std::move(prefix)), suffix_(std::move(suffix)) {
    while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
    label_ = "write_text(\"" + dir_ + "\")";
  }
  ~text_files_sink() override {
    if (fd_ >= 0) ::close(fd_);
  }

  void open(const operator_context& ctx) override {
    char part[32];
    std::snprintf(part, sizeof part, "part-%05d", ctx.instance);
    part_ = part;
    inflight_ = dir_ + "/." + prefix_ + "-" + part_ + ".inflight";
    make_dir(dir_);
    start();
  }

  void process(records& in, records&) override {
    for (auto& r : in) {
      r.append_text(buf_);
      buf_.push_back('\n');
      if (buf_.size() >= (1u << 20)) flush();
    }
  }

  void on_batch_end(std::int64_t t, records&) override {
    flush();
    if (::fsync(fd_) != 0) fail("cannot write \"" + inflight_ + "\"", errno);
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("cannot write \"" + inflight_ + "\"", errno);
    std::string folder = dir_ + "/" + prefix_ + "-" + std::to_string(t);
    if (!suffix_.empty()) folder += "." + suffix_;
    make_dir(folder);
    std::string final_path = folder + "/" + part_;
    if (::rename(inflight_.c_str(), final_path.c_str()) != 0)
      fail("cannot rename \"" + inflight_ + "\" to \"" + final_path + "\"", errno);
    fsync_dir(folder);
    start();
  }

  void on_end_of_stream(records&) override {
    // every batch was ended (and committed) before end of stream
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    ::unlink(inflight_.c_str());
  }

private:
  [[noreturn]] void fail(const std::string& what, int err) const {
    throw pipeline_error(label_ + ": " + what + ": " + detail::errno_text(err));
  }

  void make_dir(const std::string& d) {
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) fail("cannot create \"" + d + "\"", errno);
  }

  void start() {
    do fd_ = ::open(inflight_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    while (fd_ < 0 && errno == EINTR);
    if (fd_ < 0) fail("cannot create \"" + inflight_ + "\"", errno);
  }

  void flush() {
    std::size_t off = 0;
    while (off < buf_.size()) {
      ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail("cannot write \"" + inflight_ + "\"", errno);
      }
      off += static_cast<std::size_t>(n);
    }
    buf_.clear();
  }

  std::string dir_, prefix_, suffix_, label_, part_, inflight_;
  int fd_ = -1;
  std::string buf_;
};

// ---------------------------------------------------------------- write_csv

void append_csv_field(std::string& out, const value& v, std::string& scratch) {
  std::string_view text;
  if (v.is_null()) return;
  if (v.is_string()) {
    text = v.as_string();
  } else {
    scratch.clear();
    if (v.is_array() || v.is_object()) v.append_json(scratch);
    else v.append_text(scratch);
    text = scratch;
  }
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += text;
    return;
  }
  out.push_back('"');
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

class csv_sink final : public stream_operator {
public:
  explicit csv_sink(std::string path) : out_(path, "write_csv(\"" + path + "\")") {}

  void open(const operator_context&) override { out_.open(); }

  void process(records& in, records&) override {
    auto& buf = out_.buffer();
    for (auto& r : in) {
      if (r.is_object()) {
        if (!have_columns_) {
          have_columns_ = true;
          bool first = true;
          for (auto& f : r.as_object()) {
            columns_.emplace_back(f.name.as_string());
            if (!first) buf.push_back(',');
            first = false;
            append_csv_field(buf, f.name, scratch_);
          }
          buf.push_back('\n');
        }
        for (std::size_t c = 0; c < columns_.size(); ++c) {
          if (c) buf.push_back(',');
          if (const value* v = r.find(columns_[c])) append_csv_field(buf, *v, scratch_);
        }
      } else if (r.is_array()) {
        bool first = true;
        for (auto& x : r.as_array()) {
          if (!first) buf.push_back(',');
          first = false;
          append_csv_field(buf, x, scratch_);
        }
      } else {
        append_csv_field(buf, r, scratch_);
      }
      buf.push_back('\n');
      out_.maybe_flush();
    }
  }

  void on_batch_end(std::int64_t, records&) override { out_.flush(); }
  void on_end_of_stream(records&) override { out_.commit(); }

private:
  detail::file_writer out_;
  bool have_columns_ = false;
  std::vector<std::string> columns_;
  std::string scratch_;
};

// ---------------------------------------------------------------- stdout

class stdout_sink final : public stream_operator {
public:
  stdout_sink(stdout_format f, std::ostream* out) : fmt_(f), out_(out ? out : &std::cout) {}

  void process(records& in, records&) override {
    for (auto& r : in) {
      if (fmt_ == stdout_format::jsonl) r.append_json(buf_);
      else r.append_text(buf_);
      buf_.push_back('\n');
      if (buf_.size() >= (1u << 16)) write();
    }
  }
  void on_batch_end(std::int64_t, records&) override {
    write();
    out_->flush();
  }
  void on_end_of_stream(records&) override {
    write();
    out_->flush();
  }

private:
  void write() {
    out_->write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.clear();
  }
  stdout_format fmt_;
  std::ostream* out_;
  std::string buf_;
};

}  // namespace

operator_ptr make_text_files_sink(std::string dir, std::string prefix, std::string suffix) {
  return std::make_unique<text_files_sink>(std::move(dir), std::move(prefix), std::move(suffix));
}

operator_ptr make_csv_sink(std::string path) { return std::make_unique<csv_sink>(std::move(path)); }

operator_ptr make_stdout_sink(stdout_format format, std::ostream* out) {
  return std::make_unique<stdout_sink>(format, out);
}

}  // namespace weir::io
