#include "outbound.hpp"

#include "email.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/log.hpp"
#include "loket/core/time.hpp"
#include "loket/events/events.hpp"
#include "loket/ops/metrics.hpp"
#include "loket/providers/error.hpp"
#include "loket/store/tickets.hpp"

namespace loket::outbound {
namespace {

// Where a reply goes: the integration that sends it and the recipient, or why it cannot go.
struct Target {
  std::optional<store::Integration> integ;
  std::string to;
  std::string unavailable;  ///< the error to record when integ is missing or disconnected
};

Target target_for(pqxx::transaction_base& tx, const providers::Registry& providers,
                  const providers::ChannelDescriptor& channel, const std::string& workspace_id,
                  const rapidjson::Value& route) {
  Target t;
  auto thread = core::json_string(route, "externalThreadId").value_or("");
  if (channel.reply_to == providers::ReplyTo::kThread) {
    if (auto id = core::json_string(route, "integrationId")) t.integ = store::find_integration(tx, *id);
    t.to = thread;
    t.unavailable = "the " + channel.label + " integration of this ticket is disconnected";
  } else {
    t.integ = store::latest_integration(tx, workspace_id, providers.names_on_channel(channel.name));
    t.to = core::json_string(route, "requesterPhone").value_or(thread);
    t.unavailable = "no " + channel.label + " number is connected to this workspace (connect one under Channels)";
  }
  return t;
}

void record(store::Pool& pool, const std::string& workspace_id, const std::string& ticket_id,
            const std::string& message_id, const std::string& status, const std::string& error,
            const std::string& provider, const std::string& integration_id = "",
            const std::string& provider_message_id = "") {
  store::with_tx(pool, [&](pqxx::work& tx) {
    tx.exec_params0(
        "UPDATE messages SET delivery_status = $2, delivery_error = nullif($3, ''), "
        "delivery_attempts = delivery_attempts + 1, "
        "delivered_at = CASE WHEN $2 = 'sent' THEN now() ELSE delivered_at END, "
        // the sending integration and provider id only for a sent message
        "integration_id = CASE WHEN $2 = 'sent' THEN coalesce(nullif($4, ''), integration_id) ELSE integration_id END, "
        "external_message_id = CASE WHEN $2 = 'sent' THEN coalesce(nullif($5, ''), external_message_id) "
        "ELSE external_message_id END WHERE id = $1",
        message_id, status, error, integration_id, provider_message_id);
    if (status == "pending") return;  // attempts/error noted; no event until it settles
    rapidjson::StringBuffer sb;
    core::JsonWriter w(sb);
    w.StartObject();
    core::json_kv(w, "messageId", message_id);
    core::json_kv(w, "provider", provider);
    core::json_kv(w, "status", status);
    core::json_kv_opt(w, "error", error.empty() ? std::nullopt : std::optional(error));
    w.EndObject();
    store::emit_ticket_event(tx, "message.delivery_updated", workspace_id, ticket_id, sb.GetString());
  });
}

std::string wrap(const std::string& event_json, int attempt, std::int64_t not_before_ms, const std::string& error) {
  return events::to_json(events::DeliveryRetry{core::new_id("evt"), attempt, not_before_ms, error, event_json});
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
    a.retryable = e.retryable();
    a.retry_after = e.retry_after_seconds();
  } catch (const std::exception& e) {  // undecryptable or unreadable credentials: permanent
    a.error = e.what();
  }
  return a;
}

// Records `a` with `write(status, error)`: sent; failed; or, when retryable, a retry scheduled
// on outbound.retry until max_attempts, then outbound.dlq.
Outcome settle(const Attempt& a, const std::string& value, int attempt, const std::string& key,
               kafka::Producer& producer, const Options& opt,
               const std::function<void(const std::string&, const std::string&)>& write) {
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
    publish(producer, kafka::kOutboundDlqTopic, key, wrap(value, attempt, 0, a.error));
    write("failed", a.error + " (gave up after " + std::to_string(attempt) + " attempts)");
    return counted(Outcome::kDeadLettered, a.provider);
  }
  auto delay = std::min<std::chrono::milliseconds>(opt.base_backoff * (1 << (attempt - 1)), std::chrono::seconds(60));
  if (a.retry_after > 0) delay = std::max<std::chrono::milliseconds>(delay, std::chrono::seconds(a.retry_after));
  publish(producer, kafka::kOutboundRetryTopic, key, wrap(value, attempt + 1, core::now_ms() + delay.count(), a.error));
  write("pending", a.error);
  return counted(Outcome::kRetryScheduled, a.provider);
}

// A public agent or system message: delivered on the ticket's channel (Telegram, WhatsApp) or
// by email to the requester.
Outcome deliver_message(const rapidjson::Document& d, const std::string& value, int attempt, store::Pool& pool,
                        kafka::Producer& producer, const crypto::Keyring& keys, const Options& opt) {
  const auto& data = *core::json_member(d, "data");
  const auto* msg = core::json_member(data, "message");
  const auto* route = core::json_member(data, "route");
  if (!msg || !route) return Outcome::kIgnored;
  const auto* internal = core::json_member(*msg, "internal");
  std::string author_type = core::json_string(*msg, "authorType").value_or("");
  if ((author_type != "agent" && author_type != "system") || !internal || !internal->IsBool() || internal->GetBool())
    return Outcome::kIgnored;
  std::string message_id = core::json_string(*msg, "id").value_or("");
  std::string ticket_id = core::json_string(d, "ticketId").value_or("");
  std::string workspace_id = core::json_string(d, "workspaceId").value_or("");
  std::string channel = core::json_string(*route, "channel").value_or("");
  std::string body = core::json_string(*msg, "body").value_or("");
  core::LogScope in_event("eventId", core::json_string(d, "eventId").value_or("")),
      in_workspace("workspaceId", workspace_id);

  const auto& providers = *opt.providers;
  const auto* descriptor = providers::find_channel(channel);
  Target target;
  std::optional<TicketMail> mail;
  std::optional<providers::Mailer> sender;
  const bool by_email = !descriptor || descriptor->reply_to == providers::ReplyTo::kEmail;
  {
    auto conn = pool.acquire();
    pqxx::read_transaction tx(*conn);
    auto r = tx.exec_params("SELECT delivery_status FROM messages WHERE id = $1", message_id);
    if (r.empty() || r[0][0].is_null() || r[0][0].as<std::string>() != "pending") return Outcome::kAlreadyDone;
    if (by_email) {
      mail = load_ticket_mail(tx, ticket_id, keys);
      sender = sender_for(tx, workspace_id, keys, providers);
    } else {
      target = target_for(tx, providers, *descriptor, workspace_id, *route);
    }
  }
  if (by_email) {
    if (!mail) {  // the address was removed after the reply was written
      record(pool, workspace_id, ticket_id, message_id, "skipped", "the ticket has no email address", "email");
      return Outcome::kSkipped;
    }
    if (!sender) {
      record(pool, workspace_id, ticket_id, message_id, "skipped", "no email sender is configured", "email");
      return Outcome::kSkipped;
    }
    auto email = compose(MailKind::kReply, *mail, *sender, opt.email, message_id,
                         core::json_string(*msg, "authorName").value_or(""), body);
    auto a = try_send(sender->provider, [&] { return sender->send(email); });
    return settle(
        a, value, attempt, ticket_id, producer, opt, [&](const std::string& status, const std::string& error) {
          record(pool, workspace_id, ticket_id, message_id, status, error, a.provider, "", a.provider_message_id);
        });
  }
  const auto& integ = target.integ;
  const std::string provider = integ ? integ->provider : channel;
  if (!integ || integ->status == "disconnected" || integ->credentials.empty() || target.to.empty()) {
    record(pool, workspace_id, ticket_id, message_id, "failed",
           target.to.empty() ? "the ticket has no recipient on " + channel : target.unavailable, provider);
    return counted(Outcome::kFailed, provider);
  }
  const auto* adapter = providers.find(provider);
  auto sending = std::chrono::steady_clock::now();
  auto a = try_send(provider, [&] {
    if (!adapter) throw std::runtime_error("no adapter for provider " + provider);
    return adapter->send({integ->id, integ->workspace_id, integ->provider, integ->routing_key, integ->number},
                         keys.decrypt(integ->credentials, integ->credentials_key_id, integ->id), target.to, body);
  });
  registry().observe_since("loket_delivery_seconds", {{"provider", provider}}, sending);
  return settle(a, value, attempt, ticket_id, producer, opt, [&](const std::string& status, const std::string& error) {
    record(pool, workspace_id, ticket_id, message_id, status, error, provider, integ->id, a.provider_message_id);
  });
}

// The ticket-received email (on ticket.created) and the CSAT survey (on resolution): one row in
// `notifications` per ticket and kind, so a redelivered event never sends twice.
Outcome notify(MailKind kind, const rapidjson::Document& d, const std::string& value, int attempt, store::Pool& pool,
               kafka::Producer& producer, const crypto::Keyring& keys, const Options& opt) {
  std::string ticket_id = core::json_string(d, "ticketId").value_or("");
  std::string workspace_id = core::json_string(d, "workspaceId").value_or("");
  const char* kind_name = kind == MailKind::kReceived ? "ticket_received" : "csat_survey";
  core::LogScope in_event("eventId", core::json_string(d, "eventId").value_or("")),
      in_workspace("workspaceId", workspace_id);
  std::optional<TicketMail> mail;
  std::optional<providers::Mailer> sender;
  std::string id;
  bool pending = store::with_tx(pool, [&](pqxx::work& tx) {
    mail = load_ticket_mail(tx, ticket_id, keys);
    if (!mail) return false;  // no address (WhatsApp, Telegram): nothing to send, nothing to record
    tx.exec_params0(
        "INSERT INTO notifications (id, workspace_id, ticket_id, kind, recipient, status) "
        "VALUES ($1, $2, $3, $4, $5, 'pending') ON CONFLICT (ticket_id, kind) DO NOTHING",
        core::new_id("ntf"), workspace_id, ticket_id, kind_name, mail->requester_email);
    auto r =
        tx.exec_params("SELECT id, status FROM notifications WHERE ticket_id = $1 AND kind = $2", ticket_id, kind_name);
    id = r[0][0].as<std::string>();
    if (r[0][1].as<std::string>() != "pending") return false;
    sender = sender_for(tx, workspace_id, keys, *opt.providers);
    return true;
  });
  if (!pending) return mail ? Outcome::kAlreadyDone : Outcome::kIgnored;
  auto write = [&](const std::string& status, const std::string& error, const std::string& provider_id) {
    store::with_tx(pool, [&](pqxx::work& tx) {
      tx.exec_params0(
          "UPDATE notifications SET status = $2, error = nullif($3, ''), attempts = attempts + 1, "
          "provider_message_id = nullif($4, ''), sent_at = CASE WHEN $2 = 'sent' THEN now() END WHERE id = $1",
          id, status, error, provider_id);
    });
  };
  if (!sender) {
    write("skipped", "no email sender is configured (a platform sender, or an email integration of the workspace)", "");
    return Outcome::kSkipped;
  }
  auto email = compose(kind, *mail, *sender, opt.email);
  auto a = try_send(sender->provider, [&] { return sender->send(email); });
  return settle(a, value, attempt, ticket_id, producer, opt, [&](const std::string& status, const std::string& error) {
    write(status, error, a.provider_message_id);
  });
}
}  // namespace

Outcome handle_event(const std::string& value, int attempt, store::Pool& pool, kafka::Producer& producer,
                     const crypto::Keyring& keys, const Options& opt) {
  rapidjson::Document d;
  d.Parse(value.c_str(), value.size());
  if (d.HasParseError() || !d.IsObject() || !core::json_member(d, "data")) return Outcome::kIgnored;
  std::string type = core::json_string(d, "type").value_or("");
  if (type == "message.created") return deliver_message(d, value, attempt, pool, producer, keys, opt);
  if (type == "ticket.created") return notify(MailKind::kReceived, d, value, attempt, pool, producer, keys, opt);
  if (type == "ticket.updated") {
    const auto* changes = core::json_member(d["data"], "changes");
    const auto* status = changes ? core::json_member(*changes, "status") : nullptr;
    if (status && core::json_string(*status, "to").value_or("") == "resolved")
      return notify(MailKind::kCsatSurvey, d, value, attempt, pool, producer, keys, opt);
  }
  return Outcome::kIgnored;
}

}  // namespace loket::outbound
