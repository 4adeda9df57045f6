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
    case Kind::kAny: return "*";
    case Kind::kWord: return c.word;
    case Kind::kAnd: return "(" + show(c.parts[0]) + " & " + show(c.parts[1]) + ")";
    case Kind::kOr: return "(" + show(c.parts[0]) + " | " + show(c.parts[1]) + ")";
    case Kind::kNot: return "!" + show(c.parts[0]);
  }
  return "?";
}
}  // namespace

TEST_CASE("words, exclusions and or are exact conditions on the ticket's words") {
  auto c = word_condition("'courier' & !'refund'");
  CHECK(show(c) == "('courier' & !'refund')");
  CHECK(c.exact);
  c = word_condition("'paket' | 'zebra' & '42'");
  CHECK(show(c) == "('paket' | ('zebra' & '42'))");
  CHECK(c.exact);
  c = word_condition("!'refund'");
  CHECK(show(c) == "!'refund'");
  CHECK(c.exact);
  c = word_condition("( 'a' | 'b' ) & !( 'c' | 'd' )");
  CHECK(show(c) == "(('a' | 'b') & !('c' | 'd'))");
  CHECK(c.exact);
}

TEST_CASE("a phrase needs its words, and positions checked afterwards") {
  auto c = word_condition("'lost' <-> 'parcel'");
  CHECK(show(c) == "('lost' & 'parcel')");
  CHECK_FALSE(c.exact);
  c = word_condition("'lost' <2> 'parcel' | 'x'");
  CHECK(show(c) == "(('lost' & 'parcel') | 'x')");
  CHECK_FALSE(c.exact);
  // A negation inside a phrase says nothing about the ticket's words ...
  CHECK(show(word_condition("!'a' <-> 'b'")) == "'b'");
  CHECK(show(word_condition("'a' <-> !'b'")) == "'a'");
  CHECK(show(word_condition("( 'a' | !'b' ) <-> 'c'")) == "'c'");
  // ... and a negated phrase is no condition at all (its words may well be there).
  c = word_condition("'x' & !( 'lost' <-> 'parcel' )");
  CHECK(show(c) == "'x'");
  CHECK_FALSE(c.exact);
}

TEST_CASE("operands keep PostgreSQL's quoting, prefix marks and weights") {
  CHECK(word_condition("'it''s'").word == "'it''s'");
  CHECK(word_condition("'back\\\\slash'").word == "'back\\\\slash'");
  CHECK(show(word_condition("'pre':* & 'w':AB")) == "('pre':* & 'w':AB)");
}

TEST_CASE("a query without words is no condition, other text is refused") {
  CHECK(word_condition("").kind == Kind::kAny);
  CHECK(word_condition("").exact);
  CHECK_THROWS_AS(word_condition("courier"), std::invalid_argument);
  CHECK_THROWS_AS(word_condition("'open"), std::invalid_argument);
  CHECK_THROWS_AS(word_condition("( 'a' & 'b'"), std::invalid_argument);
  CHECK_THROWS_AS(word_condition("'a' 'b'"), std::invalid_argument);
}
