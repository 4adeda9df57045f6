#include "loket/store/widget.hpp"

#include "loket/core/ids.hpp"
#include "loket/core/text.hpp"
#include "loket/store/store.hpp"
#include "rows.hpp"

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
      "identity_secret_key_id, rfc3339(updated_at), business_hours, conversations_per_visitor_per_hour FROM widgets "
      "WHERE workspace_id = $1",
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
  w.business_hours = opt(row[13]);
  w.conversations_per_visitor_per_hour = row[14].as<int>();
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
      "identity_secret_key_id, business_hours, conversations_per_visitor_per_hour) VALUES ($1,$2,$3,$4,$5,$6,$7,$8, "
      "CASE WHEN $9 = '' THEN '{}'::text[] ELSE string_to_array($9, E'\\x1f') END, $10,$11,$12,$13,$14,$15) "
      "ON CONFLICT (workspace_id) DO UPDATE SET enabled = EXCLUDED.enabled, color = EXCLUDED.color, "
      "welcome_heading = EXCLUDED.welcome_heading, welcome_tagline = EXCLUDED.welcome_tagline, "
      "prechat_name = EXCLUDED.prechat_name, prechat_email = EXCLUDED.prechat_email, "
      "prechat_phone = EXCLUDED.prechat_phone, allowed_origins = EXCLUDED.allowed_origins, "
      "away_message = EXCLUDED.away_message, require_identity = EXCLUDED.require_identity, "
      "identity_secret = EXCLUDED.identity_secret, identity_secret_key_id = EXCLUDED.identity_secret_key_id, "
      "business_hours = EXCLUDED.business_hours, "
      "conversations_per_visitor_per_hour = EXCLUDED.conversations_per_visitor_per_hour, "
      "updated_at = now() RETURNING rfc3339(updated_at)",
      workspace_id, w.enabled, w.color, w.welcome_heading, w.welcome_tagline, to_string(w.prechat_name),
      to_string(w.prechat_email), to_string(w.prechat_phone), origins, w.away_message, w.require_identity, secret,
      keys.active_key_id(), w.business_hours, w.conversations_per_visitor_per_hour);
  w.updated_at = r[0].as<std::string>();
  return w;
}

namespace {
pqxx::binarystring token_hash(const std::string& token) { return pqxx::binarystring(crypto::sha256(token)); }
}  // namespace

std::pair<Visitor, std::string> create_visitor(pqxx::work& tx, const std::string& workspace_id) {
  Visitor v{core::new_id("vis"), workspace_id, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  std::string token = "wvs_" + core::to_hex(core::random_bytes(32));
  tx.exec_params0("INSERT INTO widget_visitors (id, workspace_id, token_hash) VALUES ($1, $2, $3)", v.id, workspace_id,
                  token_hash(token));
  return {std::move(v), std::move(token)};
}

std::optional<Visitor> find_visitor(pqxx::transaction_base& tx, const std::string& token, bool for_update) {
  if (token.rfind("wvs_", 0) != 0 || token.size() != 68) return std::nullopt;
  auto r = tx.exec_params(std::string("SELECT v.id, v.workspace_id, v.name, v.email, v.phone, v.identifier, "
                                      "v.last_seen_at < now() - interval '1 minute' FROM widget_visitors v "
                                      "JOIN widgets w ON w.workspace_id = v.workspace_id AND w.enabled "
                                      "WHERE v.token_hash = $1") +
                              (for_update ? " FOR UPDATE OF v" : ""),
                          token_hash(token));
  if (r.empty()) return std::nullopt;
  Visitor v{
      r[0][0].as<std::string>(), r[0][1].as<std::string>(), opt(r[0][2]), opt(r[0][3]), opt(r[0][4]), opt(r[0][5])};
  if (for_update && r[0][6].as<bool>())
    tx.exec_params0("UPDATE widget_visitors SET last_seen_at = now() WHERE id = $1", v.id);
  return v;
}

void save_visitor_contact(pqxx::work& tx, const Visitor& v) {
  tx.exec_params0("UPDATE widget_visitors SET name = $2, email = $3, phone = $4, identifier = $5 WHERE id = $1", v.id,
                  v.name, v.email, v.phone, v.identifier);
}

std::optional<Ticket> visitor_ticket(pqxx::transaction_base& tx, const Visitor& v) {
  auto r = tx.exec_params(std::string("SELECT ") + kTicketColumns +
                              " FROM tickets WHERE workspace_id = $1 AND channel = $2 AND external_thread_id = $3 "
                              "ORDER BY created_at DESC, id DESC LIMIT 1",
                          v.workspace_id, kChatChannel, v.thread());
  if (r.empty()) return std::nullopt;
  return ticket_from_row(r[0]);
}

std::string brand_color(pqxx::transaction_base& tx, const std::string& workspace_id) {
  auto r = tx.exec_params("SELECT color FROM widgets WHERE workspace_id = $1", workspace_id);
  return r.empty() ? "" : r[0][0].as<std::string>();
}

bool widget_enabled(pqxx::transaction_base& tx, const std::string& workspace_id) {
  auto r = tx.exec_params("SELECT enabled FROM widgets WHERE workspace_id = $1", workspace_id);
  return !r.empty() && r[0][0].as<bool>();
}

std::int64_t mark_read(pqxx::work& tx, const std::string& ticket_id, std::int64_t seq) {
  return tx
      .exec_params1(
          "UPDATE tickets SET agent_read_seq = GREATEST(agent_read_seq, LEAST($2, message_seq)) WHERE id = $1 "
          "RETURNING agent_read_seq",
          ticket_id, seq)[0]
      .as<std::int64_t>();
}

std::int64_t agent_read_seq(pqxx::transaction_base& tx, const std::string& ticket_id) {
  return tx.exec_params1("SELECT agent_read_seq FROM tickets WHERE id = $1", ticket_id)[0].as<std::int64_t>();
}

bool visitor_online(pqxx::transaction_base& tx, const std::string& workspace_id, const std::string& thread) {
  const bool user = thread.rfind("user:", 0) == 0;
  return tx
      .exec_params1(std::string("SELECT EXISTS (SELECT 1 FROM widget_visitors WHERE workspace_id = $1 AND ") +
                        (user ? "identifier = substr($2, 6)" : "id = $2") + " AND online_until > now())",
                    workspace_id, thread)[0]
      .as<bool>();
}

void mark_visitors_online(pqxx::transaction_base& tx, const std::vector<std::string>& ids, int seconds) {
  if (ids.empty()) return;
  std::string list;
  for (const auto& id : ids) list += (list.empty() ? "" : ",") + id;  // visitor ids: vis_ + hex, no commas
  tx.exec_params0(
      "UPDATE widget_visitors SET online_until = now() + make_interval(secs => $2) "
      "WHERE id = ANY(string_to_array($1, ','))",
      list, seconds);
}

std::optional<Message> find_client_message(pqxx::transaction_base& tx, const std::string& ticket_id,
                                           const std::string& client_id) {
  auto r = tx.exec_params(
      "SELECT seq FROM messages WHERE ticket_id = $1 AND author_type = 'requester' AND integration_id IS NULL "
      "AND external_message_id = $2",
      ticket_id, client_id);
  if (r.empty()) return std::nullopt;
  auto seq = r[0][0].as<std::int64_t>();
  for (auto& m : load_messages(tx, ticket_id, false, seq - 1))
    if (m.seq == seq) return m;
  return std::nullopt;
}

std::int64_t request_transcript(pqxx::work& tx, const Ticket& t, const std::string& email,
                                const std::string& requested_by) {
  auto through = tx.exec_params1(
                       "UPDATE tickets SET requester_email = coalesce(requester_email, $2) WHERE id = $1 "
                       "RETURNING message_seq",
                       t.id, email)[0]
                     .as<std::int64_t>();
  emit_ticket_event(tx, t.workspace_id, t.id, events::TranscriptRequested{email, through, requested_by});
  return through;
}

}  // namespace loket::store
