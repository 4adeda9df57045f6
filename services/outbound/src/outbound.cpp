#include "outbound.hpp"

#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/log.hpp"
#include "loket/ops/metrics.hpp"
#include "loket/core/time.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/telegram/telegram.hpp"
#include "loket/providers/twilio/twilio.hpp"
#include "loket/providers/whatsapp_cloud/whatsapp_cloud.hpp"
#include "loket/store/tickets.hpp"

namespace loket::outbound {
namespace {

// Where a reply goes: the integration that sends it and the recipient, or why it cannot go.
struct Target {
  std::optional<store::Integration> integ;
  std::string to;
  std::string unavailable;  ///< the error to record when integ is missing or disconnected
};

Target target_for(pqxx::transaction_base& tx, const std::string& channel, const std::string& workspace_id,
                  const rapidjson::Value& route) {
  Target t;
  auto thread = core::json_string(route, "externalThreadId").value_or("");
  if (channel == "telegram") {
    if (auto id = core::json_string(route, "integrationId")) t.integ = store::find_integration(tx, *id);
    t.to = thread;
    t.unavailable = "the Telegram bot of this ticket is disconnected";
  } else {
    t.integ = store::latest_integration(tx, workspace_id,
                                        {providers::twilio::kIntegration, providers::whatsapp_cloud::kProvider});
    t.to = core::json_string(route, "requesterPhone").value_or(thread);
    t.unavailable = "no WhatsApp number is connected to this workspace (connect one under Channels)";
  }
  return t;
}

// Sends `text` with the integration's decrypted credentials; returns the provider message id.
std::string send(const Options& opt, const store::Integration& integ, const std::string& creds,
                 const std::string& to, const std::string& text) {
  namespace tw = providers::twilio;
  namespace wc = providers::whatsapp_cloud;
  if (integ.provider == tw::kIntegration) {
    auto c = tw::credentials_from_json(creds);
    std::string callback;
    if (!opt.public_webhook_url.empty() && !c.webhook_secret.empty())
      callback = opt.public_webhook_url + "/api/v1/webhooks/twilio/whatsapp?secret=" + c.webhook_secret;
    return tw::Client(opt.endpoints.twilio).send_message(c, integ.number, to, text, callback);
  }
  if (integ.provider == wc::kProvider)
    return wc::Client(opt.endpoints).send_text(wc::credentials_from_json(creds).access_token, integ.routing_key, to, text);
  // Bot message ids are per chat: "<chat>:<id>", the same shape as inbound Telegram ids.
  return to + ":" + std::to_string(providers::telegram::Client(opt.endpoints.telegram).send_message(creds, to, text));
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
        "integration_id = coalesce(nullif($4, ''), integration_id), "
        "external_message_id = coalesce(nullif($5, ''), external_message_id) WHERE id = $1",
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

std::string wrap(const std::string& event_json, int attempt, std::int64_t not_before_ms,
                 const std::string& error) {
  return "{\"eventId\":\"" + core::new_id("evt") + "\",\"schemaVersion\":1,\"attempt\":" +
         std::to_string(attempt) + ",\"notBeforeMs\":" + std::to_string(not_before_ms) +
         ",\"lastError\":\"" + core::json_escape(error) + "\",\"event\":" + event_json + "}";
}

void publish(kafka::Producer& producer, const std::string& topic, const std::string& key,
             const std::string& value) {
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
                                                        {Outcome::kFailed, "failed"},
                                                        {Outcome::kRetryScheduled, "retry_scheduled"},
                                                        {Outcome::kDeadLettered, "dead_lettered"}};
  registry().add("loket_deliveries_total", {{"provider", provider}, {"outcome", kNames.at(o)}});
  return o;
}
}  // namespace

Outcome handle_event(const std::string& value, int attempt, store::Pool& pool,
                     kafka::Producer& producer, const crypto::Keyring& keys, const Options& opt) {
  rapidjson::Document d;
  d.Parse(value.c_str(), value.size());
  if (d.HasParseError() || !d.IsObject()) return Outcome::kIgnored;
  if (core::json_string(d, "type").value_or("") != "message.created") return Outcome::kIgnored;
  const auto* data = core::json_member(d, "data");
  const auto* msg = data ? core::json_member(*data, "message") : nullptr;
  const auto* route = data ? core::json_member(*data, "route") : nullptr;
  if (!msg || !route) return Outcome::kIgnored;
  const auto* internal = core::json_member(*msg, "internal");
  if (core::json_string(*msg, "authorType").value_or("") != "agent" || !internal ||
      !internal->IsBool() || internal->GetBool())
    return Outcome::kIgnored;
  std::string message_id = core::json_string(*msg, "id").value_or("");
  std::string ticket_id = core::json_string(d, "ticketId").value_or("");
  std::string workspace_id = core::json_string(d, "workspaceId").value_or("");
  std::string channel = core::json_string(*route, "channel").value_or("");
  if (channel != "telegram" && channel != "whatsapp") return Outcome::kIgnored;
  core::LogScope in_event("eventId", core::json_string(d, "eventId").value_or("")),
      in_workspace("workspaceId", workspace_id);

  Target target;
  {
    auto conn = pool.acquire();
    pqxx::read_transaction tx(*conn);
    auto r = tx.exec_params("SELECT delivery_status FROM messages WHERE id = $1", message_id);
    if (r.empty() || r[0][0].is_null() || r[0][0].as<std::string>() != "pending")
      return Outcome::kAlreadyDone;
    target = target_for(tx, channel, workspace_id, *route);
  }
  const auto& integ = target.integ;
  const std::string provider = integ ? integ->provider : channel;
  if (!integ || integ->status == "disconnected" || integ->credentials.empty() || target.to.empty()) {
    record(pool, workspace_id, ticket_id, message_id, "failed",
           target.to.empty() ? "the ticket has no recipient on " + channel : target.unavailable, provider);
    return counted(Outcome::kFailed, provider);
  }
  std::string error, provider_message_id;
  bool retryable = false;
  int retry_after = 0;
  auto sending = std::chrono::steady_clock::now();
  try {
    provider_message_id = send(opt, *integ, keys.decrypt(integ->credentials, integ->credentials_key_id, integ->id),
                               target.to, core::json_string(*msg, "body").value_or(""));
  } catch (const providers::ProviderError& e) {
    error = e.what();
    retryable = e.retryable();
    retry_after = e.retry_after_seconds();
  } catch (const std::exception& e) {  // undecryptable or unreadable credentials: permanent
    error = e.what();
  }
  registry().observe_since("loket_delivery_seconds", {{"provider", provider}}, sending);
  if (error.empty()) {
    record(pool, workspace_id, ticket_id, message_id, "sent", "", provider, integ->id, provider_message_id);
    core::log(core::Level::kInfo, "reply delivered", {{"messageId", message_id}, {"provider", provider}});
    return counted(Outcome::kSent, provider);
  }
  core::log(core::Level::kWarn, "reply delivery failed",
            {{"messageId", message_id}, {"attempt", std::to_string(attempt)}, {"error", error},
             {"retryable", retryable ? "true" : "false"}});
  if (!retryable) {
    record(pool, workspace_id, ticket_id, message_id, "failed", error, provider);
    return counted(Outcome::kFailed, provider);
  }
  if (attempt >= opt.max_attempts) {
    publish(producer, kafka::kOutboundDlqTopic, ticket_id, wrap(value, attempt, 0, error));
    record(pool, workspace_id, ticket_id, message_id, "failed",
           error + " (gave up after " + std::to_string(attempt) + " attempts)", provider);
    return counted(Outcome::kDeadLettered, provider);
  }
  auto delay = std::min<std::chrono::milliseconds>(opt.base_backoff * (1 << (attempt - 1)),
                                                   std::chrono::seconds(60));
  if (retry_after > 0) delay = std::max<std::chrono::milliseconds>(delay, std::chrono::seconds(retry_after));
  publish(producer, kafka::kOutboundRetryTopic, ticket_id,
          wrap(value, attempt + 1, core::now_ms() + delay.count(), error));
  record(pool, workspace_id, ticket_id, message_id, "pending", error, provider);
  return counted(Outcome::kRetryScheduled, provider);
}

}  // namespace loket::outbound
