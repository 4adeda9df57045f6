#include <catch2/catch.hpp>

#include "loket/core/ids.hpp"
#include "loket/crypto/crypto.hpp"

using namespace loket::crypto;
using loket::core::to_hex;

TEST_CASE("HMAC-SHA256 matches the published GitHub/Meta vector M2") {
  REQUIRE("sha256=" + to_hex(hmac_sha256("It's a Secret to Everybody", "Hello, World!")) ==
          "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

TEST_CASE("SHA-256 of the empty string") {
  REQUIRE(to_hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("constant_time_equal compares content and length") {
  REQUIRE(constant_time_equal("abc", "abc"));
  REQUIRE_FALSE(constant_time_equal("abc", "abd"));
  REQUIRE_FALSE(constant_time_equal("abc", "abcd"));
}

TEST_CASE("Keyring encrypts with the active key and binds the row id") {
  auto ring = Keyring::parse("k2:" + std::string(64, 'b') + ",k1:" + std::string(64, 'a'));
  REQUIRE(ring.active_key_id() == "k2");
  auto blob = ring.encrypt("123456789:AAtoken", "int_1");
  REQUIRE(blob.find("AAtoken") == std::string::npos);
  REQUIRE(ring.decrypt(blob, "k2", "int_1") == "123456789:AAtoken");
  REQUIRE_THROWS(ring.decrypt(blob, "k2", "int_2"));
  REQUIRE_THROWS(ring.decrypt(blob, "k1", "int_1"));
  REQUIRE_THROWS(ring.decrypt(blob, "k9", "int_1"));
  std::string tampered = blob;
  tampered[14] ^= 1;
  REQUIRE_THROWS(ring.decrypt(tampered, "k2", "int_1"));
  // Two encryptions of one value differ (random nonce).
  REQUIRE(ring.encrypt("x", "a") != ring.encrypt("x", "a"));
}

TEST_CASE("Keyring MACs are per purpose and verify across a key rotation") {
  auto old_ring = Keyring::parse("k1:" + std::string(64, 'a'));
  auto rotated = Keyring::parse("k2:" + std::string(64, 'b') + ",k1:" + std::string(64, 'a'));
  auto tag = old_ring.mac("reply-token", "acc_1\n42");
  CHECK(tag.size() == 32);
  CHECK(tag != old_ring.mac("other", "acc_1\n42"));
  CHECK(tag != rotated.mac("reply-token", "acc_1\n42"));                    // signed with the new active key
  CHECK(rotated.verify_mac("reply-token", "acc_1\n42", tag.substr(0, 8)));  // the old key is still in the ring
  CHECK_FALSE(Keyring::parse("k2:" + std::string(64, 'b')).verify_mac("reply-token", "acc_1\n42", tag));
  CHECK_FALSE(rotated.verify_mac("reply-token", "acc_1\n43", tag.substr(0, 8)));
  CHECK_FALSE(rotated.verify_mac("other", "acc_1\n42", tag));
  CHECK_FALSE(rotated.verify_mac("reply-token", "acc_1\n42", tag.substr(0, 7)));  // too short to mean anything
}

TEST_CASE("Keyring rejects malformed keys with a clear message") {
  REQUIRE_THROWS_WITH(Keyring::parse(""), Catch::Contains("no master key"));
  REQUIRE_THROWS_WITH(Keyring::parse("k1:abcd"), Catch::Contains("32 bytes"));
  REQUIRE_THROWS_WITH(Keyring::parse(std::string(64, 'z')), Catch::Contains("not hex"));
  REQUIRE(Keyring::parse(std::string(64, '0')).active_key_id() == "k1");
}

TEST_CASE("argon2id password hashes verify only the same password") {
  std::string h = password_hash("correct horse battery staple");
  REQUIRE(h.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0) == 0);
  REQUIRE(password_verify(h, "correct horse battery staple"));
  REQUIRE_FALSE(password_verify(h, "correct horse battery stapl"));
  REQUIRE_FALSE(password_verify("not a hash", "x"));
  // A fresh salt every time: the same password never hashes to the same string.
  REQUIRE(password_hash("same") != password_hash("same"));
}

TEST_CASE("argon2id verifies a hash made elsewhere (PHC string from the reference tool)") {
  // `echo -n password | argon2 somesalt -id -t 2 -m 16 -p 1 -e` (argon2 20171227).
  REQUIRE(password_verify("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
                          "password"));
}

TEST_CASE("Standard Webhooks signatures match the published vector; secrets are whsec_ and 32 bytes") {
  // shared/reference/providers.md, vector S1 (Svix / Standard Webhooks).
  CHECK(loket::crypto::standard_webhooks_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
            R"({"test": 2432232314})") == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  CHECK(loket::crypto::standard_webhooks_signature("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                                   "1614265330", R"({"test": 2432232314})") ==
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");  // the prefix is optional
  CHECK_THROWS_AS(loket::crypto::standard_webhooks_signature("whsec_", "id", "1", "{}"), std::invalid_argument);
  CHECK_THROWS_AS(loket::crypto::standard_webhooks_signature("whsec_!!!", "id", "1", "{}"), std::invalid_argument);
  auto a = loket::crypto::new_webhook_secret(), b = loket::crypto::new_webhook_secret();
  CHECK(a.rfind("whsec_", 0) == 0);
  CHECK(a.size() == 6 + 44);  // 32 bytes in base64
  CHECK(a != b);
}
