#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

/// Thin wrappers over librdkafka (no librdkafka types leak out). Topic names: DESIGN.md
/// "Topics and events".
namespace loket::kafka {

/// Topic names used by the pipeline.
inline constexpr const char* kWebhookTopicPrefix = "channel.webhook.";
inline constexpr const char* kInboundTopic = "channel.inbound";
inline constexpr const char* kTicketEventsTopic = "ticket.events";
inline constexpr const char* kOutboundRetryTopic = "outbound.retry";
/// Team-chat notices (Slack, Discord) to try again: a topic of their own, so waiting out a team
/// chat's Retry-After never holds up a customer's retry.
inline constexpr const char* kOutboundTeamRetryTopic = "outbound.retry.team";
inline constexpr const char* kOutboundDlqTopic = "outbound.dlq";

/// Extra librdkafka properties (name → value), e.g. {"linger.ms", "5"}.
using Properties = std::map<std::string, std::string>;

/// Client settings from the environment: LOKET_KAFKA_BROKERS (required),
/// LOKET_KAFKA_SESSION_TIMEOUT_MS (default 6000, short for the dev broker), and any
/// LOKET_KAFKA_PROP_<NAME> (dots as underscores, e.g. LOKET_KAFKA_PROP_SECURITY_PROTOCOL)
/// for SASL/TLS against a real cluster.
/// @throws std::runtime_error when LOKET_KAFKA_BROKERS is unset.
Properties properties_from_env();

/// One consumed record.
struct Record {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
};

/// An idempotent producer (acks=all, enable.idempotence=true). Thread-safe: many threads
/// may produce at once; a background thread serves delivery reports.
class Producer {
 public:
  /// @throws std::runtime_error on invalid configuration.
  explicit Producer(Properties props);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  /// Called once per record with "" on acknowledgement, or the error text.
  using DeliveryCallback = std::function<void(const std::string& error)>;

  /// Queues a record; `done` runs once on the producer's report thread: with "" when the
  /// broker acknowledged it, or with the error at the latest ~50 ms after `message.timeout.ms`
  /// (even while librdkafka still holds the record in a request to a vanished broker, which
  /// it reports only with that request's own timeout). A record reported as timed out may
  /// still land later: consumers deduplicate, and callers answer "retry", never "lost".
  void produce(const std::string& topic, const std::string& key, const std::string& value, DeliveryCallback done);

  /// Produces and waits for the broker's acknowledgement up to `timeout`.
  /// Returns "" on success or the error text (including "timed out").
  std::string produce_sync(const std::string& topic, const std::string& key, const std::string& value,
                           std::chrono::milliseconds timeout);

  /// Waits until every queued record is acknowledged or failed, up to `timeout`.
  /// Returns true when nothing is outstanding.
  bool flush(std::chrono::milliseconds timeout);

  /// "" when a broker answers a metadata request within `timeout`, else why not (readiness).
  std::string reachable(std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A consumer-group member with manual offset commits (enable.auto.commit=false,
/// auto.offset.reset=earliest). Not thread-safe: use it from one thread.
class Consumer {
 public:
  /// Subscribes `group` to `topics`; a topic starting with '^' is a regular expression.
  /// @throws std::runtime_error on invalid configuration.
  Consumer(Properties props, const std::string& group, const std::vector<std::string>& topics);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  /// Returns up to `max` records, waiting at most `timeout` for the first one and then
  /// collecting what is already fetched. Errors that are not fatal are logged and skipped.
  std::vector<Record> poll(std::size_t max, std::chrono::milliseconds timeout);

  /// Synchronously commits offsets just past every record in `done`.
  /// Returns "" or the error text (the records will then be redelivered later).
  std::string commit(const std::vector<Record>& done);

  /// Leaves the group cleanly (commits nothing). Idempotent.
  void close();

  /// How far this member is behind on one assigned partition.
  struct Lag {
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t lag = 0;  ///< records between the committed/consumed position and the high watermark
  };
  /// Lag of every partition assigned to this member, from cached watermarks (no broker
  /// round trip). Safe to call from another thread than poll()'s.
  std::vector<Lag> lag() const;

  /// "" when a broker answers a metadata request within `timeout`, else why not (readiness).
  /// Safe to call from another thread than poll()'s.
  std::string reachable(std::chrono::milliseconds timeout) const;

  /// A reader of every partition of `topic` from its end at the time of the call (records
  /// produced once it returned are all read), outside any consumer group
  /// (no joins, rebalances or commits): for broadcast readers such as the api's realtime
  /// fan-out, where every replica must see every record. Partitions added later are not read
  /// until the reader is recreated. Do not call commit() on it.
  /// @throws std::runtime_error when the topic's metadata cannot be read within `timeout`.
  static std::unique_ptr<Consumer> tail(Properties props, const std::string& topic, std::chrono::milliseconds timeout);

 private:
  Consumer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The dev broker: librdkafka's in-memory mock cluster, a real Kafka-protocol broker for
/// local runs and tests, with fault injection. Thread-safe.
class MockCluster {
 public:
  /// Starts `brokers` mock brokers on 127.0.0.1 (ports chosen by the OS).
  /// @throws std::runtime_error when the cluster cannot start.
  explicit MockCluster(int brokers);
  ~MockCluster();
  /// Bootstrap servers, e.g. "127.0.0.1:40123,127.0.0.1:40125".
  std::string bootstraps() const;
  /// Creates `topic` with `partitions` partitions. @throws std::runtime_error on failure.
  void create_topic(const std::string& topic, int partitions);
  /// Takes every broker down (true) or back up (false): clients then time out.
  void set_down(bool down);
  /// Adds `rtt` of latency to every broker's responses.
  void set_rtt(std::chrono::milliseconds rtt);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace loket::kafka

namespace loket::kafka {

/// Runs a consumer until `stop()` is true: polls batches of up to `max_batch` records, passes
/// each batch to `process`, then commits it. `process` must finish the whole batch (retrying
/// transient failures itself); if it throws, the batch is not committed and the exception
/// propagates (the process exits and the records are redelivered after restart). On stop the
/// consumer leaves its group cleanly.
void consume_loop(Consumer& consumer, std::size_t max_batch,
                  const std::function<void(const std::vector<Record>&)>& process, const std::function<bool()>& stop);

}  // namespace loket::kafka
