#include "loket/crypto/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <memory>
#include <stdexcept>

#include "loket/core/config.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/text.hpp"

namespace loket::crypto {
namespace {
const unsigned char* u8(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()), u8(data), data.size(), out, &len) == nullptr)
    throw std::runtime_error("HMAC failed");
  return std::string(reinterpret_cast<char*>(out), len);
}

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;
constexpr std::size_t kNonce = 12;
constexpr std::size_t kTag = 16;
}  // namespace

std::string sha256(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(u8(data), data.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

std::string hmac_sha256(std::string_view key, std::string_view data) { return hmac(EVP_sha256(), key, data); }

std::string hmac_sha1(std::string_view key, std::string_view data) { return hmac(EVP_sha1(), key, data); }

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) throw std::invalid_argument("hex string has an odd length");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::invalid_argument("not a hex digit");
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  return out;
}

Keyring Keyring::parse(std::string_view spec) {
  Keyring ring;
  std::size_t pos = 0;
  while (pos <= spec.size()) {
    auto end = spec.find(',', pos);
    if (end == std::string_view::npos) end = spec.size();
    auto item = spec.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;
    std::string id = "k1";
    auto colon = item.find(':');
    if (colon != std::string_view::npos) {
      id = std::string(item.substr(0, colon));
      item = item.substr(colon + 1);
    }
    std::string key;
    try {
      key = from_hex(item);
    } catch (const std::invalid_argument&) {
      throw std::invalid_argument("master key '" + id + "' is not hex (64 hex characters)");
    }
    if (key.size() != 32) throw std::invalid_argument("master key '" + id + "' must be 32 bytes (64 hex characters)");
    if (ring.active_.empty()) ring.active_ = id;
    ring.keys_[id] = key;
  }
  if (ring.active_.empty()) throw std::invalid_argument("no master key given (expected id:64-hex-characters)");
  return ring;
}

std::string Keyring::encrypt(std::string_view plaintext, std::string_view aad) const {
  const std::string& key = keys_.at(active_);
  std::string nonce = core::random_bytes(kNonce);
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string out = nonce;
  out.resize(kNonce + plaintext.size() + kTag);
  int len = 0;
  auto* dst = reinterpret_cast<unsigned char*>(out.data()) + kNonce;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, u8(key), u8(nonce)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, u8(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), dst, &len, u8(plaintext), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), dst + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, dst + plaintext.size()) != 1)
    throw std::runtime_error("AES-256-GCM encryption failed");
  return out;
}

std::string Keyring::decrypt(std::string_view blob, std::string_view key_id, std::string_view aad) const {
  auto it = keys_.find(key_id);
  if (it == keys_.end())
    throw std::runtime_error("credential was encrypted with master key '" + std::string(key_id) +
                             "', which is not configured (LOKET_MASTER_KEY)");
  if (blob.size() < kNonce + kTag) throw std::runtime_error("credential ciphertext is truncated");
  std::size_t n = blob.size() - kNonce - kTag;
  std::string out(n, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  std::string tag(blob.substr(kNonce + n));
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, u8(it->second), u8(blob)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, u8(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), dst, &len, u8(blob) + kNonce, static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), dst + len, &len) != 1)
    throw std::runtime_error("credential failed to authenticate (wrong key or tampered row)");
  return out;
}

namespace {
std::string keyed_mac(std::string_view key, std::string_view purpose, std::string_view data) {
  return hmac_sha256(hmac_sha256(key, "loket:" + std::string(purpose)), data);
}
}  // namespace

std::string Keyring::mac(std::string_view purpose, std::string_view data) const {
  return keyed_mac(keys_.find(active_)->second, purpose, data);
}

bool Keyring::verify_mac(std::string_view purpose, std::string_view data, std::string_view tag) const {
  if (tag.size() < 8 || tag.size() > 32) return false;
  bool ok = false;
  for (const auto& [id, key] : keys_)
    ok |= constant_time_equal(keyed_mac(key, purpose, data).substr(0, tag.size()), tag);
  return ok;
}

Keyring keyring_from_env() {
  return Keyring::parse(
      core::env_required("LOKET_MASTER_KEY", "set it to id:64-hex-characters, e.g. k1:$(openssl rand -hex 32)"));
}

std::string standard_webhooks_signature(std::string_view secret, std::string_view id, std::string_view timestamp,
                                        std::string_view body) {
  if (secret.rfind("whsec_", 0) == 0) secret.remove_prefix(6);
  auto key = core::from_base64(secret);
  if (!key || key->empty()) throw std::invalid_argument("a webhook secret is whsec_ and base64");
  std::string content;
  content.reserve(id.size() + timestamp.size() + body.size() + 2);
  content.append(id).append(".").append(timestamp).append(".").append(body);
  return "v1," + core::base64(hmac_sha256(*key, content));
}

std::string new_webhook_secret() { return "whsec_" + core::base64(core::random_bytes(32)); }

}  // namespace loket::crypto
