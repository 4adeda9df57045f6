#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "loket/core/json.hpp"

/// The domain events of topic `ticket.events` (DESIGN.md "Topics and events"; one JSON Schema per
/// type in proto/ticket.events.<type>.schema.json) and the ticket and message records they carry.
/// A ticket or message object inside an event has exactly the seed 002 shape the agent API returns,
/// so realtime forwards events to the agents' app as they are.
namespace loket::events {

/// Attachment metadata (no bytes): an item of a message's `attachments`.
struct Attachment {
  std::string id, message_id, filename, content_type, status, created_at;  ///< status: stored | unavailable
  std::int64_t size = 0;                                                   ///< bytes
};

/// A message on a ticket, with its attachments and, for replies, its delivery state.
struct Message {
  std::string id, ticket_id, author_type, author_name, body, created_at;  ///< author_type: requester|agent|system
  bool internal = false;
  std::optional<std::string> delivery_status, delivery_error, delivered_at;  ///< status: pending|sent|failed|skipped
  std::vector<Attachment> attachments;
  std::optional<std::string> quoted_text;  ///< what was trimmed from an email's body (quoted history, signature)
  std::vector<std::string> cc;             ///< addresses the requester copied (email)
  bool has_raw = false;                    ///< the original message is kept (GET …/messages/:id/raw)
  std::int64_t seq = 0;  ///< 1, 2, … in the order the ticket's messages were committed (0: not stored yet)
  std::optional<std::string> merged_from;  ///< the ticket it was written on, when that was merged into this one
};

/// A ticket (seed 002 / issue 3 field names).
struct Ticket {
  std::string id, workspace_id, subject, status, priority, channel;
  std::int64_t number = 0;
  std::optional<std::string> integration_id, external_thread_id, requester_name, requester_email, requester_phone,
      assignee_id, first_response_at, resolved_at;
  /// The inbox the ticket is in (issue 20): who may see it. Null only after its inbox was deleted.
  std::optional<std::string> inbox_id;
  std::optional<std::string> team_id;  ///< the team it is routed to, or null
  /// The requester's contact (issue 20): null for tickets with no address, number or thread.
  std::optional<std::string> contact_id;
  /// The ticket this one was merged into (issue 20 "Merge tickets"): closed, its messages there.
  std::optional<std::string> merged_into_id;
  /// While `status` is `snoozed` (issue 21): when it wakes to `open` (RFC 3339), or null for
  /// "until the customer writes". Null in every other status.
  std::optional<std::string> snoozed_until;
  std::vector<std::string> tags;
  std::string created_at, updated_at;
  std::optional<int> csat_score;  ///< 1–5 once the requester rated
  std::optional<std::string> csat_comment;
  /// Channels whose provider takes a free-form reply only for a while after the customer's last
  /// message (WhatsApp, Instagram; issue 19): `replyWindow` {closesAt, tag: null | {name,
  /// closesAt}}, RFC 3339. Absent elsewhere, and before the customer has written.
  struct ReplyWindow {
    std::string closes_at;
    std::optional<std::string> tag, tag_closes_at;
  };
  std::optional<ReplyWindow> reply_window;
  /// Under an SLA policy (issue 21): the `sla` object as stored, JSON text {policyId,
  /// firstResponseDueAt, nextResponseDueAt, resolutionDueAt, paused, breaches}; absent: null.
  std::optional<std::string> sla;
};

/// Writes the ticket object {id, number, subject, status, …, csat} (the agent API's shape).
void write_json(core::JsonWriter& w, const Ticket& t);
/// Writes the attachment object {id, filename, contentType, size, status, createdAt}.
void write_json(core::JsonWriter& w, const Attachment& a);
/// Writes the agent's message object {id, ticketId, …, attachments, delivery}.
void write_json(core::JsonWriter& w, const Message& m);
/// Writes `t`'s csat: null, or {score, comment}.
void write_csat(core::JsonWriter& w, const Ticket& t);

/// `ticket.created`: a new ticket, as created.
struct TicketCreated {
  Ticket ticket;
};

/// One field's change in `ticket.updated`.
template <typename T>
struct Change {
  T from, to;
};

/// `ticket.updated`: the fields that changed (at least one), and the ticket after the change.
struct TicketUpdated {
  std::optional<Change<std::string>> status, priority, subject;
  std::optional<Change<std::optional<std::string>>> assignee_id;  ///< null = unassigned
  std::optional<Change<std::optional<std::string>>> inbox_id, team_id, contact_id;
  std::optional<Change<std::vector<std::string>>> tags;
  /// On a merge's target: the tickets merged into it (from: [], to: their ids).
  std::optional<Change<std::vector<std::string>>> merged_ticket_ids;
  /// On a merge's source: null → the target.
  std::optional<Change<std::optional<std::string>>> merged_into_id;
  /// Snoozing, a new wake time, or waking (→ null).
  std::optional<Change<std::optional<std::string>>> snoozed_until;
  Ticket ticket;
};

/// A provider's pre-approved message template filled in for one reply (WhatsApp templates,
/// issue 19): sent instead of free text, so it may go after the reply window closed.
struct TemplateRef {
  std::string id;        ///< the provider's id: Twilio's Content SID (HX…), Meta's template id
  std::string name;      ///< the template's name (Meta sends by name and language)
  std::string language;  ///< its language code as the provider spells it: "en_US", "id"
  /// Placeholder name → value, in the template's order ("1" → "Ana", or "customer_name" → "Ana").
  std::vector<std::pair<std::string, std::string>> variables;
};

/// Where a reply on a ticket goes (the ticket's channel and requester identities).
struct Route {
  std::string channel;  ///< the ticket's, or "email" for a reply sent by email instead (issue 19)
  std::optional<std::string> integration_id, external_thread_id, requester_email, requester_phone;
  /// A message tag that permits the reply after the channel's reply window (Instagram's
  /// "HUMAN_AGENT"); absent for none.
  std::optional<std::string> tag = std::nullopt;
  /// The approved template the reply is sent as (its text is the message body); absent for free text.
  std::optional<TemplateRef> message_template = std::nullopt;
};

/// `message.created`: a message on ticket number `ticket_number`, with its reply route.
struct MessageCreated {
  std::int64_t ticket_number = 0;
  Route route;
  Message message;
};

/// `message.delivery_updated`: a reply's delivery settled (sent, failed or skipped).
struct DeliveryUpdated {
  std::string message_id, provider, status;
  std::optional<std::string> error;
};

/// `csat.recorded`: the requester's rating.
struct CsatRecorded {
  int score = 0;  ///< 1–5
  std::optional<std::string> comment;
};

/// `transcript.requested`: someone asked for the conversation by email (issue 17: a chat visitor
/// from the widget). Outbound emails the public messages up to `through_seq` to `email`, once
/// per event (a redelivery is not a second email).
struct TranscriptRequested {
  std::string email;         ///< the recipient, lower-case
  std::int64_t through_seq;  ///< the conversation's last message sequence number when asked
  std::string requested_by;  ///< "visitor" (the widget) or "agent"
};

/// `integration.status_changed`: a channel or integration of the workspace changed status
/// (issue 18): connected (`active`), failing (`error`, with the reason), `disconnected`. Not
/// about a ticket: its envelope's `ticketId` is the integration id, the key that keeps one
/// integration's events in order.
struct IntegrationStatusChanged {
  std::string integration_id, provider, display_name, status;
  std::optional<std::string> previous_status;  ///< none for a new integration
  std::optional<std::string> last_error;       ///< why, for `error`
};

/// `ticket.reply_window_closing`: the customer waits for an answer and the ticket's reply window
/// (issue 19: WhatsApp, Instagram) closes at `closes_at` (RFC 3339), soon
/// (LOKET_REPLY_WINDOW_WARNING_MS before, default an hour); once per customer message, so agent
/// apps can warn.
struct ReplyWindowClosing {
  Ticket ticket;
  std::string closes_at;
};

/// `sla.warning` and `sla.breached` (issue 21, docs/sla.md): a target of the ticket's SLA policy
/// is at its warning point or past its due time. Once per ticket and target (each next-response
/// wait is its own).
struct SlaAlert {
  bool breached = false;  ///< sla.breached, else sla.warning
  Ticket ticket;
  std::string target;  ///< first_response | next_response | resolution
  std::string due_at;  ///< RFC 3339
};

/// One `ticket.events` record: the envelope and its typed `data`.
struct TicketEvent {
  using Data = std::variant<TicketCreated, TicketUpdated, MessageCreated, DeliveryUpdated, CsatRecorded,
                            TranscriptRequested, IntegrationStatusChanged, ReplyWindowClosing, SlaAlert>;
  std::string event_id;     ///< `evt_…`
  std::string occurred_at;  ///< RFC 3339 UTC with milliseconds
  std::string workspace_id, ticket_id;
  Data data;
  /// The `type` on the wire, e.g. "message.created".
  std::string type() const;
};

/// A new event about `ticket_id` with a fresh id and the current time.
TicketEvent new_ticket_event(std::string workspace_id, std::string ticket_id, TicketEvent::Data data);

/// JSON text of `e`: {eventId, schemaVersion, type, occurredAt, workspaceId, ticketId, data}.
std::string to_json(const TicketEvent& e);

/// A `ticket.events` record of a type this version does not know (written by a newer version):
/// consumers skip it rather than dead-letter it.
class UnknownEventType : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Parses a `ticket.events` record value.
/// @throws UnknownEventType for a `type` this version does not know; std::invalid_argument when it
/// is not a JSON object or lacks a field its type requires.
TicketEvent ticket_event_from_json(const std::string& json);

}  // namespace loket::events
