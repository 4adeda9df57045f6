#include <unistd.h>

#include "loket/core/config.hpp"
#include "loket/kafka/kafka.hpp"

extern char** environ;

namespace loket::kafka {

Properties properties_from_env() {
  Properties p;
  p["bootstrap.servers"] =
      core::env_required("LOKET_KAFKA_BROKERS", "set it to the Kafka bootstrap servers, e.g. 127.0.0.1:9092");
  p["session.timeout.ms"] = std::to_string(core::env_int("LOKET_KAFKA_SESSION_TIMEOUT_MS", 6000));
  const std::string prefix = "LOKET_KAFKA_PROP_";
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    if (kv.rfind(prefix, 0) != 0) continue;
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    std::string name = kv.substr(prefix.size(), eq - prefix.size());
    for (auto& c : name) c = c == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    p[name] = kv.substr(eq + 1);
  }
  return p;
}

}  // namespace loket::kafka
