// Built-in sinks: print (Spark's DStream.print), jsonl file, per-batch callback.
//
// Batch bookkeeping shared by all three: records passed to process() belong to
// the batch whose time is (last batch end seen, or 0) + batch interval; the
// batch is closed by on_batch_end(t).
#include <cerrno>
#include <iostream>
#include <string>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include "weir/io/detail/errno_text.hpp"
#include "weir/io/sinks.hpp"

namespace weir::io {
namespace {

class batch_clock {
public:
  void open(const operator_context& ctx) { interval_ = ctx.batch_interval.count(); }
  std::int64_t current() const noexcept { return last_end_ + interval_; }
  void ended(std::int64_t t) noexcept { last_end_ = t; }

private:
  std::int64_t interval_ = 1000;
  std::int64_t last_end_ = 0;
};

// ---------------------------------------------------------------- print

class print_sink final : public stream_operator {
public:
  print_sink(std::size_t n, std::ostream* out) : n_(n), out_(out ? out : &std::cout) {}

  void open(const operator_context& ctx) override { clock_.open(ctx); }

  void process(records& in, records&) override {
    for (auto& r : in) {
      if (count_ < n_) {
        r.append_text(shown_);
        shown_.push_back('\n');
      }
      ++count_;
    }
  }

  void on_batch_end(std::int64_t t, records&) override {
    print(t);
    clock_.ended(t);
  }

  // The runtime ends every batch before end of stream; records that arrived
  // after the last batch end (none, normally) are printed rather than lost.
  void on_end_of_stream(records&) override {
    if (count_ > 0) print(clock_.current());
  }

private:
  void print(std::int64_t t) {
    static constexpr std::string_view dashes = "-------------------------------------------\n";
    std::string s;
    s.reserve(shown_.size() + 120);
    s += dashes;
    s += "Time: ";
    s += std::to_string(t);
    s += " ms\n";
    s += dashes;
    s += shown_;
    if (count_ > n_) s += "...\n";
    s += '\n';
    out_->write(s.data(), static_cast<std::streamsize>(s.size()));
    out_->flush();
    shown_.clear();
    count_ = 0;
  }

  std::size_t n_;
  std::ostream* out_;
  batch_clock clock_;
  std::string shown_;  // the first n records of the batch, one per line
  std::size_t count_ = 0;
};

// ---------------------------------------------------------------- jsonl

class jsonl_sink final : public stream_operator {
public:
  explicit jsonl_sink(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {}
  ~jsonl_sink() override {
    if (fd_ >= 0) ::close(fd_);  // unfinished output stays in <path>.tmp
  }

  void open(const operator_context& ctx) override {
    clock_.open(ctx);
    if (fd_ >= 0) ::close(fd_);
    do fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    while (fd_ < 0 && errno == EINTR);
    if (fd_ < 0) fail("cannot create \"" + tmp_ + "\"", errno);
    buf_.clear();
    buf_.reserve(buffer_bytes + (64u << 10));
    done_ = false;
  }

  void process(records& in, records&) override {
    if (fd_ < 0) throw pipeline_error(label() + ": not open");
    std::string prefix = "{\"time\":" + std::to_string(clock_.current()) + ",\"record\":";
    for (auto& r : in) {
      buf_ += prefix;
      r.append_json(buf_);
      buf_ += "}\n";
      if (buf_.size() >= buffer_bytes) flush();
    }
  }

  // Hands the batch's lines to the kernel, so that memory stays bounded and
  // <path>.tmp can be followed while the job runs.
  void on_batch_end(std::int64_t t, records&) override {
    if (fd_ >= 0) flush();
    clock_.ended(t);
  }

  void on_end_of_stream(records&) override {
    if (done_ || fd_ < 0) return;
    flush();
    if (::fsync(fd_) != 0) fail("cannot write \"" + tmp_ + "\"", errno);
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("cannot write \"" + tmp_ + "\"", errno);
    if (::rename(tmp_.c_str(), path_.c_str()) != 0)
      fail("cannot rename \"" + tmp_ + "\" to \"" + path_ + "\"", errno);
    sync_dir();
    done_ = true;
  }

private:
  static constexpr std::size_t buffer_bytes = 1u << 20;

  std::string label() const { return "jsonl(\"" + path_ + "\")"; }
  [[noreturn]] void fail(const std::string& what, int err) const {
    throw pipeline_error(label() + ": " + what + ": " + detail::errno_text(err));
  }

  void flush() {
    std::size_t off = 0;
    while (off < buf_.size()) {
      ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail("cannot write \"" + tmp_ + "\"", errno);
      }
      off += static_cast<std::size_t>(n);
    }
    buf_.clear();
  }

  // Makes the rename durable (best effort: some file systems refuse fsync on a directory).
  void sync_dir() const {
    auto slash = path_.rfind('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
    int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d >= 0) {
      ::fsync(d);
      ::close(d);
    }
  }

  std::string path_, tmp_;
  batch_clock clock_;
  int fd_ = -1;
  std::string buf_;
  bool done_ = false;
};

// ---------------------------------------------------------------- batch

class batch_sink final : public stream_operator {
public:
  explicit batch_sink(std::function<void(std::int64_t, records&)> fn) : fn_(std::move(fn)) {}

  void open(const operator_context& ctx) override { clock_.open(ctx); }

  void process(records& in, records&) override {
    if (batch_.empty()) {
      batch_.swap(in);
    } else {
      batch_.reserve(batch_.size() + in.size());
      for (auto& r : in) batch_.push_back(std::move(r));
    }
    in.clear();
  }

  void on_batch_end(std::int64_t t, records&) override {
    records recs;
    recs.swap(batch_);
    clock_.ended(t);
    if (fn_) fn_(t, recs);
  }

  // Records after the last batch end (none, normally) are delivered, not lost.
  void on_end_of_stream(records&) override {
    if (batch_.empty()) return;
    records recs;
    recs.swap(batch_);
    if (fn_) fn_(clock_.current(), recs);
  }

private:
  std::function<void(std::int64_t, records&)> fn_;
  batch_clock clock_;
  records batch_;
};

}  // namespace

operator_ptr make_print_sink(std::size_t n, std::ostream* out) {
  return std::make_unique<print_sink>(n, out);
}

operator_ptr make_jsonl_sink(std::string path) { return std::make_unique<jsonl_sink>(std::move(path)); }

operator_ptr make_batch_sink(std::function<void(std::int64_t, records&)> fn) {
  return std::make_unique<batch_sink>(std::move(fn));
}

}  // namespace weir::io
