#include "loket/ops/metrics.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace loket::ops {
namespace {
std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// `{k="v",le="0.5"}`: a rendered label set with one more label appended.
std::string with_label(const std::string& rendered, const std::string& k, const std::string& v) {
  std::string pair = k + "=\"" + v + "\"";
  if (rendered.empty()) return "{" + pair + "}";
  return rendered.substr(0, rendered.size() - 1) + "," + pair + "}";
}

double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}
}  // namespace

const std::vector<double>& default_buckets() {
  static const std::vector<double> b = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return b;
}

std::string render_labels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i)
    out += (i ? "," : "") + labels[i].first + "=\"" + escape(labels[i].second) + "\"";
  return out + "}";
}

void Registry::describe(const std::string& name, Type type, const std::string& help, std::vector<double> buckets) {
  std::lock_guard lock(mu_);
  auto& f = families_[name];
  f.type = type;
  f.help = help;
  if (type == Type::kHistogram) f.buckets = std::move(buckets);
}

Registry::Series& Registry::series(const std::string& name, const Labels& labels, Type expected) {
  auto it = families_.find(name);
  if (it == families_.end() || it->second.type != expected)
    throw std::logic_error("metric " + name + " is not described with this type");
  auto& s = it->second.series[render_labels(labels)];
  if (expected == Type::kHistogram && s.counts.empty()) s.counts.assign(it->second.buckets.size() + 1, 0);
  return s;
}

void Registry::add(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mu_);
  series(name, labels, Type::kCounter).value += value;
}

void Registry::set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mu_);
  series(name, labels, Type::kGauge).value = value;
}

void Registry::observe(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mu_);
  auto& s = series(name, labels, Type::kHistogram);
  const auto& bounds = families_.at(name).buckets;
  std::size_t i = 0;
  while (i < bounds.size() && value > bounds[i]) ++i;
  ++s.counts[i];
  s.sum += value;
  ++s.count;
}

void Registry::observe_since(const std::string& name, const Labels& labels,
                             std::chrono::steady_clock::time_point start) {
  observe(name, labels, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

ScrapeHook& ScrapeHook::operator=(ScrapeHook&& o) noexcept {
  if (this != &o) {
    if (registry_) registry_->remove_scrape(id_);
    registry_ = std::exchange(o.registry_, nullptr);
    id_ = o.id_;
  }
  return *this;
}

ScrapeHook::~ScrapeHook() {
  if (registry_) registry_->remove_scrape(id_);
}

ScrapeHook Registry::on_scrape(std::function<void(Registry&)> refresh) {
  std::lock_guard lock(scrape_mu_);
  refreshers_[next_refresher_] = std::move(refresh);
  return ScrapeHook(this, next_refresher_++);
}

void Registry::remove_scrape(std::size_t id) {
  std::lock_guard lock(scrape_mu_);
  refreshers_.erase(id);
}

double Registry::value(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  auto f = families_.find(name);
  if (f == families_.end()) return 0;
  auto s = f->second.series.find(render_labels(labels));
  return s == f->second.series.end() ? 0 : s->second.value;
}

std::string Registry::exposition() {
  {
    std::lock_guard scrape(scrape_mu_);
    for (auto& [id, refresh] : refreshers_) refresh(*this);  // they call set(), which takes mu_
  }
  std::lock_guard lock(mu_);
  std::string out;
  static const char* kTypes[] = {"counter", "gauge", "histogram"};
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + kTypes[static_cast<int>(f.type)] + "\n";
    for (const auto& [labels, s] : f.series) {
      if (f.type != Type::kHistogram) {
        out += name + labels + " " + number(s.value) + "\n";
        continue;
      }
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < s.counts.size(); ++i) {
        cumulative += s.counts[i];
        std::string le = i < f.buckets.size() ? number(f.buckets[i]) : "+Inf";
        out += name + "_bucket" + with_label(labels, "le", le) + " " + std::to_string(cumulative) + "\n";
      }
      out += name + "_sum" + labels + " " + number(s.sum) + "\n";
      out += name + "_count" + labels + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

Registry& metrics() {
  static Registry& r = *[] {
    auto* reg = new Registry();  // never destroyed: threads may still write during exit
    reg->describe("process_resident_memory_bytes", Registry::Type::kGauge, "Resident memory size in bytes.");
    reg->describe("process_start_time_seconds", Registry::Type::kGauge,
                  "Start time of the process since unix epoch in seconds.");
    reg->set("process_start_time_seconds", {},
             std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
    static auto memory =
        reg->on_scrape([](Registry& x) { x.set("process_resident_memory_bytes", {}, resident_bytes()); });
    return reg;
  }();
  return r;
}

}  // namespace loket::ops
