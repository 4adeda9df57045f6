// loket-ingress: provider webhooks → channel.webhook.<provider>. Configuration: docs/operations.md.
#include "ingress.hpp"
#include "mailboxes.hpp"

#include <atomic>
#include <cstdlib>
#include <memory>
#include <thread>

#include <unistd.h>

#include "loket/core/config.hpp"
#include "loket/core/lifecycle.hpp"
#include "loket/core/log.hpp"
#include "loket/http/server.hpp"
#include "loket/ops/admin.hpp"

using namespace loket;

int main() {
  core::init_logging("ingress");
  core::install_signal_handlers();
  try {
    auto pool_ptr = store::pool_from_env(4);
    auto& pool = *pool_ptr;
    ingress::Options opt;
    opt.ack_timeout = core::env_ms("LOKET_INGRESS_ACK_TIMEOUT_MS", opt.ack_timeout);
    opt.cache_ttl = core::env_ms("LOKET_INGRESS_CACHE_TTL_MS", opt.cache_ttl);
    opt.failures_per_minute =
        static_cast<int>(core::env_int("LOKET_INGRESS_FAILURES_PER_MINUTE", opt.failures_per_minute));
    opt.public_base_url = core::env_required("LOKET_PUBLIC_WEBHOOK_URL",
                                             "the public base URL providers call, e.g. https://hooks.example.com");
    auto keys = crypto::keyring_from_env();
    auto props = kafka::properties_from_env();
    props["message.timeout.ms"] = std::to_string(opt.ack_timeout.count());
    kafka::Producer producer(props);
    auto providers = providers::Registry::standard(providers::settings_from_env());
    ingress::Ingress app(ingress::database_lookup(pool), ingress::broker_publish(producer), keys, providers, opt);
    auto admin = ops::admin_from_env(9081, {{"postgres", [&] { return pool.ping(); }},
                                            {"kafka", [&] { return producer.reachable(std::chrono::seconds(1)); }}});
    http::ServerOptions so;
    so.address = core::env_or("LOKET_INGRESS_ADDRESS", "0.0.0.0");
    so.port = static_cast<std::uint16_t>(core::env_int("LOKET_INGRESS_PORT", 8081));
    so.max_body_bytes = static_cast<std::size_t>(core::env_int("LOKET_INGRESS_MAX_BODY_BYTES", 1 << 20));
    so.body_limits = ingress::body_limits(providers);
    // The handler never waits for the broker (its answer goes out from the delivery report), so
    // it runs right on the event-loop threads: no thread hop, no thread held per webhook in flight.
    so.handler_threads = 0;
    http::Server server(http::with_env(so), [&](const http::Request& r, http::Respond respond) {
      app.handle_async(r, std::move(respond));
    });
    server.start();
    core::log(core::Level::kInfo, "ingress listening", {{"port", std::to_string(server.port())}});
    // Workspace mailboxes (IMAP): imported here, one replica per mailbox at a time.
    ingress::MailboxOptions mo;
    mo.interval = core::env_ms("LOKET_MAILBOX_POLL_MS", mo.interval);
    // The lease owner: this host and port, so a replica restarted in place (a killed container)
    // takes its mailboxes back at once instead of waiting for its old lease to run out.
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    const std::string owner = std::string(host) + ":" + std::to_string(server.port());
    std::thread importer;
    auto import_done = std::make_shared<std::atomic<bool>>(false);
    if (mo.interval.count() > 0)
      importer = std::thread([&pool, &producer, &keys, &providers, mo, owner, import_done] {
        ingress::MailboxImporter(pool, ingress::broker_publish(producer), keys, providers, mo, owner).run([] {
          return core::stop_requested();
        });
        *import_done = true;
      });
    while (core::sleep_unless_stopped(std::chrono::seconds(1))) {
    }
    core::log(core::Level::kInfo, "ingress stopping");
    server.stop();
    // A mail server that hangs must not hold the stop: after 5 s the import is left unfinished
    // (its cursor did not move, so the next importer publishes that batch again, deduplicated).
    for (int i = 0; i < 50 && importer.joinable() && !*import_done; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    producer.flush(std::chrono::seconds(10));
    if (importer.joinable() && !*import_done) {
      core::log(core::Level::kWarn, "a mailbox import did not finish; leaving it to the next importer");
      std::_Exit(0);
    }
    if (importer.joinable()) importer.join();
  } catch (const std::exception& e) {
    core::log(core::Level::kError, "ingress failed", {{"error", e.what()}});
    return 1;
  }
  return 0;
}
