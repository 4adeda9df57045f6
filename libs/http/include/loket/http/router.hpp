#pragma once
#include <string>
#include <vector>

#include "loket/http/server.hpp"

namespace loket::http {

/// Maps method + path patterns such as `/api/v1/tickets/:id` to handlers. `:name` segments
/// match one non-empty path segment and land in Request::params. Unknown path → 404,
/// known path with another method → 405, both in the error envelope.
/// Build it before serving; dispatch() is then thread-safe (read-only).
class Router {
 public:
  /// Adds a route. Routes are tried in the order added.
  void add(std::string method, std::string pattern, Handler handler);
  /// Finds the route for `req` and runs it (copying `req` to fill params). When `matched` is
  /// given it receives the route's pattern (e.g. `/api/v1/tickets/:id`, a bounded label for
  /// metrics), or stays unchanged when no route matched.
  Response dispatch(const Request& req, std::string* matched = nullptr) const;
  /// "METHOD pattern" for every route, in order (for the OpenAPI coverage test).
  std::vector<std::string> routes() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace loket::http
