#include <librdkafka/rdkafka.h>

#include <map>
#include <stdexcept>

#include "internal.hpp"
#include "loket/core/log.hpp"
#include "loket/kafka/kafka.hpp"

namespace loket::kafka {

struct Consumer::Impl {
  rd_kafka_t* rk = nullptr;
  bool closed = false;
};

namespace {
rd_kafka_t* open_consumer(Properties props, const std::string& group) {
  props["group.id"] = group;
  Properties defaults = {{"enable.auto.commit", "false"},
                         {"enable.auto.offset.store", "false"},
                         {"auto.offset.reset", "earliest"},
                         {"heartbeat.interval.ms", "1000"},
                         {"topic.metadata.refresh.interval.ms", "10000"},
                         {"fetch.wait.max.ms", "20"},
                         // Prefetch at most ~8 MB (librdkafka's default is 64 MB per consumer),
                         // so a backlog does not inflate the services' memory.
                         {"queued.max.messages.kbytes", "8192"},
                         {"fetch.max.bytes", "8388608"}};
  for (auto& [k, v] : defaults) props.emplace(k, v);
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error("Kafka consumer setting " + k + "=" + v + ": " + err);
    }
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (rk == nullptr) throw std::runtime_error(std::string("Kafka consumer: ") + err);
  rd_kafka_poll_set_consumer(rk);
  return rk;
}
}  // namespace

Consumer::Consumer(Properties props, const std::string& group, const std::vector<std::string>& topics)
    : impl_(std::make_unique<Impl>()) {
  impl_->rk = open_consumer(std::move(props), group);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
  for (const auto& t : topics) rd_kafka_topic_partition_list_add(list, t.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(impl_->rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e) throw std::runtime_error(std::string("Kafka subscribe: ") + rd_kafka_err2str(e));
}

Consumer::Consumer() : impl_(std::make_unique<Impl>()) {}

std::unique_ptr<Consumer> Consumer::tail(Properties props, const std::string& topic,
                                         std::chrono::milliseconds timeout) {
  std::unique_ptr<Consumer> c(new Consumer());
  // A group id is required by librdkafka but never joined: nothing subscribes or commits.
  c->impl_->rk = open_consumer(std::move(props), "loket-tail");
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(c->impl_->rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(c->impl_->rk, 0, rkt, &md, static_cast<int>(timeout.count()));
  rd_kafka_topic_destroy(rkt);
  if (e || md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt == 0) {
    std::string why = e                                         ? rd_kafka_err2str(e)
                      : md->topic_cnt == 1 && md->topics[0].err ? rd_kafka_err2str(md->topics[0].err)
                                                                : "no partitions";
    if (md) rd_kafka_metadata_destroy(md);
    throw std::runtime_error("Kafka metadata for " + topic + ": " + why);
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
  for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
    // The end offset now, not RD_KAFKA_OFFSET_END: that one is resolved later, when fetching
    // starts, and would pass over records produced in between.
    const std::int32_t partition = md->topics[0].partitions[i].id;
    std::int64_t low = 0, high = RD_KAFKA_OFFSET_END;
    if (rd_kafka_query_watermark_offsets(c->impl_->rk, topic.c_str(), partition, &low, &high,
                                         static_cast<int>(timeout.count())) != RD_KAFKA_RESP_ERR_NO_ERROR)
      high = RD_KAFKA_OFFSET_END;
    rd_kafka_topic_partition_list_add(list, topic.c_str(), partition)->offset = high;
  }
  rd_kafka_metadata_destroy(md);
  e = rd_kafka_assign(c->impl_->rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e) throw std::runtime_error(std::string("Kafka assign: ") + rd_kafka_err2str(e));
  return c;
}

Consumer::~Consumer() {
  close();
  rd_kafka_destroy(impl_->rk);
}

std::vector<Consumer::Lag> Consumer::lag() const {
  std::vector<Lag> out;
  rd_kafka_topic_partition_list_t* parts = nullptr;
  if (impl_->closed || rd_kafka_assignment(impl_->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR || parts == nullptr)
    return out;
  rd_kafka_position(impl_->rk, parts);
  for (int i = 0; i < parts->cnt; ++i) {
    const auto& p = parts->elems[i];
    int64_t low = 0, high = 0;
    if (rd_kafka_get_watermark_offsets(impl_->rk, p.topic, p.partition, &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0)
      continue;
    int64_t at = p.offset >= 0 ? p.offset : low;
    out.push_back({p.topic, p.partition, std::max<int64_t>(0, high - at)});
  }
  rd_kafka_topic_partition_list_destroy(parts);
  return out;
}

std::string Consumer::reachable(std::chrono::milliseconds timeout) const {
  return metadata_reachable(impl_->rk, timeout);
}

void Consumer::close() {
  if (impl_->closed) return;
  impl_->closed = true;
  rd_kafka_consumer_close(impl_->rk);
}

std::vector<Record> Consumer::poll(std::size_t max, std::chrono::milliseconds timeout) {
  std::vector<Record> out;
  int wait = static_cast<int>(timeout.count());
  while (out.size() < max) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(impl_->rk, wait);
    wait = 0;
    if (m == nullptr) break;
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        core::log(core::Level::kWarn, "Kafka consumer error", {{"error", rd_kafka_message_errstr(m)}});
      rd_kafka_message_destroy(m);
      continue;
    }
    Record r;
    r.topic = rd_kafka_topic_name(m->rkt);
    r.partition = m->partition;
    r.offset = m->offset;
    if (m->key) r.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
    rd_kafka_message_destroy(m);
    out.push_back(std::move(r));
  }
  return out;
}

std::string Consumer::commit(const std::vector<Record>& done) {
  if (done.empty()) return "";
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> next;
  for (const auto& r : done) {
    auto& n = next[{r.topic, r.partition}];
    n = std::max(n, r.offset + 1);
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(next.size()));
  for (const auto& [tp, off] : next) rd_kafka_topic_partition_list_add(list, tp.first.c_str(), tp.second)->offset = off;
  rd_kafka_resp_err_t e = rd_kafka_commit(impl_->rk, list, 0);
  rd_kafka_topic_partition_list_destroy(list);
  if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) return rd_kafka_err2str(e);
  return "";
}

}  // namespace loket::kafka

namespace loket::kafka {

void consume_loop(Consumer& consumer, std::size_t max_batch,
                  const std::function<void(const std::vector<Record>&)>& process, const std::function<bool()>& stop) {
  while (!stop()) {
    auto batch = consumer.poll(max_batch, std::chrono::milliseconds(100));
    if (batch.empty()) continue;
    process(batch);
    if (auto err = consumer.commit(batch); !err.empty())
      core::log(core::Level::kWarn, "offset commit failed; records may be redelivered", {{"error", err}});
  }
  consumer.close();
}

}  // namespace loket::kafka
