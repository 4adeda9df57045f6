// loket-devbroker: the local Kafka for development and tests — librdkafka's in-memory mock
// cluster (a real Kafka-protocol broker) with the pipeline's topics, plus a loopback control
// endpoint for fault injection. Not for production (DESIGN.md "Running it").
//
// Environment:
//   LOKET_DEVBROKER_BROKERS        number of brokers (default 1)
//   LOKET_DEVBROKER_PARTITIONS     partitions per topic (default 4)
//   LOKET_DEVBROKER_BOOTSTRAP_FILE where to write the bootstrap address (written once ready)
//   LOKET_DEVBROKER_CONTROL_PORT   control port on 127.0.0.1 (default 0 = any; written to
//                                  <bootstrap file>.control as a URL)
// Control endpoint: POST /down, POST /up, POST /rtt?ms=N, GET /healthz.
#include <fstream>

#include "loket/core/config.hpp"
#include "loket/core/lifecycle.hpp"
#include "loket/core/log.hpp"
#include "loket/http/envelope.hpp"
#include "loket/http/server.hpp"
#include "loket/kafka/kafka.hpp"
#include "loket/providers/registry.hpp"

using namespace loket;

int main() {
  core::init_logging("devbroker");
  core::install_signal_handlers();
  try {
    kafka::MockCluster cluster(static_cast<int>(core::env_int("LOKET_DEVBROKER_BROKERS", 1)));
    int partitions = static_cast<int>(core::env_int("LOKET_DEVBROKER_PARTITIONS", 4));
    auto topics = providers::standard_webhook_topics();  // channel.webhook.<provider>, one per provider
    for (const char* t : {kafka::kInboundTopic, kafka::kTicketEventsTopic, kafka::kOutboundRetryTopic,
                          kafka::kOutboundTeamRetryTopic, kafka::kOutboundDlqTopic})
      topics.emplace_back(t);
    for (const auto& t : topics) {
      cluster.create_topic(t, partitions);
      if (t != kafka::kOutboundDlqTopic) cluster.create_topic(t + ".dlq", partitions);  // <topic>.dlq
    }
    http::ServerOptions so;
    so.address = "127.0.0.1";
    so.port = static_cast<std::uint16_t>(core::env_int("LOKET_DEVBROKER_CONTROL_PORT", 0));
    http::Server control(so, [&](const http::Request& r) {
      if (r.path == "/healthz") return http::json_ok(200, "{\"status\":\"ok\"}");
      if (r.method != "POST") return http::json_error(404, "NOT_FOUND", "POST /down, /up or /rtt?ms=N");
      if (r.path == "/down")
        cluster.set_down(true);
      else if (r.path == "/up")
        cluster.set_down(false);
      else if (r.path == "/rtt")
        cluster.set_rtt(std::chrono::milliseconds(std::stoi(r.query_param("ms").empty() ? "0" : r.query_param("ms"))));
      else
        return http::json_error(404, "NOT_FOUND", "POST /down, /up or /rtt?ms=N");
      core::log(core::Level::kInfo, "fault injection", {{"action", r.path}});
      return http::json_ok(200, "{\"ok\":true}");
    });
    control.start();
    std::string bootstrap = cluster.bootstraps();
    std::string control_url = "http://127.0.0.1:" + std::to_string(control.port());
    if (auto file = core::env("LOKET_DEVBROKER_BOOTSTRAP_FILE")) {
      std::ofstream(*file + ".control.tmp") << control_url << "\n";
      std::rename((*file + ".control.tmp").c_str(), (*file + ".control").c_str());
      std::ofstream(*file + ".tmp") << bootstrap << "\n";
      std::rename((*file + ".tmp").c_str(), file->c_str());
    }
    core::log(core::Level::kInfo, "dev broker ready", {{"bootstrap", bootstrap}, {"control", control_url}});
    while (core::sleep_unless_stopped(std::chrono::seconds(1))) {
    }
    control.stop();
  } catch (const std::exception& e) {
    core::log(core::Level::kError, "dev broker failed", {{"error", e.what()}});
    return 1;
  }
  return 0;
}
