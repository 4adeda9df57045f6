// The auto-assignment decision (issue 20 "Fair auto-assignment"): round robin under capacity.
#include <catch2/catch.hpp>

#include <map>

#include "loket/store/assignment.hpp"

using loket::store::Candidate;
using loket::store::rotate;

namespace {
std::map<std::string, int> counts(const std::vector<std::optional<std::string>>& chosen) {
  std::map<std::string, int> out;
  for (const auto& c : chosen) ++out[c.value_or("(nobody)")];
  return out;
}
}  // namespace

TEST_CASE("round robin starts with whoever got a ticket longest ago and goes around", "[assignment]") {
  auto chosen = rotate({{"agt_b", 0, 300}, {"agt_a", 0, 100}, {"agt_c", 0, 0}}, 7, std::nullopt);
  std::vector<std::optional<std::string>> want{"agt_c", "agt_a", "agt_b", "agt_c", "agt_a", "agt_b", "agt_c"};
  CHECK(chosen == want);
  // Ties (nobody assigned yet) go by agent id, so every replica decides alike.
  CHECK(rotate({{"agt_z", 0, 0}, {"agt_y", 0, 0}}, 1, std::nullopt)[0] == "agt_y");
}

TEST_CASE("capacity is never exceeded: 1,000 tickets over 10 agents of capacity 100 give each exactly 100",
          "[assignment]") {
  std::vector<Candidate> team;
  for (int i = 0; i < 10; ++i) team.push_back({"agt_" + std::to_string(i), 0, 0});
  auto full = counts(rotate(team, 1000, 100));
  REQUIRE(full.size() == 10);
  for (const auto& [agent, n] : full) CHECK(n == 100);
  // One more finds nobody.
  auto over = counts(rotate(team, 1001, 100));
  CHECK(over["(nobody)"] == 1);
  // Agents already carrying tickets get only what is left under the cap.
  auto partial = counts(rotate({{"agt_a", 98, 0}, {"agt_b", 0, 1}}, 6, 100));
  CHECK(partial["agt_a"] == 2);
  CHECK(partial["agt_b"] == 4);
}

TEST_CASE("fairness at equal capacity: the spread is at most one ticket, for any count", "[assignment]") {
  std::vector<Candidate> team{{"agt_a", 0, 5}, {"agt_b", 0, 9}, {"agt_c", 0, 2}, {"agt_d", 0, 0}};
  for (std::size_t n = 0; n <= 50; ++n) {
    auto c = counts(rotate(team, n, 1000));
    int lo = n < 4 ? 0 : 1 << 30, hi = 0;
    for (const auto& [agent, k] : c) {
      lo = std::min(lo, k);
      hi = std::max(hi, k);
    }
    INFO(n);
    CHECK(hi - lo <= 1);
  }
}

TEST_CASE("nobody online, or everyone full, leaves tickets unassigned", "[assignment]") {
  CHECK(rotate({}, 3, std::nullopt) == std::vector<std::optional<std::string>>(3));
  CHECK(rotate({{"agt_a", 5, 0}}, 2, 5) == std::vector<std::optional<std::string>>(2));
}
