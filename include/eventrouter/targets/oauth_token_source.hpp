#pragma once
// One webhook target's OAuth 2.0 client-credentials token: fetched from the token endpoint when
// first needed, kept until shortly before it expires (or, without expires_in, until a webhook
// answers 401 with it), fetched once however many deliveries wait for it (they all get that
// fetch's outcome). Fetches run with libcurl on the source's own thread, never on the delivery
// io_context's threads.

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "eventrouter/metrics/lazy.hpp"
#include "eventrouter/targets/target.hpp"
#include "eventrouter/targets/webhook_auth.hpp"
#include "eventrouter/targets/worker_pool.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::targets {

class OAuthTokenSource {
 public:
  // A token to send, or why a delivery cannot be sent now (retryable or permanent).
  using Result = Expected<std::string, DeliveryResult>;
  using Callback = std::function<void(Result)>;

  // Counts fetches as eventrouter_webhook_token_fetches_total{rule, target, outcome}.
  OAuthTokenSource(OAuthClientCredentials config, metrics::Registry& metrics,
                   const std::string& rule, const std::string& target);
  ~OAuthTokenSource();  // aborts a fetch in flight and joins its thread
  OAuthTokenSource(const OAuthTokenSource&) = delete;
  OAuthTokenSource& operator=(const OAuthTokenSource&) = delete;

  // Calls `ready` exactly once: at once, on this thread, with a cached token that is still
  // fresh; otherwise on the fetch thread when the one fetch in flight ends. `ready` must not
  // block.
  void get(Callback ready);

  // A webhook answered 401 to `token`: the next get() fetches a new one, unless the cached
  // token is already another (a refusal that comes late costs no extra fetch).
  void refused(const std::string& token);

  // Aborts a fetch in flight; callers still waiting get a retryable result. Idempotent.
  void stop();

 private:
  struct Cached {
    std::string token;
    std::optional<std::chrono::steady_clock::time_point> refresh_at;  // none: until refused
  };

  Expected<AccessToken, DeliveryResult> fetch();  // on the pool's thread
  void complete(const Expected<AccessToken, DeliveryResult>& outcome);

  const OAuthClientCredentials config_;
  const std::string endpoint_;
  struct FetchCounters {
    metrics::Counter* succeeded;
    metrics::Counter* failed_retryable;
    metrics::Counter* failed_permanent;
  };
  metrics::Lazy<FetchCounters> fetches_;
  std::atomic<bool> abort_{false};

  std::mutex mutex_;
  std::optional<Cached> cached_;
  bool fetching_ = false;
  std::vector<Callback> waiting_;

  WorkerPool pool_{1};  // last: joined before the members a fetch uses go away
};

}  // namespace eventrouter::targets
