#include "loket/store/search.hpp"

#include <stdexcept>
#include <utility>

namespace loket::store {
namespace {

using Kind = WordCondition::Kind;

WordCondition any(bool exact) {
  WordCondition c;
  c.exact = exact;
  return c;
}

// A node over `parts`, moved in: a braced list would copy each whole subtree (initializer_list
// elements are const), which made building a long chain quadratic.
WordCondition node(Kind kind, std::vector<WordCondition> parts, bool exact) {
  WordCondition c;
  c.kind = kind;
  c.parts = std::move(parts);
  c.exact = exact;
  return c;
}

WordCondition pair(Kind kind, WordCondition a, WordCondition b, bool exact) {
  std::vector<WordCondition> parts;
  parts.reserve(2);
  parts.push_back(std::move(a));
  parts.push_back(std::move(b));
  return node(kind, std::move(parts), exact);
}

WordCondition both(WordCondition a, WordCondition b) {
  bool exact = a.exact && b.exact;
  if (a.kind == Kind::kAny) std::swap(a, b);
  if (b.kind == Kind::kAny) {
    a.exact = exact;
    return a;
  }
  return pair(Kind::kAnd, std::move(a), std::move(b), exact);
}

WordCondition either(WordCondition a, WordCondition b) {
  bool exact = a.exact && b.exact;
  if (a.kind == Kind::kAny || b.kind == Kind::kAny) return any(exact);
  return pair(Kind::kOr, std::move(a), std::move(b), exact);
}

// Recursive descent over PostgreSQL's printed tsquery; priorities as in its output:
// | below & below phrase operators below !. Nesting and operands are capped (far above what a
// search of kMaxSearchWords words prints), so hostile text cannot recurse the stack away, here or
// in the callers that walk the tree.
class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  WordCondition parse() {
    skip();
    if (i_ == s_.size()) return any(true);
    WordCondition c = alternatives(false);
    if (i_ != s_.size()) fail("unexpected text");
    return c;
  }

 private:
  // `in_phrase`: a negation there says nothing about the ticket's words (`a <-> !b`).
  WordCondition alternatives(bool in_phrase) {
    WordCondition c = conjunction(in_phrase);
    while (take('|')) c = either(std::move(c), conjunction(in_phrase));
    return c;
  }

  WordCondition conjunction(bool in_phrase) {
    WordCondition c = phrase(in_phrase);
    while (take('&')) c = both(std::move(c), phrase(in_phrase));
    return c;
  }

  WordCondition phrase(bool in_phrase) {
    WordCondition c = unary(in_phrase);
    while (peek() == '<') {
      std::size_t close = s_.find('>', i_);
      if (close == std::string_view::npos) fail("unterminated phrase operator");
      i_ = close + 1;
      skip();
      if (!in_phrase) c = necessary(std::move(c));  // the left operand, seen as part of a phrase
      c = both(std::move(c), unary(true));
      c.exact = false;
    }
    return c;
  }

  // A phrase's first operand, parsed before its phrase operator was seen: what it negates no
  // longer constrains the ticket.
  static WordCondition necessary(WordCondition c) {
    switch (c.kind) {
      case Kind::kNot:
        return any(false);
      case Kind::kAnd:
        return both(necessary(std::move(c.parts[0])), necessary(std::move(c.parts[1])));
      case Kind::kOr:
        return either(necessary(std::move(c.parts[0])), necessary(std::move(c.parts[1])));
      default:
        return c;
    }
  }

  WordCondition unary(bool in_phrase) {
    struct Level {
      Parser& p;
      explicit Level(Parser& parser) : p(parser) {
        if (++p.depth_ > kMaxDepth) p.fail("nested too deeply");
      }
      ~Level() { --p.depth_; }
    } level(*this);
    if (take('!')) {
      WordCondition inner = unary(in_phrase);
      if (in_phrase || !inner.exact || inner.kind == Kind::kAny) return any(false);
      std::vector<WordCondition> parts;
      parts.push_back(std::move(inner));
      return node(Kind::kNot, std::move(parts), true);
    }
    if (take('(')) {
      WordCondition c = alternatives(in_phrase);
      if (!take(')')) fail("missing )");
      return c;
    }
    return operand();
  }

  WordCondition operand() {
    if (++operands_ > kMaxOperands) fail("too many operands");
    if (peek() != '\'') fail("expected a quoted lexeme");
    std::size_t start = i_++;
    for (;; ++i_) {
      if (i_ >= s_.size()) fail("unterminated lexeme");
      if (s_[i_] == '\\' || (s_[i_] == '\'' && i_ + 1 < s_.size() && s_[i_ + 1] == '\'')) {
        ++i_;  // the escaped character
        continue;
      }
      if (s_[i_] == '\'') break;
    }
    ++i_;
    if (i_ < s_.size() && s_[i_] == ':')
      while (++i_ < s_.size() && (s_[i_] == '*' || (s_[i_] >= 'A' && s_[i_] <= 'D'))) {
      }
    WordCondition c{Kind::kWord, std::string(s_.substr(start, i_ - start)), {}, true};
    skip();
    return c;
  }

  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool take(char c) {
    if (peek() != c) return false;
    ++i_;
    skip();
    return true;
  }
  void skip() {
    while (i_ < s_.size() && s_[i_] == ' ') ++i_;
  }
  [[noreturn]] void fail(const char* what) const {
    throw std::invalid_argument(std::string("tsquery text: ") + what + " at " + std::to_string(i_));
  }

  static constexpr int kMaxDepth = 32, kMaxOperands = 256;

  std::string_view s_;
  std::size_t i_ = 0;
  int depth_ = 0, operands_ = 0;
};

}  // namespace

WordCondition word_condition(std::string_view tsquery_text) { return Parser(tsquery_text).parse(); }

}  // namespace loket::store
