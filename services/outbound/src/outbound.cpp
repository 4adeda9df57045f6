#include "outbound.hpp"

#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/log.hpp"
#include "loket/core/time.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/telegram/telegram.hpp"
#include "loket/store/tickets.hpp"

namespace loket::outbound {
namespace {

void record(store::Pool& pool, const std::string& workspace_id, const std::string& ticket_id,
            const std::string& message_id, const std::string& status, const std::string& error,
            const std::string& provider) {
  store::with_tx(pool, [&](pqxx::work& tx) {
    tx.exec_params0(
        "UPDATE messages SET delivery_status = $2, delivery_error = nullif($3, ''), "
        "delivery_attempts = delivery_attempts + 1, "
        "delivered_at = CASE WHEN $2 = 'sent' THEN now() ELSE delivered_at END WHERE id = $1",
        message_id, status, error);
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
  auto integration_id = core::json_string(*route, "integrationId");
  auto thread = core::json_string(*route, "externalThreadId");
  if (channel != "telegram" || !integration_id || !thread) return Outcome::kIgnored;

  std::optional<store::Integration> integ;
  {
    auto conn = pool.acquire();
    pqxx::read_transaction tx(*conn);
    auto r = tx.exec_params("SELECT delivery_status, body FROM messages WHERE id = $1", message_id);
    if (r.empty() || r[0][0].is_null() || r[0][0].as<std::string>() != "pending")
      return Outcome::kAlreadyDone;
    integ = store::find_integration(tx, *integration_id);
  }
  const std::string provider = "telegram";
  if (!integ || integ->status == "disconnected" || integ->credentials.empty()) {
    record(pool, workspace_id, ticket_id, message_id, "failed",
           "the Telegram bot of this ticket is disconnected", provider);
    return Outcome::kFailed;
  }
  std::string error;
  bool retryable = false;
  int retry_after = 0;
  try {
    std::string token = keys.decrypt(integ->credentials, integ->credentials_key_id, integ->id);
    providers::telegram::Client(opt.telegram_api_base)
        .send_message(token, *thread, core::json_string(*msg, "body").value_or(""));
  } catch (const providers::ProviderError& e) {
    error = e.what();
    retryable = e.retryable();
    retry_after = e.retry_after_seconds();
  } catch (const std::runtime_error& e) {  // undecryptable credentials: permanent
    error = e.what();
  }
  if (error.empty()) {
    record(pool, workspace_id, ticket_id, message_id, "sent", "", provider);
    core::log(core::Level::kInfo, "reply delivered", {{"messageId", message_id}, {"provider", provider}});
    return Outcome::kSent;
  }
  core::log(core::Level::kWarn, "reply delivery failed",
            {{"messageId", message_id}, {"attempt", std::to_string(attempt)}, {"error", error},
             {"retryable", retryable ? "true" : "false"}});
  if (!retryable) {
    record(pool, workspace_id, ticket_id, message_id, "failed", error, provider);
    return Outcome::kFailed;
  }
  if (attempt >= opt.max_attempts) {
    publish(producer, kafka::kOutboundDlqTopic, ticket_id, wrap(value, attempt, 0, error));
    record(pool, workspace_id, ticket_id, message_id, "failed",
           error + " (gave up after " + std::to_string(attempt) + " attempts)", provider);
    return Outcome::kDeadLettered;
  }
  auto delay = std::min<std::chrono::milliseconds>(opt.base_backoff * (1 << (attempt - 1)),
                                                   std::chrono::seconds(60));
  if (retry_after > 0) delay = std::max<std::chrono::milliseconds>(delay, std::chrono::seconds(retry_after));
  publish(producer, kafka::kOutboundRetryTopic, ticket_id,
          wrap(value, attempt + 1, core::now_ms() + delay.count(), error));
  record(pool, workspace_id, ticket_id, message_id, "pending", error, provider);
  return Outcome::kRetryScheduled;
}

}  // namespace loket::outbound
