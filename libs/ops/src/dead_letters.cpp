#include "loket/ops/dead_letters.hpp"

#include "loket/core/ids.hpp"
#include "loket/core/lifecycle.hpp"
#include "loket/core/log.hpp"
#include "loket/core/time.hpp"
#include "loket/events/events.hpp"
#include "loket/ops/metrics.hpp"

namespace loket::ops {

DeadLetters::DeadLetters(kafka::Producer& producer, std::string consumer)
    : producer_(producer), consumer_(std::move(consumer)) {
  metrics().describe("loket_dead_letters_total", Registry::Type::kCounter,
                     "Records a consumer could never process, put on <topic>.dlq, by topic and consumer.");
}

bool DeadLetters::send(const kafka::Record& rec, const std::string& error, const std::function<bool()>& stop) const {
  events::DeadLetter l;
  l.event_id = core::new_id("evt");
  l.topic = rec.topic;
  l.partition = rec.partition;
  l.offset = rec.offset;
  l.key = rec.key;
  l.value = rec.value;
  l.error = error;
  l.consumer = consumer_;
  l.failed_at_ms = core::now_ms();
  const std::string topic = events::dead_letter_topic(rec.topic), value = events::to_json(l);
  bool sent = core::retry_until_done(
      "publishing to " + topic,
      [&] {
        auto err = producer_.produce_sync(topic, rec.key, value, std::chrono::seconds(10));
        if (!err.empty()) throw std::runtime_error(err);
      },
      stop);
  if (!sent) return false;
  metrics().add("loket_dead_letters_total", {{"topic", rec.topic}, {"consumer", consumer_}});
  core::log(core::Level::kError, "record dead-lettered",
            {{"topic", rec.topic},
             {"partition", std::to_string(rec.partition)},
             {"offset", std::to_string(rec.offset)},
             {"deadLetterTopic", topic},
             {"error", error}});
  return true;
}

Redriven redrive(const kafka::Properties& props, const std::string& dlq_topic, std::int64_t since_ms,
                 std::chrono::milliseconds idle) {
  Redriven out;
  kafka::Producer producer(props);
  kafka::Consumer consumer(props, "loket-redrive", {dlq_topic});
  auto quiet_since = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - quiet_since < idle) {
    auto batch = consumer.poll(100, std::chrono::milliseconds(500));
    if (batch.empty()) continue;
    for (const auto& rec : batch) {
      events::DeadLetter l;
      try {
        l = events::dead_letter_from_json(rec.value);
      } catch (const std::invalid_argument& e) {
        core::log(core::Level::kWarn, "not a dead letter; left alone",
                  {{"topic", rec.topic}, {"offset", std::to_string(rec.offset)}, {"error", e.what()}});
        ++out.skipped;
        continue;
      }
      if (l.failed_at_ms < since_ms) {
        ++out.skipped;
        continue;
      }
      auto err = producer.produce_sync(l.topic, l.key, l.value, std::chrono::seconds(30));
      if (!err.empty()) throw std::runtime_error("republishing to " + l.topic + ": " + err);
      ++out.republished;
    }
    if (auto err = consumer.commit(batch); !err.empty())
      throw std::runtime_error("committing the redrive position: " + err + " (records may be redriven twice)");
    quiet_since = std::chrono::steady_clock::now();
  }
  consumer.close();
  return out;
}

}  // namespace loket::ops
