#pragma once
#include <optional>
#include <string>

#include "loket/crypto/crypto.hpp"
#include "loket/providers/registry.hpp"
#include "loket/store/store.hpp"

/// Requester email (issue 5, seed 000 "Email notifications"): who sends, what the emails say,
/// and the headers that thread them in the customer's mail client.
namespace loket::outbound {

/// Settings (LOKET_PUBLIC_APP_URL, LOKET_INBOUND_EMAIL_DOMAIN, LOKET_EMAIL_ATTACHMENTS_MAX_BYTES);
/// the platform's own sender is its adapter's (providers::Adapter::platform_mailer).
struct EmailOptions {
  std::string public_app_url = "http://127.0.0.1:8080";  ///< base of status links /t/<token>
  std::string inbound_domain;                            ///< Reply-To reply+<token>@<domain>; "" = no Reply-To
  /// The most an agent's files may add up to on one email (bytes, before base64); past it they
  /// are listed with the status link instead. 10 MiB: base64 makes ~13.3 MiB, under the 20–25 MB
  /// that Gmail, Outlook and most servers take.
  std::size_t max_attachment_bytes = 10u << 20;
};

/// Who sends a workspace's emails: the mailer of `workspace_mailer` (the workspace's most recently
/// connected integration whose provider sends email, providers::Registry::mailer_names) when it
/// has credentials, else the platform's, or std::nullopt when neither exists (emails are then
/// recorded as skipped). @throws std::runtime_error when stored credentials do not decrypt.
std::optional<providers::Mailer> sender_for(const std::optional<store::Integration>& workspace_mailer,
                                            const crypto::Keyring& keys, const providers::Registry& providers);

/// What an email about a ticket needs.
struct TicketMail {
  std::string ticket_id, workspace_id, subject, status, channel, requester_email, requester_name;
  std::string integration_id;  ///< the integration the customer wrote through, "" for none
  std::int64_t number = 0;
  std::string access_token;  ///< for the status link
  std::string reply_token;   ///< for Reply-To: providers::email::reply_token()
  /// Message-IDs of the requester's emails on the ticket, oldest first (store::requester_email_ids),
  /// so a reply answers the latest and References carries the conversation.
  std::vector<std::string> requester_message_ids;
};

/// The integration a ticket's emails go out through: the ticket's own when its provider sends
/// email (mail that came in through a workspace's own mailbox is answered from that mailbox),
/// else the workspace's most recently connected email sender (Registry::mailer_names), else
/// std::nullopt (sender_for() then takes the platform's).
std::optional<store::Integration> mail_integration(pqxx::transaction_base& tx, const TicketMail& t,
                                                   const providers::Registry& providers);

/// Loads ticket `ticket_id` of `workspace_id` for mailing to `to` (a reply's route: an address of
/// the requester's contact, issue 20) or else to its requester email; std::nullopt when there is
/// neither. @throws std::runtime_error when its access token does not decrypt.
std::optional<TicketMail> load_ticket_mail(pqxx::transaction_base& tx, const std::string& workspace_id,
                                           const std::string& ticket_id, const crypto::Keyring& keys,
                                           const std::optional<std::string>& to = std::nullopt);

/// An agent's files on a reply, as the email carries them.
struct ReplyFiles {
  std::vector<mime::OutgoingAttachment> attached;  ///< sent with the email
  std::vector<events::Attachment> linked;          ///< too large together: listed, on the status page
};

/// The files `files` of a reply (their bytes from store::postgres_blobs()): all attached when
/// the stored ones add up to at most `max_bytes`, else all linked (one email never carries some
/// and not others). Files a provider could not serve (status `unavailable`) are left out.
ReplyFiles load_reply_files(pqxx::transaction_base& tx, const std::vector<events::Attachment>& files,
                            std::size_t max_bytes);

/// Puts `files` on `email`: attaches what is attached, and lists what is linked ("name (size)")
/// under the status link `link` in the text and HTML bodies. Pure.
void add_files(providers::Email& email, ReplyFiles files, const std::string& link);

/// Kinds of requester email.
enum class MailKind {
  kReceived,    ///< "we received your request" (automatic)
  kReply,       ///< an agent's public reply
  kAutoReply,   ///< a public message no person wrote (the workspace's auto-reply)
  kCsatSurvey,  ///< the satisfaction survey (automatic)
  kTranscript,  ///< the conversation so far, which the requester asked for (`text`: transcript_text())
};

/// The transcript of a conversation as an email's text (issue 17): each public message with
/// seq ≤ `through_seq`, oldest first, as "<author> — <YYYY-MM-DD HH:MM> UTC", its body and its
/// files by name and size, separated by blank lines; requester messages are headed "You".
/// Internal notes are never included; the status-link placeholder becomes `status_link`. When
/// the whole would pass `max_bytes`, the oldest messages are left out and a first line says the
/// rest is on the conversation's page. Pure.
std::string transcript_text(const std::vector<events::Message>& messages, std::int64_t through_seq,
                            std::size_t max_bytes, const std::string& status_link);

/// Composes one email. Pure. Threading (RFC 5322 §3.6.4): the ticket-received email's
/// Message-ID `<ticket-<ticketId>@<domain>>` is the thread root; replies (`<messageId@domain>`)
/// and the survey carry In-Reply-To and References to it, and subjects `Re: <subject> [#n]`.
/// Automatic mail carries `Auto-Submitted` (RFC 3834): auto-replied for the received notice and
/// auto-replies, auto-generated for the survey and the transcript. A transcript's
/// `message_id` is the requesting event's id (its Message-ID `<transcript-<eventId>@domain>`).
/// The domain is the From address's. Text and HTML bodies (HTML escaped); the status link
/// `public_app_url/t/<token>`; Reply-To `reply+<replyToken>@<inbound_domain>`; an
/// Idempotency-Key per email, so a resend after a crash is not a second email.
providers::Email compose(MailKind kind, const TicketMail& t, const providers::Mailer& s, const EmailOptions& opt,
                         const std::string& message_id = "", const std::string& author = "",
                         const std::string& text = "");

}  // namespace loket::outbound
