#include "loket/providers/adapter.hpp"

#include "loket/providers/error.hpp"

extern char** environ;

namespace loket::providers {
namespace {
std::string without_trailing_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

[[noreturn]] void unsupported(const Adapter& a, const char* what) {
  // A permanent failure: retrying cannot teach a provider a capability it lacks.
  throw ProviderError(a.descriptor().label + " does not support " + what, 400, false);
}
}  // namespace

std::string Settings::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() || it->second.empty() ? fallback : it->second;
}

std::string Settings::api_base(const std::string& key, const std::string& fallback) const {
  return without_trailing_slash(get("LOKET_" + key + "_API_BASE", fallback));
}

std::string Settings::public_webhook_url() const { return without_trailing_slash(get("LOKET_PUBLIC_WEBHOOK_URL")); }

Settings settings_from_env() {
  std::map<std::string, std::string> values;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos || kv.substr(0, 6) != "LOKET_") continue;
    values.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return Settings(std::move(values));
}

std::vector<WebhookTarget> Adapter::route(const http::Request&, std::string_view) const {
  throw Refusal(404, "NOT_FOUND", descriptor().label + " sends no webhooks");
}

bool Adapter::authenticate(const http::Request&, const std::string&, const WebhookSecrets&) const { return false; }

std::string Adapter::signing_key(const std::string&) const { return ""; }

bool Adapter::verifies_webhooks(const std::string&) const { return true; }

Handshake Adapter::handshake(const http::Request&) const {
  throw Refusal(405, "METHOD_NOT_ALLOWED", descriptor().label + " webhooks have no verification handshake");
}

Normalized Adapter::normalize(const events::RawWebhook&) const { return {{}, {}, {"unsupported_provider"}}; }

Connection Adapter::connect(const rapidjson::Value&) const {
  throw Refusal::invalid(descriptor().name + " integrations cannot be connected through the API");
}

void Adapter::disconnect(const std::string&) const {}

std::vector<std::pair<std::string, std::string>> Adapter::public_fields(const IntegrationInfo&) const { return {}; }

std::string Adapter::send(const IntegrationInfo&, const std::string&, const OutgoingMessage&) const {
  unsupported(*this, "sending messages");
}

std::string Adapter::download(const IntegrationInfo&, const std::string&, const events::AttachmentRef&) const {
  unsupported(*this, "downloading attachments");
}

std::optional<Mailer> Adapter::mailer(const std::string&) const { return std::nullopt; }

std::string Adapter::notify_team(const std::string&, const TeamNotice&) const {
  throw std::logic_error(descriptor().name + " does not post team notifications");
}

}  // namespace loket::providers
