// Slack incoming webhooks as a providers::Adapter (shared/reference/providers.md §8): connect
// validates the URL with a test message; notify_team posts a Block Kit message.
#include "loket/providers/slack/slack.hpp"

#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/providers/error.hpp"

namespace loket::providers::slack {
namespace {
// mrkdwn control characters as entities (api.slack.com "Escaping text").
std::string escaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

void section(core::JsonWriter& w, const std::string& text) {
  w.StartObject();
  core::json_kv(w, "type", "section");
  core::json_put(w, "text");
  w.StartObject();
  core::json_kv(w, "type", "mrkdwn");
  core::json_kv(w, "text", text);
  w.EndObject();
  w.EndObject();
}

bool gone(int status, const std::string& reason) {
  for (const char* r : {"no_service", "channel_is_archived", "channel_not_found", "invalid_token", "no_team",
                        "team_disabled", "action_prohibited"})
    if (reason == r) return true;
  return status == 404 || status == 410;
}

// Posts `body`; classifies a failure once (providers.md §8 error table).
std::string post(const std::string& url, const std::string& body) {
  auto res = post_webhook(url, body);
  if (res.ok()) return "";
  if (res.refused) throw ProviderError("Slack: " + res.error, 0, false);
  const std::string reason = core::utf8_truncate(core::trim(res.body), 200);
  if (gone(res.status, reason))
    throw IntegrationGone("Slack: the webhook is gone (" +
                              (reason.empty() ? "HTTP " + std::to_string(res.status) : reason) +
                              "); create a new one and connect it again",
                          res.status);
  int retry_after = res.retry_after_seconds();
  throw error_from_response("Slack", res, reason, retry_after);
}

class SlackAdapter final : public Adapter {
 public:
  explicit SlackAdapter(const Settings& s) : hosts_(host_list(s, "LOKET_SLACK_WEBHOOK_HOSTS", {"hooks.slack.com"})) {}

  const ProviderDescriptor& descriptor() const override {
    static const ProviderDescriptor d{kIntegration, "", "", "Slack", "SLACK", false, false, false, true};
    return d;
  }

  Connection connect(const rapidjson::Value& body) const override {
    const std::string url =
        webhook_url_field(body, "webhookUrl", hosts_, "/services/", "https://hooks.slack.com/services/T…/B…/…");
    post(url, R"({"text":"Loket connected ✓"})");
    Connection c;
    c.routing_key = core::to_hex(crypto::sha256(url));  // one integration per webhook
    c.display_name = "Slack";
    c.secrets = [url](const std::string&) { return Secrets{webhook_credentials(url), "", {}}; };
    return c;
  }

  std::string notify_team(const std::string& credentials, const TeamNotice& n) const override {
    return post(webhook_url_of(credentials), notice_json(n));
  }

 private:
  std::vector<std::string> hosts_;
};
}  // namespace

std::string notice_json(const TeamNotice& n) {
  const std::string number = "#" + std::to_string(n.number);
  // A link's URL may not hold '|' or '>' (they end it); ours never do, but a bad setting must
  // not break the message.
  const bool linkable = !n.link.empty() && n.link.find_first_of("|<> ") == std::string::npos;
  const std::string ref = linkable ? "<" + n.link + "|" + number + ">" : number;
  std::string what, plain;  // "*New ticket* ", "New ticket "
  switch (n.kind) {
    case TeamNotice::Kind::kNewTicket:
      what = "*New ticket* ", plain = "New ticket ";
      break;
    case TeamNotice::Kind::kCustomerReply:
      what = "*Customer replied* on ", plain = "Customer replied on ";
      break;
    case TeamNotice::Kind::kSlaWarning:
    case TeamNotice::Kind::kSlaBreached: {
      const bool breached = n.kind == TeamNotice::Kind::kSlaBreached;
      const std::string title = breached ? "SLA breached" : "SLA at risk";
      const std::string detail = n.sla_target + (breached ? " was due " : " due ") + n.due_at + " on ";
      what = "*" + title + "*: " + escaped(detail), plain = title + ": " + detail;
      break;
    }
  }
  std::string head = what + ref + " · " + escaped(n.channel) + "\n*" + escaped(core::utf8_truncate(n.subject, 300)) +
                     "*\nfrom " + escaped(core::utf8_truncate(n.requester, 200));
  std::string quote = "> " + core::replace_all(escaped(core::utf8_truncate(n.excerpt, 1000)), "\n", "\n> ");
  std::string fallback =
      plain + number + " from " + core::utf8_truncate(n.requester, 200) + ": " + core::utf8_truncate(n.subject, 300);
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "text", escaped(fallback));
  core::json_put(w, "blocks");
  w.StartArray();
  section(w, head);
  if (!n.excerpt.empty()) section(w, quote);
  w.StartObject();
  core::json_kv(w, "type", "context");
  core::json_put(w, "elements");
  w.StartArray();
  w.StartObject();
  core::json_kv(w, "type", "mrkdwn");
  core::json_kv(w, "text", escaped(core::utf8_truncate(n.workspace, 200)) + " · Loket");
  w.EndObject();
  w.EndArray();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return sb.GetString();
}

std::unique_ptr<Adapter> make_adapter(const Settings& settings) { return std::make_unique<SlackAdapter>(settings); }

}  // namespace loket::providers::slack
