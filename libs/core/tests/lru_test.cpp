// core::LruMap: the bounds hold whatever is put, and the least recently used goes first.
#include <catch2/catch.hpp>

#include "loket/core/lru.hpp"

using loket::core::LruMap;

TEST_CASE("an LRU map keeps its entry bound, evicting the least recently used") {
  LruMap<int> m(3, 1 << 20, [](const int&) { return std::size_t{4}; });
  m.put("a", 1);
  m.put("b", 2);
  m.put("c", 3);
  REQUIRE(m.find("a"));  // a is now the most recent; b the least
  m.put("d", 4);
  CHECK(m.size() == 3);
  CHECK(m.find("b") == nullptr);
  CHECK(*m.find("a") == 1);
  CHECK(*m.find("d") == 4);
  m.put("a", 10);  // replacing keeps one entry
  CHECK(m.size() == 3);
  CHECK(*m.find("a") == 10);
  m.erase("a");
  CHECK(m.find("a") == nullptr);
  CHECK(m.size() == 2);
}

TEST_CASE("an LRU map keeps its byte bound: a flood of large keys cannot grow it") {
  LruMap<std::string> m(100000, 64 * 1024, [](const std::string& v) { return v.size(); });
  const std::string huge_key(1 << 20, 'k');  // a 1 MB routing key, as an attacker sent
  m.put(huge_key, "x");
  CHECK(m.size() == 0);  // larger than the whole bound: not kept
  for (int i = 0; i < 10000; ++i) m.put(std::to_string(i) + std::string(1000, 'x'), std::string(100, 'v'));
  CHECK(m.bytes() <= 64 * 1024);
  CHECK(m.size() < 60);
  CHECK(m.find("9999" + std::string(1000, 'x')) != nullptr);  // the newest stays
  CHECK(m.find("0" + std::string(1000, 'x')) == nullptr);
}
