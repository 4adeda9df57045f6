#include "outbound.hpp"

#include "email.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/log.hpp"
#include "loket/core/text.hpp"
#include "loket/core/time.hpp"
#include "loket/events/events.hpp"
#include "loket/ops/metrics.hpp"
#include "loket/providers/error.hpp"
#include "loket/store/deliveries.hpp"
#include "loket/store/tickets.hpp"
#include "loket/store/webhooks.hpp"

namespace loket::outbound {

Target choose_target(const providers::ChannelDescriptor& channel, const events::Route& route,
                     const providers::Registry& providers, const IntegrationLookup& lookup) {
  Target t;
  const std::string thread = route.external_thread_id.value_or("");
  if (channel.reply_to == providers::ReplyTo::kThread) {
    if (route.integration_id) t.integration = lookup.by_id(*route.integration_id);
    t.to = thread;
    t.error = "the " + channel.label + " integration of this ticket is disconnected";
  } else {
    t.integration = lookup.latest(providers.names_on_channel(channel.name));
    t.to = route.requester_phone.value_or(thread);
    t.error = "no " + channel.label + " number is connected to this workspace (connect one under Channels)";
  }
  if (t.to.empty())
    t.error = "the ticket has no recipient on " + channel.name;
  else if (t.integration && t.integration->status != "disconnected" && !t.integration->credentials.empty())
    t.error.clear();
  return t;
}

namespace {
// Records a delivery outcome on message `message_id` in its own transaction.
void record(store::Pool& pool, const events::TicketEvent& e, const std::string& message_id, const std::string& status,
            const std::string& error, const std::string& provider, const std::string& integration_id = "",
            const std::string& provider_message_id = "") {
  store::with_tx(pool, [&](pqxx::work& tx) {
    store::record_delivery(
        tx, {e.workspace_id, e.ticket_id, message_id, status, error, provider, integration_id, provider_message_id});
  });
}

std::string wrap(const std::string& event_json, int attempt, std::int64_t not_before_ms, const std::string& error,
                 const std::string& target) {
  return events::to_json(events::DeliveryRetry{core::new_id("evt"), attempt, not_before_ms, error, event_json, target});
}

void publish(kafka::Producer& producer, const std::string& topic, const std::string& key, const std::string& value) {
  auto err = producer.produce_sync(topic, key, value, std::chrono::seconds(30));
  if (!err.empty()) throw std::runtime_error("publishing to " + topic + ": " + err);
}
}  // namespace

namespace {
ops::Registry& registry() {
  static ops::Registry& r = []() -> ops::Registry& {
    auto& m = ops::metrics();
    m.describe("loket_deliveries_total", ops::Registry::Type::kCounter,
               "Reply delivery attempts by provider and outcome (sent, failed, retry_scheduled, dead_lettered).");
    m.describe("loket_delivery_seconds", ops::Registry::Type::kHistogram, "Provider send latency by provider.");
    return m;
  }();
  return r;
}

Outcome counted(Outcome o, const std::string& provider) {
  static const std::map<Outcome, const char*> kNames = {{Outcome::kSent, "sent"},
                                                        {Outcome::kSkipped, "skipped"},
                                                        {Outcome::kFailed, "failed"},
                                                        {Outcome::kRetryScheduled, "retry_scheduled"},
                                                        {Outcome::kDeadLettered, "dead_lettered"}};
  registry().add("loket_deliveries_total", {{"provider", provider}, {"outcome", kNames.at(o)}});
  return o;
}
}  // namespace

namespace {
// How one delivery attempt ended, and what to write down.
struct Attempt {
  std::string provider, error, provider_message_id;
  bool retryable = false;
  bool gone = false;  ///< providers::IntegrationGone: the integration itself is dead
  int retry_after = 0;
};

// Runs `send`, classifying its failure once (DESIGN.md "Errors").
Attempt try_send(const std::string& provider, const std::function<std::string()>& send) {
  Attempt a;
  a.provider = provider;
  try {
    a.provider_message_id = send();
  } catch (const providers::ProviderError& e) {
    a.error = e.what();
    a.gone = dynamic_cast<const providers::IntegrationGone*>(&e) != nullptr;
    a.retryable = e.retryable();
    a.retry_after = e.retry_after_seconds();
  } catch (const std::exception& e) {  // undecryptable or unreadable credentials: permanent
    a.error = e.what();
  }
  return a;
}

// Records `a` with `write(status, error)`: sent; failed; or, when retryable, a retry scheduled
// on outbound.retry (a team chat's on outbound.retry.team) until max_attempts, then
// outbound.dlq. `target`: DeliveryRetry::target.
Outcome settle(const Attempt& a, const std::string& value, int attempt, const std::string& key,
               kafka::Producer& producer, const Options& opt,
               const std::function<void(const std::string&, const std::string&)>& write,
               const std::string& target = "") {
  if (a.error.empty()) {
    write("sent", "");
    return counted(Outcome::kSent, a.provider);
  }
  core::log(core::Level::kWarn, "delivery failed",
            {{"provider", a.provider},
             {"attempt", std::to_string(attempt)},
             {"error", a.error},
             {"retryable", a.retryable ? "true" : "false"}});
  if (!a.retryable) {
    write("failed", a.error);
    return counted(Outcome::kFailed, a.provider);
  }
  if (attempt >= opt.max_attempts) {
    publish(producer, kafka::kOutboundDlqTopic, key, wrap(value, attempt, 0, a.error, target));
    write("failed", a.error + " (gave up after " + std::to_string(attempt) + " attempts)");
    return counted(Outcome::kDeadLettered, a.provider);
  }
  auto delay = std::min<std::chrono::milliseconds>(opt.base_backoff * (1 << (attempt - 1)), std::chrono::seconds(60));
  if (a.retry_after > 0) delay = std::max<std::chrono::milliseconds>(delay, std::chrono::seconds(a.retry_after));
  publish(producer, target.empty() ? kafka::kOutboundRetryTopic : kafka::kOutboundTeamRetryTopic, key,
          wrap(value, attempt + 1, core::now_ms() + delay.count(), a.error, target));
  write("pending", a.error);
  return counted(Outcome::kRetryScheduled, a.provider);
}

// Whether tickets on `channel` with an integration may be API-channel conversations.
bool client_api_channel(const providers::Registry& providers, const std::string& channel) {
  for (const auto& name : providers.names_on_channel(channel))
    if (const auto* a = providers.find(name); a && a->descriptor().client_api) return true;
  return false;
}

// A reply on an API-channel conversation: queued for the inbox's webhook (docs/channels/
// api-channel.md), which the webhook dispatcher signs, sends and retries like any endpoint's,
// with the same delivery log. The message counts as sent once it is queued.
Outcome reply_by_webhook(const events::TicketEvent& e, const std::string& message_id, const std::string& value,
                         const store::Integration& inbox, store::Pool& pool) {
  std::string status = "sent", error;
  store::with_tx(pool, [&](pqxx::work& tx) {
    status = "sent";
    error.clear();
    if (inbox.status == "disconnected") {
      status = "failed";
      error = "the API channel of this ticket is disconnected";
    } else if (!store::enqueue_inbox_webhook(tx, inbox.id,
                                             {e.workspace_id, e.event_id, e.type(), e.ticket_id, value})) {
      status = "skipped";
      error = "this API channel has no webhookUrl: the integrator reads replies with GET …/messages";
    }
    store::record_delivery(tx, {e.workspace_id, e.ticket_id, message_id, status, error, inbox.provider, inbox.id, ""});
  });
  return counted(status == "sent"      ? Outcome::kSent
                 : status == "skipped" ? Outcome::kSkipped
                                       : Outcome::kFailed,
                 inbox.provider);
}

// A public agent or system message: delivered on the ticket's channel (Telegram, WhatsApp), to
// an API channel's webhook, or by email to the requester.
Outcome deliver_message(const events::TicketEvent& e, const events::MessageCreated& created, const std::string& value,
                        int attempt, store::Pool& pool, kafka::Producer& producer, const crypto::Keyring& keys,
                        const Options& opt) {
  const auto& msg = created.message;
  if ((msg.author_type != "agent" && msg.author_type != "system") || msg.internal) return Outcome::kIgnored;
  core::LogScope in_event("eventId", e.event_id), in_workspace("workspaceId", e.workspace_id);

  const auto& providers = *opt.providers;
  const auto* descriptor = providers::find_channel(created.route.channel);
  Target target;
  std::optional<TicketMail> mail;
  std::optional<providers::Mailer> sender;
  ReplyFiles files;
  const bool by_email = !descriptor || descriptor->reply_to == providers::ReplyTo::kEmail;
  std::string body = msg.body;
  std::string link;
  std::optional<store::Integration> inbox;  // an API channel's conversation: replies go to its webhook
  {
    auto conn = pool.acquire();
    pqxx::read_transaction tx(*conn);
    if (store::delivery_status(tx, msg.id) != "pending") return Outcome::kAlreadyDone;
    // The requester's status link goes only to the requester (agents see the placeholder).
    if (body.find(store::kStatusLinkPlaceholder) != std::string::npos) {
      link = opt.email.public_app_url + "/t/" + store::access_token_of(tx, e.ticket_id, keys);
      body = core::replace_all(body, store::kStatusLinkPlaceholder, link);
    }
    if (created.route.integration_id && client_api_channel(providers, created.route.channel)) {
      inbox = store::find_integration(tx, *created.route.integration_id);
    } else if (by_email) {
      mail = load_ticket_mail(tx, e.workspace_id, e.ticket_id, keys, created.route.requester_email);
      if (mail) sender = sender_for(mail_integration(tx, *mail, providers), keys, providers);
      if (mail && sender) files = load_reply_files(tx, msg.attachments, opt.email.max_attachment_bytes);
    } else {
      IntegrationLookup lookup{[&tx](const std::string& id) { return store::find_integration(tx, id); },
                               [&tx, &e](const std::vector<std::string>& names) {
                                 return store::latest_integration(tx, e.workspace_id, names);
                               }};
      target = choose_target(*descriptor, created.route, providers, lookup);
    }
  }
  if (inbox)
    return reply_by_webhook(
        e, msg.id, link.empty() ? value : core::replace_all(value, store::kStatusLinkPlaceholder, link), *inbox, pool);
  if (by_email) {
    if (!mail) {  // the address was removed after the reply was written
      record(pool, e, msg.id, "skipped", "the ticket has no email address", "email");
      return Outcome::kSkipped;
    }
    if (!sender) {
      record(pool, e, msg.id, "skipped", "no email sender is configured", "email");
      return Outcome::kSkipped;
    }
    auto email = compose(msg.author_type == "system" ? MailKind::kAutoReply : MailKind::kReply, *mail, *sender,
                         opt.email, msg.id, msg.author_name, body);
    add_files(email, std::move(files), opt.email.public_app_url + "/t/" + mail->access_token);
    auto a = try_send(sender->provider, [&] { return sender->send(email); });
    return settle(a, value, attempt, e.ticket_id, producer, opt,
                  [&](const std::string& status, const std::string& error) {
                    record(pool, e, msg.id, status, error, a.provider, "", a.provider_message_id);
                  });
  }
  const auto& integ = target.integration;
  const std::string provider = integ ? integ->provider : created.route.channel;
  if (!target.error.empty()) {
    record(pool, e, msg.id, "failed", target.error, provider);
    return counted(Outcome::kFailed, provider);
  }
  const auto* adapter = providers.find(provider);
  auto sending = std::chrono::steady_clock::now();
  auto a = try_send(provider, [&] {
    if (!adapter) throw std::runtime_error("no adapter for provider " + provider);
    return adapter->send({integ->id, integ->workspace_id, integ->provider, integ->routing_key, integ->number},
                         keys.decrypt(integ->credentials, integ->credentials_key_id, integ->id),
                         {target.to, body, msg.id, created.route.tag.value_or(""), created.route.message_template});
  });
  registry().observe_since("loket_delivery_seconds", {{"provider", provider}}, sending);
  return settle(
      a, value, attempt, e.ticket_id, producer, opt, [&](const std::string& status, const std::string& error) {
        record(pool, e, msg.id, status, error, provider, integ->id, a.provider_message_id);
        if (a.gone)  // a revoked token (Instagram's error 190): the admin must reconnect
          store::with_tx(pool, [&](pqxx::work& tx) { store::set_integration_status(tx, integ->id, "error", a.error); });
      });
}

// The ticket-received email (on ticket.created), the CSAT survey (on resolution) and a
// transcript (on request): one row in `notifications` per ticket and kind (per requesting event
// for transcripts), so a redelivered event never sends twice.
Outcome notify(MailKind kind, const events::TicketEvent& e, const std::string& value, int attempt, store::Pool& pool,
               kafka::Producer& producer, const crypto::Keyring& keys, const Options& opt,
               const events::TranscriptRequested* transcript = nullptr) {
  const char* kind_name = kind == MailKind::kReceived     ? "ticket_received"
                          : kind == MailKind::kCsatSurvey ? "csat_survey"
                                                          : "transcript";
  constexpr std::size_t kMaxTranscriptBytes = 256 << 10;
  core::LogScope in_event("eventId", e.event_id), in_workspace("workspaceId", e.workspace_id);
  std::optional<TicketMail> mail;
  std::optional<providers::Mailer> sender;
  std::optional<std::string> id;
  std::string text;
  store::with_tx(pool, [&](pqxx::work& tx) {
    mail = load_ticket_mail(tx, e.workspace_id, e.ticket_id, keys);
    if (!mail) return;  // no address (WhatsApp, Telegram): nothing to send, nothing to record
    if (transcript) mail->requester_email = transcript->email;
    id = store::pending_notification(tx, e.workspace_id, e.ticket_id, kind_name, mail->requester_email,
                                     transcript ? e.event_id : "");
    if (!id) return;
    sender = sender_for(mail_integration(tx, *mail, *opt.providers), keys, *opt.providers);
    if (transcript)
      text = transcript_text(store::load_messages(tx, e.ticket_id, false), transcript->through_seq, kMaxTranscriptBytes,
                             opt.email.public_app_url + "/t/" + mail->access_token);
  });
  if (!id) return mail ? Outcome::kAlreadyDone : Outcome::kIgnored;
  auto write = [&](const std::string& status, const std::string& error, const std::string& provider_id) {
    store::with_tx(pool, [&](pqxx::work& tx) { store::record_notification(tx, *id, status, error, provider_id); });
  };
  if (!sender) {
    write("skipped", "no email sender is configured (a platform sender, or an email integration of the workspace)", "");
    return Outcome::kSkipped;
  }
  auto email = compose(kind, *mail, *sender, opt.email, transcript ? e.event_id : "", "", text);
  auto a = try_send(sender->provider, [&] { return sender->send(email); });
  return settle(
      a, value, attempt, e.ticket_id, producer, opt,
      [&](const std::string& status, const std::string& error) { write(status, error, a.provider_message_id); });
}
}  // namespace

namespace {
constexpr const char* kTeamTarget = "team:";

// What the team chats are told about customer message `created` or SLA `alert` (one of them), or
// nullopt when its ticket or workspace is gone: a customer's first message is a new ticket, a
// later one a reply.
std::optional<providers::TeamNotice> team_notice(pqxx::transaction_base& tx, const events::TicketEvent& e,
                                                 const events::MessageCreated* created, const events::SlaAlert* alert,
                                                 const Options& opt) {
  auto ticket = store::load_ticket(tx, e.workspace_id, e.ticket_id);
  auto ws = store::load_workspace(tx, e.workspace_id);
  if (!ticket || !ws) return std::nullopt;  // deleted since
  providers::TeamNotice n;
  n.workspace = ws->name;
  n.number = ticket->number;
  n.subject = ticket->subject;
  const std::string author = created ? created->message.author_name : "";
  n.requester = ticket->requester_name.value_or(
      ticket->requester_email.value_or(ticket->requester_phone.value_or(author.empty() ? "A customer" : author)));
  n.channel = providers::channel_label(ticket->channel);
  if (!opt.agent_ticket_url.empty()) n.link = core::replace_all(opt.agent_ticket_url, "{ticketId}", e.ticket_id);
  if (alert) {
    n.kind = alert->breached ? providers::TeamNotice::Kind::kSlaBreached : providers::TeamNotice::Kind::kSlaWarning;
    n.sla_target = core::replace_all(alert->target, "_", " ");
    // "2026-11-02T14:00:00.000Z" → "2026-11-02 14:00 UTC"
    n.due_at = alert->due_at.size() >= 16 ? alert->due_at.substr(0, 10) + " " + alert->due_at.substr(11, 5) + " UTC"
                                          : alert->due_at;
    n.occurred_at = e.occurred_at;
    return n;
  }
  const auto& msg = created->message;
  n.kind = msg.seq <= 1 ? providers::TeamNotice::Kind::kNewTicket : providers::TeamNotice::Kind::kCustomerReply;
  std::string body = core::trim(msg.body);
  if (body.empty() && !msg.attachments.empty()) body = "[" + std::to_string(msg.attachments.size()) + " file(s)]";
  n.excerpt = core::utf8_length(body) > 500 ? core::utf8_truncate(body, 499) + "…" : body;
  n.occurred_at = msg.created_at;
  return n;
}

// Posts `notice` to team chat `integ` once per event; a chat that says it is gone marks the
// integration `error` with the reason.
Outcome notify_team(const events::TicketEvent& e, const providers::TeamNotice& notice, const store::Integration& integ,
                    const std::string& value, int attempt, store::Pool& pool, kafka::Producer& producer,
                    const crypto::Keyring& keys, const Options& opt) {
  bool pending = false;
  store::with_tx(pool, [&](pqxx::work& tx) {
    pending = store::pending_team_notice(tx, e.event_id, integ.id, e.workspace_id, e.ticket_id);
  });
  if (!pending) return Outcome::kAlreadyDone;
  const auto* adapter = opt.providers->find(integ.provider);
  auto a = try_send(integ.provider, [&] {
    if (!adapter) throw std::runtime_error("no adapter for provider " + integ.provider);
    return adapter->notify_team(keys.decrypt(integ.credentials, integ.credentials_key_id, integ.id), notice);
  });
  return settle(
      a, value, attempt, e.ticket_id, producer, opt,
      [&](const std::string& status, const std::string& error) {
        store::with_tx(pool, [&](pqxx::work& tx) {
          store::record_team_notice(tx, e.event_id, integ.id, status, error, a.provider_message_id);
          if (a.gone) store::set_integration_status(tx, integ.id, "error", a.error);
        });
      },
      kTeamTarget + integ.id);
}
}  // namespace

Outcome handle_team_event(const std::string& value, int attempt, const std::string& target, store::Pool& pool,
                          kafka::Producer& producer, const crypto::Keyring& keys, const Options& opt) {
  events::TicketEvent e;
  try {
    e = events::ticket_event_from_json(value);
  } catch (const events::UnknownEventType&) {
    return Outcome::kIgnored;
  }
  // News: a customer's message (not the team's own), an SLA target at risk or breached.
  const auto* created = std::get_if<events::MessageCreated>(&e.data);
  const auto* alert = std::get_if<events::SlaAlert>(&e.data);
  if (created && (created->message.author_type != "requester" || created->message.internal)) created = nullptr;
  if (!created && !alert) return Outcome::kIgnored;  // no query
  core::LogScope in_event("eventId", e.event_id), in_workspace("workspaceId", e.workspace_id);
  std::optional<providers::TeamNotice> notice;
  std::vector<store::Integration> chats;
  {
    auto conn = pool.acquire();
    pqxx::read_transaction tx(*conn);
    for (auto& integ : store::list_integrations(tx, e.workspace_id)) {
      const auto* adapter = opt.providers->find(integ.provider);
      if (!adapter || !adapter->descriptor().team_notices || integ.status != "active" || integ.credentials.empty())
        continue;
      if (target.empty() || target == kTeamTarget + integ.id) chats.push_back(std::move(integ));
    }
    if (chats.empty()) return Outcome::kIgnored;  // most workspaces: one query per customer message
    notice = team_notice(tx, e, created, alert, opt);
    if (!notice) return Outcome::kIgnored;
  }
  Outcome last = Outcome::kIgnored;
  for (const auto& integ : chats) last = notify_team(e, *notice, integ, value, attempt, pool, producer, keys, opt);
  return last;
}

Outcome handle_event(const std::string& value, int attempt, store::Pool& pool, kafka::Producer& producer,
                     const crypto::Keyring& keys, const Options& opt) {
  events::TicketEvent e;
  try {
    e = events::ticket_event_from_json(value);
  } catch (const events::UnknownEventType&) {  // a newer writer's event: not ours to act on
    return Outcome::kIgnored;
  }
  if (const auto* created = std::get_if<events::MessageCreated>(&e.data))
    return deliver_message(e, *created, value, attempt, pool, producer, keys, opt);
  if (const auto* created = std::get_if<events::TicketCreated>(&e.data)) {
    const auto* channel = providers::find_channel(created->ticket.channel);
    if (channel && !channel->received_notice) return Outcome::kIgnored;
    return notify(MailKind::kReceived, e, value, attempt, pool, producer, keys, opt);
  }
  if (const auto* updated = std::get_if<events::TicketUpdated>(&e.data);
      updated && updated->status && updated->status->to == "resolved")
    return notify(MailKind::kCsatSurvey, e, value, attempt, pool, producer, keys, opt);
  if (const auto* asked = std::get_if<events::TranscriptRequested>(&e.data))
    return notify(MailKind::kTranscript, e, value, attempt, pool, producer, keys, opt, asked);
  return Outcome::kIgnored;
}

}  // namespace loket::outbound
