// Resend as a providers::Adapter: a workspace's own email sender (`email_resend`) and the
// platform's (LOKET_RESEND_API_KEY, LOKET_EMAIL_FROM); shared/reference/providers.md §6.
#include "loket/providers/adapter.hpp"
#include "loket/core/text.hpp"
#include "loket/providers/resend/resend.hpp"

namespace loket::providers::resend {
namespace {
class ResendAdapter final : public Adapter {
 public:
  explicit ResendAdapter(const Settings& s)
      : client_(s.api_base(descriptor().api_key, "https://api.resend.com")),
        platform_key_(s.get("LOKET_RESEND_API_KEY")),
        platform_from_(s.get("LOKET_EMAIL_FROM")) {}

  const ProviderDescriptor& descriptor() const override {
    static const ProviderDescriptor d{kIntegration, "", "", "Resend", "RESEND", true};
    return d;
  }

  Connection connect(const rapidjson::Value& body) const override {
    Credentials creds{field(body, "apiKey"), core::to_lower(field(body, "fromEmail")), field(body, "fromName")};
    if (creds.api_key.rfind("re_", 0) != 0) throw Refusal::invalid("apiKey must be a Resend API key (re_…)");
    auto at = creds.from_email.find('@');
    if (at == std::string::npos || at == 0 || creds.from_email.find('.', at) == std::string::npos ||
        creds.from_email.find_first_of(" <>\"\r\n,;") != std::string::npos)
      throw Refusal::invalid(
          "fromEmail must be an address on a domain you verified with Resend, e.g. support@yourstore.com");
    if (core::utf8_length(creds.from_name) > 100) throw Refusal::invalid("fromName must be at most 100 characters");
    client_.validate_key(creds.api_key);
    Connection c;
    c.routing_key = creds.from_email;
    c.display_name = creds.from_name.empty() ? creds.from_email : creds.from_name + " <" + creds.from_email + ">";
    c.secrets = [creds](const std::string&) { return Secrets{to_json(creds), "", {}}; };
    return c;
  }

  std::optional<Mailer> mailer(const std::string& credentials) const override {
    auto c = credentials_from_json(credentials);
    return Mailer{kIntegration, mailbox(c.from_name, c.from_email),
                  [this, key = c.api_key](const Email& e) { return client_.send(key, e); }};
  }

  std::optional<Mailer> platform_mailer() const override {
    if (platform_key_.empty() || platform_from_.empty()) return std::nullopt;
    return Mailer{kPlatform, platform_from_, [this](const Email& e) { return client_.send(platform_key_, e); }};
  }

 private:
  Client client_;
  std::string platform_key_, platform_from_;
};
}  // namespace

std::unique_ptr<Adapter> make_adapter(const Settings& settings) { return std::make_unique<ResendAdapter>(settings); }

}  // namespace loket::providers::resend
