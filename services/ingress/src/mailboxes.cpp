#include "mailboxes.hpp"

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "loket/core/ids.hpp"
#include "loket/core/log.hpp"
#include "loket/core/time.hpp"
#include "loket/events/events.hpp"
#include "loket/kafka/kafka.hpp"
#include "loket/ops/metrics.hpp"
#include "loket/providers/error.hpp"

namespace loket::ingress {
namespace {
ops::Registry& registry() {
  static ops::Registry& r = []() -> ops::Registry& {
    auto& m = ops::metrics();
    m.describe("loket_mailbox_messages_total", ops::Registry::Type::kCounter,
               "Messages of workspace mailboxes, by outcome (imported, too_large: skipped and reported).");
    m.describe("loket_mailbox_polls_total", ops::Registry::Type::kCounter,
               "Mailbox polls, by outcome (ok, retryable, refused).");
    return m;
  }();
  return r;
}
}  // namespace

MailboxImporter::MailboxImporter(store::Pool& pool, Publish publish, const crypto::Keyring& keys,
                                 const providers::Registry& providers, MailboxOptions options, std::string owner)
    : pool_(pool),
      publish_(std::move(publish)),
      keys_(keys),
      providers_(providers),
      options_(options),
      owner_(std::move(owner)) {}

bool MailboxImporter::publish_all(const std::vector<std::pair<std::string, std::string>>& records) {
  // topic + key in first (separated by '\n'), value in second; every one acknowledged or false.
  std::mutex mu;
  std::condition_variable cv;
  std::size_t left = records.size();
  std::string error;
  for (const auto& [where, value] : records) {
    auto nl = where.find('\n');
    publish_(where.substr(0, nl), where.substr(nl + 1), value, [&](const std::string& err) {
      std::lock_guard lock(mu);
      if (!err.empty() && error.empty()) error = err;
      if (--left == 0) cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return left == 0; });
  if (!error.empty())
    core::log(core::Level::kWarn, "mailbox mail not acknowledged by the broker; the next poll retries",
              {{"error", error}});
  return error.empty();
}

std::size_t MailboxImporter::import(const store::MailboxLease& lease, const providers::Adapter& adapter) {
  const auto& integ = lease.integration;
  auto kept = open_.find(integ.id);
  if (kept == open_.end() || kept->second.credentials != integ.credentials) {
    open_.erase(integ.id);  // the old session (old credentials) goes first
    auto opened = adapter.open_mailbox(keys_.decrypt(integ.credentials, integ.credentials_key_id, integ.id));
    if (!opened) return 0;
    kept = open_.emplace(integ.id, Open{integ.credentials, std::move(opened)}).first;
  }
  auto& box = kept->second.box;
  const auto validity = static_cast<std::int64_t>(box->select());
  std::int64_t last = lease.last_uid;
  if (lease.folder != box->folder() || lease.uidvalidity != validity) {
    if (lease.uidvalidity != 0)  // the server renumbered the folder: read it again, dedup keeps each mail once
      core::log(core::Level::kWarn, "mailbox UIDVALIDITY or folder changed; importing the folder again",
                {{"integrationId", integ.id}, {"folder", box->folder()}});
    last = 0;
  }
  // Moves the cursor (and renews the lease); false when another replica holds the mailbox now.
  auto advance = [&](std::int64_t through) {
    return store::with_tx(pool_, [&](pqxx::work& tx) {
      return store::advance_mailbox(tx, integ.id, owner_, box->folder(), validity, through, options_.lease);
    });
  };
  auto uids = box->uids_after(static_cast<std::uint64_t>(last), options_.messages_per_round);
  std::size_t published = 0;
  for (std::size_t start = 0; start < uids.size() && !stop_(); start += options_.batch) {
    std::vector<std::uint64_t> chunk(uids.begin() + static_cast<long>(start),
                                     uids.begin() + static_cast<long>(std::min(uids.size(), start + options_.batch)));
    std::vector<providers::MailboxMessage> wanted;
    std::uint64_t through = 0;
    for (const auto& m : box->info(chunk)) {
      through = std::max(through, m.uid);
      if (m.size > box->max_message_bytes()) {
        registry().add("loket_mailbox_messages_total", {{"outcome", "too_large"}});
        core::log(core::Level::kWarn, "mailbox message skipped: larger than LOKET_EMAIL_MAX_BYTES",
                  {{"integrationId", integ.id},
                   {"uid", std::to_string(m.uid)},
                   {"bytes", std::to_string(m.size)},
                   {"limit", std::to_string(box->max_message_bytes())}});
        continue;
      }
      wanted.push_back(m);
    }
    std::vector<std::pair<std::string, std::string>> records;
    for (auto& body : box->fetch(static_cast<std::uint64_t>(validity), wanted)) {
      events::RawWebhook raw;
      raw.event_id = core::new_id("evt");
      raw.provider = box->webhook();
      raw.integration_id = integ.id;
      raw.workspace_id = integ.workspace_id;
      raw.routing_key = integ.routing_key;
      raw.received_at_ms = core::now_ms();
      raw.content_type = "message/rfc822";
      raw.body = std::move(body);
      records.emplace_back(
          kafka::kWebhookTopicPrefix + raw.provider + "\n" + events::thread_key(integ.id, integ.routing_key),
          events::to_json(raw));
    }
    // A UID the server listed but no longer has (expunged meanwhile) is passed over too.
    through = std::max<std::uint64_t>(through, chunk.back());
    if (!records.empty() && !publish_all(records)) return published;
    published += records.size();
    registry().add("loket_mailbox_messages_total", {{"outcome", "imported"}}, static_cast<double>(records.size()));
    if (!advance(static_cast<std::int64_t>(through))) {
      core::log(core::Level::kWarn, "mailbox lease lost; another replica imports it now",
                {{"integrationId", integ.id}});
      return published;
    }
  }
  if (uids.empty()) advance(last);  // nothing new: polled, and the cursor's folder and UIDVALIDITY kept current
  return published;
}

std::size_t MailboxImporter::poll_once() {
  std::size_t total = 0;
  std::set<std::string> leased;  // this round's: the sessions of the others are closed
  for (const auto& adapter : providers_.adapters()) {
    if (!adapter->descriptor().mailbox) continue;
    std::vector<store::MailboxLease> leases;
    try {
      leases = store::with_tx(pool_, [&](pqxx::work& tx) {
        return store::lease_mailboxes(tx, adapter->descriptor().name, owner_, options_.lease,
                                      options_.mailboxes_per_round);
      });
    } catch (const std::exception& e) {
      core::log(core::Level::kError, "cannot lease mailboxes", {{"error", e.what()}});
      return total;
    }
    for (const auto& lease : leases) {
      leased.insert(lease.integration.id);
      const bool reused = open_.count(lease.integration.id) > 0;
      std::string error, status;
      try {
        try {
          total += import(lease, *adapter);
        } catch (const providers::ProviderError& e) {
          // A kept connection the server closed since the last poll (an idle timeout): once
          // more on a new one. Anything else is this poll's outcome.
          if (!e.retryable() || !reused) throw;
          open_.erase(lease.integration.id);
          total += import(lease, *adapter);
        }
        registry().add("loket_mailbox_polls_total", {{"outcome", "ok"}});
        if (lease.integration.status == "error") status = "active";
      } catch (const providers::ProviderError& e) {
        error = e.what();
        registry().add("loket_mailbox_polls_total", {{"outcome", e.retryable() ? "retryable" : "refused"}});
        if (!e.retryable()) status = "error";
      } catch (const std::exception& e) {
        error = e.what();
        registry().add("loket_mailbox_polls_total", {{"outcome", "retryable"}});
      }
      if (!error.empty()) open_.erase(lease.integration.id);  // the next poll starts afresh
      if (!error.empty())
        core::log(core::Level::kWarn, "mailbox import failed; next poll retries",
                  {{"integrationId", lease.integration.id}, {"error", error}});
      try {
        store::with_tx(pool_, [&](pqxx::work& tx) {
          store::record_mailbox_poll(tx, lease.integration.id, owner_, error);
          if (!status.empty()) store::set_integration_status(tx, lease.integration.id, status, error);
        });
      } catch (const std::exception& e) {
        core::log(core::Level::kError, "cannot record a mailbox poll", {{"error", e.what()}});
      }
    }
  }
  for (auto it = open_.begin(); it != open_.end();) it = leased.count(it->first) ? std::next(it) : open_.erase(it);
  return total;
}

void MailboxImporter::run(const std::function<bool()>& stop) {
  stop_ = stop;
  while (!stop()) {
    auto started = std::chrono::steady_clock::now();
    poll_once();
    while (!stop() && std::chrono::steady_clock::now() - started < options_.interval)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  open_.clear();  // logged out before another replica takes them
  try {
    store::with_tx(pool_, [&](pqxx::work& tx) { store::release_mailboxes(tx, owner_); });
  } catch (const std::exception& e) {
    core::log(core::Level::kWarn, "could not release mailbox leases; they run out", {{"error", e.what()}});
  }
}

}  // namespace loket::ingress
