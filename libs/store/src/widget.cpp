#include "loket/store/widget.hpp"

#include "loket/core/ids.hpp"
#include "loket/core/text.hpp"

namespace loket::store {

const char* to_string(FieldMode m) {
  switch (m) {
    case FieldMode::kOff:
      return "off";
    case FieldMode::kRequired:
      return "required";
    case FieldMode::kOptional:
      break;
  }
  return "optional";
}

std::optional<FieldMode> field_mode_from_string(const std::string& s) {
  if (s == "off") return FieldMode::kOff;
  if (s == "optional") return FieldMode::kOptional;
  if (s == "required") return FieldMode::kRequired;
  return std::nullopt;
}

std::string new_widget_secret() { return core::to_hex(core::random_bytes(32)); }

Widget load_widget(pqxx::transaction_base& tx, const std::string& workspace_id, const crypto::Keyring& keys) {
  // Origins are joined with a unit separator, which no origin (scheme://host[:port]) holds.
  auto r = tx.exec_params(
      "SELECT enabled, color, welcome_heading, welcome_tagline, prechat_name, prechat_email, prechat_phone, "
      "array_to_string(allowed_origins, E'\\x1f'), away_message, require_identity, identity_secret, "
      "identity_secret_key_id, rfc3339(updated_at) FROM widgets WHERE workspace_id = $1",
      workspace_id);
  Widget w;
  if (r.empty()) return w;
  const auto& row = r[0];
  w.enabled = row[0].as<bool>();
  w.color = row[1].as<std::string>();
  w.welcome_heading = row[2].as<std::string>();
  w.welcome_tagline = row[3].as<std::string>();
  w.prechat_name = field_mode_from_string(row[4].as<std::string>()).value_or(FieldMode::kOptional);
  w.prechat_email = field_mode_from_string(row[5].as<std::string>()).value_or(FieldMode::kOptional);
  w.prechat_phone = field_mode_from_string(row[6].as<std::string>()).value_or(FieldMode::kOff);
  if (auto origins = row[7].as<std::string>(); !origins.empty()) w.allowed_origins = core::split(origins, '\x1f');
  w.away_message = row[8].as<std::string>();
  w.require_identity = row[9].as<bool>();
  w.identity_secret = keys.decrypt(pqxx::binarystring(row[10]).str(), row[11].as<std::string>(), workspace_id);
  w.updated_at = row[12].as<std::string>();
  return w;
}

Widget save_widget(pqxx::work& tx, const std::string& workspace_id, Widget w, const crypto::Keyring& keys) {
  if (w.identity_secret.empty()) w.identity_secret = new_widget_secret();
  std::string origins;
  for (const auto& o : w.allowed_origins) origins += (origins.empty() ? "" : "\x1f") + o;
  pqxx::binarystring secret(keys.encrypt(w.identity_secret, workspace_id));
  auto r = tx.exec_params1(
      "INSERT INTO widgets (workspace_id, enabled, color, welcome_heading, welcome_tagline, prechat_name, "
      "prechat_email, prechat_phone, allowed_origins, away_message, require_identity, identity_secret, "
      "identity_secret_key_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8, "
      "CASE WHEN $9 = '' THEN '{}'::text[] ELSE string_to_array($9, E'\\x1f') END, $10,$11,$12,$13) "
      "ON CONFLICT (workspace_id) DO UPDATE SET enabled = EXCLUDED.enabled, color = EXCLUDED.color, "
      "welcome_heading = EXCLUDED.welcome_heading, welcome_tagline = EXCLUDED.welcome_tagline, "
      "prechat_name = EXCLUDED.prechat_name, prechat_email = EXCLUDED.prechat_email, "
      "prechat_phone = EXCLUDED.prechat_phone, allowed_origins = EXCLUDED.allowed_origins, "
      "away_message = EXCLUDED.away_message, require_identity = EXCLUDED.require_identity, "
      "identity_secret = EXCLUDED.identity_secret, identity_secret_key_id = EXCLUDED.identity_secret_key_id, "
      "updated_at = now() RETURNING rfc3339(updated_at)",
      workspace_id, w.enabled, w.color, w.welcome_heading, w.welcome_tagline, to_string(w.prechat_name),
      to_string(w.prechat_email), to_string(w.prechat_phone), origins, w.away_message, w.require_identity, secret,
      keys.active_key_id());
  w.updated_at = r[0].as<std::string>();
  return w;
}

}  // namespace loket::store
