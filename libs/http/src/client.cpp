#include "loket/http/client.hpp"

#include <curl/curl.h>

#include <strings.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <stdexcept>

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

using Slist = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;
using Easy = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;

// One request to `url` on an easy handle: its options, and what outlives the setup (header
// lists, the body sink) until the transfer is done. Redirects are not followed by curl when
// `pin` ("host:port:address", connect there) is set: the caller re-checks each hop.
// Credentials only when `credentials`.
struct Transfer {
  const ClientRequest* req = nullptr;
  std::string url;
  ClientResponse res;
  Sink sink{&res.body, 0};
  Slist headers{nullptr, curl_slist_free_all};
  Slist resolve{nullptr, curl_slist_free_all};
  Easy curl{nullptr, curl_easy_cleanup};

  Transfer(const ClientRequest& r, std::string u) : req(&r), url(std::move(u)) { sink.limit = r.max_response_bytes; }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  // Creates and configures the handle; false (res.error set) when curl cannot.
  bool setup(const std::string& pin, bool credentials, bool follow) {
    curl.reset(curl_easy_init());
    if (!curl) {
      res.error = "curl_easy_init failed";
      return false;
    }
    CURL* h = curl.get();
    curl_slist* list = nullptr;
    for (const auto& [k, v] : req->headers) {
      bool secret = k.size() == 13 && strncasecmp(k.c_str(), "authorization", 13) == 0;
      if (credentials || !secret) list = curl_slist_append(list, (k + ": " + v).c_str());
    }
    headers.reset(curl_slist_append(list, "Expect:"));
    if (!pin.empty()) resolve.reset(curl_slist_append(nullptr, pin.c_str()));
    curl_easy_setopt(h, CURLOPT_PRIVATE, this);
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req->timeout.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<long long>(req->timeout.count(), 5000)));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &res.headers);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "Loket/0.1");
    if (resolve) curl_easy_setopt(h, CURLOPT_RESOLVE, resolve.get());
    if (credentials && !req->basic_auth.empty()) {
      curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(h, CURLOPT_USERPWD, req->basic_auth.c_str());
    }
    if (req->max_redirects > 0 && follow) {
      curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
      curl_easy_setopt(h, CURLOPT_MAXREDIRS, static_cast<long>(req->max_redirects));
      curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    }
    if (req->method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (!req->body.empty() || req->method == "POST" || req->method == "PUT" || req->method == "PATCH") {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req->body.size()));
    }
    return true;
  }

  // Takes the transfer's result `rc` into res; `redirect` (when given) gets the Location to follow.
  void finish(CURLcode rc, std::string* redirect) {
    curl_off_t total_us = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_TOTAL_TIME_T, &total_us);
    res.elapsed = std::chrono::microseconds(total_us);
    if (rc != CURLE_OK) {
      res.too_large = sink.overflow;
      res.error = sink.overflow ? "response larger than " + std::to_string(req->max_response_bytes) + " bytes"
                                : curl_easy_strerror(rc);
      res.status = 0;
      return;
    }
    long code = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &code);
    res.status = static_cast<int>(code);
    if (redirect) {
      char* next = nullptr;
      curl_easy_getinfo(curl.get(), CURLINFO_REDIRECT_URL, &next);
      *redirect = next ? next : "";
    }
  }
};

ClientResponse perform(const ClientRequest& req, const std::string& url, const std::string& pin, bool credentials,
                       std::string* redirect) {
  Transfer t(req, url);
  if (!t.setup(pin, credentials, redirect == nullptr)) return std::move(t.res);
  t.finish(curl_easy_perform(t.curl.get()), redirect);
  return std::move(t.res);
}

// The pin ("host:port:address") for a URL the guard accepted.
std::string pin_of(const Destination& d) {
  const std::string address = d.address.find(':') != std::string::npos ? "[" + d.address + "]" : d.address;
  return d.host + ":" + std::to_string(d.port) + ":" + address;
}

ClientResponse refused_response(const SsrfRefused& e) {
  ClientResponse refused;
  refused.error = std::string("refused: ") + e.what();
  refused.refused = true;
  return refused;
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
      return refused_response(e);
    }
    if (hop == 0) first_host = d.host;
    std::string next;
    auto res = perform(req, url, pin_of(d), d.host == first_host, &next);
    if (res.status < 300 || res.status >= 400 || next.empty()) return res;
    if (hop >= req.max_redirects) {
      res.error = "too many redirects";
      return res;
    }
    url = next;
  }
}

Session::Session() : multi_(nullptr) {
  global_init();
  multi_ = curl_multi_init();
  if (!multi_) throw std::runtime_error("curl_multi_init failed");
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, 64L);  // the connection cache's bound
}

Session::~Session() { curl_multi_cleanup(static_cast<CURLM*>(multi_)); }

std::vector<ClientResponse> Session::fetch_all(const std::vector<ClientRequest>& reqs, int max_parallel) {
  auto* multi = static_cast<CURLM*>(multi_);
  std::vector<std::unique_ptr<Transfer>> transfers;
  transfers.reserve(reqs.size());
  std::map<std::string, std::string> pins;  // URL → pin, so a batch to one endpoint resolves it once
  std::vector<Transfer*> ready;
  for (const auto& req : reqs) {
    auto& t = *transfers.emplace_back(std::make_unique<Transfer>(req, req.url));
    std::string pin;
    if (req.guard) {
      auto known = pins.find(req.url);
      if (known != pins.end()) {
        pin = known->second;
      } else {
        try {
          pin = pins[req.url] = pin_of(check_url(req.url, *req.guard));
        } catch (const SsrfRefused& e) {
          t.res = refused_response(e);
          continue;
        }
      }
    }
    if (t.setup(pin, true, !req.guard)) ready.push_back(&t);
  }
  std::size_t next = 0;
  int running = 0;
  const auto limit = static_cast<std::size_t>(std::max(1, max_parallel));
  std::size_t active = 0;
  while (next < ready.size() || active > 0) {
    while (active < limit && next < ready.size()) {
      curl_multi_add_handle(multi, ready[next++]->curl.get());
      ++active;
    }
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
      const CURLcode rc = msg->data.result;
      curl_multi_remove_handle(multi, msg->easy_handle);  // its connection stays in the cache
      t->finish(rc, nullptr);
      --active;
    }
    if (active > 0) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  std::vector<ClientResponse> out;
  out.reserve(transfers.size());
  for (auto& t : transfers) {
    t->curl.reset();
    out.push_back(std::move(t->res));
  }
  return out;
}

}  // namespace loket::http
