#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>

#include "loket/kafka/kafka.hpp"

using namespace std::chrono_literals;

namespace {
struct Outcome {
  std::promise<std::string> first;
  std::atomic<int> calls{0};
};

loket::kafka::Producer::DeliveryCallback record_into(const std::shared_ptr<Outcome>& o) {
  return [o](const std::string& err) {
    if (o->calls++ == 0) o->first.set_value(err);
  };
}
}  // namespace

TEST_CASE("a delivery report comes once, by the message timeout even while the broker holds the request", "[kafka]") {
  loket::kafka::MockCluster cluster(1);
  cluster.create_topic("t", 1);
  loket::kafka::Producer producer({{"bootstrap.servers", cluster.bootstraps()}, {"message.timeout.ms", "500"}});

  // The first records may time out while the producer learns the new topic's leader.
  auto acked = std::make_shared<Outcome>();
  for (int i = 0; i < 20 && !producer.produce_sync("t", "k", "warm-up", 2s).empty(); ++i) {
  }
  producer.produce("t", "k", "v", record_into(acked));
  auto ack = acked->first.get_future();
  REQUIRE(ack.wait_for(10s) == std::future_status::ready);
  CHECK(ack.get().empty());

  // The broker goes away: librdkafka notices only when a request times out or its timeout
  // scan runs; the producer's own deadline answers at 500 ms (+ one 50 ms poll).
  cluster.set_down(true);
  auto stuck = std::make_shared<Outcome>();
  const auto sent = std::chrono::steady_clock::now();
  producer.produce("t", "k", "v2", record_into(stuck));
  auto failed = stuck->first.get_future();
  REQUIRE(failed.wait_for(10s) == std::future_status::ready);
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent);
  INFO("reported after " << waited.count() << " ms");
  CHECK(waited < 2s);
  CHECK(failed.get().find("timed out") != std::string::npos);
  cluster.set_down(false);
  CHECK(producer.flush(30s));
  CHECK(acked->calls == 1);
  CHECK(stuck->calls == 1);  // the late report from librdkafka is not passed on
}

TEST_CASE("a producer refuses a message timeout that is not a number", "[kafka]") {
  CHECK_THROWS_WITH(loket::kafka::Producer({{"bootstrap.servers", "127.0.0.1:1"}, {"message.timeout.ms", "soon"}}),
                    Catch::Contains("message.timeout.ms"));
}
