// Resend Receiving (issue 16; shared/reference/providers.md §6): the platform's inbound email
// domain hosted at Resend. Its signed `email.received` webhook names an email; inbound downloads
// the raw message and hands it to the email alias, so one normalize serves every source of mail.
#include <algorithm>

#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/providers/email/email.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/resend/resend.hpp"

namespace loket::providers::resend {

bool verify_signature(const std::vector<std::string>& secrets, std::string_view id, std::string_view timestamp,
                      std::string_view body, std::string_view signatures, std::int64_t now_s,
                      std::int64_t tolerance_s) {
  if (id.empty() || id.size() > 256 || timestamp.empty() || timestamp.size() > 12 ||
      timestamp.find_first_not_of("0123456789") != std::string_view::npos || signatures.size() > 4096)
    return false;
  const std::int64_t at = std::stoll(std::string(timestamp));
  if (at < now_s - tolerance_s || at > now_s + tolerance_s) return false;
  bool any = false;
  for (const auto& secret : secrets) {
    std::string expected;
    try {
      expected = crypto::standard_webhooks_signature(secret, id, timestamp, body);
    } catch (const std::invalid_argument&) {  // not a whsec_ secret: matches nothing
      continue;
    }
    for (const auto& candidate : core::split(signatures, ' '))  // several while Resend rotates its secret
      any |= crypto::constant_time_equal(candidate, expected);
  }
  return any;
}

std::vector<WebhookTarget> route_received(std::string_view body, std::string_view domain, const crypto::Keyring* keys) {
  rapidjson::Document d;
  if (!core::parse_json(d, body).empty() || !d.IsObject() || !core::json_string(d, "type"))
    throw Refusal::invalid("expected a Resend webhook event: {\"type\":…,\"data\":{…}}");
  if (*core::json_string(d, "type") != kReceivedEvent) return {};  // email.sent, email.delivered, …: not ours
  const auto* data = core::json_member(d, "data");
  if (!data || !data->IsObject() || !core::json_string(*data, "email_id"))
    throw Refusal::invalid("email.received without data.email_id");
  // received_for: the addresses the mail was delivered to (the envelope, Bcc included); To for
  // events that lack it.
  const rapidjson::Value* list = core::json_member(*data, "received_for");
  if (!list || !list->IsArray() || list->Empty()) list = core::json_member(*data, "to");
  if (!list || !list->IsArray() || list->Empty())
    throw Refusal::invalid("email.received without data.received_for or data.to");
  std::vector<WebhookTarget> out;
  for (rapidjson::SizeType i = 0; i < list->Size() && i < email::kMaxAddresses; ++i) {
    if (!(*list)[i].IsString() || (*list)[i].GetStringLength() > 320) continue;
    std::string recipient = core::to_lower(core::trim((*list)[i].GetString()));
    auto account = email::workspace_of_recipient(recipient, domain, keys);
    if (!account) continue;
    auto same = [&](const WebhookTarget& t) { return t.key == *account; };
    auto known = std::find_if(out.begin(), out.end(), same);
    // One record per workspace; a reply address (it threads) wins over the bare alias.
    bool reply = email::account_of_alias(recipient, domain) == std::nullopt;
    if (known == out.end())
      out.push_back({RouteBy::kRoutingKey, *account, recipient, recipient, email::kProvider});
    else if (reply && email::account_of_alias(known->routing_key, domain))
      known->routing_key = known->thread = recipient;
  }
  if (out.empty()) throw Refusal(404, "NOT_FOUND", "no recipient of this email is a workspace's address");
  return out;
}

std::string email_id_of(std::string_view body) {
  rapidjson::Document d;
  core::parse_json(d, body);
  const auto* data = d.IsObject() ? core::json_member(d, "data") : nullptr;
  auto id = data ? core::json_string(*data, "email_id") : std::nullopt;
  if (!id || id->empty() || id->size() > 64 ||
      id->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != std::string::npos)
    throw ProviderError("Resend: the stored email.received event has no usable data.email_id", 400, false);
  return *id;
}

}  // namespace loket::providers::resend
