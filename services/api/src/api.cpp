#include "api.hpp"

#include "loket/http/envelope.hpp"

namespace loket::api {

std::optional<std::string> authenticate(Context& ctx, const http::Request& req) {
  std::string auth = req.header("authorization");
  const std::string prefix = "Bearer ";
  if (auth.rfind(prefix, 0) != 0) return std::nullopt;
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  return store::workspace_for_api_key(tx, auth.substr(prefix.size()));
}

http::Handler authed(Context& ctx,
                     std::function<http::Response(const http::Request&, const std::string&)> handler) {
  return [&ctx, handler = std::move(handler)](const http::Request& req) {
    auto ws = authenticate(ctx, req);
    if (!ws) return http::json_error(401, "UNAUTHORIZED", "send Authorization: Bearer <API key>");
    return handler(req, *ws);
  };
}

http::Router make_router(Context& ctx) {
  http::Router r;
  r.add("GET", "/healthz", [](const http::Request&) { return http::json_ok(200, "{\"status\":\"ok\"}"); });
  add_channel_routes(r, ctx);
  add_ticket_routes(r, ctx);
  return r;
}

}  // namespace loket::api
