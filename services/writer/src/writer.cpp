#include "writer.hpp"

#include <thread>

#include "loket/core/json.hpp"
#include "loket/core/lifecycle.hpp"
#include "loket/core/log.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/telegram/telegram.hpp"
#include "loket/providers/twilio/twilio.hpp"
#include "loket/providers/whatsapp_cloud/whatsapp_cloud.hpp"
#include "loket/store/tickets.hpp"

namespace loket::writer {

Result write_message(store::Pool& pool, const events::InboundMessage& m,
                     const AttachmentFetcher& fetch, const Settings& settings) {
  // Cheap pre-check outside the write transaction so duplicates never refetch attachments.
  std::optional<store::Integration> integ;
  {
    auto conn = pool.acquire();
    pqxx::read_transaction tx(*conn);
    if (store::message_exists(tx, m.integration_id, m.external_message_id)) return Result::kDuplicate;
    integ = store::find_integration(tx, m.integration_id);
  }
  if (!integ) return Result::kUnknownIntegration;

  std::vector<store::NewAttachment> files;
  for (const auto& ref : m.attachments) {
    store::NewAttachment a;
    a.filename = ref.filename;
    a.content_type = ref.content_type;
    a.external_ref = ref.external_ref;
    a.size = ref.size;
    a.data = fetch ? fetch(*integ, ref) : std::nullopt;
    files.push_back(std::move(a));
  }

  return store::with_tx(pool, [&](pqxx::work& tx) {
    const std::string& ws = integ->workspace_id;
    std::string access_token;
    store::lock_thread(tx, ws, m.channel, m.external_thread_id);
    if (store::message_exists(tx, m.integration_id, m.external_message_id)) return Result::kDuplicate;
    auto ticket = store::find_open_thread(tx, ws, m.channel, m.external_thread_id);
    Result result = Result::kAppended;
    if (!ticket) {
      store::NewTicket n;
      n.workspace_id = ws;
      n.subject = store::subject_from_text(m.text, m.channel);
      n.channel = m.channel;
      n.integration_id = m.integration_id;
      n.external_thread_id = m.external_thread_id;
      if (!m.sender.name.empty()) n.requester_name = m.sender.name;
      if (!m.sender.email.empty()) n.requester_email = m.sender.email;
      if (!m.sender.phone.empty()) n.requester_phone = m.sender.phone;
      ticket = store::create_ticket(tx, n, settings.keys, &access_token);
      result = Result::kCreatedTicket;
    } else {
      // One write: replies go out via the bot the customer used last; the thread is touched.
      tx.exec_params0("UPDATE tickets SET integration_id = $2, updated_at = now() WHERE id = $1",
                      ticket->id, m.integration_id);
      ticket->integration_id = m.integration_id;
      store::set_status(tx, *ticket, "open");
    }
    store::NewMessage msg;
    msg.author_type = "requester";
    msg.author_name = m.sender.name;
    msg.body = m.text;
    msg.integration_id = m.integration_id;
    msg.external_message_id = m.external_message_id;
    store::add_message(tx, *ticket, msg, files);
    if (result == Result::kCreatedTicket) store::add_auto_reply(tx, *ticket, access_token, settings.public_app_url);
    return result;
  });
}

bool apply_receipt(store::Pool& pool, const events::DeliveryReceipt& r) {
  return store::with_tx(pool, [&](pqxx::work& tx) {
    auto row = tx.exec_params(
        "UPDATE messages SET delivery_status = 'failed', delivery_error = $3 "
        "WHERE integration_id = $1 AND external_message_id = $2 AND author_type = 'agent' "
        "AND delivery_status IS DISTINCT FROM 'failed' RETURNING id, ticket_id, workspace_id",
        r.integration_id, r.external_message_id, r.error);
    if (row.empty()) return false;
    rapidjson::StringBuffer sb;
    core::JsonWriter w(sb);
    w.StartObject();
    core::json_kv(w, "messageId", row[0][0].as<std::string>());
    core::json_kv(w, "provider", r.provider);
    core::json_kv(w, "status", "failed");
    core::json_kv(w, "error", r.error);
    w.EndObject();
    store::emit_ticket_event(tx, "message.delivery_updated", row[0][2].as<std::string>(), row[0][1].as<std::string>(),
                             sb.GetString());
    return true;
  });
}

AttachmentFetcher provider_fetcher(const crypto::Keyring& keys, providers::Endpoints endpoints) {
  return [&keys, ep = std::move(endpoints)](const store::Integration& integ,
                                            const events::AttachmentRef& ref) -> std::optional<std::string> {
    if (integ.credentials.empty()) return std::nullopt;
    std::function<std::string(const std::string&)> download;  // decrypted credentials → bytes
    if (integ.provider == "telegram_bot")
      download = [&](const std::string& token) {
        return providers::telegram::Client(ep.telegram).download_file(token, ref.external_ref).bytes;
      };
    else if (integ.provider == providers::twilio::kIntegration)
      download = [&](const std::string& creds) {
        return providers::twilio::Client(ep.twilio).download_media(
            providers::twilio::credentials_from_json(creds), ref.external_ref);
      };
    else if (integ.provider == providers::whatsapp_cloud::kProvider)
      download = [&](const std::string& creds) {
        return providers::whatsapp_cloud::Client(ep)
            .download_media(providers::whatsapp_cloud::credentials_from_json(creds).access_token, ref.external_ref)
            .bytes;
      };
    else
      return std::nullopt;
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
        return download(creds);
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

void record_message(store::Pool& pool, const events::InboundMessage& m, const AttachmentFetcher& fetch,
                    const Settings& settings) {
  auto r = write_message(pool, m, fetch, settings);
  static const char* kResults[] = {"created_ticket", "appended", "duplicate", "unknown_integration"};
  registry().add("loket_messages_written_total", {{"result", kResults[static_cast<int>(r)]}});
  if (r == Result::kUnknownIntegration)
    core::log(core::Level::kWarn, "message for an unknown integration; skipped", {{"integrationId", m.integration_id}});
  else if (r == Result::kDuplicate)
    core::log(core::Level::kDebug, "duplicate message dropped");
}
}  // namespace

bool process_batch(store::Pool& pool, const std::vector<kafka::Record>& batch,
                   const AttachmentFetcher& fetch, const Settings& settings, const std::function<bool()>& stop) {
  for (const auto& rec : batch) {
    try {
      if (events::is_delivery_receipt(rec.value)) {
        auto r = events::delivery_receipt_from_json(rec.value);
        core::LogScope in_event("eventId", r.event_id), in_workspace("workspaceId", r.workspace_id);
        if (!core::retry_until_done("recording a delivery receipt", [&] { record_receipt(pool, r, stop); }, stop)) return false;
      } else {
        auto m = events::inbound_message_from_json(rec.value);
        core::LogScope in_event("eventId", m.event_id), in_workspace("workspaceId", m.workspace_id);
        if (!core::retry_until_done("writing a message", [&] { record_message(pool, m, fetch, settings); }, stop)) return false;
      }
    } catch (const std::invalid_argument& e) {  // from *_from_json: the record can never be written
      core::log(core::Level::kError, "channel.inbound record is malformed; skipped",
                {{"offset", std::to_string(rec.offset)}, {"error", e.what()}});
    }
  }
  return true;
}

}  // namespace loket::writer
