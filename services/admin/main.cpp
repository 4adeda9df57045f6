// loket-admin: operator commands against LOKET_DATABASE_URL.
//   loket-admin migrate                      apply pending schema migrations
//   loket-admin create-workspace NAME [OWNER_EMAIL [OWNER_NAME]]
//                                            create a workspace, its first API key and (with an
//                                            email) its first owner, whose password is
//                                            LOKET_OWNER_PASSWORD or a generated one; prints
//                                            LOKET_ACCOUNT_ID=…, LOKET_API_KEY=… (and
//                                            LOKET_OWNER_EMAIL=…, LOKET_OWNER_PASSWORD=…)
//   loket-admin create-agent ACCOUNT_ID EMAIL NAME [ROLE]
//                                            add a person (role agent, admin or owner; default
//                                            owner) with password LOKET_OWNER_PASSWORD or a
//                                            generated one; prints LOKET_OWNER_EMAIL/PASSWORD
//   loket-admin workspace-exists ACCOUNT_ID  exit 0 when it exists, 3 when not
//   loket-admin rotate-credentials           re-encrypt every stored provider credential with
//                                            the first key of LOKET_MASTER_KEY (master-key
//                                            rotation; docs/operations.md)
//   loket-admin redrive DLQ_TOPIC [--since TIME]
//                                            put dead letters (e.g. channel.inbound.dlq) back on
//                                            their topic after a fix; TIME is RFC 3339 UTC
//                                            (2026-11-29T10:00:00Z) or epoch ms. Needs
//                                            LOKET_KAFKA_BROKERS, not the database
#include <iostream>

#include "loket/core/config.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/log.hpp"
#include "loket/core/time.hpp"
#include "loket/ops/dead_letters.hpp"
#include "loket/providers/registry.hpp"
#include "loket/store/access.hpp"
#include "loket/store/store.hpp"

using namespace loket;

int main(int argc, char** argv) {
  core::init_logging("admin");
  std::string cmd = argc > 1 ? argv[1] : "";
  try {
    if (cmd == "redrive" && (argc == 3 || (argc == 5 && std::string(argv[3]) == "--since"))) {
      std::int64_t since = 0;
      if (argc == 5) {
        std::string t = argv[4];
        auto parsed = core::parse_rfc3339_ms(t);
        if (!parsed && !t.empty() && t.find_first_not_of("0123456789") == std::string::npos) parsed = std::stoll(t);
        if (!parsed)
          throw std::invalid_argument("--since takes an RFC 3339 UTC time (2026-11-29T10:00:00Z) or epoch ms");
        since = *parsed;
      }
      std::string topic = argv[2];
      if (topic.size() < 5 || topic.compare(topic.size() - 4, 4, ".dlq") != 0 || topic == "outbound.dlq")
        throw std::invalid_argument("DLQ_TOPIC must be a dead-letter topic <topic>.dlq, e.g. channel.inbound.dlq");
      auto r = ops::redrive(kafka::properties_from_env(), topic, since);
      std::cout << "republished: " << r.republished << "\nskipped: " << r.skipped << "\n";
      return 0;
    }
    pqxx::connection conn(core::env_required("LOKET_DATABASE_URL", "PostgreSQL URL"));
    if (cmd == "rotate-credentials") {
      auto keys = crypto::keyring_from_env();
      pqxx::work tx(conn);
      auto r = store::rotate_credentials(tx, keys);
      tx.commit();
      std::cout << "re-encrypted: " << r.reencrypted << "\nverified: " << r.verified
                << "\nactive key: " << keys.active_key_id() << "\n";
      return 0;
    }
    if (cmd == "migrate") {
      int n = store::migrate(conn);
      pqxx::work tx(conn);  // every workspace gets the integrations Loket keeps for it (the email alias)
      int added = store::add_platform_integrations(
          tx, store::platform_integrations(providers::Registry::standard(providers::settings_from_env())));
      tx.commit();
      std::cout << "migrations applied: " << n << "\nplatform integrations added: " << added << "\n";
      return 0;
    }
    if (cmd == "create-workspace" && argc > 2) {
      pqxx::work tx(conn);
      auto w = store::create_workspace(
          tx, argv[2], store::platform_integrations(providers::Registry::standard(providers::settings_from_env())));
      std::string owner_email = argc > 3 ? argv[3] : "";
      std::string password = core::env_or("LOKET_OWNER_PASSWORD", "");
      if (password.empty()) password = core::base64url(core::random_bytes(12));
      if (!owner_email.empty())
        store::create_agent(tx, w.account_id, owner_email, argc > 4 ? argv[4] : "Owner", store::Role::kOwner, password);
      tx.commit();
      std::cout << "LOKET_ACCOUNT_ID=" << w.account_id << "\nLOKET_API_KEY=" << w.api_key << "\n";
      if (!owner_email.empty())
        std::cout << "LOKET_OWNER_EMAIL=" << owner_email << "\nLOKET_OWNER_PASSWORD=" << password << "\n";
      return 0;
    }
    if (cmd == "create-agent" && argc > 4) {
      auto role = store::role_from_string(argc > 5 ? argv[5] : "owner");
      if (!role) throw std::invalid_argument("ROLE must be agent, admin or owner");
      std::string password = core::env_or("LOKET_OWNER_PASSWORD", "");
      if (password.empty()) password = core::base64url(core::random_bytes(12));
      pqxx::work tx(conn);
      if (!store::workspace_exists(tx, argv[2])) throw std::invalid_argument(std::string("no workspace ") + argv[2]);
      store::create_agent(tx, argv[2], argv[3], argv[4], *role, password);
      tx.commit();
      std::cout << "LOKET_OWNER_EMAIL=" << argv[3] << "\nLOKET_OWNER_PASSWORD=" << password << "\n";
      return 0;
    }
    if (cmd == "workspace-exists" && argc > 2) {
      pqxx::read_transaction tx(conn);
      return store::workspace_exists(tx, argv[2]) ? 0 : 3;
    }
  } catch (const std::exception& e) {
    std::cerr << "loket-admin: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "usage: loket-admin migrate | create-workspace NAME [OWNER_EMAIL [OWNER_NAME]] | "
               "create-agent ACCOUNT_ID EMAIL NAME [ROLE] | workspace-exists ACCOUNT_ID | rotate-credentials | "
               "redrive DLQ_TOPIC [--since TIME]\n";
  return 2;
}
