#include "loket/core/config.hpp"

#include <cstdlib>
#include <stdexcept>

namespace loket::core {

std::optional<std::string> env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::string env_or(const std::string& name, const std::string& fallback) { return env(name).value_or(fallback); }

std::string env_required(const std::string& name, const std::string& hint) {
  auto v = env(name);
  if (!v) throw std::runtime_error(name + " is not set: " + hint);
  return *v;
}

std::int64_t env_int(const std::string& name, std::int64_t fallback) {
  auto v = env(name);
  if (!v) return fallback;
  std::size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(*v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v->size() || n < 0) throw std::runtime_error(name + "=" + *v + " is not a whole number");
  return n;
}

std::chrono::milliseconds env_ms(const std::string& name, std::chrono::milliseconds fallback) {
  return std::chrono::milliseconds(env_int(name, fallback.count()));
}

}  // namespace loket::core
