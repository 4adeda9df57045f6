// Shared by the WebSocket load generators (loket-bench-ws, loket-bench-chat): wall-clock
// milliseconds, a process's CPU and RSS from /proc, percentiles.
#pragma once
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace bench {

/// Milliseconds since the epoch (latencies across processes are wall-clock differences).
inline long long wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// utime + stime of process `pid` in seconds, and its RSS in MB.
inline std::pair<double, double> cpu_and_rss(const std::string& pid) {
  std::ifstream stat("/proc/" + pid + "/stat");
  std::string s((std::istreambuf_iterator<char>(stat)), {});
  std::istringstream rest(s.substr(s.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i)
    if (i == 14 || i == 15) ticks += std::stod(field);
  std::ifstream status("/proc/" + pid + "/status");
  double rss_kb = 0;
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) rss_kb = std::stod(line.substr(6));
  return {ticks / static_cast<double>(sysconf(_SC_CLK_TCK)), rss_kb / 1024};
}

/// The `p` quantile (0–1) of `v`; 0 when empty.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace bench
