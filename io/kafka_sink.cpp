// The Kafka sink (kafka_out) on librdkafka's C API: one message per record,
// flushed at every batch end and at end of stream; delivery reports are
// checked at each flush, and the first failure stops the pipeline.
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>

#include <librdkafka/rdkafka.h>

#include "weir/io/kafka.hpp"

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

  void open(const operator_context&) override {
    if (o_.topic.empty()) fail("the topic must not be empty");
    if (o_.brokers.empty()) fail("brokers must not be empty");
    if (o_.timeout.count() <= 0) fail("timeout must be positive");
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", o_.brokers);
    set(conf, "client.id", "weir");
    set(conf, "message.timeout.ms", std::to_string(o_.timeout.count()));
    set(conf, "linger.ms", "5");
    set(conf, "socket.connection.setup.timeout.ms", std::to_string(std::max<std::int64_t>(1000, o_.timeout.count())));
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
  }

  void process(records& in, records&) override {
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

  void on_batch_end(std::int64_t, records&) override { flush(); }
  void on_end_of_stream(records&) override { flush(); }

  std::uint64_t delivered() const { return delivered_.load(); }

private:
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
};

}  // namespace

operator_ptr make_kafka_sink(kafka_sink_options opts) { return std::make_unique<kafka_sink>(std::move(opts)); }

}  // namespace weir::io
