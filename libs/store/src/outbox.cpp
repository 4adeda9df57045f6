#include "loket/core/ids.hpp"
#include "loket/core/log.hpp"
#include "loket/core/time.hpp"
#include "loket/store/store.hpp"

namespace loket::store {

namespace {
thread_local OutboxBatch* current_batch = nullptr;
constexpr std::size_t kRowsPerInsert = 500;
}  // namespace

OutboxBatch::OutboxBatch(pqxx::work& tx) : tx_(tx), outer_(current_batch) { current_batch = this; }

OutboxBatch::~OutboxBatch() { current_batch = outer_; }

void OutboxBatch::flush() {
  if (rows_ > 0) tx_.exec0("INSERT INTO outbox (topic, key, payload) VALUES " + values_);
  values_.clear();
  rows_ = 0;
}

void outbox_add(pqxx::work& tx, const std::string& topic, const std::string& key, const std::string& payload) {
  if (OutboxBatch* b = current_batch; b != nullptr && &b->tx_ == &tx) {
    if (b->rows_ == kRowsPerInsert) b->flush();
    b->values_ += (b->rows_++ ? ",(" : "(") + tx.quote(topic) + "," + tx.quote(key) + "," + tx.quote(payload) + ")";
    return;
  }
  prepare(tx, "outbox_add", "INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)");
  tx.exec_prepared0("outbox_add", topic, key, payload);
}

std::string emit_ticket_event(pqxx::work& tx, const std::string& type, const std::string& workspace_id,
                              const std::string& ticket_id, const std::string& data_json) {
  std::string id = core::new_id("evt");
  std::string payload = "{\"eventId\":\"" + id + "\",\"schemaVersion\":1,\"type\":\"" + core::json_escape(type) +
                        "\",\"occurredAt\":\"" + core::now_rfc3339() + "\",\"workspaceId\":\"" +
                        core::json_escape(workspace_id) + "\",\"ticketId\":\"" + core::json_escape(ticket_id) +
                        "\",\"data\":" + data_json + "}";
  outbox_add(tx, "ticket.events", ticket_id, payload);
  return id;
}

}  // namespace loket::store
