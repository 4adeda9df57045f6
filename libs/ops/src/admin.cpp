#include "loket/ops/admin.hpp"

#include "loket/core/config.hpp"
#include "loket/core/log.hpp"
#include "loket/http/envelope.hpp"
#include "loket/http/server.hpp"
#include "loket/ops/metrics.hpp"

namespace loket::ops {

AdminServer::AdminServer(const std::string& address, std::uint16_t port, std::vector<Check> checks)
    : checks_(std::move(checks)) {
  http::ServerOptions so;
  so.address = address;
  so.port = port;
  so.max_body_bytes = 1024;
  server_ = std::make_unique<http::Server>(so, [this](const http::Request& req) {
    http::Response res;
    if (req.path == "/healthz") return http::json_ok(200, "{\"status\":\"ok\"}");
    if (req.path == "/metrics") {
      res.content_type = "text/plain; version=0.0.4; charset=utf-8";
      res.body = metrics().exposition();
      return res;
    }
    if (req.path == "/readyz") {
      std::string failing;
      for (const auto& c : checks_) {
        std::string why;
        try {
          why = c.ready();
        } catch (const std::exception& e) {
          why = e.what();
        }
        if (!why.empty())
          failing += std::string(failing.empty() ? "" : ",") + "\"" + core::json_escape(c.name) + "\":\"" +
                     core::json_escape(why) + "\"";
      }
      if (failing.empty()) return http::json_ok(200, "{\"status\":\"ready\"}");
      return http::json_ok(503, "{\"status\":\"not ready\",\"failing\":{" + failing + "}}");
    }
    return http::json_error(404, "NOT_FOUND", "admin endpoints: /healthz, /readyz, /metrics");
  });
  server_->start();
}

AdminServer::~AdminServer() {
  if (server_) server_->stop();
}

std::uint16_t AdminServer::port() const { return server_->port(); }

std::unique_ptr<AdminServer> admin_from_env(std::uint16_t default_port, std::vector<Check> checks) {
  auto admin = std::make_unique<AdminServer>(
      core::env_or("LOKET_ADMIN_ADDRESS", "0.0.0.0"),
      static_cast<std::uint16_t>(core::env_int("LOKET_ADMIN_PORT", default_port)), std::move(checks));
  core::log(core::Level::kInfo, "admin endpoints listening", {{"port", std::to_string(admin->port())}});
  return admin;
}

}  // namespace loket::ops
