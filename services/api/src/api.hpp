#pragma once
#include <optional>
#include <string>

#include "loket/crypto/crypto.hpp"
#include "loket/http/router.hpp"
#include "loket/store/store.hpp"

/// The api service: REST for agents and integrators (DESIGN.md "api", seeds 000 and 002).
namespace loket::api {

/// Settings (LOKET_PUBLIC_WEBHOOK_URL, LOKET_TELEGRAM_API_BASE).
struct Options {
  std::string public_webhook_url;  ///< public base URL of ingress, e.g. https://hooks.example.com
  std::string telegram_api_base = "https://api.telegram.org";
};

/// Everything handlers share. Thread-safe (the pool and keyring are).
struct Context {
  store::Pool& pool;
  const crypto::Keyring& keys;
  Options options;
};

/// The authenticated caller's workspace, from `Authorization: Bearer sk_live_…`, or nullopt.
std::optional<std::string> authenticate(Context& ctx, const http::Request& req);

/// Builds the router with every route of the API. The router keeps a reference to `ctx`.
http::Router make_router(Context& ctx);

/// Adds /api/v1/channels routes.
void add_channel_routes(http::Router& r, Context& ctx);
/// Adds /api/v1/tickets and attachment routes.
void add_ticket_routes(http::Router& r, Context& ctx);

/// Wraps `handler` so it runs only for an authenticated workspace (401 otherwise), passing it.
http::Handler authed(Context& ctx,
                     std::function<http::Response(const http::Request&, const std::string&)> handler);

}  // namespace loket::api
