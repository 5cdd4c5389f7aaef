#pragma once
// The one interface every target adapter implements: deliver a payload once and classify the
// outcome the way EventBridge does. Retries, backoff, dead letters and metrics belong to the
// delivery engine that calls adapters; an adapter owns only one attempt and its own limits
// (concurrency, rate, file locking).

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

namespace eventrouter::metrics {
class Registry;
}

namespace eventrouter::targets {

enum class Outcome { success, retryable, permanent };

// EventBridge-style error codes used by the adapters.
namespace error_code {
inline constexpr const char* connection_failure = "CONNECTION_FAILURE";
inline constexpr const char* timeout = "TIMEOUT";
inline constexpr const char* throttling = "THROTTLING";
inline constexpr const char* error_from_target = "ERROR_FROM_TARGET";
inline constexpr const char* invalid_parameter = "INVALID_PARAMETER";
inline constexpr const char* no_permissions = "NO_PERMISSIONS";
inline constexpr const char* resource_not_found = "RESOURCE_NOT_FOUND";
inline constexpr const char* internal_error = "INTERNAL_ERROR";
}  // namespace error_code

struct DeliveryResult {
  Outcome outcome = Outcome::success;
  std::string error_code;                           // "" on success, else one of error_code::*
  std::string error_message;                        // human readable, never contains secrets
  std::optional<std::chrono::seconds> retry_after;  // asked for by the target (HTTP Retry-After)

  static DeliveryResult ok() { return {}; }
  static DeliveryResult retryable(std::string code, std::string message) {
    return {Outcome::retryable, std::move(code), std::move(message), std::nullopt};
  }
  static DeliveryResult permanent(std::string code, std::string message) {
    return {Outcome::permanent, std::move(code), std::move(message), std::nullopt};
  }
};

struct Invocation {
  std::string event_id, rule, target, source, detail_type;
  int attempt = 1;      // 1-based
  std::string payload;  // already shaped by the transform
  // The whole event and its ingestion time, for target settings that use placeholders (an
  // e-mail subject). Empty strings leave such placeholders empty.
  std::string event_json;
  std::string ingestion_time;
};

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
};

}  // namespace eventrouter::targets
