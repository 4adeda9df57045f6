#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace loket::http {

/// An HTTP request as the server received it. Header names are lower-case.
struct Request {
  std::string method;                             ///< "GET", "POST", ...
  std::string target;                             ///< raw request target, path plus query
  std::string path;                               ///< percent-decoded path without the query
  std::multimap<std::string, std::string> query;  ///< decoded query parameters
  std::map<std::string, std::string> headers;     ///< lower-case name → value (last one wins)
  std::string body;                               ///< raw body bytes
  std::string remote_address;                     ///< peer IP address
  std::map<std::string, std::string> params;      ///< path parameters filled in by the Router

  /// The header `name` (lower-case) or "" when absent.
  std::string header(const std::string& name) const;
  /// The first query parameter `name` or "" when absent.
  std::string query_param(const std::string& name) const;
};

/// An HTTP response to send.
struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers
  std::string body;
};

}  // namespace loket::http
