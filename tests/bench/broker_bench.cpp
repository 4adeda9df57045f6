// loket-bench-broker: the broker baseline of the benchmark harness (issue 7; not a test).
//   loket-bench-broker BROKERS RECORDS RECORD_BYTES
// Raw librdkafka, none of Loket's code: produces RECORDS records of RECORD_BYTES bytes (keyed
// over 1,000 keys, as threads are) to a new topic with the producer settings the ingress uses
// (acks=all, idempotence, linger.ms=2), as fast as the broker acknowledges, then consumes them
// all with a new consumer group from the earliest offset (fetch.wait.max.ms=20, as Loket's consumers). Prints one JSON
// line with records/s and MB/s for each direction.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>

namespace {
using Clock = std::chrono::steady_clock;

void delivered(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  if (!m->err) ++*static_cast<long*>(opaque);
}

/// A producer (counting acknowledged records into *acked) or a consumer of group `group`.
rd_kafka_t* client(rd_kafka_type_t type, const std::string& brokers, const std::string& group, long* acked = nullptr) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const char* k, const std::string& v) {
    if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "%s: %s\n", k, err);
      std::exit(2);
    }
  };
  set("bootstrap.servers", brokers);
  if (type == RD_KAFKA_PRODUCER) {
    set("acks", "all");
    set("enable.idempotence", "true");
    set("linger.ms", "2");
    rd_kafka_conf_set_dr_msg_cb(conf, delivered);
    rd_kafka_conf_set_opaque(conf, acked);
  } else {
    set("group.id", group);
    set("auto.offset.reset", "earliest");
    set("enable.auto.commit", "false");
    set("fetch.wait.max.ms", "20");  // as Loket's consumers
  }
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk) {
    std::fprintf(stderr, "rd_kafka_new: %s\n", err);
    std::exit(2);
  }
  return rk;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: loket-bench-broker BROKERS RECORDS RECORD_BYTES\n");
    return 2;
  }
  const std::string brokers = argv[1];
  const long records = std::stol(argv[2]);
  const std::size_t bytes = std::stoul(argv[3]);
  const std::string run = std::to_string(std::random_device{}());
  const std::string topic = "bench.baseline." + run;
  std::string payload(bytes, 'x');

  long acked = 0;
  rd_kafka_t* producer = client(RD_KAFKA_PRODUCER, brokers, "", &acked);
  auto started = Clock::now();
  for (long i = 0; i < records; ++i) {
    std::string key = "thread-" + std::to_string(i % 1000);
    for (;;) {
      auto e = rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
                                 RD_KAFKA_V_VALUE(payload.data(), payload.size()),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
      rd_kafka_poll(producer, 10);
    }
    rd_kafka_poll(producer, 0);
  }
  rd_kafka_flush(producer, 60000);
  double produce_s = std::chrono::duration<double>(Clock::now() - started).count();
  rd_kafka_destroy(producer);

  rd_kafka_t* consumer = client(RD_KAFKA_CONSUMER, brokers, "bench-baseline-" + run);
  rd_kafka_poll_set_consumer(consumer);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(consumer, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  long consumed = 0;
  Clock::time_point first{}, deadline = Clock::now() + std::chrono::seconds(20);
  while (consumed < acked && Clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 100);
    if (!m) continue;
    if (!m->err) {
      if (consumed++ == 0) first = Clock::now();
    }
    rd_kafka_message_destroy(m);
  }
  double consume_s = consumed > 1 ? std::chrono::duration<double>(Clock::now() - first).count() : 0;
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  auto rate = [](long n, double s) { return s > 0 ? static_cast<double>(n) / s : 0.0; };
  std::printf(
      "{\"records\":%ld,\"record_bytes\":%zu,\"acknowledged\":%ld,\"produced_per_s\":%.0f,\"produce_mb_per_s\":%.1f,"
      "\"consumed\":%ld,\"consumed_per_s\":%.0f,\"consume_mb_per_s\":%.1f}\n",
      records, bytes, acked, rate(acked, produce_s), rate(acked, produce_s) * static_cast<double>(bytes) / 1e6,
      consumed, rate(consumed, consume_s), rate(consumed, consume_s) * static_cast<double>(bytes) / 1e6);
  return acked == records && consumed == records ? 0 : 1;
}
