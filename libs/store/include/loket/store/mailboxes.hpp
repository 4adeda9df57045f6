#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "loket/store/store.hpp"

/// Where the import of each workspace mailbox stands, and who imports it (issue 16; migration
/// 0010). UIDs follow RFC 3501: meaningful only under the folder's UIDVALIDITY.
namespace loket::store {

/// A mailbox an importer holds the lease of.
struct MailboxLease {
  Integration integration;  ///< credentials still encrypted
  std::string folder;       ///< the folder the cursor is for ("" before the first import)
  std::int64_t uidvalidity = 0;
  std::int64_t last_uid = 0;  ///< the highest UID published and acknowledged
};

/// Takes or renews, for `lease`, the leases of up to `limit` connected integrations of
/// `provider` whose lease is free, run out or already `owner`'s (least recently polled first;
/// rows other importers are taking are skipped, not waited for), making cursors for new ones.
std::vector<MailboxLease> lease_mailboxes(pqxx::work& tx, const std::string& provider, const std::string& owner,
                                          std::chrono::seconds lease, int limit);

/// Moves integration `id`'s cursor to `uidvalidity`/`last_uid` of `folder`, clears its error and
/// extends the lease by `lease`, only while `owner` holds it; false when the lease was lost
/// (stop importing: another importer has the mailbox).
bool advance_mailbox(pqxx::work& tx, const std::string& id, const std::string& owner, const std::string& folder,
                     std::int64_t uidvalidity, std::int64_t last_uid, std::chrono::seconds lease);

/// Records why importing integration `id` failed ("" = it did not), and that it was polled.
void record_mailbox_poll(pqxx::work& tx, const std::string& id, const std::string& owner, const std::string& error);

/// Lets go of every lease of `owner` (a stopping importer), so another takes them at once.
void release_mailboxes(pqxx::work& tx, const std::string& owner);

}  // namespace loket::store
