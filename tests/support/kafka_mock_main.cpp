// weir-kafka-mock: a Kafka cluster for tests, librdkafka's built-in mock
// cluster (rdkafka_mock.h) in its own process, so tests speak the real protocol.
//
//   weir-kafka-mock [--brokers N] [--topic NAME:PARTITIONS]... [--produce TOPIC=FILE]...
//                   [--timestamps START_MS:STEP_MS] [--fail-produce]
//
// Creates the topics, produces every line of each FILE (without "\n") into
// TOPIC — line i (0-based, per file) into partition i mod PARTITIONS, so the
// per-partition counts are known in advance — waits until all are delivered,
// then prints the bootstrap servers ("127.0.0.1:port,...") on one line of
// stdout and runs until stdin is closed or SIGTERM/SIGINT arrives.
// --timestamps sets message i's timestamp to START_MS + i * STEP_MS (default:
// the produce time). --fail-produce: after producing the files, every later
// Produce request fails with TOPIC_AUTHORIZATION_FAILED (a non-retriable
// error), to test delivery failures. Exit code 0; 2 for bad usage or a failed delivery.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <poll.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace {

volatile std::sig_atomic_t stop_flag = 0;
void on_signal(int) { stop_flag = 1; }

int usage(const std::string& msg) {
  std::cerr << "weir-kafka-mock: " << msg
            << "\nusage: weir-kafka-mock [--brokers N] [--topic NAME:PARTITIONS]... [--produce TOPIC=FILE]... "
               "[--timestamps START_MS:STEP_MS]\n";
  return 2;
}

std::atomic<long> failed{0};
std::string first_error;

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  if (m->err && failed++ == 0) first_error = rd_kafka_err2str(m->err);
}

void silent_log(const rd_kafka_t*, int, const char*, const char*) {}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 1;
  std::vector<std::pair<std::string, int>> topics;
  std::vector<std::pair<std::string, std::string>> produce;
  long long ts_start = -1, ts_step = 0;
  bool fail_produce = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) return {};
      return argv[++i];
    };
    if (a == "--brokers") {
      brokers = std::atoi(next().c_str());
      if (brokers < 1) return usage("--brokers must be >= 1");
    } else if (a == "--topic") {
      std::string v = next();
      auto c = v.rfind(':');
      if (c == std::string::npos || c == 0) return usage("--topic takes NAME:PARTITIONS, got '" + v + "'");
      int n = std::atoi(v.c_str() + c + 1);
      if (n < 1) return usage("bad partition count in '" + v + "'");
      topics.emplace_back(v.substr(0, c), n);
    } else if (a == "--produce") {
      std::string v = next();
      auto e = v.find('=');
      if (e == std::string::npos || e == 0) return usage("--produce takes TOPIC=FILE, got '" + v + "'");
      produce.emplace_back(v.substr(0, e), v.substr(e + 1));
    } else if (a == "--timestamps") {
      std::string v = next();
      if (std::sscanf(v.c_str(), "%lld:%lld", &ts_start, &ts_step) != 2 || ts_start < 0)
        return usage("--timestamps takes START_MS:STEP_MS, got '" + v + "'");
    } else if (a == "--fail-produce") {
      fail_produce = true;
    } else {
      return usage("unknown argument '" + a + "'");
    }
  }

  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  // The cluster lives inside this producer handle (test.mock.num.brokers);
  // destroying the handle destroys the cluster.
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "test.mock.num.brokers", std::to_string(brokers).c_str(), err, sizeof err) !=
          RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof err) != RD_KAFKA_CONF_OK) {
    std::cerr << "weir-kafka-mock: " << err << "\n";
    return 2;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_log_cb(conf, silent_log);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    std::cerr << "weir-kafka-mock: cannot create the mock cluster: " << err << "\n";
    return 2;
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_handle_mock_cluster(rk);
  std::map<std::string, int> partitions;
  for (auto& [name, n] : topics) {
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name.c_str(), n, 1);
    if (e) {
      std::cerr << "weir-kafka-mock: cannot create topic " << name << ": " << rd_kafka_err2str(e) << "\n";
      rd_kafka_destroy(rk);
      return 2;
    }
    partitions[name] = n;
  }

  long total = 0;
  for (auto& [topic, file] : produce) {
    auto it = partitions.find(topic);
    if (it == partitions.end()) {
      std::cerr << "weir-kafka-mock: --produce into " << topic << ", which no --topic creates\n";
      rd_kafka_destroy(rk);
      return 2;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << "weir-kafka-mock: cannot open " << file << "\n";
      rd_kafka_destroy(rk);
      return 2;
    }
    std::string line;
    long i = 0;
    while (std::getline(in, line)) {
      const auto part = static_cast<std::int32_t>(i % it->second);
      const long long ts = ts_start >= 0 ? ts_start + i * ts_step : 0;
      for (;;) {
        rd_kafka_resp_err_t e =
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(part),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_VALUE(line.data(), line.size()), RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          std::cerr << "weir-kafka-mock: produce failed: " << rd_kafka_err2str(e) << "\n";
          rd_kafka_destroy(rk);
          return 2;
        }
        rd_kafka_poll(rk, 10);
      }
      ++i;
      rd_kafka_poll(rk, 0);
    }
    total += i;
  }
  if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR || failed > 0) {
    std::cerr << "weir-kafka-mock: " << failed << " messages not delivered" << (failed ? ": " + first_error : "")
              << "\n";
    rd_kafka_destroy(rk);
    return 2;
  }

  if (fail_produce) {
    std::vector<rd_kafka_resp_err_t> errs(100000, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    rd_kafka_mock_push_request_errors_array(mc, 0 /* Produce */, errs.size(), errs.data());
  }
  std::cout << rd_kafka_mock_cluster_bootstraps(mc) << std::endl;
  std::cerr << "weir-kafka-mock: " << brokers << " brokers, " << topics.size() << " topics, " << total
            << " messages produced\n";

  // Until stdin closes (the test dropped its pipe) or a signal.
  while (!stop_flag) {
    pollfd p{0, POLLIN, 0};
    int r = ::poll(&p, 1, 200);
    if (r > 0) {
      char buf[256];
      ssize_t n = ::read(0, buf, sizeof buf);
      if (n <= 0) break;
    } else if (r < 0 && errno != EINTR) {
      break;
    }
  }
  rd_kafka_destroy(rk);
  return 0;
}
