// The Kafka sink (kafka_out) on librdkafka's C API: one message per record,
// flushed at every batch end and at end of stream; delivery reports are
// checked at each flush, and the first failure stops the pipeline.
//
// In a checkpointed run (operator_context::checkpointing) it is a two-phase
// commit sink with Kafka transactions (KIP-98), one transaction per epoch
// (the output between two checkpoint barriers). librdkafka cannot resume a
// prepared transaction after a crash (a new producer with the same
// transactional.id aborts it: init_transactions fences the old epoch), so
// the epoch's messages are kept (pre-commit = into the checkpoint state) and
// produced in a transaction when the checkpoint completes. To be idempotent
// across a crash between the Kafka commit and the next checkpoint, the
// transaction also commits, through rd_kafka_send_offsets_to_transaction,
// the offset <checkpoint id> of partition (topic, 0) for the consumer group
// "weir-sink-<transactional.id>": Kafka commits it atomically with the
// messages, and restore reads it back (committed()) and skips the epochs
// already committed.
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "weir/common/test_hooks.hpp"
#include "weir/io/kafka.hpp"
#include "weir/operators/snapshot.hpp"

namespace weir::io {
namespace {

void silent_log(const rd_kafka_t*, int, const char*, const char*) {}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

/// The bytes a value is sent as: a string as itself, anything else as JSON.
void append_bytes(const value& v, std::string& out) {
  if (v.is_string()) out.append(v.as_string());
  else v.append_json(out);
}

class kafka_sink final : public stream_operator {
public:
  explicit kafka_sink(kafka_sink_options o) : o_(std::move(o)) {}

  ~kafka_sink() override {
    if (rkt_) rd_kafka_topic_destroy(rkt_);
    if (rk_) {
      // not delivered by now: the pipeline failed or was killed; do not wait
      rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_poll(rk_, 0);
      rd_kafka_destroy(rk_);
    }
  }

  void open(const operator_context& ctx) override {
    txn_ = ctx.checkpointing;
    txn_id_ = !o_.transactional_id.empty() ? o_.transactional_id
                                            : "weir-" + o_.topic + "-" + std::to_string(ctx.instance);
    if (o_.topic.empty()) fail("the topic must not be empty");
    if (o_.brokers.empty()) fail("brokers must not be empty");
    if (o_.timeout.count() <= 0) fail("timeout must be positive");
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", o_.brokers);
    set(conf, "client.id", "weir");
    set(conf, "message.timeout.ms", std::to_string(o_.timeout.count()));
    set(conf, "linger.ms", "5");
    set(conf, "socket.connection.setup.timeout.ms", std::to_string(std::max<std::int64_t>(1000, o_.timeout.count())));
    if (txn_) {
      set(conf, "transactional.id", txn_id_);
      set(conf, "transaction.timeout.ms", std::to_string(std::max<std::int64_t>(60000, o_.timeout.count() * 2)));
    }
    for (auto& [k, v] : o_.config) set(conf, k, v);
    rd_kafka_conf_set_log_cb(conf, silent_log);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, this);
    char err[512];
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk_) {
      rd_kafka_conf_destroy(conf);
      fail(std::string("cannot create a Kafka producer: ") + err);
    }
    // Metadata of all topics (asking for one may auto-create it), before the
    // topic handle (whose own metadata request would).
    const rd_kafka_metadata_t* md = nullptr;
    const int tmo = static_cast<int>(o_.timeout.count());
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk_, 1, nullptr, &md, tmo);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
      fail("cannot read metadata from brokers " + quoted(o_.brokers) + " within " + std::to_string(tmo) + " ms (" +
           rd_kafka_err2str(e) + ")");
    const rd_kafka_metadata_topic_t* tm = nullptr;
    for (int i = 0; i < md->topic_cnt; ++i)
      if (o_.topic == md->topics[i].topic) tm = &md->topics[i];
    bool unknown = !tm || tm->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                   (tm->err == RD_KAFKA_RESP_ERR_NO_ERROR && tm->partition_cnt == 0);
    rd_kafka_resp_err_t terr = tm ? tm->err : RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_metadata_destroy(md);
    if (unknown) fail("unknown topic " + quoted(o_.topic) + " on brokers " + quoted(o_.brokers));
    if (terr != RD_KAFKA_RESP_ERR_NO_ERROR) fail("topic " + quoted(o_.topic) + ": " + rd_kafka_err2str(terr));
    rkt_ = rd_kafka_topic_new(rk_, o_.topic.c_str(), nullptr);
    if (txn_) {
      // fences an earlier producer with this transactional.id and aborts its open transaction
      txn_call(rd_kafka_init_transactions(rk_, tmo), "cannot initialize transactions (transactional.id " +
                                                         quoted(txn_id_) + ")");
    }
  }

  void process(const process_context&, records& in, records&) override {
    if (txn_) {
      for (auto& r : in) {
        val_.clear();
        append_bytes(r, val_);
        key_.clear();
        bool has_key = false;
        if (o_.key) {
          value k = o_.key(r);
          if (!k.is_null()) {
            append_bytes(k, key_);
            has_key = true;
          }
        }
        epoch_.boolean(has_key);
        epoch_.str(key_);
        epoch_.str(val_);
      }
      return;
    }
    for (auto& r : in) {
      val_.clear();
      append_bytes(r, val_);
      bool has_key = false;
      key_.clear();
      if (o_.key) {
        value k = o_.key(r);
        if (!k.is_null()) {
          append_bytes(k, key_);
          has_key = true;
        }
      }
      produce(has_key);
    }
    rd_kafka_poll(rk_, 0);  // delivery reports
    check();
  }

  void on_batch_end(std::int64_t, records&) override {
    if (!txn_) flush();
  }
  void on_end_of_stream(records&) override {
    if (txn_) precommit(0);  // the final checkpoint gives it its id
    else flush();
  }

  // --- two-phase commit with transactions (checkpointed runs) ---------------

  void snapshot_state(std::uint64_t id, state_writer& w) override {
    if (!txn_) return;
    precommit(id);
    for (auto& e : pending_)
      if (e.checkpoint == 0) e.checkpoint = id;
    w.u8(1);  // state version
    w.varint(committed_);
    w.varint(pending_.size());
    for (auto& e : pending_) {
      w.varint(e.checkpoint);
      w.str(e.data);
    }
  }

  void notify_checkpoint_complete(std::uint64_t id) override {
    if (txn_) commit_upto(id);
  }

  void restore_state(std::uint64_t id, state_reader& r) override {
    if (!txn_) fail("restore_state without checkpointing");
    std::uint8_t version = r.u8();
    if (version != 1) r.fail("sink state version " + std::to_string(version) + ", expected 1");
    committed_ = r.varint();
    pending_.clear();
    for (std::uint64_t i = 0, n = r.varint(); i < n; ++i) {
      epoch e;
      e.checkpoint = r.varint();
      e.data = r.str();
      if (e.checkpoint == 0 || e.checkpoint > id) r.fail("bad pre-committed epoch entry");
      pending_.push_back(std::move(e));
    }
    r.expect_end();
    // epochs whose transaction committed before the crash are skipped
    committed_ = std::max(committed_, read_marker());
    commit_upto(id);
  }

  /// Checkpoint id of the last epoch committed in Kafka (0 = none known).
  std::uint64_t committed_epoch() const { return committed_; }

  std::uint64_t delivered() const { return delivered_.load(); }

private:
  struct epoch {
    std::uint64_t checkpoint = 0;  ///< 0: pre-committed at end of stream
    std::string data;              ///< messages: (has_key, key, value) in state_writer encoding
  };

  void precommit(std::uint64_t id) {
    if (epoch_.size() == 0) return;
    pending_.push_back({id, epoch_.take()});
    epoch_ = state_writer();
  }

  void commit_upto(std::uint64_t id) {
    while (!pending_.empty() && pending_.front().checkpoint != 0 && pending_.front().checkpoint <= id) {
      if (pending_.front().checkpoint > committed_) run_transaction(pending_.front());
      pending_.erase(pending_.begin());
    }
  }

  void run_transaction(const epoch& e) {
    const int tmo = static_cast<int>(o_.timeout.count());
    const std::string what = "transaction of checkpoint " + std::to_string(e.checkpoint);
    txn_call(rd_kafka_begin_transaction(rk_), "cannot begin the " + what);
    state_reader r(e.data, "kafka_out epoch");
    std::uint64_t n = 0;
    while (!r.at_end()) {
      bool has_key = r.boolean();
      key_ = r.str();
      val_ = r.str();
      produce(has_key);
      if (++n % 1024 == 0) rd_kafka_poll(rk_, 0);
    }
    rd_kafka_poll(rk_, 0);
    // the marker: committed atomically with the messages
    rd_kafka_topic_partition_list_t* offs = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(offs, o_.topic.c_str(), 0)->offset = static_cast<std::int64_t>(e.checkpoint);
    rd_kafka_consumer_group_metadata_t* gm = rd_kafka_consumer_group_metadata_new(marker_group().c_str());
    rd_kafka_error_t* err = rd_kafka_send_offsets_to_transaction(rk_, offs, gm, tmo);
    rd_kafka_consumer_group_metadata_destroy(gm);
    rd_kafka_topic_partition_list_destroy(offs);
    txn_call(err, "cannot record the epoch in the " + what);
    crash_point("during_sink_commit");  // produced, not committed: the restart re-produces it
    txn_call(rd_kafka_commit_transaction(rk_, tmo), "cannot commit the " + what);
    check();
    committed_ = e.checkpoint;
  }

  std::string marker_group() const { return "weir-sink-" + txn_id_; }

  /// The committed offset of (topic, 0) in the marker group: the checkpoint
  /// id of the last epoch whose transaction committed; 0 when none.
  std::uint64_t read_marker() {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    auto setc = [&](const char* k, const std::string& v) {
      if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        fail(std::string("bad librdkafka option ") + k + ": " + err);
      }
    };
    setc("bootstrap.servers", o_.brokers);
    setc("group.id", marker_group());
    setc("enable.auto.commit", "false");
    setc("isolation.level", "read_committed");
    for (auto& [k, v] : o_.config)  // security settings; producer-only ones do not apply
      rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err);
    rd_kafka_conf_set_log_cb(conf, silent_log);
    rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!c) {
      rd_kafka_conf_destroy(conf);
      fail(std::string("cannot create a consumer to read the committed epoch: ") + err);
    }
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, o_.topic.c_str(), 0);
    rd_kafka_resp_err_t e = rd_kafka_committed(c, l, static_cast<int>(o_.timeout.count()));
    std::int64_t off = l->elems[0].offset;
    rd_kafka_resp_err_t pe = l->elems[0].err;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR || pe != RD_KAFKA_RESP_ERR_NO_ERROR)
      fail("cannot read the committed epoch of group " + quoted(marker_group()) + ": " +
           rd_kafka_err2str(e != RD_KAFKA_RESP_ERR_NO_ERROR ? e : pe));
    return off > 0 ? static_cast<std::uint64_t>(off) : 0;
  }

  /// Throws on a transactional error (aborting the transaction when it requires it).
  void txn_call(rd_kafka_error_t* err, const std::string& what) {
    if (!err) return;
    std::string msg = what + ": " + rd_kafka_error_string(err);
    bool abort = rd_kafka_error_txn_requires_abort(err);
    rd_kafka_error_destroy(err);
    if (abort) {
      if (rd_kafka_error_t* a = rd_kafka_abort_transaction(rk_, static_cast<int>(o_.timeout.count())))
        rd_kafka_error_destroy(a);
    }
    fail(msg);
  }

  [[noreturn]] void fail(const std::string& msg) const {
    throw pipeline_error("kafka_out(" + quoted(o_.topic) + "): " + msg);
  }

  void set(rd_kafka_conf_t* conf, const std::string& k, const std::string& v) {
    char err[512];
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      fail("bad librdkafka option " + k + "=" + quoted(v) + ": " + err);
    }
  }

  void produce(bool has_key) {
    // A full local queue is backpressure: serve delivery reports until there
    // is room, within the delivery timeout.
    const auto deadline = std::chrono::steady_clock::now() + o_.timeout;
    for (;;) {
      rd_kafka_resp_err_t e = rd_kafka_producev(
          rk_, RD_KAFKA_V_RKT(rkt_), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_VALUE(const_cast<char*>(val_.data()), val_.size()),
          RD_KAFKA_V_KEY(has_key ? key_.data() : nullptr, has_key ? key_.size() : 0), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++produced_;
        return;
      }
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) fail(std::string("cannot produce: ") + rd_kafka_err2str(e));
      if (std::chrono::steady_clock::now() > deadline)
        fail("the producer queue stayed full for " + std::to_string(o_.timeout.count()) + " ms");
      rd_kafka_poll(rk_, 50);
      check();
    }
  }

  void flush() {
    if (!rk_) return;
    rd_kafka_resp_err_t e = rd_kafka_flush(rk_, static_cast<int>(o_.timeout.count()) + 1000);
    check();
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
      fail(std::to_string(rd_kafka_outq_len(rk_)) + " messages not delivered within " +
           std::to_string(o_.timeout.count()) + " ms (" + rd_kafka_err2str(e) + ")");
  }

  void check() {
    if (failed_ == 0) return;
    fail("delivery failed for " + std::to_string(failed_) + " record" + (failed_ == 1 ? "" : "s") + ": " +
         first_error_);
  }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<kafka_sink*>(opaque);
    if (m->err) {
      if (self->failed_++ == 0) self->first_error_ = rd_kafka_err2str(m->err);
    } else {
      ++self->delivered_;
    }
  }

  kafka_sink_options o_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* rkt_ = nullptr;
  std::string val_, key_;
  std::uint64_t produced_ = 0;
  std::atomic<std::uint64_t> delivered_{0};
  std::uint64_t failed_ = 0;  // delivery callbacks run inside poll/flush, on this thread
  std::string first_error_;
  // checkpointed runs
  bool txn_ = false;
  std::string txn_id_;
  state_writer epoch_;           ///< the current epoch's messages
  std::vector<epoch> pending_;   ///< pre-committed, not yet produced, in order
  std::uint64_t committed_ = 0;  ///< checkpoint id of the last epoch committed in Kafka
};

}  // namespace

operator_ptr make_kafka_sink(kafka_sink_options opts) { return std::make_unique<kafka_sink>(std::move(opts)); }

}  // namespace weir::io
