#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "loket/core/json.hpp"

/// The records that travel between services (DESIGN.md "Topics and events"); each has a JSON
/// Schema in proto/. Serialization is camelCase JSON with `eventId` and `schemaVersion`.
namespace loket::events {

inline constexpr int kSchemaVersion = 1;

/// What the record readers accept: up to 64 MiB (an email of the largest size ingress takes,
/// 25 MiB, base64 once as its source and once as its parts) nested up to 64 levels; bytes that
/// are not UTF-8 are kept (the writer makes text storable).
inline constexpr core::JsonLimits kRecordLimits{64u << 20, 64, false};

/// A provider webhook exactly as ingress received it (topic `channel.webhook.<provider>`).
struct RawWebhook {
  std::string event_id;        ///< `evt_…`
  std::string provider;        ///< the adapter's descriptor().webhook, e.g. `telegram`
  std::string integration_id;  ///< resolved by ingress from the URL
  std::string workspace_id;    ///< owner of the integration
  std::string routing_key;     ///< the identity ingress routed on when the URL does not name the
                               ///< integration (WhatsApp Cloud phone_number_id); "" otherwise
  std::int64_t received_at_ms = 0;
  std::map<std::string, std::string> headers;  ///< selected headers (never the secret ones)
  std::string query;                           ///< raw query string
  std::string content_type;
  std::string body;  ///< raw body bytes, any bytes (base64 with `bodyEncoding` on the wire when not UTF-8 text)
};

/// An attachment of an inbound message: fetched by the writer from the provider, or carried
/// whole when the message itself contains it (an email's parts).
struct AttachmentRef {
  std::string external_ref;  ///< provider file reference: Telegram file_id, Twilio media URL,
                             ///< Graph media id; "part:<n>" for an email's n-th part
  std::string filename;
  std::string content_type;  ///< may be empty when the provider does not say
  std::int64_t size = 0;     ///< bytes, 0 when unknown
  std::string data;          ///< the bytes when carried (base64 `data` on the wire); "" = fetch
};

/// What a message says about the ticket it answers, beyond its thread id (email threading,
/// issue 16 "Threading both ways"); the writer tries them in this order.
struct ThreadHints {
  std::int64_t ticket_number = 0;       ///< from a reply address whose signature verified; 0 = none
  std::vector<std::string> references;  ///< Message-IDs answered: In-Reply-To, then References newest first
  std::int64_t subject_number = 0;      ///< "[#<n>]" in the subject; counts only for that ticket's requester
  bool empty() const { return ticket_number == 0 && references.empty() && subject_number == 0; }
};

/// The customer who sent a message.
struct Sender {
  std::string external_id;  ///< provider user id
  std::string name;
  std::string handle;  ///< @username, without '@'
  std::string phone;   ///< E.164
  std::string email;
};

/// One normalized customer message (topic `channel.inbound`).
struct InboundMessage {
  std::string event_id;
  std::string integration_id;
  std::string workspace_id;
  std::string provider;             ///< the adapter's descriptor().webhook, e.g. `telegram`
  std::string channel;              ///< ticket channel (providers::channels()), e.g. `whatsapp`
  std::string external_thread_id;   ///< chat id / phone / email thread
  std::string external_message_id;  ///< dedup key, unique per integration
  Sender sender;
  std::string subject;  ///< the conversation's own subject (email's Subject), "" when the channel has none
  std::string text;
  std::vector<AttachmentRef> attachments;
  std::int64_t sent_at_ms = 0;
  std::string quoted_text;      ///< what was trimmed from `text` (quoted history, signature); kept, shown apart
  std::vector<std::string> cc;  ///< other recipients the sender copied (email Cc addresses)
  /// Why no automatic answer or notification may go to this message ("auto-submitted",
  /// "precedence", "list-id", … as mime::ParsedEmail::automated); "" when a person wrote it.
  std::string automated;
  /// Written by the business itself outside Loket (an Instagram message a person sent from the
  /// Instagram app: Meta's echo), in the conversation with `sender` (the customer). Stored as
  /// an agent message; it reopens nothing, sends nothing and answers nothing.
  bool from_business = false;
  ThreadHints thread_hints;
  std::string source;  ///< the original message bytes (a raw email), kept downloadable; base64 on the wire
};

/// A provider's late verdict on a message we sent (topic `channel.inbound`, `kind`
/// "delivery_receipt"): only failures are carried, e.g. WhatsApp's 24-hour window refusals,
/// which Meta and Twilio report after accepting the send.
struct DeliveryReceipt {
  std::string event_id;
  std::string integration_id;
  std::string workspace_id;
  std::string provider;             ///< the adapter's descriptor().webhook, e.g. `twilio`
  std::string recipient;            ///< E.164 number the message went to (Kafka key)
  std::string external_message_id;  ///< the provider id stored on the message when sent
  std::string status;               ///< "failed"
  std::string error;                ///< the provider's reason, shown to the agent
  std::int64_t at_ms = 0;
  /// The Message-ID Loket sent the failed mail with, as a bounce quotes it (without angle
  /// brackets, e.g. "tmsg_…@mail.example"); when set, it names what failed instead of
  /// integration + external_message_id.
  std::string sent_message_id;
};

/// A record a consumer can never process (topic `<topic>.dlq`, e.g. `channel.inbound.dlq`):
/// the original record exactly as consumed, why it failed, and who gave up on it. Put back on
/// `topic` by `loket-admin redrive` after a fix.
struct DeadLetter {
  std::string event_id;
  std::string topic;  ///< where the record was consumed from
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;     ///< the original record value, byte for byte
  std::string error;     ///< the permanent failure, as the consumer saw it
  std::string consumer;  ///< the consumer group that gave up, e.g. "loket-writer"
  std::int64_t failed_at_ms = 0;
};

/// A delivery to try again later (topic `outbound.retry`), or given up on after its attempts
/// (topic `outbound.dlq`): the `ticket.events` record it is about, unchanged, with the attempt
/// it is for and why the last one failed.
struct DeliveryRetry {
  std::string event_id;
  int attempt = 1;                 ///< the attempt this record is for (1-based)
  std::int64_t not_before_ms = 0;  ///< do not try before (epoch ms); 0 in outbound.dlq
  std::string last_error;
  std::string event;  ///< the ticket.events record, a JSON object's text
  /// Which delivery of the event this is: "" for the customer's (reply, requester email), or
  /// "team:<integrationId>" for one team chat's notification (issue 18), retried on its own.
  std::string target;
};

/// JSON text of `w` / `m` / `r` / `l` / `d`.
std::string to_json(const RawWebhook& w);
std::string to_json(const InboundMessage& m);
std::string to_json(const DeliveryReceipt& r);
std::string to_json(const DeadLetter& l);
/// `d.event` must be a JSON object's text (it is embedded as is).
std::string to_json(const DeliveryRetry& d);

/// Whether a `channel.inbound` record value is a DeliveryReceipt (else an InboundMessage).
bool is_delivery_receipt(const std::string& json);

/// Parses JSON made by to_json(). @throws std::invalid_argument naming the missing field.
RawWebhook raw_webhook_from_json(const std::string& json);
InboundMessage inbound_message_from_json(const std::string& json);
DeliveryReceipt delivery_receipt_from_json(const std::string& json);
DeadLetter dead_letter_from_json(const std::string& json);
DeliveryRetry delivery_retry_from_json(const std::string& json);

/// The dead-letter topic of `topic`: `<topic>.dlq`.
std::string dead_letter_topic(const std::string& topic);

/// The Kafka key for a conversation thread: "<integrationId>:<threadId>", so one thread
/// stays on one partition.
std::string thread_key(const std::string& integration_id, const std::string& thread_id);

}  // namespace loket::events
