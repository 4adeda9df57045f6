#include "loket/core/log.hpp"

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

void log(Level level, std::string_view msg,
         std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  if (static_cast<int>(level) < g_min_level.load()) return;
  std::string line = "{\"ts\":\"" + now_rfc3339() + "\",\"level\":\"" + level_name(level) + "\",\"service\":\"" +
                     json_escape(g_service) + "\",\"msg\":\"" + json_escape(msg) + "\"";
  for (const auto& [k, v] : fields) {
    line += ",\"" + json_escape(k) + "\":\"" + json_escape(v) + "\"";
  }
  for (auto it = t_scope.rbegin(); it != t_scope.rend(); ++it) {  // innermost first
    bool shadowed = std::any_of(t_scope.rbegin(), it, [&](const auto& p) { return p.first == it->first; }) ||
                    std::any_of(fields.begin(), fields.end(), [&](const auto& f) { return f.first == it->first; });
    if (!shadowed) line += ",\"" + json_escape(it->first) + "\":\"" + json_escape(it->second) + "\"";
  }
  line += "}\n";
  std::lock_guard lock(g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace loket::core
