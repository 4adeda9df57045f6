// A workspace's own mailbox as a providers::Adapter (issue 16, seed 004): connect validates
// both halves live; mailer() answers through its SMTP server. The import is the poller's
// (services/ingress/src/mailboxes.cpp) over ImapSession.
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/mime/email.hpp"
#include "loket/providers/email/email.hpp"
#include "loket/providers/email_mailbox/email_mailbox.hpp"
#include "loket/providers/error.hpp"

namespace loket::providers::email_mailbox {
namespace {
void put_server(core::JsonWriter& w, const char* key, const Server& s) {
  core::json_put(w, key);
  w.StartObject();
  core::json_kv(w, "host", s.host);
  core::json_put(w, "port");
  w.Int(s.port);
  core::json_kv(w, "security", s.security);
  core::json_kv(w, "username", s.username);
  core::json_kv(w, "password", s.password);
  w.EndObject();
}

Server read_server(const rapidjson::Value& v) {
  Server s;
  s.host = core::json_string(v, "host").value_or("");
  s.port = static_cast<int>(core::json_int(v, "port").value_or(0));
  s.security = core::json_string(v, "security").value_or("ssl");
  s.username = core::json_string(v, "username").value_or("");
  s.password = core::json_string(v, "password").value_or("");
  return s;
}

bool plain_address(const std::string& a) {
  auto at = a.find('@');
  return at != std::string::npos && at > 0 && a.size() <= 254 && a.find('.', at) != std::string::npos &&
         a.find_first_of(" <>\"\r\n,;()[]\\") == std::string::npos;
}

// One half of the connect body ("imap" or "smtp"), checked; `ssl_port`/`starttls_port` are the
// defaults.
Server server_field(const rapidjson::Value& body, const char* half, int ssl_port, int starttls_port) {
  const std::string name = half;
  const auto* v = core::json_member(body, half);
  if (!v || !v->IsObject())
    throw Refusal::invalid(name +
                           " is required: {\"host\",\"port\",\"security\":\"ssl|starttls\",\"username\",\"password\"}");
  Server s = read_server(*v);
  s.host = core::to_lower(core::trim(s.host));
  if (s.host.empty() || s.host.size() > 253 || s.host.find_first_of(" /@?#\"\r\n") != std::string::npos)
    throw Refusal::invalid(name + ".host must be a host name, e.g. imap.gmail.com");
  if (s.security != "ssl" && s.security != "starttls")
    throw Refusal::invalid(name + ".security must be \"ssl\" or \"starttls\"");
  if (s.port == 0) s.port = s.security == "ssl" ? ssl_port : starttls_port;
  if (s.port < 1 || s.port > 65535) throw Refusal::invalid(name + ".port must be 1–65535");
  if (s.username.empty() || s.password.empty() || s.username.size() > 320 || s.password.size() > 1024 ||
      s.username.find_first_of("\r\n") != std::string::npos || s.password.find_first_of("\r\n") != std::string::npos)
    throw Refusal::invalid(name + ".username and " + name +
                           ".password are required (with Gmail or Outlook, an app password)");
  return s;
}

TlsOptions tls_from(const Settings& s) {
  return {s.get("LOKET_MAILBOX_CA_FILE"), s.get("LOKET_MAILBOX_TLS_INSECURE") == "1", email::max_email_bytes(s)};
}

class MailboxAdapter final : public Adapter {
 public:
  explicit MailboxAdapter(const Settings& s) : tls_(tls_from(s)) {}

  const ProviderDescriptor& descriptor() const override {
    static const ProviderDescriptor d = [] {
      ProviderDescriptor x{kProvider, "", "email", "Email (IMAP/SMTP)", ""};
      x.sends_email = true;
      x.mailbox = true;
      return x;
    }();
    return d;
  }

  Connection connect(const rapidjson::Value& body) const override {
    Credentials c;
    c.address = core::to_lower(field(body, "address"));
    c.from_name = field(body, "fromName");
    if (!plain_address(c.address))
      throw Refusal::invalid("address must be the mailbox's email address, e.g. support@shop.example");
    if (core::utf8_length(c.from_name) > 100 || c.from_name.find_first_of("\r\n\"") != std::string::npos)
      throw Refusal::invalid("fromName must be at most 100 characters, without quotes or line breaks");
    c.imap = server_field(body, "imap", 993, 143);
    c.smtp = server_field(body, "smtp", 465, 587);
    const auto* imap = core::json_member(body, "imap");
    c.folder = core::trim(core::json_string(*imap, "folder").value_or("INBOX"));
    if (c.folder.empty() || c.folder.size() > 200 || c.folder.find_first_of("\"\\\r\n*%") != std::string::npos)
      throw Refusal::invalid("imap.folder must be a folder name without quotes, backslashes or wildcards");
    if (const auto* seen = core::json_member(body, "markSeen")) {
      if (!seen->IsBool()) throw Refusal::invalid("markSeen must be true or false");
      c.mark_seen = seen->GetBool();
    }
    validate(c, tls_);
    Connection out;
    out.routing_key = c.address;
    out.display_name = c.from_name.empty() ? c.address : c.from_name + " <" + c.address + ">";
    out.secrets = [c](const std::string&) { return Secrets{to_json(c), "", {}}; };
    return out;
  }

  std::vector<std::pair<std::string, std::string>> public_fields(const IntegrationInfo& integ) const override {
    return {{"address", integ.routing_key}};
  }

  std::unique_ptr<Mailbox> open_mailbox(const std::string& credentials) const override {
    return std::make_unique<ImapSession>(credentials_from_json(credentials), tls_);
  }

  std::optional<Mailer> mailer(const std::string& credentials) const override {
    auto c = credentials_from_json(credentials);
    const std::string from = c.from_name.empty() ? c.address : "\"" + c.from_name + "\" <" + c.address + ">";
    return Mailer{kProvider, from, [this, c, from](const Email& e) {
                    mime::OutgoingEmail m{from, e.to, e.reply_to, e.subject, e.text, e.html, e.headers, e.attachments};
                    std::string raw;
                    try {
                      raw = mime::compose_email(m);
                    } catch (const std::invalid_argument& bad) {
                      throw ProviderError(std::string("email not sendable: ") + bad.what(), 400, false);
                    }
                    std::string to = e.to;
                    if (auto lt = to.rfind('<'); lt != std::string::npos)
                      to = to.substr(lt + 1, to.find('>', lt) - lt - 1);
                    send_smtp(c, tls_, c.address, to, raw);
                    for (const auto& [k, v] : e.headers)
                      if (core::to_lower(k) == "message-id") return v;
                    return std::string();
                  }};
  }

 private:
  TlsOptions tls_;
};
}  // namespace

std::string to_json(const Credentials& c) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "address", c.address);
  core::json_kv(w, "fromName", c.from_name);
  put_server(w, "imap", c.imap);
  put_server(w, "smtp", c.smtp);
  core::json_kv(w, "folder", c.folder);
  core::json_put(w, "markSeen");
  w.Bool(c.mark_seen);
  w.EndObject();
  return sb.GetString();
}

Credentials credentials_from_json(const std::string& json) {
  rapidjson::Document d;
  core::parse_json(d, json);
  const auto* imap = d.IsObject() ? core::json_member(d, "imap") : nullptr;
  const auto* smtp = d.IsObject() ? core::json_member(d, "smtp") : nullptr;
  if (!imap || !smtp || !imap->IsObject() || !smtp->IsObject() || !core::json_string(d, "address"))
    throw std::invalid_argument("mailbox credentials lack address, imap or smtp");
  Credentials c;
  c.address = *core::json_string(d, "address");
  c.from_name = core::json_string(d, "fromName").value_or("");
  c.imap = read_server(*imap);
  c.smtp = read_server(*smtp);
  c.folder = core::json_string(d, "folder").value_or("INBOX");
  const auto* seen = core::json_member(d, "markSeen");
  c.mark_seen = seen && seen->IsBool() && seen->GetBool();
  return c;
}

std::unique_ptr<Adapter> make_adapter(const Settings& settings) { return std::make_unique<MailboxAdapter>(settings); }

}  // namespace loket::providers::email_mailbox
