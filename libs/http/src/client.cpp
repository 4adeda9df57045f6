#include "loket/http/client.hpp"

#include <curl/curl.h>

#include <strings.h>

#include <algorithm>
#include <memory>
#include <mutex>

namespace loket::http {
namespace {
struct Sink {
  std::string* body;
  std::size_t limit;
  bool overflow = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  if (sink->body->size() + size * n > sink->limit) {
    sink->overflow = true;
    return 0;
  }
  sink->body->append(data, size * n);
  return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*headers)[name] = value;
  }
  return size * n;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}
}  // namespace

namespace {
// One request to `url` (no redirects followed by curl when `pin` is set: the caller re-checks
// each hop), connecting to `pin` ("host:port:address") when given; credentials only when
// `credentials`.
ClientResponse perform(const ClientRequest& req, const std::string& url, const std::string& pin, bool credentials,
                       std::string* redirect) {
  ClientResponse res;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    res.error = "curl_easy_init failed";
    return res;
  }
  CURL* h = curl.get();
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : req.headers) {
    bool secret = k.size() == 13 && strncasecmp(k.c_str(), "authorization", 13) == 0;
    if (credentials || !secret) headers = curl_slist_append(headers, (k + ": " + v).c_str());
  }
  headers = curl_slist_append(headers, "Expect:");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> hguard(headers, curl_slist_free_all);
  curl_slist* resolve = pin.empty() ? nullptr : curl_slist_append(nullptr, pin.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rguard(resolve, curl_slist_free_all);
  Sink sink{&res.body, req.max_response_bytes};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<long long>(req.timeout.count(), 5000)));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &res.headers);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_USERAGENT, "Loket/0.1");
  if (resolve) curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
  if (credentials && !req.basic_auth.empty()) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERPWD, req.basic_auth.c_str());
  }
  if (req.max_redirects > 0 && !redirect) {
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, static_cast<long>(req.max_redirects));
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  }
  if (req.method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    res.too_large = sink.overflow;
    res.error = sink.overflow ? "response larger than " + std::to_string(req.max_response_bytes) + " bytes"
                              : curl_easy_strerror(rc);
    res.status = 0;
    return res;
  }
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  res.status = static_cast<int>(code);
  if (redirect) {
    char* next = nullptr;
    curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &next);
    *redirect = next ? next : "";
  }
  return res;
}
}  // namespace

ClientResponse fetch(const ClientRequest& req) {
  global_init();
  if (!req.guard) return perform(req, req.url, "", true, nullptr);
  // Guarded: each hop checked and pinned to the address checked; credentials stay with the
  // first host.
  std::string url = req.url, first_host;
  for (int hop = 0;; ++hop) {
    Destination d;
    try {
      d = check_url(url, *req.guard);
    } catch (const SsrfRefused& e) {
      ClientResponse refused;
      refused.error = std::string("refused: ") + e.what();
      refused.refused = true;
      return refused;
    }
    if (hop == 0) first_host = d.host;
    const std::string address = d.address.find(':') != std::string::npos ? "[" + d.address + "]" : d.address;
    std::string next;
    auto res = perform(req, url, d.host + ":" + std::to_string(d.port) + ":" + address, d.host == first_host, &next);
    if (res.status < 300 || res.status >= 400 || next.empty()) return res;
    if (hop >= req.max_redirects) {
      res.error = "too many redirects";
      return res;
    }
    url = next;
  }
}

}  // namespace loket::http
