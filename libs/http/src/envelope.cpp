#include "loket/http/envelope.hpp"

#include "loket/core/ids.hpp"
#include "loket/core/log.hpp"
#include "loket/core/time.hpp"

namespace loket::http {
namespace {
std::string meta() {
  return "{\"requestId\":\"" + core::new_id("req") + "\",\"timestamp\":\"" + core::now_rfc3339() +
         "\"}";
}
}  // namespace

Response json_ok(int status, const std::string& data_json) {
  Response r;
  r.status = status;
  r.body = "{\"data\":" + data_json + ",\"error\":null,\"meta\":" + meta() + "}";
  return r;
}

Response json_error(int status, const std::string& code, const std::string& message) {
  Response r;
  r.status = status;
  r.body = "{\"data\":null,\"error\":{\"code\":\"" + core::json_escape(code) +
           "\",\"message\":\"" + core::json_escape(message) + "\"},\"meta\":" + meta() + "}";
  return r;
}

}  // namespace loket::http
