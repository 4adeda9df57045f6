// Helpers shared by the agent and public ticket routes.
#include <regex>
#include <set>

#include "api.hpp"
#include "loket/core/json.hpp"
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

}  // namespace loket::api
