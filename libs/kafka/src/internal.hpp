#pragma once
// Shared by the producer and consumer implementations; librdkafka types stay in src/.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <string>

namespace loket::kafka {

/// "" when a broker answers a metadata request from `rk` within `timeout`, else the error.
std::string metadata_reachable(rd_kafka_t* rk, std::chrono::milliseconds timeout);

}  // namespace loket::kafka
