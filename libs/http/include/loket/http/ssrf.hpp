#pragma once
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

/// The SSRF guard (issue 15 "Make the classes impossible"): every URL a user or a provider can
/// influence (media downloads, workspace mailboxes' IMAP/SMTP hosts, integrators' webhook
/// endpoints, Slack and Discord webhooks) is checked before any connection, and the connection goes to the address that
/// was checked.
namespace loket::http {

/// What a guarded request may reach.
struct SsrfPolicy {
  bool allow_http = false;     ///< plain http:// besides https://
  bool allow_private = false;  ///< loopback, private and other non-public addresses (tests, local fakes)
};

/// This process's policy: both allowances on only with LOKET_OUTBOUND_ALLOW_PRIVATE=1 (the one
/// way around the guard, for tests and local fakes); read once. Thread-safe.
const SsrfPolicy& ssrf_policy();

/// A URL or address the guard refuses, with the reason.
class SsrfRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Why the numeric address `ip` (IPv4 dotted quad or IPv6 text) is not a public unicast
/// address, or "" when it is: loopback, unspecified, private (RFC 1918), CGNAT (100.64/10),
/// link-local, multicast, reserved and documentation ranges, broadcast, IPv6 ULA (fc00::/7),
/// link-local, site-local, IPv4-mapped/compatible, NAT64, 6to4 and Teredo. Pure.
std::string refused_address(const std::string& ip);

/// Resolves a host name to numeric addresses (getaddrinfo in production, a table in tests).
using Resolver = std::function<std::vector<std::string>(const std::string& host)>;

/// getaddrinfo: every address of `host`. @throws SsrfRefused when it does not resolve.
std::vector<std::string> system_resolve(const std::string& host);

/// Where a checked URL goes: connect to `address` for `host`:`port`, nowhere else.
struct Destination {
  std::string scheme, host, address;
  int port = 0;
};

/// Checks `url` under `policy`: scheme https (or http when allowed), no user:password@, a host
/// that is a name or a canonical address (numeric tricks such as 2130706433, 0x7f.1 or
/// 017700000001 are refused), and every address the host resolves to public unless allowed.
/// Returns the first address, to pin the connection to. Pure but for `resolve`.
/// @throws SsrfRefused naming what is refused.
Destination check_url(const std::string& url, const SsrfPolicy& policy, const Resolver& resolve = system_resolve);

}  // namespace loket::http
