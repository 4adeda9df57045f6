// The SSRF guard: each refused form first, then that public destinations pass and are pinned.
#include <catch2/catch.hpp>

#include <map>

#include "loket/http/ssrf.hpp"

using namespace loket::http;

namespace {
const SsrfPolicy kStrict{};

// A DNS that answers from a table (a name an attacker controls can point anywhere).
Resolver table(std::map<std::string, std::vector<std::string>> names) {
  return [names = std::move(names)](const std::string& host) {
    auto it = names.find(host);
    if (it == names.end()) throw SsrfRefused("cannot resolve " + host);
    return it->second;
  };
}

std::string refusal(const std::string& url, const SsrfPolicy& policy = kStrict,
                    const Resolver& resolve = table({{"media.example.com", {"93.184.216.34"}}})) {
  try {
    check_url(url, policy, resolve);
    return "";
  } catch (const SsrfRefused& e) {
    return e.what();
  }
}
}  // namespace

TEST_CASE("non-public IPv4 addresses are refused, each range by name") {
  for (const char* ip :
       {"127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
        "100.64.0.1", "100.127.255.254", "0.0.0.0", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1",
        "192.0.2.10", "198.51.100.7", "203.0.113.9", "198.18.0.1", "192.0.0.8"}) {
    INFO(ip);
    CHECK_FALSE(refused_address(ip).empty());
    CHECK_FALSE(refusal(std::string("https://") + ip + "/x").empty());
  }
  CHECK(refused_address("169.254.169.254").find("link-local") != std::string::npos);  // cloud metadata
  CHECK(refused_address("100.64.0.1").find("carrier-grade NAT") != std::string::npos);
  for (const char* ip : {"93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "11.0.0.1"}) {
    INFO(ip);
    CHECK(refused_address(ip).empty());
  }
}

TEST_CASE("non-public IPv6 addresses are refused, IPv4 in disguise included") {
  for (const char* ip :
       {"::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
        "::127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::", "2001:0:4136::1", "2001:db8::1"}) {
    INFO(ip);
    CHECK_FALSE(refused_address(ip).empty());
  }
  CHECK(refused_address("::ffff:127.0.0.1").find("IPv4-mapped") != std::string::npos);
  CHECK(refused_address("2606:4700:4700::1111").empty());
  CHECK(refusal("https://[::1]:8443/x").find("loopback") != std::string::npos);
  CHECK(refusal("https://[::ffff:7f00:1]/x").find("IPv4-mapped") != std::string::npos);
  CHECK(refusal("https://[fe80::1%25eth0]/x").find("zone") != std::string::npos);
}

TEST_CASE("numeric tricks for an address are refused before any lookup") {
  for (const char* host : {"2130706433", "0x7f000001", "0x7f.1", "017700000001", "0177.0.0.1", "127.1", "127.0.1",
                           "0x7f.0x0.0x0.0x1", "127.000.000.001", "1.2.3.4.5"}) {
    INFO(host);
    CHECK(refusal(std::string("https://") + host + "/x").find("non-standard form") != std::string::npos);
  }
  // Names made of hex letters are names.
  CHECK(refusal("https://deadbeef.cafe/x", kStrict, table({{"deadbeef.cafe", {"93.184.216.34"}}})).empty());
}

TEST_CASE("a name is checked by every address it resolves to, and the connection pinned") {
  auto dns = table({{"media.example.com", {"93.184.216.34"}},
                    {"rebind.example.com", {"93.184.216.34", "127.0.0.1"}},
                    {"internal.example.com", {"10.0.0.5"}}});
  auto d = check_url("https://media.example.com/file?id=1", kStrict, dns);
  CHECK(d.host == "media.example.com");
  CHECK(d.address == "93.184.216.34");
  CHECK(d.port == 443);
  CHECK(refusal("https://internal.example.com/", kStrict, dns).find("10.0.0.5, private") != std::string::npos);
  CHECK(refusal("https://rebind.example.com/", kStrict, dns).find("127.0.0.1, loopback") != std::string::npos);
  CHECK(refusal("https://unknown.example.com/", kStrict, dns).find("cannot resolve") != std::string::npos);
}

TEST_CASE("only https, without credentials in the URL, unless the policy allows") {
  CHECK(refusal("http://media.example.com/x").find("https only") != std::string::npos);
  CHECK(refusal("ftp://media.example.com/x").find("not allowed") != std::string::npos);
  CHECK(refusal("file:///etc/passwd").find("not allowed") != std::string::npos);
  CHECK(refusal("gopher://media.example.com/x").find("not allowed") != std::string::npos);
  CHECK(refusal("https://user:pw@media.example.com/x").find("credentials") != std::string::npos);
  CHECK(refusal("not a url").find("not an absolute URL") != std::string::npos);
  // LOKET_OUTBOUND_ALLOW_PRIVATE=1 (tests, local fakes) is the only way around it.
  const SsrfPolicy open{true, true};
  auto d = check_url("http://127.0.0.1:8089/media", open);
  CHECK(d.address == "127.0.0.1");
  CHECK(d.port == 8089);
  CHECK(refusal("http://2130706433/", open).find("non-standard form") != std::string::npos);  // still a trick
}
