#pragma once
#include <cstddef>
#include <functional>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace loket::core {

/// A map from string keys to `V` bounded in entries and in bytes, evicting the least recently
/// used entries past either bound (DEVELOPERS.md: every cache has a bound). The bytes of an
/// entry are its key's size plus `bytes_of(value)` plus a fixed overhead. Not thread-safe: the
/// owner locks.
template <typename V>
class LruMap {
 public:
  /// At most `max_entries` entries and `max_bytes` bytes (each at least one entry's worth).
  LruMap(std::size_t max_entries, std::size_t max_bytes, std::function<std::size_t(const V&)> bytes_of)
      : max_entries_(max_entries), max_bytes_(max_bytes), bytes_of_(std::move(bytes_of)) {}

  /// The value of `key`, marked most recently used, or nullptr. Valid until the next change.
  V* find(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    entries_.splice(entries_.begin(), entries_, it->second);
    return &it->second->second;
  }

  /// Sets `key` to `value` (most recently used), then evicts past the bounds. An entry larger
  /// than max_bytes on its own is not kept.
  void put(const std::string& key, V value) {
    erase(key);
    const std::size_t size = cost(key, value);
    if (size > max_bytes_ || max_entries_ == 0) return;
    entries_.emplace_front(key, std::move(value));
    index_[key] = entries_.begin();
    bytes_ += size;
    while (entries_.size() > max_entries_ || bytes_ > max_bytes_) erase(entries_.back().first);
  }

  /// Removes `key` when present.
  void erase(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    bytes_ -= cost(it->second->first, it->second->second);
    entries_.erase(it->second);
    index_.erase(it);
  }

  std::size_t size() const { return entries_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  static constexpr std::size_t kOverhead = 96;  ///< list node, hash node, pointers (bytes)
  std::size_t cost(const std::string& key, const V& value) const {
    return kOverhead + 2 * key.size() + bytes_of_(value);
  }

  std::size_t max_entries_, max_bytes_;
  std::function<std::size_t(const V&)> bytes_of_;
  std::list<std::pair<std::string, V>> entries_;  ///< most recently used first
  std::unordered_map<std::string, typename std::list<std::pair<std::string, V>>::iterator> index_;
  std::size_t bytes_ = 0;
};

}  // namespace loket::core
