#include "loket/core/log.hpp"
#include "loket/core/text.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <vector>

#include "loket/core/config.hpp"
#include "loket/core/time.hpp"

namespace loket::core {
namespace {
std::string g_service = "loket";
std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
std::mutex g_mu;
thread_local std::vector<std::pair<std::string, std::string>> t_scope;

const char* level_name(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}
}  // namespace

void init_logging(std::string_view service) {
  g_service = std::string(service);
  auto lvl = env_or("LOKET_LOG_LEVEL", "info");
  Level l = Level::kInfo;
  if (lvl == "debug")
    l = Level::kDebug;
  else if (lvl == "warn")
    l = Level::kWarn;
  else if (lvl == "error")
    l = Level::kError;
  g_min_level = static_cast<int>(l);
}

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

LogScope::LogScope(std::string key, std::string value) { t_scope.emplace_back(std::move(key), std::move(value)); }

LogScope::~LogScope() { t_scope.pop_back(); }

std::string LogScope::get(std::string_view key) {
  for (auto it = t_scope.rbegin(); it != t_scope.rend(); ++it)
    if (it->first == key) return it->second;
  return "";
}

namespace {
// `s` escaped for a log line, ill-formed UTF-8 replaced first: a hostile byte never reaches a
// log shipper raw (invalid JSON downstream).
std::string log_text(std::string_view s) {
  return json_escape(is_storable_text(s) ? std::string(s) : storable_text(s));
}
}  // namespace

void log(Level level, std::string_view msg,
         std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  if (static_cast<int>(level) < g_min_level.load()) return;
  std::string line = "{\"ts\":\"" + now_rfc3339() + "\",\"level\":\"" + level_name(level) + "\",\"service\":\"" +
                     log_text(g_service) + "\",\"msg\":\"" + log_text(msg) + "\"";
  for (const auto& [k, v] : fields) {
    line += ",\"" + log_text(k) + "\":\"" + log_text(v) + "\"";
  }
  for (auto it = t_scope.rbegin(); it != t_scope.rend(); ++it) {  // innermost first
    bool shadowed = std::any_of(t_scope.rbegin(), it, [&](const auto& p) { return p.first == it->first; }) ||
                    std::any_of(fields.begin(), fields.end(), [&](const auto& f) { return f.first == it->first; });
    if (!shadowed) line += ",\"" + log_text(it->first) + "\":\"" + log_text(it->second) + "\"";
  }
  line += "}\n";
  std::lock_guard lock(g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace loket::core
