// Built-in sinks: print (Spark's DStream.print), jsonl file, per-batch callback.
//
// Batch bookkeeping shared by all three: records passed to process() belong to
// the batch whose time is (last batch end seen, or 0) + batch interval; the
// batch is closed by on_batch_end(t).
#include <cerrno>
#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include "weir/io/detail/epoch_file.hpp"
#include "weir/common/errno_text.hpp"
#include "weir/io/detail/file_writer.hpp"
#include "weir/io/sinks.hpp"
#include "weir/operators/snapshot.hpp"

namespace weir::io {
namespace {

class batch_clock {
public:
  void open(const operator_context& ctx) { interval_ = ctx.input_slide().count(); }
  std::int64_t current() const noexcept { return last_end_ + interval_; }
  void ended(std::int64_t t) noexcept { last_end_ = t; }
  std::int64_t last_end() const noexcept { return last_end_; }

private:
  std::int64_t interval_ = 1000;
  std::int64_t last_end_ = 0;
};

// ---------------------------------------------------------------- print

class print_sink final : public stream_operator {
public:
  print_sink(std::size_t n, std::ostream* out) : n_(n), out_(out ? out : &std::cout) {}

  void open(const operator_context& ctx) override { clock_.open(ctx); }

  void process(const process_context&, records& in, records&) override {
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
  explicit jsonl_sink(std::string path) : out_(path, "jsonl(\"" + path + "\")"), path_(std::move(path)) {}

  void open(const operator_context& ctx) override {
    clock_.open(ctx);
    if (ctx.checkpointing) {
      epochs_ = std::make_unique<detail::epoch_file>(path_, "jsonl(\"" + path_ + "\")");
      epochs_->open(ctx.restoring);
    } else {
      out_.open();
    }
  }

  void process(const process_context&, records& in, records&) override {
    std::string prefix = "{\"time\":" + std::to_string(clock_.current()) + ",\"record\":";
    auto& buf = epochs_ ? epochs_->buffer() : out_.buffer();
    for (auto& r : in) {
      buf += prefix;
      r.append_json(buf);
      buf += "}\n";
      if (epochs_) epochs_->maybe_flush();
      else out_.maybe_flush();
    }
  }

  // Hands the batch's lines to the kernel, so that memory stays bounded and
  // <path>.tmp (checkpointed: the epoch's pending file) can be followed.
  void on_batch_end(std::int64_t t, records&) override {
    if (epochs_) epochs_->flush();
    else out_.flush();
    clock_.ended(t);
  }

  void on_end_of_stream(records&) override {
    if (epochs_) epochs_->end_of_stream();
    else out_.commit();
  }

  // Two-phase commit (checkpointed runs only; see detail/epoch_file.hpp).
  void snapshot_state(std::uint64_t id, state_writer& w) override {
    if (!epochs_) return;
    w.i64(clock_.last_end());
    epochs_->snapshot(id, w);
  }
  void notify_checkpoint_complete(std::uint64_t id) override {
    if (epochs_) epochs_->commit(id);
  }
  void restore_state(std::uint64_t id, state_reader& r) override {
    if (!epochs_) throw pipeline_error("jsonl(\"" + path_ + "\"): restore_state without checkpointing");
    clock_.ended(r.i64());
    epochs_->restore(id, r);
    r.expect_end();
  }

private:
  detail::file_writer out_;
  std::string path_;
  std::unique_ptr<detail::epoch_file> epochs_;  ///< set in checkpointed runs
  batch_clock clock_;
};

// ---------------------------------------------------------------- collect

class collect_sink final : public stream_operator {
public:
  explicit collect_sink(std::string path) : out_(path, "collect(\"" + path + "\")") {}

  void open(const operator_context&) override {
    out_.open();
  }

  void process(const process_context&, records& in, records&) override {
    for (auto& r : in) {
      batch_ += batch_.empty() ? "" : ",";
      r.append_json(batch_);
    }
  }

  void on_batch_end(std::int64_t t, records&) override {
    auto& buf = out_.buffer();
    buf += "{\"time\":" + std::to_string(t) + ",\"records\":[";
    buf += batch_;
    buf += "]}\n";
    batch_.clear();
    out_.flush();
  }

  void on_end_of_stream(records&) override { out_.commit(); }

private:
  detail::file_writer out_;
  std::string batch_;  ///< the current batch's records as JSON, comma-separated
};

// ---------------------------------------------------------------- batch

class batch_sink final : public stream_operator {
public:
  explicit batch_sink(std::function<void(std::int64_t, records&)> fn) : fn_(std::move(fn)) {}

  void open(const operator_context& ctx) override { clock_.open(ctx); }

  void process(const process_context&, records& in, records&) override {
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

operator_ptr make_collect_sink(std::string path) { return std::make_unique<collect_sink>(std::move(path)); }

operator_ptr make_batch_sink(std::function<void(std::int64_t, records&)> fn) {
  return std::make_unique<batch_sink>(std::move(fn));
}

}  // namespace weir::io
