// The hosted form and status page in headless Chromium (tests/browser/hosted_form.cjs).
#include <catch2/catch.hpp>

#include <cstdlib>

#include "harness.hpp"

using namespace e2e;

namespace {
// Runs tests/browser/<script> with the api's URL, `account` and `key`; its exit status.
int run_browser(const std::string& script, const std::string& account, const std::string& key) {
  std::string tools = env().bin_dir + "/../tools/node_modules";
  std::string cmd = "NODE_PATH='" + tools + "' node '" + std::string(LOKET_SOURCE_DIR) + "/tests/browser/" + script +
                    "' '" + stack().api_url() + "' '" + account + "' '" + key + "'";
  INFO(cmd);
  return std::system(cmd.c_str());
}
}  // namespace

TEST_CASE("a customer submits the form, follows the link, replies and rates in a real browser", "[browser]") {
  auto [account, key] = new_workspace("Toko <Browser>");
  CHECK(run_browser("hosted_form.cjs", account, key) == 0);
}

TEST_CASE("a visitor chats through the widget on another site, offline and in two tabs", "[browser]") {
  auto [account, key] = new_workspace("Toko Chat");
  CHECK(run_browser("chat_widget.cjs", account, key) == 0);
}
