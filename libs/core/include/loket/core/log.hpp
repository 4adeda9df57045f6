#pragma once
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace loket::core {

/// Log levels, least to most severe.
enum class Level { kDebug, kInfo, kWarn, kError };

/// Names this process in every log line (`"service":"ingress"`) and sets the minimum level
/// from LOKET_LOG_LEVEL (debug|info|warn|error, default info). Call once at start-up.
void init_logging(std::string_view service);

/// Writes one JSON object per line to stderr: ts, level, service, msg and the given fields
/// (string values, JSON-escaped). Never pass secrets, tokens or message bodies at info level.
/// Thread-safe (one write per line).
void log(Level level, std::string_view msg,
         std::initializer_list<std::pair<std::string_view, std::string_view>> fields = {});

/// Adds `key`: `value` to every line this thread logs while the scope lives (requestId,
/// eventId, workspaceId, …), so a request's or event's lines can be found together. Scopes
/// nest; the innermost value of a key wins. Not copyable; destroy on the creating thread.
class LogScope {
 public:
  LogScope(std::string key, std::string value);
  ~LogScope();
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;
  /// The value of `key` in this thread's scopes, "" when none.
  static std::string get(std::string_view key);
};

/// Escapes `s` for use inside a JSON string literal (no surrounding quotes).
std::string json_escape(std::string_view s);

}  // namespace loket::core
