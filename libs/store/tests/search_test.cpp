#include <catch2/catch.hpp>

#include <stdexcept>

#include "loket/store/search.hpp"

using loket::store::word_condition;
using loket::store::WordCondition;
using Kind = WordCondition::Kind;

namespace {
// The condition as a compact expression: words bare, & | ! and parentheses; "*" for kAny.
std::string show(const WordCondition& c) {
  switch (c.kind) {
    case Kind::kAny:
      return "*";
    case Kind::kWord:
      return c.word;
    case Kind::kAnd:
      return "(" + show(c.parts[0]) + " & " + show(c.parts[1]) + ")";
    case Kind::kOr:
      return "(" + show(c.parts[0]) + " | " + show(c.parts[1]) + ")";
    case Kind::kNot:
      return "!" + show(c.parts[0]);
  }
  return "?";
}

// `query`'s condition is `shown`, exact or only necessary.
void check(const std::string& query, const std::string& shown, bool exact) {
  INFO(query);
  auto c = word_condition(query);
  CHECK(show(c) == shown);
  CHECK(c.exact == exact);
}
}  // namespace

TEST_CASE("words, exclusions and or are exact conditions on the ticket's words") {
  check("'courier' & !'refund'", "('courier' & !'refund')", true);
  check("'paket' | 'zebra' & '42'", "('paket' | ('zebra' & '42'))", true);
  check("!'refund'", "!'refund'", true);
  check("( 'a' | 'b' ) & !( 'c' | 'd' )", "(('a' | 'b') & !('c' | 'd'))", true);
}

TEST_CASE("a phrase needs its words, and positions checked afterwards") {
  check("'lost' <-> 'parcel'", "('lost' & 'parcel')", false);
  check("'lost' <2> 'parcel' | 'x'", "(('lost' & 'parcel') | 'x')", false);
  // A negation inside a phrase says nothing about the ticket's words ...
  check("!'a' <-> 'b'", "'b'", false);
  check("'a' <-> !'b'", "'a'", false);
  check("( 'a' | !'b' ) <-> 'c'", "'c'", false);
  // ... and a negated phrase is no condition at all (its words may well be there).
  check("'x' & !( 'lost' <-> 'parcel' )", "'x'", false);
}

TEST_CASE("operands keep PostgreSQL's quoting, prefix marks and weights") {
  CHECK(word_condition("'it''s'").word == "'it''s'");
  CHECK(word_condition("'back\\\\slash'").word == "'back\\\\slash'");
  check("'pre':* & 'w':AB", "('pre':* & 'w':AB)", true);
}

TEST_CASE("a query without words is no condition, other text is refused") {
  CHECK(word_condition("").kind == Kind::kAny);
  CHECK(word_condition("").exact);
  CHECK_THROWS_AS(word_condition("courier"), std::invalid_argument);
  CHECK_THROWS_AS(word_condition("'open"), std::invalid_argument);
  CHECK_THROWS_AS(word_condition("( 'a' & 'b'"), std::invalid_argument);
  CHECK_THROWS_AS(word_condition("'a' 'b'"), std::invalid_argument);
}

TEST_CASE("hostile nesting and length are refused, not recursed into (issue 15, found by fuzz_text)") {
  // 3,000 open parentheses overflowed the stack before the depth cap.
  CHECK_THROWS_AS(word_condition(std::string(3000, '(') + "'a'" + std::string(3000, ')')), std::invalid_argument);
  CHECK_THROWS_AS(word_condition(std::string(3000, '!') + "'a'"), std::invalid_argument);
  // As deep as PostgreSQL prints a real query is fine.
  CHECK(word_condition(std::string(20, '(') + "'a'" + std::string(20, ')')).word == "'a'");
  // A left-deep chain is as deep as it is long: bounded by a count of operands.
  std::string chain = "'a'";
  for (int i = 0; i < 5000; ++i) chain += " & 'a'";
  CHECK_THROWS_AS(word_condition(chain), std::invalid_argument);
  std::string fine = "'a'";
  for (int i = 0; i < 63; ++i) fine += " | 'b'";
  CHECK(word_condition(fine).kind == Kind::kOr);
}
