#pragma once
#include <chrono>
#include <functional>
#include <string>

namespace loket::core {

/// Makes SIGTERM and SIGINT request a graceful stop (and ignores SIGPIPE). Call once from main.
void install_signal_handlers();

/// True once a stop was requested (signal or request_stop()). Thread-safe.
bool stop_requested();

/// Requests a stop, as SIGTERM would. Thread-safe.
void request_stop();

/// Sleeps up to `d`, returning early (false) when a stop is requested.
bool sleep_unless_stopped(std::chrono::milliseconds d);

/// Runs `step` until it returns without throwing: each failure is logged as "`what` failed;
/// retrying" and retried after a backoff of 200 ms doubling to 10 s. Returns false when
/// `stop()` turns true first (the work is then left for redelivery). For transient trouble
/// (database, broker); a step must not throw for input that can never succeed.
bool retry_until_done(const std::string& what, const std::function<void()>& step, const std::function<bool()>& stop);

/// How retry_transient() ended.
enum class Attempted {
  kDone,       ///< `step` returned
  kPermanent,  ///< `step` threw a failure `permanent` says retrying cannot cure
  kStopped,    ///< `stop()` turned true while retrying transient failures
};

/// Like retry_until_done(), but a failure for which `permanent(e)` is true is not retried:
/// kPermanent is returned at once with e.what() in `error` (for the dead-letter topic).
/// Transient failures are logged and retried with the same capped backoff (200 ms → 10 s).
Attempted retry_transient(const std::string& what, const std::function<void()>& step,
                          const std::function<bool(const std::exception&)>& permanent,
                          const std::function<bool()>& stop, std::string& error);

}  // namespace loket::core
