#include <catch2/catch.hpp>

#include "loket/mime/form_data.hpp"

using namespace loket::mime;

namespace {
// A body as curl -F / browsers send it (RFC 7578): CRLF line ends, binary part content.
std::string body_with(const std::string& bytes) {
  return "--XyZ\r\n"
         "Content-Disposition: form-data; name=\"note\"\r\n\r\n"
         "hello\r\n"
         "--XyZ\r\n"
         "Content-Disposition: form-data; name=\"file\"; filename=\"resi \xc3\xa9.pdf\"\r\n"
         "Content-Type: application/pdf\r\n\r\n" +
         bytes + "\r\n--XyZ--\r\n";
}
}  // namespace

TEST_CASE("multipart/form-data: fields and a binary file survive byte for byte") {
  std::string bytes("%PDF-1.4\r\n\0\x01\xff\r\n--X not a boundary\r\n", 33);
  auto parts = parse_form_data("multipart/form-data; boundary=XyZ", body_with(bytes));
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].name == "note");
  CHECK(parts[0].filename.empty());
  CHECK(parts[0].data == "hello");
  CHECK(parts[1].name == "file");
  CHECK(parts[1].filename == "resi \xc3\xa9.pdf");
  CHECK(parts[1].content_type == "application/pdf");
  CHECK(parts[1].data.size() == bytes.size());
  CHECK(parts[1].data == bytes);
}

TEST_CASE("multipart/form-data: a file part without Content-Type is octet-stream") {
  std::string body = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\r\nabc\r\n--b--\r\n";
  auto parts = parse_form_data("multipart/form-data; boundary=b", body);
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].content_type == "application/octet-stream");
  CHECK(parts[0].data == "abc");
}

TEST_CASE("multipart/form-data: wrong content types and empty bodies are rejected") {
  CHECK_THROWS_AS(parse_form_data("application/json", "{}"), FormDataError);
  CHECK_THROWS_AS(parse_form_data("multipart/form-data", "x"), FormDataError);
  CHECK_THROWS_AS(parse_form_data("multipart/form-data; boundary=b", "no parts here"), FormDataError);
}
