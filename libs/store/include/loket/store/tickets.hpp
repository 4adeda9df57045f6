#pragma once
#include <pqxx/pqxx>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "loket/crypto/crypto.hpp"
#include "loket/events/events.hpp"
#include "loket/events/ticket_events.hpp"
#include "loket/store/store.hpp"

/// Tickets and messages: rows and the writes that every
/// path shares (DESIGN.md "Threading"). Every function takes the caller's transaction and
/// writes its domain events to the outbox in it.
namespace loket::store {

/// Ticket statuses, in the seeds' words.
inline bool is_valid_status(const std::string& s) {
  return s == "open" || s == "pending" || s == "snoozed" || s == "resolved" || s == "closed";
}

/// The subject for a new ticket from its first message: the first non-empty line, trimmed
/// and cut to 120 characters (code points), or "<label> inquiry" with the channel's label
/// (providers::channel_label, e.g. "Telegram inquiry") when the text is empty. Pure.
std::string subject_from_text(const std::string& text, const std::string& channel);

/// The ticket, attachment and message records are the ones ticket.events carry.
using Ticket = events::Ticket;
using Attachment = events::Attachment;
using Message = events::Message;

/// Loads ticket `id` of `workspace_id` (nullopt for another workspace's id). `for_update`
/// locks the row.
std::optional<Ticket> load_ticket(pqxx::transaction_base& tx, const std::string& workspace_id, const std::string& id,
                                  bool for_update = false);

/// Orders of the ticket list. Creation order is ticket-number order.
/// kSlaDue: the earliest running SLA due time first (tickets without one last), issue 21.
enum class TicketSort { kCreatedDesc, kCreatedAsc, kUpdatedDesc, kUpdatedAsc, kSlaDue };

/// A filtered, sorted page request over a workspace's tickets (issue 3 "Tickets").
struct TicketQuery {
  std::vector<std::string> statuses;       ///< any of these ("" none = all)
  std::string channel;                     ///< "" = any
  std::optional<std::string> assignee_id;  ///< "none" = unassigned
  std::string requester;                   ///< exact email (any case) or phone or name
  std::string tag;                         ///< has this tag
  std::string inbox_id;                    ///< "" = any
  std::optional<std::string> team_id;      ///< "none" = no team
  std::string contact_id;                  ///< "" = any
  std::string sla_state;                   ///< "" = any; at_risk | breached (issue 21)
  /// When set, only tickets of inboxes this agent is a member of (directly or through a team):
  /// the access rule for role `agent` (issue 20).
  std::optional<std::string> visible_to;
  std::string text;  ///< full-text search (websearch syntax)
  std::optional<std::string> created_after, created_before, updated_after,
      updated_before;  ///< RFC 3339, inclusive/exclusive
  TicketSort sort = TicketSort::kCreatedDesc;
  /// Keyset cursor: the last row of the previous page (number, updated_at — for kSlaDue the SLA
  /// due time — in µs since the epoch) and, for kUpdatedAsc, the snapshot bound taken on the first page.
  std::optional<std::int64_t> after_number, after_updated_us, snapshot_us;
  long limit = 25;
};

/// A ticket with the keyset of its position in a list.
struct ListedTicket {
  Ticket ticket;
  std::int64_t updated_us = 0;  ///< updated_at (kSlaDue: the SLA due time) in µs since the epoch, for cursors
};

/// One page of tickets matching `q` (at most q.limit rows; ask for one more to learn whether
/// another page exists). Keyset pagination on (number) or (updated_at, number): a ticket
/// created or updated while a client walks the pages is returned at most once (for
/// kUpdatedAsc via the snapshot bound). Returns also the snapshot time to pass on. One query.
std::vector<ListedTicket> list_tickets(pqxx::transaction_base& tx, const std::string& workspace_id,
                                       const TicketQuery& q);

/// The database clock in µs since the epoch (the snapshot bound of a first page).
std::int64_t now_us(pqxx::transaction_base& tx);

/// A requester thread: the unit the writer serializes on.
struct ThreadKey {
  std::string workspace_id;
  std::string channel;
  std::string thread_id;  ///< the provider's thread identity (chat id, E.164 phone, email thread)
  auto operator<=>(const ThreadKey&) const = default;
};

/// The latest non-closed ticket of each of `threads` that has one, locked (FOR UPDATE) unless
/// `lock` is false (a probe in a read-only transaction), in one round trip (two when some keys
/// are kTicketThread). Threads without an open ticket are absent from the result.
std::map<ThreadKey, Ticket> find_open_threads(pqxx::transaction_base& tx, const std::vector<ThreadKey>& threads,
                                              bool lock = true);

/// What a batch's messages did to one ticket.
struct ThreadTouch {
  std::string integration_id;       ///< the integration the conversation went through last ("" = keep)
  std::int64_t customer_at_ms = 0;  ///< when the customer last wrote in the batch (0: only the business did)
};

/// Records a batch's channel messages on their tickets in one statement: for each ticket id of
/// `touches`, `integration_id` set to the integration written through last (replies go out
/// through it), `updated_at` = now(), and when the customer wrote, `customer_message_at` (never
/// moved back; it opens the reply window again) with the window warning re-armed. One row version
/// per ticket and batch keeps the ticket's indexes from churning per message.
void touch_thread_tickets(pqxx::work& tx, const std::map<std::string, ThreadTouch>& touches);

/// The ticket of `workspace_id` an inbound message answers, by its thread hints in issue 16's
/// order ("Threading both ways"): the ticket number of a verified reply address; else the first
/// Message-ID it answers (In-Reply-To, then References newest first) that Loket sent
/// (`<ticket-<ticketId>@…>`, `<csat-<ticketId>@…>`, `<tmsg_…@…>`: ids nobody can guess) or
/// received in this workspace (an inbound message's external id); else "[#n]" in the subject
/// when `sender_email` is that ticket's requester (case-insensitive). The first hint that
/// names a ticket decides: std::nullopt when none does, or when that ticket is closed (a closed
/// ticket is never reopened by a reply; a new one starts). Indexed lookups only: one per hint, two
/// per Message-ID, at most providers::email::kMaxReferences Message-IDs.
std::optional<std::string> find_replied_ticket(pqxx::transaction_base& tx, const std::string& workspace_id,
                                               const events::ThreadHints& hints, const std::string& sender_email);

/// The thread key of messages the writer appends to one known ticket (find_replied_ticket):
/// channel kTicketThread, thread id the ticket id. find_open_threads() finds such a key's ticket
/// while it is not closed.
inline constexpr const char* kTicketThread = "#ticket";

/// The latest non-closed ticket of requester `email` in workspace `workspace_id`, locked (FOR
/// UPDATE): the one a sender over the hourly limit (sender_ticket_counts()) joins instead of
/// opening one more; std::nullopt when all their tickets are closed (a closed ticket is never
/// reopened).
std::optional<Ticket> sender_latest_ticket(pqxx::transaction_base& tx, const std::string& workspace_id,
                                           const std::string& email);

/// A requester of a workspace: {workspace id, email in lower case}.
using Sender = std::pair<std::string, std::string>;

/// How many tickets each of `senders` (emails in lower case) opened in its workspace in the last
/// hour, counted up to `limit` (so the answer is min(count, limit)); one statement for a batch.
std::map<Sender, int> sender_ticket_counts(pqxx::transaction_base& tx, const std::set<Sender>& senders, int limit);

/// Serializes the writers of the requester threads `threads` for the rest of `tx` (one
/// advisory lock each, taken in one statement and in one global order, so two writers locking
/// overlapping sets never deadlock), so concurrent deliveries never create two tickets.
/// Repeated keys are locked once. Thread-safe as far as `tx` is used by one thread.
void lock_threads(pqxx::transaction_base& tx, const std::vector<ThreadKey>& threads);

/// Fields of a new ticket.
struct NewTicket {
  std::string workspace_id, subject, channel, priority = "normal";
  std::optional<std::string> integration_id, external_thread_id, requester_name, requester_email, requester_phone;
  /// The inbox (issue 20); when absent, the integration's inbox, else the workspace's default inbox.
  std::optional<std::string> inbox_id = std::nullopt;
  /// Whether the inbox's auto-assignment may assign it (false when the caller assigns it).
  bool auto_assign = true;
};

/// Inserts a ticket with the workspace's next number (never reused), status `open`, and emits
/// `ticket.created`; then auto-assigns it when its inbox does (store::auto_assign, `ticket.updated`). Every ticket gets
/// a requester access token (256 random bits, base64url): its SHA-256 is stored for lookup and the token itself
/// encrypted with `keys` (AAD = ticket id) so emails can carry the status link; the plaintext is written to
/// `access_token` when given.
Ticket create_ticket(pqxx::work& tx, const NewTicket& t, const crypto::Keyring& keys,
                     std::string* access_token = nullptr);

/// create_ticket() for many tickets at once (a writer's batch): one INSERT, numbers increasing in
/// the order of `tickets`, `ticket.created` emitted in that order. Numbers come from `allocated`
/// (allocate_ticket_numbers() for these `tickets`) when given; otherwise one allocation per
/// workspace is made in `tx`, and those workspace rows stay locked until `tx` ends, so ticket
/// creation in a workspace runs one transaction at a time (no gaps). Returns the tickets in the
/// order given.
std::vector<Ticket> create_tickets(pqxx::work& tx, const std::vector<NewTicket>& tickets, const crypto::Keyring& keys,
                                   std::vector<std::string>* access_tokens = nullptr,
                                   const std::map<std::string, std::int64_t>* allocated = nullptr);

/// Allocates ticket numbers for `tickets` in a short transaction of its own on a connection of
/// `pool` (so no workspace row stays locked while the tickets are written): per workspace, the
/// first of as many consecutive numbers as it has tickets there, for create_tickets(). Numbers
/// are never handed out twice; a transaction that fails after this leaves a gap. Must be called
/// while the caller's own transaction is open and before it commits (that commit makes this one
/// durable, see the source). Thread-safe.
/// @throws pqxx::failure when the database fails; PoolExhausted when no connection comes free.
std::map<std::string, std::int64_t> allocate_ticket_numbers(Pool& pool, const std::vector<NewTicket>& tickets);

/// The ticket whose access token is `token` (any workspace), found by the token's SHA-256, or
/// std::nullopt. Tokens longer than 100 characters are refused without a lookup.
std::optional<Ticket> find_by_access_token(pqxx::transaction_base& tx, const std::string& token);

/// The plaintext access token of `ticket_id` ("" for tickets created before tokens existed).
/// @throws std::runtime_error when `keys` cannot decrypt it.
std::string access_token_of(pqxx::transaction_base& tx, const std::string& ticket_id, const crypto::Keyring& keys);

/// Records the requester's rating `score` (1–5) and `comment` on `t` (updating it) and emits
/// `csat.recorded`. The first rating may be changed for 24 hours (a mis-tap); after that it
/// stands and this returns false, changing nothing. The caller checks that `t` is resolved or
/// closed.
bool record_csat(pqxx::work& tx, Ticket& t, int score, const std::optional<std::string>& comment);

/// Whether a public reply on `t` can be delivered to the requester, per its channel's
/// providers::ReplyTo: a phone number, a chat (integration and thread), or an email address.
bool deliverable(const Ticket& t);

/// `text` with `{{ticket.number}}`, `{{ticket.subject}}`, `{{requester.name}}` and
/// `{{status_link}}` replaced.
std::string render_template(const std::string& text, const Ticket& t, const std::string& status_link);

/// What stands in a stored message for the requester's status link: the link carries the
/// requester's access token, which agents must not see (issue 15 finding 10). Outbound puts the
/// link in when it delivers; the requester's view when it shows the message.
inline constexpr const char* kStatusLinkPlaceholder = "{{status_link}}";

/// For each new ticket of `tickets` whose workspace has an auto-reply, or business hours (the
/// widget's) and is closed now, adds one public `system` message: the auto-reply (rendered, the
/// status link left as kStatusLinkPlaceholder), then the out-of-office text (out_of_office());
/// pending delivery when reply_goes_out(); emits `message.created`. Each workspace's settings
/// are read once and the replies written in one statement, in the order of `tickets`.
void add_auto_replies(pqxx::work& tx, const std::vector<Ticket>& tickets);

/// The out-of-office text at `now` for business hours `schedule_json` (libs/hours JSON): the
/// away message (a generic one when "") and "We are back on Monday at 09:00 WIB."; "" while
/// open or when the schedule does not parse.
std::string out_of_office(const std::string& schedule_json, const std::string& away_message,
                          std::chrono::system_clock::time_point now);

/// Whether an agent's or system reply on `t` is to be delivered on its channel now:
/// deliverable(t), except to a chat visitor who has the widget open (they read it there).
bool reply_goes_out(pqxx::transaction_base& tx, const Ticket& t);

/// Where attachment bytes live, behind one small interface so an object store can replace
/// PostgreSQL later. Implementations are thread-safe.
class BlobStore {
 public:
  virtual ~BlobStore() = default;
  /// Stores `bytes` for attachment `id` inside `tx`.
  virtual void put(pqxx::work& tx, const std::string& id, const std::string& bytes) = 0;
  /// The bytes of attachment `id`, or nullopt when none are stored.
  virtual std::optional<std::string> get(pqxx::transaction_base& tx, const std::string& id) = 0;
};

/// The default BlobStore: bytes in the attachments row (bytea).
BlobStore& postgres_blobs();

/// Stores an uploaded file not yet attached to a message (metadata with status `stored`).
Attachment store_upload(pqxx::work& tx, const std::string& workspace_id, const std::optional<std::string>& uploaded_by,
                        const std::string& filename, const std::string& content_type, const std::string& bytes);

/// A stored attachment's metadata and the ticket it belongs to (empty while unattached).
struct AttachmentRow {
  Attachment meta;
  std::string ticket_id;
  bool internal = false;  ///< on an internal note (never shown to the requester)
};
/// Attachment `id` of `workspace_id`, or nullopt.
std::optional<AttachmentRow> load_attachment(pqxx::transaction_base& tx, const std::string& workspace_id,
                                             const std::string& id);

/// Fields of a new message.
struct NewMessage {
  std::string author_type, author_name, body;
  bool internal = false;
  std::optional<std::string> integration_id, external_message_id, delivery_status;
  std::optional<std::string> quoted_text;  ///< trimmed from an email's body, kept
  std::vector<std::string> cc;             ///< addresses the requester copied
  std::optional<std::string> raw;          ///< the original message bytes (message/rfc822), kept downloadable
};

/// The original bytes of message `message_id` (on ticket `ticket_id` of `workspace_id`; internal
/// notes only when `include_internal`), or std::nullopt when the message is not there or kept
/// none.
std::optional<std::string> load_message_raw(pqxx::transaction_base& tx, const std::string& workspace_id,
                                            const std::string& ticket_id, const std::string& message_id,
                                            bool include_internal);

/// The Message-IDs of the requester's emails on ticket `ticket_id` (messages whose original is
/// kept, with a Message-ID of their own), oldest first, at most the last `limit`.
std::vector<std::string> requester_email_ids(pqxx::transaction_base& tx, const std::string& ticket_id,
                                             std::size_t limit);

/// A file to attach to a new message.
struct NewAttachment {
  std::string filename, content_type, external_ref;
  std::optional<std::string> data;  ///< nullopt when the provider could not serve it
  std::int64_t size = 0;
};

/// Inserts a message (and attachments) on `ticket`, adds its words to the ticket's search
/// vector, emits `message.created` (with the route outbound needs) unless `emit` is false (the
/// caller emits it after linking uploads with emit_message_created), and returns it.
Message add_message(pqxx::work& tx, const Ticket& ticket, const NewMessage& m,
                    const std::vector<NewAttachment>& files = {}, bool emit = true);

/// A message for add_messages: its ticket (as the message.created route should show it), the
/// message, its files.
struct BatchMessage {
  Ticket ticket;
  NewMessage message;
  std::vector<NewAttachment> files;
};

/// Inserts the messages of `batch` in one statement (created_at increasing in batch order; their
/// words indexed with them), then their attachments, then emits `message.created` for each, in
/// order. Returns the stored messages, in order.
/// @throws pqxx exceptions on database failure.
std::vector<Message> add_messages(pqxx::work& tx, const std::vector<BatchMessage>& batch);

/// Whether `text` is (part of) a public reply Loket sent, or is sending, on ticket `ticket_id` in
/// the last 15 minutes: the provider's echo of it (Instagram echoes each part of a long reply,
/// and may echo before outbound recorded the provider's message id). Messages stored from
/// echoes do not count, so a person repeating themselves in the provider's app is kept.
bool echoes_recent_reply(pqxx::transaction_base& tx, const std::string& ticket_id, const std::string& text);

/// Announces reply windows about to close (issue 19): for at most `limit` open tickets (the
/// customer waits) whose channel's window closes within `lead_ms` and has not closed yet, and
/// that were not announced since the customer last wrote, emits `ticket.reply_window_closing`
/// and marks them, in `tx` (FOR UPDATE SKIP LOCKED: several writers never announce one twice).
/// Returns how many were announced.
int announce_closing_windows(pqxx::work& tx, std::int64_t lead_ms, int limit);

/// Wakes up to `limit` snoozed tickets whose snoozed_until has come (issue 21 "Snooze"): each
/// goes to `open` with one `ticket.updated` (status snoozed → open, snoozedUntil → null), in `tx`.
/// Rows are taken FOR UPDATE SKIP LOCKED and re-checked, so with several writers and across
/// restarts each snooze wakes exactly once (the schedule is the row itself). Returns how many woke.
int wake_snoozed(pqxx::work& tx, int limit);

/// Emits `message.created` for `m` on `ticket`, routed by the ticket (give a copy whose `channel`
/// is "email" to send by email instead), with message tag `tag` ("" = none) and, for a reply sent
/// as an approved template, `message_template` (whose rendering is the message body).
void emit_message_created(pqxx::work& tx, const Ticket& ticket, const Message& m, const std::string& tag = "",
                          const std::optional<events::TemplateRef>& message_template = std::nullopt);

/// What merge_tickets refuses (what() says why: a source is the target, closed into another
/// ticket already, or not of the workspace).
struct MergeRefused : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// Merges each ticket of `sources` into `target` (issue 20 "Merge tickets"; all of its workspace,
/// locked here in id order): the sources' messages (with their attachments and originals) move to
/// the target, keeping `merged_from` and their time, numbered after the target's; each source is
/// closed with `merged_into_id` = target (and tickets merged into it before now point at the
/// target). Emits `ticket.updated` for every source (status, mergedIntoId) and for the target
/// (mergedTicketIds). Later customer messages on a source's thread land in the target
/// (find_open_threads, find_replied_ticket, find_by_access_token).
/// @throws MergeRefused.
void merge_tickets(pqxx::work& tx, Ticket& target, const std::vector<std::string>& sources);

/// Changes to a ticket; unset fields stay as they are.
struct TicketChanges {
  std::optional<std::string> status, priority, subject;
  std::optional<std::optional<std::string>> assignee_id;  ///< set to nullopt-inside to unassign
  /// Another inbox or team of the ticket's workspace (the caller checked it); null team = none.
  std::optional<std::optional<std::string>> inbox_id, team_id;
  /// Another contact of the workspace (store::merge_contacts).
  std::optional<std::optional<std::string>> contact_id;
  /// The ticket it was merged into (merge_tickets).
  std::optional<std::optional<std::string>> merged_into_id;
  /// When a snoozed ticket wakes (rfc3339_ms form; null: when the customer writes). Applies only
  /// while the ticket is or becomes `snoozed`; any other status clears it.
  std::optional<std::optional<std::string>> snoozed_until;
  std::optional<std::vector<std::string>> tags;
};

/// Applies `changes` to `ticket` in one UPDATE (stamping updated_at, and resolved_at when it
/// becomes resolved or closed), and emits one `ticket.updated` with every field that changed
/// as `{from, to}`; nothing when nothing changed. Updates `ticket` in place.
void update_ticket(pqxx::work& tx, Ticket& ticket, const TicketChanges& changes);

/// A public agent reply on `t` was stored: stamps first_response_at with now() unless it has one
/// (also in `t`) and ends a next-response wait of its SLA (refresh_sla).
void note_agent_reply(pqxx::work& tx, Ticket& t);

/// Moves `ticket` to `status` (update_ticket with only the status).
void set_status(pqxx::work& tx, Ticket& ticket, const std::string& status);

/// Attaches uploaded, not yet attached files `attachment_ids` of the workspace uploaded by
/// `uploader` (store_upload's `uploaded_by`) to `message` (and to its metadata). Returns false
/// (changing nothing the caller keeps: roll back) when an id is unknown, of another workspace or
/// uploader, or already attached.
bool link_attachments(pqxx::work& tx, const std::string& workspace_id, Message& message,
                      const std::vector<std::string>& attachment_ids, const std::string& uploader);

/// A message's provider identity: (integration id, external message id), the dedup key.
using MessageKey = std::pair<std::string, std::string>;

/// Which of `keys` are already stored, in one round trip (the unique index `messages_dedup`).
std::set<MessageKey> existing_messages(pqxx::transaction_base& tx, const std::vector<MessageKey>& keys);

/// The messages of `ticket_id` after sequence number `after_seq` (0: all), in time order (then
/// sequence order): the same as the order they were committed in, except that messages of tickets
/// merged into this one (merge_tickets) take their place in time though numbered after it;
/// internal notes only when `include_internal`.
std::vector<Message> load_messages(pqxx::transaction_base& tx, const std::string& ticket_id, bool include_internal,
                                   std::int64_t after_seq = 0);

}  // namespace loket::store
