#pragma once
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "loket/store/tickets.hpp"

/// The API channel's contacts and conversations (issue 18; docs/channels/api-channel.md): the
/// integrator's users, known by its own ids, and their tickets in one API inbox.
namespace loket::store {

/// One of the integrator's users in an API inbox.
struct ApiContact {
  std::string id, workspace_id, integration_id;
  std::string source_id;  ///< the integrator's id for the user (unique per inbox)
  std::optional<std::string> name, email, phone;
  std::string created_at;
};

/// Creates the contact `source_id` of inbox `integration_id`, or fetches it; given details
/// (name, email, phone) replace the stored ones. Returns the contact and whether it was new.
/// Concurrent calls for one source id end with one contact.
std::pair<ApiContact, bool> upsert_api_contact(pqxx::work& tx, const ApiContact& c);

/// Contact `source_id` of inbox `integration_id`, or nullopt.
std::optional<ApiContact> find_api_contact(pqxx::transaction_base& tx, const std::string& integration_id,
                                           const std::string& source_id);

/// The contact's conversations (tickets of the inbox whose thread is the contact), newest
/// first, at most `limit`.
std::vector<Ticket> api_conversations(pqxx::transaction_base& tx, const ApiContact& c, int limit);

/// Conversation `ticket_id` of the contact, or nullopt when it is not theirs.
std::optional<Ticket> api_conversation(pqxx::transaction_base& tx, const ApiContact& c, const std::string& ticket_id);

/// The contact's latest conversation that is not closed, or nullopt.
std::optional<Ticket> latest_open_api_conversation(pqxx::transaction_base& tx, const ApiContact& c);

}  // namespace loket::store
