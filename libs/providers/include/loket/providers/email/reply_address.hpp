#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "loket/crypto/crypto.hpp"

/// The reply address of a ticket, `reply+<token>@<LOKET_INBOUND_EMAIL_DOMAIN>` (issue 16
/// "Threading both ways": the first thing an inbound email is threaded by). The token names the
/// workspace and the ticket number and carries a MAC under the master keyring, so ingress can
/// route a reply without a lookup and a guessed or altered token names nothing.
namespace loket::providers::email {

/// The ticket a reply token names.
struct ReplyTarget {
  std::string account_id;   ///< "acc_" + 24 hex
  std::int64_t number = 0;  ///< the ticket's number in that workspace
};

/// The token for ticket `number` of workspace `account_id` (an id of core::new_id("acc")):
/// "<24 hex of the account>.<number>.<16 hex of MAC>", lowercase only (some MTAs lowercase
/// local parts) and at most 58 characters, so "reply+<token>" fits RFC 5321's 64-octet local
/// part. @throws std::invalid_argument for an account id of another form or a number outside
/// 1 to 9,999,999,999,999,999.
std::string reply_token(const crypto::Keyring& keys, std::string_view account_id, std::int64_t number);

/// What `token` names, or std::nullopt when it is malformed or its MAC verifies under no key of
/// `keys` (case-insensitive). Pure.
std::optional<ReplyTarget> read_reply_token(const crypto::Keyring& keys, std::string_view token);

/// The token of `address` when it is "reply+<token>@<domain>" (case-insensitive), else
/// std::nullopt. Pure.
std::optional<std::string> token_in_address(std::string_view address, std::string_view domain);

/// What a Message-ID of mail Loket sent names (email-notifications.md "Threading"): the ticket's
/// thread root (the received notice), its CSAT survey, or one message (a reply, the auto-reply).
/// Ticket and message ids are random, so a Message-ID nobody was sent cannot be guessed.
struct SentMail {
  enum class Kind { kReceivedNotice, kCsatSurvey, kMessage };
  Kind kind = Kind::kMessage;
  std::string id;  ///< ticket id (kReceivedNotice, kCsatSurvey) or message id (kMessage)
};

/// The Message-ID (with angle brackets) of `mail` sent from `domain`:
/// "<ticket-<ticketId>@domain>", "<csat-<ticketId>@domain>", "<<messageId>@domain>".
std::string sent_message_id(const SentMail& mail, std::string_view domain);

/// What Message-ID `message_id` (with or without angle brackets, any domain) names when it has
/// one of sent_message_id()'s forms with a well-formed id ("tkt_"/"tmsg_" + 24 hex), else
/// std::nullopt. Pure.
std::optional<SentMail> read_sent_message_id(std::string_view message_id);

}  // namespace loket::providers::email
