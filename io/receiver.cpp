// Custom receivers: the bounded buffer between a receiver's thread and the
// runtime, the source adapter and the registry (see receiver.hpp).
#include "weir/io/receiver.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "weir/io/detail/net.hpp"
#include "weir/operators/sealed_state.hpp"

namespace weir::io {

struct receiver::shared {
  std::mutex m;
  std::condition_variable not_full;
  std::deque<value> buf;
  std::size_t cap;
  bool stopped = false;   // the run is stopping: store() returns false
  bool finished = false;  // finish() was called
  bool failed = false;
  std::string error;
};

receiver::receiver(std::size_t buffer_records) : sh_(std::make_unique<shared>()) {
  sh_->cap = std::max<std::size_t>(buffer_records, 1);
}

receiver::~receiver() = default;

bool receiver::store(value record) {
  std::unique_lock lk(sh_->m);
  sh_->not_full.wait(lk, [&] { return sh_->buf.size() < sh_->cap || sh_->stopped || sh_->finished; });
  if (sh_->stopped || sh_->finished) return false;
  sh_->buf.push_back(std::move(record));
  return true;
}

bool receiver::store(records batch) {
  std::size_t i = 0;
  std::unique_lock lk(sh_->m);
  while (i < batch.size()) {
    sh_->not_full.wait(lk, [&] { return sh_->buf.size() < sh_->cap || sh_->stopped || sh_->finished; });
    if (sh_->stopped || sh_->finished) return false;
    while (i < batch.size() && sh_->buf.size() < sh_->cap) sh_->buf.push_back(std::move(batch[i++]));
  }
  return true;
}

void receiver::finish() {
  std::lock_guard lk(sh_->m);
  sh_->finished = true;
  sh_->not_full.notify_all();
}

void receiver::report_error(std::string message) {
  std::lock_guard lk(sh_->m);
  if (!sh_->failed) {
    sh_->failed = true;
    sh_->error = std::move(message);
  }
  sh_->not_full.notify_all();
}

bool receiver::is_stopped() const {
  std::lock_guard lk(sh_->m);
  return sh_->stopped;
}

class receiver_adapter final : public source_reader {
public:
  receiver_adapter(std::function<receiver_ptr()> make, std::string name)
      : make_(std::move(make)), name_(std::move(name)), origin_(" record ") {}
  ~receiver_adapter() override { close(); }

  void open() override {
    rcv_ = make_();
    if (!rcv_) throw pipeline_error(name_ + ": the receiver factory returned no receiver");
    if (auto d = rcv_->describe(); !d.empty() && d != "receiver") name_ = std::move(d);
    oname_ = std::make_shared<const std::string>(name_);
    if (rcv_->replayable()) return;  // started at the first read, after a restore
    start();
  }

  read_result read(records& out, std::size_t max) override {
    if (!started_) start();
    origin_.clear();
    auto& sh = *rcv_->sh_;
    std::size_t n = 0;
    {
      std::lock_guard lk(sh.m);
      n = std::min(max, sh.buf.size());
      for (std::size_t i = 0; i < n; ++i) {
        out.push_back(std::move(sh.buf.front()));
        sh.buf.pop_front();
      }
      if (n > 0) sh.not_full.notify_all();
      if (n == 0) {
        if (sh.failed) throw pipeline_error(name_ + ": " + sh.error);
        if (sh.finished) return {read_result::status::end, {}};
      }
    }
    origin_.add(oname_, delivered_ + 1, n);
    delivered_ += n;
    if (n > 0) return {read_result::status::more, {}};
    return {read_result::status::idle, std::chrono::milliseconds(1)};
  }

  void close() override {
    if (!started_ || stopped_) return;
    stopped_ = true;
    {
      std::lock_guard lk(rcv_->sh_->m);
      rcv_->sh_->stopped = true;
      rcv_->sh_->not_full.notify_all();
    }
    rcv_->on_stop();
  }

  const record_origin* origin() const override { return &origin_; }
  std::string describe() const override { return name_; }

  // Checkpoints: the records delivered (provenance continues) and the
  // receiver's own position, for a receiver that opts in.
  bool replayable() const override { return rcv_ && rcv_->replayable(); }

  void snapshot_position(state_writer& w) const override {
    if (!replayable()) throw pipeline_error(name_ + ": not replayable");
    write_sealed(w, 1, [&](state_writer& s) {
      s.u64(delivered_);
      rcv_->snapshot_position(delivered_, s);
    });
  }

  void restore_position(state_reader& r) override {
    if (!replayable()) throw pipeline_error(name_ + ": not replayable, cannot restore a position");
    if (started_) throw pipeline_error(name_ + ": position restored after the receiver started");
    read_sealed(r, 1, "source " + name_, [&](state_reader& s) {
      delivered_ = s.u64();
      rcv_->restore_position(delivered_, s);
    });
  }

  std::string describe_position() const override { return name_ + ": " + std::to_string(delivered_) + " records delivered"; }

  void notify_checkpoint_complete(std::uint64_t id) override {
    if (rcv_ && rcv_->replayable()) rcv_->notify_checkpoint_complete(id);
  }

private:
  void start() {
    started_ = true;  // on_stop() also runs if on_start() throws halfway
    rcv_->on_start();
  }

  std::function<receiver_ptr()> make_;
  std::string name_;
  std::shared_ptr<const std::string> oname_;
  receiver_ptr rcv_;
  bool started_ = false, stopped_ = false;
  std::uint64_t delivered_ = 0;
  detail::segment_origin origin_;
};

source_ptr make_receiver_source(std::function<receiver_ptr()> make, std::string name) {
  return std::make_unique<receiver_adapter>(std::move(make), std::move(name));
}

namespace {

struct registry {
  std::mutex m;
  std::map<std::string, receiver_factory> factories;
};

registry& the_registry() {
  static registry r;
  return r;
}

bool identifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

}  // namespace

void register_receiver(const std::string& name, receiver_factory factory) {
  if (!identifier(name))
    throw pipeline_error("register_receiver: bad name \"" + name +
                         "\" (expected letters, digits and '_', not starting with a digit)");
  if (!factory) throw pipeline_error("register_receiver(\"" + name + "\"): empty factory");
  auto& r = the_registry();
  std::lock_guard lk(r.m);
  if (!r.factories.emplace(name, std::move(factory)).second)
    throw pipeline_error("register_receiver: a receiver named \"" + name + "\" is already registered");
}

std::vector<std::string> registered_receivers() {
  auto& r = the_registry();
  std::lock_guard lk(r.m);
  std::vector<std::string> out;
  for (auto& [k, v] : r.factories) out.push_back(k);
  return out;
}

receiver_factory find_receiver(const std::string& name) {
  auto& r = the_registry();
  std::lock_guard lk(r.m);
  auto it = r.factories.find(name);
  return it == r.factories.end() ? receiver_factory{} : it->second;
}

source_ptr make_registered_receiver_source(const std::string& name, std::vector<value> args) {
  receiver_factory f = find_receiver(name);
  if (!f) {
    auto names = registered_receivers();
    std::string list;
    for (auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw pipeline_error("unknown receiver \"" + name + "\" (" +
                         (list.empty() ? std::string("none is registered") : "registered: " + list) +
                         "; register it from C++ with weir::register_receiver)");
  }
  std::string label = "receiver(\"" + name + "\")";
  return make_receiver_source([f, args = std::move(args)] { return f(args); }, label);
}

}  // namespace weir::io
