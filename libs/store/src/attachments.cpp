// Attachments: the blob store, uploads, links to messages.
#include "loket/store/tickets.hpp"

#include <stdexcept>

#include "loket/core/ids.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/providers/registry.hpp"
#include "loket/store/search.hpp"
#include "loket/store/store.hpp"
#include "rows.hpp"

namespace loket::store {

bool link_attachments(pqxx::work& tx, const std::string& workspace_id, Message& m, const std::vector<std::string>& ids,
                      const std::string& uploader) {
  if (ids.empty()) return true;
  std::string list;
  for (const auto& id : ids) list += (list.empty() ? "" : ",") + id;
  auto r = tx.exec_params(
      "UPDATE attachments SET message_id = $3 WHERE workspace_id = $1 AND message_id IS NULL AND "
      "uploaded_by = $4 AND id = ANY(string_to_array($2, ',')) RETURNING id, filename, content_type, size, status, "
      "rfc3339(created_at)",
      workspace_id, list, m.id, uploader);
  if (r.size() != ids.size()) return false;
  for (const auto& id : ids)
    for (const auto& row : r)
      if (row[0].as<std::string>() == id)
        m.attachments.push_back({id, m.id, row[1].as<std::string>(), row[2].as<std::string>(), row[4].as<std::string>(),
                                 row[5].as<std::string>(), row[3].as<std::int64_t>()});
  return true;
}

namespace {
class PostgresBlobs final : public BlobStore {
 public:
  void put(pqxx::work& tx, const std::string& id, const std::string& bytes) override {
    tx.exec_params0("UPDATE attachments SET data = $2, size = $3 WHERE id = $1", id, pqxx::binarystring(bytes),
                    static_cast<std::int64_t>(bytes.size()));
  }
  std::optional<std::string> get(pqxx::transaction_base& tx, const std::string& id) override {
    auto r = tx.exec_params("SELECT data FROM attachments WHERE id = $1 AND data IS NOT NULL", id);
    if (r.empty()) return std::nullopt;
    return pqxx::binarystring(r[0][0]).str();
  }
};
}  // namespace

BlobStore& postgres_blobs() {
  static PostgresBlobs blobs;
  return blobs;
}

Attachment store_upload(pqxx::work& tx, const std::string& workspace_id, const std::optional<std::string>& uploaded_by,
                        const std::string& filename, const std::string& content_type, const std::string& bytes) {
  // Uploads never attached within a day are dropped here rather than by a separate job.
  tx.exec_params0(
      "DELETE FROM attachments WHERE workspace_id = $1 AND message_id IS NULL AND "
      "created_at < now() - interval '24 hours'",
      workspace_id);
  Attachment a;
  a.id = core::new_id("att");
  a.filename = filename;
  a.content_type = content_type.empty() ? "application/octet-stream" : content_type;
  a.size = static_cast<std::int64_t>(bytes.size());
  a.status = "stored";
  auto r = tx.exec_params1(
      "INSERT INTO attachments (id, workspace_id, filename, content_type, size, status, uploaded_by) "
      "VALUES ($1,$2,$3,$4,$5,'stored',$6) RETURNING rfc3339(created_at)",
      a.id, workspace_id, a.filename, a.content_type, a.size, uploaded_by);
  a.created_at = r[0].as<std::string>();
  postgres_blobs().put(tx, a.id, bytes);
  return a;
}

std::optional<AttachmentRow> load_attachment(pqxx::transaction_base& tx, const std::string& workspace_id,
                                             const std::string& id) {
  auto r = tx.exec_params(
      "SELECT a.id, coalesce(a.message_id, ''), a.filename, a.content_type, a.status, "
      "rfc3339(a.created_at), a.size, coalesce(m.ticket_id, ''), coalesce(m.internal, false) FROM attachments a "
      "LEFT JOIN messages m ON m.id = a.message_id WHERE a.workspace_id = $1 AND a.id = $2",
      workspace_id, id);
  if (r.empty()) return std::nullopt;
  const auto& row = r[0];
  return AttachmentRow{
      {row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>(),
       row[4].as<std::string>(), row[5].as<std::string>(), row[6].as<std::int64_t>()},
      row[7].as<std::string>(),
      row[8].as<bool>()};
}

}  // namespace loket::store
