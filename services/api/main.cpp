// loket-api: REST API for agents and integrators. Configuration: docs/operations.md.
#include "api.hpp"
#include "loket/core/config.hpp"
#include "loket/core/lifecycle.hpp"
#include "loket/core/log.hpp"
#include "loket/http/server.hpp"

using namespace loket;

int main() {
  core::init_logging("api");
  core::install_signal_handlers();
  try {
    auto pool_ptr = store::pool_from_env(8);
    auto& pool = *pool_ptr;
    auto keys = crypto::keyring_from_env();
    api::Options opt;
    opt.public_webhook_url = core::env_required(
        "LOKET_PUBLIC_WEBHOOK_URL", "the public base URL of loket-ingress, e.g. https://hooks.example.com");
    opt.telegram_api_base = core::env_or("LOKET_TELEGRAM_API_BASE", opt.telegram_api_base);
    api::Context ctx{pool, keys, opt};
    auto router = api::make_router(ctx);
    http::ServerOptions so;
    so.address = core::env_or("LOKET_API_ADDRESS", "0.0.0.0");
    so.port = static_cast<std::uint16_t>(core::env_int("LOKET_API_PORT", 8080));
    so.max_body_bytes = static_cast<std::size_t>(core::env_int("LOKET_API_MAX_BODY_BYTES", 1 << 20));
    http::Server server(so, [&](const http::Request& r) { return router.dispatch(r); });
    server.start();
    core::log(core::Level::kInfo, "api listening", {{"port", std::to_string(server.port())}});
    while (core::sleep_unless_stopped(std::chrono::seconds(1))) {
    }
    server.stop();
  } catch (const std::exception& e) {
    core::log(core::Level::kError, "api failed", {{"error", e.what()}});
    return 1;
  }
  return 0;
}
