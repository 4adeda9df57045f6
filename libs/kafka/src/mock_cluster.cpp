#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <mutex>
#include <stdexcept>

#include "loket/kafka/kafka.hpp"

namespace loket::kafka {

struct MockCluster::Impl {
  rd_kafka_t* rk = nullptr;
  rd_kafka_mock_cluster_t* mc = nullptr;
  int brokers = 0;
  std::mutex mu;
};

MockCluster::MockCluster(int brokers) : impl_(std::make_unique<Impl>()) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  impl_->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (impl_->rk == nullptr) throw std::runtime_error(std::string("mock cluster host: ") + err);
  impl_->mc = rd_kafka_mock_cluster_new(impl_->rk, brokers);
  if (impl_->mc == nullptr) throw std::runtime_error("librdkafka could not start the mock cluster");
  impl_->brokers = brokers;
}

MockCluster::~MockCluster() {
  rd_kafka_mock_cluster_destroy(impl_->mc);
  rd_kafka_destroy(impl_->rk);
}

std::string MockCluster::bootstraps() const { return rd_kafka_mock_cluster_bootstraps(impl_->mc); }

void MockCluster::create_topic(const std::string& topic, int partitions) {
  std::lock_guard lock(impl_->mu);
  int rf = impl_->brokers < 3 ? impl_->brokers : 3;
  rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(impl_->mc, topic.c_str(), partitions, rf);
  if (e) throw std::runtime_error("creating topic " + topic + ": " + rd_kafka_err2str(e));
}

void MockCluster::set_down(bool down) {
  std::lock_guard lock(impl_->mu);
  for (int id = 1; id <= impl_->brokers; ++id) {
    if (down)
      rd_kafka_mock_broker_set_down(impl_->mc, id);
    else
      rd_kafka_mock_broker_set_up(impl_->mc, id);
  }
}

void MockCluster::set_rtt(std::chrono::milliseconds rtt) {
  std::lock_guard lock(impl_->mu);
  for (int id = 1; id <= impl_->brokers; ++id)
    rd_kafka_mock_broker_set_rtt(impl_->mc, id, static_cast<int>(rtt.count()));
}

}  // namespace loket::kafka
