#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

/// MIME parsing through GMime (issue 3 uploads; email-to-ticket will reuse it).
namespace loket::mime {

/// One part of a multipart/form-data body (RFC 7578).
struct FormPart {
  std::string name;          ///< the form field name (Content-Disposition `name`)
  std::string filename;      ///< the file name, "" for a plain field
  std::string content_type;  ///< the part's media type, "application/octet-stream" when unset on a file
  std::string data;          ///< the decoded bytes
};

/// Thrown for a body that is not valid multipart/form-data; the message says what is wrong.
struct FormDataError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// Splits `body` sent with header `content_type` (`multipart/form-data; boundary=…`) into
/// its parts, in order. Thread-safe (GMime is initialised once).
/// @throws FormDataError when the content type is not multipart/form-data with a boundary,
/// or the body has no parts.
std::vector<FormPart> parse_form_data(const std::string& content_type, const std::string& body);

}  // namespace loket::mime
