#include "writer.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "loket/core/json.hpp"
#include "loket/core/lifecycle.hpp"
#include "loket/core/log.hpp"
#include "loket/core/text.hpp"
#include "loket/core/time.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/registry.hpp"
#include "loket/store/deliveries.hpp"
#include "loket/store/tickets.hpp"

namespace loket::writer {

namespace {
// Whether a message on `message_channel` may become the reply route of a ticket on
// `ticket_channel`: the same channel, or two channels both answered by email (a hosted-form
// ticket's email reply). Not a Telegram message on an email ticket it was merged into, say.
bool same_route(const std::string& ticket_channel, const std::string& message_channel) {
  if (ticket_channel == message_channel) return true;
  const auto* t = providers::find_channel(ticket_channel);
  const auto* m = providers::find_channel(message_channel);
  const auto by_email = providers::ReplyTo::kEmail;
  return t && m && t->reply_to == by_email && m->reply_to == by_email;
}

store::ThreadKey thread_of(const std::string& workspace_id, const events::InboundMessage& m,
                           const std::string& replied) {
  if (!replied.empty()) return {workspace_id, store::kTicketThread, replied};
  return {workspace_id, m.channel, m.external_thread_id};
}

/// The ticket the first message of a thread opens (subject from its text, requester from its
/// sender).
store::NewTicket new_ticket(const store::Integration& integ, const events::InboundMessage& m, const std::string& name) {
  store::NewTicket n;
  n.workspace_id = integ.workspace_id;
  n.subject = store::subject_from_text(m.subject.empty() ? m.text : m.subject, m.channel);
  n.channel = m.channel;
  n.integration_id = m.integration_id;
  n.external_thread_id = m.external_thread_id;
  if (!name.empty()) n.requester_name = name;
  if (!m.sender.email.empty()) n.requester_email = m.sender.email;
  if (!m.sender.phone.empty()) n.requester_phone = m.sender.phone;
  return n;
}
}  // namespace

std::vector<Result> thread_batch(const std::vector<events::InboundMessage>& batch, const WorkspaceOf& workspace_of,
                                 std::set<store::MessageKey> stored, std::set<store::ThreadKey> open,
                                 const std::vector<std::string>& replied) {
  std::vector<Result> out;
  out.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& m = batch[i];
    auto workspace = workspace_of(m.integration_id);
    if (!workspace)
      out.push_back(Result::kUnknownIntegration);
    else if (!stored.emplace(m.integration_id, m.external_message_id).second)  // stored, or earlier in the batch
      out.push_back(Result::kDuplicate);
    else
      out.push_back(open.insert(thread_of(*workspace, m, i < replied.size() ? replied[i] : "")).second
                        ? Result::kCreatedTicket
                        : Result::kAppended);
  }
  return out;
}

std::vector<Result> write_messages(store::Pool& pool, const std::vector<events::InboundMessage>& batch,
                                   const AttachmentFetcher& fetch, const Settings& settings) {
  std::vector<Result> results(batch.size(), Result::kAppended);
  std::vector<store::MessageKey> keys;
  for (const auto& m : batch) keys.emplace_back(m.integration_id, m.external_message_id);

  // Outside the write transaction: integrations, a first dedup probe (so duplicates never
  // refetch attachments) and the attachments' bytes, which may take provider round trips.
  // Also which ticket each reply names (email threading); it is locked and checked again below.
  std::map<std::string, std::optional<store::Integration>> integrations;
  std::set<store::MessageKey> stored;
  std::vector<std::string> replied(batch.size());
  std::vector<std::string> names(batch.size());  // the sender's name, looked up when the message has none
  std::vector<std::size_t> unnamed;              // messages whose sender only has an id
  {
    auto conn = pool.acquire();
    pqxx::read_transaction tx(*conn);
    stored = store::existing_messages(tx, keys);
    std::vector<store::ThreadKey> unnamed_threads;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& m = batch[i];
      names[i] = m.sender.name;
      if (!integrations.count(m.integration_id))
        integrations[m.integration_id] = store::find_integration(tx, m.integration_id);
      const auto& integ = integrations[m.integration_id];
      if (integ && !m.thread_hints.empty() && !stored.count(keys[i]))
        replied[i] = store::find_replied_ticket(tx, integ->workspace_id, m.thread_hints, m.sender.email).value_or("");
      if (integ && settings.name_of && m.sender.name.empty() && !m.sender.external_id.empty() &&
          !stored.count(keys[i])) {
        unnamed.push_back(i);
        unnamed_threads.push_back(thread_of(integ->workspace_id, m, replied[i]));
      }
    }
    // Only a message that opens a ticket is worth a profile lookup: the ticket keeps the name.
    if (!unnamed.empty()) {
      auto open = store::find_open_threads(tx, unnamed_threads, false);
      std::vector<std::size_t> opening;
      for (std::size_t k = 0; k < unnamed.size(); ++k)
        if (!open.count(unnamed_threads[k])) opening.push_back(unnamed[k]);
      unnamed = std::move(opening);
    }
  }
  std::map<std::pair<std::string, std::string>, std::string> looked_up;  // (integration, sender) → name
  for (auto i : unnamed) {
    const auto& m = batch[i];
    auto key = std::make_pair(m.integration_id, m.sender.external_id);
    auto it = looked_up.find(key);
    if (it == looked_up.end())
      it = looked_up.emplace(key, settings.name_of(*integrations[m.integration_id], m.sender.external_id)).first;
    names[i] = it->second;
  }
  const WorkspaceOf workspace_of = [&integrations](const std::string& id) -> std::optional<std::string> {
    const auto& integ = integrations.at(id);
    return integ ? std::optional(integ->workspace_id) : std::nullopt;
  };
  std::vector<std::vector<store::NewAttachment>> files(batch.size());
  std::vector<store::ThreadKey> threads;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& m = batch[i];
    const auto& integ = integrations[m.integration_id];
    if (!integ) {
      results[i] = Result::kUnknownIntegration;
      continue;
    }
    threads.push_back(thread_of(integ->workspace_id, m, replied[i]));
    if (stored.count(keys[i])) continue;
    for (const auto& ref : m.attachments) {
      store::NewAttachment a;
      a.filename = ref.filename;
      a.content_type = ref.content_type;
      a.external_ref = ref.external_ref;
      a.size = ref.size;
      if (!ref.data.empty())
        a.data = ref.data;
      else if (fetch)
        a.data = fetch(*integ, ref);
      files[i].push_back(std::move(a));
    }
  }
  if (threads.empty()) return results;

  store::with_tx(pool, [&](pqxx::work& tx) {
    store::OutboxBatch outbox(tx);
    store::lock_threads(tx, threads);
    // Again under the locks: another writer may have stored some since the probe.
    auto seen = store::existing_messages(tx, keys);
    // Each thread's ticket: the open one found here, or the one this batch opens.
    auto open = store::find_open_threads(tx, threads);
    std::set<store::ThreadKey> open_threads;
    for (const auto& [thread, ticket] : open) open_threads.insert(thread);
    results = thread_batch(batch, workspace_of, seen, open_threads, replied);
    // The tickets this batch opens, in one statement: first which new threads' senders are over
    // their hourly limit (they join their latest ticket instead), counting the batch's own.
    std::vector<bool> throttled(batch.size(), false);
    auto sender_of = [&](std::size_t i) {
      return store::Sender{integrations[batch[i].integration_id]->workspace_id, core::to_lower(batch[i].sender.email)};
    };
    auto limited = [&](std::size_t i) {
      return results[i] == Result::kCreatedTicket && settings.tickets_per_sender_hour > 0 &&
             !batch[i].sender.email.empty();
    };
    std::set<store::Sender> senders;
    for (std::size_t i = 0; i < batch.size(); ++i)
      if (limited(i)) senders.insert(sender_of(i));
    auto recent = store::sender_ticket_counts(tx, senders, settings.tickets_per_sender_hour);
    std::vector<store::NewTicket> to_open;
    std::vector<store::ThreadKey> to_open_threads;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (results[i] != Result::kCreatedTicket) continue;
      if (limited(i) && recent[sender_of(i)]++ >= settings.tickets_per_sender_hour) {
        throttled[i] = true;
        continue;
      }
      const auto& integ = *integrations[batch[i].integration_id];
      to_open.push_back(new_ticket(integ, batch[i], names[i]));
      to_open_threads.push_back(thread_of(integ.workspace_id, batch[i], replied[i]));
    }
    // Numbered in a transaction of their own: no workspace row is held while this one writes, so
    // the consumers' batches of one busy workspace overlap.
    const auto numbers = store::allocate_ticket_numbers(pool, to_open);
    auto created = store::create_tickets(tx, to_open, settings.keys, nullptr, &numbers);
    for (std::size_t k = 0; k < created.size(); ++k) open.emplace(to_open_threads[k], created[k]);

    const std::int64_t now_ms = core::now_ms();
    std::vector<store::BatchMessage> pending;           // written in one statement
    std::vector<store::Ticket> opened;                  // new tickets, for their auto-replies
    std::map<std::string, store::ThreadTouch> touched;  // ticket id → integration, when the customer wrote
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& m = batch[i];
      if (results[i] != Result::kCreatedTicket && results[i] != Result::kAppended) continue;
      const auto& integ = *integrations[m.integration_id];
      auto thread = thread_of(integ.workspace_id, m, replied[i]);
      auto it = open.find(thread);
      if (m.from_business && results[i] == Result::kAppended && store::echoes_recent_reply(tx, it->second.id, m.text)) {
        results[i] = Result::kDuplicate;  // our own reply coming back
        continue;
      }
      std::optional<store::Ticket> latest;
      if (throttled[i]) latest = store::sender_latest_ticket(tx, integ.workspace_id, m.sender.email);
      if (latest) {  // joins the sender's latest ticket, flagged, instead of opening one more
        it = open.insert_or_assign(thread, *latest).first;
        store::TicketChanges flag;
        flag.status = "open";
        auto tags = it->second.tags;
        if (std::find(tags.begin(), tags.end(), kThrottledTag) == tags.end()) tags.push_back(kThrottledTag);
        flag.tags = tags;
        store::update_ticket(tx, it->second, flag);
        core::log(core::Level::kWarn, "sender over its hourly ticket limit: message joins its latest ticket",
                  {{"workspaceId", integ.workspace_id}, {"ticketId", it->second.id}});
      } else if (throttled[i]) {  // over the limit, but every ticket of theirs is closed: a new one
        it = open.insert_or_assign(thread, store::create_ticket(tx, new_ticket(integ, m, names[i]), settings.keys))
                 .first;
        if (m.automated.empty()) opened.push_back(it->second);
      } else if (results[i] == Result::kCreatedTicket) {
        // No auto-reply to an auto-reply (RFC 3834), nor to the business's own message.
        if (m.automated.empty() && !m.from_business) opened.push_back(it->second);
      } else if (!m.from_business) {
        store::set_status(tx, it->second, "open");
      }
      auto& ticket = it->second;
      // Replies go out the way the customer wrote last, unless the message came on another
      // channel's thread of a ticket merged into this one: the ticket keeps its own route.
      const bool own_route = same_route(ticket.channel, m.channel);
      if (own_route) ticket.integration_id = m.integration_id;
      store::NewMessage msg;
      msg.author_type = "requester";
      msg.author_name = names[i];
      if (m.from_business) {  // sent already, by a person in the provider's own app
        msg.author_type = "agent";
        msg.author_name = providers::channel_label(m.channel) + " app";
        msg.delivery_status = "sent";
      }
      msg.body = m.text;
      msg.integration_id = m.integration_id;
      msg.external_message_id = m.external_message_id;
      if (!m.quoted_text.empty()) msg.quoted_text = m.quoted_text;
      msg.cc = m.cc;
      if (!m.source.empty()) msg.raw = m.source;
      pending.push_back({ticket, std::move(msg), files[i]});  // a copy: with_tx may run this again
      auto& touch = touched[ticket.id];
      if (own_route) touch.integration_id = m.integration_id;
      if (!m.from_business)  // the customer's own time, never later than now
        touch.customer_at_ms =
            std::max(touch.customer_at_ms, std::min(m.sent_at_ms > 0 ? m.sent_at_ms : now_ms, now_ms));
    }
    store::add_messages(tx, pending);
    store::add_auto_replies(tx, opened);  // after the messages that opened them
    store::touch_thread_tickets(tx, touched);
    outbox.flush();
  });
  return results;
}

bool apply_receipt(store::Pool& pool, const events::DeliveryReceipt& r) {
  return store::with_tx(pool, [&](pqxx::work& tx) {
    if (!r.sent_message_id.empty())  // a bounce of mail we sent
      return store::fail_sent_email(tx, r.workspace_id, r.sent_message_id, r.provider, r.error);
    return store::fail_delivery(tx, r.integration_id, r.external_message_id, r.provider, r.error);
  });
}

NameLookup provider_name_lookup(const crypto::Keyring& keys, const providers::Registry& providers) {
  return [&keys, &providers](const store::Integration& integ, const std::string& sender_id) -> std::string {
    const auto* adapter = providers.find(integ.provider);
    if (integ.credentials.empty() || !adapter) return "";
    try {
      return adapter->sender_name({integ.id, integ.workspace_id, integ.provider, integ.routing_key, integ.number},
                                  keys.decrypt(integ.credentials, integ.credentials_key_id, integ.id), sender_id);
    } catch (const std::exception& e) {  // the message is stored without a name rather than late
      core::log(core::Level::kWarn, "customer profile lookup failed",
                {{"integrationId", integ.id}, {"error", e.what()}});
      return "";
    }
  };
}

AttachmentFetcher provider_fetcher(const crypto::Keyring& keys, const providers::Registry& providers) {
  return [&keys, &providers](const store::Integration& integ,
                             const events::AttachmentRef& ref) -> std::optional<std::string> {
    const auto* adapter = providers.find(integ.provider);
    if (integ.credentials.empty() || !adapter) return std::nullopt;
    const providers::IntegrationInfo info{integ.id, integ.workspace_id, integ.provider, integ.routing_key,
                                          integ.number};
    std::string creds;
    try {
      creds = keys.decrypt(integ.credentials, integ.credentials_key_id, integ.id);
    } catch (const std::exception& e) {
      core::log(core::Level::kError, "cannot decrypt integration credentials",
                {{"integrationId", integ.id}, {"error", e.what()}});
      return std::nullopt;
    }
    for (int attempt = 1; attempt <= 3; ++attempt) {
      try {
        return adapter->download(info, creds, ref);
      } catch (const providers::ProviderError& e) {
        core::log(core::Level::kWarn, "attachment download failed",
                  {{"integrationId", integ.id}, {"error", e.what()}, {"attempt", std::to_string(attempt)}});
        if (!e.retryable()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(300 * attempt));
      } catch (const std::invalid_argument& e) {
        core::log(core::Level::kError, "integration credentials are unreadable",
                  {{"integrationId", integ.id}, {"error", e.what()}});
        break;
      }
    }
    return std::nullopt;
  };
}

namespace {
void record_receipt(store::Pool& pool, const events::DeliveryReceipt& r, const std::function<bool()>& stop) {
  bool changed = apply_receipt(pool, r);
  // A fast provider can report before outbound stored its message id: look again briefly.
  for (int again = 0; !changed && again < 3 && !stop(); ++again) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    changed = apply_receipt(pool, r);
  }
  registry().add("loket_delivery_receipts_total", {{"result", changed ? "applied" : "unmatched"}});
  core::log(changed ? core::Level::kInfo : core::Level::kDebug,
            changed ? "provider reported a delivery failure" : "delivery receipt for no pending message",
            {{"eventId", r.event_id}, {"providerMessageId", r.external_message_id}, {"error", r.error}});
}

const char* result_name(Result r) {
  static const char* kResults[] = {"created_ticket", "appended", "duplicate", "unknown_integration"};
  return kResults[static_cast<int>(r)];
}

// One message of a run and the record it came in.
struct Pending {
  events::InboundMessage message;
  const kafka::Record* record;
};

/// Writes `run` in one transaction; when that fails, one message at a time, so a message the
/// database refuses holds up only itself: a permanent refusal dead-letters it, a transient
/// failure is retried (capped backoff) until written or `stop()`.
bool record_messages(store::Pool& pool, const std::vector<Pending>& run, const AttachmentFetcher& fetch,
                     const Settings& settings, const DeadLetter& dead_letter, const std::function<bool()>& stop) {
  if (run.empty()) return true;
  auto count = [&](const events::InboundMessage& m, Result r) {
    registry().add("loket_messages_written_total", {{"result", result_name(r)}});
    core::LogScope in_event("eventId", m.event_id), in_workspace("workspaceId", m.workspace_id);
    if (r == Result::kUnknownIntegration)
      core::log(core::Level::kWarn, "message for an unknown integration; skipped",
                {{"integrationId", m.integration_id}});
    else if (r == Result::kDuplicate)
      core::log(core::Level::kDebug, "duplicate message dropped");
  };
  std::vector<events::InboundMessage> messages;
  for (const auto& p : run) messages.push_back(p.message);
  auto started = std::chrono::steady_clock::now();
  try {
    auto results = write_messages(pool, messages, fetch, settings);
    registry().observe("loket_writer_batch_seconds", {},
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    registry().observe("loket_writer_batch_messages", {}, static_cast<double>(messages.size()));
    for (std::size_t i = 0; i < messages.size(); ++i) count(messages[i], results[i]);
    return true;
  } catch (const std::exception& e) {
    if (messages.size() > 1)
      core::log(core::Level::kWarn, "writing a batch failed; writing its messages one by one",
                {{"messages", std::to_string(messages.size())}, {"error", e.what()}});
  }
  for (const auto& p : run) {
    core::LogScope in_event("eventId", p.message.event_id);
    std::string error;
    switch (core::retry_transient(
        "writing a message", [&] { count(p.message, write_messages(pool, {p.message}, fetch, settings)[0]); },
        store::is_permanent, stop, error)) {
      case core::Attempted::kDone:
        break;
      case core::Attempted::kPermanent:
        if (!dead_letter(*p.record, error)) return false;
        break;
      case core::Attempted::kStopped:
        return false;
    }
  }
  return true;
}

// Makes every text field storable (NUL removed, ill-formed UTF-8 replaced); the original bytes
// stay in the channel.webhook record.
void make_storable(events::InboundMessage& m) {
  for (auto* s : {&m.external_thread_id, &m.external_message_id, &m.sender.external_id, &m.sender.name,
                  &m.sender.handle, &m.sender.phone, &m.sender.email, &m.subject, &m.text, &m.quoted_text})
    if (!core::is_storable_text(*s)) *s = core::storable_text(*s);
  for (auto* list : {&m.cc, &m.thread_hints.references})
    for (auto& s : *list)
      if (!core::is_storable_text(s)) s = core::storable_text(s);
  for (auto& a : m.attachments)
    for (auto* s : {&a.external_ref, &a.filename, &a.content_type})
      if (!core::is_storable_text(*s)) *s = core::storable_text(*s);
}
}  // namespace

bool process_batch(store::Pool& pool, const std::vector<kafka::Record>& batch, const AttachmentFetcher& fetch,
                   const Settings& settings, const DeadLetter& dead_letter, const std::function<bool()>& stop) {
  // Runs of messages are written a transaction each; a receipt ends a run (records keep their order).
  std::vector<Pending> run;
  for (const auto& rec : batch) {
    try {
      if (events::is_delivery_receipt(rec.value)) {
        if (!record_messages(pool, run, fetch, settings, dead_letter, stop)) return false;
        run.clear();
        auto r = events::delivery_receipt_from_json(rec.value);
        core::LogScope in_event("eventId", r.event_id), in_workspace("workspaceId", r.workspace_id);
        std::string error;
        auto done = core::retry_transient(
            "recording a delivery receipt", [&] { record_receipt(pool, r, stop); }, store::is_permanent, stop, error);
        if (done == core::Attempted::kStopped) return false;
        if (done == core::Attempted::kPermanent && !dead_letter(rec, error)) return false;
      } else {
        auto m = events::inbound_message_from_json(rec.value);
        make_storable(m);
        run.push_back({std::move(m), &rec});
      }
    } catch (const std::invalid_argument& e) {  // from *_from_json: the record can never be written
      if (!dead_letter(rec, std::string("malformed channel.inbound record: ") + e.what())) return false;
    }
  }
  return record_messages(pool, run, fetch, settings, dead_letter, stop);
}

}  // namespace loket::writer
