// write_text (Spark saveAsTextFiles), write_csv and stdout sinks (see sinks.hpp).
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weir/common/errno_text.hpp"
#include "weir/common/test_hooks.hpp"
#include "weir/io/detail/epoch_file.hpp"
#include "weir/io/detail/file_writer.hpp"
#include "weir/io/sinks.hpp"
#include "weir/operators/snapshot.hpp"

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
    if (ctx.instance == 0) lock_ = detail::lock_output(dir_ + "/" + prefix_, label_);  // one lock per sink
    if (ctx.checkpointing) {
      ckpt_ = true;
      stage_ = dir_ + "/." + prefix_ + "-" + part_ + ".weir-pending";
      // fresh run: stale staged batches of an earlier run are not ours to commit;
      // restoring: restore_state decides (it removes what it does not commit)
      if (!ctx.restoring) {
        remove_staged();
        ::rmdir(stage_.c_str());
      }
    }
    start();
  }

  void process(const process_context&, records& in, records&) override {
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
    std::string name = folder_name(t);
    if (ckpt_) {
      // two-phase commit: staged, made visible by notify_checkpoint_complete
      std::string epoch_dir = stage_ + "/epoch-" + std::to_string(seq_);
      if (staged_.empty()) {
        make_dir(stage_);
        make_dir(epoch_dir);
      }
      std::string staged = epoch_dir + "/" + name;
      if (::rename(inflight_.c_str(), staged.c_str()) != 0)
        fail("cannot rename \"" + inflight_ + "\" to \"" + staged + "\"", errno);
      staged_.push_back(name);
      last_time_ = t;
    } else {
      std::string folder = dir_ + "/" + name;
      make_dir(folder);
      std::string final_path = folder + "/" + part_;
      if (::rename(inflight_.c_str(), final_path.c_str()) != 0)
        fail("cannot rename \"" + inflight_ + "\" to \"" + final_path + "\"", errno);
      fsync_dir(folder);
    }
    start();
  }

  void on_end_of_stream(records&) override {
    // every batch was ended (and committed or staged) before end of stream
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    ::unlink(inflight_.c_str());
    if (ckpt_) precommit(0);  // the final checkpoint gives it its id
  }

  // --- two-phase commit (checkpointed runs) ---------------------------------
  // An epoch = the batch folders staged between two barriers, as files
  // dir/.prefix-part-NNNNN.weir-pending/epoch-S/<batch folder name>.
  // Pre-commit: the staging folders are synced, the epoch is recorded.
  // Commit: each staged file is renamed to dir/<batch folder>/part-NNNNN.
  // Recovery (Flink's recoverAndCommit): the epochs of the checkpoint are
  // renamed into place (rename is atomic and idempotent: a file already in
  // place was moved, not copied), every other staged file is removed, and
  // this instance's part files of batches after the checkpoint's last batch
  // are removed (the replay writes them again).

  void snapshot_state(std::uint64_t id, state_writer& w) override {
    if (!ckpt_) return;
    precommit(id);
    for (auto& e : pending_)
      if (e.checkpoint == 0) e.checkpoint = id;
    // records of an unfinished batch (record mode): carried in the state
    flush();
    std::string carried;
    if (fd_ >= 0) {
      off_t n = ::lseek(fd_, 0, SEEK_CUR);
      if (n > 0) {
        carried.resize(static_cast<std::size_t>(n));
        if (::pread(fd_, carried.data(), carried.size(), 0) != n) fail("cannot read \"" + inflight_ + "\"", errno);
      }
    }
    w.u8(1);  // state version
    w.i64(last_time_);
    w.varint(seq_);
    w.varint(pending_.size());
    for (auto& e : pending_) {
      w.varint(e.seq);
      w.varint(e.checkpoint);
      w.varint(e.folders.size());
      for (auto& f : e.folders) w.str(f);
    }
    w.str(carried);
    w.boolean(fd_ < 0);  // after end of stream: no inflight file
  }

  void notify_checkpoint_complete(std::uint64_t id) override {
    std::size_t done = 0;
    while (done < pending_.size() && pending_[done].checkpoint != 0 && pending_[done].checkpoint <= id) {
      commit_epoch(pending_[done], false);
      ++done;
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(done));
    if (pending_.empty() && staged_.empty()) ::rmdir(stage_.c_str());  // no hidden folder left when idle
  }

  void restore_state(std::uint64_t id, state_reader& r) override {
    if (!ckpt_) throw pipeline_error(label_ + ": restore_state without checkpointing");
    std::uint8_t version = r.u8();
    if (version != 1) r.fail("sink state version " + std::to_string(version) + ", expected 1");
    last_time_ = r.i64();
    const std::uint64_t next_seq = r.varint();
    std::vector<epoch> list;
    for (std::uint64_t i = 0, n = r.varint(); i < n; ++i) {
      epoch e;
      e.seq = r.varint();
      e.checkpoint = r.varint();
      if (e.seq >= next_seq || e.checkpoint == 0 || e.checkpoint > id) r.fail("bad pre-committed epoch entry");
      for (std::uint64_t j = 0, m = r.varint(); j < m; ++j) e.folders.push_back(r.str());
      list.push_back(std::move(e));
    }
    std::string carried = r.str();
    const bool ended = r.boolean();
    r.expect_end();
    for (auto& e : list) commit_epoch(e, true);
    remove_staged();
    ::rmdir(stage_.c_str());
    remove_after(last_time_);
    pending_.clear();
    staged_.clear();
    seq_ = next_seq;
    buf_.clear();
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (ended) {
      ::unlink(inflight_.c_str());
      return;
    }
    start();  // truncates the inflight file
    buf_ = std::move(carried);
    flush();
  }

private:
  struct epoch {
    std::uint64_t seq = 0;
    std::uint64_t checkpoint = 0;  ///< 0: pre-committed at end of stream
    std::vector<std::string> folders;
  };

  [[noreturn]] void fail(const std::string& what, int err) const {
    throw pipeline_error(label_ + ": " + what + ": " + errno_text(err));
  }

  void make_dir(const std::string& d) {
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) fail("cannot create \"" + d + "\"", errno);
  }

  std::string folder_name(std::int64_t t) const {
    std::string name = prefix_ + "-" + std::to_string(t);
    if (!suffix_.empty()) name += "." + suffix_;
    return name;
  }

  void start() {
    do fd_ = ::open(inflight_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    while (fd_ < 0 && errno == EINTR);
    if (fd_ < 0) fail("cannot create \"" + inflight_ + "\"", errno);
  }

  void flush() {
    if (buf_.empty()) return;
    std::size_t off = 0;
    while (off < buf_.size()) {
      ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        if (ckpt_) {  // undo the partial write: the checkpoint fails, processing may go on
          off_t end = ::lseek(fd_, 0, SEEK_CUR);
          if (end >= static_cast<off_t>(off) && ::ftruncate(fd_, end - static_cast<off_t>(off)) == 0)
            ::lseek(fd_, end - static_cast<off_t>(off), SEEK_SET);
        }
        fail("cannot write \"" + inflight_ + "\"", err);
      }
      off += static_cast<std::size_t>(n);
    }
    buf_.clear();
  }

  void precommit(std::uint64_t id) {
    if (staged_.empty()) return;
    fsync_dir(stage_ + "/epoch-" + std::to_string(seq_));  // the staged names survive a crash
    fsync_dir(stage_);
    pending_.push_back({seq_, id, std::move(staged_)});
    staged_.clear();
    ++seq_;
  }

  /// Renames the staged files of `e` into place; `recovering`: a file
  /// missing from the staging folder must already be in place.
  void commit_epoch(const epoch& e, bool recovering) {
    const std::string epoch_dir = stage_ + "/epoch-" + std::to_string(e.seq);
    std::size_t i = 0;
    for (auto& name : e.folders) {
      std::string staged = epoch_dir + "/" + name;
      std::string folder = dir_ + "/" + name;
      std::string final_path = folder + "/" + part_;
      make_dir(folder);
      if (::rename(staged.c_str(), final_path.c_str()) != 0) {
        int err = errno;
        struct stat st {};
        if (err != ENOENT || ::stat(final_path.c_str(), &st) != 0)
          fail("cannot commit staged file \"" + staged + "\" to \"" + final_path + "\"", err);
        // already committed before a crash
      }
      fsync_dir(folder);
      if (++i == 1 && !recovering) crash_point("during_sink_commit");  // part of the epoch is visible
    }
    ::rmdir(epoch_dir.c_str());
  }

  /// Removes every staged file and epoch folder of this instance.
  void remove_staged() {
    DIR* d = ::opendir(stage_.c_str());
    if (!d) return;
    std::vector<std::string> epochs;
    while (dirent* ent = ::readdir(d)) {
      std::string name = ent->d_name;
      if (name.rfind("epoch-", 0) == 0) epochs.push_back(stage_ + "/" + name);
    }
    ::closedir(d);
    for (auto& ed : epochs) {
      DIR* e = ::opendir(ed.c_str());
      if (e) {
        std::vector<std::string> files;
        while (dirent* ent = ::readdir(e)) {
          std::string name = ent->d_name;
          if (name != "." && name != "..") files.push_back(ed + "/" + name);
        }
        ::closedir(e);
        for (auto& f : files)
          if (::unlink(f.c_str()) != 0 && errno != ENOENT) fail("cannot remove \"" + f + "\"", errno);
      }
      if (::rmdir(ed.c_str()) != 0 && errno != ENOENT) fail("cannot remove \"" + ed + "\"", errno);
    }
  }

  /// Removes this instance's part files of batches later than `t` (and their
  /// folders when they end up empty).
  void remove_after(std::int64_t t) {
    DIR* d = ::opendir(dir_.c_str());
    if (!d) return;
    std::vector<std::string> doomed;
    const std::string head = prefix_ + "-";
    const std::string tail = suffix_.empty() ? "" : "." + suffix_;
    while (dirent* ent = ::readdir(d)) {
      std::string name = ent->d_name;
      if (name.size() <= head.size() + tail.size() || name.compare(0, head.size(), head) != 0 ||
          name.compare(name.size() - tail.size(), tail.size(), tail) != 0)
        continue;
      std::string digits = name.substr(head.size(), name.size() - head.size() - tail.size());
      if (digits.empty() || digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
      if (std::stoll(digits) > t) doomed.push_back(dir_ + "/" + name);
    }
    ::closedir(d);
    for (auto& folder : doomed) {
      std::string p = folder + "/" + part_;
      if (::unlink(p.c_str()) != 0 && errno != ENOENT) fail("cannot remove \"" + p + "\"", errno);
      ::rmdir(folder.c_str());  // only when empty (other instances' parts stay)
    }
    if (!doomed.empty()) fsync_dir(dir_);
  }

  std::string dir_, prefix_, suffix_, label_, part_, inflight_;
  int fd_ = -1;
  std::string buf_;
  // checkpointed runs
  bool ckpt_ = false;
  std::string stage_;                ///< dir/.prefix-part-NNNNN.weir-pending
  std::unique_ptr<file_lock> lock_;   ///< instance 0's lock on dir/prefix (lock_output)
  std::uint64_t seq_ = 1;            ///< current epoch
  std::vector<std::string> staged_;  ///< batch folders staged in the current epoch
  std::int64_t last_time_ = 0;       ///< time of the last batch staged
  std::vector<epoch> pending_;       ///< pre-committed, not committed, in order
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
  explicit csv_sink(std::string path) : out_(path, "write_csv(\"" + path + "\")"), path_(std::move(path)) {}

  void open(const operator_context& ctx) override {
    if (ctx.checkpointing) {
      epochs_ = std::make_unique<detail::epoch_file>(path_, "write_csv(\"" + path_ + "\")");
      epochs_->open(ctx.restoring);
    } else {
      out_.open();
    }
  }

  void process(const process_context&, records& in, records&) override {
    auto& buf = epochs_ ? epochs_->buffer() : out_.buffer();
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
      if (epochs_) epochs_->maybe_flush();
      else out_.maybe_flush();
    }
  }

  void on_batch_end(std::int64_t, records&) override {
    if (epochs_) epochs_->flush();
    else out_.flush();
  }
  void on_end_of_stream(records&) override {
    if (epochs_) epochs_->end_of_stream();
    else out_.commit();
  }

  // Two-phase commit (checkpointed runs only; see detail/epoch_file.hpp). The
  // header and the columns are state: a restored sink does not write the
  // header again.
  void snapshot_state(std::uint64_t id, state_writer& w) override {
    if (!epochs_) return;
    w.boolean(have_columns_);
    w.varint(columns_.size());
    for (auto& c : columns_) w.str(c);
    epochs_->snapshot(id, w);
  }
  void notify_checkpoint_complete(std::uint64_t id) override {
    if (epochs_) epochs_->commit(id);
  }
  void restore_state(std::uint64_t id, state_reader& r) override {
    if (!epochs_) throw pipeline_error("write_csv(\"" + path_ + "\"): restore_state without checkpointing");
    have_columns_ = r.boolean();
    columns_.clear();
    for (std::uint64_t i = 0, n = r.varint(); i < n; ++i) columns_.push_back(r.str());
    epochs_->restore(id, r);
    r.expect_end();
  }

private:
  detail::file_writer out_;
  std::string path_;
  std::unique_ptr<detail::epoch_file> epochs_;  ///< set in checkpointed runs
  bool have_columns_ = false;
  std::vector<std::string> columns_;
  std::string scratch_;
};

// ---------------------------------------------------------------- stdout

class stdout_sink final : public stream_operator {
public:
  stdout_sink(stdout_format f, std::ostream* out) : fmt_(f), out_(out ? out : &std::cout) {}

  void process(const process_context&, records& in, records&) override {
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
