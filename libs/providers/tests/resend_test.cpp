// Resend Receiving: the Standard Webhooks signature (published vector S1) and where an
// email.received event goes.
#include <catch2/catch.hpp>

#include "loket/core/text.hpp"
#include "loket/providers/email/email.hpp"
#include "loket/providers/email/reply_address.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/resend/resend.hpp"

using namespace loket;
using namespace loket::providers;

namespace {
// shared/reference/providers.md, vector S1 (Svix / Standard Webhooks).
const std::string kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const std::string kId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const std::string kTimestamp = "1614265330";
const std::string kBody = R"({"test": 2432232314})";
const std::string kSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
const std::int64_t kAt = 1614265330;

const std::string kDomain = "in.loket.test";
const std::string kAccount = "acc_0123456789abcdef01234567";

std::string received(const std::string& recipients_json, const std::string& type = "email.received") {
  return R"({"type":")" + type +
         R"(","created_at":"2026-01-01T10:00:00.000Z","data":{"email_id":"56761188-7520-42d8-8898-ff6fc54ce618",)" +
         R"("from":"Anna <anna@example.com>","to":)" + recipients_json + R"(,"received_for":)" + recipients_json +
         R"(,"message_id":"<CAF=xyz@mail.gmail.com>","subject":"Re: Order #1001","attachments":[]}})";
}
}  // namespace

TEST_CASE("the Standard Webhooks test vector verifies, within five minutes, under any current secret") {
  CHECK(resend::verify_signature({kSecret}, kId, kTimestamp, kBody, kSignature, kAt));
  CHECK(resend::verify_signature({kSecret}, kId, kTimestamp, kBody, kSignature, kAt + 300));
  CHECK(resend::verify_signature({kSecret}, kId, kTimestamp, kBody, kSignature, kAt - 300));
  // Rotation: several signatures in the header, several secrets configured.
  CHECK(resend::verify_signature({kSecret}, kId, kTimestamp, kBody, "v1,bm90IHRoaXMgb25l " + kSignature, kAt));
  CHECK(resend::verify_signature({"whsec_b2xkIHNlY3JldA==", kSecret}, kId, kTimestamp, kBody, kSignature, kAt));
}

TEST_CASE("a Standard Webhooks signature fails for any change, an old or future time, or no secret") {
  CHECK_FALSE(resend::verify_signature({kSecret}, kId, kTimestamp, kBody, kSignature, kAt + 301));  // replayed late
  CHECK_FALSE(resend::verify_signature({kSecret}, kId, kTimestamp, kBody, kSignature, kAt - 301));
  CHECK_FALSE(resend::verify_signature({kSecret}, kId, kTimestamp, R"({"test": 2432232315})", kSignature, kAt));
  CHECK_FALSE(resend::verify_signature({kSecret}, "msg_other", kTimestamp, kBody, kSignature, kAt));
  CHECK_FALSE(resend::verify_signature({kSecret}, kId, "1614265331", kBody, kSignature, kAt));
  CHECK_FALSE(resend::verify_signature({"whsec_b2xkIHNlY3JldA=="}, kId, kTimestamp, kBody, kSignature, kAt));
  CHECK_FALSE(resend::verify_signature({}, kId, kTimestamp, kBody, kSignature, kAt));
  CHECK_FALSE(resend::verify_signature({kSecret}, kId, kTimestamp, kBody, "", kAt));
  CHECK_FALSE(resend::verify_signature({kSecret}, kId, kTimestamp, kBody, "v2" + kSignature.substr(2), kAt));
  CHECK_FALSE(resend::verify_signature({kSecret}, kId, "", kBody, kSignature, kAt));
  CHECK_FALSE(resend::verify_signature({kSecret}, kId, "-1614265330", kBody, kSignature, kAt));
  CHECK_FALSE(resend::verify_signature({kSecret}, kId, "99999999999999999999", kBody, kSignature, kAt));
  CHECK_FALSE(resend::verify_signature({kSecret}, "", kTimestamp, kBody, kSignature, kAt));
  CHECK_FALSE(resend::verify_signature({"whsec_not base64!"}, kId, kTimestamp, kBody, kSignature, kAt));
}

TEST_CASE("email.received goes to the alias integration of each workspace it was delivered to") {
  auto keys = crypto::Keyring::parse(std::string(64, '7'));
  const std::string alias = kAccount + "@" + kDomain;
  auto targets = resend::route_received(received(R"([")" + alias + R"("])"), kDomain, &keys);
  REQUIRE(targets.size() == 1);
  CHECK(targets[0].by == RouteBy::kRoutingKey);
  CHECK(targets[0].key == kAccount);
  CHECK(targets[0].routing_key == alias);
  CHECK(targets[0].provider == email::kProvider);

  // The alias and a reply address of the same workspace: one record, under the reply address
  // (it threads); a second workspace gets its own; strangers and case do not matter.
  const std::string reply = "reply+" + email::reply_token(keys, kAccount, 42) + "@" + kDomain;
  const std::string other = "acc_fedcba9876543210fedcba98@IN.LOKET.TEST";
  targets = resend::route_received(
      received(R"([")" + alias + R"(", "someone@else.example", ")" + reply + R"(", ")" + other + R"("])"), kDomain,
      &keys);
  REQUIRE(targets.size() == 2);
  CHECK(targets[0].key == kAccount);
  CHECK(targets[0].routing_key == core::to_lower(reply));
  CHECK(targets[1].key == "acc_fedcba9876543210fedcba98");
  CHECK(targets[1].routing_key == "acc_fedcba9876543210fedcba98@in.loket.test");
}

TEST_CASE("other Resend events route nowhere; bad bodies and strangers are refused") {
  auto keys = crypto::Keyring::parse(std::string(64, '7'));
  const std::string alias = R"([")" + kAccount + "@" + kDomain + R"("])";
  CHECK(resend::route_received(received(alias, "email.delivered"), kDomain, &keys).empty());
  auto status_of = [&](const std::string& body) {
    try {
      resend::route_received(body, kDomain, &keys);
    } catch (const Refusal& r) {
      return r.status();
    }
    return 0;
  };
  CHECK(status_of("not json") == 400);
  CHECK(status_of(R"({"type":"email.received"})") == 400);
  CHECK(status_of(R"({"type":"email.received","data":{"email_id":"x"}})") == 400);
  CHECK(status_of(received(R"(["someone@else.example"])")) == 404);
  CHECK(status_of(received(R"(["reply+forged.token@in.loket.test"])")) == 404);
  CHECK(status_of(received(R"([42, null])")) == 404);
  CHECK(status_of(received("[]")) == 400);  // neither received_for nor to names anyone
  // Recipients past the first email::kMaxAddresses are not looked at.
  std::string many = "[";
  for (std::size_t i = 0; i < email::kMaxAddresses; ++i) many += R"("x)" + std::to_string(i) + R"(@else.example",)";
  CHECK(status_of(received(many + R"(")" + kAccount + "@" + kDomain + R"("])")) == 404);
}

TEST_CASE("the email id of a stored event must be a plain id") {
  CHECK(resend::email_id_of(received("[]")) == "56761188-7520-42d8-8898-ff6fc54ce618");
  CHECK_THROWS_AS(resend::email_id_of(R"({"data":{"email_id":"../../domains"}})"), ProviderError);
  CHECK_THROWS_AS(resend::email_id_of(R"({"data":{}})"), ProviderError);
  CHECK_THROWS_AS(resend::email_id_of("[]"), ProviderError);
}
