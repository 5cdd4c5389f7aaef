#pragma once
// webhook: one HTTP(S) request per delivery, on Beast over the delivery io_context, with
// keep-alive connections reused (at most max_concurrency kept idle), a timeout and optional
// HMAC-SHA256 request signing. max_concurrency (16 by default: more wait in the target's FIFO
// line, without a socket) and rate_limit_per_second are the limits every target type has
// (limits.hpp). 2xx is success; 408, 409, 401, 407, 429 and 5xx, timeouts and connection errors
// are retryable (as EventBridge API destinations retry them); other statuses are permanent.
// An optional `auth` (webhook_auth.hpp) adds Basic, API key or OAuth client-credentials
// authorisation; with OAuth, a 401 answer refreshes the token and the request is sent again
// once at once.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eventrouter/config/diagnostic.hpp"
#include "eventrouter/net/url.hpp"
#include "eventrouter/targets/target.hpp"
#include "eventrouter/targets/target_base.hpp"
#include "eventrouter/targets/target_spec.hpp"
#include "eventrouter/targets/target_type.hpp"
#include "eventrouter/targets/webhook_auth.hpp"

namespace eventrouter::targets {

class OAuthTokenSource;

// Header names used for signing (documented in docs/targets.md).
inline constexpr const char* signature_timestamp_header = "X-Eventrouter-Timestamp";
inline constexpr const char* signature_header = "X-Eventrouter-Signature";

struct WebhookConfig {
  std::string rule, id;
  net::HttpUrl url;
  std::string method = "POST";
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{std::chrono::seconds(5)};
  std::string hmac_secret;  // empty: unsigned
  struct Tls {
    std::string ca_file;  // empty: the system store
    bool verify = true;
    std::string client_cert_file, client_key_file;
  } tls;
  std::optional<WebhookAuth> auth;  // none: no authorisation beyond `headers`
};

std::optional<WebhookConfig> read_webhook_config(const TargetSpec& spec,
                                                 std::vector<config::Diagnostic>& problems);

// "v1=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
std::string webhook_signature(std::string_view secret, std::string_view timestamp,
                              std::string_view body);

// Seconds from an HTTP Retry-After value (delta-seconds or an HTTP-date), capped at a day.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

// Classifies a response status as EventBridge does for API destinations.
DeliveryResult classify_http_status(unsigned status, std::string_view reason,
                                    const std::string& authority, std::string_view body);

// The webhook type's descriptor (registry.cpp registers it).
const TargetType& webhook_target_type();

class WebhookTarget final : public TargetBase {
 public:
  // Keeps at most `max_idle_connections` open between requests (the target's max_concurrency,
  // so that a receiver never sees more sockets than that). Throws on unusable TLS files.
  WebhookTarget(WebhookConfig config, TargetContext& context, std::size_t max_idle_connections);
  ~WebhookTarget() override;

  struct State;  // shared with in-flight requests, which may outlive the target

 private:
  void send(Invocation invocation, Completion done) override;
  void on_stop() override;  // closes idle connections
  void abort() override;    // closes the sockets of requests still in flight

  std::shared_ptr<State> state_;
  // With OAuth: owned here and not by State, so that it is never destroyed on its own fetch
  // thread (requests reach it through State's weak pointer).
  std::shared_ptr<OAuthTokenSource> tokens_;
};

}  // namespace eventrouter::targets
