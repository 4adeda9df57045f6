#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

/// Operability: Prometheus metrics (text exposition format 0.0.4) and the admin endpoints
/// every service serves (issue 6: /healthz, /readyz, /metrics).
namespace loket::ops {

/// Label pairs of one series, e.g. {{"provider","acme"},{"outcome","accepted"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

/// Upper bounds (seconds) of the default latency histogram buckets: 0.5 ms … 10 s.
const std::vector<double>& default_buckets();

class Registry;

/// Keeps a scrape refresher registered; removing it (on destruction) waits for a scrape that
/// is running it, so the refresher may capture objects that die with the hook. Move-only.
class ScrapeHook {
 public:
  ScrapeHook() = default;
  ScrapeHook(Registry* registry, std::size_t id) : registry_(registry), id_(id) {}
  ScrapeHook(ScrapeHook&& o) noexcept : registry_(std::exchange(o.registry_, nullptr)), id_(o.id_) {}
  ScrapeHook& operator=(ScrapeHook&& o) noexcept;
  ~ScrapeHook();

 private:
  Registry* registry_ = nullptr;
  std::size_t id_ = 0;
};

/// A set of metric families. Counters only go up, gauges are set, histograms observe values
/// into cumulative buckets. Every method is thread-safe; the hot-path cost is one mutex and one
/// map lookup. Families are described once (describe) and then written by name; writing an
/// undescribed name throws std::logic_error, so a typo fails the first test that reaches it.
class Registry {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  /// Declares family `name` (e.g. `loket_webhooks_total`) with its type and HELP text;
  /// `buckets` for histograms (ascending upper bounds, +Inf implied). Idempotent.
  void describe(const std::string& name, Type type, const std::string& help,
                std::vector<double> buckets = default_buckets());
  /// Adds `value` (≥ 0) to counter `name`{labels}.
  void add(const std::string& name, const Labels& labels = {}, double value = 1);
  /// Sets gauge `name`{labels} to `value`.
  void set(const std::string& name, const Labels& labels, double value);
  /// Records `value` into histogram `name`{labels}.
  void observe(const std::string& name, const Labels& labels, double value);
  /// Records the seconds elapsed since `start` into histogram `name`{labels}.
  void observe_since(const std::string& name, const Labels& labels, std::chrono::steady_clock::time_point start);

  /// Runs `refresh` before every exposition (for gauges read on demand: lag, backlog, memory)
  /// for as long as the returned hook lives.
  [[nodiscard]] ScrapeHook on_scrape(std::function<void(Registry&)> refresh);
  /// Unregisters refresher `id` (ScrapeHook calls it).
  void remove_scrape(std::size_t id);

  /// The current value of counter or gauge `name`{labels} (0 when never written), for tests.
  double value(const std::string& name, const Labels& labels = {}) const;

  /// Every family in the Prometheus text format, families and series in name order.
  std::string exposition();

 private:
  struct Series {
    double value = 0;                   // counter, gauge
    std::vector<std::uint64_t> counts;  // histogram: per bucket, non-cumulative, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::vector<double> buckets;
    std::map<std::string, Series> series;  // rendered label set → series
  };
  Series& series(const std::string& name, const Labels& labels, Type expected);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
  std::mutex scrape_mu_;  // held while refreshers run and while one is removed
  std::map<std::size_t, std::function<void(Registry&)>> refreshers_;
  std::size_t next_refresher_ = 1;
};

/// The process-wide registry every library and service writes to. It starts with
/// `process_resident_memory_bytes` and `process_start_time_seconds`.
Registry& metrics();

/// Renders `labels` as `{k="v",…}` with Prometheus escaping ("" for no labels).
std::string render_labels(const Labels& labels);

}  // namespace loket::ops
