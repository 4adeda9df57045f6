// Email in as a providers::Adapter (issue 16): the MIME ingress, routed by envelope recipient.
#include "loket/core/ids.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/mime/email.hpp"
#include "loket/providers/email/email.hpp"
#include "loket/providers/email/reply_address.hpp"

namespace loket::providers::email {
namespace {
constexpr std::string_view kAccountPrefix = "acc_";

class EmailAdapter final : public Adapter {
 public:
  explicit EmailAdapter(const Settings& s)
      : domain_(core::to_lower(s.get("LOKET_INBOUND_EMAIL_DOMAIN"))), password_(s.get("LOKET_EMAIL_INGRESS_PASSWORD")) {
    if (auto spec = s.get("LOKET_MASTER_KEY"); !spec.empty()) {
      try {
        keys_ = std::make_unique<crypto::Keyring>(crypto::Keyring::parse(spec));
      } catch (const std::invalid_argument&) {  // the service that reads it refuses to start anyway
      }
    }
  }

  const ProviderDescriptor& descriptor() const override {
    static const ProviderDescriptor d = [] {
      ProviderDescriptor x{kProvider, kWebhook, "email", "Email", ""};
      x.platform = true;
      return x;
    }();
    return d;
  }

  std::optional<WebhookEndpoint> webhook() const override {
    if (domain_.empty() || password_.empty()) return std::nullopt;
    return WebhookEndpoint{kWebhookPath, false,
                           false,        "use POST with the raw message (Content-Type: message/rfc822)",
                           401,          "the HTTP Basic password is not LOKET_EMAIL_INGRESS_PASSWORD"};
  }

  std::vector<WebhookTarget> route(const http::Request& req, std::string_view) const override {
    std::string recipient = core::to_lower(core::trim(req.query_param("recipient")));
    if (recipient.empty() || recipient.size() > 320)
      throw Refusal::invalid("recipient (the envelope recipient, e.g. ${recipient} in Postfix) is required");
    std::optional<std::string> account;
    if (auto token = token_in_address(recipient, domain_)) {
      if (auto target = keys_ ? read_reply_token(*keys_, *token) : std::nullopt) account = target->account_id;
    } else {
      account = account_of_alias(recipient, domain_);
    }
    if (!account) throw Refusal(404, "NOT_FOUND", "no workspace receives mail at " + recipient);
    return {{RouteBy::kRoutingKey, *account, recipient, *account}};
  }

  bool authenticate(const http::Request& req, const std::string&, const WebhookSecrets&) const override {
    std::string auth = req.header("authorization");
    const std::string scheme = "Basic ";
    if (password_.empty() || auth.compare(0, scheme.size(), scheme) != 0) return false;
    auto decoded = core::from_base64(core::trim(auth.substr(scheme.size())));
    if (!decoded) return false;
    auto colon = decoded->find(':');
    return colon != std::string::npos && crypto::constant_time_equal(decoded->substr(colon + 1), password_);
  }

  Normalized normalize(const events::RawWebhook& raw) const override { return email::normalize(raw); }

 private:
  std::string domain_, password_;
  std::unique_ptr<crypto::Keyring> keys_;
};
}  // namespace

std::string alias_address(std::string_view account_id, std::string_view domain) {
  return std::string(account_id) + "@" + std::string(domain);
}

std::optional<std::string> account_of_alias(std::string_view address, std::string_view domain) {
  std::string a = core::to_lower(core::trim(address)), d = core::to_lower(domain);
  auto at = a.rfind('@');
  if (d.empty() || at == std::string::npos || a.substr(at + 1) != d) return std::nullopt;
  std::string local = a.substr(0, at);
  if (local.size() != kAccountPrefix.size() + 24 || local.compare(0, kAccountPrefix.size(), kAccountPrefix) != 0 ||
      local.find_first_not_of("0123456789abcdef", kAccountPrefix.size()) != std::string::npos)
    return std::nullopt;
  return local;
}

Normalized normalize(const events::RawWebhook& raw) {
  Normalized out;
  mime::ParsedEmail m;
  try {
    m = mime::parse_email(raw.body);
  } catch (const mime::EmailError&) {
    out.dropped.push_back("unreadable_email");
    return out;
  }
  if (m.bounce) {  // a delivery failure of ours, not a customer's message
    out.dropped.push_back("bounce");
    return out;
  }
  const mime::Mailbox& who = m.reply_to ? *m.reply_to : m.from;
  if (who.address.empty()) {
    out.dropped.push_back("no_sender");
    return out;
  }
  auto msg = new_message(raw, kWebhook, "email");
  msg.sender.external_id = core::to_lower(who.address);
  msg.sender.email = msg.sender.external_id;
  msg.sender.name = who.name;
  msg.external_message_id = m.message_id.empty() ? "sha256:" + core::to_hex(crypto::sha256(raw.body)) : m.message_id;
  msg.external_thread_id = msg.external_message_id;  // one conversation per new email
  msg.subject = m.subject;
  msg.text = mime::split_reply(m.text).reply;
  if (m.date_ms > 0) msg.sent_at_ms = m.date_ms;
  out.messages.push_back(std::move(msg));
  return out;
}

std::unique_ptr<Adapter> make_adapter(const Settings& settings) { return std::make_unique<EmailAdapter>(settings); }

}  // namespace loket::providers::email
