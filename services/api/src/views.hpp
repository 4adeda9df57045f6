#pragma once
#include <string>
#include <vector>

#include "loket/core/json.hpp"
#include "loket/store/access.hpp"
#include "loket/store/store.hpp"
#include "loket/store/tickets.hpp"

/// The JSON shapes the API returns (seed 002, issue 3). The agent's ticket and message objects are
/// the ones ticket.events carry (events::write_json), so the app reads one shape from REST and
/// realtime; the requester's view leaves out what only agents see. Pure, thread-safe.
namespace loket::api {

/// The ticket object (agent view).
std::string ticket_json(const store::Ticket& t);
/// The message object (agent view): with ticketId, internal and delivery.
std::string message_json(const store::Message& m);
/// Attachment metadata: {id, filename, contentType, size, status, createdAt}.
std::string attachment_json(const store::Attachment& a);
/// One message as the requester sees it: {id, seq, authorType, authorName, body, createdAt,
/// attachments}, store::kStatusLinkPlaceholder replaced by `status_link`. Callers skip notes.
void write_public_message(core::JsonWriter& w, const store::Message& m, const std::string& status_link);
/// A ticket's status as requesters and integrators' public clients see it: a snooze is the
/// team's own reminder, so a snoozed ticket shows as `open` (issue 21).
inline std::string public_status(const std::string& status) { return status == "snoozed" ? "open" : status; }
/// The requester's view of a ticket (seed 002 "View a ticket"): number, subject, status,
/// createdAt, csat and the non-internal messages, each without ticketId, internal and delivery,
/// with store::kStatusLinkPlaceholder replaced by `status_link` (the requester's own link).
std::string public_ticket_json(const store::Ticket& t, const std::vector<store::Message>& messages,
                               const std::string& status_link);
/// The requester's rating of `t`: {"csat": null | {score, comment}}.
std::string csat_json(const store::Ticket& t);
/// A workspace's settings: {id, name, createdAt, autoReply, requireSignedWebhooks,
/// inboundEmailAddress} (the last: `inbound_email`, null when email in is not configured).
std::string workspace_json(const store::Workspace& w, const std::optional<std::string>& inbound_email);
/// An agent without its password hash: {id, email, name, role, active, availability (online |
/// away: what the agent set), lastSeenAt, createdAt}.
std::string agent_json(const store::Agent& a);
/// An API key without its secret: {id, name, prefix, createdAt, createdBy, lastUsedAt, revokedAt}.
std::string api_key_json(const store::ApiKey& k);

}  // namespace loket::api
