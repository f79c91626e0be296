// Test helpers: plain librdkafka consumers of the mock cluster, for checking
// what weir committed. The includer links librdkafka.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include <catch2/catch.hpp>

namespace weir::test {

inline rd_kafka_t* plain_consumer(const std::string& brokers, const std::string& group) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  REQUIRE(rk != nullptr);
  rd_kafka_poll_set_consumer(rk);
  return rk;
}

/// The offsets committed by `group` for topic partitions 0..n-1 (-1001 = none).
inline std::vector<std::int64_t> committed_offsets(const std::string& brokers, const std::string& group,
                                                   const std::string& topic, int partitions) {
  rd_kafka_t* rk = plain_consumer(brokers, group);
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(l, topic.c_str(), p);
  REQUIRE(rd_kafka_committed(rk, l, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  std::vector<std::int64_t> out;
  for (int p = 0; p < partitions; ++p) out.push_back(l->elems[p].offset);
  rd_kafka_topic_partition_list_destroy(l);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

}  // namespace weir::test
