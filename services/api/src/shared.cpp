// Helpers shared by the agent and public ticket routes.
#include <charconv>
#include <regex>
#include <set>

#include "api.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/hours/hours.hpp"
#include "loket/http/envelope.hpp"

namespace loket::api {

std::optional<http::Response> read_attachment_ids(const rapidjson::Value& d, std::vector<std::string>& ids) {
  auto bad = [](const std::string& m) { return http::json_error(400, "VALIDATION_ERROR", m); };
  const auto* v = core::json_member(d, "attachmentIds");
  if (!v || v->IsNull()) return std::nullopt;
  if (!v->IsArray()) return bad("attachmentIds must be an array of attachment ids");
  for (const auto& x : v->GetArray()) {
    if (!x.IsString()) return bad("attachmentIds must be an array of attachment ids");
    ids.emplace_back(x.GetString(), x.GetStringLength());
  }
  if (ids.size() > kMaxAttachments) return bad("at most 5 attachments per message");
  if (std::set<std::string>(ids.begin(), ids.end()).size() != ids.size())
    return bad("attachmentIds lists an attachment twice");
  return std::nullopt;
}

std::optional<http::Response> read_source_ids(const rapidjson::Value& d, const char* field, const std::string& target,
                                              std::vector<std::string>& ids) {
  constexpr rapidjson::SizeType kMaxSources = 50;
  const auto* v = core::json_member(d, field);
  const std::string shape = std::string(field) + " must be an array of 1-50 ids";
  if (!v || !v->IsArray() || v->Empty() || v->Size() > kMaxSources) return invalid_field(field, shape);
  for (const auto& x : v->GetArray()) {
    if (!x.IsString() || x.GetStringLength() == 0 || x.GetStringLength() > 64) return invalid_field(field, shape);
    std::string s(x.GetString(), x.GetStringLength());
    if (s == target) return invalid_field(field, "nothing is merged into itself");
    if (std::find(ids.begin(), ids.end(), s) == ids.end()) ids.push_back(std::move(s));
  }
  return std::nullopt;
}

std::optional<http::Response> read_optional_text(const rapidjson::Value& d, const char* key, std::size_t max,
                                                 std::optional<std::string>& into) {
  const auto* m = core::json_member(d, key);
  if (!m || m->IsNull()) return std::nullopt;
  if (!m->IsString() || core::utf8_length(core::trim(m->GetString())) > max)
    return invalid_field(key, std::string(key) + " must be text of at most " + std::to_string(max) + " characters");
  if (auto s = core::trim(m->GetString()); !s.empty()) into = s;
  return std::nullopt;
}

std::optional<http::Response> read_after(const http::Request& req, std::int64_t& after) {
  after = 0;
  std::string a = req.query_param("after");
  if (a.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(a.data(), a.data() + a.size(), after);
  if (ec != std::errc() || end != a.data() + a.size() || after < 0)
    return invalid_field("after", "after must be a message sequence number (0 or more)");
  return std::nullopt;
}

bool valid_email(const std::string& s) {
  static const std::regex re(
      R"([^@\s"<>,;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+)");
  return s.size() <= 254 && std::regex_match(s, re);
}

std::string uploader_of(const store::Principal& p) { return p.agent_id.empty() ? "key:" + p.api_key_id : p.agent_id; }

void attach_or_reject(pqxx::work& tx, const std::string& ws, store::Message& msg, const std::vector<std::string>& ids,
                      const std::string& uploader) {
  if (!store::link_attachments(tx, ws, msg, ids, uploader))
    throw Rejected{http::json_error(400, "VALIDATION_ERROR",
                                    "an attachment id is unknown or already attached to a message; upload it first")};
}

std::optional<http::Response> read_business_hours(const rapidjson::Value& d, std::optional<std::string>& into) {
  const auto* v = core::json_member(d, "businessHours");
  if (!v) return std::nullopt;
  if (v->IsNull()) {
    into.reset();
    return std::nullopt;
  }
  std::string error;
  auto schedule = hours::parse(*v, error);
  if (!schedule) return invalid_field("businessHours", error);
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  hours::write_json(w, *schedule);
  into = sb.GetString();
  return std::nullopt;
}

}  // namespace loket::api
