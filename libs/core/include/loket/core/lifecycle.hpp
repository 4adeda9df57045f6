#pragma once
#include <chrono>

namespace loket::core {

/// Makes SIGTERM and SIGINT request a graceful stop (and ignores SIGPIPE). Call once from main.
void install_signal_handlers();

/// True once a stop was requested (signal or request_stop()). Thread-safe.
bool stop_requested();

/// Requests a stop, as SIGTERM would. Thread-safe.
void request_stop();

/// Sleeps up to `d`, returning early (false) when a stop is requested.
bool sleep_unless_stopped(std::chrono::milliseconds d);

}  // namespace loket::core
