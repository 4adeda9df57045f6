#pragma once
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "loket/crypto/crypto.hpp"
#include "loket/store/tickets.hpp"

/// The live-chat widget's settings (issue 17; docs/channels/widget.md): one per workspace.
namespace loket::store {

/// A pre-chat form field's setting.
enum class FieldMode { kOff, kOptional, kRequired };

/// "off", "optional", "required".
const char* to_string(FieldMode m);
/// The mode named `s`, or nullopt.
std::optional<FieldMode> field_mode_from_string(const std::string& s);

/// A workspace's widget. Defaults are what a workspace that never saved one has.
struct Widget {
  bool enabled = false;
  std::string color = "#1f6feb";  ///< #rrggbb, the launcher and header colour
  std::string welcome_heading = "Hi there!";
  std::string welcome_tagline = "Ask us anything. We usually reply within a few minutes.";
  FieldMode prechat_name = FieldMode::kOptional, prechat_email = FieldMode::kOptional, prechat_phone = FieldMode::kOff;
  std::vector<std::string> allowed_origins;    ///< "https://shop.example[:port]"; empty = the widget loads nowhere
  std::string away_message;                    ///< shown outside business hours ("" = a generic one)
  int conversations_per_visitor_per_hour = 5;  ///< new chat tickets one visitor may open an hour
  std::optional<std::string> business_hours;   ///< libs/hours JSON {timeZone, week, holidays}; nullopt: always open
  bool require_identity = false;               ///< refuse identify() calls without a valid hash
  std::string identity_secret;                 ///< decrypted; 64 hex characters ("" until first saved)
  std::string updated_at;                      ///< RFC 3339, "" for the defaults
};

/// Workspace `workspace_id`'s widget, or the defaults (no secret yet) when it never saved one.
/// @throws std::runtime_error when the stored secret does not decrypt.
Widget load_widget(pqxx::transaction_base& tx, const std::string& workspace_id, const crypto::Keyring& keys);

/// Stores `w` as workspace `workspace_id`'s widget, its secret encrypted under the active key
/// (a new one when `w` has none). Returns it as stored (secret and updated_at set).
Widget save_widget(pqxx::work& tx, const std::string& workspace_id, Widget w, const crypto::Keyring& keys);

/// A new identity secret: 32 random bytes as 64 lower-case hex characters.
std::string new_widget_secret();

/// A widget visitor: one browser's chat session (issue 17 "Continuity").
struct Visitor {
  std::string id;  ///< `vis_…`, also the external_thread_id of their chat tickets
  std::string workspace_id;
  std::optional<std::string> name, email, phone;  ///< as given in the pre-chat form
  std::optional<std::string> identifier;          ///< the site's user id, once verified (identify)
  /// The external_thread_id of their chat tickets: `user:<identifier>` once verified (shared by
  /// every device of that user), else the visitor id.
  std::string thread() const { return identifier ? "user:" + *identifier : id; }
};

/// Thread channel of widget conversations (tickets.channel).
inline constexpr const char* kChatChannel = "chat";

/// Creates a visitor of `workspace_id`; returns it and its session token (`wvs_` + 64 hex
/// characters, 256 random bits), which is shown only here: only its SHA-256 is stored.
std::pair<Visitor, std::string> create_visitor(pqxx::work& tx, const std::string& workspace_id);

/// The visitor whose session token is `token`, or nullopt (unknown token, or its workspace's
/// widget is off). With `for_update` the visitor row is locked, so one visitor's writes take
/// turns; `last_seen_at` is refreshed at most once a minute.
std::optional<Visitor> find_visitor(pqxx::transaction_base& tx, const std::string& token, bool for_update);

/// Stores the visitor's name, email, phone and verified identifier as given.
void save_visitor_contact(pqxx::work& tx, const Visitor& v);

/// The visitor's latest chat ticket (open or not) on their thread(), or nullopt before their
/// first message.
std::optional<Ticket> visitor_ticket(pqxx::transaction_base& tx, const Visitor& v);

/// The workspace's brand colour (the widget's `color`, "#rrggbb"), or "" when it never saved
/// widget settings: the hosted form and status page wear it too (issue 17 point 8).
std::string brand_color(pqxx::transaction_base& tx, const std::string& workspace_id);

/// Whether workspace `workspace_id` has its widget turned on (false when it never saved one).
bool widget_enabled(pqxx::transaction_base& tx, const std::string& workspace_id);

/// Records that an agent read ticket `ticket_id` up to message `seq` (never past its last
/// message; never lowered) and returns the ticket's highest seq read.
std::int64_t mark_read(pqxx::work& tx, const std::string& ticket_id, std::int64_t seq);

/// The highest seq of ticket `ticket_id` an agent has read (0: none).
std::int64_t agent_read_seq(pqxx::transaction_base& tx, const std::string& ticket_id);

/// Whether a visitor on chat thread `thread` (Visitor::thread()) of `workspace_id` has the
/// widget open: an agent's reply then reaches them there and is not also emailed.
bool visitor_online(pqxx::transaction_base& tx, const std::string& workspace_id, const std::string& thread);

/// Marks visitors `ids` as having the widget open for `seconds` more (0: closed now). One
/// statement.
void mark_visitors_online(pqxx::transaction_base& tx, const std::vector<std::string>& ids, int seconds);

/// The message of ticket `ticket_id` the visitor sent with client message id `client_id`, or
/// nullopt (the idempotency check of a visitor's send).
std::optional<Message> find_client_message(pqxx::transaction_base& tx, const std::string& ticket_id,
                                           const std::string& client_id);

/// Asks for ticket `t`'s transcript by email to `email` (lower-case, valid): announces
/// `transcript.requested` through the ticket's last message sequence number (returned), and
/// makes `email` the ticket's requester email when it has none, so later replies can reach the
/// visitor too. `requested_by`: "visitor" or "agent".
std::int64_t request_transcript(pqxx::work& tx, const Ticket& t, const std::string& email,
                                const std::string& requested_by);
}  // namespace loket::store
