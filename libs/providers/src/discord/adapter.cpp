// Discord webhooks as a providers::Adapter (shared/reference/providers.md §9): connect
// validates the URL with a test message; notify_team executes the webhook with an embed.
#include "loket/providers/discord/discord.hpp"

#include <cmath>

#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/providers/error.hpp"

namespace loket::providers::discord {
namespace {
constexpr int kNewTicketColor = 0x2f81f7, kReplyColor = 0x3fb950, kSlaWarningColor = 0xd29922,
              kSlaBreachedColor = 0xf85149;

// Executes the webhook with `body` and ?wait=true (Discord then answers with the message, or
// with an error instead of dropping it silently); returns the message id.
std::string execute(const std::string& url, const std::string& body) {
  auto res = post_webhook(url + (url.find('?') == std::string::npos ? "?wait=true" : "&wait=true"), body);
  rapidjson::Document d;
  d.Parse(res.body.c_str(), res.body.size());
  const bool object = !d.HasParseError() && d.IsObject();
  if (res.ok()) return object ? core::json_string(d, "id").value_or("") : "";
  if (res.refused) throw ProviderError("Discord: " + res.error, 0, false);
  const auto code = object ? core::json_int(d, "code").value_or(0) : 0;
  std::string reason = object ? core::json_string(d, "message").value_or("") : "";
  reason = core::utf8_truncate(code ? reason + " (code " + std::to_string(code) + ")" : reason, 200);
  if (res.status == 404 || res.status == 401 || code == 10015 || code == 50027)
    throw IntegrationGone("Discord: the webhook is gone (" +
                              (reason.empty() ? "HTTP " + std::to_string(res.status) : reason) +
                              "); create a new one and connect it again",
                          res.status);
  int retry_after = res.retry_after_seconds();  // seconds, decimals allowed: rounded up
  if (const auto* v = object ? core::json_member(d, "retry_after") : nullptr; v && v->IsNumber())
    retry_after = std::max(retry_after, static_cast<int>(std::ceil(std::min(v->GetDouble(), 86400.0))));
  throw error_from_response("Discord", res, reason, retry_after);
}

class DiscordAdapter final : public Adapter {
 public:
  explicit DiscordAdapter(const Settings& s)
      : hosts_(host_list(s, "LOKET_DISCORD_WEBHOOK_HOSTS", {"discord.com", "discordapp.com"})) {}

  const ProviderDescriptor& descriptor() const override {
    static const ProviderDescriptor d{kIntegration, "", "", "Discord", "DISCORD", false, false, false, true};
    return d;
  }

  Connection connect(const rapidjson::Value& body) const override {
    const std::string url =
        webhook_url_field(body, "webhookUrl", hosts_, "/api/webhooks/", "https://discord.com/api/webhooks/…/…");
    execute(url, R"({"content":"Loket connected ✓","allowed_mentions":{"parse":[]}})");
    Connection c;
    c.routing_key = core::to_hex(crypto::sha256(url));  // one integration per webhook
    c.display_name = "Discord";
    c.secrets = [url](const std::string&) { return Secrets{webhook_credentials(url), "", {}}; };
    return c;
  }

  std::string notify_team(const std::string& credentials, const TeamNotice& n) const override {
    return execute(webhook_url_of(credentials), notice_json(n));
  }

 private:
  std::vector<std::string> hosts_;
};

void field(core::JsonWriter& w, const char* name, const std::string& value) {
  w.StartObject();
  core::json_kv(w, "name", name);
  core::json_kv(w, "value", value.empty() ? "—" : core::utf8_truncate(value, 1024));
  core::json_put(w, "inline");
  w.Bool(true);
  w.EndObject();
}
}  // namespace

std::string notice_json(const TeamNotice& n) {
  const std::string number = "#" + std::to_string(n.number);
  std::string what, footer;  // "New ticket ", "new ticket"
  int color = kNewTicketColor;
  switch (n.kind) {
    case TeamNotice::Kind::kNewTicket:
      what = "New ticket ", footer = "new ticket";
      break;
    case TeamNotice::Kind::kCustomerReply:
      what = "Customer replied on ", footer = "customer reply", color = kReplyColor;
      break;
    case TeamNotice::Kind::kSlaWarning:
      what = "SLA at risk: " + n.sla_target + " due " + n.due_at + " on ", footer = "SLA at risk";
      color = kSlaWarningColor;
      break;
    case TeamNotice::Kind::kSlaBreached:
      what = "SLA breached: " + n.sla_target + " was due " + n.due_at + " on ", footer = "SLA breached";
      color = kSlaBreachedColor;
      break;
  }
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "content", core::utf8_truncate(what + number + " from " + n.requester, 300));
  core::json_put(w, "allowed_mentions");
  w.StartObject();
  core::json_put(w, "parse");
  w.StartArray();
  w.EndArray();
  w.EndObject();
  core::json_put(w, "embeds");
  w.StartArray();
  w.StartObject();
  core::json_kv(w, "title", core::utf8_truncate(number + " " + n.subject, 256));
  if (n.link.rfind("https://", 0) == 0 || n.link.rfind("http://", 0) == 0) core::json_kv(w, "url", n.link);
  if (!n.excerpt.empty()) core::json_kv(w, "description", core::utf8_truncate(n.excerpt, 4096));
  core::json_put(w, "color");
  w.Int(color);
  if (!n.occurred_at.empty()) core::json_kv(w, "timestamp", n.occurred_at);
  core::json_put(w, "fields");
  w.StartArray();
  field(w, "From", n.requester);
  field(w, "Channel", n.channel);
  w.EndArray();
  core::json_put(w, "footer");
  w.StartObject();
  core::json_kv(w, "text", core::utf8_truncate(n.workspace + " · " + footer, 2048));
  w.EndObject();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return sb.GetString();
}

std::unique_ptr<Adapter> make_adapter(const Settings& settings) { return std::make_unique<DiscordAdapter>(settings); }

}  // namespace loket::providers::discord
