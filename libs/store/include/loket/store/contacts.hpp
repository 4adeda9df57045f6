#pragma once
#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "loket/store/tickets.hpp"

/// Contacts (issue 20; migration 0026): one person across channels. Every ticket's requester is
/// linked to a contact when the ticket is created; an email address, phone number or channel
/// identity seen before in the workspace links to the same contact. Agents search, read, annotate
/// and merge contacts, and reply to one of a contact's tickets on another of their channels.
namespace loket::store {

/// How a contact is recognised.
struct ContactIdentity {
  /// "email" (value lower-cased), "phone" (E.164), or a channel whose thread id names the person
  /// (providers::ChannelDescriptor::person_thread: value = the thread id, e.g. a Telegram chat).
  std::string kind, value;
  std::optional<std::string> integration_id;  ///< for a channel identity: where it was last seen
  std::string created_at;
};

/// A contact. A merged one keeps only its id, timestamps and `merged_into_id`.
struct Contact {
  std::string id, workspace_id, notes, created_at, updated_at;
  std::optional<std::string> name, merged_into_id;
  std::string attributes = "{}";            ///< custom attributes: a JSON object (the api bounds its size)
  std::vector<ContactIdentity> identities;  ///< emails, then phones, then channels; each by value
  int ticket_count = 0;                     ///< tickets linked to it, any status
};

/// The identities of a new ticket's requester: its address (lower-cased), phone number and, on a
/// person-thread channel, its thread. Pure.
std::vector<ContactIdentity> identities_of(const NewTicket& t);

/// Links each ticket of `tickets` to a contact: the contact holding any of its identities
/// (channel before email before phone), else one made for it (named after its requester), and
/// records its identities no contact holds yet. Returns the contact id for each ticket (nullopt
/// for one without any identity). Four round trips, five when contacts are made. Takes an advisory
/// lock on each identity (so two transactions never make two contacts for one identity) and, shared,
/// on each workspace's contacts (so none is linked to a contact being merged away), until `tx` ends.
std::vector<std::optional<std::string>> link_contacts(pqxx::work& tx, const std::vector<NewTicket>& tickets);

/// Contacts of workspace `ws` not merged away, newest first: all, or when `q` is set those whose
/// name (or a word of it) starts with `q` or who have an identity starting with it (any case; a
/// phone number matches with or without spaces and '+'). `after` is the last id of the previous
/// page. At most `limit` (1–100).
std::vector<Contact> list_contacts(pqxx::transaction_base& tx, const std::string& ws, const std::string& q,
                                   const std::string& after, int limit);

/// Contact `id` of workspace `ws` with its identities and ticket count, or nullopt.
std::optional<Contact> load_contact(pqxx::transaction_base& tx, const std::string& ws, const std::string& id);

/// Saves `c`'s name, notes and attributes (a JSON object) and refreshes its updated_at.
void save_contact(pqxx::work& tx, Contact& c);

/// Merges each contact of `sources` into `target` (all of workspace `ws`, none merged away, none the
/// target): their identities and tickets move to `target`, whose name, notes and attributes are
/// completed from theirs (the target's own values win); each source keeps only `merged_into_id`,
/// as do contacts merged into it before. Emits `ticket.updated` (contactId) for every moved ticket.
/// Locks the workspace's contacts against ticket creation (link_contacts), so no ticket is linked to
/// a source meanwhile.
/// Returns the ids of the moved tickets.
std::vector<std::string> merge_contacts(pqxx::work& tx, const std::string& ws, const std::string& target,
                                        const std::vector<std::string>& sources);

/// Where a reply on ticket `t` goes when the agent picks `channel` instead of the ticket's own: the
/// ticket's route with the channel and the contact's address on it — its email for "email" (any
/// channel that replies by email), its phone number for a phone channel (WhatsApp), its thread and
/// that thread's integration for a person-thread channel — and, for a channel with a reply window,
/// the contact's last message there. nullopt when the contact has no such identity (or the ticket no
/// contact).
std::optional<Ticket> contact_route(pqxx::transaction_base& tx, const Ticket& t, const std::string& channel);

}  // namespace loket::store
