#pragma once
#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// Tickets and messages: rows, their API JSON (seed 002 shapes), and the writes that every
/// path shares (DESIGN.md "Threading"). Every function takes the caller's transaction and
/// writes its domain events to the outbox in it.
namespace loket::store {

/// Ticket statuses, in the seeds' words.
inline bool is_valid_status(const std::string& s) {
  return s == "open" || s == "pending" || s == "resolved" || s == "closed";
}

/// The subject for a new ticket from its first message: the first non-empty line, trimmed
/// and cut to 120 characters (code points), or "<Channel> inquiry" (e.g. "Telegram inquiry")
/// when the text is empty. Pure.
std::string subject_from_text(const std::string& text, const std::string& channel);

/// A ticket row.
struct Ticket {
  std::string id, workspace_id, subject, status, priority, channel;
  std::int64_t number = 0;
  std::optional<std::string> integration_id, external_thread_id, requester_name, requester_email,
      requester_phone, assignee_id, first_response_at, resolved_at;
  std::vector<std::string> tags;
  std::string created_at, updated_at;
};

/// Attachment metadata (no bytes).
struct Attachment {
  std::string id, message_id, filename, content_type, status, created_at;
  std::int64_t size = 0;
};

/// A message row with its attachments.
struct Message {
  std::string id, ticket_id, author_type, author_name, body, created_at;
  bool internal = false;
  std::optional<std::string> delivery_status, delivery_error, delivered_at;
  std::vector<Attachment> attachments;
};

/// Loads ticket `id` of `workspace_id` (nullopt for another workspace's id). `for_update`
/// locks the row.
std::optional<Ticket> load_ticket(pqxx::transaction_base& tx, const std::string& workspace_id,
                                  const std::string& id, bool for_update = false);

/// Up to `limit` tickets of `workspace_id`, newest first by number, optionally filtered by
/// `status` and `channel` ("" = any), with numbers below `before_number` (0 = from the newest).
/// Numbers only grow, so this cursor stays correct while tickets are being written. One query.
std::vector<Ticket> list_tickets(pqxx::transaction_base& tx, const std::string& workspace_id,
                                 const std::string& status, const std::string& channel,
                                 std::int64_t before_number, long limit);

/// The latest non-closed ticket of a requester thread, locked, or nullopt.
std::optional<Ticket> find_open_thread(pqxx::transaction_base& tx, const std::string& workspace_id,
                                       const std::string& channel, const std::string& thread_id);

/// Serializes the writers of one requester thread for the rest of `tx` (advisory lock), so
/// concurrent deliveries never create two tickets.
void lock_thread(pqxx::transaction_base& tx, const std::string& workspace_id,
                 const std::string& channel, const std::string& thread_id);

/// Fields of a new ticket.
struct NewTicket {
  std::string workspace_id, subject, channel, priority = "normal";
  std::optional<std::string> integration_id, external_thread_id, requester_name, requester_email,
      requester_phone;
};

/// Inserts a ticket with the workspace's next number (never reused), status `open`, and emits
/// `ticket.created`.
Ticket create_ticket(pqxx::work& tx, const NewTicket& t);

/// Fields of a new message.
struct NewMessage {
  std::string author_type, author_name, body;
  bool internal = false;
  std::optional<std::string> integration_id, external_message_id, delivery_status;
};

/// A file to attach to a new message.
struct NewAttachment {
  std::string filename, content_type, external_ref;
  std::optional<std::string> data;  ///< nullopt when the provider could not serve it
  std::int64_t size = 0;
};

/// Inserts a message (and attachments) on `ticket`, emits `message.created` (with the
/// route outbound needs), and returns it.
Message add_message(pqxx::work& tx, const Ticket& ticket, const NewMessage& m,
                    const std::vector<NewAttachment>& files = {});

/// Moves `ticket` to `status` (stamping resolved_at, updated_at) and emits `ticket.updated`
/// when it changed; updates `ticket` in place.
void set_status(pqxx::work& tx, Ticket& ticket, const std::string& status);

/// Whether a message with this provider identity is already stored.
bool message_exists(pqxx::transaction_base& tx, const std::string& integration_id,
                    const std::string& external_message_id);

/// The messages of `ticket_id`, oldest first; internal notes only when `include_internal`.
std::vector<Message> load_messages(pqxx::transaction_base& tx, const std::string& ticket_id,
                                   bool include_internal);

/// The ticket object JSON (seed 002 / issue 3 field names).
std::string ticket_json(const Ticket& t);
/// The message object JSON (seed 002), with attachment metadata and delivery status.
std::string message_json(const Message& m);

}  // namespace loket::store
