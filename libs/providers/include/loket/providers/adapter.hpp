#pragma once
#include <rapidjson/document.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loket/events/events.hpp"
#include "loket/events/ticket_events.hpp"
#include "loket/http/message.hpp"
#include "loket/mime/email.hpp"
#include "loket/providers/common.hpp"

/// What every provider implements (DESIGN.md "Layout and style": one folder per provider under
/// libs/providers/, all behind providers::Adapter, listed once in registry.cpp). Services hold
/// adapters and descriptors and never name a provider.
namespace loket::providers {

/// Configuration adapters read: every `LOKET_*` setting, so a provider's API base URL is
/// `LOKET_<KEY>_API_BASE` (tests and staging point them at local fakes) without the services
/// knowing which keys exist. Read-only after construction; thread-safe.
class Settings {
 public:
  Settings() = default;
  /// `values` maps full variable names (`LOKET_TELEGRAM_API_BASE`) to values.
  explicit Settings(std::map<std::string, std::string> values) : values_(std::move(values)) {}
  /// The value of `name`, or `fallback` when unset or empty.
  std::string get(const std::string& name, const std::string& fallback = "") const;
  /// `LOKET_<key>_API_BASE` without trailing '/', or `fallback` (e.g. key "TELEGRAM").
  std::string api_base(const std::string& key, const std::string& fallback) const;
  /// The public base URL of ingress as providers call it (`LOKET_PUBLIC_WEBHOOK_URL`, no trailing '/').
  std::string public_webhook_url() const;

 private:
  std::map<std::string, std::string> values_;
};

/// Every `LOKET_*` variable of the process environment.
Settings settings_from_env();

/// A request the adapter refuses, with the HTTP status to answer (400, 401, 403, 404), the
/// envelope's error code (`VALIDATION_ERROR`, `PROVIDER_REJECTED`, …) and a message that says
/// what to change.
class Refusal : public std::runtime_error {
 public:
  Refusal(int status, std::string code, const std::string& message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}
  /// A 400 VALIDATION_ERROR.
  static Refusal invalid(const std::string& message) { return Refusal(400, "VALIDATION_ERROR", message); }
  int status() const { return status_; }
  const std::string& code() const { return code_; }

 private:
  int status_;
  std::string code_;
};

/// The names of a provider, one place for all of them.
struct ProviderDescriptor {
  std::string name;          ///< the integration's `provider` in the API and the database: "telegram_bot"
  std::string webhook;       ///< RawWebhook.provider, topic suffix and metrics label: "telegram"; "" = no webhooks
  std::string channel;       ///< the ticket channel of its conversations: "telegram"; "" = sends email only
  std::string label;         ///< for people: "Telegram", "Twilio", "Meta", "Resend"
  std::string api_key;       ///< the `<KEY>` of its `LOKET_<KEY>_API_BASE`: "TELEGRAM", "GRAPH"
  bool sends_email = false;  ///< its integrations are a workspace's email sender (mailer())
  /// Loket makes one integration of it for every workspace (the email alias): it is not
  /// connected, listed or disconnected through /api/v1/channels.
  bool platform = false;
  /// Its integrations are mailboxes ingress imports from (Adapter::open_mailbox).
  bool mailbox = false;
  /// Its integrations are team chats told about new tickets and customer replies
  /// (Adapter::notify_team; Slack, Discord).
  bool team_notices = false;
  /// Its integrations are API-channel inboxes: the integrator's backend pushes messages in
  /// through the public client API (/api/v1/public/inboxes/…), and agents' public replies go
  /// out as signed webhooks to the inbox's webhookUrl (issue 18, seed 004).
  bool client_api = false;
};

/// What a team chat is told (issue 18, seed 000 "Slack notifications"): a new ticket, or a
/// customer's reply on one, or (issue 21) an SLA target at risk or breached. Texts are as the
/// customer wrote them; adapters escape them for their markup and cut them to their limits.
struct TeamNotice {
  enum class Kind { kNewTicket, kCustomerReply, kSlaWarning, kSlaBreached };
  Kind kind = Kind::kNewTicket;
  std::string workspace;    ///< the workspace's name
  std::int64_t number = 0;  ///< the ticket number
  std::string subject;      ///< the ticket's subject
  std::string requester;    ///< name, else address or number, else "A customer"
  std::string channel;      ///< the channel as people read it: "WhatsApp", "Email"
  std::string excerpt;      ///< the message, at most 500 characters (cut with "…")
  std::string link;         ///< the ticket in the agent app
  std::string occurred_at;  ///< RFC 3339 UTC
  std::string sla_target;   ///< SLA kinds: "first response", "next response" or "resolution"
  std::string due_at;       ///< SLA kinds: when the target is (was) due, e.g. "2026-11-02 14:00 UTC"
};

/// Where a provider's webhooks arrive on ingress.
struct WebhookEndpoint {
  std::string path;          ///< exact path, or with id_in_path the prefix before the integration id
  bool id_in_path = false;   ///< "/api/v1/webhooks/telegram/<integrationId>"
  bool handshake = false;    ///< GET is a verification handshake (Meta's hub.challenge)
  std::string method_hint;   ///< the 405 message for other methods
  int refused_status = 403;  ///< the answer when authenticate() fails (Telegram: 401)
  std::string refused_hint;  ///< what did not match, e.g. "X-Hub-Signature-256 does not match the app secret"
  /// Largest body taken (bytes; 413 above); 0 = ingress's LOKET_INGRESS_MAX_BODY_BYTES. Whole
  /// email messages need more than JSON webhooks.
  std::size_t max_body_bytes = 0;
};

/// How a webhook names the integration it is for.
enum class RouteBy {
  kIntegrationId,  ///< the URL carries the integration id
  kRoutingKey,     ///< a field of the body: the integration's routing key (number, phone_number_id)
  kSecretHash,     ///< SHA-256 of a secret the provider echoes (verify token)
};

/// One integration a webhook is for, as read from the request.
struct WebhookTarget {
  RouteBy by = RouteBy::kIntegrationId;
  std::string key;          ///< integration id, routing key or secret hash
  std::string thread;       ///< the conversation thread for the Kafka key ("" when none)
  std::string routing_key;  ///< RawWebhook.routing_key: which part of a shared body is this integration's
  /// The provider (descriptor name) whose integration `key` names, when it is not the adapter's
  /// own: Resend Receiving delivers mail for the email alias integrations. "" = the adapter's.
  std::string provider = "";
};

/// What ingress keeps about an integration to authenticate its webhooks.
struct WebhookSecrets {
  std::string secret_hash;  ///< SHA-256 of the webhook secret (URL secret, secret header, verify token)
  std::string signing_key;  ///< from signing_key(): auth token, app secret; "" when none
};

/// The answer to a verification handshake, and the secret hash it must match.
struct Handshake {
  std::string secret_hash;
  http::Response answer;
};

/// The public identity of an integration, as adapters see it (no database types).
struct IntegrationInfo {
  std::string id, workspace_id, provider, routing_key;
  std::string number;  ///< E.164, for phone-number identities
};

/// What connect() stores: credentials (encrypted by the caller), the webhook secret's hash,
/// and what the connect response shows once (`webhookUrl`, `verifyToken`, `note`).
struct Secrets {
  std::string credentials;
  std::string webhook_secret_hash;
  std::vector<std::pair<std::string, std::string>> shown;
};

/// An integration to store, as connect() validated it.
struct Connection {
  std::string routing_key;   ///< unique among live integrations of the provider
  std::string display_name;  ///< "@shop_bot", "WhatsApp +62…"
  std::string number;        ///< E.164 when the identity is a number: one workspace per number, across providers
  /// Builds the secrets from the previous credentials plaintext ("" for a new integration), so
  /// a reconnect keeps a webhook secret or verify token the provider already has.
  std::function<Secrets(const std::string& previous)> secrets;
  /// Where agents' public replies are POSTed as signed webhooks (descriptor().client_api); ""
  /// = none. Checked by the SSRF guard before it is returned.
  std::string reply_webhook_url;
  /// Registers the webhook with the provider once the integration id exists (status `pending`
  /// until then); empty when nothing is to register. @throws ProviderError.
  std::function<void(const std::string& integration_id)> activate;
};

/// How the public client API checks who a contact is (descriptor().client_api): the key an
/// `identifierHash` is the hex HMAC-SHA256 of the contact's source id under, and whether every
/// call must carry one.
struct ClientIdentity {
  std::string hmac_token;
  bool mandatory = false;
};

/// An agent's reply on a conversation channel (Telegram, WhatsApp, Instagram, VK).
struct OutgoingMessage {
  std::string to;    ///< the conversation: a chat id, an E.164 number, an Instagram-scoped or VK user id
  std::string text;  ///< the reply (adapters split it at their provider's limit)
  std::string
      message_id;   ///< Loket's id of the message: the idempotency key where the provider takes one (VK's random_id)
  std::string tag;  ///< a message tag that permits the send ("HUMAN_AGENT" on Instagram); "" = none
  /// Send this approved template (from Adapter::templates, filled by fill_template) instead of
  /// `text`, which is then only its rendering; absent for a free-form reply.
  std::optional<events::TemplateRef> message_template = std::nullopt;
};

/// A pre-approved message template an integration may send whatever its reply window
/// (WhatsApp's message templates, issue 19), as Adapter::templates lists it.
struct MessageTemplate {
  std::string id;                      ///< the provider's id: Twilio's Content SID, Meta's template id
  std::string name;                    ///< "order_update"
  std::string language;                ///< as the provider spells it: "en_US", "id"
  std::string category;                ///< "UTILITY", "MARKETING", "AUTHENTICATION"
  std::string text;                    ///< what the customer reads, with placeholders: "Hi {{1}}, order {{2}} shipped."
  std::vector<std::string> variables;  ///< placeholder names in the order a reply gives values: "1", "2"
};

/// The distinct placeholders `{{name}}` of template `text` (names of letters, digits and '_',
/// at most 32 characters; spaces inside the braces ignored): numbers in numeric order, then
/// other names in order of appearance. Pure.
std::vector<std::string> template_placeholders(std::string_view text);

/// `text` with every `{{name}}` of `variables` replaced by its value (others left as written). Pure.
std::string render_template(std::string_view text, const std::vector<std::pair<std::string, std::string>>& variables);

/// Fills template `t` with `values`, one per variable in order, as providers take them: each
/// 1 to 1,024 characters of valid UTF-8 without newlines, tabs or more than four spaces in a row
/// (Meta refuses those with error 132018). @throws Refusal (400) saying which value is wrong or
/// how many are expected.
events::TemplateRef fill_template(const MessageTemplate& t, const std::vector<std::string>& values);

/// One email, with threading headers (RFC 5322 §3.6.4).
struct Email {
  std::string from;  ///< "Name <address>" or an address
  std::string to;
  std::string subject, text, html, reply_to;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string idempotency_key;  ///< ≤ 256 characters; the same key never sends twice within 24 h
  std::vector<mime::OutgoingAttachment> attachments;  ///< sent with it (bounded by the caller)
};

/// Who sends an email and how: `provider` is the name recorded on deliveries.
struct Mailer {
  std::string provider;
  std::string from;  ///< a mailbox for the From header
  /// Sends; returns the provider's email id. @throws ProviderError.
  std::function<std::string(const Email&)> send;
};

/// One message of a mailbox folder, as listed before it is fetched.
struct MailboxMessage {
  std::uint64_t uid = 0;   ///< RFC 3501 UID, under the folder's UIDVALIDITY
  std::uint64_t size = 0;  ///< bytes (RFC822.SIZE)
  bool seen = false;       ///< had \Seen before Loket looked
};

/// A mailbox folder Loket imports mail from (a workspace's own IMAP mailbox), opened by
/// Adapter::open_mailbox. Not thread-safe: one importer owns it. Every call may throw
/// ProviderError (retryable: unreachable; permanent: login or folder refused).
class Mailbox {
 public:
  virtual ~Mailbox() = default;
  /// The folder imported, e.g. "INBOX".
  virtual const std::string& folder() const = 0;
  /// RawWebhook.provider its messages are published as: the provider whose normalize() reads a
  /// whole RFC 5322 message (the email alias's "email").
  virtual std::string webhook() const = 0;
  /// The largest message imported (bytes, LOKET_EMAIL_MAX_BYTES); larger ones are skipped and
  /// reported, never retried.
  virtual std::size_t max_message_bytes() const = 0;
  /// Selects the folder (again at every poll of a kept session: new mail and a changed
  /// UIDVALIDITY show); returns its UIDVALIDITY. Changes nothing in it.
  virtual std::uint64_t select() = 0;
  /// UIDs above `after`, ascending, at most `limit`.
  virtual std::vector<std::uint64_t> uids_after(std::uint64_t after, std::size_t limit) = 0;
  /// Size and \Seen of `uids` (at most 500 a call).
  virtual std::vector<MailboxMessage> info(const std::vector<std::uint64_t>& uids) = 0;
  /// The raw bytes of each of `messages` (at most 500) under `uidvalidity`, in their order;
  /// flags are left as they were unless the workspace asked for imported mail to be marked
  /// seen (one flag change for the whole call, not one per message).
  virtual std::vector<std::string> fetch(std::uint64_t uidvalidity, const std::vector<MailboxMessage>& messages) = 0;
};

/// One provider. Every method is const and thread-safe; default implementations mean "this
/// provider does not do that" (a receive-only or send-only provider overrides its part).
class Adapter {
 public:
  virtual ~Adapter() = default;
  virtual const ProviderDescriptor& descriptor() const = 0;

  // --- receiving: ingress and inbound ---

  /// Where its webhooks arrive; std::nullopt for providers that only send.
  virtual std::optional<WebhookEndpoint> webhook() const { return std::nullopt; }
  /// The integrations `req` is for, read without authenticating (routing needs nothing else);
  /// `path_id` is the id in the URL with WebhookEndpoint::id_in_path. None (an event Loket does
  /// not take, e.g. Resend's `email.sent`): ingress answers 2xx once authenticate() passes with
  /// empty secrets (platform webhooks), so the provider does not retry it. Pure.
  /// @throws Refusal (400) when the request is not this provider's webhook.
  virtual std::vector<WebhookTarget> route(const http::Request& req, std::string_view path_id) const;
  /// Whether `req` is authentic for an integration with `secrets`; `url` is the full URL the
  /// provider requested (public webhook base + target). Constant time over secrets. Pure.
  virtual bool authenticate(const http::Request& req, const std::string& url, const WebhookSecrets& secrets) const;
  /// The key authenticate() needs from an integration's decrypted credentials ("" when none).
  /// @throws std::invalid_argument for unreadable credentials.
  virtual std::string signing_key(const std::string& credentials) const;
  /// Whether an integration with these decrypted credentials has every webhook authenticated
  /// (a signature or a secret only the provider knows). False only where the provider allows an
  /// unsigned mode (the Cloud API without an app secret, seed 000); shown as `signatureVerified`
  /// and refused by workspaces that require signed webhooks (issue 15, finding 7). Pure.
  /// @throws std::invalid_argument for unreadable credentials.
  virtual bool verifies_webhooks(const std::string& credentials) const;
  /// The verification handshake of a GET to the webhook path. @throws Refusal (400).
  virtual Handshake handshake(const http::Request& req) const;
  /// The 2xx body the provider expects once webhook `req` is stored for an integration with
  /// `secrets` (VK's `ok`, or its confirmation string for a `confirmation` request);
  /// std::nullopt for Loket's `{"accepted":true,"eventId":…}`. Pure.
  virtual std::optional<http::Response> acknowledgement(const http::Request& req, const WebhookSecrets& secrets) const {
    (void)req;
    (void)secrets;
    return std::nullopt;
  }
  /// Fetches what a stored webhook only points at, before it is normalized (inbound): Resend
  /// Receiving's `email.received` names an email whose raw message this downloads and returns as
  /// the email alias's webhook (provider "email", body the RFC 5322 bytes), so one normalize()
  /// serves every source of mail. std::nullopt when `raw` is whole (every other provider).
  /// Blocking network I/O (bounded by timeouts and LOKET_EMAIL_MAX_BYTES).
  /// @throws ProviderError: retryable (unreachable, 408, 429, 5xx) or permanent (the email is
  /// gone, the key is refused, the message is too large: inbound dead-letters the record).
  virtual std::optional<events::RawWebhook> expand(const events::RawWebhook& raw) const {
    (void)raw;
    return std::nullopt;
  }
  /// Turns one stored webhook into messages, receipts and drop reasons. Pure; never throws.
  virtual Normalized normalize(const events::RawWebhook& raw) const;

  // --- connecting: api ---

  /// Validates the connect request body (fields as in docs/openapi.yaml) and the credentials
  /// live with the provider. @throws Refusal (400) for bad fields; ProviderError when the
  /// provider refuses (permanent) or cannot be reached (retryable).
  virtual Connection connect(const rapidjson::Value& body) const;
  /// Undoes what connect registered with the provider (best effort). @throws ProviderError.
  virtual void disconnect(const std::string& credentials) const;
  /// Extra public fields of an integration in API responses (`phoneNumberId`). Pure.
  virtual std::vector<std::pair<std::string, std::string>> public_fields(const IntegrationInfo& integ) const;

  // --- sending: outbound and writer ---

  /// Sends `msg` through the integration; returns the provider's message id as inbound
  /// messages carry it. @throws ProviderError (IntegrationGone when the token is revoked).
  virtual std::string send(const IntegrationInfo& integ, const std::string& credentials,
                           const OutgoingMessage& msg) const;
  /// The approved message templates of an integration (WhatsApp: the Cloud API number's WhatsApp
  /// Business Account, a Twilio account's Content API), only those Loket can fill (variables in
  /// the text alone: no media headers, header or button variables); std::nullopt when the
  /// provider has none. Blocking network I/O: 15 s a page, at most 10 pages.
  /// @throws Refusal (400) when the integration lacks what listing needs (a Cloud API number
  /// connected without wabaId); ProviderError when the provider refuses or cannot be reached.
  virtual std::optional<std::vector<MessageTemplate>> templates(const IntegrationInfo& integ,
                                                                const std::string& credentials) const {
    (void)integ;
    (void)credentials;
    return std::nullopt;
  }
  /// The display name of a customer a webhook names only by id (`sender_id`: an Instagram-
  /// scoped user id, a VK user id), looked up when their message opens a ticket; "" when the
  /// provider has no profile to ask. Blocking network I/O with a short timeout.
  /// @throws ProviderError (the caller keeps the message and goes on without a name).
  virtual std::string sender_name(const IntegrationInfo& integ, const std::string& credentials,
                                  const std::string& sender_id) const {
    (void)integ;
    (void)credentials;
    (void)sender_id;
    return "";
  }
  /// Downloads an attachment a normalized message referenced. @throws ProviderError.
  virtual std::string download(const IntegrationInfo& integ, const std::string& credentials,
                               const events::AttachmentRef& ref) const;
  /// The mailbox an integration with these decrypted credentials imports from (descriptor().
  /// mailbox); nullptr for other providers. @throws ProviderError when its host is refused.
  virtual std::unique_ptr<Mailbox> open_mailbox(const std::string& credentials) const {
    (void)credentials;
    return nullptr;
  }
  /// Posts `notice` to the team chat of an integration with these decrypted credentials
  /// (descriptor().team_notices); returns the provider's message id ("" when it gives none).
  /// Blocking, 5 s timeout. @throws IntegrationGone when the provider says the destination no
  /// longer exists; ProviderError otherwise (retryable: unreachable, 429 with its Retry-After,
  /// 5xx); std::logic_error for providers without team notices.
  virtual std::string notify_team(const std::string& credentials, const TeamNotice& notice) const;
  /// The identity check of an API-channel inbox with these decrypted credentials;
  /// std::nullopt for providers without a client API. @throws std::invalid_argument for
  /// unreadable credentials.
  virtual std::optional<ClientIdentity> client_identity(const std::string& credentials) const {
    (void)credentials;
    return std::nullopt;
  }
  /// The workspace's email sender from its credentials; std::nullopt when it sends no email.
  virtual std::optional<Mailer> mailer(const std::string& credentials) const;
  /// The platform's own email sender from Settings; std::nullopt when not configured.
  virtual std::optional<Mailer> platform_mailer() const { return std::nullopt; }
  /// Where customers reach workspace `workspace_id` through this platform provider (the email
  /// alias `<accountId>@<domain>`); std::nullopt when the provider is not a platform one or the
  /// operator has not configured it.
  virtual std::optional<std::string> platform_address(const std::string& workspace_id) const {
    (void)workspace_id;
    return std::nullopt;
  }
};

}  // namespace loket::providers
