#include "loket/http/ssrf.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "loket/core/text.hpp"

namespace loket::http {
namespace {
bool in4(std::uint32_t a, std::uint32_t net, int bits) {
  return bits == 0 || (a >> (32 - bits)) == (net >> (32 - bits));
}

std::uint32_t v4(int a, int b, int c, int d) {
  return (static_cast<std::uint32_t>(a) << 24) | (static_cast<std::uint32_t>(b) << 16) |
         (static_cast<std::uint32_t>(c) << 8) | static_cast<std::uint32_t>(d);
}

std::string refused_v4(std::uint32_t a) {
  struct Range {
    std::uint32_t net;
    int bits;
    const char* what;
  };
  static const Range kRanges[] = {
      {v4(0, 0, 0, 0), 8, "\"this network\" (0.0.0.0/8)"},
      {v4(10, 0, 0, 0), 8, "private (10.0.0.0/8)"},
      {v4(100, 64, 0, 0), 10, "carrier-grade NAT (100.64.0.0/10)"},
      {v4(127, 0, 0, 0), 8, "loopback (127.0.0.0/8)"},
      {v4(169, 254, 0, 0), 16, "link-local (169.254.0.0/16)"},
      {v4(172, 16, 0, 0), 12, "private (172.16.0.0/12)"},
      {v4(192, 0, 0, 0), 24, "IETF protocol assignments (192.0.0.0/24)"},
      {v4(192, 0, 2, 0), 24, "documentation (192.0.2.0/24)"},
      {v4(192, 88, 99, 0), 24, "6to4 relay (192.88.99.0/24)"},
      {v4(192, 168, 0, 0), 16, "private (192.168.0.0/16)"},
      {v4(198, 18, 0, 0), 15, "benchmarking (198.18.0.0/15)"},
      {v4(198, 51, 100, 0), 24, "documentation (198.51.100.0/24)"},
      {v4(203, 0, 113, 0), 24, "documentation (203.0.113.0/24)"},
      {v4(224, 0, 0, 0), 4, "multicast (224.0.0.0/4)"},
      {v4(240, 0, 0, 0), 4, "reserved or broadcast (240.0.0.0/4)"},
  };
  for (const auto& r : kRanges)
    if (in4(a, r.net, r.bits)) return r.what;
  return "";
}

// Whether `label` is a number as inet_aton reads one: decimal, 0x-hex or 0-octal.
bool numeric_label(const std::string& label) {
  if (label.empty()) return false;
  if (label.size() > 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X'))
    return label.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string::npos;
  return label.find_first_not_of("0123456789") == std::string::npos;
}

// Whether `host` is written as a number in some form other than the canonical dotted quad.
bool numeric_trick(const std::string& host) {
  const auto labels = core::split(host, '.');  // "1.2.3.4." (absolute) has the same labels
  if (labels.empty()) return false;
  for (const auto& l : labels)
    if (!numeric_label(l)) return false;  // a name
  if (labels.size() != 4) return true;
  for (const auto& l : labels)
    if (l.size() > 3 || (l.size() > 1 && l[0] == '0') || std::atoi(l.c_str()) > 255) return true;
  return false;
}

std::string part(CURLU* u, CURLUPart which, unsigned flags = 0) {
  char* out = nullptr;
  if (curl_url_get(u, which, &out, flags) != CURLUE_OK || out == nullptr) return "";
  std::string s(out);
  curl_free(out);
  return s;
}

// The host exactly as written in `url` (curl would normalize 0x7f.1 into 127.0.0.1).
std::string written_host(const std::string& url) {
  auto start = url.find("://");
  if (start == std::string::npos) return "";
  start += 3;
  auto end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  if (!authority.empty() && authority[0] == '[') return authority.substr(0, authority.find(']') + 1);
  return authority.substr(0, authority.find(':'));
}
}  // namespace

const SsrfPolicy& ssrf_policy() {
  static const SsrfPolicy policy = [] {
    const char* v = std::getenv("LOKET_OUTBOUND_ALLOW_PRIVATE");
    bool allow = v != nullptr && std::string(v) == "1";
    return SsrfPolicy{allow, allow};
  }();
  return policy;
}

std::string refused_address(const std::string& ip) {
  in_addr a4{};
  if (inet_pton(AF_INET, ip.c_str(), &a4) == 1) return refused_v4(ntohl(a4.s_addr));
  in6_addr a6{};
  if (inet_pton(AF_INET6, ip.c_str(), &a6) != 1) return "not a numeric address";
  const auto* b = a6.s6_addr;
  auto zero = [b](int from, int to) {
    for (int i = from; i < to; ++i)
      if (b[i] != 0) return false;
    return true;
  };
  if (zero(0, 16)) return "unspecified (::)";
  if (zero(0, 15) && b[15] == 1) return "loopback (::1)";
  if (zero(0, 10) && b[10] == 0xff && b[11] == 0xff) return "IPv4-mapped (::ffff:0:0/96)";
  if (zero(0, 12)) return "IPv4-compatible (::/96)";
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) return "NAT64 (64:ff9b::/96)";
  if ((b[0] & 0xfe) == 0xfc) return "unique local (fc00::/7)";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local (fe80::/10)";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "site-local (fec0::/10)";
  if (b[0] == 0xff) return "multicast (ff00::/8)";
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return "documentation (2001:db8::/32)";
  if (b[0] == 0x20 && b[1] == 0x02) return "6to4 (2002::/16)";
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00) return "Teredo (2001::/32)";
  return "";
}

std::vector<std::string> system_resolve(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0)
    throw SsrfRefused("cannot resolve " + host + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(found, freeaddrinfo);
  std::vector<std::string> out;
  for (auto* a = found; a != nullptr; a = a->ai_next) {
    std::array<char, INET6_ADDRSTRLEN> text{};
    const void* where = a->ai_family == AF_INET
                            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
                            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
    if (inet_ntop(a->ai_family, where, text.data(), text.size())) out.emplace_back(text.data());
  }
  return out;
}

Destination check_url(const std::string& url, const SsrfPolicy& policy, const Resolver& resolve) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) throw SsrfRefused("not an absolute URL");
  Destination d;
  d.scheme = part(u.get(), CURLUPART_SCHEME);
  if (d.scheme != "https" && !(d.scheme == "http" && policy.allow_http))
    throw SsrfRefused("scheme " + d.scheme + " is not allowed (https only)");
  if (!part(u.get(), CURLUPART_USER).empty()) throw SsrfRefused("credentials in the URL are not allowed");
  const std::string written = written_host(url);
  if (numeric_trick(written)) throw SsrfRefused("host " + written + " is an address in a non-standard form");
  d.host = part(u.get(), CURLUPART_HOST);
  d.port = std::atoi(part(u.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT).c_str());
  if (d.host.empty() || d.port <= 0) throw SsrfRefused("the URL has no host");
  std::string bare = d.host.front() == '[' ? d.host.substr(1, d.host.size() - 2) : d.host;
  if (!part(u.get(), CURLUPART_ZONEID).empty() || bare.find('%') != std::string::npos)
    throw SsrfRefused("IPv6 zone ids are not allowed");
  in6_addr a6{};
  in_addr a4{};
  const bool literal = inet_pton(AF_INET, bare.c_str(), &a4) == 1 || inet_pton(AF_INET6, bare.c_str(), &a6) == 1;
  auto addresses = literal ? std::vector<std::string>{bare} : resolve(bare);
  if (addresses.empty()) throw SsrfRefused("host " + bare + " has no address");
  if (!policy.allow_private)
    for (const auto& a : addresses)  // every one: a name must not mix a public and a private address
      if (auto why = refused_address(a); !why.empty())
        throw SsrfRefused("host " + bare + " resolves to " + a + ", " + why + ": refused");
  d.address = addresses.front();
  return d;
}

}  // namespace loket::http
