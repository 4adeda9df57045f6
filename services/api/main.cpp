// loket-api: REST and realtime API for agents and integrators. Configuration: docs/operations.md.
#include <iostream>

#include "api.hpp"
#include "loket/core/config.hpp"
#include "loket/core/lifecycle.hpp"
#include "loket/core/log.hpp"
#include "loket/core/text.hpp"
#include "loket/http/server.hpp"
#include "loket/ops/admin.hpp"
#include "realtime.hpp"

using namespace loket;

int main(int argc, char** argv) {
  core::init_logging("api");
  core::install_signal_handlers();
  if (argc > 1 && std::string(argv[1]) == "--routes") {  // one "METHOD /path" a line, for tests
    store::Pool pool("", 1);                             // never connects
    auto keys = crypto::Keyring::parse(std::string(64, '0'));
    auto providers = providers::Registry::standard(providers::Settings());
    api::Context ctx{pool, keys, {}, providers};
    for (const auto& r : api::make_router(ctx).routes()) std::cout << r << "\n";
    return 0;
  }
  try {
    // A statement of the api runs 10 s at most (a hostile search cannot hold a connection).
    auto pool_ptr =
        store::pool_from_env(8, store::PoolLimits{std::chrono::milliseconds(5000), std::chrono::milliseconds(10000)});
    auto keys = crypto::keyring_from_env();
    api::Options opt;
    opt.public_webhook_url = core::env_required("LOKET_PUBLIC_WEBHOOK_URL",
                                                "the public base URL of loket-ingress, e.g. https://hooks.example.com");
    opt.public_app_url = core::env_or("LOKET_PUBLIC_APP_URL", opt.public_app_url);
    while (!opt.public_app_url.empty() && opt.public_app_url.back() == '/') opt.public_app_url.pop_back();
    opt.public_tickets_per_workspace_per_minute = static_cast<int>(
        core::env_int("LOKET_PUBLIC_TICKETS_PER_WORKSPACE_PER_MINUTE", opt.public_tickets_per_workspace_per_minute));
    opt.chat_sessions_per_workspace_per_minute = static_cast<int>(
        core::env_int("LOKET_CHAT_SESSIONS_PER_WORKSPACE_PER_MINUTE", opt.chat_sessions_per_workspace_per_minute));
    opt.cors_origins = core::split(core::env_or("LOKET_CORS_ORIGINS", ""), ',');
    opt.trusted_proxies = core::split(core::env_or("LOKET_TRUSTED_PROXIES", ""), ',');
    opt.rate_limit_per_minute =
        static_cast<int>(core::env_int("LOKET_RATE_LIMIT_PER_MINUTE", opt.rate_limit_per_minute));
    opt.rate_limit_ip_per_minute =
        static_cast<int>(core::env_int("LOKET_RATE_LIMIT_IP_PER_MINUTE", opt.rate_limit_ip_per_minute));
    opt.rate_limit_visitor_per_minute =
        static_cast<int>(core::env_int("LOKET_RATE_LIMIT_VISITOR_PER_MINUTE", opt.rate_limit_visitor_per_minute));
    opt.rate_limit_inbox_per_minute =
        static_cast<int>(core::env_int("LOKET_RATE_LIMIT_INBOX_PER_MINUTE", opt.rate_limit_inbox_per_minute));
    opt.rate_limit_chat_ip_per_minute =
        static_cast<int>(core::env_int("LOKET_RATE_LIMIT_CHAT_IP_PER_MINUTE", opt.rate_limit_chat_ip_per_minute));
    opt.login_failures_per_15_minutes =
        static_cast<int>(core::env_int("LOKET_LOGIN_FAILURES_PER_15_MINUTES", opt.login_failures_per_15_minutes));
    opt.max_attachment_bytes = static_cast<std::size_t>(
        core::env_int("LOKET_MAX_ATTACHMENT_BYTES", static_cast<std::int64_t>(opt.max_attachment_bytes)));
    opt.workspace_concurrency = static_cast<int>(core::env_int("LOKET_API_WORKSPACE_CONCURRENCY", 0));
    auto providers = providers::Registry::standard(providers::settings_from_env());
    api::Context ctx{*pool_ptr, keys, opt, providers};
    auto router = api::make_router(ctx);
    api::Hub hub(ctx);
    hub.start(kafka::properties_from_env());
    http::ServerOptions so;
    so.address = core::env_or("LOKET_API_ADDRESS", "0.0.0.0");
    so.port = static_cast<std::uint16_t>(core::env_int("LOKET_API_PORT", 8080));
    so.max_body_bytes = opt.max_attachment_bytes + (1 << 20);  // one file plus multipart framing
    http::Server server(http::with_env(so), [&](const http::Request& r) { return api::handle(ctx, router, r); });
    server.set_upgrade_handler([&](const http::Request& r) { return hub.upgrade(r); });
    server.start();
    core::log(core::Level::kInfo, "api listening", {{"port", std::to_string(server.port())}});
    auto admin = ops::admin_from_env(9080, {{"postgres", [&] { return pool_ptr->ping(); }}});
    while (core::sleep_unless_stopped(std::chrono::seconds(1))) {
    }
    hub.stop();
    server.stop();
  } catch (const std::exception& e) {
    core::log(core::Level::kError, "api failed", {{"error", e.what()}});
    return 1;
  }
  return 0;
}
