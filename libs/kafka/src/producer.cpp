#include <librdkafka/rdkafka.h>

#include <atomic>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "internal.hpp"
#include "loket/core/log.hpp"
#include "loket/kafka/kafka.hpp"

namespace loket::kafka {
namespace {
/// One record's delivery callback, run once: by its delivery report or by its deadline,
/// whichever comes first.
struct Pending {
  Producer::DeliveryCallback done;
  std::chrono::steady_clock::time_point deadline;
  std::atomic<bool> fired{false};

  void fire(const std::string& err) {
    if (!fired.exchange(true)) done(err);
  }
};

void dr_cb(rd_kafka_t*, const rd_kafka_message_t* msg, void*) {
  auto* pending = static_cast<std::shared_ptr<Pending>*>(msg->_private);
  if (pending == nullptr) return;
  (*pending)->fire(msg->err ? rd_kafka_err2str(msg->err) : "");
  delete pending;
}
}  // namespace

struct Producer::Impl {
  rd_kafka_t* rk = nullptr;
  std::chrono::milliseconds timeout{30000};
  std::atomic<bool> stop{false};
  std::thread poller;
  // Records not yet reported, oldest first (all share one timeout, so deadlines are in order).
  // Bounded by librdkafka's own queue (queue.buffering.max.messages) plus one poll interval.
  std::mutex mu;
  std::deque<std::shared_ptr<Pending>> waiting;

  /// Fails the records whose deadline passed; forgets the ones already reported.
  void expire() {
    const auto now = std::chrono::steady_clock::now();
    for (;;) {
      std::shared_ptr<Pending> p;
      {
        std::lock_guard lock(mu);
        if (waiting.empty()) return;
        if (!waiting.front()->fired && waiting.front()->deadline > now) return;
        p = std::move(waiting.front());
        waiting.pop_front();
      }
      p->fire("timed out: no acknowledgement within " + std::to_string(timeout.count()) + " ms");
    }
  }
};

Producer::Producer(Properties props) : impl_(std::make_unique<Impl>()) {
  Properties defaults = {{"enable.idempotence", "true"},
                         {"acks", "all"},
                         {"linger.ms", "2"},
                         {"message.timeout.ms", "30000"},
                         {"compression.type", "lz4"},
                         // Whole emails travel as records (events::kRecordLimits, 64 MiB); a
                         // production broker's topics need max.message.bytes to match.
                         {"message.max.bytes", "83886080"}};
  for (auto& [k, v] : defaults) props.emplace(k, v);
  props.erase("session.timeout.ms");
  try {
    impl_->timeout = std::chrono::milliseconds(std::stoll(props.at("message.timeout.ms")));
  } catch (const std::exception&) {
    throw std::runtime_error("Kafka producer setting message.timeout.ms=" + props["message.timeout.ms"] +
                             ": not a number of milliseconds");
  }
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error("Kafka producer setting " + k + "=" + v + ": " + err);
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
  impl_->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (impl_->rk == nullptr) throw std::runtime_error(std::string("Kafka producer: ") + err);
  impl_->poller = std::thread([im = impl_.get()] {
    while (!im->stop) {
      rd_kafka_poll(im->rk, 50);
      im->expire();
    }
  });
}

Producer::~Producer() {
  flush(std::chrono::seconds(10));
  impl_->stop = true;
  impl_->poller.join();
  rd_kafka_destroy(impl_->rk);
}

void Producer::produce(const std::string& topic, const std::string& key, const std::string& value,
                       DeliveryCallback done) {
  auto pending = std::make_shared<Pending>();
  pending->done = std::move(done);
  pending->deadline = std::chrono::steady_clock::now() + impl_->timeout;
  auto* cb = new std::shared_ptr<Pending>(pending);
  for (;;) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        impl_->rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(cb), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::lock_guard lock(impl_->mu);
      impl_->waiting.push_back(std::move(pending));
      return;
    }
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    pending->fire(rd_kafka_err2str(e));
    delete cb;
    return;
  }
}

std::string Producer::produce_sync(const std::string& topic, const std::string& key, const std::string& value,
                                   std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<std::string>>();
  auto fut = promise->get_future();
  produce(topic, key, value, [promise](const std::string& err) { promise->set_value(err); });
  if (fut.wait_for(timeout) != std::future_status::ready)
    return "timed out after " + std::to_string(timeout.count()) + " ms waiting for the broker";
  return fut.get();
}

std::string metadata_reachable(rd_kafka_t* rk, std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* md = nullptr;
  auto err = rd_kafka_metadata(rk, 0, nullptr, &md, static_cast<int>(timeout.count()));
  if (md != nullptr) rd_kafka_metadata_destroy(md);
  return err == RD_KAFKA_RESP_ERR_NO_ERROR ? "" : std::string("Kafka metadata: ") + rd_kafka_err2str(err);
}

std::string Producer::reachable(std::chrono::milliseconds timeout) const {
  return metadata_reachable(impl_->rk, timeout);
}

bool Producer::flush(std::chrono::milliseconds timeout) {
  return rd_kafka_flush(impl_->rk, static_cast<int>(timeout.count())) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

}  // namespace loket::kafka
