// Outgoing webhooks without sockets: how an endpoint's answer is taken, the Standard Webhooks
// headers of an attempt, and the email that tells owners Loket turned an endpoint off.
#include <catch2/catch.hpp>

#include "webhooks.hpp"

using namespace loket;
using O = store::WebhookAttempt::Outcome;

namespace {
const std::vector<int> kSchedule = {5, 300, 1800};
}

TEST_CASE("an endpoint's answer is delivered, retried on the schedule, or failed for good") {
  CHECK(outbound::judge_webhook_response(200, 0, 1, kSchedule).attempt.outcome == O::kDelivered);
  CHECK(outbound::judge_webhook_response(204, 0, 3, kSchedule).attempt.outcome == O::kDelivered);
  // No answer (status 0), 5xx, 4xx and redirects are tried again after the schedule's wait.
  for (int status : {0, 500, 502, 404, 400, 301}) {
    INFO("status " << status);
    auto v = outbound::judge_webhook_response(status, 0, 2, kSchedule);
    CHECK(v.attempt.outcome == O::kRetry);
    CHECK(v.attempt.retry_in_seconds == 300);
    CHECK_FALSE(v.disable);
  }
  // Retry-After stretches the wait on 429 and 503 only, and never past a day.
  CHECK(outbound::judge_webhook_response(429, 120, 1, kSchedule).attempt.retry_in_seconds == 120);
  CHECK(outbound::judge_webhook_response(503, 2, 1, kSchedule).attempt.retry_in_seconds == 5);
  CHECK(outbound::judge_webhook_response(500, 120, 1, kSchedule).attempt.retry_in_seconds == 5);
  CHECK(outbound::judge_webhook_response(429, 10'000'000, 1, kSchedule).attempt.retry_in_seconds == 86400);
  // The attempt after the schedule's last wait is the last.
  CHECK(outbound::judge_webhook_response(500, 0, 3, kSchedule).attempt.outcome == O::kRetry);
  CHECK(outbound::judge_webhook_response(500, 0, 4, kSchedule).attempt.outcome == O::kFailed);
  // 410 Gone: failed at once, and the endpoint turned off.
  auto gone = outbound::judge_webhook_response(410, 0, 1, kSchedule);
  CHECK(gone.attempt.outcome == O::kFailed);
  CHECK(gone.disable);
}

TEST_CASE("an attempt is signed per Standard Webhooks, by the old secret too while it is valid") {
  // The published test vector (standardwebhooks.com; providers.md §0).
  store::WebhookDelivery d;
  d.id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  d.payload = R"({"test": 2432232314})";
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", old = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
  auto headers = outbound::webhook_headers(d, secret, "", 1614265330);
  auto value = [&](const std::string& name) {
    for (const auto& [k, v] : headers)
      if (k == name) return v;
    return std::string("<missing>");
  };
  CHECK(value("webhook-id") == d.id);
  CHECK(value("webhook-timestamp") == "1614265330");
  CHECK(value("webhook-signature") == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  CHECK(value("Content-Type") == "application/json");
  // Rotated: both signatures, space-separated, the current one first.
  headers = outbound::webhook_headers(d, secret, old, 1614265330);
  const auto both = value("webhook-signature");
  CHECK(both.rfind("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,", 0) == 0);
  CHECK(both.size() == 2 * std::string("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=").size() + 1);
  CHECK(both.substr(both.find(' ') + 1) != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST_CASE("owners are told which endpoint was turned off, why, and how to turn it on; once each") {
  store::WebhookEndpoint e;
  e.id = "whe_0123456789abcdef01234567";
  e.url = "https://hooks.shop.example/loket?a=<b>";
  e.disabled_reason = "the endpoint answered 410 Gone";
  e.updated_at = "2026-12-01T03:00:00.000Z";
  auto m = outbound::owners_notice_email(e, "Loket <noreply@loket.example>", "owner@shop.example");
  CHECK(m.to == "owner@shop.example");
  CHECK(m.from == "Loket <noreply@loket.example>");
  CHECK(m.subject.find(e.url) != std::string::npos);
  for (const auto& part : {e.id, e.url, e.disabled_reason, std::string("/api/v1/webhook-endpoints/") + e.id})
    CHECK(m.text.find(part) != std::string::npos);
  CHECK(m.html.find("<b>") == std::string::npos);  // the URL is escaped in HTML
  CHECK(m.html.find("&lt;b&gt;") != std::string::npos);
  // The same notice keeps its idempotency key across retries; another owner or another
  // disabling gets its own.
  CHECK(outbound::owners_notice_email(e, m.from, m.to).idempotency_key == m.idempotency_key);
  CHECK(outbound::owners_notice_email(e, m.from, "admin@shop.example").idempotency_key != m.idempotency_key);
  auto later = e;
  later.updated_at = "2026-12-04T03:00:00.000Z";
  CHECK(outbound::owners_notice_email(later, m.from, m.to).idempotency_key != m.idempotency_key);
  CHECK(m.idempotency_key.size() <= 256);
}
