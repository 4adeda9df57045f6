// The API channel as a providers::Adapter: connect makes an inbox (identifier, HMAC token);
// client_identity tells the public client API how to check a contact's identifierHash.
#include "loket/providers/api_channel/api_channel.hpp"

#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/http/ssrf.hpp"

namespace loket::providers::api_channel {
namespace {
constexpr std::size_t kMaxName = 100, kMaxUrl = 2000;

std::string credentials_json(const ClientIdentity& id) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "hmacToken", id.hmac_token);
  core::json_put(w, "hmacMandatory");
  w.Bool(id.mandatory);
  w.EndObject();
  return sb.GetString();
}

class ApiChannelAdapter final : public Adapter {
 public:
  const ProviderDescriptor& descriptor() const override {
    static const ProviderDescriptor d{kIntegration, "", "api", "API channel", "", false, false, false, false, true};
    return d;
  }

  Connection connect(const rapidjson::Value& body) const override {
    std::string name = core::trim(core::json_string(body, "name").value_or(""));
    if (name.empty() || core::utf8_length(name) > kMaxName || !core::is_storable_text(name))
      throw Refusal::invalid("name is required: what agents see this inbox as, e.g. \"Mobile app\" (1–100 characters)");
    ClientIdentity id;
    if (const auto* m = core::json_member(body, "hmacMandatory"); m && !m->IsNull()) {
      if (!m->IsBool()) throw Refusal::invalid("hmacMandatory must be true or false");
      id.mandatory = m->GetBool();
    }
    Connection c;
    if (const auto* m = core::json_member(body, "webhookUrl"); m && !m->IsNull()) {
      if (!m->IsString() || m->GetStringLength() == 0 || m->GetStringLength() > kMaxUrl)
        throw Refusal::invalid(
            "webhookUrl must be the https URL agents' replies are POSTed to (at most 2,000 characters)");
      try {
        http::check_url(m->GetString(), http::ssrf_policy());
      } catch (const http::SsrfRefused& refused) {
        throw Refusal::invalid(std::string("webhookUrl is refused: ") + refused.what());
      }
      c.reply_webhook_url = m->GetString();
    }
    id.hmac_token = core::to_hex(core::random_bytes(24));
    c.routing_key = core::new_id("inb");  // the inbox identifier: public, scopes the client API
    c.display_name = name;
    c.secrets = [id, inbox = c.routing_key](const std::string&) {
      return Secrets{credentials_json(id), "", {{"inboxIdentifier", inbox}, {"hmacToken", id.hmac_token}}};
    };
    return c;
  }

  std::vector<std::pair<std::string, std::string>> public_fields(const IntegrationInfo& integ) const override {
    return {{"inboxIdentifier", integ.routing_key}};
  }

  std::optional<ClientIdentity> client_identity(const std::string& credentials) const override {
    rapidjson::Document d;
    d.Parse(credentials.c_str(), credentials.size());
    auto token = d.HasParseError() ? std::nullopt : core::json_string(d, "hmacToken");
    if (!token || token->empty()) throw std::invalid_argument("the API channel credentials have no hmacToken");
    const auto* mandatory = core::json_member(d, "hmacMandatory");
    return ClientIdentity{*token, mandatory && mandatory->IsBool() && mandatory->GetBool()};
  }
};
}  // namespace

std::unique_ptr<Adapter> make_adapter(const Settings& settings) {
  (void)settings;
  return std::make_unique<ApiChannelAdapter>();
}

}  // namespace loket::providers::api_channel
