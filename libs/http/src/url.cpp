#include "loket/http/url.hpp"

#include <curl/curl.h>

#include <memory>

#include "loket/core/text.hpp"

namespace loket::http {

std::string percent_decode(std::string_view s, bool plus_as_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) << 4 | hex(s[i + 2])));
      i += 2;
    } else if (plus_as_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::multimap<std::string, std::string> parse_query(std::string_view query) {
  std::multimap<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos <= query.size()) {
    auto end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    auto part = query.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty()) continue;
    auto eq = part.find('=');
    if (eq == std::string_view::npos)
      out.emplace(percent_decode(part, true), "");
    else
      out.emplace(percent_decode(part.substr(0, eq), true), percent_decode(part.substr(eq + 1), true));
  }
  return out;
}

std::string build_query(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out += '&';
    out += percent_encode(k) + "=" + percent_encode(v);
  }
  return out;
}

std::optional<std::string> web_origin(std::string_view text) {
  if (text.empty() || text.size() > 255) return std::nullopt;
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
  const std::string in(text);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, in.c_str(), 0) != CURLUE_OK) return std::nullopt;
  auto get = [&](CURLUPart which, unsigned flags = 0) -> std::optional<std::string> {
    char* out = nullptr;
    if (curl_url_get(u.get(), which, &out, flags) != CURLUE_OK || out == nullptr) return std::nullopt;
    std::string s(out);
    curl_free(out);
    return s;
  };
  auto scheme = get(CURLUPART_SCHEME), host = get(CURLUPART_HOST), path = get(CURLUPART_PATH);
  if (!scheme || !host || host->empty()) return std::nullopt;
  const std::string sch = core::to_lower(*scheme);
  if (sch != "https" && sch != "http") return std::nullopt;
  if (get(CURLUPART_USER) || get(CURLUPART_PASSWORD) || get(CURLUPART_QUERY) || get(CURLUPART_FRAGMENT))
    return std::nullopt;
  if (path && !path->empty() && *path != "/") return std::nullopt;
  // libcurl accepts "https:shop.example" and similar; an origin is written with "//".
  if (core::to_lower(in).rfind(sch + "://", 0) != 0) return std::nullopt;
  std::string origin = sch + "://" + core::to_lower(*host);
  if (auto port = get(CURLUPART_PORT); port && *port != (sch == "https" ? "443" : "80")) origin += ":" + *port;
  return origin;
}

}  // namespace loket::http
