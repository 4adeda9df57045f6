#pragma once
#include <cstdint>
#include <string>
#include <variant>

#include "loket/http/router.hpp"
#include "loket/store/access.hpp"
#include "loket/store/tickets.hpp"

/// The query of `GET /api/v1/tickets` (issue 3 "Tickets"): filters, sort, page size and the
/// opaque keyset cursor. Pure, thread-safe.
namespace loket::api {

/// The TicketQuery of `req`'s query string for caller `p` (`assigneeId=me` is `p`'s agent),
/// with `limit` as asked (1–100, default 25) and the cursor's position applied, or the 400
/// response naming the parameter that is wrong: status (comma-separated open, pending,
/// resolved, closed), createdAfter/createdBefore/updatedAfter/updatedBefore (RFC 3339), sort
/// (createdAt, -createdAt, updatedAt, -updatedAt), q (at most 256 characters and 32 words), limit, cursor (made for
/// another sort, or not ours), assigneeId=me without a signed-in agent.
std::variant<store::TicketQuery, http::Response> ticket_query(const http::Request& req, const store::Principal& p);

/// The cursor after a page whose last ticket is `number` updated at `updated_us` (µs since the
/// epoch), for sort `sort` and the snapshot bound `snapshot_us` (0 = none): hex of
/// "v1|sort|number|updated_us|snapshot_us", opaque to clients.
std::string encode_cursor(store::TicketSort sort, std::int64_t number, std::int64_t updated_us,
                          std::int64_t snapshot_us);

/// Applies cursor `c` to `q` (after_number, after_updated_us, snapshot_us). Returns false,
/// changing nothing, when `c` is not a cursor of this version or was made for another sort.
bool decode_cursor(const std::string& c, store::TicketSort sort, store::TicketQuery& q);

}  // namespace loket::api
