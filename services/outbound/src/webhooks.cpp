#include "webhooks.hpp"

#include <algorithm>

#include "email.hpp"
#include "loket/core/config.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/log.hpp"
#include "loket/core/text.hpp"
#include "loket/core/time.hpp"
#include "loket/events/ticket_events.hpp"
#include "loket/http/client.hpp"
#include "loket/ops/metrics.hpp"
#include "loket/providers/error.hpp"
#include "loket/store/access.hpp"

namespace loket::outbound {

WebhookOptions webhook_options_from_env() {
  WebhookOptions opt;
  opt.workers = static_cast<int>(std::clamp<long long>(core::env_int("LOKET_WEBHOOK_WORKERS", opt.workers), 1, 256));
  opt.batch = static_cast<int>(std::clamp<long long>(core::env_int("LOKET_WEBHOOK_BATCH", opt.batch), 1, 500));
  opt.batches_per_endpoint = static_cast<int>(
      std::clamp<long long>(core::env_int("LOKET_WEBHOOK_BATCHES_PER_ENDPOINT", opt.batches_per_endpoint), 1, 64));
  opt.timeout = core::env_ms("LOKET_WEBHOOK_TIMEOUT_MS", opt.timeout);
  if (auto s = core::env_or("LOKET_WEBHOOK_RETRY_SCHEDULE", ""); !s.empty()) {
    opt.retry_schedule.clear();
    for (const auto& part : core::split(s, ',')) {
      auto t = core::trim(part);
      if (t.empty() || t.size() > 6 || t.find_first_not_of("0123456789") != std::string::npos)
        throw std::invalid_argument("LOKET_WEBHOOK_RETRY_SCHEDULE must be seconds, comma-separated: " + s);
      opt.retry_schedule.push_back(std::stoi(t));
    }
  }
  opt.disable_after_seconds =
      static_cast<int>(core::env_int("LOKET_WEBHOOK_DISABLE_AFTER_SECONDS", opt.disable_after_seconds));
  return opt;
}

FanOut fan_out(const std::vector<std::string>& values, store::Pool& pool) {
  FanOut out;
  std::vector<store::WebhookEvent> events;
  events.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    try {
      auto e = events::ticket_event_from_json(values[i]);
      events.push_back({e.workspace_id, e.event_id, e.type(), e.ticket_id, values[i]});
    } catch (const events::UnknownEventType&) {  // a newer writer's type: not offered to endpoints yet
    } catch (const std::invalid_argument& e) {
      out.rejected.emplace_back(i, e.what());
    }
  }
  store::with_tx(pool, [&](pqxx::work& tx) { out.added = store::enqueue_webhook_deliveries(tx, events); });
  return out;
}

std::vector<std::pair<std::string, std::string>> webhook_headers(const store::WebhookDelivery& d,
                                                                 const std::string& secret,
                                                                 const std::string& previous_secret,
                                                                 std::int64_t timestamp_s) {
  const std::string ts = std::to_string(timestamp_s);
  std::string signature = crypto::standard_webhooks_signature(secret, d.id, ts, d.payload);
  if (!previous_secret.empty())
    signature += " " + crypto::standard_webhooks_signature(previous_secret, d.id, ts, d.payload);
  return {{"Content-Type", "application/json"},
          {"User-Agent", "Loket-Webhooks/1"},
          {"webhook-id", d.id},
          {"webhook-timestamp", ts},
          {"webhook-signature", signature}};
}

WebhookVerdict judge_webhook_response(int status, int retry_after_seconds, int attempts,
                                      const std::vector<int>& schedule) {
  using O = store::WebhookAttempt::Outcome;
  WebhookVerdict v;
  if (status >= 200 && status < 300) {
    v.attempt.outcome = O::kDelivered;
    return v;
  }
  if (status == 410) {
    v.attempt.outcome = O::kFailed;
    v.disable = true;
    return v;
  }
  if (attempts > static_cast<int>(schedule.size())) {
    v.attempt.outcome = O::kFailed;
    return v;
  }
  int wait = schedule[static_cast<std::size_t>(attempts - 1)];
  if (status == 429 || status == 503) wait = std::max(wait, std::min(retry_after_seconds, 86400));
  v.attempt.outcome = O::kRetry;
  v.attempt.retry_in_seconds = wait;
  return v;
}

namespace {
ops::Registry& metrics() {
  static ops::Registry& r = []() -> ops::Registry& {
    auto& m = ops::metrics();
    m.describe("loket_webhook_deliveries_total", ops::Registry::Type::kCounter,
               "Outgoing webhook attempts by outcome (delivered, retry, failed).");
    m.describe("loket_webhook_seconds", ops::Registry::Type::kHistogram, "Outgoing webhook attempt latency.");
    return m;
  }();
  return r;
}

// The endpoint's decrypted signing secrets: the current one and, while it still signs, the
// one before the last rotation ("" = none). nullopt (logged) when they cannot be decrypted.
std::optional<std::pair<std::string, std::string>> signing_secrets(const store::WebhookEndpoint& endpoint,
                                                                   const crypto::Keyring& keys) {
  try {
    return std::pair{keys.decrypt(endpoint.secret, endpoint.secret_key_id, endpoint.id),
                     endpoint.previous_valid && !endpoint.previous_secret.empty()
                         ? keys.decrypt(endpoint.previous_secret, endpoint.previous_secret_key_id, endpoint.id)
                         : std::string()};
  } catch (const std::exception& e) {
    core::log(core::Level::kError, "webhook signing secret cannot be decrypted", {{"error", e.what()}});
    return std::nullopt;
  }
}

// The request of one attempt at `d`, signed with `secrets` (signing_secrets()).
http::ClientRequest webhook_request(const store::WebhookDelivery& d, const store::WebhookEndpoint& endpoint,
                                    const std::pair<std::string, std::string>& secrets, const WebhookOptions& opt) {
  http::ClientRequest req;
  req.method = "POST";
  req.url = endpoint.url;
  req.body = d.payload;
  req.timeout = opt.timeout;
  req.max_response_bytes = 64 << 10;
  req.guard = &http::ssrf_policy();  // the integrator chose the URL
  req.headers = webhook_headers(d, secrets.first, secrets.second, core::now_ms() / 1000);
  return req;
}

// How attempt `d` went, from the endpoint's answer `res`.
WebhookVerdict verdict_of(const store::WebhookDelivery& d, const http::ClientResponse& res, const WebhookOptions& opt) {
  WebhookVerdict verdict;  // refused by the SSRF guard or unsignable: it will not get better
  verdict.attempt.outcome = store::WebhookAttempt::Outcome::kFailed;
  if (!res.refused)
    verdict = judge_webhook_response(res.status, res.retry_after_seconds(), d.attempts, opt.retry_schedule);
  auto& a = verdict.attempt;
  if (res.status) a.status_code = res.status;
  a.latency_ms = static_cast<int>(res.elapsed.count() / 1000);
  a.error = res.status ? (res.ok() ? "" : "HTTP " + std::to_string(res.status)) : res.error;
  a.response_excerpt = core::utf8_truncate(res.body, 500);
  return verdict;
}
}  // namespace

WebhookDispatch::Claimed::~Claimed() { sent(); }

void WebhookDispatch::Claimed::sent() {
  if (auto* owner = std::exchange(owner_, nullptr)) owner->release(batch.endpoint.id);
}

void WebhookDispatch::release(const std::string& endpoint_id) {
  std::lock_guard lock(mu_);
  auto it = in_flight_.find(endpoint_id);
  if (it != in_flight_.end() && --it->second <= 0) in_flight_.erase(it);
}

std::optional<WebhookDispatch::Claimed> WebhookDispatch::claim(store::Pool& pool) {
  std::vector<std::pair<std::string, store::WebhookPosition>> from;
  std::vector<std::string> skip;
  std::uint64_t generation = 0;
  bool mend = false;
  {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (now >= forget_at_) {
      from_.clear();
      forget_at_ = now + kForgetEvery;
      ++generation_;
    }
    if (now >= mend_at_) {
      mend_at_ = now + kMendEvery;
      mend = true;
    }
    generation = generation_;
    from.assign(from_.begin(), from_.end());
    for (const auto& [id, n] : in_flight_)
      if (n >= opt_.batches_per_endpoint) skip.push_back(id);  // not even looked at
  }
  if (mend)
    if (int n = store::with_tx(pool, [](pqxx::work& tx) { return store::release_stranded_webhook_deliveries(tx); }))
      core::log(core::Level::kWarn, "webhook deliveries left waiting behind finished ones were brought in",
                {{"deliveries", std::to_string(n)}});
  // A place in flight is taken before the batch is claimed, so workers claiming at once cannot
  // together send more than batches_per_endpoint batches to one (slow) endpoint.
  std::string taken;
  auto take = [&](const std::string& id) {
    std::lock_guard lock(mu_);
    auto& n = in_flight_[id];
    if (n >= opt_.batches_per_endpoint) return false;
    ++n;
    taken = id;
    return true;
  };
  const int lease = static_cast<int>(opt_.timeout.count() / 1000) + 30;
  store::WebhookClaim got;
  try {
    auto conn = pool.acquire();
    pqxx::nontransaction tx(*conn);  // two statements, each whole on its own: no BEGIN, no COMMIT
    got = store::claim_webhook_deliveries(tx, from, skip, lease, opt_.batch, take);
  } catch (...) {
    if (!taken.empty()) release(taken);
    throw;
  }
  if (!got.batch && !taken.empty()) release(taken);  // another worker took its rows
  std::lock_guard lock(mu_);
  for (const auto& [id, p] : got.positions) {
    if (generation != generation_) break;  // started before they were forgotten: it may have missed one
    auto [it, added] = from_.emplace(id, p);
    if (!added) it->second = std::max(it->second, p);  // another worker may have gone further
  }
  if (!got.batch) return std::nullopt;
  return std::optional<Claimed>(std::in_place, *this, std::move(*got.batch));
}

bool deliver_webhook_batch(store::Pool& pool, const crypto::Keyring& keys, const WebhookOptions& opt,
                           WebhookDispatch& dispatch, http::Session& session) {
  auto claimed = dispatch.claim(pool);
  if (!claimed) return false;
  const auto* batch = &claimed->batch;
  const auto& endpoint = batch->endpoint;
  core::LogScope in_endpoint("endpointId", endpoint.id);
  std::vector<WebhookVerdict> verdicts(batch->deliveries.size());
  if (auto secrets = signing_secrets(endpoint, keys)) {
    std::vector<http::ClientRequest> requests;
    for (const auto& d : batch->deliveries) requests.push_back(webhook_request(d, endpoint, *secrets, opt));
    auto responses = session.fetch_all(requests, static_cast<int>(requests.size()));
    claimed->sent();
    for (std::size_t i = 0; i < responses.size(); ++i)
      verdicts[i] = verdict_of(batch->deliveries[i], responses[i], opt);
  } else {  // nothing to sign with: it will not get better
    http::ClientResponse unsignable;
    unsignable.refused = true;
    unsignable.error = "the endpoint's signing secret cannot be decrypted";
    for (std::size_t i = 0; i < verdicts.size(); ++i) verdicts[i] = verdict_of(batch->deliveries[i], unsignable, opt);
  }
  using O = store::WebhookAttempt::Outcome;
  std::vector<std::pair<std::string, store::WebhookAttempt>> attempts;
  bool gone = false, delivered = false;
  for (std::size_t i = 0; i < verdicts.size(); ++i) {
    const auto& d = batch->deliveries[i];
    const auto& a = verdicts[i].attempt;
    gone = gone || verdicts[i].disable;
    delivered = delivered || a.outcome == O::kDelivered;
    const char* outcome = a.outcome == O::kDelivered ? "delivered" : a.outcome == O::kRetry ? "retry" : "failed";
    metrics().add("loket_webhook_deliveries_total", {{"outcome", outcome}});
    metrics().observe("loket_webhook_seconds", {}, a.latency_ms / 1000.0);
    if (a.outcome != O::kDelivered)
      core::log(
          core::Level::kWarn, "webhook attempt failed",
          {{"deliveryId", d.id}, {"attempt", std::to_string(d.attempts)}, {"error", a.error}, {"outcome", outcome}});
    attempts.emplace_back(d.id, a);
  }
  store::with_tx(pool, [&](pqxx::work& tx) {
    store::record_webhook_attempts(tx, endpoint.id, attempts);
    if (gone)
      store::disable_webhook_endpoint(tx, endpoint.id, "the endpoint answered 410 Gone");
    else if (!delivered)
      store::disable_webhook_endpoint_failing_since(
          tx, endpoint.id, opt.disable_after_seconds,
          "nothing could be delivered for " + std::to_string(opt.disable_after_seconds / 3600) + " hours");
  });
  return true;
}

providers::Email owners_notice_email(const store::WebhookEndpoint& e, const std::string& from, const std::string& to) {
  providers::Email m;
  m.from = from;
  m.to = to;
  m.subject = "Loket turned off your webhook endpoint " + e.url;
  const std::string api = "/api/v1/webhook-endpoints/" + e.id;
  m.text =
      "Loket stopped sending events to a webhook endpoint of your workspace.\n\n"
      "Endpoint: " +
      e.id + "\nURL: " + e.url + "\nWhy: " + e.disabled_reason +
      "\n\nNothing is lost: new events are still recorded, and the deliveries that were waiting go out, "
      "in order, once the endpoint is on again. Fix the receiver, then turn the endpoint back on "
      "(PATCH " +
      api + " with {\"enabled\": true}). The delivery log (GET " + api + "/deliveries) shows what it answered.\n";
  m.html = "<p>" + core::replace_all(core::html_escape(m.text), "\n\n", "</p><p>") + "</p>";
  m.html = core::replace_all(m.html, "\n", "<br>");
  // The same notice never goes twice to one owner, however often it is retried.
  m.idempotency_key = "webhook-disabled-" + core::to_hex(crypto::sha256(e.id + "\n" + e.updated_at + "\n" + to));
  return m;
}

bool send_owners_notice(store::Pool& pool, const crypto::Keyring& keys, const providers::Registry& providers) {
  std::optional<store::WebhookEndpoint> endpoint;
  std::vector<std::string> owners;
  std::optional<store::Integration> mailer_integration;
  store::with_tx(pool, [&](pqxx::work& tx) {
    endpoint = store::claim_owners_notice(tx, 300);
    if (!endpoint) return;
    for (const auto& a : store::list_agents(tx, endpoint->workspace_id))
      if (a.role == store::Role::kOwner && a.active) owners.push_back(a.email);
    mailer_integration = store::latest_integration(tx, endpoint->workspace_id, providers.mailer_names());
  });
  if (!endpoint) return false;
  core::LogScope in_endpoint("endpointId", endpoint->id), in_workspace("workspaceId", endpoint->workspace_id);
  bool settled = true;  // told, or cannot be: not due again
  try {
    auto mailer = sender_for(mailer_integration, keys, providers);
    if (owners.empty() || !mailer) {
      core::log(core::Level::kWarn, "webhook endpoint turned off; nobody could be emailed",
                {{"reason", owners.empty() ? "the workspace has no active owner" : "no email sender is configured"}});
    } else {
      for (const auto& owner : owners) mailer->send(owners_notice_email(*endpoint, mailer->from, owner));
      core::log(core::Level::kInfo, "owners told a webhook endpoint was turned off",
                {{"owners", std::to_string(owners.size())}});
    }
  } catch (const providers::ProviderError& e) {
    settled = !e.retryable();
    core::log(settled ? core::Level::kError : core::Level::kWarn, "emailing owners about an endpoint failed",
              {{"error", e.what()}, {"retry", settled ? "no" : "in 5 minutes"}});
  } catch (const std::exception& e) {  // the workspace's mailer credentials do not decrypt
    core::log(core::Level::kError, "emailing owners about an endpoint failed", {{"error", e.what()}});
  }
  if (settled) store::with_tx(pool, [&](pqxx::work& tx) { store::clear_owners_notice(tx, endpoint->id); });
  return true;
}

void WebhookWakeup::notify() {
  {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

std::uint64_t WebhookWakeup::seen() {
  std::lock_guard lock(mu_);
  return generation_;
}

void WebhookWakeup::wait(std::uint64_t seen, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return generation_ != seen; });
}

}  // namespace loket::outbound
