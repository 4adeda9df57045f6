#include "loket/http/router.hpp"

#include "loket/core/text.hpp"
#include "loket/http/envelope.hpp"

namespace loket::http {

void Router::add(std::string method, std::string pattern, Handler handler) {
  Route r{std::move(method), pattern, core::split(pattern, '/'), std::move(handler)};
  routes_.push_back(std::move(r));
}

Response Router::dispatch(const Request& req, std::string* matched) const {
  auto segs = core::split(req.path, '/');
  bool path_matched = false;
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (std::size_t i = 0; i < segs.size() && ok; ++i) {
      if (!r.segments[i].empty() && r.segments[i][0] == ':')
        params[r.segments[i].substr(1)] = segs[i];
      else
        ok = r.segments[i] == segs[i];
    }
    if (!ok) continue;
    path_matched = true;
    if (r.method != req.method) continue;
    Request copy = req;
    copy.params = std::move(params);
    if (matched) *matched = r.pattern;
    return r.handler(copy);
  }
  if (path_matched) return json_error(405, "METHOD_NOT_ALLOWED", req.method + " is not allowed on " + req.path);
  return json_error(404, "NOT_FOUND", "no route for " + req.method + " " + req.path);
}

std::vector<std::string> Router::routes() const {
  std::vector<std::string> out;
  for (const auto& r : routes_) out.push_back(r.method + " " + r.pattern);
  return out;
}

}  // namespace loket::http
