#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "ingress.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/providers/registry.hpp"
#include "loket/store/mailboxes.hpp"

/// The mailbox importer (issue 16, seed 004 "Setting up email"): ingress's second way in. Every
/// connected integration whose provider imports a mailbox (ProviderDescriptor::mailbox) is
/// polled by exactly one ingress replica at a time (a lease in PostgreSQL); its new mail is
/// published raw to `channel.webhook.<Mailbox::webhook()>` like a webhook, so one pipeline
/// serves every source of mail, and the cursor (UIDVALIDITY + last UID, RFC 3501) advances only
/// after the broker acknowledged. Nothing is deleted; flags stay as they were unless the
/// workspace asked for `markSeen`. docs/channels/email.md.
namespace loket::ingress {

/// Settings (LOKET_MAILBOX_POLL_MS).
struct MailboxOptions {
  std::chrono::milliseconds interval{10000};  ///< between polls of one mailbox (new mail within ~2×)
  std::chrono::seconds lease{60};             ///< a replica's hold on a mailbox, renewed as it imports
  int mailboxes_per_round = 20;               ///< leases taken per round
  std::size_t messages_per_round = 1000;      ///< per mailbox and round; the rest next round
  std::size_t batch = 100;                    ///< messages published before the cursor moves
};

/// Imports mail of the mailboxes this replica leases. Thread-compatible: one thread runs it.
class MailboxImporter {
 public:
  /// `owner` names this replica in leases (host:port: unique per replica, and the same after a
  /// restart in place, so a killed replica resumes its mailboxes at once).
  MailboxImporter(store::Pool& pool, Publish publish, const crypto::Keyring& keys, const providers::Registry& providers,
                  MailboxOptions options, std::string owner);
  /// One round: takes or renews leases and imports what is new in each leased mailbox (up to
  /// a stop run() was asked for, between batches). Returns
  /// the messages published. Failures are recorded on the mailbox (and, when permanent, on the
  /// integration as status `error`), logged and counted; never thrown.
  std::size_t poll_once();
  /// poll_once() every options.interval until `stop()`, then lets go of the leases.
  void run(const std::function<bool()>& stop);

 private:
  std::size_t import(const store::MailboxLease& lease, const providers::Adapter& adapter);
  bool publish_all(const std::vector<std::pair<std::string, std::string>>& records);

  store::Pool& pool_;
  Publish publish_;
  const crypto::Keyring& keys_;
  const providers::Registry& providers_;
  MailboxOptions options_;
  std::string owner_;
  std::function<bool()> stop_ = [] { return false; };
  /// A mailbox session kept between rounds (one IMAP login per mailbox, not one per poll).
  struct Open {
    std::string credentials;  ///< the ciphertext it was opened with: new credentials, new session
    std::unique_ptr<providers::Mailbox> box;
  };
  /// By integration id; only mailboxes leased in the last round (so at most mailboxes_per_round
  /// per provider); dropped on any failure.
  std::map<std::string, Open> open_;
};

}  // namespace loket::ingress
