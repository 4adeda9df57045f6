// loket-admin: operator commands against LOKET_DATABASE_URL.
//   loket-admin migrate                      apply pending schema migrations
//   loket-admin create-workspace NAME        create a workspace and its first API key;
//                                            prints LOKET_ACCOUNT_ID=… and LOKET_API_KEY=…
//   loket-admin workspace-exists ACCOUNT_ID  exit 0 when it exists, 3 when not
#include <iostream>

#include "loket/core/config.hpp"
#include "loket/core/log.hpp"
#include "loket/store/store.hpp"

using namespace loket;

int main(int argc, char** argv) {
  core::init_logging("admin");
  std::string cmd = argc > 1 ? argv[1] : "";
  try {
    pqxx::connection conn(core::env_required("LOKET_DATABASE_URL", "PostgreSQL URL"));
    if (cmd == "migrate") {
      int n = store::migrate(conn);
      std::cout << "migrations applied: " << n << "\n";
      return 0;
    }
    if (cmd == "create-workspace" && argc > 2) {
      pqxx::work tx(conn);
      auto w = store::create_workspace(tx, argv[2]);
      tx.commit();
      std::cout << "LOKET_ACCOUNT_ID=" << w.account_id << "\nLOKET_API_KEY=" << w.api_key << "\n";
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
  std::cerr << "usage: loket-admin migrate | create-workspace NAME | workspace-exists ACCOUNT_ID\n";
  return 2;
}
