// Email in as a providers::Adapter (issue 16): the MIME ingress, routed by envelope recipient.
#include <algorithm>

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
      : domain_(core::to_lower(s.get("LOKET_INBOUND_EMAIL_DOMAIN"))),
        password_(s.get("LOKET_EMAIL_INGRESS_PASSWORD")),
        max_bytes_(max_email_bytes(s)),
        keys_(reply_keys(s)) {}

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
                           401,          "the HTTP Basic password is not LOKET_EMAIL_INGRESS_PASSWORD",
                           max_bytes_};
  }

  std::vector<WebhookTarget> route(const http::Request& req, std::string_view) const override {
    std::string recipient = core::to_lower(core::trim(req.query_param("recipient")));
    if (recipient.empty() || recipient.size() > 320)
      throw Refusal::invalid("recipient (the envelope recipient, e.g. ${recipient} in Postfix) is required");
    auto account = workspace_of_recipient(recipient, domain_, keys_.get());
    if (!account) throw Refusal(404, "NOT_FOUND", "no workspace receives mail at " + recipient);
    // The envelope recipient travels as the routing key: a reply address there threads the mail
    // even when its headers name someone else (a forward, a Bcc).
    return {{RouteBy::kRoutingKey, *account, recipient, recipient}};
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

  std::optional<std::string> platform_address(const std::string& workspace_id) const override {
    if (!webhook()) return std::nullopt;
    return alias_address(workspace_id, domain_);
  }

  Normalized normalize(const events::RawWebhook& raw) const override {
    return email::normalize(raw, keys_.get(), domain_);
  }

 private:
  std::string domain_, password_;
  std::size_t max_bytes_;
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

std::optional<std::string> workspace_of_recipient(std::string_view recipient, std::string_view domain,
                                                  const crypto::Keyring* keys) {
  if (auto token = token_in_address(recipient, domain)) {
    auto target = keys ? read_reply_token(*keys, *token) : std::nullopt;
    return target ? std::optional(target->account_id) : std::nullopt;
  }
  return account_of_alias(recipient, domain);
}

std::unique_ptr<crypto::Keyring> reply_keys(const Settings& settings) {
  if (auto spec = settings.get("LOKET_MASTER_KEY"); !spec.empty()) {
    try {
      return std::make_unique<crypto::Keyring>(crypto::Keyring::parse(spec));
    } catch (const std::invalid_argument&) {
    }
  }
  return nullptr;
}

std::size_t max_email_bytes(const Settings& settings) {
  const std::string v = core::trim(settings.get("LOKET_EMAIL_MAX_BYTES"));
  if (v.empty()) return kMaxEmailBytes;
  if (v.size() > 12 || v.find_first_not_of("0123456789") != std::string::npos)
    throw std::invalid_argument("LOKET_EMAIL_MAX_BYTES must be a number of bytes, e.g. 26214400 (25 MiB)");
  return std::clamp<std::size_t>(std::stoull(v), 1024, kMaxEmailBytes);
}

std::int64_t ticket_number_in_subject(std::string_view subject) {
  for (auto open = subject.rfind("[#"); open != std::string_view::npos;
       open = open == 0 ? std::string_view::npos : subject.rfind("[#", open - 1)) {
    auto close = subject.find(']', open);
    auto digits = subject.substr(open + 2, close == std::string_view::npos ? 0 : close - open - 2);
    if (!digits.empty() && digits.size() <= 15 && digits.find_first_not_of("0123456789") == std::string_view::npos &&
        digits[0] != '0')
      return std::stoll(std::string(digits));
  }
  return 0;
}

Normalized normalize(const events::RawWebhook& raw, const crypto::Keyring* keys, std::string_view domain) {
  Normalized out;
  mime::ParsedEmail m;
  try {
    m = mime::parse_email(raw.body);
  } catch (const mime::EmailError&) {
    out.dropped.push_back("unreadable_email");
    return out;
  }
  if (m.bounce) {  // a delivery failure of ours, not a customer's message: the failed mail fails
    const auto& b = *m.bounce;
    if (b.original_message_id.empty() || b.original_message_id.size() > kMaxMessageIdBytes) {
      out.dropped.push_back("bounce");
      return out;
    }
    auto r = new_failure(
        raw, kWebhook, core::to_lower(b.recipient), b.original_message_id,
        core::utf8_truncate(b.diagnostic.empty() ? "the recipient's mail server refused it" : b.diagnostic, 500));
    r.sent_message_id = b.original_message_id;
    out.receipts.push_back(std::move(r));
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
  msg.subject = m.subject;
  auto parts = mime::split_reply(m.text);
  msg.text = std::move(parts.reply);
  msg.quoted_text = std::move(parts.quoted);
  if (m.date_ms > 0) msg.sent_at_ms = m.date_ms;
  for (const auto& c : m.cc)
    if (!c.address.empty() && msg.cc.size() < kMaxAddresses) msg.cc.push_back(core::to_lower(c.address));
  msg.automated = m.automated;
  msg.source = raw.body;

  // Threading (issue 16): a verified reply address of this workspace — the envelope recipient
  // first, then To and Cc —, the Message-IDs it answers, a ticket number in the subject.
  auto& hints = msg.thread_hints;
  std::vector<std::string> recipients{raw.routing_key};
  for (const auto* list : {&m.to, &m.cc})
    for (const auto& r : *list) recipients.push_back(r.address);
  for (std::size_t i = 0; keys && i < recipients.size() && i <= kMaxAddresses && !hints.ticket_number; ++i)
    if (auto token = token_in_address(recipients[i], domain))
      if (auto target = read_reply_token(*keys, *token); target && target->account_id == raw.workspace_id)
        hints.ticket_number = target->number;
  auto answer = [&hints](const std::string& id) {
    if (!id.empty() && id.size() <= kMaxMessageIdBytes && hints.references.size() < kMaxReferences &&
        std::find(hints.references.begin(), hints.references.end(), id) == hints.references.end())
      hints.references.push_back(id);
  };
  answer(m.in_reply_to);
  for (auto it = m.references.rbegin(); it != m.references.rend(); ++it) answer(*it);
  hints.subject_number = ticket_number_in_subject(m.subject);
  // The conversation's first message names its thread, so replies that match no ticket still
  // meet in one (a closed ticket's late replies open one new ticket, not one each).
  msg.external_thread_id = !m.references.empty()    ? m.references.front()
                           : !m.in_reply_to.empty() ? m.in_reply_to
                                                    : msg.external_message_id;

  for (std::size_t i = 0; i < m.attachments.size() && i < kMaxAttachments; ++i) {
    auto& a = m.attachments[i];
    events::AttachmentRef ref;
    ref.external_ref = "part:" + std::to_string(i + 1);
    ref.filename = std::move(a.filename);
    ref.content_type = std::move(a.content_type);
    ref.size = static_cast<std::int64_t>(a.data.size());
    ref.data = std::move(a.data);
    msg.attachments.push_back(std::move(ref));
  }
  if (core::trim(msg.text).empty())
    msg.text = !msg.attachments.empty() ? attachment_placeholder(msg.attachments)
               : !m.subject.empty()     ? m.subject
                                        : "(empty email)";
  out.messages.push_back(std::move(msg));
  return out;
}

std::unique_ptr<Adapter> make_adapter(const Settings& settings) { return std::make_unique<EmailAdapter>(settings); }

}  // namespace loket::providers::email
