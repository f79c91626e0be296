// The Kafka receiver (Spark's direct approach) on librdkafka's C API.
//
// open(): metadata and watermarks (bounded by `timeout`), this instance's
// share of the partitions, explicit start offsets, rd_kafka_assign.
// read(): drains librdkafka's prefetch queue without waiting (timeout 0).
// Backpressure: a helper thread pauses the partitions when read() has not
// been called for `pause_after` (the source has no credit); read() resumes
// them. Pausing makes librdkafka drop its prefetched messages and fetch again
// from the application's position on resume, so memory stays bounded by the
// prefetch limits while running and near zero while paused; offsets below
// weir's next offset are skipped, so a re-fetch never duplicates a record.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include <librdkafka/rdkafka.h>

#include "weir/io/kafka.hpp"
#include "weir/operators/sealed_state.hpp"

namespace weir::io {

// ----------------------------------------------------------------- helpers

namespace {

using clock_type = std::chrono::steady_clock;

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

std::string join_topics(const std::vector<std::string>& t) {
  std::string s;
  for (auto& x : t) s += (s.empty() ? "" : ",") + x;
  return s;
}

struct tp_key {
  std::string topic;
  std::int32_t partition;
  bool operator<(const tp_key& o) const { return std::tie(topic, partition) < std::tie(o.topic, o.partition); }
};

void silent_log(const rd_kafka_t*, int, const char*, const char*) {}

struct list_deleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using list_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, list_deleter>;

list_ptr make_list(const std::vector<kafka_partition_offset>& offs) {
  list_ptr l(rd_kafka_topic_partition_list_new(static_cast<int>(offs.size())));
  for (auto& o : offs) rd_kafka_topic_partition_list_add(l.get(), o.topic.c_str(), o.partition)->offset = o.next_offset;
  return l;
}

void close_consumer(rd_kafka_t* rk) {
  if (!rk) return;
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
}

}  // namespace

kafka_start parse_kafka_start(const std::string& s) {
  if (s == "earliest") return kafka_start::earliest;
  if (s == "latest") return kafka_start::latest;
  if (s == "committed") return kafka_start::committed;
  throw pipeline_error("kafka: start must be \"earliest\", \"latest\" or \"committed\", got \"" + s + "\"");
}

// ----------------------------------------------------------------- progress

struct kafka_progress::impl {
  mutable std::mutex mtx;
  std::map<tp_key, std::int64_t> offsets;
  std::map<tp_key, std::int64_t> committed;
  std::map<tp_key, std::int64_t> highs;  ///< high watermarks as last seen by the consumers
  std::atomic<std::uint64_t> records{0}, pauses{0}, resumes{0}, commits{0};
  struct closed_consumer {
    rd_kafka_t* rk;
    std::string group;
    std::vector<kafka_partition_offset> final_offsets;
  };
  std::vector<closed_consumer> closed;

  void set_offsets(const std::vector<kafka_partition_offset>& offs,
                   const std::vector<kafka_partition_offset>& high = {}) {
    std::lock_guard<std::mutex> lock(mtx);
    for (auto& o : offs) offsets[{o.topic, o.partition}] = o.next_offset;
    for (auto& h : high) highs[{h.topic, h.partition}] = h.next_offset;
  }
  void set_committed(const rd_kafka_topic_partition_list_t* l) {
    std::lock_guard<std::mutex> lock(mtx);
    for (int i = 0; i < l->cnt; ++i)
      if (l->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR && l->elems[i].offset >= 0)
        committed[{l->elems[i].topic, l->elems[i].partition}] = l->elems[i].offset;
  }
  static std::vector<kafka_partition_offset> to_vector(const std::map<tp_key, std::int64_t>& m) {
    std::vector<kafka_partition_offset> v;
    for (auto& [k, off] : m) v.push_back({k.topic, k.partition, off});
    return v;
  }
};

kafka_progress::kafka_progress() : impl_(std::make_unique<impl>()) {}

kafka_progress::~kafka_progress() {
  for (auto& c : impl_->closed) close_consumer(c.rk);
}

std::vector<kafka_partition_offset> kafka_progress::offsets() const {
  std::lock_guard<std::mutex> lock(impl_->mtx);
  return impl::to_vector(impl_->offsets);
}

std::vector<kafka_partition_offset> kafka_progress::high_watermarks() const {
  std::lock_guard<std::mutex> lock(impl_->mtx);
  return impl::to_vector(impl_->highs);
}

std::vector<kafka_partition_offset> kafka_progress::committed() const {
  std::lock_guard<std::mutex> lock(impl_->mtx);
  return impl::to_vector(impl_->committed);
}

std::uint64_t kafka_progress::records() const { return impl_->records.load(); }
std::uint64_t kafka_progress::pauses() const { return impl_->pauses.load(); }
std::uint64_t kafka_progress::resumes() const { return impl_->resumes.load(); }
std::uint64_t kafka_progress::commits() const { return impl_->commits.load(); }

void kafka_progress::commit_final() {
  std::vector<impl::closed_consumer> todo;
  {
    std::lock_guard<std::mutex> lock(impl_->mtx);
    todo.swap(impl_->closed);
  }
  std::string error;
  for (auto& c : todo) {
    if (!c.final_offsets.empty() && error.empty()) {
      auto l = make_list(c.final_offsets);
      rd_kafka_resp_err_t err = rd_kafka_commit(c.rk, l.get(), 0);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        error = "kafka: committing the final offsets of group \"" + c.group + "\" failed: " + rd_kafka_err2str(err);
      } else {
        impl_->set_committed(l.get());
        ++impl_->commits;
      }
    }
    close_consumer(c.rk);
  }
  if (!error.empty()) throw pipeline_error(error);
}

// ----------------------------------------------------------------- reader

struct kafka_reader::impl : record_origin {
  kafka_options o;
  rd_kafka_t* rk = nullptr;
  rd_kafka_queue_t* queue = nullptr;

  struct part {
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t next = 0;       ///< next offset to read
    std::int64_t end = -1;       ///< until_end: high watermark at open; -1 = unbounded
    bool done = false;           ///< until_end reached
  };
  std::vector<part> parts;  ///< this instance's share, sorted by topic, partition
  std::size_t remaining = 0;  ///< parts not done

  // backpressure (guarded by mtx; the helper thread pauses)
  mutable std::mutex mtx;
  std::condition_variable cv;
  bool stopping = false;
  bool paused = false;
  clock_type::time_point last_read = clock_type::now();
  std::thread watchdog;
  std::atomic<std::uint64_t> pause_count{0};

  // periodic commits
  clock_type::time_point next_commit;
  std::vector<kafka_partition_offset> pending;  ///< offsets as of the previous interval end

  // provenance of the records of the last read
  std::vector<std::pair<std::uint32_t, std::int64_t>> origins;  ///< (part index, offset)

  std::vector<rd_kafka_message_t*> msgs;

  // checkpoints: the offsets of the last snapshot, committed on completion
  std::vector<kafka_partition_offset> snapshot_offsets;
  bool checkpointed = false;  ///< a checkpoint completed: periodic commits stop

  explicit impl(kafka_options opts) : o(std::move(opts)) {}

  void snapshot(state_writer& w) {
    if (!rk) fail("position taken before open");
    std::lock_guard<std::mutex> lock(mtx);
    snapshot_offsets = offsets();
    write_sealed(w, 1, [&](state_writer& s) {
      s.varint(parts.size());
      for (auto& p : parts) {
        s.str(p.topic);
        s.i64(p.partition);
        s.i64(p.next);
        s.i64(p.end);
      }
    });
  }

  static std::string list_text(const std::vector<std::pair<std::string, std::int32_t>>& v) {
    std::string t;
    for (auto& [topic, p] : v) t += (t.empty() ? "" : ", ") + topic + "/" + std::to_string(p);
    return t.empty() ? "none" : t;
  }

  // After open(): the partition set must be the checkpoint's; every
  // partition is re-assigned at its checkpointed next offset (and keeps the
  // checkpoint's end for until_end, so a replay stops where the first run would).
  void restore(state_reader& r) {
    if (!rk) fail("position restored before open");
    std::vector<part> saved;
    read_sealed(r, 1, "source " + name(), [&](state_reader& s) {
      for (std::uint64_t i = 0, n = s.varint(); i < n; ++i) {
        part p;
        p.topic = s.str();
        const std::int64_t id = s.i64();
        if (id < 0 || id > std::numeric_limits<std::int32_t>::max()) s.fail("partition " + std::to_string(id));
        p.partition = static_cast<std::int32_t>(id);
        p.next = s.i64();
        p.end = s.i64();
        if (p.next < 0 || p.end < -1) s.fail("offset " + std::to_string(p.next) + " of " + p.topic);
        saved.push_back(std::move(p));
      }
    });
    std::vector<std::pair<std::string, std::int32_t>> now, then;
    for (auto& p : parts) now.emplace_back(p.topic, p.partition);
    for (auto& p : saved) then.emplace_back(p.topic, p.partition);
    if (now != then)
      fail("the partitions changed since the checkpoint: it holds offsets for " + list_text(then) +
           ", this instance is assigned " + list_text(now) +
           " (restore with the same topics, partitions and parallelism, or start without the checkpoint)");
    std::lock_guard<std::mutex> lock(mtx);
    remaining = 0;
    list_ptr assign(rd_kafka_topic_partition_list_new(static_cast<int>(saved.size())));
    for (std::size_t i = 0; i < parts.size(); ++i) {
      auto& p = parts[i];
      p.next = saved[i].next;
      p.end = o.until_end ? saved[i].end : -1;
      p.done = p.end >= 0 && p.next >= p.end;
      if (p.done) continue;
      ++remaining;
      rd_kafka_topic_partition_list_add(assign.get(), p.topic.c_str(), p.partition)->offset = p.next;
    }
    if (rd_kafka_resp_err_t e = rd_kafka_assign(rk, assign.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR)
      fail(std::string("cannot assign the partitions at the checkpoint's offsets: ") + rd_kafka_err2str(e));
    paused = false;
    pending = offsets();
    report();
  }

  // Commits the last snapshot's offsets to the group (asynchronously; for
  // lag monitoring: weir's own offsets are in the checkpoint).
  void commit_checkpoint() {
    if (!rk) return;
    std::lock_guard<std::mutex> lock(mtx);
    checkpointed = true;
    if (snapshot_offsets.empty()) return;
    auto l = make_list(snapshot_offsets);
    rd_kafka_commit(rk, l.get(), 1);  // result: on_commit, served by read()
  }

  std::string position_text() const {
    std::lock_guard<std::mutex> lock(mtx);
    std::string t;
    for (auto& p : parts) t += (t.empty() ? "" : ", ") + p.topic + "/" + std::to_string(p.partition) + "@" + std::to_string(p.next);
    return name() + ": " + (t.empty() ? "no partition" : t);
  }

  std::string describe(std::size_t i) const override {
    if (i >= origins.size()) return "kafka";
    auto& p = parts[origins[i].first];
    return p.topic + "/" + std::to_string(p.partition) + "/" + std::to_string(origins[i].second);
  }

  std::string name() const { return "kafka(" + quoted(join_topics(o.topics)) + ")"; }

  [[noreturn]] void fail(const std::string& msg) const { throw pipeline_error(name() + ": " + msg); }

  void set(rd_kafka_conf_t* conf, const std::string& k, const std::string& v) {
    char err[512];
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      fail("bad librdkafka option " + k + "=" + quoted(v) + ": " + err);
    }
  }

  // The opaque is the progress state (or null), which outlives the handle:
  // the handle may outlive this reader (close() hands it to the progress).
  static void on_commit(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offs, void* opaque) {
    auto* progress = static_cast<kafka_progress::impl*>(opaque);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR || !offs || !progress) return;
    progress->set_committed(offs);
    ++progress->commits;
  }

  void open() {
    if (o.topics.empty()) fail("no topic given");
    for (auto& t : o.topics)
      if (t.empty()) fail("empty topic name in " + quoted(join_topics(o.topics)));
    if (o.brokers.empty()) fail("brokers must not be empty");
    if (o.group.empty()) fail("group must not be empty");
    if (o.parallelism < 1 || o.instance < 0 || o.instance >= o.parallelism)
      fail("instance " + std::to_string(o.instance) + " of parallelism " + std::to_string(o.parallelism) +
           " is out of range");
    if (o.timeout.count() <= 0) fail("timeout must be positive");
    if (o.commit_interval.count() < 0) o.commit_interval = std::chrono::milliseconds(1000);
    if (o.pause_after.count() <= 0) fail("pause_after must be positive");

    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", o.brokers);
    set(conf, "group.id", o.group);
    set(conf, "client.id", "weir");
    set(conf, "enable.auto.commit", "false");
    set(conf, "enable.auto.offset.store", "false");
    set(conf, "auto.offset.reset", "error");  // never skip silently
    set(conf, "enable.partition.eof", "true");
    set(conf, "queued.max.messages.kbytes", std::to_string(std::max<std::size_t>(1, o.prefetch_kbytes)));
    set(conf, "queued.min.messages", std::to_string(std::max<std::size_t>(1, o.prefetch_messages)));
    set(conf, "socket.connection.setup.timeout.ms", std::to_string(std::max<std::int64_t>(1000, o.timeout.count())));
    for (auto& [k, v] : o.config) set(conf, k, v);
    rd_kafka_conf_set_log_cb(conf, silent_log);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    rd_kafka_conf_set_opaque(conf, o.progress ? &o.progress->state() : nullptr);
    char err[512];
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
      rd_kafka_conf_destroy(conf);
      fail(std::string("cannot create a Kafka consumer: ") + err);
    }
    rd_kafka_poll_set_consumer(rk);
    queue = rd_kafka_queue_get_consumer(rk);

    // Partitions of every topic (in the order given), then this instance's
    // share. Metadata of all topics: asking for one topic may auto-create it.
    const int tmo = static_cast<int>(o.timeout.count());
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t me = rd_kafka_metadata(rk, 1, nullptr, &md, tmo);
    if (me != RD_KAFKA_RESP_ERR_NO_ERROR)
      fail("cannot read metadata from brokers " + quoted(o.brokers) + " within " + std::to_string(tmo) + " ms (" +
           rd_kafka_err2str(me) + ")");
    std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> guard(md, rd_kafka_metadata_destroy);
    std::vector<part> all;
    for (auto& t : o.topics) {
      const rd_kafka_metadata_topic_t* tm = nullptr;
      for (int i = 0; i < md->topic_cnt; ++i)
        if (t == md->topics[i].topic) tm = &md->topics[i];
      if (!tm || tm->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
          (tm->err == RD_KAFKA_RESP_ERR_NO_ERROR && tm->partition_cnt == 0))
        fail("unknown topic " + quoted(t) + " on brokers " + quoted(o.brokers));
      if (tm->err != RD_KAFKA_RESP_ERR_NO_ERROR) fail("topic " + quoted(t) + ": " + rd_kafka_err2str(tm->err));
      std::vector<std::int32_t> ids;
      for (int i = 0; i < tm->partition_cnt; ++i) ids.push_back(tm->partitions[i].id);
      std::sort(ids.begin(), ids.end());
      for (auto id : ids) all.push_back({t, id});
    }
    for (std::size_t i = 0; i < all.size(); ++i)
      if (static_cast<int>(i % static_cast<std::size_t>(o.parallelism)) == o.instance) parts.push_back(all[i]);

    // Start offsets from the watermarks (and the group's commits).
    std::vector<std::int64_t> committed(parts.size(), -1);
    if (o.start == kafka_start::committed && !parts.empty()) {
      list_ptr l(rd_kafka_topic_partition_list_new(static_cast<int>(parts.size())));
      for (auto& p : parts) rd_kafka_topic_partition_list_add(l.get(), p.topic.c_str(), p.partition);
      rd_kafka_resp_err_t e = rd_kafka_committed(rk, l.get(), tmo);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        fail("cannot read the committed offsets of group " + quoted(o.group) + ": " + rd_kafka_err2str(e));
      for (std::size_t i = 0; i < parts.size(); ++i) committed[i] = l->elems[i].offset;
    }
    for (std::size_t i = 0; i < parts.size(); ++i) {
      auto& p = parts[i];
      std::int64_t lo = 0, hi = 0;
      rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, p.topic.c_str(), p.partition, &lo, &hi, tmo);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        fail("cannot read the offsets of " + p.topic + "/" + std::to_string(p.partition) + ": " + rd_kafka_err2str(e));
      switch (o.start) {
        case kafka_start::earliest: p.next = lo; break;
        case kafka_start::latest: p.next = hi; break;
        case kafka_start::committed: p.next = committed[i] >= 0 ? committed[i] : lo; break;
      }
      if (o.until_end) {
        p.end = hi;
        p.done = p.next >= hi;
      }
    }
    remaining = 0;
    list_ptr assign(rd_kafka_topic_partition_list_new(static_cast<int>(parts.size())));
    for (auto& p : parts) {
      if (p.done) continue;
      ++remaining;
      rd_kafka_topic_partition_list_add(assign.get(), p.topic.c_str(), p.partition)->offset = p.next;
    }
    if (rd_kafka_resp_err_t e = rd_kafka_assign(rk, assign.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR)
      fail(std::string("cannot assign the partitions: ") + rd_kafka_err2str(e));
    report();
    pending = offsets();
    next_commit = clock_type::now() + o.commit_interval;
    last_read = clock_type::now();
    watchdog = std::thread([this] { watch(); });
  }

  std::vector<kafka_partition_offset> offsets() const {
    std::vector<kafka_partition_offset> v;
    v.reserve(parts.size());
    for (auto& p : parts) v.push_back({p.topic, p.partition, p.next});
    return v;
  }

  void report() {
    if (!o.progress) return;
    // high watermarks as cached from the fetch responses (no broker round trip)
    std::vector<kafka_partition_offset> high;
    if (rk)
      for (auto& p : parts) {
        std::int64_t lo = 0, hi = 0;
        if (rd_kafka_get_watermark_offsets(rk, p.topic.c_str(), p.partition, &lo, &hi) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            hi >= 0)
          high.push_back({p.topic, p.partition, hi});
      }
    o.progress->state().set_offsets(offsets(), high);
  }

  /// The partitions still to read, for pause/resume.
  list_ptr live_list() const {
    list_ptr l(rd_kafka_topic_partition_list_new(static_cast<int>(parts.size())));
    for (auto& p : parts)
      if (!p.done) rd_kafka_topic_partition_list_add(l.get(), p.topic.c_str(), p.partition);
    return l;
  }

  // Helper thread: pauses the partitions while read() is not being called.
  void watch() {
    const auto step = std::max(std::chrono::milliseconds(1), o.pause_after / 4);
    std::unique_lock<std::mutex> lock(mtx);
    while (!stopping) {
      cv.wait_for(lock, step);
      if (stopping) break;
      if (!paused && remaining > 0 && clock_type::now() - last_read >= o.pause_after) {
        auto l = live_list();
        rd_kafka_pause_partitions(rk, l.get());
        paused = true;
        ++pause_count;
        if (o.progress) ++o.progress->state().pauses;
      }
    }
  }

  void maybe_commit() {
    if (o.commit_interval.count() <= 0 || checkpointed) return;
    auto now = clock_type::now();
    if (now < next_commit) return;
    while (next_commit <= now) next_commit += o.commit_interval;
    // the records read before the previous interval end
    if (!pending.empty()) {
      auto l = make_list(pending);
      rd_kafka_commit(rk, l.get(), 1);  // result: on_commit, served by read()
    }
    pending = offsets();
  }

  void mark_done(part& p) {
    if (p.done) return;
    p.done = true;
    --remaining;
    list_ptr l(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(l.get(), p.topic.c_str(), p.partition);
    rd_kafka_pause_partitions(rk, l.get());  // nothing more to fetch from it
  }

  part* find(const char* topic, std::int32_t partition) {
    for (auto& p : parts)
      if (p.partition == partition && p.topic == topic) return &p;
    return nullptr;
  }

  read_result read(records& out, std::size_t max) {
    // the whole read under mtx: the helper thread reads parts[].done and remaining
    std::lock_guard<std::mutex> lock(mtx);
    last_read = clock_type::now();
    if (paused) {
      paused = false;
      auto l = live_list();
      // librdkafka fetches again from the application's position (the next
      // message after the last one it handed out); offsets below weir's are
      // skipped below anyway. Measured with librdkafka 2.0.2 on the mock
      // cluster: data flows again about 1 s after a resume, hence the 1 s
      // default for pause_after.
      rd_kafka_resume_partitions(rk, l.get());
      if (o.progress) ++o.progress->state().resumes;
    }
    origins.clear();
    if (remaining == 0 && o.until_end) return {read_result::status::end};
    maybe_commit();
    const std::size_t want = std::min<std::size_t>(std::max<std::size_t>(1, max), 4096);
    msgs.resize(want);
    ssize_t n = rd_kafka_consume_batch_queue(queue, 0, msgs.data(), want);
    if (n < 0) fail(std::string("consume failed: ") + rd_kafka_err2str(rd_kafka_last_error()));
    std::string error;
    std::size_t got = 0;
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = msgs[static_cast<std::size_t>(i)];
      if (!error.empty()) {
        rd_kafka_message_destroy(m);
        continue;
      }
      part* p = m->rkt ? find(rd_kafka_topic_name(m->rkt), m->partition) : nullptr;
      if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          if (p && p->end >= 0 && m->offset >= p->end) mark_done(*p);
        } else if (is_fatal(m->err)) {
          error = p ? p->topic + "/" + std::to_string(p->partition) + ": " : std::string();
          error += rd_kafka_message_errstr(m);
          if (m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE || m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET)
            error += " (offset " + std::to_string(p ? p->next : m->offset) +
                     " is no longer or not yet in the log; weir does not skip records silently)";
        }
        rd_kafka_message_destroy(m);
        continue;
      }
      if (!p || p->done || m->offset < p->next) {  // not ours, past the end, or re-fetched after a resume
        rd_kafka_message_destroy(m);
        continue;
      }
      if (p->end >= 0 && m->offset >= p->end) {
        mark_done(*p);
        rd_kafka_message_destroy(m);
        continue;
      }
      std::string_view payload(static_cast<const char*>(m->payload), m->payload ? m->len : 0);
      if (o.metadata) {
        rd_kafka_timestamp_type_t tt;
        std::int64_t ts = rd_kafka_message_timestamp(m, &tt);
        value key = m->key ? value(std::string_view(static_cast<const char*>(m->key), m->key_len)) : value();
        out.push_back(value::object({{value("topic"), value(p->topic)},
                                     {value("partition"), value(static_cast<std::int64_t>(p->partition))},
                                     {value("offset"), value(static_cast<std::int64_t>(m->offset))},
                                     {value("key"), std::move(key)},
                                     {value("value"), value(payload)},
                                     {value("timestamp"), ts >= 0 ? value(ts) : value()}}));
      } else {
        out.emplace_back(payload);
      }
      origins.emplace_back(static_cast<std::uint32_t>(p - parts.data()), m->offset);
      p->next = m->offset + 1;
      ++got;
      if (p->end >= 0 && p->next >= p->end) mark_done(*p);
      rd_kafka_message_destroy(m);
    }
    if (!error.empty()) fail(error);
    if (got > 0) {
      report();
      if (o.progress) o.progress->state().records += got;
    }
    if (remaining == 0 && o.until_end) return {read_result::status::end};
    if (n == 0) return {read_result::status::idle, std::chrono::milliseconds(5)};
    return {read_result::status::more};
  }

  static bool is_fatal(rd_kafka_resp_err_t e) {
    switch (e) {
      case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
      case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
      case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
      case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
      case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
      case RD_KAFKA_RESP_ERR__FATAL:
      case RD_KAFKA_RESP_ERR__SSL:
      case RD_KAFKA_RESP_ERR__AUTHENTICATION:
        return true;
      default:
        return false;  // transient: librdkafka retries (broker down, leader change, ...)
    }
  }

  void stop_watchdog() {
    {
      std::lock_guard<std::mutex> lock(mtx);
      stopping = true;
    }
    cv.notify_all();
    if (watchdog.joinable()) watchdog.join();
  }

  void close() {
    stop_watchdog();
    if (queue) {
      rd_kafka_queue_destroy(queue);
      queue = nullptr;
    }
    if (!rk) return;
    report();
    if (o.progress) {
      // committed by kafka_progress::commit_final after a successful run
      std::lock_guard<std::mutex> lock(o.progress->state().mtx);
      o.progress->state().closed.push_back({rk, o.group, offsets()});
    } else {
      close_consumer(rk);
    }
    rk = nullptr;
  }

  ~impl() override {
    try {
      close();
    } catch (...) {
    }
  }
};

kafka_reader::kafka_reader(kafka_options opts) : impl_(std::make_unique<impl>(std::move(opts))) {}
kafka_reader::~kafka_reader() = default;
void kafka_reader::open() { impl_->open(); }
read_result kafka_reader::read(records& out, std::size_t max) { return impl_->read(out, max); }
void kafka_reader::close() { impl_->close(); }
const record_origin* kafka_reader::origin() const { return impl_.get(); }
std::string kafka_reader::describe() const { return impl_->name(); }
std::vector<kafka_partition_offset> kafka_reader::offsets() const { return impl_->offsets(); }
bool kafka_reader::replayable() const { return true; }
void kafka_reader::snapshot_position(state_writer& w) const { impl_->snapshot(w); }
void kafka_reader::restore_position(state_reader& r) { impl_->restore(r); }
std::string kafka_reader::describe_position() const { return impl_->position_text(); }
void kafka_reader::notify_checkpoint_complete(std::uint64_t) { impl_->commit_checkpoint(); }
bool kafka_reader::paused() const {
  std::lock_guard<std::mutex> lock(impl_->mtx);
  return impl_->paused;
}
std::uint64_t kafka_reader::pauses() const { return impl_->pause_count.load(); }
std::size_t kafka_reader::prefetched() const {
  return impl_->queue ? static_cast<std::size_t>(rd_kafka_queue_length(impl_->queue)) : 0;
}

source_ptr make_kafka_source(kafka_options opts) { return std::make_unique<kafka_reader>(std::move(opts)); }

}  // namespace weir::io
