#pragma once
// Test fixtures read from the source tree (LOKET_SOURCE_DIR, defined by CMake for every test
// binary), byte for byte.
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace loket::testing {

/// The bytes of `path`, relative to the source tree (e.g.
/// "libs/mime/tests/fixtures/email/gmail_reply.eml"). @throws std::runtime_error when unreadable.
inline std::string source_file(const std::string& path) {
  std::ifstream in(std::string(LOKET_SOURCE_DIR) + "/" + path, std::ios::binary);
  if (!in.good()) throw std::runtime_error("cannot read fixture " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// An email of libs/mime/tests/fixtures/email/ by file name.
inline std::string email_fixture(const std::string& name) {
  return source_file("libs/mime/tests/fixtures/email/" + name);
}

}  // namespace loket::testing
