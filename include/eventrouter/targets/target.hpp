#pragma once
// The one interface every target adapter implements: deliver a payload once and classify the
// outcome the way EventBridge does. Retries, backoff, dead letters and metrics belong to the
// delivery engine that calls adapters; an adapter owns only one attempt and its own limits
// (concurrency, rate, file locking).

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "eventrouter/targets/shared_clients.hpp"

namespace eventrouter::metrics {
class Registry;
}

namespace eventrouter::targets {

enum class Outcome { kSuccess, kRetryable, kPermanent };

// EventBridge's error codes, as its dead letters name them (ERROR_CODE). kNone: no error.
enum class ErrorCode : std::uint8_t {
  kNone,
  kConnectionFailure,
  kTimeout,
  kThrottling,
  kErrorFromTarget,
  kInvalidParameter,
  kNoPermissions,
  kResourceNotFound,
  kInternalError,
};
// EventBridge's spelling ("CONNECTION_FAILURE"); empty for kNone.
std::string_view to_string(ErrorCode code);
std::ostream& operator<<(std::ostream& out, ErrorCode code);  // as to_string, for test output

struct DeliveryResult {
  Outcome outcome = Outcome::kSuccess;
  ErrorCode error_code = ErrorCode::kNone;
  std::string error_message;                        // human readable, never contains secrets
  std::optional<std::chrono::seconds> retry_after;  // asked for by the target (HTTP Retry-After)
  // For the history: the receiver's HTTP status or the runbook's exit code, and what the
  // target printed (a runbook's stdout and stderr).
  std::optional<int> status_code;
  std::string output;

  static DeliveryResult ok() { return {}; }
  static DeliveryResult retryable(ErrorCode code, std::string message) {
    return failure(Outcome::kRetryable, code, std::move(message));
  }
  static DeliveryResult permanent(ErrorCode code, std::string message) {
    return failure(Outcome::kPermanent, code, std::move(message));
  }

 private:
  static DeliveryResult failure(Outcome outcome, ErrorCode code, std::string message) {
    DeliveryResult result;
    result.outcome = outcome;
    result.error_code = code;
    result.error_message = std::move(message);
    return result;
  }
};

struct Invocation {
  std::string event_id, rule, target, source, detail_type;
  int attempt = 1;      // 1-based
  std::string payload;  // already shaped by the transform
  // The whole event and its ingestion time, for target settings that use placeholders (an
  // e-mail subject). Shared with the engine, not copied: a backlog of queued invocations would
  // otherwise hold one more copy of every event. Nothing (or empty) leaves such placeholders
  // empty.
  std::shared_ptr<const std::string> event_json;
  std::string ingestion_time;
  // The payload is event_json's text itself (the target has no input, input_path or
  // input_transformer): valid JSON, which a target need not parse again to know it.
  bool payload_is_event = false;
};

// The event that placeholders in a target's settings read: "{}" when the invocation has none.
inline std::string_view placeholder_event(const Invocation& invocation) {
  if (!invocation.event_json || invocation.event_json->empty()) return "{}";
  return *invocation.event_json;
}

using Completion = std::function<void(DeliveryResult)>;

class Target {
 public:
  virtual ~Target() = default;

  // Delivers once. Never blocks the caller on network or process waits: it completes
  // asynchronously, calling `done` exactly once, from any thread (possibly before returning
  // when the invocation is refused outright, e.g. after shutdown).
  virtual void deliver(Invocation invocation, Completion done) = 0;

  // Stops accepting, lets in-flight work finish within `grace`, then aborts what is left (each
  // aborted invocation completes as retryable). Returns when every `done` has been called or
  // shortly after the grace period. Do not call it from a thread running the context's
  // io_context.
  virtual void shutdown(std::chrono::milliseconds grace) = 0;
};

// What the daemon shares with every target it builds.
struct TargetContext {
  // The delivery side's io_context, for asynchronous network I/O (webhooks) and timers (rate
  // limits); the daemon runs it on threads of its own, apart from the HTTP server's, so
  // delivery work never delays ingest or /healthz. Blocking work (processes, SMTP, fsync) runs
  // on each target's own threads, so a slow target never holds up another.
  boost::asio::io_context& io;
  // The daemon's metrics, for what only a target sees (deliveries its limits hold back).
  metrics::Registry& metrics;
  // What targets share (the default TLS client context): one per context, so every target the
  // daemon builds, across reloads, uses the same.
  std::shared_ptr<SharedClients> clients = std::make_shared<SharedClients>();
};

}  // namespace eventrouter::targets
