#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace loket::store {

/// Which words a ticket must have, somewhere in its subject or messages, to match a full-text
/// query: the query's tree over word presence. Ticket words are indexed per document (the
/// subject, each message; migration 0005), and a ticket matches when its documents *together*
/// match, so `courier -refund` excludes a ticket any message of which says "refund".
struct WordCondition {
  enum class Kind {
    kAny,   ///< no condition on words
    kWord,  ///< the ticket has `word`
    kAnd,   ///< both of `parts`
    kOr,    ///< either of `parts`
    kNot,   ///< not `parts[0]`
  };
  Kind kind = Kind::kAny;
  /// kWord: the operand as PostgreSQL prints it, usable as a tsquery literal: 'lexeme' (quotes
  /// and backslashes doubled), then any :* prefix mark and weights.
  std::string word;
  std::vector<WordCondition> parts;
  /// false: only necessary, not sufficient — the query has phrases (`"lost parcel"`, <->, <N>),
  /// which need word positions, so each candidate must still be checked against the query.
  bool exact = true;
};

/// The word condition of a tsquery, from its text as PostgreSQL prints it
/// (`websearch_to_tsquery(...)::text`, e.g. `'courier' & !'refund'` or
/// `'lost' <-> 'parcel' | 'x'`). Phrase operators become kAnd of their operands' necessary
/// conditions (a negated operand inside a phrase, or a negated phrase, contributes kAny) and
/// make the result inexact. An empty text (a query without words) gives kAny, exact.
/// Throws std::invalid_argument on text that is not a printed tsquery, or nests `(` or `!` more
/// than 32 deep, or has more than 256 operands (the tree stays shallow enough for its callers to
/// walk recursively). Pure, thread-safe.
WordCondition word_condition(std::string_view tsquery_text);

}  // namespace loket::store
