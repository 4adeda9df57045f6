#include "loket/core/log.hpp"
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

bool try_lock_outbox(pqxx::work& tx) { return tx.exec1("SELECT pg_try_advisory_xact_lock(4242002)")[0].as<bool>(); }

std::vector<OutboxRow> read_outbox(pqxx::transaction_base& tx, int limit) {
  std::vector<OutboxRow> out;
  for (const auto& r : tx.exec_params("SELECT id, topic, key, payload FROM outbox ORDER BY id LIMIT $1", limit))
    out.push_back({r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>()});
  return out;
}

void delete_outbox(pqxx::work& tx, const std::vector<std::int64_t>& ids) {
  std::string list = "{";
  for (auto id : ids) list += (list.size() > 1 ? "," : "") + std::to_string(id);
  tx.exec_params0("DELETE FROM outbox WHERE id = ANY($1::bigint[])", list + "}");
}

std::int64_t outbox_backlog(pqxx::transaction_base& tx) {
  return tx.exec1("SELECT count(*) FROM outbox")[0].as<std::int64_t>();
}

std::string emit_ticket_event(pqxx::work& tx, const std::string& workspace_id, const std::string& ticket_id,
                              events::TicketEvent::Data data) {
  auto event = events::new_ticket_event(workspace_id, ticket_id, std::move(data));
  outbox_add(tx, "ticket.events", ticket_id, events::to_json(event));
  return event.event_id;
}

}  // namespace loket::store
