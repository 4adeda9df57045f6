#pragma once
#include <map>
#include <string>
#include <string_view>

/// Hashing, MACs, constant-time comparison and envelope encryption of provider credentials
/// (DESIGN.md "Secrets"). All functions are thread-safe.
namespace loket::crypto {

/// SHA-256 of `data`: 32 raw bytes.
std::string sha256(std::string_view data);

/// HMAC-SHA256 of `data` under `key`: 32 raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);

/// HMAC-SHA1 of `data` under `key`: 20 raw bytes (Twilio request signatures).
std::string hmac_sha1(std::string_view key, std::string_view data);

/// Compares two byte strings in time that depends only on their lengths (CRYPTO_memcmp).
bool constant_time_equal(std::string_view a, std::string_view b);

/// Decodes lower- or upper-case hex. @throws std::invalid_argument on odd length or non-hex.
std::string from_hex(std::string_view hex);

/// The Standard Webhooks signature (standardwebhooks.com; Svix): "v1," + base64 of
/// HMAC-SHA256 over "<id>.<timestamp>.<body>" under the secret `whsec_<base64 key>` (the prefix
/// is optional). Pure. @throws std::invalid_argument when the secret is not base64 or empty.
std::string standard_webhooks_signature(std::string_view secret, std::string_view id, std::string_view timestamp,
                                        std::string_view body);

/// A new Standard Webhooks secret: "whsec_" + base64 of 32 random bytes.
std::string new_webhook_secret();

/// Hashes a password with argon2id (libargon2; t=2 passes, m=19 MiB, p=1, a 16-byte random
/// salt: the OWASP minimum) and returns the self-describing PHC string `$argon2id$v=19$...`.
/// Takes tens of milliseconds on purpose. @throws std::runtime_error when libargon2 fails.
std::string password_hash(std::string_view password);

/// Whether `password` matches `encoded` (a string from password_hash()); false for a malformed
/// `encoded`. Constant-time in the comparison (libargon2).
bool password_verify(std::string_view encoded, std::string_view password);

/// AES-256-GCM with a set of named 32-byte keys, one of which is active for encryption.
/// Ciphertext layout: 12-byte random nonce | ciphertext | 16-byte tag. The associated data
/// (the owning row's id) binds a ciphertext to its row, so a value copied to another row
/// fails to decrypt. Immutable after construction; thread-safe.
class Keyring {
 public:
  /// Parses `spec` = `id:hex64[,id:hex64...]`; the first key is the active one.
  /// A bare `hex64` is taken as key id `k1`.
  /// @throws std::invalid_argument naming what is wrong (empty, bad hex, wrong length).
  static Keyring parse(std::string_view spec);

  /// Encrypts `plaintext` with the active key, binding `aad`. Returns the ciphertext blob.
  std::string encrypt(std::string_view plaintext, std::string_view aad) const;

  /// The id of the key encrypt() uses; store it beside the ciphertext.
  const std::string& active_key_id() const { return active_; }

  /// Decrypts a blob made by encrypt() with key `key_id` and the same `aad`.
  /// @throws std::runtime_error when the key id is unknown or the blob/aad do not authenticate.
  std::string decrypt(std::string_view blob, std::string_view key_id, std::string_view aad) const;

  /// HMAC-SHA256 of `data` under the active key's subkey for `purpose` (HMAC of the key and
  /// "loket:<purpose>", so one master key never signs two kinds of data alike). 32 bytes.
  std::string mac(std::string_view purpose, std::string_view data) const;

  /// Whether `tag` is the first tag.size() bytes (at least 8) of mac(purpose, data) under any
  /// key of the ring, so values signed before a key rotation stay valid while their key is
  /// kept. Constant time per key.
  bool verify_mac(std::string_view purpose, std::string_view data, std::string_view tag) const;

 private:
  std::map<std::string, std::string, std::less<>> keys_;
  std::string active_;
};

/// The keyring from LOKET_MASTER_KEY (`id:64hex[,id:64hex…]`, the first one active).
/// @throws std::runtime_error when unset, std::invalid_argument when malformed.
Keyring keyring_from_env();

}  // namespace loket::crypto
