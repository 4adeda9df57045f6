#include "loket/http/envelope.hpp"

#include "loket/core/ids.hpp"
#include "loket/core/log.hpp"
#include "loket/core/time.hpp"

namespace loket::http {
namespace {
// The request id of the request this thread is serving (core::LogScope "requestId"), so the
// envelope, the X-Request-Id header and the log lines agree; a fresh one otherwise.
std::string meta() {
  std::string id = core::LogScope::get("requestId");
  return "{\"requestId\":\"" + (id.empty() ? core::new_id("req") : id) + "\",\"timestamp\":\"" + core::now_rfc3339() +
         "\"}";
}
}  // namespace

Response json_ok(int status, const std::string& data_json) {
  Response r;
  r.status = status;
  r.body = "{\"data\":" + data_json + ",\"error\":null,\"meta\":" + meta() + "}";
  return r;
}

Response json_error(int status, const std::string& code, const std::string& message, const std::string& field) {
  Response r;
  r.status = status;
  std::string named = field.empty() ? "" : ",\"field\":\"" + core::json_escape(field) + "\"";
  r.body = "{\"data\":null,\"error\":{\"code\":\"" + core::json_escape(code) + "\",\"message\":\"" +
           core::json_escape(message) + "\"" + named + "},\"meta\":" + meta() + "}";
  return r;
}

}  // namespace loket::http
