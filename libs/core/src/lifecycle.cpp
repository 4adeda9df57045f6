#include "loket/core/lifecycle.hpp"

#include <algorithm>
#include <atomic>

#include <csignal>
#include <thread>
#include "loket/core/log.hpp"

namespace loket::core {
namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }
}  // namespace

void install_signal_handlers() {
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
}

bool stop_requested() { return g_stop.load(); }

void request_stop() { g_stop = true; }

bool sleep_unless_stopped(std::chrono::milliseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    if (g_stop) return false;
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(20),
        std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()) +
            std::chrono::milliseconds(1)));
  }
  return !g_stop;
}

bool retry_until_done(const std::string& what, const std::function<void()>& step, const std::function<bool()>& stop) {
  std::string error;
  return retry_transient(
             what, step, [](const std::exception&) { return false; }, stop, error) == Attempted::kDone;
}

Attempted retry_transient(const std::string& what, const std::function<void()>& step,
                          const std::function<bool(const std::exception&)>& permanent,
                          const std::function<bool()>& stop, std::string& error) {
  auto backoff = std::chrono::milliseconds(200);
  for (;;) {
    try {
      step();
      return Attempted::kDone;
    } catch (const std::exception& e) {
      error = e.what();
      if (permanent(e)) return Attempted::kPermanent;
      log(Level::kError, what + " failed; retrying", {{"error", error}});
      if (stop()) return Attempted::kStopped;
      sleep_unless_stopped(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
    }
  }
}

}  // namespace loket::core
