// Password hashing with argon2id (RFC 9106) through libargon2.
#include <argon2.h>

#include <stdexcept>
#include <string>

#include "loket/core/ids.hpp"
#include "loket/crypto/crypto.hpp"

namespace loket::crypto {
namespace {
constexpr std::uint32_t kPasses = 2;
constexpr std::uint32_t kMemoryKiB = 19 * 1024;
constexpr std::uint32_t kLanes = 1;
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
}  // namespace

std::string password_hash(std::string_view password) {
  std::string salt = core::random_bytes(kSaltBytes);
  std::size_t len = argon2_encodedlen(kPasses, kMemoryKiB, kLanes, kSaltBytes, kHashBytes, Argon2_id);
  std::string encoded(len, '\0');
  int rc = argon2id_hash_encoded(kPasses, kMemoryKiB, kLanes, password.data(), password.size(), salt.data(),
                                 salt.size(), kHashBytes, encoded.data(), len);
  if (rc != ARGON2_OK) throw std::runtime_error(std::string("argon2id: ") + argon2_error_message(rc));
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool password_verify(std::string_view encoded, std::string_view password) {
  std::string e(encoded);
  return argon2id_verify(e.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace loket::crypto
