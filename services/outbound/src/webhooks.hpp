#pragma once
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "loket/crypto/crypto.hpp"
#include "loket/http/client.hpp"
#include "loket/providers/registry.hpp"
#include "loket/store/store.hpp"
#include "loket/store/webhooks.hpp"

/// Outgoing webhooks for integrators (issue 18; docs/webhooks.md): the fan-out of ticket events
/// into deliveries, and the dispatcher that signs and sends them.
namespace loket::outbound {

/// Settings (docs/operations.md).
struct WebhookOptions {
  int workers = 8;  ///< LOKET_WEBHOOK_WORKERS: batches in flight at once, over all endpoints
  /// LOKET_WEBHOOK_BATCH: deliveries of one endpoint (distinct tickets) a worker claims and
  /// sends at once, over kept-alive connections.
  int batch = 25;
  /// LOKET_WEBHOOK_RETRY_SCHEDULE (seconds, comma-separated): the waits after each failed
  /// attempt; the delivery fails for good after the last. Default about three days.
  std::vector<int> retry_schedule = {5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400};
  std::chrono::milliseconds timeout{15000};  ///< LOKET_WEBHOOK_TIMEOUT_MS, per attempt
  /// LOKET_WEBHOOK_BATCHES_PER_ENDPOINT: batches in flight to one endpoint at once from one
  /// outbound process (so at most this × batch requests), so one slow endpoint cannot hold every
  /// worker.
  int batches_per_endpoint = 2;
  int disable_after_seconds = 3 * 86400;  ///< failing this long with nothing delivered: disabled
};

/// Reads WebhookOptions from the environment. @throws std::invalid_argument for a bad schedule.
WebhookOptions webhook_options_from_env();

/// What fan_out() did with a batch.
struct FanOut {
  int added = 0;  ///< deliveries queued that were not queued before
  /// Values that are not ticket events (index into the batch, why): the caller dead-letters them.
  std::vector<std::pair<std::size_t, std::string>> rejected;
};

/// Fans a batch of `ticket.events` record values out into a delivery for each enabled endpoint
/// of their workspace subscribed to their type (once per endpoint, however often a record is
/// seen), in one transaction. Types this version does not know are skipped. @throws on
/// database failure (the caller retries the batch).
FanOut fan_out(const std::vector<std::string>& values, store::Pool& pool);

/// The Standard Webhooks headers of one attempt at `d` sent at `timestamp_s` (Unix seconds):
/// webhook-id (the delivery id, stable across attempts), webhook-timestamp and
/// webhook-signature — "v1,<sig>" under the endpoint's secret, and while a rotated-out secret is
/// still valid a second, space-separated signature under it. `secrets` are the decrypted
/// current and (optional, "" = none) previous secrets. Pure.
std::vector<std::pair<std::string, std::string>> webhook_headers(const store::WebhookDelivery& d,
                                                                 const std::string& secret,
                                                                 const std::string& previous_secret,
                                                                 std::int64_t timestamp_s);

/// How an endpoint's answer is taken (pure): 2xx delivered; 410 Gone failed and the endpoint
/// disabled; otherwise (no answer, timeout, other statuses) retried after the schedule's next
/// wait — at least `Retry-After` on 429 and 503, capped at 24 h — until `attempts` (this one
/// included) exceeds the schedule, then failed.
struct WebhookVerdict {
  store::WebhookAttempt attempt;
  bool disable = false;  ///< turn the endpoint off (410)
};
WebhookVerdict judge_webhook_response(int status, int retry_after_seconds, int attempts,
                                      const std::vector<int>& schedule);

/// What the dispatch workers of one outbound process share: where each endpoint's next claim may
/// start (store::claim_webhook_deliveries: a claim then does not walk what was already
/// delivered), and how many batches each endpoint has in flight from this process. The
/// positions are forgotten every kForgetEvery, so a delivery whose worker died (another
/// process's, or this one's before a restart) is found again once its lease has run out. Every
/// kMendEvery (and first at start) store::release_stranded_webhook_deliveries mends what a
/// dispatcher of the version before left waiting.
/// Thread-safe. Bounded: one entry per enabled endpoint.
class WebhookDispatch {
 public:
  static constexpr std::chrono::seconds kForgetEvery{15};
  static constexpr std::chrono::minutes kMendEvery{5};

  explicit WebhookDispatch(const WebhookOptions& opt) : opt_(opt) {}

  /// A claimed batch, counted in flight until sent() or destroyed.
  class Claimed {
   public:
    Claimed(WebhookDispatch& d, store::WebhookBatch b) : batch(std::move(b)), owner_(&d) {}
    Claimed(Claimed&& o) noexcept : batch(std::move(o.batch)), owner_(std::exchange(o.owner_, nullptr)) {}
    Claimed(const Claimed&) = delete;
    Claimed& operator=(const Claimed&) = delete;
    Claimed& operator=(Claimed&&) = delete;
    ~Claimed();
    /// The endpoint has answered (or not) every request: the batch no longer counts in flight,
    /// so another may be sent while the outcomes are recorded.
    void sent();

    store::WebhookBatch batch;

   private:
    WebhookDispatch* owner_;
  };

  /// Claims the next due batch of an endpoint with fewer than opt.batches_per_endpoint batches
  /// in flight from this process; nullopt when none is due. @throws on database failure.
  std::optional<Claimed> claim(store::Pool& pool);

 private:
  void release(const std::string& endpoint_id);  // one batch of it is no longer in flight

  const WebhookOptions& opt_;
  std::mutex mu_;
  std::map<std::string, store::WebhookPosition> from_;
  std::map<std::string, int> in_flight_;
  std::chrono::steady_clock::time_point forget_at_ = std::chrono::steady_clock::now() + kForgetEvery;
  std::uint64_t generation_ = 0;  ///< how often the positions were forgotten
  std::chrono::steady_clock::time_point mend_at_{};
};

/// Claims a batch of due deliveries of one endpoint through `dispatch`, sends them at once over
/// `session`'s connections, and records the outcomes in one transaction (disabling the
/// endpoint on 410 Gone, or when it has failed for opt.disable_after_seconds); false when none
/// was due. Blocking (up to opt.timeout). Thread-safe with one Session per thread: any number of
/// workers may call it. @throws on database failure (the claimed deliveries are tried again
/// when their lease ends).
bool deliver_webhook_batch(store::Pool& pool, const crypto::Keyring& keys, const WebhookOptions& opt,
                           WebhookDispatch& dispatch, http::Session& session);

/// The email that tells a workspace owner Loket turned endpoint `e` off (e.disabled_reason
/// says why): what stopped, that nothing is lost, and how to turn it on again. Pure.
providers::Email owners_notice_email(const store::WebhookEndpoint& e, const std::string& from, const std::string& to);

/// Sends one due owners' notice (store::claim_owners_notice): an email to each active owner of
/// the endpoint's workspace, through the workspace's email sender or the platform's. A failure
/// worth retrying leaves it due again in 5 minutes; no owner, no sender or a permanent refusal
/// is logged and clears it. False when none was due. Thread-safe. @throws on database failure.
bool send_owners_notice(store::Pool& pool, const crypto::Keyring& keys, const providers::Registry& providers);

/// Wakes idle dispatch workers early (new deliveries were queued in this process).
class WebhookWakeup {
 public:
  /// Wakes every waiting worker.
  void notify();
  /// How many notifications there have been: taken before a worker looks for work and passed to
  /// wait(), so a notify() while it looks is not missed.
  std::uint64_t seen();
  /// Waits until notified after `seen` (or already was) or `timeout` passes.
  void wait(std::uint64_t seen, std::chrono::milliseconds timeout);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t generation_ = 0;
};

}  // namespace loket::outbound
