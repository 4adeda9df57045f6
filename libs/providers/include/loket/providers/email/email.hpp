#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "loket/crypto/crypto.hpp"
#include "loket/providers/adapter.hpp"

/// Email in (issue 16; seed 000 "Email-to-ticket", "How inbound routing works"): every workspace
/// receives mail at its alias `<accountId>@<LOKET_INBOUND_EMAIL_DOMAIN>` and at the signed reply
/// addresses of its tickets (reply_address.hpp). An MTA posts each message whole to
/// `POST /api/v1/webhooks/email/mime?recipient=<envelope recipient>` (Content-Type
/// message/rfc822, HTTP Basic with the password LOKET_EMAIL_INGRESS_PASSWORD). The alias is an
/// integration Loket makes for every workspace (descriptor().platform), so routing, dedup and
/// the writer treat it like any other (docs/channels/email.md).
namespace loket::providers::email {

inline constexpr const char* kProvider = "email_alias";  ///< integration provider of every alias
inline constexpr const char* kWebhook = "email";         ///< RawWebhook.provider, topic suffix
inline constexpr const char* kWebhookPath = "/api/v1/webhooks/email/mime";

/// The alias of workspace `account_id` on `domain`: "<account_id>@<domain>".
std::string alias_address(std::string_view account_id, std::string_view domain);

/// The workspace whose alias `address` is (case-insensitive; "acc_" + 24 hex at `domain`), or
/// std::nullopt. Pure.
std::optional<std::string> account_of_alias(std::string_view address, std::string_view domain);

/// The workspace (account id) mail to `recipient` is for: its alias on `domain`, or a reply
/// address of `domain` whose token verifies under `keys` (null: none does); std::nullopt
/// otherwise. Case-insensitive. Pure.
std::optional<std::string> workspace_of_recipient(std::string_view recipient, std::string_view domain,
                                                  const crypto::Keyring* keys);
/// LOKET_MASTER_KEY as the keyring reply addresses are signed with; null when unset or unreadable
/// (the services that sign with it refuse to start then anyway).
std::unique_ptr<crypto::Keyring> reply_keys(const Settings& settings);
/// The largest message the MIME ingress takes (bytes; 413 above), and LOKET_EMAIL_MAX_BYTES's
/// default and ceiling: what Gmail and Outlook send (25 MB, encoded). Its channel.inbound
/// record (source and parts, base64) stays within events::kRecordLimits.
inline constexpr std::size_t kMaxEmailBytes = 25u << 20;
/// LOKET_EMAIL_MAX_BYTES clamped to 1 KiB – kMaxEmailBytes (bytes); kMaxEmailBytes when unset.
/// @throws std::invalid_argument when it is set but not a number (the operator meant something).
std::size_t max_email_bytes(const Settings& settings);
inline constexpr std::size_t kMaxAttachments = 50;      ///< parts kept as attachments per email
inline constexpr std::size_t kMaxAddresses = 50;        ///< Cc addresses kept, recipients searched for a token
inline constexpr std::size_t kMaxReferences = 32;       ///< Message-IDs kept for threading
inline constexpr std::size_t kMaxMessageIdBytes = 256;  ///< longer Message-IDs are not matched

/// One raw message (RawWebhook.body) as a customer message: the sender from Reply-To, else From;
/// the subject; the new text with quoted history and signature trimmed (the trimmed part as
/// quoted_text); Cc; why it is automated; the parts as attachments carrying their bytes; the raw
/// bytes as source; Message-ID as the dedup key (SHA-256 of the bytes when absent); the thread
/// as the first Message-ID of References (else In-Reply-To, else its own). Thread hints: the
/// ticket number of a reply address (envelope recipient RawWebhook.routing_key, then To, then
/// Cc) whose MAC verifies under `keys` and that names this workspace (`keys` null: none); the
/// Message-IDs it answers; "[#n]" in the subject. Bounces and unreadable bytes are dropped and
/// counted. Pure; never throws.
Normalized normalize(const events::RawWebhook& raw, const crypto::Keyring* keys, std::string_view domain);

/// The ticket number of the last "[#<n>]" in `subject` (n = 1 to 15 digits, no leading zero), or 0.
std::int64_t ticket_number_in_subject(std::string_view subject);

/// The adapter: webhooks only when LOKET_INBOUND_EMAIL_DOMAIN and LOKET_EMAIL_INGRESS_PASSWORD
/// are set; reply addresses verified with LOKET_MASTER_KEY.
std::unique_ptr<Adapter> make_adapter(const Settings& settings);

}  // namespace loket::providers::email
