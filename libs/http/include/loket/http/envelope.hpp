#pragma once
#include <string>

#include "loket/http/message.hpp"

namespace loket::http {

/// A success response in the API envelope (DESIGN.md "API conventions"):
/// `{"data": <data_json>, "error": null, "meta": {"requestId": "req_…", "timestamp": "…Z"}}`.
/// `data_json` must be valid JSON text.
Response json_ok(int status, const std::string& data_json);

/// An error response in the API envelope: `{"data": null, "error": {"code", "message"[, "field"]},
/// "meta"}`. `code` is one of VALIDATION_ERROR, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT,
/// RATE_LIMITED, PROVIDER_REJECTED, PAYLOAD_TOO_LARGE, UNAVAILABLE, INTERNAL. `field`, when not
/// empty, names the request field at fault (forms show the message next to it).
Response json_error(int status, const std::string& code, const std::string& message, const std::string& field = "");

}  // namespace loket::http
